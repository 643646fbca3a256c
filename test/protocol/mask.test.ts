// RFC 6455 §5.3 client-to-server masking: every speed path against the definition.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  SIMD_THRESHOLD,
  WORD_THRESHOLD,
  applyMask,
  applyMaskByWords,
  fixedMask,
  maskInto,
  nativeKey,
  randomMask,
} from '../../src/protocol/mask.js';
import {
  instantiateSimdMasker,
  leb128,
  simdMasker,
  sleb128,
} from '../../src/protocol/mask-simd.js';
import { hex, pseudoRandomBytes, toHex } from '../helpers/bytes.js';

/** The definition, §5.3: octet i of the transformed data is octet i XOR mask[i MOD 4]. */
function reference(data: Uint8Array, mask: ArrayLike<number>, phase: number): Buffer {
  return Buffer.from(data.map((byte, i) => byte ^ mask[(phase + i) % 4]));
}

const MASK = [0x37, 0xfa, 0x21, 0x3d];

describe('RFC 6455 §5.3 masking', () => {
  it('the §5.7 example: "Hello" with key 37 fa 21 3d', () => {
    const data = Buffer.from('Hello');
    applyMask(data, MASK);
    assert.equal(toHex(data), '7f 9f 4d 51 58');
  });

  it('this runtime has the WebAssembly SIMD path (Node >= 20 always does)', () => {
    assert.notEqual(simdMasker, null);
  });

  // Lengths around each threshold and the SIMD kernel's 64-byte stride and 64 KiB block, at every
  // alignment of the view inside its ArrayBuffer and every mask phase.
  const lengths = [
    0,
    1,
    3,
    4,
    5,
    7,
    8,
    31,
    WORD_THRESHOLD,
    33,
    63,
    64,
    65,
    127,
    1000,
    SIMD_THRESHOLD - 1,
    SIMD_THRESHOLD,
    SIMD_THRESHOLD + 1,
    65535,
    65536,
    65537,
    65536 * 2 + 67,
  ];
  for (const length of lengths) {
    it(`matches the definition for ${length} bytes at every byte offset and phase`, () => {
      const backing = pseudoRandomBytes(length + 8, length + 1);
      for (let offset = 0; offset < 4; offset++) {
        for (let phase = 0; phase < 4; phase++) {
          const source = Buffer.from(backing.subarray(offset, offset + length));
          const holder = Buffer.alloc(length + 8, 0xaa);
          const view = holder.subarray(offset, offset + length);
          view.set(source);
          applyMask(view, MASK, phase);
          assert.ok(
            view.equals(reference(source, MASK, phase)),
            `offset ${offset}, phase ${phase}`,
          );
          // The bytes around the view are untouched.
          assert.ok(holder.subarray(0, offset).every((b) => b === 0xaa));
          assert.ok(holder.subarray(offset + length).every((b) => b === 0xaa));
        }
      }
    });
  }

  it('works on a Uint8Array over a plain ArrayBuffer at an odd offset', () => {
    const buffer = new ArrayBuffer(9000);
    const view = new Uint8Array(buffer, 3, 8192);
    view.set(pseudoRandomBytes(8192));
    const expected = reference(view, MASK, 0);
    applyMask(view, MASK);
    assert.ok(Buffer.from(view).equals(expected));
  });

  it('masking twice with the same key restores the data', () => {
    const data = pseudoRandomBytes(100_000);
    const copy = Buffer.from(data);
    applyMask(data, MASK);
    assert.ok(!data.equals(copy));
    applyMask(data, MASK);
    assert.ok(data.equals(copy));
  });

  it('masking in pieces with the running phase equals masking at once', () => {
    const data = pseudoRandomBytes(10_000);
    const whole = reference(data, MASK, 0);
    const pieces = Buffer.from(data);
    let at = 0;
    for (const size of [1, 2, 5, 40, 4097, 3000, 100]) {
      applyMask(pieces.subarray(at, at + size), MASK, at);
      at += size;
    }
    applyMask(pieces.subarray(at), MASK, at);
    assert.ok(pieces.equals(whole));
  });

  it('maskInto is exact wherever its SIMD blocks land, at target offsets all over a 4 KiB page', () => {
    // The SIMD masker puts its blocks at a random offset in its memory on each call (mask-simd.ts):
    // many calls, so that offsets up to the end of the space it has are drawn too.
    const length = 65536 * 2 + 100;
    const source = pseudoRandomBytes(length, 7);
    const expected = reference(source, MASK, 1);
    for (let round = 0; round < 16; round++) {
      for (const offset of [0, 14, 2047, 4095, 4096 + 14]) {
        const target = Buffer.alloc(offset + length + 1, 0xee);
        maskInto(source, MASK, target, offset, 1);
        assert.ok(target.subarray(offset, offset + length).equals(expected), `offset ${offset}`);
        assert.ok(
          target.subarray(0, offset).every((b) => b === 0xee),
          `before offset ${offset}`,
        );
        assert.equal(target[offset + length], 0xee, `after offset ${offset}`);
      }
    }
  });

  it('maskInto writes a masked copy, at any phase, and leaves the source alone', () => {
    for (const length of [5, 100, SIMD_THRESHOLD - 1, SIMD_THRESHOLD, 10_000, 65536 + 70]) {
      for (let phase = 0; phase < 4; phase++) {
        const source = pseudoRandomBytes(length, length + phase);
        const before = Buffer.from(source);
        const target = Buffer.alloc(length + 5, 0xee);
        maskInto(source, MASK, target, 3, phase);
        assert.ok(source.equals(before));
        assert.ok(
          target.subarray(3, 3 + length).equals(reference(source, MASK, phase)),
          `${length} bytes, phase ${phase}`,
        );
        assert.equal(target[2], 0xee);
        assert.equal(target[3 + length], 0xee);
      }
    }
  });
});

