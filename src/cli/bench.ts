/**
 * `wsnet bench URL`: a load generator for any WebSocket echo server. Parses the options
 * (bench/options.ts), opens the connections and runs the load (bench/load.ts) with a progress
 * line on a terminal (bench/progress.ts), then prints the report (bench/report.ts) as text or
 * JSON. Exit status: 0 without errors, 1 with some (the report is printed all the same), and
 * 2/3/4/5 when not even the first connection opens (as `wsnet connect` would, with its hint).
 */
import { LoadRun } from './bench/load.js';
import { BENCH_USAGE, parseBenchArguments } from './bench/options.js';
import { ProgressLine } from './bench/progress.js';
import { buildReport, formatReport } from './bench/report.js';
import { ExitCode } from './exit-codes.js';

export async function runBench(argv: readonly string[]): Promise<number> {
  const settings = parseBenchArguments(argv);
  if (settings === null) {
    process.stdout.write(BENCH_USAGE);
    return ExitCode.OK;
  }
  const run = new LoadRun(settings);
  const progress = new ProgressLine();
  // Ctrl-C ends the run early, with its report; a second one stops waiting for echoes.
  const onInterrupt = () => run.interrupt();
  process.on('SIGINT', onInterrupt);
  try {
    await run.open();
    const result = await run.run((snapshot) => progress.update(snapshot));
    progress.clear();
    const report = buildReport(settings, result);
    process.stdout.write(
      settings.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
    );
    return report.errors.total === 0 ? ExitCode.OK : ExitCode.ABNORMAL_CLOSE;
  } finally {
    progress.clear();
    process.off('SIGINT', onInterrupt);
    await run.close();
  }
}
