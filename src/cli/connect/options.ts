/**
 * `wsnet connect`'s command line: the usage text, the option table, and the checked plan the
 * rest of the command runs (the URL, the `connect()` options, and how to run the session).
 */
import { readFile } from 'node:fs/promises';
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
import type { BinaryFormat } from './format.js';

export const CONNECT_USAGE = `Usage: wsnet connect [options] URL

Connects to the WebSocket server at URL (ws:// or wss://).

On a terminal (stdin and stdout both a TTY, and neither --execute nor --json given) the session
is interactive: type a line to send it as a text message; messages are shown as they come,
marked and timed ('< 12:00:01.123 hello' received, '> 12:00:01.120 hello' sent). Commands:
  /ping [data]            send a ping and show the round-trip time
  /binary HEX             send a binary message given in hex (spaces allowed)
  /file PATH              send a file's bytes as one binary message
  /close [code] [reason]  close with that code (default 1000) and reason, and exit
  /quit                   close normally (1000) and exit; Ctrl-D does the same
  /help                   list the commands
  //text                  send a text message that starts with '/'
Ctrl-C closes the connection normally (1000); a second Ctrl-C drops it and exits.

Otherwise (a pipe, a file, --execute) each line of stdin (UTF-8) is sent as a text message, and
each message received is written to stdout on a line of its own: text as it is, binary in hex
(or base64, --binary-format). Text containing newlines spans lines: use --json to tell messages
apart. At the end of stdin wsnet waits until every line was sent, waits --wait for replies,
closes normally (1000) and waits for the server's close (at most --close-timeout). The server
may close first: that ends the session too. The close (code and reason) is written to stderr.
Ctrl-C (SIGINT) closes normally (1000), SIGTERM with 1001 (going away); a second one drops the
connection.

Options:
  -H, --header 'NAME: VALUE'  add a request header (repeatable)
  -s, --subprotocol NAME      offer a subprotocol (repeatable, in order of preference)
  -o, --origin ORIGIN         send this Origin header, as a browser would
      --auth USER:PASSWORD    credentials for a server that answers 401 (Basic or Digest);
                              ws://USER:PASSWORD@HOST/ in the URL works too
      --proxy URL             go through a proxy: http://[USER:PASSWORD@]HOST:PORT (a CONNECT
                              tunnel; a 407 is answered with the user info, Basic or Digest;
                              https:// for TLS to the proxy, checked with --ca or -k),
                              socks5://[USER:PASSWORD@]HOST:PORT (socks5h:// for the proxy to
                              resolve the host name), or env: the proxy that https_proxy,
                              http_proxy, all_proxy and no_proxy name for the URL
  -L, --location              follow redirects (301, 302, 303, 307, 308) of the handshake,
                              never from wss:// to ws://; credentials go to the first host only
      --max-redirects N       follow at most N redirects (default 10; implies --location)
      --ca FILE               trust the certificate authorities in FILE (PEM) for wss://
  -k, --insecure              do not verify the server's TLS certificate
      --handshake-timeout T   give up if the handshake takes longer (default 30s)
      --close-timeout T       wait at most this long for the server's close (default 5s)
  -x, --execute MESSAGE       send MESSAGE as text (repeatable, in order), wait --wait, close;
                              stdin is not read
  -w, --wait T                after stdin ends or --execute's messages are sent, wait this long
                              for replies before closing (default 1s: a server stops answering
                              once it has our close); the server closing ends the wait sooner
      --json                  write one JSON record per line (NDJSON) instead:
                              {"type":"text"|"binary","size":BYTES,"time":ISO-8601,"data":...}
                              (binary data in hex or base64, named by "encoding"), and at the end
                              {"type":"close","time":...,"code":N,"reason":"...","wasClean":B}
      --binary-format hex|base64  how binary messages are written (default hex)
      --deflate, --no-deflate offer permessage-deflate compression or not (default: offered)
      --max-message SIZE      largest message accepted, e.g. 64k, 16M (default 64M); a larger
                              one closes the connection with 1009
  -h, --help                  this text

Durations (T): 500ms, 10s, 2m, or a number of seconds.

Examples:
  wsnet connect ws://localhost:8080/chat
  echo '{"op":"subscribe"}' | wsnet connect --json wss://stream.example/ws | jq .data
  wsnet connect -x hello -x world -w 2s ws://localhost:8080/
  wsnet connect -H 'Authorization: Bearer TOKEN' -s chat.v2 wss://example.com/socket
  wsnet connect --ca ca.pem --proxy http://proxy:3128 wss://internal.example/ws
  wsnet connect -L --proxy env wss://example.com/moved

Exit status: 0 the connection closed normally (1000, 1001, or a close without a code), whoever
closed it; 1 it closed with another code, or dropped (1006); 2 bad usage; 3 the server refused
the handshake (an HTTP status other than 101); 4 network, TLS or proxy error; 5 no handshake
within --handshake-timeout; 6 a local file (--ca) could not be read.
`;

