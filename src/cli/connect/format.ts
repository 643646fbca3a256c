/**
 * How `wsnet connect` writes messages and the close: plain lines and NDJSON records for pipes,
 * marked and timed lines for a terminal. Pure functions of their arguments (the time included).
 */
import { Buffer } from 'node:buffer';
import type { CloseStatus, Message } from '../../messages/index.js';

export type BinaryFormat = 'hex' | 'base64';

export function encodeBinary(bytes: Buffer, format: BinaryFormat): string {
  return bytes.toString(format);
}

/** A message as a pipe gets it: text as it is, binary encoded; without the line's newline. */
export function plainMessage(message: Message, format: BinaryFormat): string {
  return typeof message === 'string' ? message : encodeBinary(message, format);
}

/** A message as an NDJSON record: `{"type","size","time","data"}`, plus `encoding` for binary. */
export function messageRecord(message: Message, format: BinaryFormat, time: Date): string {
  if (typeof message === 'string')
    return JSON.stringify({
      type: 'text',
      size: Buffer.byteLength(message),
      time: time.toISOString(),
      data: message,
    });
  return JSON.stringify({
    type: 'binary',
    size: message.length,
    time: time.toISOString(),
    data: encodeBinary(message, format),
    encoding: format,
  });
}

/** The close as the last NDJSON record. */
export function closeRecord(status: CloseStatus, time: Date): string {
  return JSON.stringify({
    type: 'close',
    time: time.toISOString(),
    code: status.code,
    reason: status.reason,
    wasClean: status.wasClean,
  });
}

/** What each close code means (RFC 6455 §7.4.1, and the IANA registry for 1012-1014). */
const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status code',
  1006: 'dropped without a close frame',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'extension required',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS handshake failure',
};

/** `closed: 1011 internal error, reason "boom"`, and whether the closing handshake completed. */
export function describeClose(status: CloseStatus): string {
  const name = CLOSE_CODE_NAMES[status.code] ?? (status.code >= 4000 ? 'application code' : '');
  return (
    `closed: ${status.code}${name === '' ? '' : ` ${name}`}` +
    (status.reason === '' ? '' : `, reason ${JSON.stringify(status.reason)}`) +
    (status.wasClean || status.code === 1006 ? '' : ' (no clean closing handshake)')
  );
}

/** `HH:MM:SS.mmm`, local time. */
export function clockTime(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * Text made safe for a terminal: control characters other than newline and tab shown as
 * `\xNN` (or `\u{NNNN}`), so that a peer cannot move the cursor, clear the screen or retitle the
 * window with escape sequences.
 */
export function printable(text: string): string {
  let shown = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    shown += isControl(code)
      ? code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u{${code.toString(16)}}`
      : char;
  }
  return shown;
}

/** C0 and C1 controls but newline and tab, DEL, and the Unicode line and paragraph separators. */
function isControl(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x0a && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029
  );
}

/** A message as the terminal shows it, after the mark and the time. */
export function screenMessage(message: Message, format: BinaryFormat): string {
  if (typeof message === 'string') return printable(message);
  return `[binary, ${message.length} bytes] ${encodeBinary(message, format)}`;
}
