/**
 * `wsnet bench`'s command line: the options, their checks and defaults, and the help text (which
 * says what each reported figure means, and the JSON fields).
 */
import { readFileSync } from 'node:fs';
import type { ConnectOptions } from '../../messages/index.js';
import {
  credentialsOption,
  durationOption,
  headerOptions,
  integerOption,
  parseCommandLine,
  proxyOption,
  sizeOption,
  usageError,
} from '../args.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { webSocketUrl } from '../url.js';

export const BENCH_USAGE = `Usage: wsnet bench URL [options]

Load-tests a WebSocket echo server (wsnet's or any other): opens the connections, sends
messages and times each one's echo, then prints throughput, latency percentiles and errors.
The server must echo every message as it came, in order, on the same connection.

Load:
  -c, --connections N     connections (default 10)
  -s, --size BYTES        message size, e.g. 32, 4k, 1M (default 32; at least 1)
      --binary            send binary messages (default: text, ASCII)
  -p, --pipeline K        messages in flight per connection (default 1: send, wait for the
                          echo, send the next)
  -d, --duration TIME     measure for this long, e.g. 10s, 2m (default 10s)
  -n, --count N           measure exactly N messages (all connections together) instead
      --warmup TIME       load before measuring, not counted (default 1s; 0 for none)
      --timeout TIME      an echo missing for this long fails its connection (default 10s)

Connection:
  -H, --header 'Name: value'  request header (repeatable)
      --subprotocol NAME  subprotocol to offer (repeatable; as wsnet connect's -s, which is
                          --size here)
  -o, --origin ORIGIN     the Origin header
      --auth USER:PASSWORD  credentials for a server that answers 401 (Basic or Digest)
      --proxy URL         go through a proxy: http://[USER:PASSWORD@]HOST:PORT (a CONNECT
                          tunnel; https:// for TLS to it), socks5://[USER:PASSWORD@]HOST:PORT, socks5h://..., or env
                          (the proxy that https_proxy, http_proxy, all_proxy, no_proxy name)
      --deflate           offer permessage-deflate (default: not offered, so that the figures
                          measure the server's WebSocket path, not zlib)
      --ca FILE           trust this CA certificate (PEM) for wss://
  -k, --insecure          do not verify the server's certificate (wss://)
      --handshake-timeout TIME  per connection (default 10s)

Output:
      --json              print one JSON object at the end instead of the text report
  -h, --help              this help

What is measured:
  Every message carries its sequence number and connection index in its first 16 bytes (the
  rest is a fixed ASCII pattern); an echo that is not exactly the message sent, or comes when
  none is awaited, counts as an error. Latency is the time from handing a message to the
  message API to receiving its echo, for messages sent after the warm-up. The generator sends
  the next message as soon as an echo returns (closed loop), so a slow server slows the
  sending down: latencies are those of the messages actually sent, not of a fixed schedule
  (no correction for coordinated omission). Percentiles are within 0.4 % of the exact sample
  (log-linear histogram); mean and max are exact. msg/s is echoes received / elapsed, where
  elapsed runs from the end of the warm-up to the last echo. MB/s counts payload bytes
  (10^6 bytes), each way. "in flight" is msg/s × mean latency against connections ×
  pipeline: well below it means the generator, not the server, sets the pace, as does a
  generator CPU near 100 % of one core.

JSON fields:
  url, settings {connections, size, binary, pipeline, durationMs, count, warmupMs, deflate},
  interrupted, elapsedMs,
  connections {opened, failed, dropped, failures {reason: count}, handshakeMs {p50, p99, max}},
  messages {sent, received, mismatched, lost, averageInFlight},
  throughput {messagesPerSecond, sentMBps, receivedMBps},
  latencyMs {min, mean, p50, p90, p99, p999, max},
  errors {total, byKind {kind: count}},
  generator {cpuUserMs, cpuSystemMs, cpuPercent, eventLoopUtilization}

Exit status: 0 no errors; 1 some message or connection failed (the report is printed);
2 usage; 3 the first connection's handshake was refused; 4 it could not reach the server;
5 its handshake timed out; 6 --ca could not be read. Ctrl-C stops early and reports what ran.
`;

/** What a run is asked to do. */
export interface BenchSettings {
  /** The URL as given (the report shows it so). */
  readonly url: string;
  /** The URL, parsed: what failures name. */
  readonly target: URL;
  /** --proxy, if given (failure hints mention it). */
  readonly proxy: string | undefined;
  readonly connections: number;
  readonly size: number;
  readonly binary: boolean;
  readonly pipeline: number;
  /** Measured time, or null when `count` is set. */
  readonly durationMs: number | null;
  /** Measured messages, or null when `durationMs` is set. */
  readonly count: number | null;
  readonly warmupMs: number;
  readonly replyTimeoutMs: number;
  readonly deflate: boolean;
  readonly json: boolean;
  /** What each `connect()` is given. */
  readonly connectOptions: ConnectOptions;
}

