/**
 * Drives bench/echo/load-generator.c: compiles it once per source version into the system's temp
 * directory (never into the repository: it is a build product), starts one generator process per
 * server and workload, and runs its counted windows on command. The C generator costs a server
 * under test far less per message than the JavaScript one (bench/echo/load.ts), which saturates its
 * core in the many-connection and pipelined rows; `BENCH_GENERATOR=js` selects the JavaScript
 * one, and without a C compiler the suites fall back to it and say so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { compiledBenchProgram } from '../c-build.js';
import type { WindowProbe } from './load.js';

let compiled: string | null | undefined;

/**
 * The compiled generator's path, or null when it cannot be built here (no `cc`) or when
 * `BENCH_GENERATOR=js` asks for the JavaScript generator. Built once per source version.
 */
export function cGenerator(): string | null {
  if (compiled !== undefined) return compiled;
  if (process.env['BENCH_GENERATOR'] === 'js') return (compiled = null);
  try {
    return (compiled = compiledBenchProgram('echo/load-generator.c', 'wsnet-load-generator'));
  } catch (error) {
    if (process.env['BENCH_GENERATOR'] === 'c') throw error;
    console.log(
      `(no C load generator: ${(error as Error).message.split('\n')[0]}; the JavaScript one drives every row)`,
    );
    return (compiled = null);
  }
}

/** How long a generator may take to open its connections or to answer a command. */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * One generator process. Echoes ({@link CLoadGenerator.echoes}): `connections` upgraded
 * connections to `port`, each keeping `inFlight` copies of a masked client frame outstanding
 * while a window runs. Handshakes ({@link CLoadGenerator.handshakes}): `inFlight` loops of
 * connect, upgrade, close.
 */
export class CLoadGenerator {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #scratch: string | null;

  private constructor(child: ChildProcess, scratch: string | null) {
    this.#child = child;
    this.#scratch = scratch;
    this.#lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static echoes(
    binary: string,
    port: number,
    connections: number,
    inFlight: number,
    frame: Buffer,
  ): Promise<CLoadGenerator> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wsnet-load-'));
    const frameFile = path.join(scratch, 'frame.bin');
    fs.writeFileSync(frameFile, frame);
    const args = [String(port), String(connections), String(inFlight), frameFile];
    return CLoadGenerator.#start(binary, args, scratch);
  }

  static handshakes(binary: string, port: number, inFlight: number): Promise<CLoadGenerator> {
    return CLoadGenerator.#start(binary, [String(port), 'handshakes', String(inFlight)], null);
  }

  static async #start(
    binary: string,
    args: string[],
    scratch: string | null,
  ): Promise<CLoadGenerator> {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const generator = new CLoadGenerator(child, scratch);
    try {
      await generator.#expect('ready');
    } catch (error) {
      generator.close();
      throw error;
    }
    return generator;
  }

  /**
   * One window: `warmupMs` of load not counted, then `ms` counted, with the probe told at the
   * window's edges (its `end` gets the generator's own CPU share, measured by the generator).
   * Resolves the echoes (or handshakes) per second and, for handshakes, how many failed in the
   * window; returns once what was still in flight has come back.
   */
  async run(
    ms: number,
    warmupMs: number,
    probe?: WindowProbe,
  ): Promise<{ perSecond: number; failed: number }> {
    this.#child.stdin!.write(`run ${warmupMs} ${ms}\n`);
    await this.#expect('start');
    probe?.start();
    const end = (await this.#expect('end')).split(' ');
    const [count, cpuMicros, wallMicros, failed = 0] = end.slice(1).map(Number);
    probe?.end(count, cpuMicros / wallMicros);
    await this.#expect('idle');
    return { perSecond: (count * 1e6) / wallMicros, failed };
  }

  close(): void {
    this.#child.stdin!.end('quit\n');
    // Ended by its own PID if it does not exit by itself.
    const timer = setTimeout(() => this.#child.kill(), 2000);
    this.#child.once('exit', () => clearTimeout(timer));
    if (this.#scratch !== null) fs.rmSync(this.#scratch, { recursive: true, force: true });
  }

  /** The next line, which must start with `word`; a generator that exits or stalls fails. */
  async #expect(word: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`load generator: no "${word}" within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
    });
    try {
      const next = await Promise.race([this.#lines.next(), timeout]);
      if (next.done === true) throw new Error(`load generator exited before "${word}"`);
      if (!next.value.startsWith(word))
        throw new Error(`load generator: expected "${word}", got "${next.value}"`);
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  }
}
