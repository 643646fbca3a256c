/**
 * POCO's `HTTPServerRequest`: the request a handler gets, built from what node:http parsed.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { HTTPRequest } from './http-message.js';
import type { HTTPServerParams } from './http-server-params.js';
import type { HTTPServerResponse } from './http-server-response.js';
import { EXCHANGE, type Exchange } from './internal.js';
import { SocketAddress } from './socket-address.js';

export class HTTPServerRequest extends HTTPRequest {
  readonly #message: IncomingMessage;
  readonly #response: HTTPServerResponse;
  readonly #client: SocketAddress;
  readonly #server: SocketAddress;
  /** @internal */
  readonly [EXCHANGE]: Exchange;

  /** @internal created by HTTPServer for each request. */
  constructor(message: IncomingMessage, response: HTTPServerResponse, exchange: Exchange) {
    super(message.method ?? 'GET', message.url ?? '/', `HTTP/${message.httpVersion}`);
    const raw = message.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) this.add(raw[i], raw[i + 1]);
    this.#message = message;
    this.#response = response;
    const socket = exchange.socket;
    this.#client = new SocketAddress(socket.remoteAddress ?? '0.0.0.0', socket.remotePort ?? 0);
    this.#server = new SocketAddress(socket.localAddress ?? '0.0.0.0', socket.localPort ?? 0);
    this[EXCHANGE] = exchange;
  }

  /**
   * The request body (POCO's `std::istream& stream()`). Empty for an upgrade request, whose
   * connection carries WebSocket frames instead.
   */
  stream(): Readable {
    return this[EXCHANGE].upgradeHead === null ? this.#message : Readable.from([]);
  }

  /** Reads the whole body, refusing more than `maxBytes`. */
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

  clientAddress(): SocketAddress {
    return this.#client;
  }

  serverAddress(): SocketAddress {
    return this.#server;
  }

  serverParams(): HTTPServerParams {
    return this[EXCHANGE].params;
  }

  response(): HTTPServerResponse {
    return this.#response;
  }

  secure(): boolean {
    return 'encrypted' in this[EXCHANGE].socket;
  }

  expectContinue(): boolean {
    return this.getExpectContinue();
  }
}
