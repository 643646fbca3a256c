/**
 * Errors of the message API that the protocol core has no use for. Everything else comes from
 * the core: `ProtocolError` (the peer broke RFC 6455), `HandshakeError`, `ConnectionClosedError`,
 * `InvalidStateError`, `InvalidArgumentError`.
 */
import { WebSocketError } from '../protocol/errors.js';

/**
 * Something did not happen in time: the opening handshake, or a heartbeat ping's pong (the
 * `cause` of the connection's close status). A close that times out is not an error: `close()`
 * resolves with `wasClean: false`.
 */
export class TimeoutError extends WebSocketError {
  /**
   * @param operation - `handshake` (the opening handshake's `handshakeTimeout`) or `ping` (the
   * heartbeat's pong did not come in time).
   * @param timeoutMs - the limit that passed, in milliseconds.
   */
  constructor(
    readonly operation: 'handshake' | 'ping',
    readonly timeoutMs: number,
  ) {
    super(`${operation} timed out after ${timeoutMs} ms`);
  }
}

/**
 * `send()` would make the queue of messages waiting for the socket larger than
 * `maxQueuedBytes`: the peer reads too slowly for what the application sends. Awaiting each
 * `send()` never gets here.
 */
export class SendQueueFullError extends WebSocketError {
  /**
   * @param queuedBytes - the bytes that would wait for the socket with this message.
   * @param limit - `maxQueuedBytes`.
   */
  constructor(
    readonly queuedBytes: number,
    readonly limit: number,
  ) {
    super(`send queue full: ${queuedBytes} bytes waiting for the socket (limit ${limit})`);
  }
}

/**
 * The connection could not be made or the server's answer could not be read: `network` (DNS,
 * refused, reset), `tls` (certificate, handshake, or a TLS stream that fails before the 101: a
 * bad record), `proxy` (the proxy refused the tunnel; `status` is its answer) or `http` (a
 * malformed or missing HTTP response, the server's or a proxy's: garbage in answer to the
 * CONNECT, or a connection closed before the answer).
 */
export class NetworkError extends WebSocketError {
  /** The proxy's HTTP status, for `proxy`. */
  readonly status: number | undefined;
  /**
   * @param kind - what failed: `network`, `tls`, `proxy` or `http`.
   * @param message - what happened.
   * @param details - the proxy's `status` and the `cause` (the Node.js error).
   */
  constructor(
    readonly kind: 'network' | 'tls' | 'proxy' | 'http',
    message: string,
    details: { status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.status = details.status;
  }
}
