/**
 * `npm run bench -- fanout` (opt-in, not in the default run: about 2.5 minutes, 10,000 connections
 * per server, a Redis server): issue 13's benchmarks, topics and fan-out.
 *
 * - In one process: one server process publishes to 1,000 and to 10,000 subscribers, each a real
 *   WebSocket connection over loopback held by subscriber processes in C (bench/fanout/
 *   subscriber.c), for wsnet (`server.publish(topic, text)`), ws (its broadcast idiom: a loop of
 *   `client.send(data)` over `wss.clients`) and socket.io (`io.to(room).emit('m', text)`; its
 *   subscribers speak engine.io v4 / socket.io v4 over a bare WebSocket: cheaper to drive than
 *   `socket.io-client` in Node, and the same frames on the wire). Two references beside them:
 *   the ceiling (a frame made once, one `socket.write` per subscriber per publish: the least a
 *   Node server does that writes each publish as it comes) and the corked ceiling (the same, a
 *   turn's publishes corked into one `writev` per subscriber).
 * - Across processes: 2 and 4 server processes on one local redis-server (started here on a free
 *   loopback port, stopped by PID), the subscribers spread over them, one publisher on the first:
 *   wsnet with wsnet/redis's RedisAdapter against socket.io with @socket.io/redis-adapter.
 *
 * The publisher works in rounds (bench/fanout/measure.ts): a few messages published back to back,
 * then a wait until every subscriber has read all of them. Every server process and subscriber
 * process is ended by its handle. Options: `--subscribers 1000,10000` (in one process),
 * `--cluster-subscribers 1000`, `--batch N` (publishes per round: by default 4, 2 past 2,000
 * subscribers); BENCH_ROUNDS (3) and BENCH_FANOUT_MS (800, the window per cell) tune the effort.
 */
import os from 'node:os';
import { Redis } from 'ioredis';
import { RedisServer } from '../test/helpers/redis-server.js';
import {
  measureFanout,
  syncCounts,
  type FanoutResult,
  type FanoutSetup,
} from './fanout/measure.js';
import { SubscriberProcess, subscriberBinary } from './fanout/subscribers.js';
import { countOption, option } from './soak/args.js';
import { Child } from './soak/children.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ROW_MS = Number(process.env['BENCH_FANOUT_MS'] ?? 800);
const WARMUP_MS = 300;
const SIZES = [32, 1024] as const;
/** Subscriber processes per contender: the connections are spread over them. */
const SUBSCRIBER_PROCESSES = 2;
/** How long the servers may take to count every subscriber once the subscribers are ready. */
const SUBSCRIBE_DEADLINE_MS = 30_000;

type Kind = 'wsnet' | 'ws' | 'socketio' | 'ceiling' | 'ceiling-corked';
const COLUMNS: Record<Kind, string> = {
  wsnet: 'wsnet',
  ws: 'ws',
  socketio: 'socket.io',
  ceiling: 'ceiling',
  'ceiling-corked': 'ceiling, corked',
};

interface Contender extends FanoutSetup {
  kind: Kind;
}

