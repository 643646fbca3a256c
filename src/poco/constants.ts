/**
 * POCO's vocabulary: `Poco::Net::WebSocket`'s enums with POCO's exact names and values, so that
 * code ported from C++ reads the same in TypeScript. The values of RFC 6455 come from the
 * protocol core; what is POCO's alone is defined here: the error codes of `WebSocketException`,
 * `Mode`, and `FRAME_OP_SETRAW`.
 *
 * Each constant is exported on its own and grouped in an object named after the POCO enum it
 * belongs to (what the `WebSocket` class re-exports as statics, and the package as the enums).
 */
import {
  CloseCode,
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_FLAG_RSV2,
  FRAME_FLAG_RSV3,
  FRAME_OP_BINARY,
  FRAME_OP_BITMASK,
  FRAME_OP_CLOSE,
  FRAME_OP_CONT,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_TEXT,
  WEBSOCKET_VERSION,
} from '../protocol/constants.js';

export {
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_FLAG_RSV2,
  FRAME_FLAG_RSV3,
  FRAME_OP_BINARY,
  FRAME_OP_BITMASK,
  FRAME_OP_CLOSE,
  FRAME_OP_CONT,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_TEXT,
  WEBSOCKET_VERSION,
};

// --- FrameFlags ---

export const FrameFlags = {
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_FLAG_RSV2,
  FRAME_FLAG_RSV3,
} as const;

// --- FrameOpcodes ---

/**
 * POCO ORs this into the flags of `sendFrame` so that `flags == 0` (a non-final continuation
 * frame) is not mistaken for "no flags given" (POCO GH #550). It never reaches the wire.
 */
export const FRAME_OP_SETRAW = 0x100;

export const FrameOpcodes = {
  FRAME_OP_CONT,
  FRAME_OP_TEXT,
  FRAME_OP_BINARY,
  FRAME_OP_CLOSE,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_BITMASK,
  FRAME_OP_SETRAW,
} as const;

// --- SendFlags: first header bytes for the common single-frame messages ---

/** FIN | TEXT: a whole text message in one frame. */
export const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;
/** FIN | BINARY: a whole binary message in one frame. */
export const FRAME_BINARY = FRAME_FLAG_FIN | FRAME_OP_BINARY;

export const SendFlags = { FRAME_TEXT, FRAME_BINARY } as const;

// --- StatusCodes: POCO names the close codes of RFC 6455 §7.4.1 (not 1012-1014) ---

export const WS_NORMAL_CLOSE = CloseCode.NORMAL_CLOSURE;
export const WS_ENDPOINT_GOING_AWAY = CloseCode.GOING_AWAY;
export const WS_PROTOCOL_ERROR = CloseCode.PROTOCOL_ERROR;
export const WS_PAYLOAD_NOT_ACCEPTABLE = CloseCode.UNSUPPORTED_DATA;
export const WS_RESERVED = CloseCode.RESERVED;
export const WS_RESERVED_NO_STATUS_CODE = CloseCode.NO_STATUS_RECEIVED;
export const WS_RESERVED_ABNORMAL_CLOSE = CloseCode.ABNORMAL_CLOSURE;
export const WS_MALFORMED_PAYLOAD = CloseCode.INVALID_PAYLOAD_DATA;
export const WS_POLICY_VIOLATION = CloseCode.POLICY_VIOLATION;
export const WS_PAYLOAD_TOO_BIG = CloseCode.MESSAGE_TOO_BIG;
export const WS_EXTENSION_REQUIRED = CloseCode.MANDATORY_EXTENSION;
export const WS_UNEXPECTED_CONDITION = CloseCode.INTERNAL_ERROR;
export const WS_RESERVED_TLS_FAILURE = CloseCode.TLS_HANDSHAKE;

export const StatusCodes = {
  WS_NORMAL_CLOSE,
  WS_ENDPOINT_GOING_AWAY,
  WS_PROTOCOL_ERROR,
  WS_PAYLOAD_NOT_ACCEPTABLE,
  WS_RESERVED,
  WS_RESERVED_NO_STATUS_CODE,
  WS_RESERVED_ABNORMAL_CLOSE,
  WS_MALFORMED_PAYLOAD,
  WS_POLICY_VIOLATION,
  WS_PAYLOAD_TOO_BIG,
  WS_EXTENSION_REQUIRED,
  WS_UNEXPECTED_CONDITION,
  WS_RESERVED_TLS_FAILURE,
} as const;

// --- ErrorCodes: what POCO's WebSocketException::code() returns (7-9 are unused) ---

export const WS_ERR_NO_HANDSHAKE = 1;
export const WS_ERR_HANDSHAKE_NO_VERSION = 2;
export const WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION = 3;
export const WS_ERR_HANDSHAKE_NO_KEY = 4;
export const WS_ERR_HANDSHAKE_ACCEPT = 5;
export const WS_ERR_UNAUTHORIZED = 6;
export const WS_ERR_PAYLOAD_TOO_BIG = 10;
export const WS_ERR_INCOMPLETE_FRAME = 11;

export const ErrorCodes = {
  WS_ERR_NO_HANDSHAKE,
  WS_ERR_HANDSHAKE_NO_VERSION,
  WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION,
  WS_ERR_HANDSHAKE_NO_KEY,
  WS_ERR_HANDSHAKE_ACCEPT,
  WS_ERR_UNAUTHORIZED,
  WS_ERR_PAYLOAD_TOO_BIG,
  WS_ERR_INCOMPLETE_FRAME,
} as const;

/** One of POCO's `WebSocket::ErrorCodes`. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

// --- Mode ---

export const WS_SERVER = 0;
export const WS_CLIENT = 1;
export const Mode = { WS_SERVER, WS_CLIENT } as const;
