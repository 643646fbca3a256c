/**
 * `npm run bench -- hold` (opt-in, not in the default run; 3-5 minutes): the most idle
 * connections one server process can hold (its hard fd limit, less a reserve), with heartbeats
 * running, against wsnet's message API and ws 8, without and with permessage-deflate: the
 * server's RSS and heap per connection and the open rate; `poco` (the POCO facade's HTTPServer
 * and WebSocket) on request. See bench/soak/hold.ts.
 * Options: `--connections N` (default: the hard fd limit less 200), `--heartbeat 5s`,
 * `--hold 16s` (how long the connections are held before the measure),
 * `--servers messages,ws,messages-deflate,ws-deflate` (or `poco`), `--snapshot DIR` (heap
 * snapshots of each server before and while holding, and a table of the heap per connection by
 * class; the first snapshot's writing grows the C heap, which the connections then reuse, so
 * take RSS per connection from a run without it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { countOption, durationOption, option } from './soak/args.js';
import { runHold, type HoldResult, type HoldServer } from './soak/hold.js';

const DEFAULT_SERVERS: readonly HoldServer[] = ['messages', 'ws', 'messages-deflate', 'ws-deflate'];
const SERVERS: readonly HoldServer[] = [...DEFAULT_SERVERS, 'poco'];
const LABELS: Record<HoldServer, string> = {
  messages: 'wsnet (message API)',
  poco: 'wsnet (POCO facade)',
  ws: 'ws',
  'messages-deflate': 'wsnet, permessage-deflate',
  'ws-deflate': 'ws, permessage-deflate',
};

/** The hard limit on open files: what a child may raise its own to. */
function hardFdLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim();
  return text === 'unlimited' ? 1_000_000 : Number(text);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export async function holdSuite(): Promise<void> {
  const limit = hardFdLimit();
  const connections = countOption('connections', Math.max(100, limit - 200));
  // `--heartbeat off`: no heartbeat on either server, to measure what the heartbeat costs.
  const heartbeatMs = option('heartbeat') === 'off' ? 0 : durationOption('heartbeat', 5000);
  const holdMs = durationOption('hold', heartbeatMs === 0 ? 16_000 : 3 * heartbeatMs + 1000);
  const servers = (option('servers')?.split(',') ?? DEFAULT_SERVERS) as HoldServer[];
  const snapshotDir = option('snapshot');
  if (snapshotDir !== undefined) mkdirSync(snapshotDir, { recursive: true });
  for (const server of servers)
    if (!SERVERS.includes(server))
      throw new Error(`unknown server ${server}; choose from ${SERVERS.join(', ')}`);
  const [load1] = os.loadavg();
  console.log(
    `\nHold: ${connections} connections to one server process (hard fd limit ${limit}), one 1 KiB ` +
      `echo each, then held ${holdMs / 1000} s ${heartbeatMs === 0 ? 'without a heartbeat' : `with a heartbeat every ${heartbeatMs / 1000} s`} ` +
      `(load average ${load1.toFixed(1)} at the start)`,
  );
  const results = new Map<HoldServer, HoldResult>();
  for (const server of servers) {
    const result = await runHold({ server, connections, heartbeatMs, holdMs, snapshotDir });
    results.set(server, result);
    console.log(
      `  ${LABELS[server]}: ${result.opened} open at ${result.openRate.toFixed(0)}/s, ` +
        `RSS +${((result.after.rss - result.before.rss) / 2 ** 20).toFixed(0)} MiB, ` +
        `${result.pongs} pongs, ${result.listenOverflows} listen-queue overflows, ` +
        `${result.failures} failures` +
        (result.failures > 0 ? ` (${result.firstFailure})` : '') +
        `; per connection: V8 heap committed ${kib(result.heapTotalPerConnection)} ` +
        `(young generation ${((result.after.newSpace - result.before.newSpace) / 2 ** 20).toFixed(1)} MiB more in all), ` +
        `C heap ${kib(result.mallocHeapPerConnection)}`,
    );
  }
  if (snapshotDir !== undefined) printClasses(servers, results);
  const header = [
    'server',
    'connections (held)',
    'open rate',
    'RSS / connection',
    'heap used / connection',
    'external / connection',
    'failures',
    'RSS ws/wsnet',
    'open rate wsnet/ws',
  ];
  const rows = servers.map((server) => {
    const r = results.get(server)!;
    const ws =
      server === 'poco'
        ? results.get('ws')
        : server.startsWith('messages')
          ? results.get(server.replace('messages', 'ws') as HoldServer)
          : undefined;
    return [
      LABELS[server],
      r.held === r.opened ? String(r.opened) : `${r.opened} (${r.held})`,
      `${r.openRate.toFixed(0)} conn/s`,
      kib(r.rssPerConnection),
      kib(r.heapPerConnection),
      kib(r.externalPerConnection),
      String(r.failures),
      ws ? `${(ws.rssPerConnection / r.rssPerConnection).toFixed(2)}x` : '',
      ws ? `${(r.openRate / ws.openRate).toFixed(2)}x` : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
  console.log(
    '(per connection: server after minus before, after two full GCs, divided by the connections; ' +
      'RSS ws/wsnet above 1.00x means wsnet uses less)',
  );
}

/** The heap snapshots' difference per connection by class, one column per server. */
function printClasses(servers: HoldServer[], results: Map<HoldServer, HoldResult>): void {
  const names: string[] = [];
  for (const server of servers)
    for (const row of results.get(server)!.classes!.rows)
      if (row.name !== '(the rest)' && !names.includes(row.name)) names.push(row.name);
  names.push('(the rest)');
  const cell = (server: HoldServer, name: string) => {
    const row = results.get(server)!.classes!.rows.find((r) => r.name === name);
    return row === undefined ? '' : `${row.bytes.toFixed(0)} (${row.count.toFixed(1)})`;
  };
  const header = [
    'class (self size; bytes (objects) per connection)',
    ...servers.map((s) => LABELS[s]),
  ];
  const rows = names.map((name) => [name, ...servers.map((server) => cell(server, name))]);
  rows.push(['all', ...servers.map((server) => results.get(server)!.classes!.total.toFixed(0))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nHeap snapshots, held minus before, per connection held:`);
  console.log(`${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}
