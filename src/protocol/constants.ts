/**
 * The numbers of RFC 6455: frame header bits, opcodes, close codes, the handshake's version and
 * GUID, and the sizes the RFC fixes.
 *
 * Names of header bits and opcodes follow the frame diagram of §5.2 (`FRAME_FLAG_FIN`,
 * `FRAME_OP_TEXT`...). Close codes carry the names of the IANA "WebSocket Close Code Number
 * Registry" (`CloseCode.NORMAL_CLOSURE`...). POCO's spellings of the same values, and POCO's own
 * vocabulary (error codes, `Mode`, `FRAME_OP_SETRAW`), live in the POCO facade
 * (`src/poco/constants.ts`).
 */

// --- The first header byte (§5.2): FIN, RSV1-3, opcode ---

/** FIN bit: final fragment of a message. */
export const FRAME_FLAG_FIN = 0x80;
/** RSV1: reserved, must be 0 unless an extension (permessage-deflate) gives it a meaning. */
export const FRAME_FLAG_RSV1 = 0x40;
/** RSV2: reserved, must be 0 unless an extension gives it a meaning. */
export const FRAME_FLAG_RSV2 = 0x20;
/** RSV3: reserved, must be 0 unless an extension gives it a meaning. */
export const FRAME_FLAG_RSV3 = 0x10;
/** All three reserved bits together. */
export const RSV_MASK = FRAME_FLAG_RSV1 | FRAME_FLAG_RSV2 | FRAME_FLAG_RSV3;

/** Opcode 0x0: a continuation frame (a later fragment of a message). */
export const FRAME_OP_CONT = 0x00;
/** Opcode 0x1: a text frame (UTF-8). */
export const FRAME_OP_TEXT = 0x01;
/** Opcode 0x2: a binary frame. */
export const FRAME_OP_BINARY = 0x02;
/** Opcode 0x8: a close frame. */
export const FRAME_OP_CLOSE = 0x08;
/** Opcode 0x9: a ping. */
export const FRAME_OP_PING = 0x09;
/** Opcode 0xA: a pong. */
export const FRAME_OP_PONG = 0x0a;
/** Mask that extracts the opcode from the first header byte. */
export const FRAME_OP_BITMASK = 0x0f;

/** The opcodes RFC 6455 defines; the others (3-7, 0xB-0xF) are reserved. */
export type Opcode =
  | typeof FRAME_OP_CONT
  | typeof FRAME_OP_TEXT
  | typeof FRAME_OP_BINARY
  | typeof FRAME_OP_CLOSE
  | typeof FRAME_OP_PING
  | typeof FRAME_OP_PONG;

/** Opcodes with the high bit set (0x8-0xF) are control frames (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/** True for the six opcodes RFC 6455 defines. */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode <= FRAME_OP_BINARY || (opcode >= FRAME_OP_CLOSE && opcode <= FRAME_OP_PONG);
}

// --- Close codes (§7.4.1; 1012-1014 registered with IANA since) ---

/**
 * The close codes of RFC 6455 §7.4.1 (and 1012-1014, registered with IANA since), with the IANA
 * registry's names. Codes 1004-1006 and 1015 are never sent on the wire; 3000-4999 are for
 * libraries and applications.
 */
export const CloseCode = {
  /** 1000: the purpose of the connection was fulfilled. */
  NORMAL_CLOSURE: 1000,
  /** 1001: the endpoint is going away (server shutdown, page left, idle timeout). */
  GOING_AWAY: 1001,
  /** 1002: the peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** 1003: a kind of data the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** Reserved: never on the wire. */
  RESERVED: 1004,
  /** Never on the wire: "no status code was actually present" (§7.4.1). */
  NO_STATUS_RECEIVED: 1005,
  /** Never on the wire: the connection closed without a close frame (§7.1.5). */
  ABNORMAL_CLOSURE: 1006,
  /** 1007: data inconsistent with the message's type (e.g. text that is not UTF-8). */
  INVALID_PAYLOAD_DATA: 1007,
  /** 1008: a message that violates the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** 1009: a message too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1010: the client expected an extension the server did not negotiate. */
  MANDATORY_EXTENSION: 1010,
  /** 1011: the server met an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** 1012: the service is restarting. */
  SERVICE_RESTART: 1012,
  /** 1013: temporary overload; try again later. */
  TRY_AGAIN_LATER: 1013,
  /** 1014: a gateway or proxy got an invalid response from upstream. */
  BAD_GATEWAY: 1014,
  /** Never on the wire: the TLS handshake failed. */
  TLS_HANDSHAKE: 1015,
} as const;

// --- The opening handshake (§1.3, §4.1) ---

/** The only protocol version RFC 6455 defines (`Sec-WebSocket-Version`). */
export const WEBSOCKET_VERSION = '13';
/** Appended to the client's key before hashing it into `Sec-WebSocket-Accept` (§1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// --- Sizes (§5.2, §5.5) ---

/** Control frames carry at most 125 payload bytes (§5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** A close reason fits in a control frame after the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
/** 2 bytes + 8-byte extended length + 4-byte mask. */
export const MAX_HEADER_LENGTH = 14;
