/**
 * The error tree of the protocol core.
 *
 * Callers catch by category:
 * - {@link ProtocolError}: the *peer* broke RFC 6455. The core never throws it out of
 *   `receiveData`; it fails the connection with `closeCode` and reports the error as an event.
 * - {@link InvalidStateError} / {@link InvalidArgumentError}: the *local* caller misused the API
 *   (sending after close, a control payload over 125 bytes...). Thrown synchronously.
 * - {@link HandshakeError}: the opening handshake was refused; carries POCO's error code.
 * - {@link ConnectionClosedError}: the operation needs an open connection and it is gone.
 *
 * Inside each class a string-literal `reason` names the one rule that was broken, so that code
 * and tests can match on it without parsing messages.
 */
import {
  WS_ERR_HANDSHAKE_ACCEPT,
  WS_ERR_HANDSHAKE_NO_KEY,
  WS_ERR_HANDSHAKE_NO_VERSION,
  WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION,
  WS_ERR_NO_HANDSHAKE,
  WS_ERR_UNAUTHORIZED,
  WS_MALFORMED_PAYLOAD,
  WS_PAYLOAD_TOO_BIG,
  WS_PROTOCOL_ERROR,
  WS_RESERVED_ABNORMAL_CLOSE,
  WS_UNEXPECTED_CONDITION,
  type ErrorCode,
} from './constants.js';

/** Base class of every error the core defines. */
export abstract class WebSocketError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

// --- ProtocolError: the peer broke the protocol ---

/**
 * One entry per receive rule of RFC 6455: the close code the connection is failed with and the
 * message. The section in the message is where the rule is written.
 */
