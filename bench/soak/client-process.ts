/**
 * A client child of the hold and soak runs (the clients need more sockets than the server's process
 * may open besides its own, so they live in processes of their own). It gets its job as the first
 * IPC message and reports over IPC:
 *
 * - `hold`: opens `count` connections (`concurrency` handshakes at a time), exchanges one message
 *   on each, reports `{ opened }`, then holds them (answering the server's heartbeat pings) until
 *   told `{ release: true }`, and reports `{ released }` with how many pings were answered and
 *   whether any connection failed while held.
 * - `churn`: keeps `slots` connections going for `durationMs`: each connects, exchanges a few
 *   messages (checked byte for byte) with pauses between them, then closes normally, or, for a
 *   `faultRate` share, is reset by the client (a message possibly in flight) or dropped in the
 *   middle of a frame; then the slot starts over. Asked `{ stats: true }` it reports `ChurnStats`;
 *   when the time is up and every slot has finished, it reports `{ done: ChurnStats }`.
 *
 * Every wait has a deadline; the process ends itself when its parent disconnects.
 */
import { emptyChurnStats } from './churn-stats.js';
import { randomBytes, randomInt } from 'node:crypto';
import { Peer } from './peer.js';

export interface HoldJob {
  mode: 'hold';
  port: number;
  count: number;
  concurrency: number;
  deflate: boolean;
  messageSize: number;
}

export interface ChurnJob {
  mode: 'churn';
  port: number;
  slots: number;
  durationMs: number;
  /** Messages per connection, inclusive range. */
  messages: [number, number];
  /** Pause before each message, ms, inclusive range. */
  thinkMs: [number, number];
  /** Message size, bytes, inclusive range. */
  sizes: [number, number];
  /** Share of connections ended by a fault (half reset, half dropped mid-frame). */
  faultRate: number;
  /** How long the first round of connections is spread over, ms. */
  rampMs: number;
}

const OPERATION_MS = 30_000;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * At most `limit` handshakes in flight from this process: beyond Node's listen backlog (511) the
 * kernel drops SYNs and the clients wait out retransmission back-off (1 s, 3 s, 7 s…), which
 * measures nothing. The others wait here, in order.
 */
class Gate {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([low, high]: [number, number]) => randomInt(low, high + 1);

async function hold(job: HoldJob): Promise<void> {
  const peers: Peer[] = [];
  let openFailures = 0;
  let firstFailure = '';
  const started = performance.now();
  for (let i = 0; i < job.count; i += job.concurrency) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(job.concurrency, job.count - i) }, () =>
        within(Peer.open(job.port, job.deflate), OPERATION_MS, 'a handshake'),
      ),
    );
    for (const result of batch) {
      if (result.status === 'fulfilled') peers.push(result.value);
      else {
        openFailures++;
        firstFailure ||= String(result.reason);
      }
    }
  }
  const openMs = performance.now() - started;
  // One message each, so that every connection has done what a live one does (with deflate, the
  // server has compressed and inflated once and holds its histories).
  const payload = randomBytes(job.messageSize);
  let exchangeFailures = 0;
  for (let i = 0; i < peers.length; i += job.concurrency) {
    const batch = await Promise.allSettled(
      peers
        .slice(i, i + job.concurrency)
        .map((peer) => within(peer.exchange(payload), OPERATION_MS, 'an echo')),
    );
    for (const result of batch)
      if (result.status === 'rejected') {
        exchangeFailures++;
        firstFailure ||= String(result.reason);
      }
  }
  process.send?.({
    opened: { opened: peers.length, openMs, openFailures, exchangeFailures, firstFailure },
  });
  await new Promise<void>((resolve) =>
    process.on('message', (message: { release?: boolean }) => {
      if (message.release === true) resolve();
    }),
  );
  const heldFailures = peers.filter((peer) => peer.failure !== undefined);
  const pings = peers.reduce((sum, peer) => sum + peer.pings, 0);
  for (const peer of peers) peer.destroy();
  await within(Promise.all(peers.map((peer) => peer.gone)), OPERATION_MS, 'the sockets closing');
  process.send?.({
    released: {
      released: peers.length,
      pings,
      heldFailures: heldFailures.length,
      firstHeldFailure: heldFailures[0]?.failure?.message ?? '',
    },
  });
}

async function churn(job: ChurnJob): Promise<void> {
  const stats = emptyChurnStats();
  const fail = (error: unknown) => {
    stats.failures++;
    if (stats.failureSamples.length < 10) stats.failureSamples.push(String(error));
  };
  process.on('message', (message: { stats?: boolean }) => {
    if (message.stats === true) process.send?.({ stats });
  });
  const deadline = performance.now() + job.durationMs;
  const handshakes = new Gate(100);

  async function life(): Promise<void> {
    let peer: Peer;
    await handshakes.acquire();
    if (performance.now() >= deadline) {
      // The time ran out while this slot waited its turn: it does not start another connection.
      handshakes.release();
      return;
    }
    try {
      peer = await within(Peer.open(job.port), OPERATION_MS, 'a handshake');
    } catch (error) {
      fail(error);
      return;
    } finally {
      handshakes.release();
    }
    stats.connections++;
    stats.open++;
    try {
      const count = between(job.messages);
      const roll = Math.random();
      const fault = roll < job.faultRate / 2 ? 'reset' : roll < job.faultRate ? 'drop' : 'none';
      // A fault comes after a random number of the exchanges: possibly before any.
      const faultAfter = fault === 'none' ? count : randomInt(0, count + 1);
      for (let i = 0; i < faultAfter; i++) {
        await sleep(between(job.thinkMs));
        const size = between(job.sizes);
        await within(peer.exchange(randomBytes(size)), OPERATION_MS, 'an echo');
        stats.messages++;
        stats.bytes += size;
      }
      if (fault === 'reset') {
        // Half the resets come with a message on its way to the server, or its echo back.
        if (Math.random() < 0.5) void peer.exchange(randomBytes(between(job.sizes))).catch(() => 0);
        await within(peer.reset(), OPERATION_MS, 'a reset');
        stats.resets++;
      } else if (fault === 'drop') {
        await within(peer.drop(between(job.sizes) + 2), OPERATION_MS, 'a drop');
        stats.drops++;
      } else {
        await within(peer.close(), OPERATION_MS, 'the closing handshake');
        stats.closedNormally++;
      }
    } catch (error) {
      fail(error);
      peer.destroy();
      await within(peer.gone, OPERATION_MS, 'a socket closing').catch(fail);
    } finally {
      stats.pings += peer.pings;
      stats.open--;
    }
  }

  async function slot(index: number): Promise<void> {
    await sleep((job.rampMs * index) / job.slots);
    // Bounded by time: no new connection starts after the deadline.
    while (performance.now() < deadline) await life();
  }

  await Promise.all(Array.from({ length: job.slots }, (_, i) => slot(i)));
  process.send?.({ done: stats });
}

process.on('disconnect', () => process.exit(0));
process.once('message', (job: HoldJob | ChurnJob) => {
  const run = job.mode === 'hold' ? hold(job) : churn(job);
  run.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
process.send?.({ ready: true });
