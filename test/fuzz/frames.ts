/**
 * fast-check arbitraries for raw frames, valid and not: every first byte (FIN, RSV1-3, all 16
 * opcodes), masked or not, lengths in every encoding (minimal, non-minimal 16- and 64-bit, 64-bit
 * with the top bit set), payloads shorter than declared. Shared by the frame reader and the
 * connection targets.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';

const lengthForm = fc.constantFrom(
  'minimal',
  'minimal',
  'minimal',
  'wide16',
  'wide64',
  'msb64',
  'huge64',
);

function encodeLength(form: string, length: number): Buffer {
  switch (form) {
    case 'wide16': {
      const b = Buffer.alloc(3);
      b[0] = 126;
      b.writeUInt16BE(Math.min(length, 65535), 1);
      return b;
    }
    case 'wide64':
    case 'msb64':
    case 'huge64': {
      const b = Buffer.alloc(9);
      b[0] = 127;
      b.writeUInt32BE(form === 'msb64' ? 0x80000000 : form === 'huge64' ? 0x001fffff : 0, 1);
      b.writeUInt32BE(length, 5);
      return b;
    }
    default:
      if (length < 126) return Buffer.from([length]);
      if (length < 65536) return Buffer.from([126, length >> 8, length & 0xff]);
      return Buffer.from([
        127,
        0,
        0,
        0,
        0,
        length >>> 24,
        (length >> 16) & 0xff,
        (length >> 8) & 0xff,
        length & 0xff,
      ]);
  }
}

/** One frame on the wire; `masked` undefined means random. */
export function wireFrame(masked?: boolean): fc.Arbitrary<Buffer> {
  return fc
    .record({
      flags: fc.oneof(
        fc.constantFrom(0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x88, 0x89, 0x8a),
        fc.nat(255),
      ),
      masked: masked === undefined ? fc.boolean() : fc.constant(masked),
      mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      form: lengthForm,
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 20 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => new Uint8Array(Buffer.from(s))),
        fc.uint8Array({ minLength: 120, maxLength: 300 }),
      ),
      // A frame cut short: fewer payload bytes than declared.
      cut: fc.option(fc.nat(), { freq: 8 }),
      close: fc.option(fc.tuple(fc.nat(5000), fc.string({ maxLength: 10 })), { freq: 4 }),
    })
    .map(({ flags, masked: isMasked, mask, form, payload, cut, close }) => {
      let body = Buffer.from(payload);
      if (close !== null && (flags & 0x0f) === 8) {
        body = Buffer.concat([
          Buffer.from([close[0] >> 8, close[0] & 0xff]),
          Buffer.from(close[1]),
        ]);
      }
      const length = encodeLength(form, body.length);
      length[0] |= isMasked ? 0x80 : 0;
      const masked = Buffer.from(body);
      if (isMasked) for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i & 3];
      const frame = Buffer.concat([
        Buffer.from([flags]),
        length,
        isMasked ? Buffer.from(mask) : Buffer.alloc(0),
        masked,
      ]);
      return cut === null ? frame : frame.subarray(0, cut % (frame.length + 1));
    });
}

/** A stream: some frames, sometimes with random bytes between or after them. */
export function wireStream(masked?: boolean): fc.Arbitrary<Buffer> {
  return fc
    .array(
      fc.oneof(
        { weight: 5, arbitrary: wireFrame(masked) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)) },
      ),
      { maxLength: 8 },
    )
    .map((parts) => Buffer.concat(parts));
}
