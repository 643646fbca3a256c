/**
 * POCO's `HTTPServer`, `HTTPRequestHandlerFactory` and `HTTPRequestHandler`, on node:http.
 *
 * node:http (llhttp) parses every request. Ordinary requests arrive with a `ServerResponse`;
 * upgrade requests (`Upgrade` plus the `upgrade` token in `Connection`) arrive with the bare
 * socket and the bytes read past the head. Both go to the same handler factory, so one server
 * serves pages and WebSockets, as POCO's WebSocketServer sample does. A handler may be async;
 * the connection is the handler's until its promise settles.
 *
 * Where POCO gives each connection a pool thread (16 by default, so 16 open WebSockets at most),
 * Node serves every connection from one event loop: there is no such cap.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { disposeSymbol } from '../io/disposal.js';
import { HttpFront } from '../io/http-server.js';
import type { Listener } from '../io/listener.js';
import { earlierResponses } from '../io/upgrade.js';
import { AssertionViolationException } from './exceptions.js';
import { HTTPMessage, HTTPResponse } from './http-message.js';
import { HTTPServerParams } from './http-server-params.js';
import { HTTPServerRequest } from './http-server-request.js';
import { HTTPServerResponse } from './http-server-response.js';
import { RequestScope, SERVED_BY_HTTP_SERVER } from './internal.js';
import {
  NodeResponseWriter,
  SocketResponseWriter,
  type ResponseWriter,
} from './response-writer.js';
import type { ServerSocket } from './server-socket.js';

/**
 * POCO's `HTTPRequestHandler`: handles one request, ordinary or WebSocket upgrade. It may be async:
 * the connection is the handler's until its promise settles (for a WebSocket made in it, the
 * WebSocket is released then, unless copied).
 */
export interface HTTPRequestHandler {
  /** Handles one request; the response must be sent by the time the promise settles. */
  handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): void | Promise<void>;
}

/** POCO's `HTTPRequestHandlerFactory`: gives an {@link HTTPServer} a handler for each request. */
export interface HTTPRequestHandlerFactory {
  /** A handler for `request`, or null to answer 501 Not Implemented. */
  createRequestHandler(request: HTTPServerRequest): HTTPRequestHandler | null | undefined;
}

/** Called with errors that escape a handler (POCO's `ErrorHandler`); the client got a 500. */
export type HandlerErrorListener = (error: unknown, request: HTTPServerRequest) => void;

/** A served socket keeps the function that forgets it, for the shared 'close' listener. */
const SERVER = Symbol('wsnet.httpServer');
type TrackedSocket = Socket & { [SERVER]?: (socket: Socket) => void };

function untrackOnClose(this: TrackedSocket): void {
  this[SERVER]?.(this);
}

/**
 * POCO's `HTTPServer`: serves HTTP on a bound {@link ServerSocket}, each request (ordinary or
 * WebSocket upgrade) to a handler from the factory, so one server serves pages and WebSockets.
 * node:http parses every request. A handler that throws (or whose promise rejects) gets the client
 * a 500, and the error goes to {@link HTTPServer.setErrorHandler}. Where POCO gives each connection
 * a pool thread, Node.js serves every connection from one event loop: there is no cap of 16 open
 * WebSockets.
 *
 * @example
 * ```ts
 * import {
 *   HTTPServer,
 *   HTTPServerParams,
 *   ServerSocket,
 *   SocketAddress,
 *   type HTTPRequestHandler,
 *   type HTTPServerRequest,
 *   type HTTPServerResponse,
 * } from 'wsnet';
 *
 * class HelloHandler implements HTTPRequestHandler {
 *   handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): void {
 *     response.setContentType('text/plain');
 *     response.sendBuffer(`hello from ${request.getURI()}\n`);
 *   }
 * }
 *
 * const params = new HTTPServerParams();
 * params.setKeepAliveTimeout(5_000_000); // microseconds: 5 s
 * const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0)); // 0: a free port
 * const factory = { createRequestHandler: () => new HelloHandler() };
 * const server = new HTTPServer(factory, socket, params);
 * server.setErrorHandler((error) => console.error('handler failed', error));
 * server.start();
 * console.log(`http://127.0.0.1:${server.port()}/`);
 * // later: server.stopAll(true);
 * ```
 */