async function startContender(
  kind: Kind,
  serverCount: number,
  subscribers: number,
  redisUrl?: string,
): Promise<Contender> {
  const servers: Child[] = [];
  const processes: SubscriberProcess[] = [];
  try {
    for (let i = 0; i < serverCount; i++) {
      const args = redisUrl === undefined ? [kind] : [kind, redisUrl];
      // Child resolves scripts beside bench/soak/children.js: this one is in bench/fanout/.
      servers.push(await Child.start(`${kind} server ${i}`, '../fanout/server-process', args));
    }
    const ports = servers.map((server) => server.ready as number);
    const mode = kind === 'socketio' ? 'sio' : 'ws';
    const share = Math.ceil(subscribers / SUBSCRIBER_PROCESSES);
    const shares: number[] = [];
    for (let left = subscribers; left > 0; left -= share) shares.push(Math.min(share, left));
    // Started together: each opens its connections one by one, so two open them twice as fast.
    const started = await Promise.allSettled(
      shares.map((n) => SubscriberProcess.start(mode, n, ports)),
    );
    for (const outcome of started)
      if (outcome.status === 'fulfilled') processes.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    // The servers subscribe (or join) each connection as it comes: wait until they all have.
    const deadline = Date.now() + SUBSCRIBE_DEADLINE_MS;
    for (;;) {
      const counts = await Promise.all(
        servers.map((server) => server.ask<number>({ subscribers: true }, 'subscribers')),
      );
      const total = counts.reduce((sum, n) => sum + n, 0);
      if (total === subscribers) break;
      if (Date.now() > deadline)
        throw new Error(
          `${kind}: ${total} of ${subscribers} subscribers after ${SUBSCRIBE_DEADLINE_MS} ms`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Their adapters' Redis subscriptions in place (a publish made before would not reach them).
    const settled = await Promise.all(
      servers.map((server) => server.ask<true | string>({ settle: true }, 'settled')),
    );
    const failure = settled.find((answer) => answer !== true);
    if (failure !== undefined) throw new Error(`${kind}: the adapter did not settle: ${failure}`);
    const contender: Contender = { kind, servers, subscribers: processes, counts: [] };
    await syncCounts(contender);
    return contender;
  } catch (error) {
    await stopContender({ kind, servers, subscribers: processes, counts: [] });
    throw error;
  }
}

async function stopContender(contender: Contender): Promise<void> {
  await Promise.all(contender.subscribers.map((s) => s.close()));
  await Promise.all(contender.servers.map((server) => server.kill()));
}

/**
 * Starts the contenders side by side (each opens its connections one by one: together they use
 * both cores); if one fails, the others are stopped and the failure thrown.
 */
async function startAll(starters: readonly (() => Promise<Contender>)[]): Promise<Contender[]> {
  const outcomes = await Promise.allSettled(starters.map((start) => start()));
  const started = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed === undefined) return started;
  await Promise.all(started.map(stopContender));
  throw failed.reason;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median of each figure over the rounds, and the messages lost in all of them. */
function summarize(results: FanoutResult[]): FanoutResult {
  const of = (pick: (r: FanoutResult) => number | undefined) => {
    const values = results.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const extraMicros = of((r) => r.extraMicros);
  const p99Micros = of((r) => r.p99Micros);
  return {
    delivered: of((r) => r.delivered)!,
    serverMicros: of((r) => r.serverMicros)!,
    subscriberMicros: of((r) => r.subscriberMicros)!,
    ...(extraMicros === undefined ? {} : { extraMicros }),
    ...(p99Micros === undefined ? {} : { p99Micros }),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
  };
}

/**
 * Every contender measured for every size, interleaved round by round (a machine whose load
 * drifts shifts them all alike); resolves the medians by size, then by kind.
 */
async function compare(
  contenders: readonly Contender[],
  batch: number,
  extraCpu?: () => Promise<number>,
): Promise<Map<number, Map<Kind, FanoutResult>>> {
  const results = new Map<number, Map<Kind, FanoutResult[]>>();
  for (let round = 0; round < ROUNDS; round++)
    for (const size of SIZES)
      for (const contender of contenders) {
        // Warmed up once per contender and size: the later rounds find its code warm.
        const warmupMs = round === 0 ? WARMUP_MS : 0;
        const result = await measureFanout(contender, size, batch, ROW_MS, warmupMs, extraCpu);
        const bySize = results.get(size) ?? new Map<Kind, FanoutResult[]>();
        results.set(size, bySize);
        bySize.set(contender.kind, [...(bySize.get(contender.kind) ?? []), result]);
      }
  return new Map(
    [...results].map(([size, byKind]) => [
      size,
      new Map([...byKind].map(([kind, list]) => [kind, summarize(list)])),
    ]),
  );
}

const rate = (value: number) =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)} M msg/s` : `${(value / 1000).toFixed(0)} k msg/s`;
const micros = (value: number) => `${value.toFixed(value >= 10 ? 1 : 2)} µs`;
const latency = (value: number | undefined) =>
  value === undefined
    ? 'n/a'
    : value >= 1000
      ? `${(value / 1000).toFixed(1)} ms`
      : `${value.toFixed(0)} µs`;
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || a === 0 || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;
const sizeLabel = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const count = (n: number) => n.toLocaleString('en-US');

function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

/** Says how many messages went missing, if any did (a result that lost some is not comparable). */
function reportLost(label: string, results: Map<Kind, FanoutResult>): void {
  for (const [kind, result] of results)
    if (result.lost > 0)
      console.log(`(${label}, ${COLUMNS[kind]}: ${count(result.lost)} messages lost)`);
}

async function inOneProcess(
  subscriberCounts: readonly number[],
  batchFor: (subscribers: number) => number,
): Promise<void> {
  const kinds: readonly Kind[] = ['wsnet', 'ws', 'socketio', 'ceiling', 'ceiling-corked'];
  const rateRows: string[][] = [];
  const cpuRows: string[][] = [];
  for (const subscribers of subscriberCounts) {
    const contenders: Contender[] = [];
    try {
      contenders.push(
        ...(await startAll(kinds.map((kind) => () => startContender(kind, 1, subscribers)))),
      );
      const results = await compare(contenders, batchFor(subscribers));
      for (const [size, byKind] of results) {
        const label = `${count(subscribers)} subscribers, ${sizeLabel(size)}, ${batchFor(subscribers)} per round`;
        const all = kinds.map((kind) => byKind.get(kind));
        const [wsnet, ws, socketio, ceiling] = all;
        rateRows.push([
          label,
          ...all.map((r) => (r === undefined ? 'n/a' : rate(r.delivered))),
          ratio(wsnet?.delivered, ws?.delivered),
          ratio(wsnet?.delivered, socketio?.delivered),
          ratio(wsnet?.delivered, ceiling?.delivered),
        ]);
        cpuRows.push([
          label,
          ...all.map((r) => (r === undefined ? 'n/a' : micros(r.serverMicros))),
          ratio(ws?.serverMicros, wsnet?.serverMicros),
          ratio(socketio?.serverMicros, wsnet?.serverMicros),
          ratio(ceiling?.serverMicros, wsnet?.serverMicros),
          wsnet?.subscriberMicros === undefined ? 'n/a' : micros(wsnet.subscriberMicros),
        ]);
        reportLost(label, byKind);
      }
    } finally {
      await Promise.all(contenders.map(stopContender));
    }
  }
  const columns = kinds.map((kind) => COLUMNS[kind]);
  printTable(
    'Fan-out in one process: messages read by the subscribers per second',
    ['subscribers, message', ...columns, 'wsnet/ws', 'wsnet/socket.io', 'wsnet/ceiling'],
    rateRows,
  );
  printTable(
    "Fan-out in one process: the server process's CPU time per delivered message (and the C subscribers', with wsnet)",
    [
      'subscribers, message',
      ...columns,
      'ws/wsnet',
      'socket.io/wsnet',
      'ceiling/wsnet',
      'subscribers',
    ],
    cpuRows,
  );
}

/** Redis's own CPU time so far (user + system), µs, from INFO cpu. */
async function redisCpu(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}

async function acrossProcesses(
  serverCounts: readonly number[],
  subscribers: number,
  batch: number,
): Promise<void> {
  const kinds: readonly Kind[] = ['wsnet', 'socketio'];
  const rows: string[][] = [];
  const redis = await RedisServer.start();
  const client = new Redis(redis.url);
  try {
    for (const serverCount of serverCounts) {
      const contenders: Contender[] = [];
      try {
        contenders.push(
          ...(await startAll(
            kinds.map((kind) => () => startContender(kind, serverCount, subscribers, redis.url)),
          )),
        );
        const results = await compare(contenders, batch, () => redisCpu(client));
        for (const [size, byKind] of results) {
          const label = `${serverCount} servers, ${count(subscribers)} subscribers, ${sizeLabel(size)}, ${batch} per round`;
          const [wsnet, socketio] = kinds.map((kind) => byKind.get(kind));
          const cpu = (r: FanoutResult | undefined) =>
            r === undefined ? 'n/a' : `${micros(r.serverMicros)} + ${micros(r.extraMicros ?? 0)}`;
          rows.push([
            label,
            ...[wsnet, socketio].map((r) => (r === undefined ? 'n/a' : rate(r.delivered))),
            ratio(wsnet?.delivered, socketio?.delivered),
            latency(wsnet?.p99Micros),
            latency(socketio?.p99Micros),
            cpu(wsnet),
            cpu(socketio),
          ]);
          reportLost(label, byKind);
        }
      } finally {
        await Promise.all(contenders.map(stopContender));
      }
    }
  } finally {
    client.disconnect();
    await redis.stop();
  }
  printTable(
    'Across processes on one Redis: messages read per second, p99 publish-to-read latency, CPU per delivered message (servers + Redis)',
    [
      'servers, subscribers, message',
      'wsnet',
      'socket.io',
      'wsnet/socket.io',
      'wsnet p99',
      'socket.io p99',
      'wsnet CPU',
      'socket.io CPU',
    ],
    rows,
  );
}

/**
 * Publishes per round: 4 (a round of 4,000 deliveries to 1,000 subscribers), 2 past 2,000
 * subscribers (20,000 to 10,000: a round then takes about half a second here, and the suite
 * stays within its 3 minutes).
 */
function defaultBatch(subscribers: number): number {
  return subscribers > 2000 ? 2 : 4;
}

function countsOption(name: string, fallback: readonly number[]): readonly number[] {
  const text = option(name);
  if (text === undefined) return fallback;
  const values = text.split(',').map(Number);
  if (values.some((v) => !Number.isSafeInteger(v) || v <= 0))
    throw new Error(`--${name} must be whole numbers > 0 separated by commas, got ${text}`);
  return values;
}

export async function fanoutSuite(): Promise<void> {
  const subscriberCounts = countsOption('subscribers', [1000, 10_000]);
  const clusterSubscribers = countOption('cluster-subscribers', 1000);
  const batchOption = option('batch') === undefined ? undefined : countOption('batch', 1);
  const batchFor = (subscribers: number) => batchOption ?? defaultBatch(subscribers);
  subscriberBinary(); // compiled (or failing) before any server starts
  const [load] = os.loadavg();
  console.log(
    '\nTopics and fan-out (issue 13): rounds of publishes back to back (the "per round" of each ' +
      'row), each round ending when every subscriber has read them all: no subscriber ever has ' +
      `more queued. ${ROUNDS} rounds of ${ROW_MS} ms per cell, medians; text messages ` +
      `(socket.io's frames carry 10 bytes more: 42["m","..."]); load average ${load.toFixed(1)} ` +
      'at the start',
  );
  await inOneProcess(subscriberCounts, batchFor);
  await acrossProcesses([2, 4], clusterSubscribers, batchFor(clusterSubscribers));
  console.log(`\n(load average ${os.loadavg()[0].toFixed(1)} at the end)`);
}
