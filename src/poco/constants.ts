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

/**
 * POCO's `WebSocket::FrameFlags`: the bits of a frame's first header byte other than the opcode.
 */
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

/**
 * POCO's `WebSocket::FrameOpcodes`: the opcodes (the low 4 bits of the first header byte), the mask
 * that extracts them, and `FRAME_OP_SETRAW`.
 */
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

/**
 * POCO's `WebSocket::SendFlags`: the first header byte of a whole message in one frame.
 */
export const SendFlags = { FRAME_TEXT, FRAME_BINARY } as const;

// --- StatusCodes: POCO names the close codes of RFC 6455 §7.4.1 (not 1012-1014) ---

/** 1000: normal closure. */
export const WS_NORMAL_CLOSE = CloseCode.NORMAL_CLOSURE;
/** 1001: the endpoint is going away (server shutdown, page left). */
export const WS_ENDPOINT_GOING_AWAY = CloseCode.GOING_AWAY;
/** 1002: the peer broke the protocol. */
export const WS_PROTOCOL_ERROR = CloseCode.PROTOCOL_ERROR;
/** 1003: a kind of data the endpoint cannot accept. */
export const WS_PAYLOAD_NOT_ACCEPTABLE = CloseCode.UNSUPPORTED_DATA;
/** 1004: reserved. */
export const WS_RESERVED = CloseCode.RESERVED;
/** 1005: no status code was present (never sent on the wire). */
export const WS_RESERVED_NO_STATUS_CODE = CloseCode.NO_STATUS_RECEIVED;
/** 1006: the connection closed without a close frame (never sent on the wire). */
export const WS_RESERVED_ABNORMAL_CLOSE = CloseCode.ABNORMAL_CLOSURE;
/** 1007: data inconsistent with the message's type (e.g. text that is not UTF-8). */
export const WS_MALFORMED_PAYLOAD = CloseCode.INVALID_PAYLOAD_DATA;
/** 1008: a message that violates the endpoint's policy. */
export const WS_POLICY_VIOLATION = CloseCode.POLICY_VIOLATION;
/** 1009: a message too big to process. */
export const WS_PAYLOAD_TOO_BIG = CloseCode.MESSAGE_TOO_BIG;
/** 1010: the client expected an extension the server did not negotiate. */
export const WS_EXTENSION_REQUIRED = CloseCode.MANDATORY_EXTENSION;
/** 1011: the server met an unexpected condition. */
export const WS_UNEXPECTED_CONDITION = CloseCode.INTERNAL_ERROR;
/** 1015: the TLS handshake failed (never sent on the wire). */
export const WS_RESERVED_TLS_FAILURE = CloseCode.TLS_HANDSHAKE;

/**
 * POCO's `WebSocket::StatusCodes`: the close codes of RFC 6455 §7.4.1 under POCO's names (the same
 * values as {@link CloseCode}'s).
 */
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

/**
 * 1: the request is not a WebSocket upgrade (no `Upgrade: websocket` / `Connection: Upgrade`), or
 * the server's response is not a 101.
 */
export const WS_ERR_NO_HANDSHAKE = 1;
/** 2: the upgrade request has no `Sec-WebSocket-Version`. */
export const WS_ERR_HANDSHAKE_NO_VERSION = 2;
/** 3: the upgrade request asks for a WebSocket version other than 13. */
export const WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION = 3;
/** 4: the upgrade request has no `Sec-WebSocket-Key`. */
export const WS_ERR_HANDSHAKE_NO_KEY = 4;
/** 5: the server's `Sec-WebSocket-Accept` is missing or wrong. */
export const WS_ERR_HANDSHAKE_ACCEPT = 5;
/**
 * 6: the server asked for credentials (401) that were missing, refused again, or of a scheme the
 * client cannot answer.
 */
export const WS_ERR_UNAUTHORIZED = 6;
/** 10: a received frame is larger than the buffer given to `receiveFrame` or the receive limit. */
export const WS_ERR_PAYLOAD_TOO_BIG = 10;
/** 11: the connection ended in the middle of a frame. */
export const WS_ERR_INCOMPLETE_FRAME = 11;

/**
 * POCO's `WebSocket::ErrorCodes`: the {@link PocoException.code | code()} of a
 * {@link WebSocketException}. 7-9 are unused, as in POCO.
 */
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

/** The server side of a WebSocket (frames received are masked, frames sent are not). */
export const WS_SERVER = 0;
/** The client side of a WebSocket (frames sent are masked). */
export const WS_CLIENT = 1;
/**
 * POCO's `WebSocket::Mode`: which side of the connection a {@link WebSocket} is.
 */
export const Mode = { WS_SERVER, WS_CLIENT } as const;
