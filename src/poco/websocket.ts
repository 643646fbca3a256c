/**
 * POCO's `Poco::Net::WebSocket`, in async TypeScript.
 *
 * ```ts
 * class EchoHandler implements HTTPRequestHandler {
 *   async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
 *     const ws = new WebSocket(request, response); // validates the handshake, sends the 101
 *     const buffer = new Uint8Array(1024);
 *     let frame;
 *     do {
 *       frame = await ws.receiveFrame(buffer);
 *       if (frame.n > 0) await ws.sendFrame(buffer, frame.n, frame.flags);
 *     } while (frame.n > 0 && (frame.flags & WebSocket.FRAME_OP_BITMASK) !== WebSocket.FRAME_OP_CLOSE);
 *   }
 * }
 * ```
 *
 * Every call that blocks in C++ returns a promise; names, numeric values, argument order and
 * return conventions are POCO's: `receiveFrame` gives the payload length of one frame and its
 * whole first header byte as `flags`; 0 with flags 0 is end of stream; -1 is "would block" in
 * non-blocking mode. Like POCO, a WebSocket hands PING, PONG, CLOSE and continuation frames to
 * the application and validates nothing (wsnet's message API does all of that for you).
 *
 * Lifetime. The WebSocket constructed in `handleRequest` is the handler's, like the C++ local
 * it mirrors: when the handler's promise settles, its reference is released, and the
 * connection closes with the last reference. To keep a connection beyond the handler, copy it
 * (`new WebSocket(ws)`, POCO's copy constructor): copies share the connection and keep it open
 * until one of them calls `close()`, or until each has been disposed of (`using copy = new
 * WebSocket(ws)`: disposal is the C++ destructor, which drops one reference).
 */
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import * as constants from './constants.js';
import { encodeRawClosePayload } from '../protocol/close.js';
import { checkUpgradeResponse } from '../protocol/handshake/client.js';
import { checkUpgradeRequest } from '../protocol/handshake/server.js';
import {
  computeAccept as computeAcceptValue,
  createKey as createKeyValue,
} from '../protocol/handshake/keys.js';
import {
  EAGAIN,
  AssertionViolationException,
  InvalidAccessException,
  InvalidArgumentException,
  NotImplementedException,
  TimeoutException,
  WebSocketException,
  rejection,
} from './exceptions.js';
import { disposeSymbol } from '../io/disposal.js';
import { sendAnsweringChallenge } from '../io/http-client.js';
import { toBuffer, type BinaryData } from '../protocol/frame.js';
import { webSocketExceptionFor } from './handshake-errors.js';
import type { HTTPClientSession } from './http-client-session.js';
import type { HTTPCredentials } from './http-credentials.js';
import { HTTPMessage, HTTPResponse, type HTTPRequest } from './http-message.js';
import type { HTTPServerRequest } from './http-server-request.js';
import type { HTTPServerResponse } from './http-server-response.js';
import { REQUEST_SCOPE, Reference, SEND_HEAD_ONLY } from './internal.js';
import { PocoBuffer } from './poco-buffer.js';
import type { SocketAddress } from './socket-address.js';
import { Timespan } from './timespan.js';
import { WebSocketImpl } from './websocket-impl.js';

/** Marks the internal constructor call of `fromImpl`. */
const FROM_IMPL: unique symbol = Symbol('wsnet.fromImpl');

/** What `receiveFrame` resolves to: the payload length (0: end of stream, -1: would block) and the first header byte. */
export interface ReceivedFrame {
  n: number;
  flags: number;
}

/** What `receiveFrame()` without a buffer resolves to: the frame's payload as well. */
export interface ReceivedPayload extends ReceivedFrame {
  payload: Buffer;
}