const OPTIONS = {
  header: { type: 'string', short: 'H', multiple: true },
  subprotocol: { type: 'string', short: 's', multiple: true },
  origin: { type: 'string', short: 'o' },
  auth: { type: 'string' },
  proxy: { type: 'string' },
  location: { type: 'boolean', short: 'L' },
  'max-redirects': { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  'handshake-timeout': { type: 'string' },
  'close-timeout': { type: 'string' },
  execute: { type: 'string', short: 'x', multiple: true },
  wait: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
  'binary-format': { type: 'string' },
  deflate: { type: 'boolean' },
  'no-deflate': { type: 'boolean' },
  'max-message': { type: 'string' },
} as const;

/**
 * How long to wait for replies after the last message was sent. Not 0: a server answers our
 * close at once and sends nothing after it, so replies to the last lines would race the close.
 */
const DEFAULT_WAIT_MS = 1000;

/** What `wsnet connect` was asked to do. */
export interface ConnectPlan {
  readonly url: URL;
  /** The `connect()` options, but for the CA file, which `loadCertificateAuthorities` reads. */
  readonly options: ConnectOptions;
  readonly caFile: string | undefined;
  readonly proxy: string | undefined;
  /** Messages to send instead of reading stdin. */
  readonly execute: readonly string[];
  readonly waitMs: number;
  readonly json: boolean;
  readonly binaryFormat: BinaryFormat;
}

/** Parses `wsnet connect`'s arguments; `help` when --help was asked for. */
export function parseConnectArguments(argv: readonly string[]): ConnectPlan | 'help' {
  const parsed = parseCommandLine(argv, OPTIONS, CONNECT_USAGE);
  if (parsed.help) return 'help';
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw usageError(
      positionals.length === 0
        ? 'the URL to connect to is missing'
        : `one URL is expected, not ${positionals.length}: ${positionals.join(' ')}`,
      CONNECT_USAGE,
    );
  const url = webSocketUrl(positionals[0], CONNECT_USAGE);
  if (values.deflate === true && values['no-deflate'] === true)
    throw usageError('give --deflate or --no-deflate, not both', CONNECT_USAGE);
  const binaryFormat = values['binary-format'] ?? 'hex';
  if (binaryFormat !== 'hex' && binaryFormat !== 'base64')
    throw usageError(`--binary-format must be hex or base64, not '${binaryFormat}'`, CONNECT_USAGE);
  const proxy = proxyOption(values.proxy, CONNECT_USAGE);
  const credentials = credentialsOption(values.auth, CONNECT_USAGE);
  const options: ConnectOptions = {
    headers: headerOptions(values.header),
    protocols: values.subprotocol ?? [],
    ...(values.origin === undefined ? {} : { origin: values.origin }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(proxy === undefined ? {} : { proxy }),
    ...redirectOptions(values.location, values['max-redirects']),
    ...(values.insecure === true ? { tls: { rejectUnauthorized: false } } : {}),
    handshakeTimeout: durationOption(values['handshake-timeout'], 'handshake-timeout', 30_000),
    closeTimeout: durationOption(values['close-timeout'], 'close-timeout', 5000),
    perMessageDeflate: values['no-deflate'] !== true,
    maxMessageSize: sizeOption(values['max-message'], 'max-message', 64 << 20, 2 ** 31),
  };
  return {
    url,
    options,
    caFile: values.ca,
    proxy,
    execute: values.execute ?? [],
    waitMs: durationOption(values.wait, 'wait', DEFAULT_WAIT_MS),
    json: values.json === true,
    binaryFormat,
  };
}

/** -L and --max-redirects as `connect()`'s `followRedirects` and `maxRedirects`. */
function redirectOptions(
  location: boolean | undefined,
  maxRedirects: string | undefined,
): Pick<ConnectOptions, 'followRedirects' | 'maxRedirects'> {
  if (maxRedirects === undefined) return location === true ? { followRedirects: true } : {};
  return {
    followRedirects: true,
    maxRedirects: integerOption(maxRedirects, 'max-redirects', 10, { max: 1000 }),
  };
}

/** `plan`'s `connect()` options with --ca's certificates read in (a file that cannot be read: exit 6). */
export async function withCertificateAuthorities(plan: ConnectPlan): Promise<ConnectOptions> {
  if (plan.caFile === undefined) return plan.options;
  let ca: Buffer;
  try {
    ca = await readFile(plan.caFile);
  } catch (error) {
    throw new CliError(
      `cannot read --ca ${plan.caFile}: ${(error as Error).message}`,
      ExitCode.LOCAL,
      'give the path of a PEM file holding the certificate authority',
    );
  }
  return { ...plan.options, tls: { ...plan.options.tls, ca } };
}
