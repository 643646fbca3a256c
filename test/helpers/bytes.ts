/** Byte helpers for the tests: hex fixtures in, hex out. */
import { Buffer } from 'node:buffer';
import type { Connection } from '../../src/protocol/connection.js';

/** Bytes from hex, ignoring white space: `hex('81 05 48 65')`. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Space-separated hex of some bytes, for readable assertion messages. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/** Everything the connection wants to write, as one buffer. */
export function outgoing(connection: Connection): Buffer {
  return Buffer.concat(connection.takeOutgoing());
}

/** A copy of `bytes`: the connection may unmask received bytes in place. */
export function copy(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

/**
 * Fills `out` with xorshift32 bytes from `seed`. Self-contained on purpose: the browser tests
 * run its source in the page (test/helpers/chromium.ts), so both ends make the same bytes.
 */
export function fillPseudoRandom<T extends Uint8Array>(out: T, seed: number): T {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so that failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  return fillPseudoRandom(Buffer.allocUnsafe(length), seed);
}
