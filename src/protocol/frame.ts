/**
 * Frames (RFC 6455 §5.2) and their encoding.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * ```
 *
 * The whole first byte (FIN, RSV1-3, opcode) is what POCO calls the frame `flags`; the encoder
 * takes it as given, so the POCO facade can send any frame, and the connection state machine
 * decides what it is allowed to send.
 */
import { Buffer } from 'node:buffer';
import { maskInto, type MaskGenerator } from './mask.js';

/**
 * A received frame, unmasked (also the connection's `frame` event, hence `type`). Four fields
 * only: the POCO facade can hold many small frames waiting to be received, and FIN, RSV and
 * opcode are bits of `flags` (`flags & FRAME_OP_BITMASK`...).
 */
export interface Frame {
  /** The event's kind, when a frame is a {@link ConnectionEvent}. */
  readonly type: 'frame';
  /** The whole first header byte: FIN | RSV1-3 | opcode (POCO's `flags`). */
  readonly flags: number;
  /** The payload, unmasked. */
  readonly payload: Buffer;
  /**
   * The bytes the frame took on the wire, header (as the peer encoded it, mask included) and
   * payload: POCO's `available()` counts raw bytes until the frame is received.
   */
  readonly wireLength: number;
}

export function makeFrame(flags: number, payload: Buffer, wireLength: number): Frame {
  return { type: 'frame', flags, payload, wireLength };
}

/** 64-bit lengths are written as two 32-bit halves. */
const TWO_POW_32 = 2 ** 32;

/** Size of the header for a payload of `length` bytes, always in the minimal form (§5.2). */
export function headerLength(length: number, masked: boolean): number {
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  return 2 + lengthBytes + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset after it. `mask` (if
 * given) writes the masking key in place and sets the MASK bit.
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  flags: number,
  length: number,
  mask: MaskGenerator | null,
): number {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`invalid payload length ${length}`);
  const maskBit = mask === null ? 0 : 0x80;
  target[offset] = flags & 0xff;
  let p = offset + 2;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
  } else if (length < 65536) {
    target[offset + 1] = maskBit | 126;
    target[p] = length >>> 8;
    target[p + 1] = length & 0xff;
    p += 2;
  } else {
    target[offset + 1] = maskBit | 127;
    const high = Math.floor(length / TWO_POW_32);
    const low = length >>> 0;
    target[p] = high >>> 24;
    target[p + 1] = (high >>> 16) & 0xff;
    target[p + 2] = (high >>> 8) & 0xff;
    target[p + 3] = high & 0xff;
    target[p + 4] = low >>> 24;
    target[p + 5] = (low >>> 16) & 0xff;
    target[p + 6] = (low >>> 8) & 0xff;
    target[p + 7] = low & 0xff;
    p += 8;
  }
  if (mask !== null) {
    mask(target, p);
    p += 4;
  }
  return p;
}

/**
 * Unmasked payloads up to this size are copied next to their header: one write of one buffer
 * costs less than a writev of two (measured: 10-20 % at 32 B-1 KiB, before the batched writes of
 * issue 12; at 1 KiB, 256 against 2048 no longer measured apart). Not above 256 B: the copy
 * is a native allocation that lives until V8's next scavenge, and where such allocations pile up
 * between long-lived ones (a server echoing once on each of thousands of new connections), glibc
 * keeps their pages as holes in its heap: a 2 KiB limit cost 1.1 KiB of resident C heap per idle
 * connection in the hold (bench/README.md, "The C heap (after the merge)").
 */
export const MERGE_LIMIT = 256;

/**
 * Encodes one frame as the buffers to write, in order.
 *
 * Unmasked (server) frames over `MERGE_LIMIT` (256 B) are `[header, payload]`: the payload is not
 * copied. Smaller ones, and masked (client) frames, which need a masked copy anyway (the
 * caller's buffer must not change), are one buffer: `[frame]`.
 */
export function encodeFrame(flags: number, data: BinaryData, mask: MaskGenerator | null): Buffer[] {
  const payload = toBuffer(data);
  const length = payload.length;
  if (mask === null) {
    const size = headerLength(length, false);
    if (length <= MERGE_LIMIT) {
      const frame = Buffer.allocUnsafe(size + length);
      writeHeader(frame, 0, flags, length, null);
      frame.set(payload, size);
      return [frame];
    }
    const header = Buffer.allocUnsafe(size);
    writeHeader(header, 0, flags, length, null);
    return [header, payload];
  }
  const frame = Buffer.allocUnsafe(headerLength(length, true) + length);
  const payloadOffset = writeHeader(frame, 0, flags, length, mask);
  if (length > 0)
    maskInto(payload, frame.subarray(payloadOffset - 4, payloadOffset), frame, payloadOffset);
  return [frame];
}

/**
 * Bytes to send: a view of memory of any element type (every typed array, `DataView`, `Buffer`)
 * or an `ArrayBuffer`. What is sent is the view's own bytes: `byteLength` of them from
 * `byteOffset`, never `length` elements.
 */
export type BinaryData = ArrayBufferView | ArrayBuffer;

/**
 * A `Buffer` over the same memory as `data` (no copy). A `Float32Array` of 4 elements is 16
 * bytes; a view into a larger buffer is its window only.
 */
export function toBuffer(data: BinaryData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if ((data as unknown) instanceof ArrayBuffer || (data as unknown) instanceof SharedArrayBuffer)
    return Buffer.from(data);
  throw new TypeError(
    `expected bytes (a typed array, DataView, Buffer or ArrayBuffer), got ${typeof data}`,
  );
}
