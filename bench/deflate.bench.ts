/**
 * `npm run bench -- deflate`: permessage-deflate (RFC 7692), wsnet's message API server against
 * ws's, both with compression on and the same settings, each in its own process
 * (bench/deflate/server-process.ts). It runs once at wsnet's defaults and once at ws's
 * (bench/deflate/workload.ts), and measures:
 *
 * 1. compressed echo rates (lock-step over several connections, and pipelined), the servers'
 *    CPU time per message, and the bytes on the wire per message, driven by raw load clients
 *    in this process (bench/deflate/load.ts), the servers taking turns round by round;
 * 2. memory per idle compressed connection at 10,000 connections (clients in a child process,
 *    bench/deflate/client-process.ts);
 * 3. a decompression bomb (1 MiB that inflates to 1 GiB) against a 16 MiB message limit: the
 *    close code and the growth of the server's peak RSS;
 * 4. 1,000 connections sending at once: total rate and the server's peak RSS.
 *
 * Rates and memory are measured, never asserted. Every loop is bounded in count and time.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type DeflateLoadConnection,
  openConnections,
  runDeflateLoad,
  verifyEchoes,
  type LoadResult,
} from './deflate/load.js';
import type { MemoryReport } from './deflate/server-process.js';
import {
  MAX_MESSAGE,
  OFFER,
  PROFILES,
  bombFrame,
  clientFrames,
  messagePool,
  type Profile,
  type ProfileName,
} from './deflate/workload.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const IDLE_CONNECTIONS = Number(process.env['BENCH_DEFLATE_IDLE'] ?? 10_000);
/** Messages each idle connection exchanges before it goes idle. */
const IDLE_MESSAGES = 3;
const BURST_CONNECTIONS = Number(process.env['BENCH_DEFLATE_BURST_CONNECTIONS'] ?? 1000);
const BURST_MESSAGES = Number(process.env['BENCH_DEFLATE_BURST_MESSAGES'] ?? 50);
const SELECTED_PROFILES = (process.env['BENCH_DEFLATE_PROFILES'] ?? 'wsnet-defaults,ws-defaults')
  .split(',')
  .map((name) => PROFILES[name.trim() as ProfileName])
  .filter((profile) => profile !== undefined);
/** How long to wait for a child process's answer before giving up on it. */
const CHILD_LIMIT_MS = 200_000;

type Kind = 'wsnet' | 'ws';
const KINDS: readonly Kind[] = ['wsnet', 'ws'];