const OPTIONS = {
  connections: { type: 'string', short: 'c' },
  size: { type: 'string', short: 's' },
  binary: { type: 'boolean' },
  pipeline: { type: 'string', short: 'p' },
  duration: { type: 'string', short: 'd' },
  count: { type: 'string', short: 'n' },
  warmup: { type: 'string' },
  timeout: { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  subprotocol: { type: 'string', multiple: true },
  origin: { type: 'string', short: 'o' },
  auth: { type: 'string' },
  proxy: { type: 'string' },
  deflate: { type: 'boolean' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  'handshake-timeout': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Message buffers the generator may hold (connections × pipeline × size). */
const MAX_PAYLOAD_MEMORY = 1 << 30;
const MAX_MESSAGE_SIZE = 64 << 20;
const DEFAULT_MAX_QUEUED_BYTES = 16 << 20;

/** Parses the arguments; null when --help was asked (the help is printed). */
export function parseBenchArguments(argv: readonly string[]): BenchSettings | null {
  const parsed = parseCommandLine(argv, OPTIONS, BENCH_USAGE);
  if (parsed.help) return null;
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw usageError(
      positionals.length === 0
        ? 'the server URL is missing'
        : `one URL only, not ${positionals.join(' ')}`,
      BENCH_USAGE,
    );
  const url = positionals[0];
  const target = webSocketUrl(url, BENCH_USAGE);

  const connections = integerOption(values.connections, 'connections', 10, {
    min: 1,
    max: 100_000,
  });
  const size = sizeOption(values.size, 'size', 32, MAX_MESSAGE_SIZE);
  if (size < 1) throw new CliError('--size must be at least 1 byte', ExitCode.USAGE);
  const pipeline = integerOption(values.pipeline, 'pipeline', 1, { min: 1, max: 100_000 });
  if (connections * pipeline * size > MAX_PAYLOAD_MEMORY)
    throw new CliError(
      `--connections × --pipeline × --size is ${connections * pipeline * size} bytes of messages ` +
        `in flight; at most ${MAX_PAYLOAD_MEMORY} (1 GiB)`,
      ExitCode.USAGE,
    );
  if (values.duration !== undefined && values.count !== undefined)
    throw usageError('--duration and --count exclude each other', BENCH_USAGE);
  const count =
    values.count === undefined ? null : integerOption(values.count, 'count', 0, { min: 1 });
  const durationMs = count !== null ? null : durationOption(values.duration, 'duration', 10_000);
  if (durationMs !== null && durationMs < 1)
    throw new CliError('--duration must be longer than 0', ExitCode.USAGE);
  const warmupMs = durationOption(values.warmup, 'warmup', 1000);
  const replyTimeoutMs = durationOption(values.timeout, 'timeout', 10_000);
  const handshakeTimeout = durationOption(values['handshake-timeout'], 'handshake-timeout', 10_000);
  if (replyTimeoutMs < 1 || handshakeTimeout < 1)
    throw new CliError('--timeout and --handshake-timeout must be longer than 0', ExitCode.USAGE);

  const headers = headerOptions(values.header);
  const deflate = values.deflate === true;
  const secure = target.protocol === 'wss:';
  const credentials = credentialsOption(values.auth, BENCH_USAGE);
  const proxy = proxyOption(values.proxy, BENCH_USAGE);
  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca, 'utf8');
    } catch (error) {
      throw new CliError(
        `cannot read --ca ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        ExitCode.LOCAL,
      );
    }
  }
  const connectOptions: ConnectOptions = {
    headers,
    protocols: values.subprotocol ?? [],
    ...(values.origin === undefined ? {} : { origin: values.origin }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(proxy === undefined ? {} : { proxy }),
    handshakeTimeout,
    perMessageDeflate: deflate,
    maxMessageSize: Math.max(size, MAX_MESSAGE_SIZE),
    // Room for every message in flight even if the socket is congested: a full send queue
    // would be the generator's failure, not the server's.
    maxQueuedBytes: Math.max(DEFAULT_MAX_QUEUED_BYTES, 2 * pipeline * size),
    closeTimeout: 2000,
    ...(secure
      ? {
          tls: {
            ...(ca === undefined ? {} : { ca }),
            ...(values.insecure === true ? { rejectUnauthorized: false } : {}),
          },
        }
      : {}),
  };
  return {
    url,
    target,
    proxy,
    connections,
    size,
    binary: values.binary === true,
    pipeline,
    durationMs,
    count,
    warmupMs,
    replyTimeoutMs,
    deflate,
    json: values.json === true,
    connectOptions,
  };
}
