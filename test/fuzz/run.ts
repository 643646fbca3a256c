/**
 * `npm run fuzz -- --target X --count N [--seed S]`: runs one fuzz target (or `all`) for longer
 * than CI does, prints inputs per second, and on a failure writes the (shrunk) input as
 * test/fuzz/corpus/<target>/crash-<hash>.hex, which the CI test then replays.
 */
import { parseArgs } from 'node:util';
import { runAsyncTarget, runTarget, writeCrash, type FuzzResult } from './harness.js';
import { asyncTargets, targets } from './targets/index.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    count: { type: 'string', default: '100000' },
    seed: { type: 'string' },
  },
});
const count = Number(values.count);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
  console.error('--count and --seed must be integers');
  process.exit(2);
}
const every = [...targets, ...asyncTargets];
const chosen = values.target === 'all' ? every : every.filter((t) => t.name === values.target);
if (chosen.length === 0) {
  console.error(
    `unknown target ${values.target}; one of: all, ${every.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}

let failed = false;
let total = 0;
for (const target of chosen) {
  const result: FuzzResult =
    'checkAsync' in target
      ? await runAsyncTarget(target, count, seed)
      : runTarget(target, count, seed);
  const rate = Math.round((result.inputs / result.milliseconds) * 1000);
  // Inputs that held the invariant: all of them, or those before the failing one (fast-check
  // counts the failing run in numRuns).
  const passed = result.failure === undefined ? result.inputs : result.inputs - 1;
  total += passed;
  console.log(
    `${target.name}: ${result.inputs} inputs, seed ${seed}, ${rate} inputs/s, ${Math.round(result.milliseconds / 1000)} s`,
  );
  console.log(
    `COUNT target=${target.name} seed=${seed} inputs_without_finding=${passed}${result.failure === undefined ? '' : ' (stopped at a finding)'}`,
  );
  if (result.failure !== undefined) {
    failed = true;
    const why =
      result.failure.error instanceof Error
        ? (result.failure.error.stack ?? String(result.failure.error))
        : String(result.failure.error);
    const path = writeCrash(target.name, result.failure.input, why);
    console.log(`FAILED: ${why}`);
    console.log(`input (${result.failure.input.length} bytes) written to ${path}`);
    console.log(
      `reproduce: npm run fuzz -- --target ${target.name} --count ${count} --seed ${seed}`,
    );
    console.log(
      'or replay the corpus: npm run compile && node --test build/test/fuzz/fuzz.test.js',
    );
  }
}
console.log(`COUNT total inputs_without_finding=${total}`);
process.exit(failed ? 1 : 0);
