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
  InvalidSocketException,
  NotImplementedException,
  TimeoutException,
  WebSocketException,
  rejection,
  type PocoException,
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
  /**
   * The payload length: 0 with `flags` 0 is the end of the stream; -1 means "would block"
   * (non-blocking mode only).
   */
  n: number;
  /**
   * The frame's whole first header byte: FIN, RSV1-3 and the opcode (mask it with
   * `WebSocket.FRAME_OP_BITMASK`).
   */
  flags: number;
}

/** What `receiveFrame()` without a buffer resolves to: the frame's payload as well. */
export interface ReceivedPayload extends ReceivedFrame {
  /** The frame's payload, not copied. */
  payload: Buffer;
}

/**
 * POCO's `Poco::Net::WebSocket`, both sides, in async TypeScript. Every call that blocks in C++
 * returns a promise; names, numeric values, argument order and return conventions are POCO's:
 * {@link WebSocket.receiveFrame} gives the payload length of one frame and its whole first header
 * byte as `flags`; 0 with flags 0 is end of stream; -1 is "would block" in non-blocking mode. Like
 * POCO, a WebSocket hands PING, PONG, CLOSE and continuation frames to the application and
 * validates nothing (the message API, {@link WebSocketConnection}, does all of that).
 *
 * The server side is `new WebSocket(request, response)` in an {@link HTTPRequestHandler}; the
 * client side is {@link WebSocket.connect}. The WebSocket made in `handleRequest` is released when
 * the handler's promise settles, like the C++ local it mirrors; to keep the connection longer, copy
 * it (`new WebSocket(ws)`): copies share the connection and keep it open until one calls `close()`.
 *
 * @example The server side: an echo handler, served by an HTTPServer
 * ```ts
 * import {
 *   HTTPServer,
 *   HTTPServerParams,
 *   ServerSocket,
 *   SocketAddress,
 *   WebSocket,
 *   WebSocketException,
 *   type HTTPRequestHandler,
 *   type HTTPServerRequest,
 *   type HTTPServerResponse,
 * } from 'wsnet';
 *
 * class EchoHandler implements HTTPRequestHandler {
 *   async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse): Promise<void> {
 *     let ws: WebSocket;
 *     try {
 *       ws = new WebSocket(request, response); // POCO's checks, then the 101
 *     } catch (e) {
 *       if (!(e instanceof WebSocketException)) throw e;
 *       response.setStatusAndReason(400); // codes 1-4: not a valid upgrade request
 *       response.setContentLength(0);
 *       response.send();
 *       return;
 *     }
 *     const buffer = new Uint8Array(1024);
 *     let frame;
 *     do {
 *       frame = await ws.receiveFrame(buffer);
 *       if (frame.n > 0) await ws.sendFrame(buffer, frame.n, frame.flags);
 *     } while (
 *       frame.n > 0 &&
 *       (frame.flags & WebSocket.FRAME_OP_BITMASK) !== WebSocket.FRAME_OP_CLOSE
 *     );
 *   }
 * }
 *
 * const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0));
 * const server = new HTTPServer(
 *   { createRequestHandler: () => new EchoHandler() },
 *   socket,
 *   new HTTPServerParams(),
 * );
 * server.start();
 * console.log(`listening on port ${server.port()}`);
 * ```
 *
 * @example The client side
 * ```ts
 * import { HTTPClientSession, HTTPMessage, HTTPRequest, HTTPResponse, WebSocket } from 'wsnet';
 *
 * const session = new HTTPClientSession('127.0.0.1', 9980);
 * const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
 * const response = new HTTPResponse();
 * const ws = await WebSocket.connect(session, request, response);
 * await ws.sendFrame('Hello', 5, WebSocket.FRAME_TEXT);
 * const { n, flags, payload } = await ws.receiveFrame();
 * console.log(n, flags & WebSocket.FRAME_OP_BITMASK, payload.toString());
 * await ws.shutdown(); // a close frame with 1000
 * ws.close();
 * ```
 */
