/**
 * The result of a `wsnet bench` run: one object with stable field names (printed as it is by
 * --json, and documented in --help), and the text report made from that same object, so that
 * the two can never tell different stories.
 */
import type { Histogram } from './histogram.js';
import type { RunResult } from './load.js';
import type { BenchSettings } from './options.js';

export interface BenchReport {
  url: string;
  settings: {
    connections: number;
    size: number;
    binary: boolean;
    pipeline: number;
    durationMs: number | null;
    count: number | null;
    warmupMs: number;
    deflate: boolean;
  };
  interrupted: boolean;
  /** From the end of the warm-up to the last measured echo. */
  elapsedMs: number;
  connections: {
    opened: number;
    failed: number;
    /** Opened, then closed (by the server or the network) or given up for a missing echo. */
    dropped: number;
    failures: Record<string, number>;
    handshakeMs: { p50: number; p99: number; max: number };
  };
  messages: {
    /** Measured messages sent (after the warm-up). */
    sent: number;
    /** Their echoes received (the mismatched ones included). */
    received: number;
    mismatched: number;
    /** Messages whose echo never came: owed by a connection that closed or stalled. */
    lost: number;
    /** msg/s × mean latency: Little's law; at most connections × pipeline. */
    averageInFlight: number;
  };
  throughput: {
    messagesPerSecond: number;
    /** Payload bytes (10^6 per MB) of the measured messages sent, per second. */
    sentMBps: number;
    /** Payload bytes of their echoes, per second. */
    receivedMBps: number;
  };
  latencyMs: {
    min: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
  };
  errors: { total: number; byKind: Record<string, number> };
  generator: {
    cpuUserMs: number;
    cpuSystemMs: number;
    /** (user + system) / wall time of the measured part; 100 = one core busy all the time. */
    cpuPercent: number;
    /** Share of the measured time the event loop was busy (0-1), null if nothing was measured. */
    eventLoopUtilization: number | null;
  };
}

/** Rounds to 3 decimals (microseconds in ms): enough, and stable output. */
const round = (value: number, digits = 3) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

const ms = (nanoseconds: number) => round(nanoseconds / 1e6);

export function buildReport(settings: BenchSettings, result: RunResult): BenchReport {
  const seconds = result.elapsedMs / 1000;
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  const failed = [...result.connectFailures.values()].reduce((a, b) => a + b, 0);
  const latency = result.latency;
  const cpuMs = (result.cpu.user + result.cpu.system) / 1000;
  const messagesPerSecond = perSecond(result.received);
  return {
    url: settings.url,
    settings: {
      connections: settings.connections,
      size: settings.size,
      binary: settings.binary,
      pipeline: settings.pipeline,
      durationMs: settings.durationMs,
      count: settings.count,
      warmupMs: settings.warmupMs,
      deflate: settings.deflate,
    },
    interrupted: result.interrupted,
    elapsedMs: round(result.elapsedMs),
    connections: {
      opened: result.opened,
      failed,
      dropped: result.dropped,
      failures: Object.fromEntries(result.connectFailures),
      handshakeMs: {
        p50: ms(result.handshakes.percentile(50)),
        p99: ms(result.handshakes.percentile(99)),
        max: ms(result.handshakes.max),
      },
    },
    messages: {
      sent: result.sent,
      received: result.received,
      mismatched: result.mismatched,
      lost: result.lost,
      averageInFlight: round((messagesPerSecond * latency.mean) / 1e9),
    },
    throughput: {
      messagesPerSecond: round(messagesPerSecond, 1),
      sentMBps: round(perSecond(result.sent * settings.size) / 1e6),
      receivedMBps: round(perSecond(result.received * settings.size) / 1e6),
    },
    latencyMs: latencyFigures(latency),
    errors: {
      total: [...result.errors.values()].reduce((a, b) => a + b, 0),
      byKind: Object.fromEntries(result.errors),
    },
    generator: {
      cpuUserMs: round(result.cpu.user / 1000, 1),
      cpuSystemMs: round(result.cpu.system / 1000, 1),
      cpuPercent: result.cpuWindowMs > 0 ? round((100 * cpuMs) / result.cpuWindowMs, 1) : 0,
      eventLoopUtilization: result.eventLoop === null ? null : round(result.eventLoop.utilization),
    },
  };
}

