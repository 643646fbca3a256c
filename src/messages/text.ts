/**
 * How a received text message reaches the application: decoded into a string (the default,
 * {@link decodeUtf8}), or as bytes (`decodeText: false`): a `Buffer` of its UTF-8, validated and
 * not decoded, which {@link isText} tells from a binary message.
 *
 * The mark is the object's class, not a property or a side table: a text message is made an
 * instance of `TextBytes`, a `Uint8Array` subclass whose prototype chain runs through
 * `Buffer.prototype` (as Node's own `FastBuffer` does), so it *is* a `Buffer` in every respect
 * (`Buffer.isBuffer`, `instanceof Buffer`, every method) and costs one view over the same
 * memory, no copy. Its `constructor` is `Buffer`, so what is cut from it (`subarray`, `slice`)
 * is a plain `Buffer`: a piece of a text message is not a text message (it may split a
 * character).
 */
import { Buffer, isAscii } from 'node:buffer';

/**
 * From this size on, a text message is first checked for being all ASCII (simdutf, several
 * GB/s) and then read as Latin-1, which for ASCII is the same string, made 3-4 times faster
 * than V8's UTF-8 decoder makes it (16 MiB: 5 against 20 ms on Node 20). Below it the check
 * costs about what it saves.
 */
const ASCII_CHECK_FROM = 64 * 1024;

/** @internal A received text message's UTF-8 (validated already) as a string. */
export function decodeUtf8(utf8: Buffer): string {
  return utf8.length >= ASCII_CHECK_FROM && isAscii(utf8)
    ? utf8.toString('latin1')
    : utf8.toString('utf8');
}

class TextBytes extends Uint8Array {}
Object.setPrototypeOf(TextBytes.prototype, Buffer.prototype as object);
Object.defineProperty(TextBytes.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  configurable: true,
});

/** @internal A received text message's UTF-8 bytes, marked as text (no copy). */
export function textBytes(utf8: Buffer): Buffer {
  // A received Buffer is over an ArrayBuffer (never shared memory).
  return new TextBytes(
    utf8.buffer as ArrayBuffer,
    utf8.byteOffset,
    utf8.length,
  ) as unknown as Buffer;
}

/**
 * True for a text message: a string, or, with `decodeText: false`, the `Buffer` a text message
 * arrived as. False for a binary message (and for any other bytes, pieces of a text message
 * included).
 *
 * @example With decodeText false, for await and receive() tell text from binary.
 * ```ts
 * import { connect, isText } from 'wsnet';
 *
 * const connection = await connect('ws://127.0.0.1:8080/', { decodeText: false });
 * for await (const message of connection) {
 *   // message is a Buffer either way: UTF-8 for text (validated, not decoded)
 *   console.log(isText(message) ? 'text' : 'binary', message.length);
 * }
 * ```
 */
export function isText(message: unknown): boolean {
  return typeof message === 'string' || message instanceof TextBytes;
}
