/**
 * Runs a compiled fixture (build/test/fixtures/*.js) in a child process of its own, started with
 * `process.execPath` and `--expose-gc`, and talks to it over IPC: for tests that measure a
 * server's or a client's memory apart from the test runner's, or that need a process to exit by
 * itself. Every wait has a deadline; `kill()` ends the child by its handle, and only it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Signal } from './wait.js';

export interface FixtureMessage {
  type: string;
  [key: string]: unknown;
}

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  /** The most RSS the process has had since it started. */
  peakRss: number;
}

export const MiB = 1024 * 1024;

export class FixtureChild {
  readonly process: ChildProcess;
  /** What the child sent with `ready` (e.g. its port). */
  ready: FixtureMessage = { type: 'ready' };
  readonly #messages: FixtureMessage[] = [];
  /** Woken by every message, output or exit. */
  readonly #changed = new Signal();
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(child: ChildProcess) {
    this.process = child;
    child.on('message', (message: FixtureMessage) => {
      this.#messages.push(message);
      this.#changed.notify();
    });
    child.on('exit', (code, signal) => {
      this.#exit = { code, signal };
      this.#changed.notify();
    });
  }

  /**
   * Starts `build/test/fixtures/<name>.js` with `args` and waits for its `ready` message. With
   * `fdLimit`, the child runs under that soft limit of open descriptors (`ulimit -n`, set by a
   * shell that then execs Node: Node itself cannot set it).
   */
  static async start(
    name: string,
    args: string[],
    timeoutMs = 10_000,
    options: { fdLimit?: number } = {},
  ): Promise<FixtureChild> {
    const script = fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
    const node = [process.execPath, '--expose-gc', script, ...args];
    const child =
      options.fdLimit === undefined
        ? spawn(node[0], node.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : spawn('sh', ['-c', `ulimit -n ${options.fdLimit} && exec "$@"`, 'sh', ...node], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
    const fixture = new FixtureChild(child);
    try {
      fixture.ready = await fixture.next('ready', timeoutMs);
    } catch (error) {
      fixture.kill();
      throw error;
    }
    return fixture;
  }

  /** The child's port, from its `ready` message. */
  get port(): number {
    return this.ready.port as number;
  }

  /** The next message of `type` (already received or to come), within `timeoutMs`. */
  async next(type: string, timeoutMs = 10_000): Promise<FixtureMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#messages.findIndex((message) => message.type === type);
      if (index !== -1) return this.#messages.splice(index, 1)[0];
      if (this.#exit !== undefined)
        throw new Error(`the fixture exited (${JSON.stringify(this.#exit)}) before '${type}'`);
      if (!(await this.#changed.until(deadline)))
        throw new Error(`the fixture sent no '${type}' within ${timeoutMs} ms`);
    }
  }

  /** A message of `type` if one came, without waiting. */
  peek(type: string): FixtureMessage | undefined {
    return this.#messages.find((message) => message.type === type);
  }

  send(message: FixtureMessage): void {
    if (this.process.connected) this.process.send(message);
  }

  /** The child's memory after two garbage collections. */
  async memory(timeoutMs = 10_000): Promise<Memory> {
    this.send({ type: 'rss' });
    const reply = await this.next('rss', timeoutMs);
    return {
      rss: reply.rss as number,
      heapUsed: reply.heapUsed as number,
      external: reply.external as number,
      peakRss: reply.peakRss as number,
    };
  }

  /** Resolves with how the child exited, or undefined if it still runs after `timeoutMs`. */
  async exited(
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#exit === undefined) if (!(await this.#changed.until(deadline))) return undefined;
    return this.#exit;
  }

  /** Ends the child (SIGKILL, by its handle) if it still runs. */
  kill(): void {
    if (this.#exit === undefined && this.process.exitCode === null) this.process.kill('SIGKILL');
  }

  /** Waits for a message or the exit; false once `deadline` passed. */
}

/** Megabytes, for messages. */
export function mb(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export interface PumpResult {
  /** Bytes handed to the socket. */
  bytes: number;
  /** Why it stopped: the byte budget, the time budget, a peer that stopped reading, or a close. */
  stopped: 'count' | 'time' | 'stalled' | 'closed';
  ms: number;
}

/**
 * Writes `chunk` to `socket` again and again, with backpressure, until `maxBytes` were written,
 * `timeMs` passed, the write buffer did not drain for `stallMs` (the peer stopped reading), or
 * the socket closed. Bounded in count and time; it stops by itself.
 */
export async function pump(
  socket: Writable,
  chunk: Uint8Array,
  limits: { maxBytes: number; timeMs: number; stallMs: number },
): Promise<PumpResult> {
  const started = Date.now();
  const deadline = started + limits.timeMs;
  let bytes = 0;
  const done = (stopped: PumpResult['stopped']): PumpResult => ({
    bytes,
    stopped,
    ms: Date.now() - started,
  });
  for (;;) {
    if (socket.destroyed || !socket.writable) return done('closed');
    if (bytes >= limits.maxBytes) return done('count');
    if (Date.now() >= deadline) return done('time');
    bytes += chunk.length;
    if (socket.write(chunk)) {
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const wait = Math.min(limits.stallMs, Math.max(1, deadline - Date.now()));
    const outcome = await new Promise<'drain' | 'timer' | 'close'>((resolve) => {
      const finish = (what: 'drain' | 'timer' | 'close') => {
        clearTimeout(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(what);
      };
      const onDrain = () => finish('drain');
      const onClose = () => finish('close');
      const timer = setTimeout(() => finish('timer'), wait);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
    if (outcome === 'close') return done('closed');
    if (outcome === 'timer' && Date.now() < deadline) return done('stalled');
  }
}
