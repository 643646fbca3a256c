/**
 * The server side of the message API: accepts WebSocket handshakes and hands out
 * `WebSocketConnection`s.
 *
 * Three ways to run it, as with `ws`:
 * - standalone: `await WebSocketServer.listen({ port, host, path })` owns a `node:http` (or,
 *   with `tls`, `node:https`) server and answers plain HTTP requests with 426;
 * - attached: `new WebSocketServer({ server })` handles the upgrades of an existing server, whose
 *   ordinary requests stay the application's;
 * - by hand: `new WebSocketServer({ noServer: true })`, then
 *   `server.handleUpgrade(request, socket, head)` from the application's own `upgrade` listener
 *   (Express, Fastify...).
 *
 * HTTP parsing is node:http's; this module checks the request (RFC 6455 §4.2.1), runs the
 * application's hooks (path, origin, `accept`, subprotocol selection, the connection limit) and
 * writes the 101 or the refusal on the raw socket.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { WS_ENDPOINT_GOING_AWAY } from '../protocol/constants.js';
import { InvalidArgumentError, type HandshakeError } from '../protocol/errors.js';
import {
  acceptResponseHeaders,
  checkUpgradeRequest,
  rejectionResponse,
} from '../protocol/handshake/server.js';
import { WebSocketConnection, type ConnectionSettings } from './connection.js';

/** An HTTP answer that refuses a handshake. */
export interface Rejection {
  readonly status: number;
  /** Extra headers, e.g. `WWW-Authenticate` with a 401. */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** A short plain-text body; the status's reason phrase by default. */
  readonly body?: string;
}

/** What an `accept` hook answers: accept (`true`/nothing), refuse with 403 (`false`), or refuse as given. */
export type AcceptDecision = boolean | undefined | Rejection;

export interface UpgradeContext {
  readonly request: http.IncomingMessage;
  /** The request's path and query, e.g. `/chat?room=1`. */
  readonly url: string;
  /** The `Origin` header ('' if none): browsers always send it; other clients may not. */
  readonly origin: string;
  /** The subprotocols the client offered, in its order of preference. */
  readonly protocols: readonly string[];
  /** True over TLS. */
  readonly secure: boolean;
}

export interface ServerOptions extends ConnectionSettings {
  /** Standalone: listen on this port (0 for any free one). */
  readonly port?: number;
  /** Standalone: the address to listen on (Node's default: every interface). */
  readonly host?: string;
  /** Standalone over TLS (wss): the `node:https` server options (key, cert...). */
  readonly tls?: tls.TlsOptions;
  /** Attach to this server: its upgrade requests become WebSocket connections. */
  readonly server?: http.Server | https.Server;
  /** Neither listen nor attach: the application calls `handleUpgrade`. */
  readonly noServer?: boolean;
  /** Accept only this path (the query is ignored); other paths get 404. */
  readonly path?: string;
  /** Accept only these `Origin` values (exact, case-insensitive); others get 403. */
  readonly origins?: readonly string[];
  /**
   * Decides whether a handshake that passed the protocol checks is accepted: authentication,
   * rate limits, anything. May be async. Throwing refuses with 500.
   */
  readonly accept?: (context: UpgradeContext) => AcceptDecision | Promise<AcceptDecision>;
  /**
   * Selects one of the offered subprotocols (or none: `undefined`). Without it, a server that
   * lists `protocols` picks the first offered one it supports.
   */
  readonly handleProtocols?: (
    offered: readonly string[],
    context: UpgradeContext,
  ) => string | undefined;
  /** Subprotocols this server speaks, in its order of preference. */
  readonly protocols?: readonly string[];
  /** Refuse (503) handshakes beyond this many open connections. Default: no limit. */
  readonly maxConnections?: number;
  /** Largest request head, bytes (node:http's `maxHeaderSize`; standalone only). Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** How long a handshake request may take to arrive (standalone only). Default 30 s. */
  readonly handshakeTimeout?: number;
}

