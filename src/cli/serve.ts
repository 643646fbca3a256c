/**
 * `wsnet serve`: a WebSocket server on a port, for demos, tests and glue: echo (the default),
 * broadcast (a chat), or a program per connection (`--exec`, as websocketd does), with static
 * files beside it and TLS if asked. Built on the message API alone, as a user would write it.
 */
import type http from 'node:http';
import type { RunningProgram } from './serve/exec.js';
import type { WebSocketConnection } from '../messages/index.js';
import { durationOption, integerOption, parseCommandLine, sizeOption, usageError } from './args.js';
import { ExitCode } from './exit-codes.js';
import { startProgram } from './serve/exec.js';
import { readPemFiles, startServer, type PemFiles } from './serve/listen.js';
import { ServerLog } from './serve/log.js';
import { broadcast, echo } from './serve/modes.js';
import { staticRoot } from './serve/static-files.js';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const DEFAULT_GRACE = 2000;
/** How long a closing handshake may take (the message API's default `closeTimeout`). */
const CLOSE_TIMEOUT = 5000;

export const SERVE_USAGE = `Usage: wsnet serve [--echo | --broadcast | --exec CMD] [options]

A WebSocket server on a port: it echoes each message (the default), broadcasts it to every
client, or runs a program for each connection. Prints 'listening on URL' on stdout once it
listens, and a line per connection opened and closed on stderr. Ctrl-C (SIGINT) or SIGTERM
closes every connection with 1001 (going away) and exits 0; a second one does not wait.

Modes (one of):
      --echo                 send each message back to its sender, text as text, binary as
                             binary (the default)
      --broadcast            send each message to every connected client, the sender included
                             (so that every client sees the same order): a chat for demos;
                             a client too slow to keep up is closed with 1013
      --exclude-sender       with --broadcast: not back to the sender
      --exec CMD             run CMD (with /bin/sh -c) for each connection, as websocketd does:
                             each message received is a line on its stdin (a newline is added;
                             binary messages are written as their bytes), each line of its
                             stdout is a text message (binary if the line is not UTF-8), its
                             stderr goes to this stderr, each line prefixed with the connection's
                             number. Its exit closes the connection: 1000 after exit status 0,
                             1011 otherwise. The connection's close ends it: its stdin is
                             closed, then SIGTERM after --grace, then SIGKILL after as long
                             again (to its process group). Its output is paused while the
                             client reads slowly. Its environment has REMOTE_ADDR, REMOTE_PORT,
                             REQUEST_URI and QUERY_STRING (and WEBSOCKET_PROTOCOL if one was
                             agreed). Many programs hold their output back when it is a pipe:
                             make them write each line at once (python3 -u, sed -u,
                             stdbuf -oL CMD)
      --grace DURATION       with --exec: how long a program may take to exit after its
                             connection closed, before each signal (default 2s)

Server:
  -p, --port N               the port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
      --host ADDRESS         the address to listen on (default ${DEFAULT_HOST}: this machine only;
                             0.0.0.0 or :: exposes the server to the whole network)
      --path /PATH           accept WebSocket handshakes on this path only (others get 404);
                             default: any path
      --static DIR           serve the files in DIR to plain HTTP GET and HEAD requests on the
                             same port (index.html for a directory; nothing outside DIR, no
                             names starting with a dot); without it, plain requests get 426
      --key FILE             with --cert: TLS (wss:// and https://) with this PEM private key
      --cert FILE            ... and this PEM certificate (chain)
      --origin ORIGIN        accept only handshakes with this Origin header, e.g.
                             https://example.com (repeatable; default: any)
      --subprotocol NAME     a subprotocol this server speaks (repeatable): the client's first
                             offer among them is agreed; clients offering none still connect
      --deflate              accept permessage-deflate compression
      --no-deflate           decline it (the default: compression costs CPU on every message)
      --max-message SIZE     the largest message accepted, e.g. 1M (default 64M); a larger one
                             closes the connection with 1009. With --exec, also the longest
                             line of the program's output
      --max-connections N    refuse handshakes (503) beyond N open connections (default: no
                             limit)
  -q, --quiet                no line per connection on stderr
  -h, --help                 this help

Examples:
  wsnet serve                                      echo on ws://127.0.0.1:${DEFAULT_PORT}/
  wsnet serve --port 0 --broadcast                 a chat on a free port
  wsnet serve --exec 'stdbuf -oL tr a-z A-Z'       each connection talks to its own tr
  wsnet serve --exec ./count.sh --path /count      websocketd's counter example
  wsnet serve --static ./public --path /ws         a page and its WebSocket on one port
  wsnet serve --key key.pem --cert cert.pem        wss:// (and https:// with --static)
  wsnet serve --host 0.0.0.0 --port 9000           reachable from other machines

Exit status: 0 after SIGINT/SIGTERM, 2 bad options, 6 the port is in use or a file (key,
certificate, --static directory) cannot be read.
`;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  echo: { type: 'boolean' },
  broadcast: { type: 'boolean' },
  'exclude-sender': { type: 'boolean' },
  exec: { type: 'string' },
  grace: { type: 'string' },
  static: { type: 'string' },
  path: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  origin: { type: 'string', multiple: true },
  subprotocol: { type: 'string', multiple: true },
  deflate: { type: 'boolean' },
  'no-deflate': { type: 'boolean' },
  'max-message': { type: 'string' },
  'max-connections': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