export class HTTPServer {
  readonly #factory: HTTPRequestHandlerFactory;
  readonly #socket: ServerSocket;
  readonly #listener: Listener;
  readonly #params: HTTPServerParams;
  readonly #front: HttpFront;
  readonly #connections = new Set<Socket>();
  /** One listener for every connection's 'close' (not a closure per connection). */
  readonly #untrack = (socket: Socket): void => void this.#connections.delete(socket);
  #errorListener: HandlerErrorListener = () => undefined;
  #started = false;
  #stopped = false;
  #totalConnections = 0;
  #maxConcurrentConnections = 0;
  #currentHandlers = 0;

  /**
   * @param factory - makes the handler for each request.
   * @param socket - the bound, listening socket (from {@link ServerSocket.create} or
   * {@link SecureServerSocket.createSecure}); connections that arrive before `start()` wait.
   * @param params - timeouts and keep-alive settings.
   */
  constructor(
    factory: HTTPRequestHandlerFactory,
    socket: ServerSocket,
    params: HTTPServerParams = new HTTPServerParams(),
  ) {
    this.#factory = factory;
    this.#socket = socket;
    this.#listener = socket.listener;
    socket[SERVED_BY_HTTP_SERVER]();
    this.#params = params;
    const timeoutMs = Math.max(1, params.getTimeout().totalMilliseconds());
    // The ServerSocket listens and hands connections over: node:http never listens itself.
    this.#front = new HttpFront(
      {
        headersTimeout: timeoutMs,
        requestTimeout: Math.max(timeoutMs, 300_000),
        keepAliveTimeout: params.getKeepAliveTimeout().totalMilliseconds(),
        maxRequestsPerSocket: params.getMaxKeepAliveRequests(),
        listens: false,
      },
      {
        request: (req, res) => this.#onRequest(req, res),
        upgrade: (req, socket, head) => this.#onUpgrade(req, socket, head),
      },
    );
  }

  /**
   * Starts serving the connections the ServerSocket accepts, those already waiting first.
   *
   * @throws {@link AssertionViolationException} when the server was stopped.
   */
  start(): void {
    if (this.#stopped)
      throw new AssertionViolationException('A stopped HTTPServer cannot be restarted');
    if (this.#started) return;
    this.#started = true;
    this.#listener.consume((socket) => this.#serve(socket));
  }

  /** Stops accepting connections; the ones being served carry on. */
  stop(): void {
    this.#stopped = true;
    this.#socket.close();
    void this.#front.close(); // only clears node:http's timers: it owns no listening socket
  }

  /**
   * Stops accepting connections; with `abortCurrent`, also closes every open connection,
   * WebSockets included (a pending `receiveFrame` then returns 0, as in POCO).
   */
  stopAll(abortCurrent = false): void {
    this.stop();
    if (!abortCurrent) return;
    for (const socket of this.#connections) socket.destroy();
  }

  /**
   * `using server = new HTTPServer(...)`: what POCO's destructor does when the block ends,
   * `stop()`: the server stops listening (its `ServerSocket` closes) and the connections being
   * served carry on. Use `stopAll(true)` to end them too. Never throws.
   */
  [disposeSymbol](): void {
    this.stop();
  }

  /** Receives errors that escaped a handler (after the client got its 500). */
  setErrorHandler(listener: HandlerErrorListener): void {
    this.#errorListener = listener;
  }

  /** The parameters the server was made with. */
  params(): HTTPServerParams {
    return this.#params;
  }

  /** The port the server listens on. */
  port(): number {
    return this.#socket.address().port();
  }

  /** Open connections, upgraded ones included. */
  currentConnections(): number {
    return this.#connections.size;
  }

  /** Connections served since the start. */
  totalConnections(): number {
    return this.#totalConnections;
  }

  /** The most connections open at once since the start. */
  maxConcurrentConnections(): number {
    return this.#maxConcurrentConnections;
  }

  /** Connections accepted and waiting for `start()`. */
  queuedConnections(): number {
    return this.#listener.queued;
  }

  /** Always 0: connections are never refused for lack of threads. */
  refusedConnections(): number {
    return 0;
  }

  /** Handlers running right now (POCO: busy threads). */
  currentThreads(): number {
    return this.#currentHandlers;
  }

  /** 0: no thread pool limits how many connections are served at once. */
  maxThreads(): number {
    return 0;
  }

  #serve(socket: Socket): void {
    if (!this.#connections.has(socket)) {
      this.#connections.add(socket);
      this.#totalConnections++;
      this.#maxConcurrentConnections = Math.max(
        this.#maxConcurrentConnections,
        this.#connections.size,
      );
      socket.on('close', untrackOnClose);
      (socket as TrackedSocket)[SERVER] = this.#untrack;
      socket.setNoDelay(true);
    }
    this.#front.serve(socket);
  }

  #response(writer: ResponseWriter, req: http.IncomingMessage): HTTPServerResponse {
    const version = `HTTP/${req.httpVersion}`;
    const requestKeepAlive = new HTTPMessage(version);
    const connection = req.headers.connection;
    if (connection !== undefined) requestKeepAlive.set(HTTPMessage.CONNECTION, connection);
    const keepAlive =
      this.#params.getKeepAlive() && requestKeepAlive.getKeepAlive() && !this.#stopped;
    return HTTPServerResponse.create(writer, version, keepAlive, this.#params.getSoftwareVersion());
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const response = this.#response(new NodeResponseWriter(res), req);
    const scope = new RequestScope(req.socket, null, this.#params);
    this.#handle(HTTPServerRequest.create(req, response, scope), response, scope, null);
  }

  #onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    // Pipelined requests before this one are answered first (node:http hands the upgrade over
    // while their responses may still be under way): the handler runs after them.
    const earlier = earlierResponses(socket);
    if (earlier !== undefined) {
      socket.pause();
      void earlier.then(() => {
        if (!socket.destroyed) this.#onUpgrade(req, socket, head);
      });
      return;
    }
    const writer = new SocketResponseWriter(socket);
    const response = this.#response(writer, req);
    const scope = new RequestScope(socket, head, this.#params);
    this.#handle(HTTPServerRequest.create(req, response, scope), response, scope, writer);
  }

  /**
   * Runs the handler for one request. Not an async function: a WebSocket handler runs for the
   * connection's whole life, and an async frame here would be kept alive with it.
   */
  #handle(
    request: HTTPServerRequest,
    response: HTTPServerResponse,
    scope: RequestScope,
    upgradeWriter: SocketResponseWriter | null,
  ): void {
    this.#currentHandlers++;
    let outcome: void | Promise<void>;
    try {
      const handler = this.#factory.createRequestHandler(request);
      if (handler === null || handler === undefined) {
        response.sendErrorAndClose(HTTPResponse.HTTP_NOT_IMPLEMENTED);
        this.#settled(request, response, scope, upgradeWriter, undefined, false);
        return;
      }
      outcome = handler.handleRequest(request, response);
    } catch (error) {
      this.#settled(request, response, scope, upgradeWriter, error, true);
      return;
    }
    if (outcome instanceof Promise)
      outcome.then(
        () => this.#settled(request, response, scope, upgradeWriter, undefined, false),
        (error: unknown) => this.#settled(request, response, scope, upgradeWriter, error, true),
      );
    else this.#settled(request, response, scope, upgradeWriter, undefined, false);
  }

  #settled(
    request: HTTPServerRequest,
    response: HTTPServerResponse,
    scope: RequestScope,
    upgradeWriter: SocketResponseWriter | null,
    error: unknown,
    failed: boolean,
  ): void {
    this.#currentHandlers--;
    if (!failed) {
      response.finish();
    } else {
      if (!response.sent()) response.sendErrorAndClose(HTTPResponse.HTTP_INTERNAL_SERVER_ERROR);
      // The head is out and the body cannot be finished: close, so the client sees a cut-off.
      else if (scope.adopted === null) scope.socket.destroy();
      try {
        this.#errorListener(error, request);
      } catch {
        // an error listener that throws must not take the server down
      }
    }
    // The handler's scope ends: release the references its WebSockets held (POCO: the
    // handler's local WebSocket is destroyed, and with its last reference the socket closes).
    scope.releaseAll();
    if (upgradeWriter !== null && scope.adopted === null)
      this.#afterRefusedUpgrade(scope, response, upgradeWriter);
  }

  /**
   * An upgrade request that got an ordinary response (a refused handshake): on a keep-alive
   * connection, hand the socket back to node:http for the next request, with the bytes it had
   * read ahead (POCO keeps the connection too).
   */
  #afterRefusedUpgrade(
    scope: RequestScope,
    response: HTTPServerResponse,
    writer: SocketResponseWriter,
  ): void {
    void writer.finished.then(() => {
      const socket = scope.socket;
      if (!socket.destroyed && !writer.closeAfter && response.getKeepAlive() && !this.#stopped) {
        const head = scope.upgradeHead;
        if (head !== null && head.length > 0) socket.unshift(head);
        this.#serve(socket);
      } else if (!socket.destroyed) {
        socket.end();
      }
    });
  }
}
