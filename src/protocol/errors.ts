/**
 * The error tree of the protocol core.
 *
 * Callers catch by category:
 * - {@link ProtocolError}: the *peer* broke RFC 6455. The core never throws it out of
 *   `receiveData`; it fails the connection with `closeCode` and reports the error as an event.
 * - {@link InvalidStateError} / {@link InvalidArgumentError}: the *local* caller misused the API
 *   (sending after close, a control payload over 125 bytes...). Thrown synchronously.
 * - {@link HandshakeError}: the opening handshake was refused, or answered wrongly.
 * - {@link ConnectionClosedError}: the operation needs an open connection and it is gone.
 *
 * Inside each class a string-literal `reason` names the one rule that was broken, so that code
 * and tests can match on it without parsing messages.
 */
import { CloseCode } from './constants.js';

const { PROTOCOL_ERROR, INVALID_PAYLOAD_DATA, MESSAGE_TOO_BIG, ABNORMAL_CLOSURE, INTERNAL_ERROR } =
  CloseCode;

/** Base class of every error the core defines. */
export abstract class WebSocketError extends Error {
  /**
   * The class's name (`ProtocolError`, `HandshakeError`...), so that `String(error)` and stack
   * traces name it.
   */
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
  UNMASKED_FRAME: [PROTOCOL_ERROR, 'a client frame was not masked (RFC 6455 §5.1)'],
  MASKED_FRAME: [PROTOCOL_ERROR, 'a server frame was masked (RFC 6455 §5.1)'],
  RESERVED_BITS: [
    PROTOCOL_ERROR,
    'reserved bits set without a negotiated extension (RFC 6455 §5.2)',
  ],
  RESERVED_OPCODE: [PROTOCOL_ERROR, 'reserved opcode (RFC 6455 §5.2)'],
  LENGTH_MSB_SET: [
    PROTOCOL_ERROR,
    'the most significant bit of a 64-bit length is set (RFC 6455 §5.2)',
  ],
  CONTROL_FRAME_TOO_LONG: [PROTOCOL_ERROR, 'control frame payload over 125 bytes (RFC 6455 §5.5)'],
  FRAGMENTED_CONTROL_FRAME: [PROTOCOL_ERROR, 'fragmented control frame (RFC 6455 §5.5)'],
  UNEXPECTED_CONTINUATION: [
    PROTOCOL_ERROR,
    'continuation frame without a message to continue (RFC 6455 §5.4)',
  ],
  EXPECTED_CONTINUATION: [
    PROTOCOL_ERROR,
    'new data frame while a fragmented message is incomplete (RFC 6455 §5.4)',
  ],
  INVALID_CLOSE_PAYLOAD: [PROTOCOL_ERROR, 'close frame payload of 1 byte (RFC 6455 §5.5.1)'],
  INVALID_CLOSE_CODE: [PROTOCOL_ERROR, 'invalid close code (RFC 6455 §7.4)'],
  COMPRESSED_CONTROL_FRAME: [
    PROTOCOL_ERROR,
    'RSV1 (compressed) set on a control frame (RFC 7692 §6)',
  ],
  COMPRESSED_CONTINUATION: [
    PROTOCOL_ERROR,
    'RSV1 (compressed) set on a continuation frame; only the first frame of a message carries it (RFC 7692 §6)',
  ],
  INVALID_UTF8: [INVALID_PAYLOAD_DATA, 'text message is not valid UTF-8 (RFC 6455 §8.1)'],
  INVALID_COMPRESSED_DATA: [
    INVALID_PAYLOAD_DATA,
    'compressed message is not valid DEFLATE data (RFC 7692 §7.2.2)',
  ],
  INVALID_CLOSE_REASON: [INVALID_PAYLOAD_DATA, 'close reason is not valid UTF-8 (RFC 6455 §5.5.1)'],
  FRAME_TOO_BIG: [MESSAGE_TOO_BIG, 'frame payload over the size limit'],
  MESSAGE_TOO_BIG: [MESSAGE_TOO_BIG, 'message over the size limit'],
  INCOMPLETE_FRAME: [ABNORMAL_CLOSURE, 'the connection ended in the middle of a frame'],
  // Not the peer's fault: a bug of ours. The peer gets 1011 and no details (they may be sensitive).
  INTERNAL_ERROR: [INTERNAL_ERROR, 'internal error'],
} as const satisfies Record<string, readonly [number, string]>;