export class WebSocket {
  // Mode
  /** {@link Mode}'s `WS_SERVER`: the server side. */
  static readonly WS_SERVER = constants.WS_SERVER;
  /** {@link Mode}'s `WS_CLIENT`: the client side. */
  static readonly WS_CLIENT = constants.WS_CLIENT;
  // FrameFlags
  /** {@link FrameFlags}'s FIN bit (0x80): the final fragment of a message. */
  static readonly FRAME_FLAG_FIN = constants.FRAME_FLAG_FIN;
  /** {@link FrameFlags}'s RSV1 bit (0x40). */
  static readonly FRAME_FLAG_RSV1 = constants.FRAME_FLAG_RSV1;
  /** {@link FrameFlags}'s RSV2 bit (0x20). */
  static readonly FRAME_FLAG_RSV2 = constants.FRAME_FLAG_RSV2;
  /** {@link FrameFlags}'s RSV3 bit (0x10). */
  static readonly FRAME_FLAG_RSV3 = constants.FRAME_FLAG_RSV3;
  // FrameOpcodes
  /** {@link FrameOpcodes}: a continuation frame (0x0). */
  static readonly FRAME_OP_CONT = constants.FRAME_OP_CONT;
  /** {@link FrameOpcodes}: a text frame (0x1). */
  static readonly FRAME_OP_TEXT = constants.FRAME_OP_TEXT;
  /** {@link FrameOpcodes}: a binary frame (0x2). */
  static readonly FRAME_OP_BINARY = constants.FRAME_OP_BINARY;
  /** {@link FrameOpcodes}: a close frame (0x8). */
  static readonly FRAME_OP_CLOSE = constants.FRAME_OP_CLOSE;
  /** {@link FrameOpcodes}: a ping (0x9). */
  static readonly FRAME_OP_PING = constants.FRAME_OP_PING;
  /** {@link FrameOpcodes}: a pong (0xA). */
  static readonly FRAME_OP_PONG = constants.FRAME_OP_PONG;
  /** {@link FrameOpcodes}: the mask (0x0F) that extracts the opcode from `flags`. */
  static readonly FRAME_OP_BITMASK = constants.FRAME_OP_BITMASK;
  /**
   * {@link FrameOpcodes}: 0x100, ORed into `sendFrame`'s flags so that 0 stays a non-final
   * continuation frame; never on the wire.
   */
  static readonly FRAME_OP_SETRAW = constants.FRAME_OP_SETRAW;
  // SendFlags
  /** {@link SendFlags}: FIN | TEXT, a whole text message in one frame. */
  static readonly FRAME_TEXT = constants.FRAME_TEXT;
  /** {@link SendFlags}: FIN | BINARY, a whole binary message in one frame. */
  static readonly FRAME_BINARY = constants.FRAME_BINARY;
  // StatusCodes
  /** {@link StatusCodes}: 1000, normal closure. */
  static readonly WS_NORMAL_CLOSE = constants.WS_NORMAL_CLOSE;
  /** {@link StatusCodes}: 1001, the endpoint is going away. */
  static readonly WS_ENDPOINT_GOING_AWAY = constants.WS_ENDPOINT_GOING_AWAY;
  /** {@link StatusCodes}: 1002, a protocol error. */
  static readonly WS_PROTOCOL_ERROR = constants.WS_PROTOCOL_ERROR;
  /** {@link StatusCodes}: 1003, a kind of data the endpoint cannot accept. */
  static readonly WS_PAYLOAD_NOT_ACCEPTABLE = constants.WS_PAYLOAD_NOT_ACCEPTABLE;
  /** {@link StatusCodes}: 1004, reserved. */
  static readonly WS_RESERVED = constants.WS_RESERVED;
  /** {@link StatusCodes}: 1005, no status code present (never on the wire). */
  static readonly WS_RESERVED_NO_STATUS_CODE = constants.WS_RESERVED_NO_STATUS_CODE;
  /** {@link StatusCodes}: 1006, closed without a close frame (never on the wire). */
  static readonly WS_RESERVED_ABNORMAL_CLOSE = constants.WS_RESERVED_ABNORMAL_CLOSE;
  /** {@link StatusCodes}: 1007, data inconsistent with its type. */
  static readonly WS_MALFORMED_PAYLOAD = constants.WS_MALFORMED_PAYLOAD;
  /** {@link StatusCodes}: 1008, a policy violation. */
  static readonly WS_POLICY_VIOLATION = constants.WS_POLICY_VIOLATION;
  /** {@link StatusCodes}: 1009, a message too big to process. */
  static readonly WS_PAYLOAD_TOO_BIG = constants.WS_PAYLOAD_TOO_BIG;
  /** {@link StatusCodes}: 1010, an extension the server did not negotiate. */
  static readonly WS_EXTENSION_REQUIRED = constants.WS_EXTENSION_REQUIRED;
  /** {@link StatusCodes}: 1011, an unexpected condition. */
  static readonly WS_UNEXPECTED_CONDITION = constants.WS_UNEXPECTED_CONDITION;
  /** {@link StatusCodes}: 1015, the TLS handshake failed (never on the wire). */
  static readonly WS_RESERVED_TLS_FAILURE = constants.WS_RESERVED_TLS_FAILURE;
  // ErrorCodes
  /** {@link ErrorCodes}: 1, not a WebSocket handshake (or not a 101). */
  static readonly WS_ERR_NO_HANDSHAKE = constants.WS_ERR_NO_HANDSHAKE;
  /** {@link ErrorCodes}: 2, no `Sec-WebSocket-Version`. */
  static readonly WS_ERR_HANDSHAKE_NO_VERSION = constants.WS_ERR_HANDSHAKE_NO_VERSION;
  /** {@link ErrorCodes}: 3, a WebSocket version other than 13. */
  static readonly WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION =
    constants.WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION;
  /** {@link ErrorCodes}: 4, no `Sec-WebSocket-Key`. */
  static readonly WS_ERR_HANDSHAKE_NO_KEY = constants.WS_ERR_HANDSHAKE_NO_KEY;
  /** {@link ErrorCodes}: 5, a missing or wrong `Sec-WebSocket-Accept`. */
  static readonly WS_ERR_HANDSHAKE_ACCEPT = constants.WS_ERR_HANDSHAKE_ACCEPT;
  /**
   * {@link ErrorCodes}: 6, credentials missing, refused, or of a scheme that cannot be answered.
   */
  static readonly WS_ERR_UNAUTHORIZED = constants.WS_ERR_UNAUTHORIZED;
  /** {@link ErrorCodes}: 10, a frame larger than the buffer or the payload limit. */
  static readonly WS_ERR_PAYLOAD_TOO_BIG = constants.WS_ERR_PAYLOAD_TOO_BIG;
  /** {@link ErrorCodes}: 11, the connection ended mid-frame. */
  static readonly WS_ERR_INCOMPLETE_FRAME = constants.WS_ERR_INCOMPLETE_FRAME;
  /** The WebSocket protocol version sent and required: `'13'`. */
  static readonly WEBSOCKET_VERSION = constants.WEBSOCKET_VERSION;
  // Socket::SelectMode
  /**
   * `Socket::SELECT_READ` for {@link WebSocket.poll}: a frame can be received (or the stream
   * ended).
   */
  static readonly SELECT_READ = 1;
  /** `Socket::SELECT_WRITE` for {@link WebSocket.poll}: a frame can be sent without waiting. */
  static readonly SELECT_WRITE = 2;
  /** `Socket::SELECT_ERROR` for {@link WebSocket.poll}: the socket failed. */
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
   *
   * @param request - the upgrade request an {@link HTTPServer} handed to `handleRequest`.
   * @param response - its response: headers set on it before go out with the 101.
   * @throws {@link WebSocketException} with code 1 (`WS_ERR_NO_HANDSHAKE`: not an upgrade request),
   * 2 (`WS_ERR_HANDSHAKE_NO_VERSION`), 3 (`WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION`) or 4
   * (`WS_ERR_HANDSHAKE_NO_KEY`); nothing was sent.
   * @throws {@link InvalidArgumentException} when the arguments are neither a request and its
   * response nor a WebSocket.
   * @throws `TypeError` (node:http's) when a header set on `response` cannot be written (CR or LF
   * in a value, a name that is not a token); nothing was sent.
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
   *
   * @param session - the connection to the server (an {@link HTTPSClientSession} for `wss`), with
   * its proxy and timeouts.
   * @param request - the request to upgrade (its URI, and headers such as `Origin` or
   * `Sec-WebSocket-Protocol`); the handshake's headers are added to it.
   * @param response - filled with the server's response.
   * @param credentials - answers a 401 (Basic or Digest), once.
   * @throws {@link WebSocketException} with code 1 (`WS_ERR_NO_HANDSHAKE`: the response is not a
   * valid 101), 5 (`WS_ERR_HANDSHAKE_ACCEPT`) or 6 (`WS_ERR_UNAUTHORIZED`).
   * @throws the session's errors: {@link ConnectionRefusedException},
   * {@link HostNotFoundException}, {@link TimeoutException} (connect or response),
   * {@link SSLException}, {@link HTTPException} (the proxy refused the tunnel),
   * {@link MessageException} (not HTTP, or a head over 16 KiB), {@link NoMessageException} (the
   * server closed first), or another {@link NetException}.
   *
   * @example
   * ```ts
   * import {
   *   HTTPClientSession,
   *   HTTPCredentials,
   *   HTTPMessage,
   *   HTTPRequest,
   *   HTTPResponse,
   *   WebSocket,
   * } from 'wsnet';
   *
   * const session = new HTTPClientSession('127.0.0.1', 9980);
   * session.setProxy('proxy.local', 3128); // optional: through a CONNECT tunnel
   * const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
   * const response = new HTTPResponse();
   * const credentials = new HTTPCredentials('user', 'secret');
   * const ws = await WebSocket.connect(session, request, response, credentials);
   * console.log(response.get('Sec-WebSocket-Protocol', '(none)'));
   * ```
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

