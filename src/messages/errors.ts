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
  constructor(
    readonly queuedBytes: number,
    readonly limit: number,
  ) {
    super(`send queue full: ${queuedBytes} bytes waiting for the socket (limit ${limit})`);
  }
}

/**
 * The connection could not be made or the server's answer could not be read: `network` (DNS,
 * refused, reset), `tls` (certificate, handshake), `proxy` (the proxy refused the tunnel;
 * `status` is its answer) or `http` (a malformed or missing HTTP response).
 */
export class NetworkError extends WebSocketError {
  readonly status: number | undefined;
  constructor(
    readonly kind: 'network' | 'tls' | 'proxy' | 'http',
    message: string,
    details: { status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.status = details.status;
  }
}
