/**
 * Payloads for the permessage-deflate interop tests, deterministic (seeded xorshift32, as
 * bytes.ts's pseudoRandomBytes) and with a known response to DEFLATE: compressible text and
 * bytes, and repeats that only a window of a given size can find.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { pseudoRandomBytes } from './bytes.js';

const WORDS = [
  'héllo',
  'wörld',
  '✓',
  '😀',
  'ünïcödé',
  'the',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'a',
  'lazy',
  'dog',
  'données',
  'ζ',
];
const WORD_BYTES = WORDS.map((word) => Buffer.byteLength(word) + 1);

/** Words up to exactly `bytes` UTF-8 bytes, padded with dots. */
function words(bytes: number, seed: number): string {
  const out: string[] = [];
  let length = 0;
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const index = (x >>> 0) % WORDS.length;
    if (length + WORD_BYTES[index] > bytes) break;
    out.push(WORDS[index], ' ');
    length += WORD_BYTES[index];
  }
  return out.join('') + '.'.repeat(bytes - length);
}

/** Large texts repeat a block of this many bytes (farther apart than any DEFLATE window). */
const BLOCK = 256 * 1024;

/**
 * Text of exactly `bytes` UTF-8 bytes: pseudo-random words, some of them with 2- and 4-byte
 * characters, padded with dots. DEFLATE makes it much smaller.
 */
export function compressibleText(bytes: number, seed: number): string {
  if (bytes <= BLOCK) return words(bytes, seed);
  const blocks = Math.floor(bytes / BLOCK);
  return words(BLOCK, seed).repeat(blocks) + words(bytes - blocks * BLOCK, seed + 1);
}

/** Pseudo-random bytes below 16 (4 bits of entropy a byte): DEFLATE about halves them. */
export function compressibleBytes(size: number, seed: number): Buffer {
  const bytes = pseudoRandomBytes(size, seed);
  for (let i = 0; i < size; i++) bytes[i] &= 0x0f;
  return bytes;
}

/**
 * `count` pseudo-random letters of a 16-letter alphabet: DEFLATE codes them in about 4 bits
 * each and finds no long repeat among them.
 */
export function randomLetters(count: number, seed: number): string {
  const bytes = pseudoRandomBytes(count, seed);
  for (let i = 0; i < count; i++) bytes[i] = 0x61 + (bytes[i] & 0x0f);
  return bytes.toString('latin1');
}

/**
 * R + R, with R 2^bits - 300 random letters: the second R repeats the first at a
 * distance that a DEFLATE window of `bits` reaches (zlib's farthest reference is 2^bits - 262
 * back) and a window of `bits - 1` does not. Compressed with a window of at least `bits`, the
 * message takes hardly more than R alone; with a smaller one, about twice as much.
 */
export function repeatAtDistance(bits: number, seed: number): string {
  const half = randomLetters(2 ** bits - 300, seed);
  return half + half;
}

/** The window sizes permessage-deflate allows (RFC 7692 §7.1.2). */
export const WINDOW_BITS = [9, 10, 11, 12, 13, 14, 15] as const;
export type WindowBits = (typeof WINDOW_BITS)[number];

/** repeatAtDistance(k, seed + k) for every k in WINDOW_BITS: what shows a window's size. */
export function windowPayloads(seed: number): string[] {
  return WINDOW_BITS.map((k) => repeatAtDistance(k, seed + k));
}

/**
 * Whether the compressed size of `repeatAtDistance(bits)` shows that its compressor found the
 * repeat: R alone compressed by zlib takes c bytes; R + R takes about c when the repeat is found
 * and about 2c when it is not (measured: 1.02c to 1.09c, and 1.91c to 2.00c).
 */
export function foundRepeat(message: string, wireBytes: number): boolean {
  const alone = zlib.deflateRawSync(message.slice(0, message.length / 2)).length;
  return wireBytes < 1.5 * alone;
}