  /**
   * POCO's `operator ==`: copies share one connection, so they are equal (POCO compares impl
   * pointers); two connections never are. Works after `close()` too.
   */
  equals(other: WebSocket): boolean {
    return this.impl() === other.impl();
  }

  /** POCO's `operator !=`: true for two different connections, false for copies of one. */
  notEquals(other: WebSocket): boolean {
    return this.impl() !== other.impl();
  }

  /**
   * POCO's `operator <`. POCO orders sockets by the address of their impl; wsnet gives each
   * connection (each impl) a number when it is made, counting up, and orders by it: the
   * connection made first is the lesser, the order never changes (not even after `close()`), and
   * copies (`new WebSocket(ws)`) are equal. So sockets can be sorted, or kept in a sorted list, as
   * POCO programs keep them in a `std::set`.
   */
  lessThan(other: WebSocket): boolean {
    return WebSocketImpl.compare(this.impl(), other.impl()) < 0;
  }

  /** POCO's `operator <=`: see {@link WebSocket.lessThan} for the order. */
  lessEqual(other: WebSocket): boolean {
    return WebSocketImpl.compare(this.impl(), other.impl()) <= 0;
  }

  /** POCO's `operator >`: see {@link WebSocket.lessThan} for the order. */
  greaterThan(other: WebSocket): boolean {
    return WebSocketImpl.compare(this.impl(), other.impl()) > 0;
  }

