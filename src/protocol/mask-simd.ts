/**
 * WebSocket masking with WebAssembly SIMD, for large payloads.
 *
 * Why: V8 runs a 32-bit-word XOR loop at about 5 GB/s, while a native addon (ws's `bufferutil`)
 * reaches 15-30 GB/s because the C compiler vectorises its loop. WebAssembly SIMD gives us the
 * same 128-bit XOR without a native addon. WebAssembly code can only touch its own linear memory,
 * so the payload is copied in and out in 64 KiB blocks: two `memcpy`s that stay in cache, plus a
 * vector loop, which still beats the word loop by 2-3x from a few KiB up (see bench/).
 *
 * The module is 100-odd bytes, assembled below from its instructions (the WAT text is beside
 * them) so that nothing binary or generated sits in the repository.
 */
import { Buffer } from 'node:buffer';

// The few WebAssembly JS-API members used here; ES2023 and @types/node do not declare them.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};
interface WasmMemory {
  buffer: ArrayBuffer;
}

/** Bytes per copy-in / XOR / copy-out round. */
const BLOCK_BYTES = 65536;
/**
 * A block goes at a random 16-byte-aligned offset in the first 4 KiB of the module's memory,
 * drawn per call. A `memcpy` whose destination lies 1-31 bytes after its source modulo 4 KiB
 * runs about 3x slower (4K aliasing: each store looks as if it may feed the next loads), and
 * large buffers come from `malloc` at page offsets that repeat: with blocks always at offset 0,
 * a 16 MiB client frame (payload 14 bytes in) took 9-13 ms to mask instead of 4.5-5.5
 * (bench/README.md, "The client's 16 MiB"). No fixed offset avoids that for every pair of
 * buffers (their page offsets are not visible from JavaScript); a random one makes it rare
 * (3 offsets in 256 measured slow for a given pair of buffers) instead of systematic.
 */
const PAGE_BYTES = 4096;
/** Two 64 KiB pages: a block plus up to 4 KiB of offset. */
const MEMORY_PAGES = 2;
/** The kernel XORs 64 bytes (four 128-bit vectors) per loop iteration. */
const STRIDE = 64;

/**
 * Unsigned LEB128, for sizes, counts and memory offsets. Exported for its tests: today's module
 * only needs one-byte values, but a longer kernel would not.
 */
export function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, for `i32.const` immediates (0x40 alone would read as -64). Exported for its tests. */
export function sleb128(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb128(content.length), ...content];
}

function name(text: string): number[] {
  return [...leb128(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

// Opcodes used by the kernel.
const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 0x11;
const V128_XOR = 0x51;
const ALIGN_16 = 4; // log2 of the natural alignment of a v128 access

// (func $mask (param $p i32) (param $n i32) (param $key i32) (local $end i32) (local $k v128)
const P = 0;
const N = 1;
const KEY = 2;
const END_PTR = 3;
const K = 4;

/** XOR one vector at `$p + offset` with `$k`: (v128.store offset (local.get $p) (v128.xor (v128.load offset (local.get $p)) (local.get $k))) */
function xorVector(offset: number): number[] {
  // prettier-ignore
  return [
    LOCAL_GET, P,
    LOCAL_GET, P, SIMD, V128_LOAD, ALIGN_16, ...leb128(offset),
    LOCAL_GET, K, SIMD, V128_XOR,
    SIMD, V128_STORE, ALIGN_16, ...leb128(offset),
  ];
}

// prettier-ignore
const KERNEL_BODY: number[] = [
  2, 1, I32, 1, V128, // locals: $end i32, $k v128
  LOCAL_GET, KEY, SIMD, I32X4_SPLAT, LOCAL_SET, K, // $k = i32x4.splat($key)
  LOCAL_GET, P, LOCAL_GET, N, I32_ADD, LOCAL_SET, END_PTR, // $end = $p + $n
  BLOCK, VOID, LOOP, VOID,
  LOCAL_GET, P, LOCAL_GET, END_PTR, I32_GE_U, BR_IF, 1, // if ($p >= $end) break
  ...xorVector(0), ...xorVector(16), ...xorVector(32), ...xorVector(48),
  LOCAL_GET, P, I32_CONST, ...sleb128(STRIDE), I32_ADD, LOCAL_SET, P, // $p += 64
  BR, 0,
  END, END,
  END,
];

// prettier-ignore
const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, [1, 0x60, 3, I32, I32, I32, 0]), // type 0: (i32, i32, i32) -> ()
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(5, [1, 0, ...leb128(MEMORY_PAGES)]), // one memory
  ...section(7, [2, ...name('mask'), 0x00, 0, ...name('memory'), 0x02, 0]), // exports
  ...section(10, [1, ...leb128(KERNEL_BODY.length), ...KERNEL_BODY]), // code
]);

export interface SimdMasker {
  /**
   * Writes `source` XORed with the mask cycle `key` into `target` (the same length; it may be
   * `source` itself, for masking in place). `key` holds the four mask bytes in the order they
   * apply from `source[0]` on, packed little-endian (byte 0 in the low 8 bits). Any length works;
   * the bytes after the last multiple of 64 are done by a byte loop.
   *
   * Masking into another buffer costs the same two copies as masking in place, so callers that
   * need a masked copy, or that gather a payload from several chunks, should mask on the way.
   */
  mask(source: Uint8Array, target: Uint8Array, key: number): void;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The masker running the kernel in `moduleBytes` (the module above), or null if this runtime
 * cannot compile or instantiate it. A parameter so that tests take the null path with bytes no
 * runtime accepts, on a runtime that has SIMD.
 */
export function instantiateSimdMasker(moduleBytes: Uint8Array): SimdMasker | null {
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes)).exports;
  } catch {
    return null; // No WebAssembly or no SIMD (e.g. --jitless): callers use the word loop.
  }
  const kernel = exports['mask'] as (p: number, n: number, key: number) => void;
  const memory = Buffer.from((exports['memory'] as WasmMemory).buffer, 0, BLOCK_BYTES + PAGE_BYTES);
  return {
    mask(source: Uint8Array, target: Uint8Array, key: number): void {
      const from = asBuffer(source);
      const to = target === source ? from : asBuffer(target);
      const length = source.byteLength;
      const vectorBytes = length - (length % STRIDE);
      // Blocks are whole pages long, so one offset serves them all; 16-byte aligned for the
      // kernel's vectors.
      const start = Math.floor(Math.random() * (PAGE_BYTES / 16)) * 16;
      let pos = 0;
      while (pos < vectorBytes) {
        const n = Math.min(BLOCK_BYTES, vectorBytes - pos);
        from.copy(memory, start, pos, pos + n);
        kernel(start, n, key);
        memory.copy(to, pos, start, start + n);
        pos += n;
      }
      // Every block is a multiple of 4 bytes long, so the tail starts at mask phase 0.
      for (let i = pos; i < length; i++) target[i] = source[i] ^ ((key >>> ((i & 3) << 3)) & 0xff);
    },
  };
}

/** The SIMD masker, or null where this runtime cannot run it. */
export const simdMasker: SimdMasker | null = instantiateSimdMasker(MODULE_BYTES);