function latencyFigures(latency: Histogram): BenchReport['latencyMs'] {
  return {
    min: ms(latency.min),
    mean: ms(latency.mean),
    p50: ms(latency.percentile(50)),
    p90: ms(latency.percentile(90)),
    p99: ms(latency.percentile(99)),
    p999: ms(latency.percentile(99.9)),
    max: ms(latency.max),
  };
}

/** A duration in ms, in the unit that reads best (µs below 1 ms). */
export function formatMs(value: number): string {
  if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 2 : value < 0.1 ? 1 : 0)} µs`;
  if (value < 1000) return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ms`;
  return `${(value / 1000).toFixed(2)} s`;
}

/** A rate with thousands as k and millions as M. */
export function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

function formatBytes(size: number): string {
  if (size >= 1 << 20 && size % (1 << 20) === 0) return `${size >> 20} MiB`;
  if (size >= 1024 && size % 1024 === 0) return `${size >> 10} KiB`;
  return `${size} B`;
}

/** The text report: one labelled line per subject, figures aligned. */
export function formatReport(report: BenchReport): string {
  const { settings: s, connections: c, messages: m, throughput: t, latencyMs: l } = report;
  const lines: string[] = [];
  const what =
    `${s.connections} connection${s.connections === 1 ? '' : 's'}, ${formatBytes(s.size)} ` +
    `${s.binary ? 'binary' : 'text'}, ${s.pipeline} in flight each, ` +
    (s.count === null ? `${formatMs(s.durationMs ?? 0)}` : `${s.count} messages`) +
    `, warm-up ${formatMs(s.warmupMs)}${s.deflate ? ', permessage-deflate offered' : ''}`;
  lines.push(`wsnet bench ${report.url}`, `  ${what}${report.interrupted ? ' (interrupted)' : ''}`);
  const row = (label: string, text: string) => lines.push(`${label.padEnd(12)}${text}`);
  row(
    'connections',
    `${c.opened} opened, ${c.failed} failed, ${c.dropped} dropped; ` +
      `handshake p50 ${formatMs(c.handshakeMs.p50)}, p99 ${formatMs(c.handshakeMs.p99)}, ` +
      `max ${formatMs(c.handshakeMs.max)}`,
  );
  row(
    'messages',
    `${m.sent} sent, ${m.received} echoed, ${m.mismatched} mismatched, ${m.lost} lost, ` +
      `in ${formatMs(report.elapsedMs)}`,
  );
  row(
    'throughput',
    `${formatRate(t.messagesPerSecond)} msg/s; payload ${t.sentMBps.toFixed(2)} MB/s sent, ` +
      `${t.receivedMBps.toFixed(2)} MB/s received`,
  );
  row(
    'latency',
    `p50 ${formatMs(l.p50)}  p90 ${formatMs(l.p90)}  p99 ${formatMs(l.p99)}  ` +
      `p99.9 ${formatMs(l.p999)}  max ${formatMs(l.max)}  (mean ${formatMs(l.mean)}, min ${formatMs(l.min)})`,
  );
  row(
    'in flight',
    `${m.averageInFlight.toFixed(2)} on average of ${s.connections * s.pipeline} possible ` +
      `(msg/s × mean latency)`,
  );
  const g = report.generator;
  row(
    'generator',
    `CPU ${g.cpuPercent.toFixed(0)} % of one core (user ${formatMs(g.cpuUserMs)}, system ` +
      `${formatMs(g.cpuSystemMs)})` +
      (g.eventLoopUtilization === null
        ? ''
        : `, event loop busy ${(100 * g.eventLoopUtilization).toFixed(0)} %`) +
      (g.cpuPercent >= 90 || (g.eventLoopUtilization ?? 0) >= 0.9
        ? ': the generator may be the bottleneck'
        : ''),
  );
  const kinds = Object.entries(report.errors.byKind);
  if (kinds.length === 0) row('errors', 'none');
  else {
    row('errors', `${report.errors.total}`);
    for (const [kind, count] of kinds) lines.push(`  ${String(count).padStart(8)}  ${kind}`);
  }
  return `${lines.join('\n')}\n`;
}