  /** POCO's `operator >=`: see {@link WebSocket.lessThan} for the order. */
  greaterEqual(other: WebSocket): boolean {
    return WebSocketImpl.compare(this.impl(), other.impl()) >= 0;
  }

  /**
   * POCO's static `Socket::select` (wsnet has no Socket class: it is here, beside
   * {@link WebSocket.poll}). Waits up to `timeout` (µs or {@link Timespan}) until at least one
   * socket is ready: one in `readList` can receive (a frame, or the end of the stream, as
   * `poll(SELECT_READ)` says), one in `writeList` can send without waiting (`SELECT_WRITE`), one
   * in `exceptList` has failed (`SELECT_ERROR`: a reset, a TLS error; the peer's orderly end is
   * not exceptional, it makes the socket readable). Then, as POCO does, each list is narrowed in
   * place to its ready sockets and the number of entries left in the three lists is resolved
   * (a socket ready to read and write counts twice); 0 when the timeout passed.
   *
   * A socket closed (`close()`) before or during the wait is left out of every list, and
   * `select` returns at once, as POCO's does. With three empty lists it resolves 0 at once.
   *
   * @throws {@link InvalidArgumentException} when a list is not an array of WebSockets.
   */
  static async select(
    readList: WebSocket[],
    writeList: WebSocket[],
    exceptList: WebSocket[],
    timeout: Timespan | number,
  ): Promise<number> {
    const lists: Array<[WebSocket[], number]> = [
      [readList, WebSocket.SELECT_READ],
      [writeList, WebSocket.SELECT_WRITE],
      [exceptList, WebSocket.SELECT_ERROR],
    ];
    for (const [list] of lists)
      if (!Array.isArray(list) || !list.every((ws) => ws instanceof WebSocket))
        throw new InvalidArgumentException('select() takes arrays of WebSockets');
    const deadline = performance.now() + Timespan.from(timeout).totalMicroseconds() / 1000;
    const impls = [...new Set(lists.flatMap(([list]) => list.map((ws) => ws.impl())))];
    for (;;) {
      const ready = lists.map(([list, mode]) =>
        list.filter((ws) => !ws.impl().isClosed() && ws.impl().ready(mode)),
      );
      const count = ready.reduce((sum, list) => sum + list.length, 0);
      if (
        count > 0 ||
        impls.length === 0 ||
        impls.some((impl) => impl.isClosed()) ||
        performance.now() >= deadline
      ) {
        lists.forEach(([list], i) => list.splice(0, list.length, ...ready[i]));
        return count;
      }
      // Something happens on one of them (or the deadline passes): look again.
      const watches = impls.map((impl) => impl.watch(deadline));
      try {
        await Promise.race(watches.map((watch) => watch.changed));
      } finally {
        for (const watch of watches) watch.cancel();
      }
    }
  }

