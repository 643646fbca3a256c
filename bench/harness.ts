/**
 * A small benchmark harness: every case runs wsnet and its `ws` counterpart alternately, in the
 * same process, several rounds each, and reports the median; the ratio wsnet/ws is what to read.
 * Each round is bounded in time, so a whole suite stops by itself.
 */
import { performance } from 'node:perf_hooks';

export interface Contender {
  name: string;
  /** Runs the operation once. */
  run: () => void;
}

export interface Case {
  name: string;
  /** Bytes one operation processes (for GB/s and MB/s); 0 to report operations per second. */
  bytesPerOp: number;
  /** How many units (e.g. frames) one operation processes, for units/s. */
  unitsPerOp?: number;
  unit?: string;
  contenders: Contender[];
}

export interface Result {
  case: string;
  contender: string;
  /** Median operations per second over the rounds. */
  opsPerSecond: number;
  bytesPerOp: number;
  unitsPerOp: number;
  unit: string;
}

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 200);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Operations per second of `run` over about `ms` milliseconds (at least 3 operations). */
function measureRound(run: () => void, ms: number): number {
  let batch = 1;
  // Grow the batch until one batch takes about a millisecond, so timer reads stay cheap.
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) run();
    const elapsed = performance.now() - start;
    if (elapsed > 1 || batch > 1 << 20) break;
    batch *= 2;
  }
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms || ops < 3) {
    for (let i = 0; i < batch; i++) run();
    ops += batch;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

export function runCase(benchCase: Case): Result[] {
  const samples = new Map<string, number[]>(benchCase.contenders.map((c) => [c.name, []]));
  for (const contender of benchCase.contenders) measureRound(contender.run, 50); // warm up
  for (let round = 0; round < ROUNDS; round++)
    for (const contender of benchCase.contenders)
      samples.get(contender.name)!.push(measureRound(contender.run, ROUND_MS));
  return benchCase.contenders.map((contender) => ({
    case: benchCase.name,
    contender: contender.name,
    opsPerSecond: median(samples.get(contender.name)!),
    bytesPerOp: benchCase.bytesPerOp,
    unitsPerOp: benchCase.unitsPerOp ?? 1,
    unit: benchCase.unit ?? 'ops',
  }));
}

function rate(result: Result, style: 'GB/s' | 'MB/s' | 'units'): string {
  if (style === 'units') {
    const perSecond = result.opsPerSecond * result.unitsPerOp;
    return perSecond >= 1e6
      ? `${(perSecond / 1e6).toFixed(2)} M ${result.unit}/s`
      : `${(perSecond / 1e3).toFixed(1)} k ${result.unit}/s`;
  }
  const bytes = result.opsPerSecond * result.bytesPerOp;
  return style === 'GB/s' ? `${(bytes / 1e9).toFixed(2)} GB/s` : `${(bytes / 1e6).toFixed(0)} MB/s`;
}

/**
 * Prints one table row per case: each contender's rate, then wsnet's ratio to each other
 * contender (> 1.00 means wsnet is faster).
 */
export function printTable(
  title: string,
  results: Result[],
  style: 'GB/s' | 'MB/s' | 'units',
): void {
  const cases = [...new Set(results.map((r) => r.case))];
  const contenders = [...new Set(results.map((r) => r.contender))];
  const others = contenders.filter((c) => c !== 'wsnet');
  const header = ['case', ...contenders, ...others.map((o) => `wsnet/${o}`)];
  const rows = cases.map((name) => {
    const row = results.filter((r) => r.case === name);
    const wsnet = row.find((r) => r.contender === 'wsnet')!;
    return [
      name,
      ...contenders.map((c) =>
        rate(
          row.find((r) => r.contender === c)!,
          style,
        ),
      ),
      ...others.map(
        (o) =>
          `${(wsnet.opsPerSecond / row.find((r) => r.contender === o)!.opsPerSecond).toFixed(2)}x`,
      ),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}