export interface WebSocketServerEvents {
  connection: [connection: WebSocketConnection, request: http.IncomingMessage];
  /** A handshake was refused (by the checks or a hook): for logging. */
  rejection: [status: number, request: http.IncomingMessage, error?: Error];
  listening: [];
  error: [error: Error];
  close: [];
}

const STATUS_TEXT = http.STATUS_CODES;

export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** The open connections. */
  readonly clients = new Set<WebSocketConnection>();
  readonly #options: ServerOptions;
  readonly #http: http.Server | https.Server | undefined;
  readonly #ownsServer: boolean;
  readonly #secure: boolean;
  /** Handshakes accepted by the checks but still waiting for a hook: they count as connections. */
  #pending = 0;
  #closing = false;
  #onUpgrade: ((request: http.IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;

  constructor(options: ServerOptions = {}) {
    super();
    this.#options = options;
    const modes =
      Number(options.port !== undefined) +
      Number(options.server !== undefined) +
      Number(options.noServer === true);
    if (modes !== 1)
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        'give exactly one of `port` (standalone), `server` (attach) or `noServer: true`',
      );
    if (options.maxConnections !== undefined && !(options.maxConnections >= 0))
      throw new InvalidArgumentError('INVALID_OPTION', 'maxConnections must be >= 0');
    if (options.server !== undefined) {
      this.#http = options.server;
      this.#ownsServer = false;
      this.#secure = options.server instanceof https.Server;
    } else if (options.port !== undefined) {
      const handshakeTimeout = options.handshakeTimeout ?? 30_000;
      const serverOptions: http.ServerOptions = {
        maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
        headersTimeout: handshakeTimeout,
        requestTimeout: handshakeTimeout,
        // node:http checks those timeouts every 30 s by default: too coarse for a short one.
        connectionsCheckingInterval: Math.min(30_000, Math.max(100, handshakeTimeout / 4)),
      };
      this.#http =
        options.tls === undefined
          ? http.createServer(serverOptions)
          : https.createServer({ ...serverOptions, ...options.tls });
      this.#ownsServer = true;
      this.#secure = options.tls !== undefined;
      this.#http.on('request', refuseOrdinaryRequest);
      this.#http.on('error', (error) => this.emit('error', error));
      this.#http.on('clientError', onClientError);
    } else {
      this.#http = undefined;
      this.#ownsServer = false;
      this.#secure = false;
    }
    if (this.#http !== undefined) {
      const server = this.#http;
      this.#onUpgrade = (request, socket, head) => {
        // Another WebSocket server on the same HTTP server may want the other paths.
        if (!this.#pathMatches(request) && server.listenerCount('upgrade') > 1) return;
        void this.handleUpgrade(request, socket, head);
      };
      server.on('upgrade', this.#onUpgrade);
    }
  }

  /** Creates a standalone server and resolves once it listens. */
  static async listen(options: ServerOptions & { port: number }): Promise<WebSocketServer> {
    const server = new WebSocketServer(options);
    await server.#listen();
    return server;
  }

  /** The address a standalone or attached server listens on. */
  address(): AddressInfo {
    const address = this.#http?.address();
    if (address === null || address === undefined || typeof address === 'string')
      throw new InvalidArgumentError('INVALID_OPTION', 'the server is not listening on TCP');
    return address;
  }

  /** The server's URL, e.g. `ws://127.0.0.1:8080/chat`. */
  get url(): string {
    const { address, family, port } = this.address();
    const host = family === 'IPv6' ? `[${address}]` : address;
    return `${this.#secure ? 'wss' : 'ws'}://${host}:${port}${this.#options.path ?? '/'}`;
  }

  #listen(): Promise<void> {
    const server = this.#http!;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        this.emit('listening');
        resolve();
      });
    });
  }

  /**
   * Runs the opening handshake on an upgrade request: checks, hooks, then the 101 and a
   * `connection` event; or a refusal. Resolves with the connection, or undefined if refused.
   */
  async handleUpgrade(
    request: http.IncomingMessage,
    socket: Duplex,
    head: Buffer = Buffer.alloc(0),
  ): Promise<WebSocketConnection | undefined> {
    const tcp = asSocket(socket);
    // Frames a client sends right behind its request must wait for the connection; a socket
    // error during the handshake is the handshake's failure, not the process's.
    tcp.pause();
    const onError = () => tcp.destroy();
    tcp.on('error', onError);
    try {
      return await this.#handshake(request, tcp, head);
    } finally {
      tcp.off('error', onError);
    }
  }

  async #handshake(
    request: http.IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<WebSocketConnection | undefined> {
    const refuse = (rejection: Rejection, error?: Error) => {
      writeRejection(socket, rejection);
      this.emit('rejection', rejection.status, request, error);
      return undefined;
    };
    if (this.#closing) return refuse({ status: 503, body: 'The server is shutting down' });
    if (!this.#pathMatches(request)) return refuse({ status: 404 });

    const check = checkUpgradeRequest(
      { method: request.method ?? '', httpVersion: request.httpVersion, headers: request.headers },
      'rfc',
    );
    if (!check.ok) return refuse(handshakeRejection(check.error), check.error);

    const origin = request.headers.origin ?? '';
    const allowed = this.#options.origins;
    if (allowed !== undefined && !allowed.some((o) => o.toLowerCase() === origin.toLowerCase()))
      return refuse({ status: 403, body: 'Origin not allowed' });

    const limit = this.#options.maxConnections;
    if (limit !== undefined && this.clients.size + this.#pending >= limit)
      return refuse({ status: 503, body: 'Too many connections' });

    const context: UpgradeContext = {
      request,
      url: request.url ?? '/',
      origin,
      protocols: check.protocols,
      secure: 'encrypted' in socket && socket.encrypted === true,
    };
    const hook = this.#options.accept;
    if (hook !== undefined) {
      this.#pending++;
      let decision: AcceptDecision;
      try {
        decision = await hook(context);
      } catch (error) {
        return refuse({ status: 500 }, error instanceof Error ? error : new Error(String(error)));
      } finally {
        this.#pending--;
      }
      if (decision === false) return refuse({ status: 403 });
      if (typeof decision === 'object') return refuse(decision);
      if (socket.destroyed) return undefined;
      if (this.#closing) return refuse({ status: 503, body: 'The server is shutting down' });
    }

    let protocol: string | undefined;
    try {
      protocol = this.#selectProtocol(check.protocols, context);
    } catch (error) {
      return refuse({ status: 500 }, error instanceof Error ? error : new Error(String(error)));
    }
    if (protocol !== undefined && !check.protocols.includes(protocol)) {
      const error = new InvalidArgumentError(
        'INVALID_OPTION',
        `handleProtocols chose ${JSON.stringify(protocol)}, which the client did not offer`,
      );
      return refuse({ status: 500 }, error);
    }

    // Extensions are not negotiated yet (permessage-deflate is a later step): none is accepted,
    // so RSV bits stay reserved and the client must not use any it offered (RFC 6455 §9.1).
    const headers = acceptResponseHeaders(check.accept, protocol === undefined ? {} : { protocol });
    socket.write(formatHead(101, headers));
    const connection = new WebSocketConnection(
      socket,
      'server',
      { protocol: protocol ?? '', extensions: '', head },
      this.#options,
    );
    this.#track(connection);
    this.emit('connection', connection, request);
    return connection;
  }

  /**
   * Keeps `connection` in `clients` until it closes. A method of its own so that the listener
   * closes over the connection alone: made in `#handshake`, it would share that function's
   * context, and keep the request (its headers, the upgrade context) alive as long as the
   * connection (about 1 KiB per connection).
   */
  #track(connection: WebSocketConnection): void {
    this.clients.add(connection);
    connection.once('close', () => this.clients.delete(connection));
  }

  #pathMatches(request: http.IncomingMessage): boolean {
    const path = this.#options.path;
    if (path === undefined) return true;
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  #selectProtocol(offered: readonly string[], context: UpgradeContext): string | undefined {
    if (this.#options.handleProtocols !== undefined)
      return this.#options.handleProtocols(offered, context);
    const supported = this.#options.protocols;
    if (supported === undefined) return undefined;
    // The client lists them "ordered by preference" (RFC 6455 §4.1): its first that we speak.
    return offered.find((protocol) => supported.includes(protocol));
  }

  /**
   * Stops accepting connections and closes the open ones with 1001 (going away), waiting for
   * their closing handshakes (each bounded by `closeTimeout`). A standalone server stops
   * listening; an attached one is left to its owner.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#http !== undefined && this.#onUpgrade !== undefined)
      this.#http.off('upgrade', this.#onUpgrade);
    const closing = [...this.clients].map((client) => client.close(WS_ENDPOINT_GOING_AWAY, ''));
    const stopped =
      this.#ownsServer && this.#http!.listening
        ? new Promise<void>((resolve) => this.#http!.close(() => resolve()))
        : Promise.resolve();
    if (this.#ownsServer) this.#http!.closeIdleConnections();
    await Promise.allSettled(closing);
    await stopped;
    this.emit('close');
  }
}

/** node:http hands upgrades over as a `Duplex`; in fact it is a `net.Socket` or `tls.TLSSocket`. */
function asSocket(socket: Duplex): Socket {
  if (socket instanceof Socket) return socket;
  throw new InvalidArgumentError(
    'INVALID_OPTION',
    'handleUpgrade needs the net.Socket (or tls.TLSSocket) of the upgrade request',
  );
}

function handshakeRejection(error: HandshakeError): Rejection {
  const { status, headers } = rejectionResponse(error);
  return { status, headers, body: error.message };
}

/** Plain HTTP requests to a standalone WebSocket server. */
function refuseOrdinaryRequest(_request: http.IncomingMessage, response: http.ServerResponse) {
  const body = 'This is a WebSocket endpoint: connect with the WebSocket protocol.\n';
  response.writeHead(426, {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Malformed HTTP, a head over `maxHeaderSize`, a request too slow to arrive: the status node:http
 * itself would send without a listener, if the socket can still take it.
 */
function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}

function formatHead(status: number, headers: ReadonlyArray<readonly [string, string]>): string {
  let head = `HTTP/1.1 ${status} ${status === 101 ? 'Switching Protocols' : (STATUS_TEXT[status] ?? 'Unknown')}\r\n`;
  for (const [name, value] of headers) {
    // Header values come from the application too: refuse CR/LF rather than split the response.
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

function writeRejection(socket: Socket, rejection: Rejection): void {
  if (socket.destroyed) return;
  const status =
    Number.isInteger(rejection.status) && rejection.status >= 400 && rejection.status <= 599
      ? rejection.status
      : 500;
  const body = Buffer.from(rejection.body ?? `${STATUS_TEXT[status] ?? 'Refused'}\n`, 'utf8');
  const extra = rejection.headers ?? [];
  const headers: Array<readonly [string, string]> = [
    ...(Array.isArray(extra)
      ? (extra as ReadonlyArray<readonly [string, string]>)
      : Object.entries(extra as Record<string, string>)),
    ['Connection', 'close'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
  ];
  let head: string;
  try {
    head = formatHead(status, headers);
  } catch {
    head = formatHead(500, [
      ['Connection', 'close'],
      ['Content-Length', '0'],
    ]);
    socket.end(head);
    return;
  }
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  // A client that never reads its refusal must not hold the socket: end() waits for the FIN's
  // delivery, destroySoon-style; give it a bounded time.
  const timer = setTimeout(() => socket.destroy(), 10_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
