/**
 * POCO's `HTTPServerRequest`: the request a handler gets, built from what node:http parsed.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { HTTPRequest } from './http-message.js';
import type { HTTPServerParams } from './http-server-params.js';
import type { HTTPServerResponse } from './http-server-response.js';
import { REQUEST_SCOPE, type RequestScope } from './internal.js';
import { SocketAddress } from './socket-address.js';

/**
 * The header names and values that nearly every handshake repeats, so that a thousand open
 * WebSockets hold one copy of "Sec-WebSocket-Version" and "websocket", not a thousand (the
 * request lives as long as its handler, which is as long as its WebSocket).
 */
const COMMON = new Map(
  [
    'HTTP/1.1',
    'HTTP/1.0',
    'Host',
    'host',
    'Connection',
    'connection',
    'Upgrade',
    'upgrade',
    'websocket',
    'WebSocket',
    'keep-alive',
    'Keep-Alive',
    'keep-alive, Upgrade',
    'Sec-WebSocket-Version',
    'sec-websocket-version',
    'Sec-WebSocket-Key',
    'sec-websocket-key',
    'Sec-WebSocket-Extensions',
    'sec-websocket-extensions',
    'Sec-WebSocket-Protocol',
    'sec-websocket-protocol',
    'permessage-deflate; client_max_window_bits',
    '13',
    'Origin',
    'origin',
    'User-Agent',
    'user-agent',
    'Accept-Encoding',
    'Accept-Language',
    'Cache-Control',
    'Pragma',
    'no-cache',
    'gzip, deflate, br',
  ].map((text) => [text, text]),
);

function intern(text: string): string {
  return COMMON.get(text) ?? text;
}

/**
 * POCO's `HTTPServerRequest`: the request an {@link HTTPRequestHandler} gets, built from what
 * node:http parsed: method, URI, version and header fields in the order received, the body as a
 * stream, and the addresses of both ends. An upgrade request is handed to `new WebSocket(request,
 * response)`.
 */
export class HTTPServerRequest extends HTTPRequest {
  /** The body stream, for ordinary requests (an upgrade's IncomingMessage is let go at once). */
  readonly #message: IncomingMessage | null;
  readonly #response: HTTPServerResponse;
  // Addresses as strings and numbers; SocketAddress objects are made when asked for.
  readonly #clientHost: string;
  readonly #clientPort: number;
  readonly #serverHost: string;
  readonly #serverPort: number;
  /** @internal */
  readonly [REQUEST_SCOPE]: RequestScope;

  /**
   * @internal created by HTTPServer for each request (a factory in front of a private
   * constructor: the published declarations show no public constructor).
   */
  static create(
    message: IncomingMessage,
    response: HTTPServerResponse,
    scope: RequestScope,
  ): HTTPServerRequest {
    return new HTTPServerRequest(message, response, scope);
  }

  private constructor(message: IncomingMessage, response: HTTPServerResponse, scope: RequestScope) {
    super(message.method ?? 'GET', message.url ?? '/', intern(`HTTP/${message.httpVersion}`));
    const raw = message.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) this.add(intern(raw[i]), intern(raw[i + 1]));
    this.compact();
    this.#message = scope.upgradeHead === null ? message : null;
    this.#response = response;
    const socket = scope.socket;
    this.#clientHost = socket.remoteAddress ?? '0.0.0.0';
    this.#clientPort = socket.remotePort ?? 0;
    this.#serverHost = socket.localAddress ?? '0.0.0.0';
    this.#serverPort = socket.localPort ?? 0;
    this[REQUEST_SCOPE] = scope;
  }

  /**
   * The request body (POCO's `std::istream& stream()`). Empty for an upgrade request, whose
   * connection carries WebSocket frames instead.
   */
  stream(): Readable {
    return this.#message ?? Readable.from([]);
  }

  /**
   * Reads the whole body, refusing more than `maxBytes`.
   *
   * @throws `RangeError` when the body is larger than `maxBytes` (1 MiB by default).
   */
  async readBody(maxBytes = 1 << 20): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.stream()) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBytes) throw new RangeError(`request body over ${maxBytes} bytes`);
      chunks.push(bytes);
    }
    return Buffer.concat(chunks);
  }

  /** The client's address. */
  clientAddress(): SocketAddress {
    return new SocketAddress(this.#clientHost, this.#clientPort);
  }

  /** The server's (local) address of the connection. */
  serverAddress(): SocketAddress {
    return new SocketAddress(this.#serverHost, this.#serverPort);
  }

  /** The parameters of the server that received the request. */
  serverParams(): HTTPServerParams {
    return this[REQUEST_SCOPE].params;
  }

  /** The response that goes with this request. */
  response(): HTTPServerResponse {
    return this.#response;
  }

  /** Whether the request came over TLS. */
  secure(): boolean {
    return 'encrypted' in this[REQUEST_SCOPE].socket;
  }

  /**
   * Whether the request has `Expect: 100-continue` (answer with
   * {@link HTTPServerResponse.sendContinue}).
   */
  expectContinue(): boolean {
    return this.getExpectContinue();
  }
}
