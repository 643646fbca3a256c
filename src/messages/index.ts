/**
 * wsnet's message API: RFC-strict WebSocket connections that reassemble, validate, answer pings
 * and run the closing handshake themselves. A sibling of the POCO facade over the same I/O
 * layer and protocol core.
 *
 * @module wsnet/messages
 */
export {
  WebSocketConnection,
  type CloseStatus,
  type ConnectionSettings,
  type Message,
  type SendOptions,
  type WebSocketConnectionEvents,
} from './connection.js';
export type { PerMessageDeflateOption, PerMessageDeflateOptions } from './compression.js';
export {
  WebSocketServer,
  type AcceptDecision,
  type Rejection,
  type ServerOptions,
  type UpgradeContext,
  type WebSocketServerEvents,
} from './server.js';
export { connect, type ConnectOptions, type Credentials } from './client.js';
export { NetworkError, SendQueueFullError, TimeoutError } from './errors.js';
