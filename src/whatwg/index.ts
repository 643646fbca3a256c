/**
 * wsnet's WHATWG-compatible client: `import { WebSocket } from 'wsnet/whatwg'` is a drop-in for
 * the browser's and Node 22's global `WebSocket`, on wsnet's message API, with an optional third
 * constructor argument for wsnet's `connect()` options (headers, proxy, TLS, credentials,
 * permessage-deflate, limits, heartbeat).
 *
 * @module wsnet/whatwg
 */
export {
  WebSocket,
  type BinaryType,
  type WebSocketData,
  type WebSocketOptions,
} from './websocket.js';
export { CloseEvent, ErrorEvent, type CloseEventInit, type ErrorEventInit } from './events.js';
