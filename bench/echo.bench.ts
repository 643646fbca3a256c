/**
 * Echo servers side by side, each in its own process (bench/echo/server-process.ts), driven by
 * the same load generator (bench/echo/load.ts) in this process, alternately, row by row.
 *
 * - `echo`: wsnet's POCO facade (HTTPServer + WebSocket receiveFrame/sendFrame loop) against
 *   ws's WebSocketServer;
 * - `messages`: wsnet's message API (WebSocketServer, echoing from 'message' events and from a
 *   `for await` loop) against ws's WebSocketServer; it also reports the servers' CPU time per
 *   message, which the load generator's own limits do not hide.
 *
 * Both also run `ceiling`, a raw TCP echo behind a real 101 (bench/echo/server-process.ts), in
 * the same rounds: every row prints each wsnet server's ratio to ws and to that ceiling, and the
 * load generator's own CPU share, so that a row the generator cannot drive faster shows as such.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  LoadConnection,
  clientFrame,
  defaultWarmupMs,
  runEchoLoad,
  runHandshakeLoad,
  type WindowProbe,
} from './echo/load.js';
import { CLoadGenerator, cGenerator } from './echo/c-load.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const IDLE_CONNECTIONS = Number(process.env['BENCH_IDLE_CONNECTIONS'] ?? 5000);
/** Handshakes kept in flight by the handshake row (each: connect, upgrade, close). */
const HANDSHAKES_IN_FLIGHT = 10;
/**
 * The handshake row's first warm-up per server: after the echo rows the handshake's code is
 * still cold, and in interleaved runs with a short warm-up the first rounds' CPU per handshake
 * came out up to twice the later rounds'.
 */
const HANDSHAKE_WARMUP_MS = 1000;
const HANDSHAKE_LABEL = `handshakes, ${HANDSHAKES_IN_FLIGHT} in flight (connect + close)`;
/** The server kinds bench/echo/server-process.ts runs. */
type ServerKind =
  'wsnet' | 'messages' | 'messages-iter' | 'messages-bytes' | 'ws' | 'ceiling' | 'http-ceiling';
/** The servers every wsnet server is compared with, in the order of the ratio columns. */
const REFERENCES: readonly ServerKind[] = ['ws', 'ceiling'];

/** One server in a comparison: its kind and its column heading. */
interface Contender {
  kind: ServerKind;
  column: string;
  /** Runs only the text workloads (where it differs from the others: binary is the same). */
  textOnly?: boolean;
}

interface Server {
  name: ServerKind;
  child: ChildProcess;
  port: number;
}

export async function startServer(name: ServerKind): Promise<Server> {
  const script = fileURLToPath(new URL('./echo/server-process.js', import.meta.url));
  const child = fork(script, [name], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { ready?: number }) =>
      message.ready === undefined ? reject(new Error('bad message')) : resolve(message.ready),
    );
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  return { name, child, port };
}

function rss(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { rss: number }) => resolve(message.rss));
    server.child.send('rss');
  });
}

/** The server process's CPU time so far (user + system), µs. */
function cpu(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { cpu: number }) => resolve(message.cpu));
    server.child.send('cpu');
  });
}

async function openConnections(port: number, count: number): Promise<LoadConnection[]> {
  const connections: LoadConnection[] = [];
  const batch = 100;
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () => LoadConnection.open(port)),
    );
    connections.push(...opened);
  }
  return connections;
}

