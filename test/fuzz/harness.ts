/**
 * The fuzzing harness: runs a target's check over `count` inputs from a seeded generator. Every
 * input is a byte string, so that a failing one can be written down as a corpus file and replayed
 * as it is. Half the inputs come from the target's structure-aware generator (fast-check
 * arbitraries that know frames, heads and headers), half from byte mutation of the target's seed
 * corpus (test/fuzz/corpus/<target>/*.hex): flip, insert, delete and duplicate bytes, splice two
 * seeds. fast-check shrinks a failing input before it is reported.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../helpers/paths.js';

/** One fuzz target: what inputs look like, and the invariant every input must hold. */
export interface FuzzTarget {
  /** The target's name: its corpus directory and `--target` value. */
  readonly name: string;
  /** Structure-aware inputs (valid and invalid, in the target's own input encoding). */
  readonly generate: fc.Arbitrary<Buffer>;
  /** Runs one input; throws (an AssertionError, or whatever escaped) if the invariant breaks. */
  readonly check: (input: Buffer) => void;
}

/**
 * A fuzz target whose check is asynchronous: a facade driven over an in-memory stream pair, whose
 * invariant holds only once the connection has settled. Run by `runAsyncTarget`, apart from the
 * synchronous targets, so that those keep their synchronous (fast) property.
 */
export interface AsyncFuzzTarget {
  readonly name: string;
  readonly generate: fc.Arbitrary<Buffer>;
  /** Runs one input to its end; rejects if the invariant breaks. */
  readonly checkAsync: (input: Buffer) => Promise<void>;
}

/**
 * How long one input of an async target may take to settle before it counts as a hang: 2 s, and
 * 1 s more per 16 KiB of input. A 124 KB input (64 chunks, a turn of the event loop between
 * them, a thousand small frames echoed) took 0.7 s of CPU alone but over 2 s with four fuzzers
 * on two loaded cores: a hang is an input that never settles, not a slow one.
 */
export function inputDeadlineMs(input: Buffer): number {
  return 2000 + Math.ceil(input.length / 16384) * 1000;
}

/** Where a target's seed and crash files live. */
export function corpusDir(target: string): string {
  return join(projectRoot, 'test', 'fuzz', 'corpus', target);
}

/**
 * Reads a corpus file: hex digits, white space ignored, `#` to the end of a line a comment (so a
 * seed can say what it is in review).
 */
export function parseHex(text: string): Buffer {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error('corpus file is not hex bytes');
  return Buffer.from(digits, 'hex');
}

/** Formats bytes as a corpus file: 32 bytes a line. */
export function formatHex(bytes: Buffer, comment: string): string {
  const lines = [`# ${comment}`];
  for (let i = 0; i < bytes.length; i += 32) lines.push(bytes.toString('hex', i, i + 32));
  return `${lines.join('\n')}\n`;
}

/** Every corpus file of a target, by file name. */
export function readCorpus(target: string): Array<[string, Buffer]> {
  const dir = corpusDir(target);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.hex'));
  } catch {
    return [];
  }
  return names.sort().map((name) => [name, parseHex(readFileSync(join(dir, name), 'utf8'))]);
}

/** Writes a failing input as `crash-<hash>.hex` and returns its path. */
export function writeCrash(target: string, input: Buffer, why: string): string {
  const dir = corpusDir(target);
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  const path = join(dir, `crash-${hash}.hex`);
  const firstLine = why.split('\n')[0] ?? '';
  writeFileSync(path, formatHex(input, `found by npm run fuzz: ${firstLine}`));
  return path;
}

/** One mutation of a byte string (positions and bytes are reduced into range when applied). */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({
    op: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    op: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 32 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1);
    switch (m.op) {
      case 'flip':
        if (at < bytes.length) bytes[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (at < bytes.length) bytes[at] = m.byte;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
        break;
    }
  }
  return bytes;
}

/** Mutated seeds, and splices of two seeds (the head of one, the tail of the other). */
export function mutatedCorpus(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const seed = fc.constantFrom(...seeds);
  const spliced = fc
    .tuple(seed, seed, fc.nat(), fc.nat())
    .map(([a, b, i, j]) =>
      Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))]),
    );
  return fc
    .tuple(fc.oneof(seed, spliced), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([bytes, mutations]) => mutate(bytes, mutations));
}

