/**
 * POCO's `WebSocketException` for each handshake check of the protocol core: POCO's error code
 * and POCO's message (POCO's Net/src/WebSocket.cpp). The core names the rule (`HandshakeError`'s
 * `reason`) in RFC 6455's terms; what POCO calls it lives here.
 */
import type { HandshakeError, HandshakeErrorReason } from '../protocol/errors.js';
import {
  WS_ERR_HANDSHAKE_ACCEPT,
  WS_ERR_HANDSHAKE_NO_KEY,
  WS_ERR_HANDSHAKE_NO_VERSION,
  WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION,
  WS_ERR_NO_HANDSHAKE,
  WS_ERR_UNAUTHORIZED,
  type ErrorCode,
} from './constants.js';
import { WebSocketException } from './exceptions.js';

const POCO_HANDSHAKE_ERRORS = {
  // Server side, POCO's four checks, in POCO's order.
  NO_HANDSHAKE: [WS_ERR_NO_HANDSHAKE, 'No WebSocket handshake'],
  NO_VERSION: [WS_ERR_HANDSHAKE_NO_VERSION, 'Missing Sec-WebSocket-Version in handshake request'],
  UNSUPPORTED_VERSION: [
    WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION,
    'Unsupported WebSocket version requested',
  ],
  NO_KEY: [WS_ERR_HANDSHAKE_NO_KEY, 'Missing Sec-WebSocket-Key in handshake request'],
  // Server side, RFC 6455 §4.2.1 checks POCO does not make (never reached under POCO's policy).
  METHOD_NOT_GET: [WS_ERR_NO_HANDSHAKE, 'WebSocket handshake requires the GET method'],
  HTTP_VERSION: [WS_ERR_NO_HANDSHAKE, 'WebSocket handshake requires HTTP/1.1 or later'],
  NO_HOST: [WS_ERR_NO_HANDSHAKE, 'Missing Host in handshake request'],
  INVALID_KEY: [WS_ERR_HANDSHAKE_NO_KEY, 'Invalid Sec-WebSocket-Key in handshake request'],
  INVALID_HEADER: [WS_ERR_NO_HANDSHAKE, 'Malformed header in WebSocket handshake'],
  // Client side (POCO's WebSocket::connect and completeHandshake).
  UNAUTHORIZED: [WS_ERR_UNAUTHORIZED, 'Not authorized'],
  NOT_UNDERSTOOD: [WS_ERR_NO_HANDSHAKE, 'The server does not understand the WebSocket protocol'],
  CANNOT_UPGRADE: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
  NO_CONNECTION_UPGRADE: [
    WS_ERR_NO_HANDSHAKE,
    'No Connection: Upgrade header in handshake response',
  ],
  NO_UPGRADE_WEBSOCKET: [WS_ERR_NO_HANDSHAKE, 'No Upgrade: websocket header in handshake response'],
  INVALID_ACCEPT: [
    WS_ERR_HANDSHAKE_ACCEPT,
    'Invalid or missing Sec-WebSocket-Accept header in handshake response',
  ],
  UNEXPECTED_SUBPROTOCOL: [
    WS_ERR_NO_HANDSHAKE,
    'Server selected a subprotocol the client did not offer',
  ],
  UNEXPECTED_EXTENSION: [
    WS_ERR_NO_HANDSHAKE,
    'Server selected an extension the client did not offer',
  ],
  // The POCO facade never offers an extension; listed for completeness of the reasons.
  INVALID_EXTENSION_RESPONSE: [
    WS_ERR_NO_HANDSHAKE,
    'Server accepted permessage-deflate with invalid parameters',
  ],
  // POCO's WebSocket follows no redirect (a 3xx is "Cannot upgrade"): these are the message
  // API's, listed for completeness of the reasons.
  INVALID_REDIRECT: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
  REDIRECT_SCHEME: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
  REDIRECT_DOWNGRADE: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
  REDIRECT_LOOP: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
  TOO_MANY_REDIRECTS: [WS_ERR_NO_HANDSHAKE, 'Cannot upgrade to WebSocket connection'],
} as const satisfies Record<HandshakeErrorReason, readonly [ErrorCode, string]>;

/** POCO's code for a handshake check. */
export function pocoErrorCode(reason: HandshakeErrorReason): ErrorCode {
  return POCO_HANDSHAKE_ERRORS[reason][0];
}

/**
 * The `WebSocketException` POCO throws for a refused handshake: POCO's message, with the
 * offending value as its argument when there is one (`displayText()` joins them with ": ").
 */
export function webSocketExceptionFor(error: HandshakeError): WebSocketException {
  const [code, message] = POCO_HANDSHAKE_ERRORS[error.reason];
  return new WebSocketException(message, error.arg ?? code, error.arg === undefined ? 0 : code, {
    cause: error,
  });
}
