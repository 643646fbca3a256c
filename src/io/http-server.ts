/**
 * The HTTP side of a WebSocket server, on node:http (llhttp parses every request), set up once
 * for both servers (the message API's `WebSocketServer` and POCO's `HTTPServer`):
 * - timeouts for request heads, checked often enough for short ones (node:http checks every
 *   30 s by default);
 * - malformed requests, heads over the size limit and requests too slow to arrive get the
 *   status node:http itself would send (400, 431, 408), then the connection is closed;
 * - every socket's errors are handled from the moment it is accepted (a reset never crashes);
 * - the sockets still speaking HTTP are tracked, so that closing the server can drop them: a
 *   client that sent half a request must not hold a closing server open (node:http stops its
 *   timeout checks when it closes). An upgraded socket leaves the set: it is a WebSocket's.
 */
import type { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import { guardSocket } from './guard.js';
import { endWithin } from './upgrade.js';

export interface HttpServerOptions {
  /** TLS (https) when present. */
  readonly tls?: tls.TlsOptions;
  /** Largest request head, bytes (node:http's default is 16 KiB). */
  readonly maxHeaderSize?: number;
  /** How long a request head may take to arrive, ms. */
  readonly headersTimeout: number;
  /** How long a whole request may take to arrive, ms. */
  readonly requestTimeout: number;
  /** How long a kept-alive connection may wait for its next request, ms. */
  readonly keepAliveTimeout?: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  readonly maxRequestsPerSocket?: number;
  /**
   * False when the sockets come from elsewhere (POCO's `ServerSocket` accepts them and hands
   * them to `serve`): the server never listens itself.
   */
  readonly listens: boolean;
}

export interface HttpHandlers {
  request(request: http.IncomingMessage, response: http.ServerResponse): void;
  /** The socket no longer speaks HTTP; `head` is what was read past the request's head. */
  upgrade(request: http.IncomingMessage, socket: Socket, head: Buffer): void;
}

export class HttpFront {
  readonly server: http.Server;
  /** Accepted sockets that still speak HTTP (not upgraded). */
  readonly #httpSockets = new Set<Socket>();
  /** One 'close' listener for every socket of this server, not a closure per socket. */
  readonly #untrack: (this: Socket) => void;

  constructor(options: HttpServerOptions, handlers: HttpHandlers) {
    const sockets = this.#httpSockets;
    this.#untrack = function (this: Socket) {
      sockets.delete(this);
    };
    const serverOptions: http.ServerOptions = {
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      // node:http checks those timeouts every 30 s by default: too coarse for a short one.
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(30_000, Math.floor(Math.min(options.headersTimeout, options.requestTimeout) / 4)),
      ),
      ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }),
      ...(options.keepAliveTimeout === undefined
        ? {}
        : { keepAliveTimeout: options.keepAliveTimeout }),
    };
    const server =
      options.tls === undefined
        ? http.createServer(serverOptions)
        : https.createServer({ ...serverOptions, ...options.tls });
    if (options.maxRequestsPerSocket !== undefined)
      server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    this.server = server;
    // Over TLS, 'connection' gives the TCP socket (tracked: destroying it ends the TLS socket
    // on it) and 'secureConnection' the TLS socket that speaks HTTP (and is upgraded).
    server.on('connection', (socket: Socket) => this.#track(socket));
    server.on('secureConnection', guardSocket);
    server.on('tlsClientError', () => undefined); // a failed TLS handshake: the socket is gone
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      handlers.request(request, response),
    );
    server.on('upgrade', (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      guardSocket(socket);
      this.#forget(socket);
      const tcp = (socket as Socket & { _parent?: Socket | null })._parent; // under TLS
      if (tcp !== undefined && tcp !== null) this.#forget(tcp);
      handlers.upgrade(request, socket, head);
    });
    server.on('clientError', answerClientError);
    // node:http checks headersTimeout/requestTimeout from a timer it starts on 'listening'. A
    // server that never listens itself starts it the same way; close() clears it.
    if (!options.listens) server.emit('listening');
  }

  /** Listens; resolves once listening, rejects if it cannot (EADDRINUSE...). */
  listen(port: number, host?: string): Promise<void> {
    const server = this.server;
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        resolve();
      });
    });
  }

  /** Serves a socket accepted elsewhere (a POCO `ServerSocket`'s). */
  serve(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** The sockets that still speak HTTP. */
  get httpConnections(): number {
    return this.#httpSockets.size;
  }

  /**
   * Drops every connection still speaking HTTP: half-sent requests, idle kept-alive
   * connections, requests being answered. Upgraded connections are not touched.
   */
  closeHttpConnections(): void {
    for (const socket of this.#httpSockets) socket.destroy();
    this.#httpSockets.clear();
  }

  /**
   * Stops listening (and node:http's timers). Resolves once every connection it accepted has
   * closed, upgraded ones included (node:http's `close()`): drop the HTTP ones with
   * `closeHttpConnections()`, close the WebSockets, then await this.
   */
  close(): Promise<void> {
    const server = this.server;
    if (!server.listening) {
      server.close(); // clears the timeout checks of a server that never listened
      return Promise.resolve();
    }
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** The socket left HTTP (upgraded): it is a WebSocket's now. */
  #forget(socket: Socket): void {
    if (this.#httpSockets.delete(socket)) socket.off('close', this.#untrack);
  }

  #track(socket: Socket): void {
    guardSocket(socket);
    // A socket can come back (POCO hands a refused upgrade's socket back to HTTP): once only.
    // A socket in the set has the listener (`#forget` removes both), so the set says it without
    // the array `listeners()` would copy for every connection.
    if (this.#httpSockets.has(socket)) return;
    socket.on('close', this.#untrack);
    this.#httpSockets.add(socket);
  }
}

/**
 * Malformed HTTP, a head over the size limit, a request too slow to arrive: the status
 * node:http itself would send without a 'clientError' listener, if nothing was sent on the
 * connection yet, then the connection is closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  endWithin(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}
