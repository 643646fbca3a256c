/**
 * `cli`: is `wsnet bench` trustworthy? It and the echo suite's load generator (bench/echo/load.ts:
 * raw sockets, pre-masked frames, nothing checked) drive the same message-API echo server
 * (bench/echo/server-process.ts `messages`, the server of the `messages` suite) with the same
 * workloads, taking turns round by round. `wsnet bench` runs as the command a user runs (the
 * compiled bin, a process of its own, `--json`), with the same warm-up and measured time.
 *
 * Printed per workload: both rates, their ratio, and what `wsnet bench` says about itself: its
 * CPU use (one core = 100 %) and per message (compare with the `messages-client` suite's client
 * CPU per round trip), and the average messages in flight against the most possible
 * (connections × pipeline). A ratio near 1 with spare CPU means both measure the server; a lower
 * ratio with the generator's CPU near 100 % means `wsnet bench` (which masks, verifies and times
 * every message through the message API) is the limit, and says so in its report.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadConnection, clientFrame, runEchoLoad } from './echo/load.js';
import { startServer } from './echo.bench.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const WARMUP_MS = 300;
const CLI_BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));

const WORKLOADS: ReadonlyArray<{
  label: string;
  connections: number;
  size: number;
  pipeline: number;
}> = [
  { label: '1 connection, 32 B', connections: 1, size: 32, pipeline: 1 },
  { label: '16 connections, 32 B', connections: 16, size: 32, pipeline: 1 },
  { label: '1 connection, 32 B, 16 in flight', connections: 1, size: 32, pipeline: 16 },
  { label: '1 connection, 64 KiB', connections: 1, size: 65536, pipeline: 1 },
];

/** The fields of `wsnet bench --json` this suite reads. */
interface BenchJson {
  messages: { received: number; averageInFlight: number };
  throughput: { messagesPerSecond: number };
  latencyMs: { p50: number; p99: number };
  errors: { total: number };
  generator: { cpuPercent: number; cpuUserMs: number; cpuSystemMs: number };
}

/** Runs `wsnet bench` (the compiled bin) with `args`; its JSON report. Killed if it overruns. */
function wsnetBench(args: string[], deadlineMs: number): Promise<BenchJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'bench', ...args, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`wsnet bench exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as BenchJson);
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function rate(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} k msg/s` : `${value.toFixed(0)} msg/s`;
}

export async function cliSuite(): Promise<void> {
  const server = await startServer('messages');
  const url = `ws://127.0.0.1:${server.port}/`;
  const header = [
    'workload',
    'echo suite load',
    'wsnet bench',
    'wsnet bench/load',
    'wsnet bench CPU',
    'its CPU per msg',
    'in flight (of max)',
    'wsnet bench p50 / p99',
  ];
  const rows: string[][] = [];
  try {
    for (const workload of WORKLOADS) {
      const frame = clientFrame(workload.size);
      const loadRates: number[] = [];
      const cliRuns: BenchJson[] = [];
      const connections: LoadConnection[] = [];
      try {
        for (let i = 0; i < workload.connections; i++)
          connections.push(await LoadConnection.open(server.port));
        for (let round = 0; round < ROUNDS; round++) {
          // Alternate who goes first, so that neither gets the other's warm server every time.
          const runLoad = async () => {
            loadRates.push(
              await runEchoLoad(connections, frame, ROW_MS, workload.pipeline, {
                warmupMs: WARMUP_MS,
              }),
            );
          };
          const runCli = async () => {
            const report = await wsnetBench(
              [
                url,
                '--binary',
                `--connections=${workload.connections}`,
                `--size=${workload.size}`,
                `--pipeline=${workload.pipeline}`,
                `--duration=${ROW_MS}ms`,
                `--warmup=${WARMUP_MS}ms`,
              ],
              ROW_MS + WARMUP_MS + 30_000,
            );
            if (report.errors.total !== 0)
              throw new Error(`wsnet bench reported ${report.errors.total} errors`);
            cliRuns.push(report);
          };
          if (round % 2 === 0) {
            await runLoad();
            await runCli();
          } else {
            await runCli();
            await runLoad();
          }
        }
      } finally {
        for (const connection of connections) connection.close();
      }
      const load = median(loadRates);
      const cli = median(cliRuns.map((r) => r.throughput.messagesPerSecond));
      const unit = workload.size >= 65536 ? 'MB/s' : 'msg/s';
      const show = (perSecond: number) =>
        unit === 'MB/s'
          ? `${((perSecond * workload.size) / 1e6).toFixed(0)} MB/s`
          : rate(perSecond);
      rows.push([
        workload.label,
        show(load),
        show(cli),
        `${(cli / load).toFixed(2)}x`,
        `${median(cliRuns.map((r) => r.generator.cpuPercent)).toFixed(0)} %`,
        `${median(
          cliRuns.map(
            (r) => ((r.generator.cpuUserMs + r.generator.cpuSystemMs) * 1000) / r.messages.received,
          ),
        ).toFixed(1)} µs`,
        `${median(cliRuns.map((r) => r.messages.averageInFlight)).toFixed(2)} (${workload.connections * workload.pipeline})`,
        `${median(cliRuns.map((r) => r.latencyMs.p50 * 1000)).toFixed(0)} / ${median(cliRuns.map((r) => r.latencyMs.p99 * 1000)).toFixed(0)} µs`,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    server.child.kill();
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nwsnet bench against the echo suite's load generator, same server (message API, events), ` +
      `median of ${ROUNDS} rounds of ${ROW_MS} ms after ${WARMUP_MS} ms of warm-up\n`,
  );
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}