  /** `WebSocket.WS_SERVER` or `WebSocket.WS_CLIENT`. */
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
   *
   * @throws {@link InvalidArgumentException} (a rejection, as every error here) when `length` is
   * not an integer from 0 to the buffer's byte length, or a non-blocking retry's length differs
   * from the pending one.
   * @throws {@link InvalidSocketException} after `close()`.
   * @throws {@link TimeoutException} when the send timeout passes before the send buffer drained.
   * @throws {@link ConnectionResetException} (or the POCO exception for the socket's error) when
   * the connection is gone.
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
   *
   * @throws {@link WebSocketException} (a rejection, as every error here) with code 10
   * (`WS_ERR_PAYLOAD_TOO_BIG`: "Insufficient buffer for payload size N", or "Payload too big") or
   * 11 (`WS_ERR_INCOMPLETE_FRAME`).
   * @throws {@link TimeoutException} when no whole frame came within the receive timeout (a frame
   * partly received is kept for the next call).
   * @throws {@link InvalidArgumentException} when `length` is not an integer from 0 to the buffer's
   * length.
   * @throws {@link InvalidSocketException} after `close()`.
   * @throws {@link ConnectionResetException} or another {@link NetException} when the socket failed
   * or the peer broke the framing.
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
   *
   * @throws the errors of {@link WebSocket.sendFrame}.
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

  /**
   * The largest frame payload accepted (default 2147483647). `n <= 0` is an assertion.
   *
   * @throws {@link AssertionViolationException} when `maxPayloadSize` is not a positive integer.
   */
  setMaxPayloadSize(maxPayloadSize: number): void {
    this.impl().setMaxPayloadSize(maxPayloadSize);
  }

  /** The largest frame payload accepted (default 2147483647). */
  getMaxPayloadSize(): number {
    return this.impl().getMaxPayloadSize();
  }

  // --- StreamSocket functions ---

  /**
   * POCO's `sendBytes`: like `sendFrame`, but flags 0 means a binary frame.
   *
   * @throws the errors of {@link WebSocket.sendFrame}.
   */
  sendBytes(buffer: BinaryData | string, length?: number, flags = 0): Promise<number> {
    try {
      return this.impl().sendBytes(slice(buffer, length), flags);
    } catch (error) {
      return rejection(error);
    }
  }

  /**
   * POCO's `receiveBytes`: the payload of one frame (the flags are not reported).
   *
   * @throws the errors of {@link WebSocket.receiveFrame}.
   */
  async receiveBytes(buffer: Uint8Array | PocoBuffer, length?: number): Promise<number> {
    return (await this.receiveFrame(buffer, length)).n;
  }

  /**
   * Bytes received and not yet taken (raw bytes, frame headers included, as in POCO).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  available(): number {
    return this.impl().available();
  }

  /**
   * Waits up to `timeout` (µs or Timespan) for `SELECT_READ` / `SELECT_WRITE` / `SELECT_ERROR`.
   *
   * Resolves true as soon as one of the conditions in `mode` holds, false when the timeout passes.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  async poll(timeout: Timespan | number, mode: number): Promise<boolean> {
    return this.impl().poll(Timespan.from(timeout), mode);
  }

  /**
   * Closes the TCP connection without a close frame, for every copy. Afterwards the calls that
   * POCO makes on the socket throw {@link InvalidSocketException}; `getBlocking()`, `secure()`,
   * `sockfd()` (-1), `mode()`, `impl()`, the comparisons, the payload size limit and `close()`
   * itself still answer, as POCO's do.
   */
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

  /**
   * The local address of the connection.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  address(): SocketAddress {
    return this.impl().address();
  }

  /**
   * The peer's address.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  peerAddress(): SocketAddress {
    return this.impl().peerAddress();
  }

  /** Whether the connection runs over TLS. */
  secure(): boolean {
    return this.impl().secure();
  }

  /** The socket's file descriptor where Node.js exposes it (informational), else -1. */
  sockfd(): number {
    return this.impl().sockfd();
  }

  /**
   * Sets blocking (default) or non-blocking mode. In non-blocking mode `receiveFrame` resolves -1
   * when no whole frame is there, and `sendFrame` resolves -1 when the send buffer is full (call it
   * again with the same length once {@link WebSocket.poll} says `SELECT_WRITE`).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setBlocking(flag: boolean): void {
    this.impl().setBlocking(flag);
  }
  /** Whether the socket is in blocking mode; after `close()` too, as POCO's flag answers. */
  getBlocking(): boolean {
    return this.impl().getBlocking();
  }
  /**
   * How long a `receiveFrame` waits for a whole frame before it rejects with
   * {@link TimeoutException} (a {@link Timespan} or microseconds; 0: no limit). The server's
   * default is {@link HTTPServerParams.getTimeout}, the client's 60 s.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setReceiveTimeout(timeout: Timespan | number): void {
    this.impl().setReceiveTimeout(Timespan.from(timeout));
  }
  /**
   * The receive timeout (0: none).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getReceiveTimeout(): Timespan {
    return this.impl().getReceiveTimeout();
  }
  /**
   * How long a blocking `sendFrame` waits for the send buffer to drain before it rejects with
   * {@link TimeoutException} (a {@link Timespan} or microseconds; 0: no limit).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setSendTimeout(timeout: Timespan | number): void {
    this.impl().setSendTimeout(Timespan.from(timeout));
  }
  /**
   * The send timeout (0: none).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getSendTimeout(): Timespan {
    return this.impl().getSendTimeout();
  }
  /**
   * Sets TCP_NODELAY (on by default, as POCO sets it on every WebSocket).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setNoDelay(flag: boolean): void {
    this.impl().setNoDelay(flag);
  }
  /**
   * Whether TCP_NODELAY is set.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getNoDelay(): boolean {
    return this.impl().getNoDelay();
  }
  /**
   * Sets TCP keep-alive (SO_KEEPALIVE).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setKeepAlive(flag: boolean): void {
    this.impl().setKeepAlive(flag);
  }
  /**
   * Whether TCP keep-alive is set.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getKeepAlive(): boolean {
    return this.impl().getKeepAlive();
  }
  /**
   * With `on`, `close()` lets written data reach the peer for up to `seconds` (0: `close()` resets
   * the connection instead); without, for up to 10 s.
   *
   * @throws {@link InvalidArgumentException} when `seconds` is not a non-negative integer.
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setLinger(on: boolean, seconds: number): void {
    this.impl().setLinger(on, seconds);
  }
  /**
   * The linger setting.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getLinger(): {
    /** Whether lingering is on. */
    on: boolean;
    /** How long `close()` lets written data reach the peer (0 with `on`: a reset). */
    seconds: number;
  } {
    return this.impl().getLinger();
  }
  /**
   * How many bytes may wait to be sent before `sendFrame` waits (or says -1 when non-blocking).
   * Node.js cannot set SO_SNDBUF on a connected socket: this sizes wsnet's user-space buffer.
   *
   * @throws {@link InvalidArgumentException} when `size` is not a positive integer.
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setSendBufferSize(size: number): void {
    this.impl().setSendBufferSize(size);
  }
  /**
   * The send buffer size in bytes.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getSendBufferSize(): number {
    return this.impl().getSendBufferSize();
  }
  /**
   * How many bytes of received frames may wait to be taken before the socket stops reading
   * (SO_RCVBUF's role; default 1 MiB). A frame larger than this is not read ahead of a
   * `receiveFrame` that can take it.
   *
   * @throws {@link InvalidArgumentException} when `size` is not a positive integer.
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setReceiveBufferSize(size: number): void {
    this.impl().setReceiveBufferSize(size);
  }
  /**
   * The receive buffer size in bytes.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  getReceiveBufferSize(): number {
    return this.impl().getReceiveBufferSize();
  }
  /**
   * Half-closes the receive side: no more frames are read, and `receiveFrame` resolves 0.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdownReceive(): void {
    this.impl().shutdownReceive();
  }
  /**
   * Half-closes the send side (a TCP FIN, no close frame). Returns 0. A send afterwards rejects
   * with {@link IOException} "Broken pipe" (code 32, EPIPE), as POCO's does.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdownSend(): number {
    return this.impl().shutdownSend();
  }
  /**
   * POCO's `StreamSocket::shutdown()`, the TCP-level shutdown of both directions, without a close
   * frame: the peer sees the end of the stream (a FIN), `receiveFrame` resolves 0 with flags 0,
   * and a send rejects with {@link IOException} "Broken pipe" (code 32, EPIPE). Returns 0. The
   * connection stays open until `close()`. In C++, `WebSocket::shutdown()` (the close frame)
   * hides this name, and a `StreamSocket&` reaches it; here it has a name of its own, beside
   * {@link WebSocket.shutdownSend} and {@link WebSocket.shutdownReceive}.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdownSocket(): number {
    return this.impl().shutdown();
  }

  // What a WebSocket cannot do, with POCO's exceptions and messages (WebSocketImpl.cpp).
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  connect(): never {
    throw new InvalidAccessException('Cannot connect() a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  connectNB(): never {
    throw new InvalidAccessException('Cannot connectNB() a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  bind(): never {
    throw new InvalidAccessException('Cannot bind() a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  bind6(): never {
    throw new InvalidAccessException('Cannot bind6() a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  listen(): never {
    throw new InvalidAccessException('Cannot listen() on a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  acceptConnection(): never {
    throw new InvalidAccessException('Cannot acceptConnection() on a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  sendTo(): never {
    throw new InvalidAccessException('Cannot sendTo() on a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  receiveFrom(): never {
    throw new InvalidAccessException('Cannot receiveFrom() on a WebSocketImpl');
  }
  /**
   * Not for a WebSocket, as in POCO.
   *
   * @throws {@link InvalidAccessException} always.
   */
  sendUrgent(): never {
    throw new InvalidAccessException('Cannot sendUrgent() on a WebSocketImpl');
  }
  /** The socket is already initialized: POCO's `poco_assert` fails. */
  init(): never {
    throw new AssertionViolationException('The socket is already initialized');
  }

