/**
 * Echo servers side by side: wsnet's POCO facade (HTTPServer + WebSocket receiveFrame/sendFrame
 * loop) against ws's WebSocketServer, each in its own process, driven by the same load
 * generator (bench/echo/load.ts) in this process, alternately, row by row.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadConnection, clientFrame, runEchoLoad } from './echo/load.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const IDLE_CONNECTIONS = Number(process.env['BENCH_IDLE_CONNECTIONS'] ?? 5000);
const SERVERS = ['wsnet', 'ws'] as const;
type ServerName = (typeof SERVERS)[number];

interface Server {
  name: ServerName;
  child: ChildProcess;
  port: number;
}

async function startServer(name: ServerName): Promise<Server> {
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
  unit: 'msg/s' | 'MB/s';
  values: Partial<Record<ServerName, number>>;
}

function format(value: number, unit: Row['unit']): string {
  return unit === 'MB/s'
    ? `${value.toFixed(0)} MB/s`
    : value >= 1000
      ? `${(value / 1000).toFixed(1)} k msg/s`
      : `${value.toFixed(0)} msg/s`;
}

function printRows(title: string, rows: Row[]): void {
  const header = ['workload', ...SERVERS, 'wsnet/ws'];
  const cells = rows.map((row) => [
    row.label,
    ...SERVERS.map((s) => (row.values[s] === undefined ? 'n/a' : format(row.values[s], row.unit))),
    row.values.wsnet !== undefined && row.values.ws !== undefined
      ? `${(row.values.wsnet / row.values.ws).toFixed(2)}x`
      : 'n/a',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const c of cells) console.log(line(c));
}

export async function echoSuite(): Promise<void> {
  const servers = await Promise.all(SERVERS.map(startServer));
  try {
    const rows: Row[] = [];
    const workloads: Array<{
      label: string;
      connections: number;
      size: number;
      inFlight: number;
      unit: Row['unit'];
    }> = [
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
      { label: '1 connection, 64 KiB', connections: 1, size: 65536, inFlight: 1, unit: 'MB/s' },
      { label: '1 connection, 1 MiB', connections: 1, size: 1 << 20, inFlight: 1, unit: 'MB/s' },
    ];
    for (const workload of workloads) {
      const row: Row = { label: workload.label, unit: workload.unit, values: {} };
      const frame = clientFrame(workload.size);
      const connections = new Map<ServerName, LoadConnection[]>();
      for (const server of servers)
        connections.set(server.name, await openConnections(server.port, workload.connections));
      const samples = new Map<ServerName, number[]>(SERVERS.map((name) => [name, []]));
      // Rounds alternate which server goes first, so neither profits from the other's warm-up.
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          const perSecond = await runEchoLoad(
            connections.get(server.name)!,
            frame,
            ROW_MS,
            workload.inFlight,
          );
          samples
            .get(server.name)!
            .push(workload.unit === 'MB/s' ? (perSecond * workload.size) / 1e6 : perSecond);
        }
      }
      for (const name of SERVERS) row.values[name] = median(samples.get(name)!);
      for (const list of connections.values()) for (const connection of list) connection.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      rows.push(row);
    }
    printRows(
      `Echo server, lock-step round trips unless noted (median of ${ROUNDS} rounds of ${ROW_MS} ms)`,
      rows,
    );

    const count = Math.min(IDLE_CONNECTIONS, socketBudget());
    const memory: Row = {
      label: `server RSS per idle connection (${count} connections)`,
      unit: 'msg/s',
      values: {},
    };
    for (const server of servers) {
      const before = await rss(server);
      const connections = await openConnections(server.port, count);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await rss(server);
      memory.values[server.name] = (after - before) / count;
      for (const connection of connections) connection.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const bytes = (v: number | undefined) =>
      v === undefined ? 'n/a' : `${(v / 1024).toFixed(1)} KiB`;
    console.log(`\n| memory | wsnet | ws | ws/wsnet |\n| --- | --- | --- | --- |`);
    console.log(
      `| ${memory.label} | ${bytes(memory.values.wsnet)} | ${bytes(memory.values.ws)} | ${
        memory.values.wsnet && memory.values.ws
          ? `${(memory.values.ws / memory.values.wsnet).toFixed(2)}x`
          : 'n/a'
      } |`,
    );
    console.log('(for memory, a ratio ws/wsnet above 1.00x means wsnet uses less)');
  } finally {
    for (const server of servers) server.child.kill();
  }
}