/** What a run did: how many inputs ran, and the first failure if there was one. */
export interface FuzzResult {
  readonly target: string;
  readonly inputs: number;
  readonly milliseconds: number;
  readonly failure?: { readonly input: Buffer; readonly error: unknown };
}

/** Runs `count` generated inputs (seeded) through a target; stops at the first failure. */
export function runTarget(target: FuzzTarget, count: number, seed: number): FuzzResult {
  const seeds = readCorpus(target.name)
    .filter(([name]) => !name.startsWith('crash-'))
    .map(([, bytes]) => bytes);
  const inputs =
    seeds.length === 0 ? target.generate : fc.oneof(target.generate, mutatedCorpus(seeds));
  const started = performance.now();
  const details = fc.check(
    fc.property(inputs, (input) => {
      target.check(input);
    }),
    { numRuns: count, seed, endOnFailure: false },
  );
  const milliseconds = performance.now() - started;
  if (!details.failed) return { target: target.name, inputs: details.numRuns, milliseconds };
  const input = details.counterexample?.[0];
  return {
    target: target.name,
    inputs: details.numRuns,
    milliseconds,
    failure: { input: input ?? Buffer.alloc(0), error: details.errorInstance },
  };
}

/**
 * What escaped while inputs ran: uncaught exceptions and unhandled rejections, which the process
 * would otherwise die of (or only warn about). Listening for them is what keeps the run alive to
 * name the input that let them out.
 */
class EscapeWatch {
  readonly escaped: unknown[] = [];
  readonly #onEscape = (error: unknown) => this.escaped.push(error);

  install(): void {
    process.on('uncaughtException', this.#onEscape);
    process.on('unhandledRejection', this.#onEscape);
  }

  uninstall(): void {
    process.off('uncaughtException', this.#onEscape);
    process.off('unhandledRejection', this.#onEscape);
  }
}

/**
 * Runs one input of an async target: fails it if it does not settle within the deadline, or if
 * anything escaped to the process while it ran (checked after two more turns of the event loop,
 * when Node reports unhandled rejections of the input's last turn).
 */
async function checkOneAsync(
  target: AsyncFuzzTarget,
  input: Buffer,
  watch: EscapeWatch,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = inputDeadlineMs(input);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`input ${input.toString('hex')} did not settle within ${limit} ms (a hang)`),
        ),
      limit,
    );
  });
  try {
    await Promise.race([target.checkAsync(input), deadline]);
  } finally {
    clearTimeout(timer);
  }
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  if (watch.escaped.length > 0) {
    const escaped = watch.escaped.splice(0);
    throw new Error(`escaped to the process: ${escaped.map((e) => String(e)).join('; ')}`, {
      cause: escaped[0],
    });
  }
}

/** Runs an async target's corpus file (or any one input) with the same checks as a run. */
export async function replayAsync(target: AsyncFuzzTarget, input: Buffer): Promise<void> {
  const watch = new EscapeWatch();
  watch.install();
  try {
    await checkOneAsync(target, input, watch);
  } finally {
    watch.uninstall();
  }
}

/** `runTarget` for an async target: one input at a time, each with its deadline. */
export async function runAsyncTarget(
  target: AsyncFuzzTarget,
  count: number,
  seed: number,
): Promise<FuzzResult> {
  const seeds = readCorpus(target.name)
    .filter(([name]) => !name.startsWith('crash-'))
    .map(([, bytes]) => bytes);
  const inputs =
    seeds.length === 0 ? target.generate : fc.oneof(target.generate, mutatedCorpus(seeds));
  const watch = new EscapeWatch();
  watch.install();
  const started = performance.now();
  try {
    const details = await fc.check(
      fc.asyncProperty(inputs, (input) => checkOneAsync(target, input, watch)),
      { numRuns: count, seed, endOnFailure: false },
    );
    const milliseconds = performance.now() - started;
    if (!details.failed) return { target: target.name, inputs: details.numRuns, milliseconds };
    return {
      target: target.name,
      inputs: details.numRuns,
      milliseconds,
      failure: {
        input: details.counterexample?.[0] ?? Buffer.alloc(0),
        error: details.errorInstance,
      },
    };
  } finally {
    watch.uninstall();
  }
}

/**
 * Splits `bytes` into chunks whose sizes come from `sizes` (each reduced to 1..16, cycled), so
 * one input can say how it arrives.
 */
export function chunked(bytes: Buffer, sizes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = sizes.length === 0 ? bytes.length : (sizes[i++ % sizes.length] % 16) + 1;
    chunks.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}
