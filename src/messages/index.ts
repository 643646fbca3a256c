/**
 * wsnet's message API: RFC-strict WebSocket connections that reassemble, validate, answer pings
 * and run the closing handshake themselves. A sibling of the POCO facade over the same I/O
 * layer and protocol core.
 *
 * The error classes a user of this API meets are exported here too, so that `instanceof` works
 * without importing the protocol core: `HandshakeError` (`connect()` refused or answered
 * wrongly), `InvalidArgumentError` (a bad URL, option, close code or text), `ConnectionClosedError`
 * (`send`, `receive`, `ping` on a closed connection), `ProtocolError` (the peer broke RFC 6455:
 * the `error` event and the close's cause), this module's own `NetworkError`, `TimeoutError` and
 * `SendQueueFullError`, and `WebSocketError`, the base of them all. (`InvalidStateError` is not:
 * the message API checks the state itself and rejects with `ConnectionClosedError`.) They are the
 * same classes as in `wsnet` and `wsnet/protocol`.
 *
 * @module wsnet/messages
 */
export {
  WebSocketConnection,
  type CloseStatus,
  type ConnectionPublishOptions,
  type ConnectionSettings,
  type HeartbeatSettings,
  type Message,
  type SendOptions,
  type WebSocketConnectionEvents,
} from './connection.js';
export { isText } from './text.js';
export type { PerMessageDeflateOption, PerMessageDeflateOptions } from './compression.js';
export {
  WebSocketServer,
  type AcceptDecision,
  type BroadcastOptions,
  type PublishOptions,
  type Rejection,
  type ServerOptions,
  type UpgradeContext,
  type WebSocketServerEvents,
} from './server.js';
export type { PubSubAdapter, PubSubHost } from './adapter.js';
export type { SlowSubscriberAction, SlowSubscriberPolicy } from './fan-out.js';
export { connect, type ConnectOptions, type Credentials } from './client.js';
export {
  Reconnecting,
  isRetryable,
  reconnecting,
  type AttemptInfo,
  type BackoffOptions,
  type ReconnectOptions,
  type RetryInfo,
  type ReconnectingEvents,
  type StopReason,
} from './reconnect.js';
export { NetworkError, SendQueueFullError, TimeoutError } from './errors.js';
export {
  ConnectionClosedError,
  HandshakeError,
  InvalidArgumentError,
  ProtocolError,
  WebSocketError,
} from '../protocol/errors.js';