/** How many sockets this process may open, leaving room for everything else. */
function socketBudget(): number {
  try {
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
    return Number.isFinite(limit) ? Math.max(0, limit - 256) : IDLE_CONNECTIONS;
  } catch {
    return IDLE_CONNECTIONS;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Row {
  label: string;
  unit: 'msg/s' | 'MB/s' | 'µs/msg' | 'KiB' | '%' | 'hs/s' | 'µs/hs';
  values: Partial<Record<ServerKind, number>>;
}

function format(value: number, unit: Row['unit']): string {
  switch (unit) {
    case 'MB/s':
      return `${value.toFixed(0)} MB/s`;
    case 'µs/msg':
      return `${value.toFixed(value >= 100 ? 0 : 1)} µs/msg`;
    case 'KiB':
      return `${(value / 1024).toFixed(1)} KiB`;
    case '%':
      return `${(value * 100).toFixed(0)} %`;
    case 'hs/s':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} k hs/s` : `${value.toFixed(0)} hs/s`;
    case 'µs/hs':
      return `${value.toFixed(value >= 100 ? 0 : 1)} µs/hs`;
    default:
      return value >= 1000 ? `${(value / 1000).toFixed(1)} k msg/s` : `${value.toFixed(0)} msg/s`;
  }
}

/**
 * Prints one row per workload: each server's figure, then each wsnet server's ratio to each
 * reference, ws and the ceiling (`ratios: 'inverse'`: the reference's ratio to it, for costs,
 * where less is better; `'none'`: no ratios).
 */
function printRows(
  title: string,
  contenders: readonly Contender[],
  rows: Row[],
  ratios: 'direct' | 'inverse' | 'none' = 'direct',
  firstColumn = 'workload',
): void {
  const references = REFERENCES.filter((kind) => contenders.some((c) => c.kind === kind));
  const others = contenders.filter((c) => !REFERENCES.includes(c.kind));
  const single = others.length === 1;
  const pairs =
    ratios === 'none'
      ? []
      : references.flatMap((reference) => others.map((c) => ({ reference, c })));
  const header = [
    firstColumn,
    ...contenders.map((c) => c.column),
    ...pairs.map(({ reference, c }) => {
      const name = single ? 'wsnet' : c.column;
      return ratios === 'inverse' ? `${reference}/${name}` : `${name}/${reference}`;
    }),
  ];
  const cells = rows.map((row) => [
    row.label,
    ...contenders.map((c) => {
      const value = row.values[c.kind];
      return value === undefined ? 'n/a' : format(value, row.unit);
    }),
    ...pairs.map(({ reference, c }) => {
      const mine = row.values[c.kind];
      const theirs = row.values[reference];
      if (mine === undefined || theirs === undefined || mine === 0 || theirs === 0) return 'n/a';
      return `${(ratios === 'inverse' ? theirs / mine : mine / theirs).toFixed(2)}x`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const c of cells) console.log(line(c));
}

interface Workload {
  label: string;
  connections: number;
  size: number;
  inFlight: number;
  unit: 'msg/s' | 'MB/s';
  /** Text frames (valid UTF-8 with non-ASCII in it); binary otherwise. */
  text?: boolean;
  /** The payload's bytes: `a` repeated (default), or UTF-8 text with non-ASCII in it. */
  payload?: 'ascii' | 'utf8';
  /** Measured time per server and round, when the suite's is too short for a few messages. */
  rowMs?: number;
  /** Rounds, when fewer than BENCH_ROUNDS do (large messages: each round holds many bytes). */
  rounds?: number;
}

/** 16 MiB round trips take tens of ms each: 1.5 s windows hold enough of them; 2 rounds do. */
const LARGE_ROW_MS = Number(process.env['BENCH_LARGE_MS'] ?? 1500);
const LARGE_ROUNDS = Math.min(ROUNDS, 2);

const WORKLOADS: readonly Workload[] = [
  { label: '1 connection, 32 B', connections: 1, size: 32, inFlight: 1, unit: 'msg/s' },
  { label: '1 connection, 1 KiB', connections: 1, size: 1024, inFlight: 1, unit: 'msg/s' },
  { label: '64 connections, 32 B', connections: 64, size: 32, inFlight: 1, unit: 'msg/s' },
  { label: '64 connections, 1 KiB', connections: 64, size: 1024, inFlight: 1, unit: 'msg/s' },
  {
    label: '1 connection, 32 B, 16 in flight',
    connections: 1,
    size: 32,
    inFlight: 16,
    unit: 'msg/s',
  },
  // Issue 12's pipelined workload: several connections, each with a window of messages out.
  {
    label: '10 connections, 1 KiB, 32 in flight',
    connections: 10,
    size: 1024,
    inFlight: 32,
    unit: 'msg/s',
  },
  { label: '1 connection, 64 KiB', connections: 1, size: 65536, inFlight: 1, unit: 'MB/s' },
  { label: '1 connection, 1 MiB', connections: 1, size: 1 << 20, inFlight: 1, unit: 'MB/s' },
];

/**
 * Large messages, in the message-API suite: text against binary of the same UTF-8 bytes, where
 * decoding text into a string (and encoding it back) shows (issue 12).
 */
const LARGE_WORKLOADS: readonly Workload[] = [
  {
    label: '1 connection, 16 MiB binary (UTF-8)',
    connections: 1,
    size: 16 << 20,
    inFlight: 1,
    unit: 'MB/s',
    payload: 'utf8',
    rowMs: LARGE_ROW_MS,
    rounds: LARGE_ROUNDS,
  },
  {
    label: '1 connection, 16 MiB text',
    connections: 1,
    size: 16 << 20,
    inFlight: 1,
    unit: 'MB/s',
    text: true,
    rowMs: LARGE_ROW_MS,
    rounds: LARGE_ROUNDS,
  },
];

/**
 * BENCH_WORKLOADS=16 MiB (a comma-separated list) runs only the workloads whose label contains
 * one of them: for a quick look at a few rows.
 */
const WORKLOAD_FILTER = (process.env['BENCH_WORKLOADS'] ?? '')
  .split(',')
  .map((part) => part.trim())
  .filter((part) => part.length > 0);

function selected(workloads: readonly Workload[]): readonly Workload[] {
  if (WORKLOAD_FILTER.length === 0) return workloads;
  return workloads.filter((w) => WORKLOAD_FILTER.some((part) => w.label.includes(part)));
}

/** One server's measured turn: resolves its rate per second; the probe brackets the counted window. */
type Turn = (server: Server, round: number, probe: WindowProbe) => Promise<number>;

/**
 * Runs `rounds` rounds of `turn` over `servers`, alternating their order each round so that none
 * profits from another's warm-up, and returns the medians as the three rows: the rate, the
 * server's CPU per counted operation (when `cpuWanted`; read over IPC at the window's edges), and
 * the load generator's CPU share. The generator is this process: its CPU time over the window's
 * wall time is the share of one core it used (near 100 %, it was what limited the row).
 */
async function interleavedRounds(
  servers: readonly Server[],
  rounds: number,
  cpuWanted: boolean,
  rows: { row: Row; cpuRow: Row; generatorRow: Row },
  turn: Turn,
  afterTurn?: () => Promise<void>,
): Promise<void> {
  const samples = new Map<ServerKind, number[]>(servers.map((s) => [s.name, []]));
  const cpuSamples = new Map<ServerKind, number[]>(servers.map((s) => [s.name, []]));
  const generatorSamples = new Map<ServerKind, number[]>(servers.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      let cpuStart: Promise<number> | undefined;
      let cpuEnd: Promise<number> | undefined;
      let counted = 0;
      let generatorStart = process.cpuUsage();
      let windowStart = 0;
      let generatorShare = -1;
      const perSecond = await turn(server, round, {
        start: () => {
          if (cpuWanted) cpuStart = cpu(server);
          generatorStart = process.cpuUsage();
          windowStart = performance.now();
        },
        end: (count, share) => {
          const used = process.cpuUsage(generatorStart);
          generatorShare =
            share ?? (used.user + used.system) / 1000 / (performance.now() - windowStart);
          if (cpuWanted) cpuEnd = cpu(server);
          counted = count;
        },
      });
      samples.get(server.name)!.push(perSecond);
      if (generatorShare >= 0) generatorSamples.get(server.name)!.push(generatorShare);
      if (cpuStart !== undefined && cpuEnd !== undefined && counted > 0)
        cpuSamples.get(server.name)!.push(((await cpuEnd) - (await cpuStart)) / counted);
      await afterTurn?.();
    }
  }
  for (const server of servers) {
    rows.row.values[server.name] = median(samples.get(server.name)!);
    if (cpuWanted) rows.cpuRow.values[server.name] = median(cpuSamples.get(server.name)!);
    rows.generatorRow.values[server.name] = median(generatorSamples.get(server.name)!);
  }
}

/**
 * The handshake row: {@link HANDSHAKES_IN_FLIGHT} loops of connect + upgrade + close against
 * each server, rounds interleaved as for the echo rows. Each handshake ends with a close
 * frame from the client, answered by the server's (the ceiling echoes the client's own: the same
 * bytes back, no WebSocket work), after which the client drops TCP. Gives the rate, the server's
 * CPU per handshake and the generator's CPU share, as rows of the three tables.
 */
async function measureHandshakes(
  servers: readonly Server[],
  options: { cpu: boolean; rowMs: number; rewarmMs?: number },
): Promise<{ row: Row; cpuRow: Row; generatorRow: Row }> {
  const label = HANDSHAKE_LABEL;
  const row: Row = { label, unit: 'hs/s', values: {} };
  const cpuRow: Row = { label, unit: 'µs/hs', values: {} };
  const generatorRow: Row = { label, unit: '%', values: {} };
  const binary = cGenerator();
  const generators = new Map<ServerKind, CLoadGenerator>();
  try {
    if (binary !== null)
      for (const server of servers)
        generators.set(
          server.name,
          await CLoadGenerator.handshakes(binary, server.port, HANDSHAKES_IN_FLIGHT),
        );
    await interleavedRounds(
      servers,
      ROUNDS,
      options.cpu,
      { row, cpuRow, generatorRow },
      async (server, round, probe) => {
        const warmupMs = round > 0 ? options.rewarmMs : HANDSHAKE_WARMUP_MS;
        const generator = generators.get(server.name);
        const { perSecond, failed } =
          generator === undefined
            ? await runHandshakeLoad(server.port, options.rowMs, HANDSHAKES_IN_FLIGHT, {
                warmupMs,
                probe,
              })
            : await generator.run(options.rowMs, warmupMs ?? HANDSHAKE_WARMUP_MS, probe);
        if (failed > 0) console.log(`(${server.name}: ${failed} handshakes failed in a window)`);
        return perSecond;
      },
      // The closed connections' last packets and the server's cleanup, out of the next window.
      () => new Promise((resolve) => setTimeout(resolve, 100)),
    );
  } finally {
    for (const generator of generators.values()) generator.close();
  }
  return { row, cpuRow, generatorRow };
}

const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/**
 * Runs every workload against each contender's server (ws and the ceiling are the references),
 * then the idle-connection memory, and prints the tables, with the load generator's CPU share
 * per server and workload. `cpu` adds the servers' CPU time per message in the measured windows.
 */
async function compareServers(
  title: string,
  contenders: readonly Contender[],
  options: {
    cpu: boolean;
    workloads: readonly Workload[];
    /** Measured time per server and round. */
    rowMs: number;
    /** Warm-up before the rounds after the first (default: as long as the first's). */
    rewarmMs?: number;
  },
): Promise<void> {
  const rowMs = options.rowMs;
  // Started one by one and killed by PID in `finally`, also if a later one fails to start.
  const allServers: Server[] = [];
  const textOnlyKinds = new Set(contenders.filter((c) => c.textOnly).map((c) => c.kind));
  const loadBefore = loadAverage();
  try {
    for (const contender of contenders) allServers.push(await startServer(contender.kind));
    const rows: Row[] = [];
    const cpuRows: Row[] = [];
    const generatorRows: Row[] = [];
    for (const workload of selected(options.workloads)) {
      const row: Row = { label: workload.label, unit: workload.unit, values: {} };
      const cpuRow: Row = { label: workload.label, unit: 'µs/msg', values: {} };
      const generatorRow: Row = { label: workload.label, unit: '%', values: {} };
      const frame = clientFrame(workload.size, workload.text, workload.payload);
      const workloadMs = workload.rowMs ?? rowMs;
      const rounds = workload.rounds ?? ROUNDS;
      const servers = allServers.filter(
        (s) => workload.text === true || !textOnlyKinds.has(s.name),
      );
      const connections = new Map<ServerKind, LoadConnection[]>();
      const generators = new Map<ServerKind, CLoadGenerator>();
      const binary = cGenerator();
      try {
        for (const server of servers)
          if (binary === null)
            connections.set(server.name, await openConnections(server.port, workload.connections));
          else
            generators.set(
              server.name,
              await CLoadGenerator.echoes(
                binary,
                server.port,
                workload.connections,
                workload.inFlight,
                frame,
              ),
            );
        await interleavedRounds(
          servers,
          rounds,
          options.cpu,
          { row, cpuRow, generatorRow },
          async (server, round, probe) => {
            const warmupMs = round > 0 ? options.rewarmMs : undefined;
            const generator = generators.get(server.name);
            const perSecond =
              generator === undefined
                ? await runEchoLoad(
                    connections.get(server.name)!,
                    frame,
                    workloadMs,
                    workload.inFlight,
                    { warmupMs, probe },
                  )
                : (await generator.run(workloadMs, warmupMs ?? defaultWarmupMs(workloadMs), probe))
                    .perSecond;
            return workload.unit === 'MB/s' ? (perSecond * workload.size) / 1e6 : perSecond;
          },
        );
      } finally {
        for (const list of connections.values()) for (const connection of list) connection.close();
        for (const generator of generators.values()) generator.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      rows.push(row);
      cpuRows.push(cpuRow);
      generatorRows.push(generatorRow);
    }
    if (
      WORKLOAD_FILTER.length === 0 ||
      WORKLOAD_FILTER.some((part) => HANDSHAKE_LABEL.includes(part))
    ) {
      // The text-only servers handshake as their string-decoding siblings do: not measured twice.
      const handshakers = allServers.filter((s) => !textOnlyKinds.has(s.name));
      const handshakes = await measureHandshakes(handshakers, options);
      rows.push(handshakes.row);
      cpuRows.push(handshakes.cpuRow);
      generatorRows.push(handshakes.generatorRow);
    }
    printRows(
      `${title}, lock-step round trips unless noted (median of ${ROUNDS} rounds of ${rowMs} ms` +
        (options.workloads.includes(LARGE_WORKLOADS[0])
          ? `; 16 MiB: ${LARGE_ROUNDS} of ${LARGE_ROW_MS} ms)`
          : ')'),
      contenders,
      rows,
    );
    if (options.cpu)
      printRows(
        `${title}: server CPU time (user + system) per echoed message (per handshake in the handshake row), same runs`,
        contenders,
        cpuRows,
        'inverse',
      );
    printRows(
      `${title}: the load generator's CPU (user + system) as a share of one core, per server, same runs`,
      contenders,
      generatorRows,
      'none',
    );

    const count = Math.min(IDLE_CONNECTIONS, socketBudget());
    const memory: Row = {
      label: `server RSS per idle connection (${count} connections)`,
      unit: 'KiB',
      values: {},
    };
    // Text-only servers differ from the others in how they deliver text, not in memory.
    for (const server of allServers.filter((s) => !textOnlyKinds.has(s.name))) {
      const before = await rss(server);
      const connections: LoadConnection[] = [];
      try {
        connections.push(...(await openConnections(server.port, count)));
        await new Promise((resolve) => setTimeout(resolve, 500));
        const after = await rss(server);
        memory.values[server.name] = (after - before) / count;
      } finally {
        for (const connection of connections) connection.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    printRows(`${title}: memory`, contenders, [memory], 'inverse', 'memory');
    console.log(
      '(for memory, a ratio ws/wsnet above 1.00x means wsnet uses less; ceiling/wsnet is the share\n' +
        " of wsnet's memory per connection that a bare net.Socket needs)",
    );
    console.log(
      `load average (1, 5, 15 min): ${loadBefore} at the start, ${loadAverage()} at the end`,
    );
  } finally {
    for (const server of allServers) server.child.kill();
  }
}

export function echoSuite(): Promise<void> {
  return compareServers(
    'Echo server',
    [
      { kind: 'wsnet', column: 'wsnet' },
      { kind: 'ws', column: 'ws' },
      { kind: 'ceiling', column: 'ceiling' },
    ],
    // A short warm-up once each server is warm, so that a third server adds less than half.
    { cpu: false, workloads: WORKLOADS, rowMs: ROW_MS, rewarmMs: 50 },
  );
}

export function messagesSuite(): Promise<void> {
  return compareServers(
    'Message-API echo server',
    [
      { kind: 'messages', column: 'wsnet events' },
      { kind: 'messages-iter', column: 'wsnet for-await' },
      // Text rows only: text as bytes (decodeText: false), echoed as ws echoes, a Buffer.
      { kind: 'messages-bytes', column: 'wsnet bytes', textOnly: true },
      { kind: 'ws', column: 'ws' },
      { kind: 'ceiling', column: 'ceiling' },
    ],
    // Four servers: shorter rounds, and a short warm-up once each is warm, to stay near 80 s.
    {
      cpu: true,
      workloads: [...WORKLOADS, ...LARGE_WORKLOADS],
      rowMs: Number(process.env['BENCH_ECHO_MS'] ?? 750),
      rewarmMs: 50,
    },
  );
}

/**
 * `npm run bench -- handshakes`: the handshake row alone, for every server kind (the POCO
 * facade, the message API, ws, the ceiling, and the ceiling behind node:http), with the servers' CPU per handshake: the quick
 * A/B for handshake work (the `echo` and `messages` suites print the same row among theirs).
 */
export async function handshakesSuite(): Promise<void> {
  const contenders: Contender[] = [
    { kind: 'wsnet', column: 'wsnet POCO' },
    { kind: 'messages', column: 'wsnet messages' },
    { kind: 'ws', column: 'ws' },
    { kind: 'ceiling', column: 'ceiling' },
    // node:http's parser and 'upgrade' event, then the ceiling's work: its ratio to the ceiling
    // is what node:http alone leaves of it, for ws and wsnet alike.
    { kind: 'http-ceiling', column: 'node:http ceiling' },
  ];
  const servers: Server[] = [];
  const loadBefore = loadAverage();
  try {
    for (const contender of contenders) servers.push(await startServer(contender.kind));
    const { row, cpuRow, generatorRow } = await measureHandshakes(servers, {
      cpu: true,
      rowMs: ROW_MS,
      rewarmMs: 100,
    });
    const title = `Handshakes (median of ${ROUNDS} rounds of ${ROW_MS} ms)`;
    printRows(title, contenders, [row]);
    printRows(
      `${title}: server CPU time (user + system) per handshake`,
      contenders,
      [cpuRow],
      'inverse',
    );
    printRows(`${title}: the load generator's CPU share`, contenders, [generatorRow], 'none');
    console.log(
      `load average (1, 5, 15 min): ${loadBefore} at the start, ${loadAverage()} at the end`,
    );
  } finally {
    for (const server of servers) server.child.kill();
  }
}
