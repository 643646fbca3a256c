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
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Listener } from '../io/listener.js';
import { AssertionViolationException } from './exceptions.js';
import { HTTPMessage, HTTPResponse } from './http-message.js';
import { HTTPServerParams } from './http-server-params.js';
import { HTTPServerRequest } from './http-server-request.js';
import { HTTPServerResponse } from './http-server-response.js';
import { EXCHANGE, type Exchange } from './internal.js';
import {
  NodeResponseWriter,
  SocketResponseWriter,
  type ResponseWriter,
} from './response-writer.js';
import type { ServerSocket } from './server-socket.js';

export interface HTTPRequestHandler {
  /** Handles one request; the response must be sent by the time the promise settles. */
  handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): void | Promise<void>;
}

export interface HTTPRequestHandlerFactory {
  /** A handler for `request`, or null to answer 501 Not Implemented. */
  createRequestHandler(request: HTTPServerRequest): HTTPRequestHandler | null | undefined;
}

/** Called with errors that escape a handler (POCO's `ErrorHandler`); the client got a 500. */
export type HandlerErrorListener = (error: unknown, request: HTTPServerRequest) => void;

interface Retainable {
  retain(): void;
  release(): void;
}

export class HTTPServer {
  readonly #factory: HTTPRequestHandlerFactory;
  readonly #socket: ServerSocket;
  readonly #listener: Listener;
  readonly #params: HTTPServerParams;
  readonly #http: http.Server;
  readonly #connections = new Set<Socket>();
  #errorListener: HandlerErrorListener = () => undefined;
  #started = false;
  #stopped = false;
  #totalConnections = 0;
  #maxConcurrentConnections = 0;
  #currentHandlers = 0;

  constructor(
    factory: HTTPRequestHandlerFactory,
    socket: ServerSocket,
    params: HTTPServerParams = new HTTPServerParams(),
  ) {
    this.#factory = factory;
    this.#socket = socket;
    this.#listener = socket.listener;
    this.#params = params;
    const timeoutMs = Math.max(1, params.getTimeout().totalMilliseconds());
    this.#http = http.createServer({
      // Check timeouts often enough for short POCO timeouts (node:http's default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(timeoutMs / 4))),
    });
    this.#http.headersTimeout = timeoutMs;
    this.#http.requestTimeout = Math.max(timeoutMs, 300_000);
    this.#http.keepAliveTimeout = params.getKeepAliveTimeout().totalMilliseconds();
    this.#http.maxRequestsPerSocket = params.getMaxKeepAliveRequests();
    this.#http.on('request', (req, res) => this.#onRequest(req, res));
    // node:http checks headersTimeout/requestTimeout from a timer it starts on 'listening'. This
    // server never listens itself (the ServerSocket does and hands connections over), so start
    // that timer the same way; stop() clears it through close().
    this.#http.emit('listening');
    this.#http.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
  }

  /** Starts serving the connections the ServerSocket accepts, those already waiting first. */
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
    this.#http.close(); // only clears node:http's timers: it owns no listening socket
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

  /** Receives errors that escaped a handler (after the client got its 500). */
  setErrorHandler(listener: HandlerErrorListener): void {
    this.#errorListener = listener;
  }

  params(): HTTPServerParams {
    return this.#params;
  }

  port(): number {
    return this.#socket.address().port();
  }

  /** Open connections, upgraded ones included. */
  currentConnections(): number {
    return this.#connections.size;
  }

  totalConnections(): number {
    return this.#totalConnections;
  }

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
      socket.once('close', () => this.#connections.delete(socket));
      socket.setNoDelay(true);
    }
    this.#http.emit('connection', socket);
  }

  #exchange(socket: Socket, upgradeHead: Buffer | null, adopted: Retainable[]): Exchange {
    return {
      socket,
      upgradeHead,
      params: this.#params,
      adopt: (impl) => {
        impl.retain();
        adopted.push(impl);
      },
    };
  }

  #response(writer: ResponseWriter, req: http.IncomingMessage): HTTPServerResponse {
    const version = `HTTP/${req.httpVersion}`;
    const requestKeepAlive = new HTTPMessage(version);
    const connection = req.headers.connection;
    if (connection !== undefined) requestKeepAlive.set(HTTPMessage.CONNECTION, connection);
    const keepAlive =
      this.#params.getKeepAlive() && requestKeepAlive.getKeepAlive() && !this.#stopped;
    return new HTTPServerResponse(writer, version, keepAlive, this.#params.getSoftwareVersion());
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const adopted: Retainable[] = [];
    const response = this.#response(new NodeResponseWriter(res), req);
    const request = new HTTPServerRequest(req, response, this.#exchange(req.socket, null, adopted));
    void this.#handle(request, response, adopted);
  }

  #onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const adopted: Retainable[] = [];
    const writer = new SocketResponseWriter(socket);
    const response = this.#response(writer, req);
    const request = new HTTPServerRequest(req, response, this.#exchange(socket, head, adopted));
    socket.on('error', () => undefined); // errors reach whoever owns the socket next
    void this.#handle(request, response, adopted).then(async () => {
      if (adopted.length > 0) return; // a WebSocket owns the connection now
      await writer.finished;
      // A refused handshake on a keep-alive connection: hand the socket back to node:http for
      // the next request, with the bytes it had read ahead (POCO keeps the connection too).
      if (!socket.destroyed && !writer.closeAfter && response.getKeepAlive() && !this.#stopped) {
        if (head.length > 0) socket.unshift(head);
        this.#serve(socket);
      } else if (!socket.destroyed) {
        socket.end();
      }
    });
  }

  async #handle(
    request: HTTPServerRequest,
    response: HTTPServerResponse,
    adopted: Retainable[],
  ): Promise<void> {
    this.#currentHandlers++;
    try {
      const handler = this.#factory.createRequestHandler(request);
      if (handler === null || handler === undefined) {
        response.sendErrorAndClose(HTTPResponse.HTTP_NOT_IMPLEMENTED);
        return;
      }
      await handler.handleRequest(request, response);
      response.finish();
    } catch (error) {
      if (!response.sent()) response.sendErrorAndClose(HTTPResponse.HTTP_INTERNAL_SERVER_ERROR);
      // The head is out and the body cannot be finished: close, so the client sees a cut-off.
      else if (adopted.length === 0) request[EXCHANGE].socket.destroy();
      try {
        this.#errorListener(error, request);
      } catch {
        // an error listener that throws must not take the server down
      }
    } finally {
      this.#currentHandlers--;
      // The handler's scope ends: release the references its WebSockets held (POCO: the
      // handler's local WebSocket is destroyed, and with its last reference the socket closes).
      for (const impl of adopted) impl.release();
    }
  }
}