// The paths this host does not take on its own: it has WebAssembly SIMD and is little-endian.
describe('masking on other runtimes', () => {
  it('the word loop, used for every length without WebAssembly SIMD, equals the SIMD path', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const length = SIMD_THRESHOLD + ((seed * 7919) % 150_000);
      const offset = seed & 3;
      const phase = (seed >> 2) & 3;
      const mask = Array.from(pseudoRandomBytes(4, seed * 31));
      const backing = pseudoRandomBytes(length + 4, seed);
      const bySimd = Buffer.from(backing);
      const byWords = Buffer.from(backing);
      applyMask(bySimd.subarray(offset, offset + length), mask, phase);
      applyMaskByWords(byWords.subarray(offset, offset + length), mask, phase);
      assert.ok(byWords.equals(bySimd), `${length} bytes at offset ${offset}, phase ${phase}`);
      assert.ok(!byWords.equals(backing));
    }
  });

  it('the SIMD masker is null where the module cannot be compiled', () => {
    // A WebAssembly header with an unknown version: no runtime compiles it.
    assert.equal(instantiateSimdMasker(hex('00 61 73 6d 02 00 00 00')), null);
    assert.equal(instantiateSimdMasker(new Uint8Array(0)), null);
  });

  it('the word key on a big-endian host: its Uint32 holds the mask bytes in order', () => {
    for (const littleEndian of [true, false]) {
      for (let phase = 0; phase < 4; phase++) {
        const key = nativeKey(MASK, phase, littleEndian);
        // What a Uint32Array element holding `key` looks like in memory on such a host.
        const memory = Buffer.alloc(4);
        new DataView(memory.buffer, memory.byteOffset, 4).setUint32(0, key >>> 0, littleEndian);
        assert.deepEqual(
          [...memory],
          [0, 1, 2, 3].map((i) => MASK[(phase + i) & 3]),
          `${littleEndian ? 'little' : 'big'}-endian, phase ${phase}`,
        );
      }
    }
  });

  it('LEB128 as the WebAssembly spec encodes it, multi-byte and negative values included', () => {
    assert.deepEqual(leb128(0), [0x00]);
    assert.deepEqual(leb128(127), [0x7f]);
    assert.deepEqual(leb128(128), [0x80, 0x01]);
    assert.deepEqual(leb128(624_485), [0xe5, 0x8e, 0x26]);
    assert.deepEqual(sleb128(0), [0x00]);
    assert.deepEqual(sleb128(63), [0x3f]);
    assert.deepEqual(sleb128(64), [0xc0, 0x00], '0x40 alone would read as -64');
    assert.deepEqual(sleb128(-1), [0x7f]);
    assert.deepEqual(sleb128(-64), [0x40]);
    assert.deepEqual(sleb128(-65), [0xbf, 0x7f]);
    assert.deepEqual(sleb128(-123_456), [0xc0, 0xbb, 0x78]);
  });
});

describe('mask generators', () => {
  it('fixedMask writes its 4 bytes at the offset', () => {
    const target = Buffer.alloc(6);
    fixedMask(MASK)(target, 1);
    assert.equal(toHex(target), '00 37 fa 21 3d 00');
    assert.throws(() => fixedMask([1, 2, 3]), RangeError);
  });

  it('randomMask draws fresh keys (RFC 6455 §10.3: unpredictable), across pool refills', () => {
    const keys = new Set<string>();
    const target = Buffer.alloc(4);
    for (let i = 0; i < 5000; i++) {
      randomMask(target, 0);
      keys.add(target.toString('hex'));
    }
    // 5000 draws from 2^32 values: a repeat is possible but very unlikely; far fewer means a bug.
    assert.ok(keys.size > 4990, `${keys.size} distinct keys out of 5000`);
    // All 32 bits vary (POCO's PRNG left the top bit of the 4th byte at 0).
    let orOfAll = 0;
    for (const key of keys) orOfAll |= Buffer.from(key, 'hex').readUInt32BE(0);
    assert.equal(orOfAll >>> 0, 0xffffffff);
  });

  it('hex helper sanity', () => {
    assert.equal(toHex(hex('0a 0B')), '0a 0b');
  });
});