  // What Node.js cannot do on a connected socket: said, never done silently.
  /**
   * Node.js does not expose SO_REUSEADDR on a connected socket.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  setReuseAddress(): never {
    throw notInNode('setReuseAddress', this);
  }
  /**
   * Node.js does not expose SO_REUSEADDR on a connected socket.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  getReuseAddress(): never {
    throw notInNode('getReuseAddress', this);
  }
  /**
   * Node.js does not expose SO_REUSEPORT on a connected socket.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  setReusePort(): never {
    throw notInNode('setReusePort', this);
  }
  /**
   * Node.js does not expose SO_REUSEPORT on a connected socket.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  getReusePort(): never {
    throw notInNode('getReusePort', this);
  }
  /**
   * Node.js does not expose SO_OOBINLINE.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  setOOBInline(): never {
    throw notInNode('setOOBInline', this);
  }
  /**
   * Node.js does not expose SO_OOBINLINE.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  getOOBInline(): never {
    throw notInNode('getOOBInline', this);
  }
  /**
   * Node.js does not expose raw socket options.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  setOption(): never {
    throw notInNode('setOption', this);
  }
  /**
   * Node.js does not expose raw socket options.
   *
   * @throws {@link NotImplementedException} always; {@link InvalidSocketException} after `close()`.
   */
  getOption(): never {
    throw notInNode('getOption', this);
  }

  /** Always true. */
  static supportsIPv4(): boolean {
    return true;
  }
  /** Always true. */
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

/** What the socket options Node.js lacks throw: InvalidSocketException first, as POCO's would. */
function notInNode(method: string, ws: WebSocket): PocoException {
  if (ws.impl().isClosed()) return new InvalidSocketException('Socket is closed');
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