interface Server {
  kind: Kind;
  child: ChildProcess;
  port: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next IPC message of `child` that has `key`, or a rejection after `ms` or on its exit. */
function nextMessage<T>(child: ChildProcess, key: string, ms = CHILD_LIMIT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (typeof message !== 'object' || message === null) return;
      if ('error' in message) finish(() => reject(new Error(String(message['error']))));
      else if (key in message) finish(() => resolve(message[key] as T));
    };
    const onExit = (code: number | null) =>
      finish(() => reject(new Error(`child process exited (${code}) before answering ${key}`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no ${key} within ${ms} ms`))),
      ms,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function startServer(kind: Kind, profile: Profile): Promise<Server> {
  const script = fileURLToPath(new URL('./deflate/server-process.js', import.meta.url));
  const child = fork(script, [kind, profile.name], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const port = await nextMessage<number>(child, 'ready', 30_000);
    return { kind, child, port };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** Ends a child process this suite started, by its handle: SIGTERM, SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function memory(server: Server): Promise<MemoryReport> {
  const answer = nextMessage<MemoryReport>(server.child, 'mem', 30_000);
  server.child.send('mem');
  return answer;
}

/** The server process's CPU time so far (user + system, every thread), µs. */
function cpu(server: Server): Promise<number> {
  const answer = nextMessage<number>(server.child, 'cpu', 30_000);
  server.child.send('cpu');
  return answer;
}

/** The longest event-loop delay in the server since the last call, ms (and starts anew). */
function loopDelay(server: Server): Promise<number> {
  const answer = nextMessage<number>(server.child, 'loop', 60_000);
  server.child.send('loop');
  return answer;
}

function forkClients(args: Array<string | number>): ChildProcess {
  const script = fileURLToPath(new URL('./deflate/client-process.js', import.meta.url));
  return fork(script, args.map(String), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Tells a client process to close its connections and waits for it to exit (bounded). */
async function closeClients(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('close');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** How many sockets one process may open, leaving room for everything else. */
function socketBudget(): { limit: number; budget: number } {
  try {
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
    if (Number.isFinite(limit)) return { limit, budget: Math.max(0, limit - 256) };
  } catch {
    // fall through
  }
  return { limit: NaN, budget: IDLE_CONNECTIONS };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rate = (v: number) =>
  !Number.isFinite(v)
    ? 'n/a'
    : v >= 1000
      ? `${(v / 1000).toFixed(1)} k msg/s`
      : `${v.toFixed(0)} msg/s`;
const micros = (v: number) =>
  !Number.isFinite(v) ? 'n/a' : `${v.toFixed(v >= 100 ? 0 : 1)} µs/msg`;
const bytes = (v: number) => (!Number.isFinite(v) ? 'n/a' : `${v.toFixed(0)} B`);
const kib = (v: number) => (!Number.isFinite(v) ? 'n/a' : `${(v / 1024).toFixed(1)} KiB`);
const mib = (v: number) => (!Number.isFinite(v) ? 'n/a' : `${(v / 1048576).toFixed(1)} MiB`);
/** `a/b` as a ratio; n/a unless both are positive. */
const millis = (v: number) =>
  !Number.isFinite(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`;
const ratio = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

/** Bytes of an unmasked frame (server to client) with `length` bytes of payload. */
function frameSize(length: number): number {
  return length + 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8);
}

function printTable(title: string, header: readonly string[], rows: readonly string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

// --- 1. Echo rates, CPU and bytes on the wire ---

interface Workload {
  label: string;
  size: number;
  connections: number;
  inFlight: number;
}

const WORKLOADS: readonly Workload[] = [
  { label: '1 KiB, 64 connections, lock-step', size: 1024, connections: 64, inFlight: 1 },
  { label: '1 KiB, 8 connections × 16 in flight', size: 1024, connections: 8, inFlight: 16 },
  { label: '64 KiB, 8 connections, lock-step', size: 65536, connections: 8, inFlight: 1 },
  { label: '64 KiB, 2 connections × 8 in flight', size: 65536, connections: 2, inFlight: 8 },
];

/** Different messages per size: more than a 32 KiB window holds, so none is echoed from memory. */
const POOL_SIZE: Readonly<Record<number, number>> = { 1024: 64, 65536: 8 };

async function echoRows(profile: Profile): Promise<void> {
  const servers: Server[] = [];
  try {
    for (const kind of KINDS) servers.push(await startServer(kind, profile));
    const pools = new Map<number, { texts: string[]; frames: Buffer[] }>();
    for (const size of new Set(WORKLOADS.map((w) => w.size))) {
      const texts = messagePool(size, POOL_SIZE[size] ?? 8);
      pools.set(size, { texts, frames: clientFrames(texts, profile) });
    }
    // Each server must echo what it was sent (checked by inflating), and compress its echoes.
    const checks: string[] = [];
    for (const server of servers) {
      const [connection] = await openConnections(server.port, 1, OFFER);
      try {
        // One call for all the messages: the echoes' history runs on from one size to the next.
        const all = [...pools.values()];
        const compressed = await verifyEchoes(
          connection,
          all.flatMap((pool) => pool.frames),
          all.flatMap((pool) => pool.texts),
        );
        const total = all.reduce((sum, pool) => sum + pool.frames.length, 0);
        checks.push(
          `${server.kind}: "${connection.extensions}", ${compressed}/${total} echoes compressed`,
        );
      } finally {
        connection.close();
      }
    }

    const rates: string[][] = [];
    const cpus: string[][] = [];
    const wire: string[][] = [];
    for (const workload of WORKLOADS) {
      const { frames } = pools.get(workload.size)!;
      const connections = new Map<Kind, DeflateLoadConnection[]>();
      const results = new Map<Kind, LoadResult[]>(KINDS.map((k) => [k, []]));
      const cpuSamples = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
      let incomplete = 0;
      try {
        for (const server of servers) {
          const opened = await openConnections(server.port, workload.connections, OFFER);
          connections.set(server.kind, opened);
          if (opened.some((c) => !c.compressed))
            throw new Error(`${server.kind} did not negotiate permessage-deflate`);
        }
        for (let round = 0; round < ROUNDS; round++) {
          // Rounds alternate the servers' order, so that neither profits from the other's turn.
          for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
            let cpuStart: Promise<number> | undefined;
            let cpuEnd: Promise<number> | undefined;
            let messages = 0;
            const result = await runDeflateLoad(
              connections.get(server.kind)!,
              frames,
              ROW_MS,
              workload.inFlight,
              {
                probe: {
                  start: () => {
                    cpuStart = cpu(server);
                  },
                  end: (count) => {
                    cpuEnd = cpu(server);
                    messages = count;
                  },
                },
              },
            );
            results.get(server.kind)!.push(result);
            if (!result.complete) incomplete++;
            if (cpuStart !== undefined && cpuEnd !== undefined && messages > 0)
              cpuSamples.get(server.kind)!.push(((await cpuEnd) - (await cpuStart)) / messages);
          }
        }
      } finally {
        for (const list of connections.values()) for (const c of list) c.close();
      }
      await sleep(200);
      const m = (kind: Kind, pick: (r: LoadResult) => number) =>
        median(results.get(kind)!.map(pick));
      const label =
        incomplete > 0 ? `${workload.label} (${incomplete} runs incomplete)` : workload.label;
      const wsnetRate = m('wsnet', (r) => r.perSecond);
      const wsRate = m('ws', (r) => r.perSecond);
      rates.push([label, rate(wsnetRate), rate(wsRate), ratio(wsnetRate, wsRate)]);
      const wsnetCpu = median(cpuSamples.get('wsnet')!);
      const wsCpu = median(cpuSamples.get('ws')!);
      cpus.push([label, micros(wsnetCpu), micros(wsCpu), ratio(wsCpu, wsnetCpu)]);
      const wsnetIn = m('wsnet', (r) => r.bytesInPerMessage);
      const wsIn = m('ws', (r) => r.bytesInPerMessage);
      wire.push([
        label,
        bytes(frameSize(workload.size)),
        bytes(wsnetIn),
        bytes(wsIn),
        ratio(wsIn, wsnetIn),
        // The same frames go to both servers: one figure.
        bytes(m('wsnet', (r) => r.bytesOutPerMessage)),
      ]);
    }

    console.log(`\nEchoes checked: ${checks.join('; ')}`);
    printTable(
      `Compressed echo, ${profile.name}: messages echoed per second (median of ${ROUNDS} rounds of ${ROW_MS} ms)`,
      ['workload', 'wsnet', 'ws', 'wsnet/ws'],
      rates,
    );
    printTable(
      `Compressed echo, ${profile.name}: server CPU time (user + system, all threads) per echoed message`,
      ['workload', 'wsnet', 'ws', 'ws/wsnet'],
      cpus,
    );
    printTable(
      `Compressed echo, ${profile.name}: socket bytes per message (server → client: the server's compression; client → server: the same frames for both)`,
      ['workload', 'uncompressed', 'wsnet → client', 'ws → client', 'ws/wsnet', 'client → server'],
      wire,
    );
  } finally {
    for (const server of servers) await stop(server.child);
  }
}

// --- 2. Idle compressed connections ---

interface IdleResult {
  opened: number;
  compressed: number;
  echoes: number;
  before: MemoryReport;
  after: MemoryReport;
}

async function idleRun(kind: Kind, profile: Profile, count: number, offer: boolean) {
  const server = await startServer(kind, profile);
  let clients: ChildProcess | undefined;
  try {
    const before = await memory(server);
    clients = forkClients(['idle', server.port, count, IDLE_MESSAGES, profile.name, offer ? 1 : 0]);
    const idle = await nextMessage<{ opened: number; compressed: number; echoes: number }>(
      clients,
      'idle',
    );
    await sleep(500);
    const after = await memory(server);
    return { ...idle, before, after } satisfies IdleResult;
  } finally {
    if (clients !== undefined) await closeClients(clients);
    await stop(server.child);
  }
}

async function idleMemory(profile: Profile): Promise<void> {
  const { limit, budget } = socketBudget();
  const count = Math.min(IDLE_CONNECTIONS, budget);
  const runs = new Map<string, IdleResult>();
  // The two servers in turn: compressed, then not (the second is the baseline).
  for (const offer of [true, false])
    for (const kind of KINDS)
      runs.set(`${kind} ${offer}`, await idleRun(kind, profile, count, offer));
  const per = (kind: Kind, offer: boolean, pick: (m: MemoryReport) => number) => {
    const run = runs.get(`${kind} ${offer}`)!;
    return (pick(run.after) - pick(run.before)) / run.opened;
  };
  const row = (label: string, offer: boolean, pick: (m: MemoryReport) => number) => {
    const wsnet = per('wsnet', offer, pick);
    const ws = per('ws', offer, pick);
    return [label, kib(wsnet), kib(ws), ratio(ws, wsnet)];
  };
  const rows = [
    row('RSS', true, (m) => m.rss),
    row('JS heap (heapUsed)', true, (m) => m.heapUsed),
    row('external (Buffers, zlib)', true, (m) => m.external),
    [
      "wsnet's compressionMemory (held / charged)",
      `${kib(per('wsnet', true, (m) => m.compressionHeld))} / ${kib(per('wsnet', true, (m) => m.compressionCharged))}`,
      'n/a',
      'n/a',
    ],
    row('RSS, compression not offered', false, (m) => m.rss),
    row('JS heap, compression not offered', false, (m) => m.heapUsed),
  ];
  const describe = (kind: Kind) => {
    const run = runs.get(`${kind} true`)!;
    return `${kind}: ${run.opened} open, ${run.compressed} compressed, ${run.echoes} echoes`;
  };
  console.log(
    `\nIdle connections (ulimit -n ${limit}: ${count} per run; ${describe('wsnet')}; ${describe('ws')})`,
  );
  printTable(
    `Server memory per idle connection, ${profile.name}: ${count} connections, each after ${IDLE_MESSAGES} compressed 1 KiB echoes`,
    ['per connection', 'wsnet', 'ws', 'ws/wsnet'],
    rows,
  );
}

// --- 3. Decompression bomb ---

async function bombRows(profile: Profile, bomb: ReturnType<typeof bombFrame>): Promise<void> {
  const rows: string[][] = [];
  const values = new Map<Kind, { code: string; growth: number; ms: number; alive: boolean }>();
  for (const kind of KINDS) {
    const server = await startServer(kind, profile);
    try {
      const before = await memory(server);
      const [connection] = await openConnections(server.port, 1, OFFER);
      if (!connection.compressed) throw new Error(`${kind} did not negotiate permessage-deflate`);
      const start = performance.now();
      connection.send(bomb.frame);
      await connection.whenClosed(60_000);
      const ms = performance.now() - start;
      const code =
        connection.closeCode !== undefined
          ? String(connection.closeCode)
          : connection.ended
            ? 'none (TCP closed)'
            : 'none within 60 s';
      connection.close();
      let alive = true;
      let after = before;
      try {
        after = await memory(server);
      } catch {
        alive = false;
      }
      values.set(kind, { code, growth: after.maxRss - before.maxRss, ms, alive });
    } finally {
      await stop(server.child);
    }
  }
  const wsnet = values.get('wsnet')!;
  const ws = values.get('ws')!;
  rows.push(['close code sent by the server', wsnet.code, ws.code, '']);
  rows.push([
    'peak RSS growth (maxRSS after - before)',
    mib(wsnet.growth),
    mib(ws.growth),
    ratio(ws.growth, wsnet.growth),
  ]);
  rows.push([
    'bomb sent → close frame',
    `${wsnet.ms.toFixed(0)} ms`,
    `${ws.ms.toFixed(0)} ms`,
    ratio(ws.ms, wsnet.ms),
  ]);
  rows.push(['server still running', String(wsnet.alive), String(ws.alive), '']);
  printTable(
    `Decompression bomb, ${profile.name}: one ${mib(bomb.compressed)} compressed message inflating to ${mib(bomb.inflated)}, message limit ${mib(MAX_MESSAGE)}`,
    ['', 'wsnet', 'ws', 'ws/wsnet'],
    rows,
  );
}

// --- 4. Many connections sending at once ---

async function burstRun(kind: Kind, profile: Profile) {
  const server = await startServer(kind, profile);
  let clients: ChildProcess | undefined;
  try {
    clients = forkClients(['burst', server.port, BURST_CONNECTIONS, BURST_MESSAGES, profile.name]);
    const ready = await nextMessage<{ opened: number; compressed: number }>(clients, 'ready');
    if (ready.compressed !== ready.opened)
      throw new Error(`${kind}: ${ready.opened - ready.compressed} connections not compressed`);
    const before = await memory(server);
    const cpuBefore = await cpu(server);
    await loopDelay(server);
    const result = nextMessage<{ echoes: number; expected: number; ms: number }>(clients, 'burst');
    clients.send('go');
    const burst = await result;
    const stall = await loopDelay(server);
    const cpuAfter = await cpu(server);
    const after = await memory(server);
    return {
      perSecond: (burst.echoes * 1000) / burst.ms,
      complete: burst.echoes === burst.expected,
      peak: after.maxRss,
      growth: after.maxRss - before.rss,
      /** RSS once the burst is over and garbage collected: what stays. */
      rssAfter: after.rss,
      stall,
      cpuPerMessage: burst.echoes > 0 ? (cpuAfter - cpuBefore) / burst.echoes : NaN,
    };
  } finally {
    if (clients !== undefined) await closeClients(clients);
    await stop(server.child);
  }
}

async function burstRows(profile: Profile): Promise<void> {
  const samples = new Map<Kind, Array<Awaited<ReturnType<typeof burstRun>>>>(
    KINDS.map((k) => [k, []]),
  );
  for (let round = 0; round < ROUNDS; round++)
    for (const kind of round % 2 === 0 ? KINDS : [...KINDS].reverse())
      samples.get(kind)!.push(await burstRun(kind, profile));
  const m = (kind: Kind, pick: (s: Awaited<ReturnType<typeof burstRun>>) => number) =>
    median(samples.get(kind)!.map(pick));
  const incomplete = [...samples.values()].flat().filter((s) => !s.complete).length;
  type Sample = Awaited<ReturnType<typeof burstRun>>;
  /** A cost: each server's median, and ws's over wsnet's. */
  const cost = (label: string, pick: (s: Sample) => number, show: (v: number) => string) => {
    const wsnet = m('wsnet', pick);
    const ws = m('ws', pick);
    return [label, show(wsnet), show(ws), ratio(ws, wsnet)];
  };
  const wsnetRate = m('wsnet', (s) => s.perSecond);
  const wsRate = m('ws', (s) => s.perSecond);
  const rows = [
    [
      'total echoes per second',
      rate(wsnetRate),
      rate(wsRate),
      `${ratio(wsnetRate, wsRate)} (wsnet/ws)`,
    ],
    cost('server CPU per message (all threads)', (s) => s.cpuPerMessage, micros),
    cost('peak RSS of the server process', (s) => s.peak, mib),
    cost('peak RSS over RSS before the burst', (s) => s.growth, mib),
    cost('RSS after the burst (after GC)', (s) => s.rssAfter, mib),
    cost('longest event-loop delay in the server', (s) => s.stall, millis),
  ];
  printTable(
    `${BURST_CONNECTIONS} connections sending at once, ${profile.name}: ${BURST_MESSAGES} compressed 1 KiB messages each, as fast as backpressure allows, echoed (median of ${ROUNDS} rounds, a fresh server each${incomplete > 0 ? `; ${incomplete} runs incomplete` : ''})`,
    ['', 'wsnet', 'ws', 'ws/wsnet'],
    rows,
  );
}

export async function deflateSuite(): Promise<void> {
  const bomb = bombFrame();
  console.log(
    '\npermessage-deflate: wsnet message-API server against ws 8, each in its own process;' +
      ' ratios > 1.00x favour wsnet (rates wsnet/ws, costs ws/wsnet).',
  );
  console.log(
    `Load: raw clients offering "${OFFER}", sending each message compressed on its own (no context), masked in advance; echoes counted, not inflated.`,
  );
  // BENCH_DEFLATE_ROWS=echo,idle,bomb,burst (all by default) runs some of the row sets.
  const rows = new Set((process.env['BENCH_DEFLATE_ROWS'] ?? 'echo,idle,bomb,burst').split(','));
  for (const profile of SELECTED_PROFILES) {
    console.log(`\n--- ${profile.description}`);
    if (rows.has('echo')) await echoRows(profile);
    if (rows.has('idle')) await idleMemory(profile);
    if (rows.has('bomb')) await bombRows(profile, bomb);
    if (rows.has('burst')) await burstRows(profile);
  }
}
