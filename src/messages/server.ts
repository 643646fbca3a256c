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
 * HTTP parsing is node:http's, set up by the I/O layer (`io/http-server.ts`, shared with POCO's
 * `HTTPServer`); this module checks the request (RFC 6455 §4.2.1), runs the application's hooks
 * (path, origin, `accept`, subprotocol selection, the connection limit) and has the I/O layer
 * write the 101 or the refusal (`io/upgrade.ts`).
 *
 * No peer can crash it: every socket's errors are handled from the first byte, refusals
 * included, and an error escaping an async 'connection' listener closes that connection with
 * 1011 and is reported on 'handlerError' (a `ConnectionClosedError` there is the normal end of a
 * handler whose peer went away).
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import https from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { asyncDisposeSymbol } from '../io/disposal.js';
import { HttpFront } from '../io/http-server.js';
import { guardSocket } from '../io/guard.js';
import { earlierResponses, writeAcceptance, writeRefusal, type Refusal } from '../io/upgrade.js';
import { CloseCode } from '../protocol/constants.js';
import { InvalidArgumentError, type HandshakeError } from '../protocol/errors.js';
import { toBuffer, type BinaryData } from '../protocol/frame.js';
import { isValidUtf8 } from '../protocol/utf8.js';
import { checkUpgradeRequest, rejectionResponse } from '../protocol/handshake/server.js';
import type { ExtensionOffer } from '../protocol/handshake/headers.js';
import { rawHeaderLookup } from '../protocol/handshake/header-lookup.js';
import {
  CompressionBudget,
  acceptCompression,
  resolveDeflateOption,
  type CompressionAcceptance,
  type PerMessageDeflateOptions,
} from './compression.js';
import {
  BROADCAST_TOPIC,
  LocalAdapter,
  missingAdapterMethod,
  type PubSubAdapter,
  type PubSubHost,
} from './adapter.js';
import {
  HANDLER_FAILED,
  WebSocketConnection,
  checkSettings,
  reportUnhandled,
  type ConnectionSettings,
  type SendOptions,
} from './connection.js';
import {
  Delivery,
  Publication,
  type SlowSubscriberAction,
  type SlowSubscriberPolicy,
} from './fan-out.js';
import { isText } from './text.js';
import { TOPICS, TopicRegistry, checkTopic } from './topics.js';

/** An HTTP answer that refuses a handshake. */
export interface Rejection {
  /** The HTTP status (e.g. 401, 403, 429). */
  readonly status: number;
  /** Extra headers, e.g. `WWW-Authenticate` with a 401. */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** A short plain-text body; the status's reason phrase by default. */
  readonly body?: string;
}

/** What an `accept` hook answers: accept (`true`/nothing), refuse with 403 (`false`), or refuse as given. */
export type AcceptDecision = boolean | undefined | Rejection;

/**
 * What the `accept` and `handleProtocols` hooks of a {@link WebSocketServer} learn about a
 * handshake.
 */
export interface UpgradeContext {
  /** The upgrade request, as node:http parsed it (headers, socket). */
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
  /**
   * Bytes all connections together may hold for permessage-deflate (each is charged the most
   * its histories can reach under what it negotiated). Past it, new connections are accepted
   * without compression. Default 256 MiB.
   */
  readonly maxCompressionMemory?: number;
  /**
   * What `publish()` and `broadcast()` do with a connection that cannot take a message now:
   * `'queue'` (default) within its `maxQueuedBytes`, past which it misses the message; `'skip'`
   * never queues; `'close'` closes (1008) one that would exceed `maxQueuedBytes`. Each miss or
   * close is a `slowSubscriber` event. See {@link SlowSubscriberPolicy}.
   */
  readonly slowSubscriber?: SlowSubscriberPolicy;
  /**
   * Relays publishes to the servers of other processes (e.g. `RedisAdapter` from `wsnet/redis`).
   * Default: none, one process. See {@link PubSubAdapter}.
   */
  readonly adapter?: PubSubAdapter;
}