export class WebSocket {
  // Mode
  static readonly WS_SERVER = constants.WS_SERVER;
  static readonly WS_CLIENT = constants.WS_CLIENT;
  // FrameFlags
  static readonly FRAME_FLAG_FIN = constants.FRAME_FLAG_FIN;
  static readonly FRAME_FLAG_RSV1 = constants.FRAME_FLAG_RSV1;
  static readonly FRAME_FLAG_RSV2 = constants.FRAME_FLAG_RSV2;
  static readonly FRAME_FLAG_RSV3 = constants.FRAME_FLAG_RSV3;
  // FrameOpcodes
  static readonly FRAME_OP_CONT = constants.FRAME_OP_CONT;
  static readonly FRAME_OP_TEXT = constants.FRAME_OP_TEXT;
  static readonly FRAME_OP_BINARY = constants.FRAME_OP_BINARY;
  static readonly FRAME_OP_CLOSE = constants.FRAME_OP_CLOSE;
  static readonly FRAME_OP_PING = constants.FRAME_OP_PING;
  static readonly FRAME_OP_PONG = constants.FRAME_OP_PONG;
  static readonly FRAME_OP_BITMASK = constants.FRAME_OP_BITMASK;
  static readonly FRAME_OP_SETRAW = constants.FRAME_OP_SETRAW;
  // SendFlags
  static readonly FRAME_TEXT = constants.FRAME_TEXT;
  static readonly FRAME_BINARY = constants.FRAME_BINARY;
  // StatusCodes
  static readonly WS_NORMAL_CLOSE = constants.WS_NORMAL_CLOSE;
  static readonly WS_ENDPOINT_GOING_AWAY = constants.WS_ENDPOINT_GOING_AWAY;
  static readonly WS_PROTOCOL_ERROR = constants.WS_PROTOCOL_ERROR;
  static readonly WS_PAYLOAD_NOT_ACCEPTABLE = constants.WS_PAYLOAD_NOT_ACCEPTABLE;
  static readonly WS_RESERVED = constants.WS_RESERVED;
  static readonly WS_RESERVED_NO_STATUS_CODE = constants.WS_RESERVED_NO_STATUS_CODE;
  static readonly WS_RESERVED_ABNORMAL_CLOSE = constants.WS_RESERVED_ABNORMAL_CLOSE;
  static readonly WS_MALFORMED_PAYLOAD = constants.WS_MALFORMED_PAYLOAD;
  static readonly WS_POLICY_VIOLATION = constants.WS_POLICY_VIOLATION;
  static readonly WS_PAYLOAD_TOO_BIG = constants.WS_PAYLOAD_TOO_BIG;
  static readonly WS_EXTENSION_REQUIRED = constants.WS_EXTENSION_REQUIRED;
  static readonly WS_UNEXPECTED_CONDITION = constants.WS_UNEXPECTED_CONDITION;
  static readonly WS_RESERVED_TLS_FAILURE = constants.WS_RESERVED_TLS_FAILURE;
  // ErrorCodes
  static readonly WS_ERR_NO_HANDSHAKE = constants.WS_ERR_NO_HANDSHAKE;
  static readonly WS_ERR_HANDSHAKE_NO_VERSION = constants.WS_ERR_HANDSHAKE_NO_VERSION;
  static readonly WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION =
    constants.WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION;
  static readonly WS_ERR_HANDSHAKE_NO_KEY = constants.WS_ERR_HANDSHAKE_NO_KEY;
  static readonly WS_ERR_HANDSHAKE_ACCEPT = constants.WS_ERR_HANDSHAKE_ACCEPT;
  static readonly WS_ERR_UNAUTHORIZED = constants.WS_ERR_UNAUTHORIZED;
  static readonly WS_ERR_PAYLOAD_TOO_BIG = constants.WS_ERR_PAYLOAD_TOO_BIG;
  static readonly WS_ERR_INCOMPLETE_FRAME = constants.WS_ERR_INCOMPLETE_FRAME;
  static readonly WEBSOCKET_VERSION = constants.WEBSOCKET_VERSION;
  // Socket::SelectMode
  static readonly SELECT_READ = 1;
  static readonly SELECT_WRITE = 2;
  static readonly SELECT_ERROR = 4;

  readonly #impl: WebSocketImpl;
  /** This object's reference to the shared body: what its C++ destructor would drop. */
  readonly #reference: Reference;