type Mode =
  | { readonly name: 'echo' }
  | { readonly name: 'broadcast'; readonly excludeSender: boolean }
  | { readonly name: 'exec'; readonly command: string; readonly graceMs: number };

interface ServeConfig {
  readonly mode: Mode;
  readonly port: number;
  readonly host: string;
  readonly path?: string;
  readonly staticDir?: string;
  readonly tlsFiles?: { readonly key: string; readonly cert: string };
  readonly origins?: readonly string[];
  readonly protocols?: readonly string[];
  readonly deflate: boolean;
  readonly maxMessage: number;
  readonly maxConnections?: number;
  readonly quiet: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The command line as a checked configuration; bad usage throws (exit 2). */
function readConfig(argv: readonly string[]): ServeConfig | undefined {
  const parsed = parseCommandLine(argv, OPTIONS, SERVE_USAGE);
  if (parsed.help) return undefined;
  const { values, positionals } = parsed;
  const fail = (message: string) => usageError(message, SERVE_USAGE);
  if (positionals.length > 0)
    throw fail(`'serve' takes no arguments, only options: '${positionals[0]}'`);

  const modes = [
    values.echo && '--echo',
    values.broadcast && '--broadcast',
    values.exec !== undefined && '--exec',
  ].filter((mode) => typeof mode === 'string');
  if (modes.length > 1) throw fail(`choose one mode, not ${modes.join(' and ')}`);
  if (values['exclude-sender'] === true && values.broadcast !== true)
    throw fail('--exclude-sender goes with --broadcast');
  if (values.grace !== undefined && values.exec === undefined)
    throw fail('--grace goes with --exec');
  if (values.exec !== undefined && values.exec.trim() === '')
    throw fail('--exec needs a command, e.g. --exec cat');
  const mode: Mode =
    values.exec !== undefined
      ? {
          name: 'exec',
          command: values.exec,
          graceMs: durationOption(values.grace, 'grace', DEFAULT_GRACE),
        }
      : values.broadcast === true
        ? { name: 'broadcast', excludeSender: values['exclude-sender'] === true }
        : { name: 'echo' };

  if (values.deflate === true && values['no-deflate'] === true)
    throw fail('--deflate and --no-deflate contradict each other');
  if ((values.key === undefined) !== (values.cert === undefined))
    throw fail('TLS needs both --key and --cert');
  if (values.path !== undefined && !/^\/[^?#\s]*$/.test(values.path))
    throw fail(`--path must be a path starting with '/' (no query), not '${values.path}'`);
  if (values.host !== undefined && values.host.trim() === '')
    throw fail('--host needs an address, e.g. 127.0.0.1 or 0.0.0.0');
  if (values.static !== undefined && values.static === '') throw fail('--static needs a directory');
  for (const protocol of values.subprotocol ?? [])
    if (!TOKEN.test(protocol))
      throw fail(`--subprotocol must be a token (letters, digits, -._...), not '${protocol}'`);
  for (const origin of values.origin ?? [])
    if (origin.trim() === '') throw fail('--origin needs a value, e.g. https://example.com');
  const maxMessage = sizeOption(values['max-message'], 'max-message', DEFAULT_MAX_MESSAGE);
  if (maxMessage < 1) throw fail('--max-message must be at least 1 byte');

  return {
    mode,
    port: integerOption(values.port, 'port', DEFAULT_PORT, { max: 65535 }),
    host: values.host ?? DEFAULT_HOST,
    ...(values.path === undefined ? {} : { path: values.path }),
    ...(values.static === undefined ? {} : { staticDir: values.static }),
    ...(values.key === undefined || values.cert === undefined
      ? {}
      : { tlsFiles: { key: values.key, cert: values.cert } }),
    ...(values.origin === undefined ? {} : { origins: values.origin }),
    ...(values.subprotocol === undefined ? {} : { protocols: values.subprotocol }),
    deflate: values.deflate === true,
    maxMessage,
    ...(values['max-connections'] === undefined
      ? {}
      : {
          maxConnections: integerOption(values['max-connections'], 'max-connections', 0, {
            min: 1,
          }),
        }),
    quiet: values.quiet === true,
  };
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const config = readConfig(argv);
  if (config === undefined) {
    process.stdout.write(SERVE_USAGE);
    return ExitCode.OK;
  }
  // Every file first: a missing certificate is reported before anything listens.
  const tls: PemFiles | undefined =
    config.tlsFiles === undefined
      ? undefined
      : await readPemFiles(config.tlsFiles.key, config.tlsFiles.cert);
  const root = config.staticDir === undefined ? undefined : await staticRoot(config.staticDir);
  const log = new ServerLog(config.quiet);

  const server = await startServer({
    port: config.port,
    host: config.host,
    ...(tls === undefined ? {} : { tls }),
    ...(root === undefined ? {} : { staticRoot: root }),
    webSocket: {
      ...(config.path === undefined ? {} : { path: config.path }),
      ...(config.origins === undefined ? {} : { origins: config.origins }),
      ...(config.protocols === undefined ? {} : { protocols: config.protocols }),
      ...(config.maxConnections === undefined ? {} : { maxConnections: config.maxConnections }),
      perMessageDeflate: config.deflate,
      maxMessageSize: config.maxMessage,
      closeTimeout: CLOSE_TIMEOUT,
    },
  });
  const { webSocket } = server;
  const programs = new Set<RunningProgram>();
  const handlers = new Set<Promise<void>>();
  const { mode, maxMessage } = config;
  /** Runs the mode on one connection; resolves once it is over (program included). */
  const handle = (
    connection: WebSocketConnection,
    request: http.IncomingMessage,
    id: number,
  ): Promise<void> => {
    switch (mode.name) {
      case 'echo':
        return echo(connection);
      case 'broadcast':
        return broadcast(connection, webSocket, { excludeSender: mode.excludeSender, log });
      case 'exec': {
        const program = startProgram(connection, request, id, {
          command: mode.command,
          graceMs: mode.graceMs,
          maxLineBytes: maxMessage,
          log,
        });
        programs.add(program);
        return program.finished.then(() => void programs.delete(program));
      }
    }
  };
  webSocket.on('connection', (connection, request) => {
    const handled = handle(connection, request, log.opened(connection, request));
    handlers.add(handled);
    void handled.then(() => handlers.delete(handled));
  });
  webSocket.on('rejection', (status, request, error) => log.refused(status, request, error));
  webSocket.on('handlerError', (error, connection) =>
    log.notice(`#${log.idOf(connection)} internal error: ${error.stack ?? error.message}`),
  );
  webSocket.on('error', (error) => log.notice(`server error: ${error.message}`));

  const files = server.filesUrl === undefined ? '' : ` (files from ${root} on ${server.filesUrl})`;
  process.stdout.write(`listening on ${webSocket.url}${files}\n`);

  const first = nextSignal();
  const signal = await first.received;
  log.info(
    `${signal}: closing ${webSocket.clients.size} connection(s) with 1001 (going away); again to stop at once`,
  );
  const graceMs = config.mode.name === 'exec' ? config.mode.graceMs : 0;
  const finished = server.close().then(() => Promise.all(handlers));
  const second = nextSignal();
  const cutShort = await Promise.race([
    finished.then(() => false),
    // A second signal, or the bound: closing handshakes, then programs' grace and SIGTERM.
    Promise.race([second.received, delay(CLOSE_TIMEOUT + 2 * graceMs + 1000)]).then(() => true),
  ]);
  second.stop();
  if (cutShort) {
    log.notice('not waiting any longer: dropping the connections, killing the programs');
    for (const connection of webSocket.clients) connection.terminate();
    for (const program of programs) program.kill();
    await Promise.race([finished, delay(1000)]);
  }
  return ExitCode.OK;
}

/**
 * The next SIGINT or SIGTERM: while it is awaited (until it comes or `stop()`), they do not end
 * the process.
 */
function nextSignal(): { received: Promise<NodeJS.Signals>; stop(): void } {
  let stop!: () => void;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const listener = (signal: NodeJS.Signals) => {
      stop();
      resolve(signal);
    };
    stop = () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
  });
  return { received, stop };
}

/** A timer that does not hold the process open by itself. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
