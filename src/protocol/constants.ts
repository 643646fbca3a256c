/**
 * The numeric vocabulary of RFC 6455, spelled as POCO spells it (`Poco::Net::WebSocket`'s enums),
 * with POCO's exact values, so that code ported from C++ reads the same in TypeScript.
 *
 * Each constant is exported on its own (that is what the core uses) and grouped in an object named
 * after the POCO enum it belongs to (that is what the POCO facade re-exports as statics).
 */

// --- FrameFlags: the high nibble of the first header byte (RFC 6455 §5.2) ---

/** FIN bit: final fragment of a message. */
export const FRAME_FLAG_FIN = 0x80;
/** RSV1: reserved, must be 0 unless an extension (permessage-deflate) gives it a meaning. */
export const FRAME_FLAG_RSV1 = 0x40;
/** RSV2: reserved, must be 0 unless an extension gives it a meaning. */
export const FRAME_FLAG_RSV2 = 0x20;
/** RSV3: reserved, must be 0 unless an extension gives it a meaning. */
export const FRAME_FLAG_RSV3 = 0x10;

export const FrameFlags = {
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_FLAG_RSV2,
  FRAME_FLAG_RSV3,
} as const;

/** All three reserved bits together. */
export const RSV_MASK = FRAME_FLAG_RSV1 | FRAME_FLAG_RSV2 | FRAME_FLAG_RSV3;

// --- FrameOpcodes: the low nibble of the first header byte (RFC 6455 §5.2, §11.8) ---

export const FRAME_OP_CONT = 0x00;
export const FRAME_OP_TEXT = 0x01;
export const FRAME_OP_BINARY = 0x02;
export const FRAME_OP_CLOSE = 0x08;
export const FRAME_OP_PING = 0x09;
export const FRAME_OP_PONG = 0x0a;
/** Mask that extracts the opcode from the first header byte. */
export const FRAME_OP_BITMASK = 0x0f;
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

/** The opcodes RFC 6455 defines; the others (3-7, 0xB-0xF) are reserved. */
export type Opcode =
  | typeof FRAME_OP_CONT
  | typeof FRAME_OP_TEXT
  | typeof FRAME_OP_BINARY
  | typeof FRAME_OP_CLOSE
  | typeof FRAME_OP_PING
  | typeof FRAME_OP_PONG;

/** Opcodes with the high bit set (0x8-0xF) are control frames (RFC 6455 §5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/** True for the six opcodes RFC 6455 defines. */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode <= FRAME_OP_BINARY || (opcode >= FRAME_OP_CLOSE && opcode <= FRAME_OP_PONG);
}

// --- SendFlags: first header bytes for the common single-frame messages ---

/** FIN | TEXT: a whole text message in one frame. */
export const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;
/** FIN | BINARY: a whole binary message in one frame. */
export const FRAME_BINARY = FRAME_FLAG_FIN | FRAME_OP_BINARY;

export const SendFlags = { FRAME_TEXT, FRAME_BINARY } as const;

// --- StatusCodes: close codes (RFC 6455 §7.4.1, IANA "WebSocket Close Code Number Registry") ---

export const WS_NORMAL_CLOSE = 1000;
export const WS_ENDPOINT_GOING_AWAY = 1001;
export const WS_PROTOCOL_ERROR = 1002;
export const WS_PAYLOAD_NOT_ACCEPTABLE = 1003;
export const WS_RESERVED = 1004;
/** Never on the wire: "no status code was present" (RFC 6455 §7.4.1). */
export const WS_RESERVED_NO_STATUS_CODE = 1005;
/** Never on the wire: "the connection was closed abnormally", without a close frame. */
export const WS_RESERVED_ABNORMAL_CLOSE = 1006;
export const WS_MALFORMED_PAYLOAD = 1007;
export const WS_POLICY_VIOLATION = 1008;
export const WS_PAYLOAD_TOO_BIG = 1009;
export const WS_EXTENSION_REQUIRED = 1010;
export const WS_UNEXPECTED_CONDITION = 1011;
/** Never on the wire: "the TLS handshake failed". */
export const WS_RESERVED_TLS_FAILURE = 1015;

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

// --- Handshake constants (RFC 6455 §1.3, §4.1) ---

/** The only protocol version RFC 6455 defines; POCO's `WebSocket::WEBSOCKET_VERSION`. */
export const WEBSOCKET_VERSION = '13';
/** Appended to the client's key before hashing it into `Sec-WebSocket-Accept` (RFC 6455 §1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// --- Sizes (RFC 6455 §5.2, §5.5) ---

/** Control frames carry at most 125 payload bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** A close reason fits in a control frame after the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
/** 2 bytes + 8-byte extended length + 4-byte mask. */
export const MAX_HEADER_LENGTH = 14;
