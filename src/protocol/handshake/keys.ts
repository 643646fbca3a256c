/**
 * The opening handshake's nonce and its proof of receipt (RFC 6455 §4.1, §4.2.2).
 *
 * The client sends `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (24 characters ending in
 * `==`). The server answers `Sec-WebSocket-Accept`: base64(SHA-1(key + GUID)), which shows the
 * client that the server read its request as a WebSocket handshake.
 */
import { Buffer } from 'node:buffer';
import { hash, randomFillSync } from 'node:crypto';
import { WEBSOCKET_GUID } from '../constants.js';

/**
 * A fresh `Sec-WebSocket-Key`: 128 random bits from the CSPRNG. (POCO builds it from four 31-bit
 * PRNG words, so 4 of its bits are always 0; the RFC asks for a random 16-byte nonce.)
 */
export function createKey(): string {
  // Cut from a pool that the CSPRNG refills every KEYS_PER_FILL keys: one call into it per 64
  // handshakes instead of a 16-byte buffer and a call per handshake. Each key's bytes are used
  // once, then the pool is refilled.
  if (keyOffset === keyPool.length) {
    randomFillSync(keyPool);
    keyOffset = 0;
  }
  const key = keyPool.toString('base64', keyOffset, keyOffset + 16);
  keyOffset += 16;
  return key;
}

const KEYS_PER_FILL = 64;
const keyPool = Buffer.allocUnsafe(16 * KEYS_PER_FILL);
let keyOffset = keyPool.length;

/** The `Sec-WebSocket-Accept` value for `key`; `computeAccept('dGhlIHNhbXBsZSBub25jZQ==')` is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`. */
export function computeAccept(key: string): string {
  // One-shot `crypto.hash` (Node >= 20.12): no Hash object per handshake, where
  // `createHash().update().digest()` made one and crossed into C++ three times. It reads a
  // string as UTF-8, so a key with characters past ASCII (POCO's policy does not check its
  // format) is hashed from its latin1 bytes, as the header's octets arrived.
  const input = key + WEBSOCKET_GUID;
  return hash('sha1', PRINTABLE.test(input) ? input : Buffer.from(input, 'latin1'), 'base64');
}

/** Printable ASCII only: characters that UTF-8 and latin1 encode alike (any key does). */
const PRINTABLE = /^[ -~]*$/;

/** True if `key` is what RFC 6455 §4.1 asks for: the base64 encoding of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  return KEY.test(key);
}

/** 16 bytes in base64: 22 characters, then the padding. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;
