/**
 * Drives bench/fanout/subscriber.c: compiles it once per source version into the system's temp
 * directory (a build product, never in the repository), starts subscriber processes, and asks
 * them for their counts and latency histograms. Each process is ended by its own handle (its PID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { compiledBenchProgram } from '../c-build.js';

let compiled: string | undefined;

/** The compiled subscriber's path, built once per source version; throws without a C compiler. */
export function subscriberBinary(): string {
  if (compiled !== undefined) return compiled;
  return (compiled = compiledBenchProgram('fanout/subscriber.c', 'wsnet-fanout-subscriber'));
}

/** How the subscribers speak: plain WebSocket, or socket.io v4 over a bare WebSocket. */
export type SubscriberMode = 'ws' | 'sio';

/** The upgrade path of each mode (socket.io's: engine.io v4, straight to the WebSocket transport). */
export const SUBSCRIBER_PATHS: Record<SubscriberMode, string> = {
  ws: '/',
  sio: '/socket.io/?EIO=4&transport=websocket',
};

/** What `stats` answers. */
export interface SubscriberStats {
  /** Messages counted since the process started. */
  count: number;
  /** The process's CPU time so far, µs. */
  cpuMicros: number;
  /** Latencies since the previous stats: bucket (see {@link bucketMicros}) to count. */
  histogram: Map<number, number>;
}

/** How long a subscriber process may take to open its connections. */
const READY_TIMEOUT_MS = 120_000;
/** How long it may take to answer `stats` (it answers between two reads). */
const ANSWER_TIMEOUT_MS = 10_000;

/** One subscriber process: `connections` WebSocket connections that count what they receive. */
export class SubscriberProcess {
  readonly connections: number;
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #exited: Promise<void>;
  #stderr = '';

  private constructor(child: ChildProcess, connections: number) {
    this.connections = connections;
    this.#child = child;
    this.#lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-2000);
    });
  }

  /** Starts a process with `connections` connections spread over `ports` in turn. */
  static async start(
    mode: SubscriberMode,
    connections: number,
    ports: readonly number[],
  ): Promise<SubscriberProcess> {
    const args = [mode, SUBSCRIBER_PATHS[mode], String(connections), ...ports.map(String)];
    const child = spawn(subscriberBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const started = new SubscriberProcess(child, connections);
    try {
      await started.#expect('ready', READY_TIMEOUT_MS);
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  /** Resolves the count once it reaches `total`, or after `ms` with what it is then. */
  async until(total: number, ms: number): Promise<number> {
    this.#child.stdin!.write(`until ${total} ${Math.ceil(ms)}\n`);
    const line = await this.#expect('at', ms + ANSWER_TIMEOUT_MS);
    return Number(line.split(' ')[1]);
  }

  /** The count, the CPU time, and the latencies since the previous call. */
  async stats(): Promise<SubscriberStats> {
    this.#child.stdin!.write('stats\n');
    const [, count, cpuMicros, pairs] = (await this.#expect('stats', ANSWER_TIMEOUT_MS)).split(' ');
    const histogram = new Map<number, number>();
    if (pairs !== '-') {
      for (const pair of pairs.split(',')) {
        const [bucket, n] = pair.split(':').map(Number);
        histogram.set(bucket, n);
      }
    }
    return { count: Number(count), cpuMicros: Number(cpuMicros), histogram };
  }

  /** Asks it to quit; ends it by its handle if it has not exited 2 s later. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin!.end('quit\n');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  /** The next line, which must start with `word`; a process that exits or stalls fails. */
  async #expect(word: string, ms: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`subscriber: no "${word}" within ${ms} ms`)), ms);
    });
    try {
      const next = await Promise.race([this.#lines.next(), timeout]);
      if (next.done === true) {
        await this.#exited;
        throw new Error(`subscriber exited before "${word}": ${this.#stderr.trim()}`);
      }
      if (!next.value.startsWith(word))
        throw new Error(`subscriber: expected "${word}", got "${next.value}"`);
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A bucket of subscriber.c's latency histogram to the middle of its range, µs: buckets below 64
 * are exact µs; above, 32 per power of two.
 */
export function bucketMicros(bucket: number): number {
  if (bucket < 64) return bucket;
  const shift = Math.floor((bucket - 64) / 32) + 1;
  const mantissa = ((bucket - 64) % 32) + 32;
  return (mantissa + 0.5) * 2 ** shift;
}

/** The `p` quantile (0 to 1) of merged histograms, µs; undefined when they hold nothing. */
export function quantileMicros(
  histograms: readonly Map<number, number>[],
  p: number,
): number | undefined {
  const merged = new Map<number, number>();
  for (const histogram of histograms)
    for (const [bucket, n] of histogram) merged.set(bucket, (merged.get(bucket) ?? 0) + n);
  const total = [...merged.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (const bucket of [...merged.keys()].sort((a, b) => a - b)) {
    seen += merged.get(bucket)!;
    if (seen >= rank) return bucketMicros(bucket);
  }
  return undefined;
}
