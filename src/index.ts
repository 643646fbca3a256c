/**
 * wsnet: RFC 6455 WebSockets for Node.js.
 *
 * The public surface is curated here and pinned by test/exports.test.ts: the POCO facade
 * (`Poco::Net`'s names), POCO's enums, the connection state machine and its error classes. The
 * whole protocol core (frame codec, masking, UTF-8, header grammars, handshake checks) is
 * published on its own as `wsnet/protocol`; the message API (`connect`, `WebSocketServer`,
 * `WebSocketConnection`) is here and also on its own as `wsnet/messages`.
 *
 * @module wsnet
 */
export * from './poco/index.js';
export * from './messages/index.js';
export {
  ErrorCodes,
  FrameFlags,
  FrameOpcodes,
  Mode,
  SendFlags,
  StatusCodes,
  WEBSOCKET_VERSION,
} from './poco/constants.js';
export { CloseCode } from './protocol/constants.js';
export {
  Connection,
  POCO_POLICY,
  RFC_POLICY,
  ReadyState,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionPolicy,
  type Role,
} from './protocol/connection.js';
export {
  ConnectionClosedError,
  HandshakeError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  WebSocketError,
} from './protocol/errors.js';
export { computeAccept, createKey } from './protocol/handshake/keys.js';
