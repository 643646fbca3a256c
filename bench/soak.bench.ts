/**
 * `npm run bench -- soak` (opt-in, not in the default run; 10 minutes by default): 10,000
 * churning connections against wsnet's message-API echo server with its heartbeat on, faults
 * injected, every echo checked, the server's memory and handles sampled; prints the samples and
 * the verdict, and exits 1 if a criterion failed. See bench/soak/soak.ts for the criteria.
 * Each client process lets 100 handshakes be in flight at once (the rest wait their turn), so
 * the churn rate is what the machine can do, and is reported, not asserted.
 * Options: `--duration 10m`, `--connections 10000`, `--sample 5s`, `--faults 0.2`, `--think
 * 500-3000` (ms between a connection's messages: longer keeps more connections open at once).
 */
import os from 'node:os';
import { countOption, durationOption, option } from './soak/args.js';
import { runSoak } from './soak/soak.js';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function soakSuite(): Promise<void> {
  const connections = countOption('connections', 10_000);
  const durationMs = durationOption('duration', 600_000);
  const sampleMs = durationOption('sample', 5000);
  const faultRate = Number(option('faults') ?? 0.2);
  const think = /^(\d+)-(\d+)$/.exec(option('think') ?? '500-3000');
  if (think === null || Number(think[1]) > Number(think[2]))
    throw new Error('--think must be a range of milliseconds, as 500-3000');
  const thinkMs: [number, number] = [Number(think[1]), Number(think[2])];
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error('--faults must be from 0 to 1');
  const [load1] = os.loadavg();
  console.log(
    `\nSoak: ${connections} connections for ${durationMs / 1000} s, each: connect, 2-6 echoes of ` +
      `1 B-4 KiB (${thinkMs[0]}-${thinkMs[1]} ms apart), then a normal close, or (${faultRate * 100} %) a client ` +
      `reset or a drop mid-frame; heartbeat 5 s (load average ${load1.toFixed(1)} at the start)\n`,
  );
  console.log(
    '|   time | open | handles | RSS | heap used | connections | echoes verified | resets | drops | failures |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const result = await runSoak({
    connections,
    durationMs,
    sampleMs,
    faultRate,
    thinkMs,
    onSample: (sample, clients) =>
      console.log(
        `| ${(sample.at / 1000).toFixed(0).padStart(5)} s | ${sample.connections} | ${sample.handles} | ` +
          `${mib(sample.rss)} | ${mib(sample.heapUsed)} | ${clients.connections} | ` +
          `${clients.messages} | ${clients.resets} | ${clients.drops} | ${clients.failures} |`,
      ),
  });
  const { clients, final } = result;
  const [load1End] = os.loadavg();
  console.log(
    `\nSoak result (${(durationMs / 1000).toFixed(0)} s, ${connections} connections, load average ` +
      `${load1End.toFixed(1)} at the end):\n` +
      `  connections: ${clients.connections} (closed normally ${clients.closedNormally}, reset ` +
      `${clients.resets}, dropped mid-frame ${clients.drops}); echoes verified byte for byte: ` +
      `${clients.messages} (${mib(clients.bytes)}); heartbeat pings answered: ${clients.pings}; over the run: ` +
      `${((clients.connections * 1000) / durationMs).toFixed(0)} connections/s, ` +
      `${((clients.messages * 1000) / durationMs).toFixed(0)} echoes/s\n` +
      `  client failures: ${clients.failures}; server close codes ${JSON.stringify(final.closeCodes)}, ` +
      `errors ${JSON.stringify(final.errors)}, unexpected ${final.unexpected.length}\n` +
      `  after warm-up (${result.options.warmupMs / 1000} s), first third → last third: RSS ` +
      `${mib(result.rss.first)} → ${mib(result.rss.last)}, heap used ${mib(result.heap.first)} → ` +
      `${mib(result.heap.last)} (allowed: +${result.options.margin * 100} % or ` +
      `+${mib(result.options.slackBytes)})\n` +
      `  handles: ${result.baselineHandles} before the first client, ${result.handlesAfter} after ` +
      `the last left\n` +
      `  verdict: ${result.problems.length === 0 ? 'PASS (no leak, no unexpected error)' : `FAIL: ${result.problems.join('; ')}`}`,
  );
  if (result.problems.length > 0) process.exitCode = 1;
}
