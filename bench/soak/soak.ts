/**
 * The soak run: wsnet's message-API echo server (heartbeat on) in one child process, `connections`
 * churning clients spread over client processes, for `durationMs`; the server's memory and handle
 * count sampled every `sampleMs`. It returns what it saw and a verdict against stated criteria:
 *
 * - every message echoed byte for byte, no client failure other than the faults it injected;
 * - the server closed connections only with 1000 (normal) or 1006 (no close frame: a reset or a
 *   drop), at most as many 1006 as faults injected, and reported no other error than the socket
 *   errors and truncated frames those faults cause (counted against the faults too), and nothing
 *   unexpected (handler errors, uncaught exceptions, unhandled rejections);
 * - no leak: after warm-up, the mean of the last third of the samples of RSS and of heap used is
 *   within `margin` (a fraction) of the first third's mean, or grew by less than `slackBytes`
 *   (small servers' figures are dominated by noise; default 8 MiB); and once every client has gone, the server's
 *   active handle count is back to its baseline from before the first client.
 */
import { Child } from './children.js';
import { emptyChurnStats, type ChurnStats } from './churn-stats.js';
import type { ChurnJob } from './client-process.js';
import type { Sample } from './server-process.js';

export interface SoakOptions {
  connections: number;
  durationMs: number;
  /** Connections per client process (the fd limit is per process). Default 5000. */
  perClientProcess?: number;
  sampleMs?: number;
  heartbeatMs?: number;
  messages?: [number, number];
  thinkMs?: [number, number];
  sizes?: [number, number];
  faultRate?: number;
  /** Samples before this are warm-up. Default: the ramp (a fifth of the run, at most 60 s). */
  warmupMs?: number;
  /** Allowed growth of the last third's mean over the first third's. Default 0.10. */
  margin?: number;
  /** Growth below this many bytes passes whatever the ratio. Default 8 MiB. */
  slackBytes?: number;
  /** Told each sample (for progress lines). */
  onSample?: (sample: Sample, clients: ChurnStats) => void;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, 'onSample'>>;
  samples: Sample[];
  clients: ChurnStats;
  baselineHandles: number;
  handlesAfter: number;
  final: Sample;
  /** Mean of the first and last third of the steady samples. */
  rss: { first: number; last: number };
  heap: { first: number; last: number };
  /** Each criterion that failed, in words; empty when the soak passed. */
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function sumStats(all: ChurnStats[]): ChurnStats {
  const total = emptyChurnStats();
  for (const stats of all) {
    for (const key of Object.keys(total) as Array<keyof ChurnStats>)
      if (key !== 'failureSamples') total[key] += stats[key];
    total.failureSamples.push(...stats.failureSamples);
  }
  return total;
}

/** The server errors a client's reset or mid-frame drop is expected to cause. */
const FAULT_ERROR = /ECONNRESET|EPIPE|ended in the middle of a frame/;

export async function runSoak(input: SoakOptions): Promise<SoakResult> {
  const options: Required<Omit<SoakOptions, 'onSample'>> = {
    connections: input.connections,
    durationMs: input.durationMs,
    perClientProcess: input.perClientProcess ?? 5000,
    sampleMs: input.sampleMs ?? 5000,
    heartbeatMs: input.heartbeatMs ?? 5000,
    messages: input.messages ?? [2, 6],
    thinkMs: input.thinkMs ?? [200, 2000],
    sizes: input.sizes ?? [1, 4096],
    faultRate: input.faultRate ?? 0.2,
    warmupMs: input.warmupMs ?? Math.min(60_000, input.durationMs / 5),
    margin: input.margin ?? 0.1,
    slackBytes: input.slackBytes ?? 8 * 1024 * 1024,
  };
  const children: Child[] = [];
  try {
    const server = await Child.start('server', 'server-process', [
      'messages',
      String(options.heartbeatMs),
    ]);
    children.push(server);
    const baseline = await server.ask<Sample>({ sample: true }, 'sample');
    const processes = Math.ceil(options.connections / options.perClientProcess);
    const clients: Child[] = [];
    for (let i = 0; i < processes; i++) {
      const client = await Child.start(`client ${i + 1}`, 'client-process');
      children.push(client);
      clients.push(client);
    }
    return await soak(options, input.onSample, server, clients, baseline);
  } finally {
    await Promise.all(children.map((child) => child.kill()));
  }
}

async function soak(
  options: Required<Omit<SoakOptions, 'onSample'>>,
  onSample: SoakOptions['onSample'],
  server: Child,
  clients: Child[],
  baseline: Sample,
): Promise<SoakResult> {
  const serverPort = server.ready as number;
  const done = clients.map((client, i) => {
    const slots =
      Math.floor(options.connections / clients.length) +
      (i < options.connections % clients.length ? 1 : 0);
    const job: ChurnJob = {
      mode: 'churn',
      port: serverPort,
      slots,
      durationMs: options.durationMs,
      messages: options.messages,
      thinkMs: options.thinkMs,
      sizes: options.sizes,
      faultRate: options.faultRate,
      // The load is steady for the second half of the warm-up already.
      rampMs: options.warmupMs / 2,
    };
    // The slots' last connections end within their messages' pauses and deadlines after the run.
    const result = client.next<ChurnStats>('done', options.durationMs + 120_000);
    client.send(job);
    return result;
  });
  let finished = false;
  const allDone = Promise.all(done).finally(() => {
    finished = true;
  });
  allDone.catch(() => undefined); // awaited below; this keeps an early failure from going unhandled
  const samples: Sample[] = [];
  const started = performance.now();
  const sampleEnd = started + options.durationMs + 120_000;
  while (!finished && performance.now() < sampleEnd) {
    await Promise.race([sleep(options.sampleMs), allDone.catch(() => undefined)]);
    if (finished) break;
    const sample = await server.ask<Sample>({ sample: true }, 'sample');
    sample.at = performance.now() - started;
    samples.push(sample);
    if (onSample !== undefined) {
      const stats = await Promise.all(
        clients.map((client) => client.ask<ChurnStats>({ stats: true }, 'stats')),
      );
      onSample(sample, sumStats(stats));
    }
  }
  const clientStats = sumStats(await allDone);

  // Every client has gone: the server must get back to where it started.
  let final = await server.ask<Sample>({ sample: true }, 'sample');
  const settleEnd = performance.now() + 15_000;
  while (
    (final.connections > 0 || final.handles > baseline.handles) &&
    performance.now() < settleEnd
  ) {
    await sleep(250);
    final = await server.ask<Sample>({ sample: true }, 'sample');
  }

  const steady = samples.filter(
    (s) => s.at >= options.warmupMs && s.at <= options.durationMs + options.sampleMs / 2,
  );
  const third = Math.max(1, Math.floor(steady.length / 3));
  const firstThird = steady.slice(0, third);
  const lastThird = steady.slice(-third);
  const rss = {
    first: mean(firstThird.map((s) => s.rss)),
    last: mean(lastThird.map((s) => s.rss)),
  };
  const heap = {
    first: mean(firstThird.map((s) => s.heapUsed)),
    last: mean(lastThird.map((s) => s.heapUsed)),
  };

  const problems: string[] = [];
  if (clientStats.failures > 0)
    problems.push(
      `${clientStats.failures} client failures, e.g. ${clientStats.failureSamples.slice(0, 3).join('; ')}`,
    );
  if (clientStats.messages === 0) problems.push('no message was exchanged');
  const faults = clientStats.resets + clientStats.drops;
  for (const [code, count] of Object.entries(final.closeCodes))
    if (code !== '1000' && code !== '1006') problems.push(`${count} closes with code ${code}`);
  if ((final.closeCodes['1006'] ?? 0) > faults)
    problems.push(`${final.closeCodes['1006']} closes with 1006 for ${faults} injected faults`);
  if ((final.closeCodes['1000'] ?? 0) < clientStats.closedNormally)
    problems.push(
      `${final.closeCodes['1000'] ?? 0} normal closes at the server for ${clientStats.closedNormally} at the clients`,
    );
  let faultErrors = 0;
  for (const [key, count] of Object.entries(final.errors)) {
    if (FAULT_ERROR.test(key)) faultErrors += count;
    else problems.push(`${count} server-side errors ${key}`);
  }
  if (faultErrors > faults)
    problems.push(`${faultErrors} socket errors at the server for ${faults} injected faults`);
  if (final.unexpected.length > 0) problems.push(`unexpected: ${final.unexpected.join('; ')}`);
  if (final.connections > 0)
    problems.push(`${final.connections} connections still open at the end`);
  if (final.handles > baseline.handles)
    problems.push(
      `${final.handles} active handles after the clients left (${JSON.stringify(final.resources)}), ${baseline.handles} before (${JSON.stringify(baseline.resources)})`,
    );
  if (steady.length < 3) problems.push(`only ${steady.length} samples after warm-up`);
  const grew = (what: string, { first, last }: { first: number; last: number }) => {
    if (last - first > options.slackBytes && last > first * (1 + options.margin))
      problems.push(
        `${what} grew from ${(first / 2 ** 20).toFixed(1)} to ${(last / 2 ** 20).toFixed(1)} MiB (first to last third after warm-up)`,
      );
  };
  grew('RSS', rss);
  grew('heap used', heap);
  return {
    options,
    samples,
    clients: clientStats,
    baselineHandles: baseline.handles,
    handlesAfter: final.handles,
    final,
    rss,
    heap,
    problems,
  };
}
