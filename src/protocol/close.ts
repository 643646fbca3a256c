/**
 * The close frame payload (RFC 6455 §5.5.1) and which close codes may appear on the wire (§7.4).
 *
 * A payload is empty, or a 2-byte big-endian code followed by a UTF-8 reason; control frames hold
 * at most 125 bytes, so the reason is at most 123 bytes.
 *
 * Codes on the wire (the same set for sending and receiving):
 * - 1000-1003 and 1007-1011: defined by RFC 6455 §7.4.1;
 * - 1012-1014: registered since in the IANA "WebSocket Close Code Number Registry" (Service
 *   Restart, Try Again Later, Bad Gateway), and accepted by browsers, ws and python-websockets;
 * - 3000-4999: for libraries, frameworks and applications (§7.4.2).
 * Never on the wire: below 1000 (unused), 1004 (reserved), 1005, 1006 and 1015 (reserved for
 * reporting only, "MUST NOT be set as a status code in a Close control frame"), and 1016-2999
 * (reserved for future revisions and not assigned).
 */
import { Buffer } from 'node:buffer';
import { CloseCode, MAX_CLOSE_REASON_BYTES } from './constants.js';
import { InvalidArgumentError, ProtocolError } from './errors.js';
import { toBuffer } from './frame.js';
import { isValidUtf8 } from './utf8.js';

/** True if `code` may be sent in, or received in, a close frame. */
export function isValidWireCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/** The contents of a close frame. `code` is 1005 when the frame had no payload. */
export interface CloseInfo {
  /** The close code (1005 when the frame had no payload). */
  readonly code: number;
  /** The close reason ('' for none). */
  readonly reason: string;
}

/**
 * A reason's bytes: UTF-8 for a string; for bytes, the memory they view. A TypedArray other than
 * Uint8Array (from JavaScript, past the types) counts by bytes, not by elements: taken element by
 * element, a Uint16Array's values were truncated to their low byte (ws's CVE-2026-45736 class).
 */
function reasonBytesOf(reason: string | Uint8Array): Buffer {
  return typeof reason === 'string' ? Buffer.from(reason, 'utf8') : toBuffer(reason);
}

/**
 * Builds a close payload. Without a code the payload is empty (and then there can be no reason).
 * Throws {@link InvalidArgumentError} for a code that may not be sent or a reason over 123 bytes:
 * the local side never puts an invalid close frame on the wire.
 */
export function encodeClosePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  const reasonBytes = reasonBytesOf(reason);
  if (code === undefined) {
    if (reasonBytes.length > 0)
      throw new InvalidArgumentError(
        'CLOSE_REASON_WITHOUT_CODE',
        'a close reason needs a close code (RFC 6455 §5.5.1)',
      );
    return Buffer.alloc(0);
  }
  if (!isValidWireCloseCode(code))
    throw new InvalidArgumentError(
      'INVALID_CLOSE_CODE',
      `close code ${code} may not be sent (RFC 6455 §7.4)`,
    );
  if (reasonBytes.length > MAX_CLOSE_REASON_BYTES)
    throw new InvalidArgumentError(
      'CLOSE_REASON_TOO_LONG',
      `close reason of ${reasonBytes.length} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit in a close frame`,
    );
  if (typeof reason !== 'string' && !isValidUtf8(reasonBytes))
    throw new InvalidArgumentError('INVALID_UTF8', 'close reason is not valid UTF-8');
  return encodeRawClosePayload(code, reasonBytes);
}

/**
 * The payload bytes for any 16-bit code and any reason, without validation: POCO's `shutdown()`
 * sends whatever it is given (POCO's Net/src/WebSocket.cpp).
 */
export function encodeRawClosePayload(code: number, reason: string | Uint8Array = ''): Buffer {
  const reasonBytes = reasonBytesOf(reason);
  const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
  payload.writeUInt16BE(code & 0xffff, 0);
  payload.set(reasonBytes, 2);
  return payload;
}

/**
 * Reads a received close payload. Throws {@link ProtocolError} for a 1-byte payload, a code that
 * may not be on the wire, or a reason that is not UTF-8 (when `validateUtf8`).
 */
export function parseClosePayload(payload: Uint8Array, validateUtf8 = true): CloseInfo {
  if (payload.length === 0) return { code: CloseCode.NO_STATUS_RECEIVED, reason: '' };
  if (payload.length === 1) throw new ProtocolError('INVALID_CLOSE_PAYLOAD');
  const code = (payload[0] << 8) | payload[1];
  if (!isValidWireCloseCode(code)) throw new ProtocolError('INVALID_CLOSE_CODE', String(code));
  const reasonBytes = payload.subarray(2);
  if (validateUtf8 && !isValidUtf8(reasonBytes)) throw new ProtocolError('INVALID_CLOSE_REASON');
  return {
    code,
    reason: Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.length).toString(
      'utf8',
    ),
  };
}