/** Options of {@link WebSocketServer.publish}: `send()`'s, and a connection to leave out. */
export interface PublishOptions extends SendOptions {
  /** A connection that does not get the message (e.g. the one it came from). */
  readonly exclude?: WebSocketConnection | undefined;
}

/** Options of {@link WebSocketServer.broadcast}: `send()`'s, and which connections get it. */
export interface BroadcastOptions extends SendOptions {
  /**
   * Only the connections for which it returns true get the message. A broadcast with a filter
   * stays in this process (a function cannot be relayed); without one, the adapter relays it.
   */
  readonly filter?: (connection: WebSocketConnection) => boolean;
}

const DEFAULT_MAX_COMPRESSION_MEMORY = 256 * 1024 * 1024;

/** The events of a {@link WebSocketServer}, with their listeners' arguments. */
export interface WebSocketServerEvents {
  /**
   * A handshake was accepted: the new connection, and its upgrade request. An async listener's
   * rejection is caught (see `handlerError`).
   */
  connection: [connection: WebSocketConnection, request: http.IncomingMessage];
  /**
   * A listener of the application failed on a connection (a 'connection' listener threw or its
   * promise rejected, or one of the connection's listeners did): the connection was closed with
   * 1011. Without a listener here, the error goes to the connection's 'error' listeners, else
   * to a process warning.
   */
  handlerError: [error: Error, connection: WebSocketConnection];
  /** A handshake was refused (by the checks or a hook): for logging. */
  rejection: [status: number, request: http.IncomingMessage, error?: Error];
  /** A standalone server listens. */
  listening: [];
  /** A standalone server could not listen, or its listening socket failed. */
  error: [error: Error];
  /** The server is closed (after `close()`): its connections are closed too. */
  close: [];
  /**
   * A connection could not take a published or broadcast message now, and the
   * `slowSubscriber` policy skipped it for this message (`'skipped'`) or closed it with 1008
   * (`'closed'`). `topic` is undefined for a broadcast.
   */
  slowSubscriber: [
    connection: WebSocketConnection,
    action: SlowSubscriberAction,
    topic: string | undefined,
  ];
  /**
   * The adapter failed (it could not relay, reach its broker...). Without a listener, a process
   * warning: an adapter's failure never crashes the process, and local delivery goes on.
   */
  adapterError: [error: Error];
}

const EMPTY = Buffer.alloc(0);

