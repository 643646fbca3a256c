/**
 * The load loop of `wsnet bench`: opens the connections, keeps `pipeline` messages in flight on
 * each (the next one leaves as soon as an echo returns), checks and times every echo, and
 * stops after the warm-up plus the duration or the count, once the messages in flight are back.
 *
 * Phases: `warmup` (messages exchanged and checked, not measured), `measuring` (each message
 * sent now is measured when its echo comes), `draining` (nothing more is sent; waiting for the
 * echoes still owed), then `done`. A connection that closes, or owes an echo for longer than
 * `--timeout`, is out of the run: its failure and the messages it owed are counted as errors.
 *
 * Time is `performance.now()`: monotonic, sub-microsecond, and a plain number, so timing a
 * message allocates nothing (process.hrtime.bigint() allocates a BigInt per call). The send
 * times live in one Float64Array per connection, indexed like the payload slots.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { connect, type WebSocketConnection } from '../../messages/index.js';
import { explainFailure, failureLabel } from '../failures.js';
import { Histogram } from './histogram.js';
import type { BenchSettings } from './options.js';
import { PayloadSlots } from './payload.js';

export type Phase = 'connecting' | 'warmup' | 'measuring' | 'draining' | 'done';

/** How many handshakes run at once while the connections are opened. */
const CONNECT_CONCURRENCY = 64;
/** How often stalled connections are looked for (and the progress line may be redrawn). */
export const TICK_MS = 250;
/** After Ctrl-C, how long the echoes still in flight are waited for. */
const INTERRUPT_DRAIN_MS = 1000;

/** One connection of the run, with its messages in flight. */
class LoadConnection {
  /** Sequence number of the next message to send. */
  next = 0;
  /** Sequence number of the oldest message whose echo is owed (echoes come in order). */
  acked = 0;
  /** Out of the run (closed, or closed by us for a missing echo). */
  out = false;
  readonly sentAt: Float64Array;
  /** 1 where the message in that slot was sent while measuring. */
  readonly measured: Uint8Array;

  constructor(
    readonly socket: WebSocketConnection,
    readonly slots: PayloadSlots,
    pipeline: number,
  ) {
    this.sentAt = new Float64Array(pipeline);
    this.measured = new Uint8Array(pipeline);
  }

  get owed(): number {
    return this.next - this.acked;
  }
}

/** Everything counted during a run; the report is made from it. */
export interface RunResult {
  readonly opened: number;
  readonly connectFailures: ReadonlyMap<string, number>;
  readonly dropped: number;
  readonly handshakes: Histogram;
  readonly latency: Histogram;
  readonly sent: number;
  readonly received: number;
  readonly mismatched: number;
  readonly lost: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  readonly cpu: NodeJS.CpuUsage;
  readonly cpuWindowMs: number;
  readonly eventLoop: EventLoopUtilization | null;
}

