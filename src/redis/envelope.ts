/**
 * The bytes a RedisAdapter publishes on a topic's channel: a fixed 18-byte header, then the
 * payload as the publishing server had it (text as its UTF-8 bytes).
 *
 *   byte 0       version (1)
 *   byte 1       flags: 0x01 binary, 0x02 `compress` was given, 0x04 its value
 *   bytes 2-17   the publishing adapter's origin id (16 random bytes): its own messages coming
 *                back from Redis are recognised by it and dropped
 *   bytes 18-    the payload
 *
 * Anything else on a wsnet channel (another program publishing there) fails to decode with a
 * reason, which the adapter reports instead of delivering.
 */
import { randomBytes } from 'node:crypto';

export const ENVELOPE_VERSION = 1;
export const ORIGIN_ID_LENGTH = 16;
export const HEADER_LENGTH = 2 + ORIGIN_ID_LENGTH;

const BINARY = 0x01;
const COMPRESS_GIVEN = 0x02;
const COMPRESS = 0x04;
const KNOWN_FLAGS = BINARY | COMPRESS_GIVEN | COMPRESS;

export interface Envelope {
  readonly origin: Buffer;
  readonly binary: boolean;
  readonly compress: boolean | undefined;
  readonly payload: Buffer;
}

/** A new random origin id: one per adapter. */
export function newOriginId(): Buffer {
  return randomBytes(ORIGIN_ID_LENGTH);
}

/** The envelope's bytes: one copy of the payload, behind the header. */
export function encodeEnvelope(
  origin: Buffer,
  payload: Buffer,
  binary: boolean,
  compress: boolean | undefined,
): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  bytes[0] = ENVELOPE_VERSION;
  bytes[1] =
    (binary ? BINARY : 0) |
    (compress === undefined ? 0 : COMPRESS_GIVEN | (compress ? COMPRESS : 0));
  origin.copy(bytes, 2);
  payload.copy(bytes, HEADER_LENGTH);
  return bytes;
}

/** Decodes an envelope (its payload is a view of `bytes`), or returns why it is not one. */
export function decodeEnvelope(bytes: Buffer): Envelope | string {
  if (bytes.length < HEADER_LENGTH)
    return `${bytes.length} bytes, shorter than the ${HEADER_LENGTH}-byte envelope header`;
  if (bytes[0] !== ENVELOPE_VERSION)
    return `envelope version ${bytes[0]}, expected ${ENVELOPE_VERSION}`;
  const flags = bytes[1];
  if ((flags & ~KNOWN_FLAGS) !== 0 || (flags & (COMPRESS_GIVEN | COMPRESS)) === COMPRESS)
    return `unknown envelope flags 0x${flags.toString(16).padStart(2, '0')}`;
  return {
    origin: bytes.subarray(2, HEADER_LENGTH),
    binary: (flags & BINARY) !== 0,
    compress: (flags & COMPRESS_GIVEN) === 0 ? undefined : (flags & COMPRESS) !== 0,
    payload: bytes.subarray(HEADER_LENGTH),
  };
}