// A ListenerErrorSink, checked where it is handed to each connection: not named in `implements`,
// which the published .d.ts would keep while the interface and member are stripped.
/**
 * A WebSocket server for the message API: each accepted handshake becomes a
 * {@link WebSocketConnection} on the `connection` event. It runs standalone (`{ port }`; prefer
 * `await WebSocketServer.listen({ port })`), attached to an existing `http.Server` (`{ server }`),
 * or by hand (`{ noServer: true }` and {@link WebSocketServer.handleUpgrade} from your own
 * `upgrade` listener). Handshakes are checked strictly (RFC 6455 §4.2.1), then by the options
 * (`path`: 404, `origins`: 403, `maxConnections`: 503) and hooks (`accept`, `handleProtocols`). A
 * peer never crashes the server: an error escaping a `connection` handler closes that connection
 * with 1011 and is emitted as `handlerError`.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'wsnet';
 *
 * const server = await WebSocketServer.listen({
 *   port: 0, // any free port
 *   host: '127.0.0.1',
 *   path: '/chat', // other paths: 404
 *   protocols: ['chat.v1'],
 *   accept: ({ request }) =>
 *     request.headers.authorization === 'Bearer secret' || {
 *       status: 401,
 *       headers: { 'WWW-Authenticate': 'Bearer' },
 *     },
 *   heartbeat: { interval: 30_000, timeout: 10_000 },
 * });
 * server.on('connection', async (connection) => {
 *   for await (const message of connection) await connection.send(message); // echo
 * });
 * server.on('handlerError', (error) => console.error('handler failed', error));
 * console.log(`listening at ${server.url}`);
 * // later: await server.close(); // closes every connection with 1001
 * ```
 */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** The open connections. */
  readonly clients = new Set<WebSocketConnection>();
  readonly #options: ServerOptions;
  /** permessage-deflate settings, or null when this server declines it. */
  readonly #deflate: PerMessageDeflateOptions | null;
  readonly #compressionBudget: CompressionBudget;
  /** What each open compressed connection reserved of the budget, released when it closes. */
  readonly #compressionReserved = new Map<WebSocketConnection, number>();
  /** The HTTP server this server owns (standalone). */
  readonly #front: HttpFront | undefined;
  /** The HTTP server whose upgrades this server handles (standalone or attached). */
  readonly #http: http.Server | https.Server | undefined;
  readonly #secure: boolean;
  /** Standalone: settles once listening (or failing to). */
  readonly #listening: Promise<void> | undefined;
  /** Whoever awaits `#listening` gets its error; else it is emitted as 'error'. */
  #listenAwaited = false;
  /** Handshakes accepted by the checks but still waiting for a hook: they count as connections. */
  #pending = 0;
  #closing: Promise<void> | undefined;
  #onUpgrade: ((request: http.IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  readonly #slowSubscriber: SlowSubscriberPolicy;
  readonly #adapter: PubSubAdapter;
  /** Settles once the adapter is attached; rejects if it could not be. */
  readonly #attached: Promise<void>;
  /** Whoever awaits `#attached` gets its error; else it is emitted as 'adapterError'. */
  #attachAwaited = false;
  readonly #topics = new TopicRegistry({
    first: (topic) => {
      if (this.#closing === undefined) this.#callAdapter('subscribe', topic);
    },
    last: (topic) => {
      if (this.#closing === undefined) this.#callAdapter('unsubscribe', topic);
    },
  });

  /**
   * `{ port }` listens (as ws does: 'listening' once it does, 'error' if it cannot; prefer
   * `await WebSocketServer.listen(...)`, which rejects instead); `{ server }` attaches to an
   * existing HTTP server; `{ noServer: true }` leaves the upgrades to `handleUpgrade`.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) when not exactly one of `port`,
   * `server` and `noServer` is given, or an option or setting is invalid.
   */
  constructor(options: ServerOptions = {}) {
    super({ captureRejections: true });
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
    checkSettings(options);
    this.#deflate = resolveDeflateOption(options.perMessageDeflate, 'server');
    const budget = options.maxCompressionMemory ?? DEFAULT_MAX_COMPRESSION_MEMORY;
    if (!(Number.isSafeInteger(budget) && budget >= 0))
      throw new InvalidArgumentError('INVALID_OPTION', 'maxCompressionMemory must be >= 0');
    this.#compressionBudget = new CompressionBudget(budget);
    const slow: unknown = options.slowSubscriber ?? 'queue';
    if (slow !== 'queue' && slow !== 'skip' && slow !== 'close')
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        `slowSubscriber must be 'queue', 'skip' or 'close', got ${JSON.stringify(slow)}`,
      );
    this.#slowSubscriber = slow;
    const adapter: unknown = options.adapter ?? new LocalAdapter();
    const missing = missingAdapterMethod(adapter);
    if (missing !== undefined)
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        `adapter must be a PubSubAdapter: it has no ${missing}() method`,
      );
    this.#adapter = adapter as PubSubAdapter;
    this.#attached = this.#attach();
    if (options.server !== undefined) {
      this.#http = options.server;
      this.#secure = options.server instanceof https.Server;
    } else if (options.port !== undefined) {
      const handshakeTimeout = options.handshakeTimeout ?? 30_000;
      this.#front = new HttpFront(
        {
          ...(options.tls === undefined ? {} : { tls: options.tls }),
          maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
          headersTimeout: handshakeTimeout,
          requestTimeout: handshakeTimeout,
          listens: true,
        },
        {
          request: refuseOrdinaryRequest,
          upgrade: (request, socket, head) => void this.handleUpgrade(request, socket, head),
        },
      );
      this.#http = this.#front.server;
      this.#secure = options.tls !== undefined;
      this.#listening = this.#front.listen(options.port, options.host);
      this.#listening.then(
        () => {
          this.#http!.on('error', (error) => this.#serverError(error));
          this.emit('listening');
        },
        (error: Error) => {
          if (!this.#listenAwaited) process.nextTick(() => this.emit('error', error));
        },
      );
    } else {
      this.#secure = false;
    }
    if (options.server !== undefined) {
      const server = options.server;
      this.#onUpgrade = (request, socket, head) => {
        // Another WebSocket server on the same HTTP server may want the other paths.
        if (!this.#pathMatches(request) && server.listenerCount('upgrade') > 1) return;
        void this.handleUpgrade(request, socket, head);
      };
      server.on('upgrade', this.#onUpgrade);
    }
  }

  /**
   * Creates a standalone server and resolves once it listens; rejects if it cannot.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`, a rejection) for an invalid option.
   * @throws Node.js's listen error (a rejection), e.g. with `code` `EADDRINUSE`.
   */
  static async listen(options: ServerOptions & { port: number }): Promise<WebSocketServer> {
    const server = new WebSocketServer(options);
    server.#listenAwaited = true;
    server.#attachAwaited = true;
    try {
      await server.#listening;
    } catch (error) {
      await server.#closeAdapter(); // attached already: released, or it would keep the process
      throw error;
    }
    try {
      await server.#attached;
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  /** Bytes charged to the compression budget by the open connections (see `maxCompressionMemory`). */
  get compressionMemory(): number {
    return this.#compressionBudget.used;
  }

  /**
   * The address a standalone or attached server listens on.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) when the server does not listen on TCP
   * (`noServer`, or not listening yet).
   */
  address(): AddressInfo {
    const address = this.#http?.address();
    if (address === null || address === undefined || typeof address === 'string')
      throw new InvalidArgumentError('INVALID_OPTION', 'the server is not listening on TCP');
    return address;
  }

  /**
   * The server's URL, e.g. `ws://127.0.0.1:8080/chat`.
   *
   * @throws {@link InvalidArgumentError} as {@link WebSocketServer.address}.
   */
  get url(): string {
    const { address, family, port } = this.address();
    const host = family === 'IPv6' ? `[${address}]` : address;
    return `${this.#secure ? 'wss' : 'ws'}://${host}:${port}${this.#options.path ?? '/'}`;
  }

  /**
   * Runs the opening handshake on an upgrade request: checks, hooks, then the 101 and a
   * `connection` event; or a refusal. Resolves with the connection, or undefined if refused.
   * Nothing the peer does makes it reject: whatever goes wrong is a refusal (reported on
   * 'rejection'). It rejects only with `InvalidArgumentError` when `socket` is not the request's
   * `net.Socket` (or `tls.TLSSocket`).
   */
  async handleUpgrade(
    request: http.IncomingMessage,
    socket: Duplex,
    head: Buffer = EMPTY,
  ): Promise<WebSocketConnection | undefined> {
    const tcp = asSocket(socket);
    guardSocket(tcp);
    // Frames a client sends right behind its request wait for the connection.
    tcp.pause();
    try {
      // Pipelined requests before this one are answered first, in order.
      const earlier = earlierResponses(tcp);
      if (earlier !== undefined) await earlier;
      return await this.#handshake(request, tcp, head);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#refuse(tcp, request, { status: 500 }, failure);
      return undefined;
    }
  }

  #refuse(socket: Socket, request: http.IncomingMessage, rejection: Rejection, error?: Error) {
    const extra = rejection.headers ?? [];
    writeRefusal(socket, {
      status: rejection.status,
      headers: Array.isArray(extra)
        ? (extra as ReadonlyArray<readonly [string, string]>)
        : Object.entries(extra as Record<string, string>),
      ...(rejection.body === undefined ? {} : { body: rejection.body }),
    } satisfies Refusal);
    try {
      this.emit('rejection', rejection.status, request, error);
    } catch (thrown) {
      process.emitWarning(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
    return undefined;
  }

  async #handshake(
    request: http.IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<WebSocketConnection | undefined> {
    const refuse = (rejection: Rejection, error?: Error) =>
      this.#refuse(socket, request, rejection, error);
    if (socket.destroyed) return undefined;
    if (this.#closing !== undefined)
      return refuse({ status: 503, body: 'The server is shutting down' });
    if (!this.#pathMatches(request)) return refuse({ status: 404 });

    // The few fields read from `rawHeaders` directly: `request.headers` is an object node:http
    // builds on first access (every name lower-cased), left for the application's hooks to pay.
    const headers = rawHeaderLookup(request.rawHeaders);
    const check = checkUpgradeRequest(
      { method: request.method ?? '', httpVersion: request.httpVersion, headers },
      'rfc',
    );
    if (!check.ok) return refuse(handshakeRejection(check.error), check.error);

    const origin = headers('origin') ?? '';
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
      if (this.#closing !== undefined)
        return refuse({ status: 503, body: 'The server is shutting down' });
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

    // permessage-deflate is the one extension wsnet speaks; offers of others are declined, so
    // the client may not use them (RFC 6455 §9.1).
    const compression = this.#negotiateCompression(check.extensions);
    const extensions = compression?.header ?? '';
    writeAcceptance(socket, check.accept, {
      ...(protocol === undefined ? {} : { protocol }),
      ...(compression === null ? {} : { extensions }),
    });
    const connection = WebSocketConnection.create(
      socket,
      'server',
      {
        protocol: protocol ?? '',
        extensions,
        head,
        ...(compression === null ? {} : { deflate: compression.codec }),
      },
      this.#options,
      this,
    );
    this.#track(connection, compression?.codec.maxMemory ?? 0);
    try {
      this.emit('connection', connection, request);
    } catch (error) {
      connection[HANDLER_FAILED](error);
    }
    return connection;
  }

  /**
   * Keeps `connection` in `clients` until it closes (`connectionClosed`), and what its
   * compression reserved of the budget. No listener per connection: a `once('close')` closure
   * and its wrapper were about 300 bytes of each idle connection's heap.
   */
  #track(connection: WebSocketConnection, compressionMemory: number): void {
    this.clients.add(connection);
    if (compressionMemory > 0) this.#compressionReserved.set(connection, compressionMemory);
  }

  /** @internal ListenerErrorSink: `connection` closed (just before its 'close' event). */
  connectionClosed(connection: WebSocketConnection): void {
    this.clients.delete(connection);
    this.#topics.unsubscribeAll(connection);
    const reserved = this.#compressionReserved.get(connection);
    if (reserved === undefined) return;
    this.#compressionReserved.delete(connection);
    this.#compressionBudget.release(reserved);
  }

  /** The first acceptable permessage-deflate offer, if the budget has room for it. */
  #negotiateCompression(offers: readonly ExtensionOffer[]): CompressionAcceptance | null {
    if (this.#deflate === null || offers.length === 0) return null;
    const accepted = acceptCompression(offers, this.#deflate);
    if (accepted === null || !this.#compressionBudget.reserve(accepted.codec.maxMemory))
      return null;
    return accepted;
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

  /** @internal ListenerErrorSink: a listener of the application failed on `connection`. */
  listenerFailed(error: Error, connection: WebSocketConnection): void {
    if (this.listenerCount('handlerError') > 0) {
      try {
        this.emit('handlerError', error, connection);
        return;
      } catch (thrown) {
        error = thrown instanceof Error ? thrown : error;
      }
    }
    reportUnhandled(error, connection);
  }

  /** @internal EventEmitter's `captureRejections`: an async listener of this server rejected. */
  override [EventEmitter.captureRejectionSymbol](
    error: unknown,
    event: unknown,
    ...args: unknown[]
  ): void {
    const connection = args[0];
    if (event === 'connection' && connection instanceof WebSocketConnection) {
      connection[HANDLER_FAILED](error);
      return;
    }
    process.emitWarning(error instanceof Error ? error : new Error(String(error)));
  }

  /** An error of the listening server after it started: 'error' if listened to, else a warning. */
  #serverError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error);
  }

  // --- Topics and broadcast ---

  /** @internal the registry of topics, for the connections' `subscribe()`. */
  get [TOPICS](): TopicRegistry {
    return this.#topics;
  }

  /**
   * Publishes a message to every connection of this server subscribed to `topic` (but
   * `exclude`), and through the adapter to the other servers' subscribers. The message is framed
   * once (text encoded to UTF-8 once) and the same bytes are written to every subscriber; with
   * permessage-deflate, it is compressed once for all the subscribers without server context
   * takeover that share a window, and by each subscriber's own compressor for the others.
   * A subscriber that cannot take it now is handled by the `slowSubscriber` policy. Returns how
   * many connections of this server it was written or queued to.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) for a topic that is not a string of 1
   * to 1024 characters; (`INVALID_UTF8`) for bytes sent as text that are not UTF-8.
   * @throws `TypeError` for data that is neither a string nor bytes.
   */
  publish(topic: string, data: string | BinaryData, options?: PublishOptions): number {
    checkTopic(topic);
    const publication = makePublication(data, options);
    const subscribers = this.#topics.subscribers(topic);
    const delivered =
      subscribers === undefined
        ? 0
        : this.#fanOut(publication, subscribers, topic, options?.exclude, undefined);
    if (this.#closing === undefined)
      this.#callAdapter(
        'publish',
        topic,
        publication.payload,
        publication.binary,
        publication.compress,
      );
    return delivered;
  }

  /**
   * Sends a message to every open connection of this server (or those `filter` accepts), framed
   * once as by {@link WebSocketServer.publish}; without a filter, the adapter relays it to the
   * other servers, whose open connections get it too. Returns how many connections of this
   * server it was written or queued to.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_UTF8`) for bytes sent as text that are not
   * UTF-8.
   * @throws `TypeError` for data that is neither a string nor bytes.
   */
  broadcast(data: string | BinaryData, options?: BroadcastOptions): number {
    const publication = makePublication(data, options);
    const filter = options?.filter;
    const delivered = this.#fanOut(publication, this.clients, undefined, undefined, filter);
    if (filter === undefined && this.#closing === undefined)
      this.#callAdapter(
        'publish',
        BROADCAST_TOPIC,
        publication.payload,
        publication.binary,
        publication.compress,
      );
    return delivered;
  }

  /**
   * How many connections of this server subscribe to `topic` (the adapter's other servers are
   * not counted).
   */
  subscriberCount(topic: string): number {
    return this.#topics.count(topic);
  }

  /** The topics at least one connection of this server subscribes to (a copy). */
  get topics(): string[] {
    return this.#topics.topics();
  }

  /** Writes (or queues) `publication` to each target; how many took it. */
  #fanOut(
    publication: Publication,
    targets: Iterable<WebSocketConnection>,
    topic: string | undefined,
    exclude: WebSocketConnection | undefined,
    filter: ((connection: WebSocketConnection) => boolean) | undefined,
  ): number {
    const policy = this.#slowSubscriber;
    let delivered = 0;
    for (const connection of targets) {
      if (connection === exclude || (filter !== undefined && !filter(connection))) continue;
      const outcome = connection.deliverPublished(publication, policy);
      if (outcome === Delivery.SENT) delivered++;
      else if (outcome === Delivery.SKIPPED) this.#slow(connection, 'skipped', topic);
      else if (outcome === Delivery.CLOSED) this.#slow(connection, 'closed', topic);
    }
    return delivered;
  }

  #slow(connection: WebSocketConnection, action: SlowSubscriberAction, topic: string | undefined) {
    try {
      this.emit('slowSubscriber', connection, action, topic);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // --- The adapter ---

  /** What this server gives its adapter: one object, made once. */
  #host(): PubSubHost {
    return {
      deliver: (topic, payload, binary, compress) =>
        this.#deliverRelayed(topic, payload, binary, compress),
      reportError: (error) => this.#adapterError(error),
    };
  }

  /**
   * Attaches the adapter (now, so that a failure of a synchronous `attach` is the constructor's
   * caller's to see through `listen()`), then subscribes it to the broadcasts.
   */
  #attach(): Promise<void> {
    let result: void | Promise<void>;
    try {
      result = this.#adapter.attach(this.#host());
    } catch (error) {
      result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.#callAdapter('subscribe', BROADCAST_TOPIC);
    const attached = Promise.resolve(result);
    // `listen()` awaits it (and rejects); after `new WebSocketServer()`, nobody does: an event.
    attached.catch((error: unknown) => {
      if (!this.#attachAwaited)
        this.#adapterError(error instanceof Error ? error : new Error(String(error)));
    });
    return attached;
  }

  /** A message another server published: framed once, to this server's subscribers. */
  #deliverRelayed(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined) {
    try {
      if (this.#closing !== undefined) return;
      if (topic !== BROADCAST_TOPIC) checkTopic(topic);
      const bytes = toBuffer(payload);
      if (!binary && !isValidUtf8(bytes))
        throw new InvalidArgumentError('INVALID_UTF8', 'a relayed text message is not UTF-8');
      const publication = new Publication(bytes, binary === true, compress);
      const targets = topic === BROADCAST_TOPIC ? this.clients : this.#topics.subscribers(topic);
      if (targets !== undefined)
        this.#fanOut(
          publication,
          targets,
          topic === BROADCAST_TOPIC ? undefined : topic,
          undefined,
          undefined,
        );
    } catch (error) {
      this.#adapterError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Calls the adapter; what it throws is an 'adapterError', never the caller's. */
  #callAdapter(
    method: 'subscribe' | 'unsubscribe' | 'publish',
    topic: string,
    ...rest: [payload?: Buffer, binary?: boolean, compress?: boolean | undefined]
  ): void {
    try {
      if (method === 'publish') this.#adapter.publish(topic, rest[0]!, rest[1]!, rest[2]);
      else this.#adapter[method](topic);
    } catch (error) {
      this.#adapterError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async #closeAdapter(): Promise<void> {
    try {
      await this.#attached.catch(() => undefined);
      await this.#adapter.close();
    } catch (error) {
      this.#adapterError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** 'adapterError' if listened to, else a process warning: never thrown. */
  #adapterError(error: Error): void {
    if (this.listenerCount('adapterError') > 0) {
      try {
        this.emit('adapterError', error);
        return;
      } catch (thrown) {
        error = thrown instanceof Error ? thrown : error;
      }
    }
    process.emitWarning(error);
  }

  /**
   * Stops accepting connections and closes the open ones with 1001 (going away), waiting for
   * their closing handshakes (each bounded by `closeTimeout`). A standalone server stops
   * listening and drops the connections still in HTTP (a half-sent request included); an
   * attached one is left to its owner.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * `await using server = await WebSocketServer.listen(...)`: `close()` when the block ends, and
   * waits for it (1001 to every open connection, each bounded by `closeTimeout`). On a server
   * already closed (or closing), it waits for that same close. Never rejects.
   */
  async [asyncDisposeSymbol](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    if (this.#options.server !== undefined && this.#onUpgrade !== undefined)
      this.#options.server.off('upgrade', this.#onUpgrade);
    // The adapter stops relaying first: it unsubscribes everything itself, so the topics that
    // the closing connections leave are not unsubscribed one by one.
    const adapterClosed = this.#closeAdapter();
    const closing = [...this.clients].map((client) => client.close(CloseCode.GOING_AWAY, ''));
    let stopped: Promise<void> = Promise.resolve();
    if (this.#front !== undefined) {
      await this.#listening?.catch(() => undefined);
      stopped = this.#front.close();
      this.#front.closeHttpConnections();
    }
    await Promise.allSettled(closing);
    await stopped;
    await adapterClosed;
    this.emit('close');
  }
}

/** A message to publish: `send()`'s rules for its kind, text checked (or encoded) once. */
function makePublication(data: string | BinaryData, options: SendOptions | undefined): Publication {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
  const binary = options?.binary ?? !isText(data);
  if (!binary && typeof data !== 'string' && !isValidUtf8(payload))
    throw new InvalidArgumentError('INVALID_UTF8', 'text is not valid UTF-8 (RFC 6455 §8.1)');
  return new Publication(payload, binary, options?.compress);
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