/** A snapshot for the progress line. */
export interface Progress {
  readonly phase: Phase;
  readonly measuredMs: number;
  readonly received: number;
  readonly errors: number;
  readonly opened: number;
  readonly latency: Histogram;
}

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class LoadRun {
  readonly #settings: BenchSettings;
  readonly #sendOptions: { readonly binary: boolean };
  readonly #connections: LoadConnection[] = [];
  #phase: Phase = 'connecting';
  #interrupted = false;

  readonly #handshakes = new Histogram();
  readonly #latency = new Histogram();
  readonly #connectFailures = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  #errorCount = 0;
  #dropped = 0;
  /** Measured messages still allowed to be sent (count mode). */
  #budget = Infinity;
  /** Echoes owed on the connections still in the run. */
  #owed = 0;
  #sent = 0;
  #received = 0;
  #mismatched = 0;
  #lost = 0;

  #measureStart = 0;
  #lastEcho = 0;
  #cpuStart: NodeJS.CpuUsage | null = null;
  #eventLoopStart: EventLoopUtilization | null = null;

  #timers: NodeJS.Timeout[] = [];
  #finished!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.#finished = resolve));
  #onTick: ((progress: Progress) => void) | undefined;

  constructor(settings: BenchSettings) {
    this.#settings = settings;
    this.#sendOptions = { binary: settings.binary };
  }

  /**
   * Opens the connections: the first alone (if it fails, the run cannot start: the error says
   * why, with the exit status and hint `wsnet connect` gives for the same failure), then the
   * others, CONNECT_CONCURRENCY at a time. A later connection that fails is counted by its
   * label and the run goes on without it.
   */
  async open(): Promise<void> {
    const { connections, target, proxy } = this.#settings;
    const first = await this.#openOne(0);
    if (!first.ok) throw explainFailure(first.error, { url: target, proxy }) ?? first.error;
    let index = 1;
    const worker = async () => {
      while (index < connections && !this.#interrupted) {
        const result = await this.#openOne(index++);
        if (!result.ok) this.#countError(`connect failed: ${result.label}`);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(CONNECT_CONCURRENCY, connections - 1) }, worker),
    );
  }

  async #openOne(
    index: number,
  ): Promise<{ ok: true } | { ok: false; error: unknown; label: string }> {
    const start = performance.now();
    try {
      const socket = await connect(this.#settings.url, this.#settings.connectOptions);
      this.#handshakes.record((performance.now() - start) * 1e6);
      const connection = new LoadConnection(
        socket,
        new PayloadSlots(this.#settings.size, this.#settings.pipeline, index),
        this.#settings.pipeline,
      );
      this.#connections.push(connection);
      socket.on('message', (data, isBinary) => this.#onEcho(connection, data, isBinary));
      socket.on('close', (code, reason) => this.#onClose(connection, code, reason));
      return { ok: true };
    } catch (error) {
      const label = failureLabel(error);
      increment(this.#connectFailures, label);
      return { ok: false, error, label };
    }
  }

  /** Runs the load to its end; `onTick` is called every TICK_MS with a snapshot. */
  async run(onTick?: (progress: Progress) => void): Promise<RunResult> {
    this.#onTick = onTick;
    const { warmupMs } = this.#settings;
    this.#timers.push(setInterval(() => this.#tick(), TICK_MS));
    if (this.#interrupted) this.#stopSending();
    else {
      if (warmupMs > 0) {
        this.#phase = 'warmup';
        this.#timers.push(setTimeout(() => this.#startMeasuring(), warmupMs));
      } else this.#startMeasuring();
      if (this.#connections.every((connection) => connection.out)) this.#stopSending();
      for (const connection of this.#connections)
        for (let i = 0; i < this.#settings.pipeline; i++) this.#send(connection);
    }
    this.#checkFinished();
    await this.#done;
    const end = performance.now();
    for (const timer of this.#timers) clearTimeout(timer);
    const cpu = this.#cpuStart === null ? { user: 0, system: 0 } : process.cpuUsage(this.#cpuStart);
    const eventLoop =
      this.#eventLoopStart === null ? null : performance.eventLoopUtilization(this.#eventLoopStart);
    const measuring = this.#measureStart > 0;
    return {
      opened: this.#handshakes.count,
      connectFailures: this.#connectFailures,
      dropped: this.#dropped,
      handshakes: this.#handshakes,
      latency: this.#latency,
      sent: this.#sent,
      received: this.#received,
      mismatched: this.#mismatched,
      lost: this.#lost,
      errors: this.#errors,
      elapsedMs: !measuring ? 0 : (this.#lastEcho > 0 ? this.#lastEcho : end) - this.#measureStart,
      interrupted: this.#interrupted,
      cpu,
      cpuWindowMs: measuring ? end - this.#measureStart : 0,
      eventLoop,
    };
  }

  /** Closes every connection still open (the closing handshake, bounded by closeTimeout). */
  async close(): Promise<void> {
    await Promise.allSettled(
      this.#connections.map((connection) => {
        connection.out = true;
        return connection.socket.close(1000);
      }),
    );
  }

  /** Ctrl-C: stop sending; the echoes in flight get a second; a second Ctrl-C stops at once. */
  interrupt(): void {
    if (this.#interrupted) {
      this.#abandonOwed('no echo before Ctrl-C');
      return;
    }
    this.#interrupted = true;
    if (this.#phase === 'connecting') return;
    this.#stopSending();
    this.#timers.push(
      setTimeout(() => this.#abandonOwed('no echo before Ctrl-C'), INTERRUPT_DRAIN_MS),
    );
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  #startMeasuring(): void {
    if (this.#phase !== 'warmup' && this.#phase !== 'connecting') return;
    this.#phase = 'measuring';
    this.#measureStart = performance.now();
    this.#cpuStart = process.cpuUsage();
    this.#eventLoopStart = performance.eventLoopUtilization();
    const { durationMs, count } = this.#settings;
    if (count !== null) this.#budget = count;
    if (durationMs !== null) this.#timers.push(setTimeout(() => this.#stopSending(), durationMs));
    if (this.#connections.every((connection) => connection.out)) this.#stopSending();
  }

  #stopSending(): void {
    if (this.#phase === 'done' || this.#phase === 'draining') return;
    this.#phase = 'draining';
    this.#checkFinished();
  }

  #send(connection: LoadConnection): void {
    const phase = this.#phase;
    if (connection.out || (phase !== 'warmup' && phase !== 'measuring')) return;
    const measured = phase === 'measuring';
    if (measured) {
      if (this.#budget <= 0) return;
      this.#budget--;
      this.#sent++;
    }
    const sequence = connection.next++;
    const slot = sequence % this.#settings.pipeline;
    const payload = connection.slots.message(sequence);
    connection.measured[slot] = measured ? 1 : 0;
    this.#owed++;
    connection.sentAt[slot] = performance.now();
    // Not awaited: a send that fails means the connection is closing, which its 'close' event
    // counts; the message API never turns an unawaited send into an unhandled rejection.
    void connection.socket.send(payload, this.#sendOptions);
    if (measured && this.#budget === 0) this.#stopSending();
  }

  #onEcho(connection: LoadConnection, data: string | Buffer, isBinary: boolean): void {
    const now = performance.now();
    if (connection.out || this.#phase === 'done') return;
    if (connection.owed === 0) {
      this.#countError('unexpected message (none was owed)');
      return;
    }
    const sequence = connection.acked++;
    const slot = sequence % this.#settings.pipeline;
    this.#owed--;
    if (!connection.slots.matches(sequence, data, isBinary)) {
      this.#mismatched++;
      this.#countError('mismatched echo');
    }
    if (connection.measured[slot] === 1) {
      this.#received++;
      this.#latency.record((now - connection.sentAt[slot]) * 1e6);
      this.#lastEcho = now;
    }
    this.#send(connection);
    if (this.#phase === 'draining' && this.#owed === 0) this.#finish();
  }

  #onClose(connection: LoadConnection, code: number, reason: string): void {
    if (connection.out || this.#phase === 'done') return;
    this.#dropped++;
    this.#countError(`connection closed: ${code}${reason === '' ? '' : ` ${reason}`}`);
    this.#takeOut(connection);
  }

  /** Takes a connection out of the run; the echoes it owed are lost. */
  #takeOut(connection: LoadConnection): void {
    connection.out = true;
    const owed = connection.owed;
    if (owed > 0) {
      this.#lost += owed;
      this.#owed -= owed;
      this.#countError('messages lost in flight', owed);
    }
    // (While connecting, run() finds out for itself: more connections may still open.)
    if (this.#phase !== 'connecting' && this.#connections.every((c) => c.out)) this.#stopSending();
    this.#checkFinished();
  }

  #abandonOwed(why: string): void {
    for (const connection of this.#connections) {
      if (connection.out || connection.owed === 0) continue;
      this.#lost += connection.owed;
      this.#countError(why, connection.owed);
      this.#owed -= connection.owed;
      connection.acked = connection.next;
    }
    this.#checkFinished();
  }

  #tick(): void {
    const now = performance.now();
    const timeout = this.#settings.replyTimeoutMs;
    for (const connection of this.#connections) {
      if (connection.out || connection.owed === 0) continue;
      const oldest = connection.acked % this.#settings.pipeline;
      if (now - connection.sentAt[oldest] > timeout) {
        this.#countError(`no echo within ${timeout} ms (connection closed)`);
        this.#takeOut(connection);
        connection.socket.terminate();
      }
    }
    this.#onTick?.(this.progress());
  }

  progress(): Progress {
    return {
      phase: this.#phase,
      measuredMs: this.#measureStart > 0 ? performance.now() - this.#measureStart : 0,
      received: this.#received,
      errors: this.#errorCount,
      opened: this.#handshakes.count,
      latency: this.#latency,
    };
  }

  #countError(kind: string, by = 1): void {
    increment(this.#errors, kind, by);
    this.#errorCount += by;
  }

  #checkFinished(): void {
    if (this.#phase === 'draining' && this.#owed === 0) this.#finish();
  }

  #finish(): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#finished();
  }
}
