/**
 * One fan-out measurement: a publisher (a server process) publishes in rounds of `batch`
 * messages back to back, and each round ends when every subscriber has read all of them (or a
 * deadline passes: what is missing then counts as lost). The backlog per subscriber is thus at
 * most `batch` messages, and the rate is what the whole path sustains: publish, framing, writes,
 * (Redis,) and the subscribers' reads.
 */
import { performance } from 'node:perf_hooks';
import type { Child } from '../soak/children.js';
import { quantileMicros, type SubscriberProcess } from './subscribers.js';

/** A round that takes longer than this has lost messages (or a server is stuck). */
const ROUND_DEADLINE_MS = 10_000;

/** The processes of one contender: its server processes (the first publishes) and subscribers. */
export interface FanoutSetup {
  servers: readonly Child[];
  subscribers: readonly SubscriberProcess[];
  /** Every subscriber process's count as of the last round (what the next round adds to). */
  counts: number[];
}

export interface FanoutResult {
  /** Messages read by subscribers per second of the window. */
  delivered: number;
  /** The server processes' CPU time (all of them) per delivered message, µs. */
  serverMicros: number;
  /** The subscriber processes' CPU time per delivered message, µs. */
  subscriberMicros: number;
  /** Extra CPU (µs per delivered message) from `extraCpu` (Redis), if given. */
  extraMicros?: number;
  /** The 99th percentile of publish-to-read latency, µs. */
  p99Micros?: number;
  /** Messages that never arrived within a round's deadline. */
  lost: number;
}

async function serverCpu(servers: readonly Child[]): Promise<number> {
  const times = await Promise.all(
    servers.map((server) => server.ask<number>({ cpu: true }, 'cpu')),
  );
  return times.reduce((sum, t) => sum + t, 0);
}

/** Rounds for `ms`; resolves how many messages went missing. */
async function rounds(
  setup: FanoutSetup,
  size: number,
  batch: number,
  ms: number,
): Promise<number> {
  const start = performance.now();
  let lost = 0;
  do {
    const targets = setup.subscribers.map((s, i) => setup.counts[i] + batch * s.connections);
    const [got] = await Promise.all([
      Promise.all(setup.subscribers.map((s, i) => s.until(targets[i], ROUND_DEADLINE_MS))),
      setup.servers[0].ask({ publish: { count: batch, size } }, 'published', ROUND_DEADLINE_MS),
    ]);
    got.forEach((count, i) => {
      lost += Math.max(0, targets[i] - count);
      setup.counts[i] = count;
    });
  } while (performance.now() - start < ms);
  return lost;
}

/**
 * The subscribers' counts as they are now (at the start, and after a warm-up); resolves their
 * CPU time so far (µs, all of them).
 */
export async function syncCounts(setup: FanoutSetup): Promise<number> {
  const stats = await Promise.all(setup.subscribers.map((s) => s.stats()));
  setup.counts = stats.map((s) => s.count);
  return stats.reduce((sum, s) => sum + s.cpuMicros, 0);
}

/**
 * Warms up for `warmupMs` (not counted; 0: no warm-up round), then measures rounds for `ms` (at
 * least one). `extraCpu` reads another
 * process's CPU time in µs (the Redis server), charged per delivered message too.
 */
export async function measureFanout(
  setup: FanoutSetup,
  size: number,
  batch: number,
  ms: number,
  warmupMs: number,
  extraCpu?: () => Promise<number>,
): Promise<FanoutResult> {
  if (warmupMs > 0) await rounds(setup, size, batch, warmupMs);
  // Emptied histograms: what the window adds is the window's.
  const subscriberCpuBefore = await syncCounts(setup);
  const cpuBefore = await serverCpu(setup.servers);
  const extraBefore = await extraCpu?.();
  const before = [...setup.counts];
  const start = performance.now();
  const lost = await rounds(setup, size, batch, ms);
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = await serverCpu(setup.servers);
  const extraAfter = await extraCpu?.();
  const stats = await Promise.all(setup.subscribers.map((s) => s.stats()));
  const delivered = stats.reduce((sum, s, i) => sum + s.count - before[i], 0);
  setup.counts = stats.map((s) => s.count);
  const subscriberCpu = stats.reduce((sum, s) => sum + s.cpuMicros, 0) - subscriberCpuBefore;
  return {
    delivered: delivered / seconds,
    serverMicros: (cpuAfter - cpuBefore) / delivered,
    subscriberMicros: subscriberCpu / delivered,
    ...(extraBefore === undefined || extraAfter === undefined
      ? {}
      : { extraMicros: (extraAfter - extraBefore) / delivered }),
    p99Micros: quantileMicros(
      stats.map((s) => s.histogram),
      0.99,
    ),
    lost,
  };
}