/**
 * The receive rules of RFC 6455 (and RFC 7692) a peer can break: the `reason` of a
 * {@link ProtocolError}. `FRAME_TOO_BIG` and `MESSAGE_TOO_BIG` are this side's limits;
 * `INCOMPLETE_FRAME` is a connection that ended mid-frame; `INTERNAL_ERROR` is a bug of this side.
 */
export type ProtocolErrorReason = keyof typeof PROTOCOL_RULES;
/** The close codes a protocol violation leads to; 1006 means "closed without a close frame". */
export type FailureCloseCode = (typeof PROTOCOL_RULES)[ProtocolErrorReason][0];

/**
 * The peer broke RFC 6455 (or RFC 7692): the connection is failed with
 * {@link ProtocolError.closeCode} (1002, 1007, 1009; 1006 for a connection that ended mid-frame;
 * 1011 for an internal error). The protocol core never throws it out of `receiveData`: it comes as
 * a `failure` event, and the message API reports it as the connection's `error` and as the cause of
 * its close.
 */
export class ProtocolError extends WebSocketError {
  /** The close code the connection is failed with. */
  readonly closeCode: FailureCloseCode;

  /**
   * @param reason - the rule that was broken.
   * @param detail - what broke it, appended to the rule's message.
   * @param options - the `cause`, if any.
   */
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

/**
 * Why a call was refused in the connection's state: the `reason` of an {@link InvalidStateError}.
 */
export type InvalidStateReason =
  /** A frame after our close frame (a second close frame included). */
  | 'CLOSE_SENT'
  /** A frame after the transport has closed. */
  | 'CONNECTION_CLOSED'
  /** `sendText`/`sendBinary` while a fragmented message is being sent. */
  | 'MESSAGE_IN_PROGRESS'
  /** `sendContinuation` without a fragmented message to continue. */
  | 'NO_MESSAGE_IN_PROGRESS';

/**
 * The local caller did something the connection's state does not allow (sending after the close
 * frame, or after the transport closed; mixing a fragmented message with others). Thrown
 * synchronously by the protocol core.
 */
export class InvalidStateError extends WebSocketError {
  /**
   * @param reason - the state rule.
   * @param message - the error's message.
   */
  constructor(
    readonly reason: InvalidStateReason,
    message: string,
  ) {
    super(message);
  }
}

/** Which argument was refused: the `reason` of an {@link InvalidArgumentError}. */
export type InvalidArgumentReason =
  | 'CONTROL_PAYLOAD_TOO_LONG'
  | 'INVALID_CLOSE_CODE'
  | 'CLOSE_REASON_TOO_LONG'
  | 'CLOSE_REASON_WITHOUT_CODE'
  | 'INVALID_UTF8'
  | 'INVALID_FRAME_FLAGS'
  | 'INVALID_OPTION';

/**
 * The local caller passed an argument that would put an invalid frame on the wire (a control
 * payload over 125 bytes, a close code that may not be sent, a close reason over 123 bytes or
 * without a code, text that is not UTF-8, reserved flags) or an invalid option (the message API: a
 * bad URL, option or setting).
 */
export class InvalidArgumentError extends WebSocketError {
  /**
   * @param reason - the argument rule.
   * @param message - the error's message, naming the value.
   */
  constructor(
    readonly reason: InvalidArgumentReason,
    message: string,
  ) {
    super(message);
  }
}

// --- HandshakeError ---

/** One entry per handshake check, with the rule's place in RFC 6455. */
const HANDSHAKE_RULES = {
  // Server side: the request (§4.2.1).
  NO_HANDSHAKE:
    'not a WebSocket upgrade: Upgrade: websocket and Connection: Upgrade are required (RFC 6455 §4.2.1)',
  NO_VERSION: 'Sec-WebSocket-Version is missing (RFC 6455 §4.2.1)',
  UNSUPPORTED_VERSION: 'unsupported Sec-WebSocket-Version; only 13 is (RFC 6455 §4.2.1, §4.4)',
  NO_KEY: 'Sec-WebSocket-Key is missing (RFC 6455 §4.2.1)',
  METHOD_NOT_GET: 'the opening handshake must be a GET request (RFC 6455 §4.2.1)',
  HTTP_VERSION: 'the opening handshake needs HTTP/1.1 or later (RFC 6455 §4.2.1)',
  NO_HOST: 'the Host header is missing (RFC 6455 §4.2.1)',
  INVALID_KEY: 'Sec-WebSocket-Key is not the base64 of 16 bytes (RFC 6455 §4.2.1)',
  INVALID_HEADER: 'malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions (RFC 6455 §4.2.1)',
  // Client side: the response (§4.1, §4.2.2).
  UNAUTHORIZED: 'the server requires authentication (401)',
  NOT_UNDERSTOOD:
    'the server answered 200: it does not speak the WebSocket protocol (RFC 6455 §4.1)',
  CANNOT_UPGRADE: 'the server refused the upgrade (RFC 6455 §4.1)',
  NO_CONNECTION_UPGRADE: 'the 101 response has no Connection: Upgrade (RFC 6455 §4.1)',
  NO_UPGRADE_WEBSOCKET: 'the 101 response has no Upgrade: websocket (RFC 6455 §4.1)',
  INVALID_ACCEPT: 'invalid or missing Sec-WebSocket-Accept in the 101 response (RFC 6455 §4.1)',
  UNEXPECTED_SUBPROTOCOL:
    'the server selected a subprotocol the client did not offer (RFC 6455 §4.1)',
  UNEXPECTED_EXTENSION: 'the server selected an extension the client did not offer (RFC 6455 §4.1)',
  INVALID_EXTENSION_RESPONSE:
    'the server accepted permessage-deflate with parameters the offer does not allow (RFC 7692 §7.1)',
  // Client side: following redirects (the message API's `followRedirects`).
  INVALID_REDIRECT: 'the redirect has no Location that is a URL',
  REDIRECT_SCHEME: 'a redirect to a scheme other than ws, wss, http or https was refused',
  REDIRECT_DOWNGRADE: 'a redirect from wss to ws (from TLS to plain text) was refused',
  REDIRECT_LOOP: 'the redirects came back to a URL already visited',
  TOO_MANY_REDIRECTS: 'more redirects than maxRedirects',
} as const satisfies Record<string, string>;

/**
 * The opening handshake's rules: the `reason` of a {@link HandshakeError}. The server checks the
 * request (`NO_HANDSHAKE` to `INVALID_HEADER`); the client checks the response (`UNAUTHORIZED` to
 * `INVALID_EXTENSION_RESPONSE`) and, following redirects, each hop (`INVALID_REDIRECT` to
 * `TOO_MANY_REDIRECTS`).
 */
export type HandshakeErrorReason = keyof typeof HANDSHAKE_RULES;

/**
 * A refused or wrongly answered opening handshake. `reason` names the rule; `arg` is the value
 * that broke it, if any; `status` is the HTTP status of the response (client side).
 */
export class HandshakeError extends WebSocketError {
  /** The HTTP status of the response that refused the handshake (client side), if any. */
  readonly status: number | undefined;

  /**
   * @param reason - the rule that was broken.
   * @param arg - the value that broke it, if any (appended to the message).
   * @param details - the HTTP `status` of the response (client side) and the `cause`.
   */
  constructor(
    readonly reason: HandshakeErrorReason,
    readonly arg?: string,
    details: { status?: number; cause?: unknown } = {},
  ) {
    const text = HANDSHAKE_RULES[reason];
    super(
      arg === undefined ? text : `${text}: ${arg}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.status = details.status;
  }
}

// --- ConnectionClosedError ---

/** The connection is closed; `code` and `reason` are those of the closing handshake. */
export class ConnectionClosedError extends WebSocketError {
  /**
   * @param code - the close code of the closing handshake (1005 when the close frame had none, 1006
   * when there was no close frame).
   * @param reason - the close reason.
   * @param wasClean - whether the closing handshake completed and TCP closed in order.
   * @param options - the `cause`: what failed the connection, if something did.
   */
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
    options?: { cause?: unknown },
  ) {
    super(`connection closed: ${code}${reason === '' ? '' : ` ${reason}`}`, options);
  }
}