const PROTOCOL_RULES = {
  UNMASKED_FRAME: [WS_PROTOCOL_ERROR, 'a client frame was not masked (RFC 6455 §5.1)'],
  MASKED_FRAME: [WS_PROTOCOL_ERROR, 'a server frame was masked (RFC 6455 §5.1)'],
  RESERVED_BITS: [
    WS_PROTOCOL_ERROR,
    'reserved bits set without a negotiated extension (RFC 6455 §5.2)',
  ],
  RESERVED_OPCODE: [WS_PROTOCOL_ERROR, 'reserved opcode (RFC 6455 §5.2)'],
  LENGTH_MSB_SET: [
    WS_PROTOCOL_ERROR,
    'the most significant bit of a 64-bit length is set (RFC 6455 §5.2)',
  ],
  CONTROL_FRAME_TOO_LONG: [
    WS_PROTOCOL_ERROR,
    'control frame payload over 125 bytes (RFC 6455 §5.5)',
  ],
  FRAGMENTED_CONTROL_FRAME: [WS_PROTOCOL_ERROR, 'fragmented control frame (RFC 6455 §5.5)'],
  UNEXPECTED_CONTINUATION: [
    WS_PROTOCOL_ERROR,
    'continuation frame without a message to continue (RFC 6455 §5.4)',
  ],
  EXPECTED_CONTINUATION: [
    WS_PROTOCOL_ERROR,
    'new data frame while a fragmented message is incomplete (RFC 6455 §5.4)',
  ],
  INVALID_CLOSE_PAYLOAD: [WS_PROTOCOL_ERROR, 'close frame payload of 1 byte (RFC 6455 §5.5.1)'],
  INVALID_CLOSE_CODE: [WS_PROTOCOL_ERROR, 'invalid close code (RFC 6455 §7.4)'],
  INVALID_UTF8: [WS_MALFORMED_PAYLOAD, 'text message is not valid UTF-8 (RFC 6455 §8.1)'],
  INVALID_CLOSE_REASON: [WS_MALFORMED_PAYLOAD, 'close reason is not valid UTF-8 (RFC 6455 §5.5.1)'],
  FRAME_TOO_BIG: [WS_PAYLOAD_TOO_BIG, 'frame payload over the size limit'],
  MESSAGE_TOO_BIG: [WS_PAYLOAD_TOO_BIG, 'message over the size limit'],
  INCOMPLETE_FRAME: [WS_RESERVED_ABNORMAL_CLOSE, 'the connection ended in the middle of a frame'],
  // Not the peer's fault: a bug of ours. The peer gets 1011 and no details (they may be sensitive).
  INTERNAL_ERROR: [WS_UNEXPECTED_CONDITION, 'internal error'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProtocolErrorReason = keyof typeof PROTOCOL_RULES;
/** The close codes a protocol violation leads to; 1006 means "closed without a close frame". */
export type FailureCloseCode = (typeof PROTOCOL_RULES)[ProtocolErrorReason][0];

export class ProtocolError extends WebSocketError {
  /** The close code the connection is failed with. */
  readonly closeCode: FailureCloseCode;

  constructor(
    readonly reason: ProtocolErrorReason,
    detail?: string,
    options?: ErrorOptions,
  ) {
    const [closeCode, text] = PROTOCOL_RULES[reason];
    super(detail === undefined ? text : `${text}: ${detail}`, options);
    this.closeCode = closeCode;
  }
}

// --- Local misuse ---

export type InvalidStateReason =
  /** Sending or receiving frames before the opening handshake completed. */
  | 'CONNECTING'
  /** `open()` on a connection that is not CONNECTING. */
  | 'NOT_CONNECTING'
  /** A frame after our close frame (a second close frame included). */
  | 'CLOSE_SENT'
  /** A frame after the transport has closed. */
  | 'CONNECTION_CLOSED'
  /** `sendText`/`sendBinary` while a fragmented message is being sent. */
  | 'MESSAGE_IN_PROGRESS'
  /** `sendContinuation` without a fragmented message to continue. */
  | 'NO_MESSAGE_IN_PROGRESS';

export class InvalidStateError extends WebSocketError {
  constructor(
    readonly reason: InvalidStateReason,
    message: string,
  ) {
    super(message);
  }
}

export type InvalidArgumentReason =
  | 'CONTROL_PAYLOAD_TOO_LONG'
  | 'INVALID_CLOSE_CODE'
  | 'CLOSE_REASON_TOO_LONG'
  | 'CLOSE_REASON_WITHOUT_CODE'
  | 'INVALID_UTF8'
  | 'INVALID_FRAME_FLAGS'
  | 'INVALID_OPTION';

export class InvalidArgumentError extends WebSocketError {
  constructor(
    readonly reason: InvalidArgumentReason,
    message: string,
  ) {
    super(message);
  }
}

// --- HandshakeError ---

/** One entry per handshake check: POCO's error code and POCO's message (poco-behaviour.md §7, §8). */
const HANDSHAKE_RULES = {
  // Server side, POCO's four checks, in POCO's order.
  NO_HANDSHAKE: [WS_ERR_NO_HANDSHAKE, 'No WebSocket handshake'],
  NO_VERSION: [WS_ERR_HANDSHAKE_NO_VERSION, 'Missing Sec-WebSocket-Version in handshake request'],
  UNSUPPORTED_VERSION: [
    WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION,
    'Unsupported WebSocket version requested',
  ],
  NO_KEY: [WS_ERR_HANDSHAKE_NO_KEY, 'Missing Sec-WebSocket-Key in handshake request'],
  // Server side, RFC 6455 §4.2.1 checks POCO does not make (RFC policy only).
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
  // Client side, RFC 6455 §4.1 checks POCO does not make (RFC policy only).
  UNEXPECTED_SUBPROTOCOL: [
    WS_ERR_NO_HANDSHAKE,
    'Server selected a subprotocol the client did not offer',
  ],
  UNEXPECTED_EXTENSION: [
    WS_ERR_NO_HANDSHAKE,
    'Server selected an extension the client did not offer',
  ],
} as const satisfies Record<string, readonly [ErrorCode, string]>;

export type HandshakeErrorReason = keyof typeof HANDSHAKE_RULES;

/**
 * A refused opening handshake. `code` is POCO's `WebSocketException::code()`; `pocoMessage` and
 * `arg` are the two parts of POCO's message (`displayText()` joins them with ": ").
 */
export class HandshakeError extends WebSocketError {
  readonly code: ErrorCode;
  readonly pocoMessage: string;
  /** The HTTP status of the response that refused the handshake (client side), if any. */
  readonly status: number | undefined;

  constructor(
    readonly reason: HandshakeErrorReason,
    readonly arg?: string,
    details: { status?: number; cause?: unknown } = {},
  ) {
    const [code, text] = HANDSHAKE_RULES[reason];
    super(
      arg === undefined ? text : `${text}: ${arg}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.code = code;
    this.pocoMessage = text;
    this.status = details.status;
  }
}

// --- ConnectionClosedError ---

/** The connection is closed; `code` and `reason` are those of the closing handshake. */
export class ConnectionClosedError extends WebSocketError {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
    options?: { cause?: unknown },
  ) {
    super(`connection closed: ${code}${reason === '' ? '' : ` ${reason}`}`, options);
  }
}
