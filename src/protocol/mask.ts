/**
 * Payload masking (RFC 6455 §5.3): `data[i] ^= mask[i % 4]`.
 *
 * This runs over every byte a server receives and a client sends, so it has three speeds:
 * - fewer than {@link WORD_THRESHOLD} bytes: a byte loop (setting up anything else costs more);
 * - up to {@link SIMD_THRESHOLD} bytes: 32-bit words over an aligned `Uint32Array` view, with the
 *   key rotated to the phase of the first aligned byte, and byte loops for the unaligned head
 *   and the tail (about 8x the byte loop from 1 KiB up);
 * - larger: WebAssembly SIMD (see mask-simd.ts), 2-3x the word loop again.
 *
 * Views are always built from `byteOffset`, never from offset 0 of the underlying ArrayBuffer:
 * Node hands out slices of pooled buffers, and a view that forgets the offset corrupts frames.
 *
 * Masks come from a pooled `crypto.randomFillSync` buffer: RFC 6455 §10.3 wants them unpredictable,
 * which POCO's time-seeded 31-bit PRNG is not. Tests inject a fixed generator instead.
 */
import { randomFillSync } from 'node:crypto';
import { simdMasker } from './mask-simd.js';

/** Below this many bytes, the byte loop wins. */
export const WORD_THRESHOLD = 32;
/**
 * From this many bytes on, the SIMD kernel wins over the word loop (measured by
 * bench/mask.bench.ts).
 */
export const SIMD_THRESHOLD = 2048;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The four mask bytes as they apply from mask phase `phase` on, packed little-endian. */
function keyFromPhase(mask: ArrayLike<number>, phase: number): number {
  return (
    mask[phase & 3] |
    (mask[(phase + 1) & 3] << 8) |
    (mask[(phase + 2) & 3] << 16) |
    (mask[(phase + 3) & 3] << 24)
  );
}

/**
 * The same key packed in the byte order of a host that is `littleEndian` or not, for a
 * `Uint32Array` view. The order is a parameter so that tests on a little-endian host (every
 * host Node runs on today) check the big-endian packing as well.
 */
export function nativeKey(mask: ArrayLike<number>, phase: number, littleEndian: boolean): number {
  return littleEndian
    ? keyFromPhase(mask, phase)
    : (mask[phase & 3] << 24) |
        (mask[(phase + 1) & 3] << 16) |
        (mask[(phase + 2) & 3] << 8) |
        mask[(phase + 3) & 3];
}

/**
 * The byte loop for short payloads, four bytes per step with the key in locals (cheaper than
 * indexing the mask for every byte). `target` may be `source` (with offset 0) to mask in place.
 */
function maskShort(
  source: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
  mask: ArrayLike<number>,
  phase: number,
): void {
  const length = source.length;
  const m0 = mask[phase & 3];
  const m1 = mask[(phase + 1) & 3];
  const m2 = mask[(phase + 2) & 3];
  const m3 = mask[(phase + 3) & 3];
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    target[targetOffset + i] = source[i] ^ m0;
    target[targetOffset + i + 1] = source[i + 1] ^ m1;
    target[targetOffset + i + 2] = source[i + 2] ^ m2;
    target[targetOffset + i + 3] = source[i + 3] ^ m3;
  }
  if (i < length) target[targetOffset + i] = source[i] ^ m0;
  if (i + 1 < length) target[targetOffset + i + 1] = source[i + 1] ^ m1;
  if (i + 2 < length) target[targetOffset + i + 2] = source[i + 2] ^ m2;
}

/**
 * The word loop: what {@link applyMask} uses below {@link SIMD_THRESHOLD}, and for every length
 * where WebAssembly SIMD is not available. Exported so that tests check that fallback on large
 * payloads too, against the SIMD kernel.
 */
