/**
 * The opening handshake's nonce and its proof of receipt (RFC 6455 §4.1, §4.2.2).
 *
 * The client sends `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (24 characters ending in
 * `==`). The server answers `Sec-WebSocket-Accept`: base64(SHA-1(key + GUID)), which shows the
 * client that the server read its request as a WebSocket handshake.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from '../constants.js';

/**
 * A fresh `Sec-WebSocket-Key`: 128 random bits from the CSPRNG. (POCO builds it from four 31-bit
 * PRNG words, so 4 of its bits are always 0; the RFC asks for a random 16-byte nonce.)
 */
export function createKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `Sec-WebSocket-Accept` value for `key`; `computeAccept('dGhlIHNhbXBsZSBub25jZQ==')` is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`. */
export function computeAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID, 'binary')
    .digest('base64');
}

/** True if `key` is what RFC 6455 §4.1 asks for: the base64 encoding of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key);
}
