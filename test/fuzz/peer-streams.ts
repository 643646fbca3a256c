/**
 * fast-check arbitraries for what a peer sends once the opening handshake is done: whole
 * conversations rather than single frames. Messages fragmented at random points with control
 * frames between the fragments, pings and pongs (some too long), close frames with odd payloads
 * (empty, one byte, codes that may not be sent, reasons that are not UTF-8 or too long), text that
 * is not UTF-8, RSV bits, compressed messages (and a decompression bomb) for when
 * permessage-deflate is negotiated, messages over the fuzz's size limit, frames masked the wrong
 * way, and raw frames and garbage from frames.ts. The facade fuzz targets feed these to the real
 * connections over the in-memory stream pair.
 */
import { Buffer } from 'node:buffer';
import { constants, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { wireFrame } from './frames.js';

/** Byte sequences that are not UTF-8: overlong, surrogates, past U+10FFFF, cut short, stray. */
const BAD_UTF8 = [
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xff],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
].map((bytes) => Buffer.from(bytes));

/** Encodes one frame, masked with `mask` when given (the length in its minimal form). */
export function encodeFrame(flags: number, payload: Buffer, mask: Uint8Array | null): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) header = Buffer.from([flags, length]);
  else if (length < 65536) header = Buffer.from([flags, 126, length >> 8, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = flags;
    header[1] = 127;
    header.writeUInt32BE(length, 6);
  }
  if (mask === null) return Buffer.concat([header, payload]);
  header[1] |= 0x80;
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i & 3];
  return Buffer.concat([header, Buffer.from(mask), masked]);
}

/** A message's payload: text, text that is not UTF-8, bytes, empty, or large. */
const payload = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(...BAD_UTF8),
        fc.string({ maxLength: 10 }),
      )
      .map(([a, bad, b]) => Buffer.concat([Buffer.from(a), bad, Buffer.from(b)])),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  // Around the fuzz's 64 KiB message limit (the payload cheap to make: one repeated byte).
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 60 * 1024, max: 70 * 1024 }), fc.nat(255))
      .map(([n, byte]) => Buffer.alloc(n, byte)),
  },
);

/** A close frame's payload: the usual and the odd. */
const closePayload = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.nat(255).map((b) => Buffer.from([b])),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999),
        fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535),
        fc.nat(65535),
      ),
      fc.oneof(
        fc.string({ maxLength: 20 }).map((s) => Buffer.from(s)),
        fc.constantFrom(...BAD_UTF8),
        fc.constant(Buffer.alloc(124, 0x61)), // 126 bytes in all: too long for a control frame
      ),
    )
    .map(([code, reason]) => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(code);
      return Buffer.concat([b, reason]);
    }),
);

/** A control frame: ping, pong (sometimes over 125 bytes or not final) or close. */
const control = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(0x89, 0x8a, 0x09),
      fc.oneof(
        { weight: 5, arbitrary: fc.uint8Array({ maxLength: 125 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 126, maxLength: 140 }) },
      ),
    )
    .map(([flags, data]) => ({ flags, data: Buffer.from(data) })),
  closePayload.map((data) => ({ flags: 0x88, data })),
);

/** Deflates a message as permessage-deflate does: raw deflate, sync flush, tail removed. */
function compress(data: Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/**
 * One data message: text or binary, maybe compressed (RSV1 on the first frame) or with RSV bits
 * that nothing negotiated, cut into up to four fragments with control frames between them.
 */
const message = fc
  .record({
    text: fc.boolean(),
    data: payload,
    compressed: fc.oneof(
      { weight: 3, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    bomb: fc.oneof(
      { weight: 9, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    rsv: fc.oneof(
      { weight: 12, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(0x10, 0x20, 0x30, 0x40) },
    ),
    cuts: fc.array(fc.nat(), { maxLength: 3 }),
    between: fc.array(fc.option(control, { freq: 2 }), { maxLength: 3 }),
    unfinished: fc.oneof(
      { weight: 12, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  })
  .map(({ text, data, compressed, bomb, rsv, cuts, between, unfinished }) => {
    let body: Buffer = data;
    if (compressed) body = compress(bomb ? Buffer.alloc(200 * 1024) : data);
    const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const point of [...points, body.length]) {
      pieces.push(body.subarray(from, point));
      from = point;
    }
    return pieces.map((piece, i) => {
      const last = i === pieces.length - 1;
      const opcode = i === 0 ? (text ? 1 : 2) : 0;
      const flags =
        (last && !unfinished ? 0x80 : 0) | opcode | (i === 0 ? rsv | (compressed ? 0x40 : 0) : 0);
      return { frame: { flags, data: piece }, control: last ? null : (between[i] ?? null) };
    });
  });

/**
 * A peer's stream after the handshake: messages, control frames, raw frames and garbage.
 * `masked`: whether the peer is a client (its frames must be masked); a few frames are masked the
 * wrong way all the same.
 */
export function peerStream(masked: boolean): fc.Arbitrary<Buffer> {
  const mask = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const item = fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .tuple(message, mask)
        .map(([parts, key]) =>
          Buffer.concat(
            parts.flatMap(({ frame, control: c }) => [
              encodeFrame(frame.flags, frame.data, masked ? key : null),
              ...(c === null ? [] : [encodeFrame(c.flags, c.data, masked ? key : null)]),
            ]),
          ),
        ),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(control, mask)
        .map(([c, key]) => encodeFrame(c.flags, c.data, masked ? key : null)),
    },
    // Raw frames (any first byte, length forms, cut short), masked the right way or at random.
    { weight: 2, arbitrary: wireFrame(masked) },
    { weight: 1, arbitrary: wireFrame() },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)) },
  );
  return fc.array(item, { maxLength: 8 }).map((items) => Buffer.concat(items));
}