export function applyMaskByWords(data: Uint8Array, mask: ArrayLike<number>, phase: number): void {
  const length = data.length;
  // Bytes before the first 4-byte-aligned address of the underlying buffer.
  const head = -data.byteOffset & 3;
  for (let i = 0; i < head; i++) data[i] ^= mask[(phase + i) & 3];

  const key = nativeKey(mask, phase + head, LITTLE_ENDIAN);
  const wordCount = (length - head) >>> 2;
  const words = new Uint32Array(data.buffer, data.byteOffset + head, wordCount);
  const unrolled = wordCount & ~7;
  let w = 0;
  // Unrolled by 8: V8 does not unroll this loop itself, and the loop overhead is most of the cost.
  for (; w < unrolled; w += 8) {
    words[w] ^= key;
    words[w + 1] ^= key;
    words[w + 2] ^= key;
    words[w + 3] ^= key;
    words[w + 4] ^= key;
    words[w + 5] ^= key;
    words[w + 6] ^= key;
    words[w + 7] ^= key;
  }
  for (; w < wordCount; w++) words[w] ^= key;

  for (let i = head + wordCount * 4; i < length; i++) data[i] ^= mask[(phase + i) & 3];
}

/**
 * XORs `data` in place with `mask` (4 bytes). `phase` is the payload position of `data[0]`
 * modulo 4, for unmasking a payload that arrives in pieces; 0 for a whole payload.
 * Masking twice with the same mask and phase restores the data.
 */
export function applyMask(data: Uint8Array, mask: ArrayLike<number>, phase = 0): void {
  const length = data.length;
  if (length < WORD_THRESHOLD) {
    maskShort(data, data, 0, mask, phase);
  } else if (length >= SIMD_THRESHOLD && simdMasker !== null) {
    simdMasker.mask(data, data, keyFromPhase(mask, phase));
  } else {
    applyMaskByWords(data, mask, phase);
  }
}

/**
 * Writes `source` masked with `mask` into `target` at `targetOffset`, leaving `source` untouched:
 * a client must not scramble the caller's buffer, and a payload gathered from several received
 * chunks is unmasked on its way into one buffer. `phase` is the payload position of `source[0]`
 * modulo 4. Large copies go through the SIMD kernel directly (two copies, no more than masking
 * in place); smaller ones are a `memcpy` and an in-place mask.
 */
export function maskInto(
  source: Uint8Array,
  mask: ArrayLike<number>,
  target: Uint8Array,
  targetOffset: number,
  phase = 0,
): void {
  const length = source.length;
  if (length < WORD_THRESHOLD) {
    maskShort(source, target, targetOffset, mask, phase);
    return;
  }
  const destination = target.subarray(targetOffset, targetOffset + length);
  if (length >= SIMD_THRESHOLD && simdMasker !== null) {
    simdMasker.mask(source, destination, keyFromPhase(mask, phase));
  } else {
    destination.set(source);
    applyMask(destination, mask, phase);
  }
}

/** Writes 4 fresh mask bytes into `target` at `offset`. */
export type MaskGenerator = (target: Uint8Array, offset: number) => void;

const POOL_SIZE = 8192;
let pool: Uint8Array | undefined;
let poolOffset = POOL_SIZE;

/**
 * The default generator: 4 bytes at a time from an 8 KiB buffer refilled by the CSPRNG, so that
 * one system call serves 2048 frames.
 */
export const randomMask: MaskGenerator = (target, offset) => {
  if (poolOffset === POOL_SIZE) {
    pool ??= new Uint8Array(POOL_SIZE);
    randomFillSync(pool);
    poolOffset = 0;
  }
  const p = pool!;
  target[offset] = p[poolOffset]!;
  target[offset + 1] = p[poolOffset + 1]!;
  target[offset + 2] = p[poolOffset + 2]!;
  target[offset + 3] = p[poolOffset + 3]!;
  poolOffset += 4;
};

/** A generator that always writes `mask`: for tests and for the RFC's example frames. */
export function fixedMask(mask: ArrayLike<number>): MaskGenerator {
  if (mask.length !== 4) throw new RangeError('a mask is exactly 4 bytes');
  return (target, offset) => {
    for (let i = 0; i < 4; i++) target[offset + i] = mask[i]!;
  };
}