  /**
   * `new WebSocket(request, response)` inside an `HTTPRequestHandler`: checks that the request
   * is a WebSocket upgrade exactly as POCO does and sends the 101, or throws a
   * `WebSocketException` (codes 1-4) and sends nothing, so the handler can answer 400 itself.
   * Headers set on `response` before (e.g. `Sec-WebSocket-Protocol`) go out with the 101.
   *
   * `new WebSocket(other)`: a copy that shares `other`'s connection (POCO's copy constructor).
   */
  constructor(request: HTTPServerRequest, response: HTTPServerResponse);
  constructor(other: WebSocket);
  constructor(
    source: HTTPServerRequest | WebSocket | typeof FROM_IMPL,
    response?: HTTPServerResponse | WebSocketImpl,
  ) {
    if (source === FROM_IMPL && response instanceof WebSocketImpl) {
      this.#impl = response;
      this.#reference = new Reference(response);
    } else if (source instanceof WebSocket) {
      this.#impl = source.#impl;
      this.#reference = new Reference(this.#impl);
    } else if (
      source !== FROM_IMPL &&
      response !== undefined &&
      !(response instanceof WebSocketImpl)
    ) {
      // The handler's WebSocket: its reference is the one the request scope holds until the
      // handler settles (the C++ handler's local), which disposal may drop sooner.
      [this.#impl, this.#reference] = WebSocket.#accept(source, response);
    } else {
      throw new InvalidArgumentException('Cannot assign incompatible socket');
    }
  }

  /** POCO's `accept()`: the handshake checks, the 101, and the impl over the handed-over socket. */
  static #accept(
    request: HTTPServerRequest,
    response: HTTPServerResponse,
  ): [WebSocketImpl, Reference] {
    const scope = request[REQUEST_SCOPE];
    const check = checkUpgradeRequest(
      {
        method: request.getMethod(),
        httpVersion: request.getVersion().replace(/^HTTP\//, ''),
        // POCO reads the first field of each name.
        headers: (name) => (request.has(name) ? request.get(name) : undefined),
      },
      'poco',
    );
    if (!check.ok) throw webSocketExceptionFor(check.error);
    if (scope.upgradeHead === null)
      // node:http treated the request as an ordinary one, so its parser still owns the socket.
      throw new WebSocketException('No WebSocket handshake', constants.WS_ERR_NO_HANDSHAKE);
    response.setStatusAndReason(101);
    response.set('Upgrade', 'websocket');
    response.set('Connection', 'Upgrade');
    response.set('Sec-WebSocket-Accept', check.accept);
    response.setContentLength(-1);
    response[SEND_HEAD_ONLY]();
    const impl = new WebSocketImpl(scope.socket, false, {
      initialBytes: scope.upgradeHead,
      receiveTimeout: scope.params.getTimeout(),
      sendTimeout: new Timespan(0),
    });
    return [impl, scope.adopt(impl)];
  }

  /**
   * The client side (POCO's `WebSocket(cs, request, response[, credentials])`): sends the
   * upgrade request for `request` over `session` and completes the handshake, with POCO's
   * sequence and error codes:
   * - 101: the response must have `Connection: Upgrade`, `Upgrade: websocket` (else
   *   `WebSocketException` 1) and the right `Sec-WebSocket-Accept` (else 5);
   * - 401 and non-empty `credentials`: the challenge is answered and the request sent once more,
   *   with the same key, on the same connection if the server kept it; a second 401 is 6;
   * - 401 without credentials: 6 "Not authorized";
   * - 200: 1 "The server does not understand the WebSocket protocol";
   * - any other status: 1 "Cannot upgrade to WebSocket connection: <reason>".
   * Through a proxy (plain `ws`), the session tunnels with CONNECT first. Afterwards `response`
   * holds the server's 101 (subprotocol, extensions), and frames that came with it are queued.
   * The request always goes out as HTTP/1.1 (RFC 6455 §4.1), even if it says HTTP/1.0.
   */
  static async connect(
    session: HTTPClientSession,
    request: HTTPRequest,
    response: HTTPResponse,
    credentials?: HTTPCredentials,
  ): Promise<WebSocket> {
    session.useProxyTunnel(); // POCO: if (!cs.getProxyHost().empty() && !cs.secure()) cs.proxyTunnel()
    const key = createKeyValue();
    request.setVersion(HTTPMessage.HTTP_1_1);
    request.set('Connection', 'Upgrade');
    request.set('Upgrade', 'websocket');
    request.set('Sec-WebSocket-Version', constants.WEBSOCKET_VERSION);
    request.set('Sec-WebSocket-Key', key);
    request.setChunkedTransferEncoding(false);
    session.setKeepAlive(true);
    let body: Readable = Readable.from([]);
    await sendAnsweringChallenge({
      send: async () => {
        session.sendRequest(request);
        body = await session.receiveResponse(response);
        return { status: response.getStatus() };
      },
      answer: async () => {
        if (credentials === undefined || credentials.empty()) return false;
        // POCO copies the 401's body to a null stream, each read under the receive timeout.
        await drain(body, session.getReceiveTimeout());
        try {
          credentials.authenticate(request, response);
        } catch (error) {
          throw new WebSocketException(
            'Not authorized',
            (error as Error).message,
            constants.WS_ERR_UNAUTHORIZED,
          );
        }
        return true;
      },
    });
    if (response.getStatus() !== HTTPResponse.HTTP_SWITCHING_PROTOCOLS) body.destroy();
    const check = checkUpgradeResponse(
      {
        status: response.getStatus(),
        reason: response.getReason(),
        headers: (name) => (response.has(name) ? response.get(name) : undefined),
      },
      key,
      'poco',
    );
    if (!check.ok) {
      if (response.getStatus() === HTTPResponse.HTTP_SWITCHING_PROTOCOLS) session.reset();
      throw webSocketExceptionFor(check.error);
    }
    const { socket, head } = session.detachUpgrade();
    const impl = new WebSocketImpl(socket, true, {
      initialBytes: head,
      receiveTimeout: session.getReceiveTimeout(),
      sendTimeout: session.getSendTimeout(),
    });
    return WebSocket.fromImpl(impl); // the caller's WebSocket holds the connection
  }

  /** @internal a WebSocket over an impl, holding a reference to it (the client side). */
  static fromImpl(impl: WebSocketImpl): WebSocket {
    return new WebSocket(FROM_IMPL as never, impl as never);
  }

  /** The `Sec-WebSocket-Accept` value for a key (POCO's protected static, public here). */
  static computeAccept(key: string): string {
    return computeAcceptValue(key);
  }

  /** A fresh `Sec-WebSocket-Key`: 16 random bytes from the CSPRNG, base64-encoded. */
  static createKey(): string {
    return createKeyValue();
  }

  /** The shared body (POCO's `impl()`); equal for copies. */
  impl(): WebSocketImpl {
    return this.#impl;
  }

  /** Copies share one connection, so they are equal (POCO compares impl pointers). */
  equals(other: WebSocket): boolean {
    return this.impl() === other.impl();
  }

  mode(): number {
    return this.impl().mustMaskPayload() ? WebSocket.WS_CLIENT : WebSocket.WS_SERVER;
  }

  // --- Frames ---

  /**
   * Sends `length` bytes of `buffer` (any typed array, `DataView`, `Buffer` or `ArrayBuffer`, its
   * own bytes: `length` counts bytes, not elements, and defaults to `byteLength`; a string is
   * sent as its UTF-8 bytes) as one frame whose
   * first byte is `flags` (default `FRAME_TEXT`), exactly as given: no FIN is added (a PING
   * needs `FRAME_FLAG_FIN | FRAME_OP_PING`), nothing is checked. Resolves to `length` once the
   * socket has taken the frame; in non-blocking mode -1 when it would block (call again with
   * the same length: the frame is already queued).
   */
  sendFrame(
    buffer: BinaryData | string,
    length?: number,
    flags: number = WebSocket.FRAME_TEXT,
  ): Promise<number> {
    try {
      return this.impl().sendBytes(slice(buffer, length), flags | WebSocket.FRAME_OP_SETRAW);
    } catch (error) {
      return rejection(error);
    }
  }

  /**
   * Receives one frame into `buffer` (up to `length` bytes, default its length). A frame whose
   * payload does not fit throws `WebSocketException` 10 "Insufficient buffer for payload size N"
   * and stays queued: a call with a larger buffer gets it. Over `getMaxPayloadSize()`: 10
   * "Payload too big". End of stream in the middle of a frame: 11 "Incomplete frame received".
   * No whole frame within the receive timeout: `TimeoutException`.
   *
   * With a `PocoBuffer`, the payload is appended after its current size, without a length limit
   * (only `maxPayloadSize` applies).
   *
   * Without a buffer (wsnet's addition), the payload comes back as `payload`, without a copy:
   * `{ n, flags, payload }`.
   */
  receiveFrame(): Promise<ReceivedPayload>;
  receiveFrame(buffer: Uint8Array | PocoBuffer, length?: number): Promise<ReceivedFrame>;
  receiveFrame(
    buffer?: Uint8Array | PocoBuffer,
    length?: number,
  ): Promise<ReceivedFrame | ReceivedPayload> {
    if (buffer === undefined) return this.impl().receive(null, 0);
    if (buffer instanceof PocoBuffer) return this.impl().receive(buffer, 0);
    const limit = length ?? buffer.length;
    if (!Number.isInteger(limit) || limit < 0 || limit > buffer.length)
      return rejection(new InvalidArgumentException('Invalid length', String(length)));
    return this.impl().receive(buffer, limit);
  }

  /**
   * Sends a close frame with `statusCode` and `statusMessage`, unchecked, as POCO does (1005,
   * 1006 or a reason over 123 bytes go out as given). It does not wait for the peer's close
   * frame or close the connection: receive until the peer's close frame arrives, then `close()`.
   * Resolves to the payload length (2 + the message's bytes).
   */
  async shutdown(
    statusCode: number = WebSocket.WS_NORMAL_CLOSE,
    statusMessage = '',
  ): Promise<number> {
    const payload = encodeRawClosePayload(statusCode, statusMessage);
    return this.sendFrame(
      payload,
      payload.length,
      WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_CLOSE,
    );
  }

  /** The first header byte of the last frame received (WebSocketImpl's `frameFlags()`). */
  frameFlags(): number {
    return this.impl().frameFlags();
  }

  /** The largest frame payload accepted (default 2147483647). `n <= 0` is an assertion. */
  setMaxPayloadSize(maxPayloadSize: number): void {
    this.impl().setMaxPayloadSize(maxPayloadSize);
  }

  getMaxPayloadSize(): number {
    return this.impl().getMaxPayloadSize();
  }

  // --- StreamSocket functions ---

  /** POCO's `sendBytes`: like `sendFrame`, but flags 0 means a binary frame. */
  sendBytes(buffer: BinaryData | string, length?: number, flags = 0): Promise<number> {
    try {
      return this.impl().sendBytes(slice(buffer, length), flags);
    } catch (error) {
      return rejection(error);
    }
  }

  /** POCO's `receiveBytes`: the payload of one frame (the flags are not reported). */
  async receiveBytes(buffer: Uint8Array | PocoBuffer, length?: number): Promise<number> {
    return (await this.receiveFrame(buffer, length)).n;
  }

  /** Bytes received and not yet taken (raw bytes, frame headers included, as in POCO). */
  available(): number {
    return this.impl().available();
  }

  /** Waits up to `timeout` (µs or Timespan) for `SELECT_READ` / `SELECT_WRITE` / `SELECT_ERROR`. */
  async poll(timeout: Timespan | number, mode: number): Promise<boolean> {
    return this.impl().poll(Timespan.from(timeout), mode);
  }

  /** Closes the TCP connection without a close frame, for every copy. */
  close(): void {
    this.impl().close();
  }

  /**
   * `using ws = ...`: what POCO's destructor does when the block ends. This object's reference
   * to the connection is dropped, and the last reference closes the TCP connection without a
   * close frame, as `close()` does; copies still held keep it open. Send the close frame first
   * (`shutdown()`) for a clean close. Once per object; nothing on a closed socket; never throws.
   */
  [disposeSymbol](): void {
    this.#reference.release();
  }

  address(): SocketAddress {
    return this.impl().address();
  }

  peerAddress(): SocketAddress {
    return this.impl().peerAddress();
  }

  secure(): boolean {
    return this.impl().secure();
  }

  sockfd(): number {
    return this.impl().sockfd();
  }

  setBlocking(flag: boolean): void {
    this.impl().setBlocking(flag);
  }
  getBlocking(): boolean {
    return this.impl().getBlocking();
  }
  setReceiveTimeout(timeout: Timespan | number): void {
    this.impl().setReceiveTimeout(Timespan.from(timeout));
  }
  getReceiveTimeout(): Timespan {
    return this.impl().getReceiveTimeout();
  }
  setSendTimeout(timeout: Timespan | number): void {
    this.impl().setSendTimeout(Timespan.from(timeout));
  }
  getSendTimeout(): Timespan {
    return this.impl().getSendTimeout();
  }
  setNoDelay(flag: boolean): void {
    this.impl().setNoDelay(flag);
  }
  getNoDelay(): boolean {
    return this.impl().getNoDelay();
  }
  setKeepAlive(flag: boolean): void {
    this.impl().setKeepAlive(flag);
  }
  getKeepAlive(): boolean {
    return this.impl().getKeepAlive();
  }
  setLinger(on: boolean, seconds: number): void {
    this.impl().setLinger(on, seconds);
  }
  getLinger(): { on: boolean; seconds: number } {
    return this.impl().getLinger();
  }
  setSendBufferSize(size: number): void {
    this.impl().setSendBufferSize(size);
  }
  getSendBufferSize(): number {
    return this.impl().getSendBufferSize();
  }
  setReceiveBufferSize(size: number): void {
    this.impl().setReceiveBufferSize(size);
  }
  getReceiveBufferSize(): number {
    return this.impl().getReceiveBufferSize();
  }
  shutdownReceive(): void {
    this.impl().shutdownReceive();
  }
  shutdownSend(): number {
    return this.impl().shutdownSend();
  }

  // What a WebSocket cannot do, with POCO's exceptions and messages (WebSocketImpl.cpp).
  connect(): never {
    throw new InvalidAccessException('Cannot connect() a WebSocketImpl');
  }
  connectNB(): never {
    throw new InvalidAccessException('Cannot connectNB() a WebSocketImpl');
  }
  bind(): never {
    throw new InvalidAccessException('Cannot bind() a WebSocketImpl');
  }
  bind6(): never {
    throw new InvalidAccessException('Cannot bind6() a WebSocketImpl');
  }
  listen(): never {
    throw new InvalidAccessException('Cannot listen() on a WebSocketImpl');
  }
  acceptConnection(): never {
    throw new InvalidAccessException('Cannot acceptConnection() on a WebSocketImpl');
  }
  sendTo(): never {
    throw new InvalidAccessException('Cannot sendTo() on a WebSocketImpl');
  }
  receiveFrom(): never {
    throw new InvalidAccessException('Cannot receiveFrom() on a WebSocketImpl');
  }
  sendUrgent(): never {
    throw new InvalidAccessException('Cannot sendUrgent() on a WebSocketImpl');
  }
  /** The socket is already initialized: POCO's `poco_assert` fails. */
  init(): never {
    throw new AssertionViolationException('The socket is already initialized');
  }

  // What Node.js cannot do on a connected socket: said, never done silently.
  setReuseAddress(): never {
    throw notInNode('setReuseAddress');
  }
  getReuseAddress(): never {
    throw notInNode('getReuseAddress');
  }
  setReusePort(): never {
    throw notInNode('setReusePort');
  }
  getReusePort(): never {
    throw notInNode('getReusePort');
  }
  setOOBInline(): never {
    throw notInNode('setOOBInline');
  }
  getOOBInline(): never {
    throw notInNode('getOOBInline');
  }
  setOption(): never {
    throw notInNode('setOption');
  }
  getOption(): never {
    throw notInNode('getOption');
  }

  static supportsIPv4(): boolean {
    return true;
  }
  static supportsIPv6(): boolean {
    return true;
  }
}

/**
 * Reads a response body to its end (so that a kept-alive connection can be reused), each read
 * within `timeout` as POCO's receive timeout bounds each `recv`: a body that stops coming is a
 * `TimeoutException`, not a hang.
 */
function drain(body: Readable, timeout: Timespan): Promise<void> {
  const ms = timeout.totalMilliseconds();
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (error?: Error) => {
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onEnd);
      body.off('error', onError);
      if (error === undefined) resolve();
      else {
        body.destroy();
        reject(error);
      }
    };
    const arm = () => {
      if (ms <= 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => done(new TimeoutException('', EAGAIN)), ms);
    };
    const onData = () => arm();
    const onEnd = () => done();
    const onError = (error: Error) => done(error);
    if (body.readableEnded) {
      resolve();
      return;
    }
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onEnd);
    body.once('error', onError);
    arm();
  });
}

function notInNode(method: string): NotImplementedException {
  return new NotImplementedException(
    `${method}(): Node.js does not expose this socket option on a connected socket`,
  );
}

/** The bytes to send: `length` bytes (not elements) of `buffer`'s own bytes. */
function slice(buffer: BinaryData | string, length: number | undefined): Buffer {
  const bytes = typeof buffer === 'string' ? Buffer.from(buffer, 'utf8') : toBuffer(buffer);
  if (length === undefined) return bytes;
  if (!Number.isInteger(length) || length < 0 || length > bytes.length)
    throw new InvalidArgumentException('Invalid length', String(length));
  return length === bytes.length ? bytes : bytes.subarray(0, length);
}
