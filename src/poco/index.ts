/**
 * The POCO facade: `Poco::Net`'s names and semantics (WebSocket, HTTPServer, ...) over wsnet's
 * I/O layer and protocol core.
 */
export {
  AssertionViolationException,
  ConnectionAbortedException,
  ConnectionRefusedException,
  ConnectionResetException,
  FileNotFoundException,
  HTTPException,
  HostNotFoundException,
  IOException,
  IllegalStateException,
  InvalidAccessException,
  InvalidAddressException,
  InvalidArgumentException,
  InvalidSocketException,
  LogicException,
  MessageException,
  NetException,
  NoMessageException,
  NotAuthenticatedException,
  NotFoundException,
  NotImplementedException,
  PocoException,
  RuntimeException,
  SSLException,
  ServiceNotFoundException,
  TimeoutException,
  WebSocketException,
} from './exceptions.js';
export { Timespan } from './timespan.js';
export { SocketAddress } from './socket-address.js';
export { Context, SecureServerSocket, ServerSocket } from './server-socket.js';
export { MessageHeader, NameValueCollection } from './name-value-collection.js';
export { HTTPMessage, HTTPRequest, HTTPResponse } from './http-message.js';
export { HTTPServerParams } from './http-server-params.js';
export {
  HTTPClientSession,
  HTTPSClientSession,
  type RequestStream,
} from './http-client-session.js';
export { HTTPCredentials } from './http-credentials.js';
export { HTTPServerRequest } from './http-server-request.js';
export { HTTPServerResponse } from './http-server-response.js';
export type { ResponseBody } from './response-writer.js';
export {
  HTTPServer,
  type HTTPRequestHandler,
  type HTTPRequestHandlerFactory,
  type HandlerErrorListener,
} from './http-server.js';
export { PocoBuffer } from './poco-buffer.js';
export { ServerApplication, waitForTerminationRequest } from './server-application.js';
export { WebSocket, type ReceivedFrame, type ReceivedPayload } from './websocket.js';
export { WebSocketImpl } from './websocket-impl.js';
