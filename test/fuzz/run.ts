/**
 * `npm run fuzz -- --target X --count N [--seed S]`: runs one fuzz target (or `all`) for longer
 * than CI does, prints inputs per second, and on a failure writes the (shrunk) input as
 * test/fuzz/corpus/<target>/crash-<hash>.hex, which the CI test then replays.
 */
import { parseArgs } from 'node:util';
import { runTarget, writeCrash } from './harness.js';
import { targets } from './targets/index.js';

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
const chosen = values.target === 'all' ? targets : targets.filter((t) => t.name === values.target);
if (chosen.length === 0) {
  console.error(
    `unknown target ${values.target}; one of: all, ${targets.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}

let failed = false;
for (const target of chosen) {
  const result = runTarget(target, count, seed);
  const rate = Math.round((result.inputs / result.milliseconds) * 1000);
  console.log(`${target.name}: ${result.inputs} inputs, seed ${seed}, ${rate} inputs/s`);
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
process.exit(failed ? 1 : 0);
