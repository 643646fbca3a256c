// RFC 6455 §5.2 (base framing) and the example frames of §5.7, on the encoding side.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  MERGE_LIMIT,
  encodeFrame,
  headerLength,
  makeFrame,
  toBuffer,
  writeHeader,
} from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { hex, toHex } from '../helpers/bytes.js';

const RFC_MASK = fixedMask([0x37, 0xfa, 0x21, 0x3d]);

function encoded(flags: number, payload: Uint8Array, masked = false): string {
  return toHex(Buffer.concat(encodeFrame(flags, payload, masked ? RFC_MASK : null)));
}

describe('RFC 6455 §5.7 examples, encoded', () => {
  it('a single-frame unmasked text message', () => {
    assert.equal(encoded(0x81, Buffer.from('Hello')), '81 05 48 65 6c 6c 6f');
  });

  it('a single-frame masked text message', () => {
    assert.equal(encoded(0x81, Buffer.from('Hello'), true), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('a fragmented unmasked text message', () => {
    assert.equal(encoded(0x01, Buffer.from('Hel')), '01 03 48 65 6c');
    assert.equal(encoded(0x80, Buffer.from('lo')), '80 02 6c 6f');
  });

  it('an unmasked ping and a masked pong', () => {
    assert.equal(encoded(0x89, Buffer.from('Hello')), '89 05 48 65 6c 6c 6f');
    assert.equal(encoded(0x8a, Buffer.from('Hello'), true), '8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('256 bytes of binary in a single unmasked frame: 16-bit length', () => {
    const [frame] = encodeFrame(0x82, Buffer.alloc(256, 1), null);
    assert.equal(toHex(frame.subarray(0, 4)), '82 7e 01 00');
    assert.equal(frame.length, 4 + 256);
  });

  it('64 KiB of binary in a single unmasked frame: 64-bit length', () => {
    const [header] = encodeFrame(0x82, Buffer.alloc(65536), null);
    assert.equal(toHex(header), '82 7f 00 00 00 00 00 01 00 00');
  });
});

describe('RFC 6455 §5.2: payload length in the minimal number of bytes', () => {
  const cases: Array<[number, string]> = [
    [0, '81 00'],
    [125, '81 7d'],
    [126, '81 7e 00 7e'],
    [65535, '81 7e ff ff'],
    [65536, '81 7f 00 00 00 00 00 01 00 00'],
    [2 ** 32, '81 7f 00 00 00 01 00 00 00 00'],
    [2 ** 53 - 1, '81 7f 00 1f ff ff ff ff ff ff'],
  ];
  for (const [length, expected] of cases) {
    it(`length ${length}`, () => {
      const header = Buffer.alloc(14);
      const end = writeHeader(header, 0, 0x81, length, null);
      assert.equal(toHex(header.subarray(0, end)), expected);
      assert.equal(end, headerLength(length, false));
    });
  }

  it('a masked header is 4 bytes longer and has the MASK bit', () => {
    const header = Buffer.alloc(14);
    const end = writeHeader(header, 0, 0x82, 300, RFC_MASK);
    assert.equal(toHex(header.subarray(0, end)), '82 fe 01 2c 37 fa 21 3d');
    assert.equal(headerLength(300, true), 8);
  });

  it('writes at an offset and leaves the bytes around it alone', () => {
    const target = Buffer.alloc(8, 0xee);
    const end = writeHeader(target, 3, 0x89, 1, null);
    assert.equal(end, 5);
    assert.equal(toHex(target), 'ee ee ee 89 01 ee ee ee');
  });

  it('rejects lengths that are negative, fractional or past 2^53', () => {
    const target = Buffer.alloc(14);
    for (const length of [-1, 1.5, 2 ** 53, Number.NaN])
      assert.throws(() => writeHeader(target, 0, 0x81, length, null), RangeError);
  });
});

describe('encodeFrame', () => {
  it('an unmasked frame over MERGE_LIMIT reuses the payload buffer (no copy)', () => {
    const payload = Buffer.alloc(MERGE_LIMIT + 1, 'z');
    const buffers = encodeFrame(0x82, payload, null);
    assert.equal(buffers.length, 2);
    assert.equal(buffers[1], payload);
  });

  it('a small unmasked frame is one buffer, header and payload (one write beats a writev)', () => {
    assert.deepEqual(encodeFrame(0x81, Buffer.from('hi'), null), [hex('81 02 68 69')]);
    const limit = encodeFrame(0x82, Buffer.alloc(MERGE_LIMIT, 1), null);
    assert.equal(limit.length, 1);
    assert.equal(limit[0].length, 4 + MERGE_LIMIT);
  });

  it('an empty unmasked frame is the header alone', () => {
    assert.deepEqual(encodeFrame(0x89, Buffer.alloc(0), null), [hex('89 00')]);
  });

  it("a masked frame is one buffer and leaves the caller's payload untouched", () => {
    const payload = Buffer.from('Hello');
    const buffers = encodeFrame(0x81, payload, RFC_MASK);
    assert.equal(buffers.length, 1);
    assert.equal(payload.toString(), 'Hello');
  });

  it('accepts a Uint8Array that is not a Buffer', () => {
    const payload = new Uint8Array([1, 2, 3]);
    assert.equal(toHex(Buffer.concat(encodeFrame(0x82, payload, null))), '82 03 01 02 03');
  });

  it('POCO flags pass through as the first byte: RSV bits, reserved opcodes, non-FIN control', () => {
    assert.equal(encoded(0xc1, Buffer.alloc(0)), 'c1 00');
    assert.equal(encoded(0x03, Buffer.alloc(0)), '03 00');
    assert.equal(encoded(0x09, Buffer.alloc(0)), '09 00');
  });
});

describe('makeFrame: the first byte whole, the payload, and the bytes on the wire', () => {
  it('keeps the flags as received (FIN, RSV and opcode are bits of them) and nothing else', () => {
    const payload = Buffer.from('x');
    const frame = makeFrame(0xf1, payload, 7);
    assert.deepEqual(Object.keys(frame), ['type', 'flags', 'payload', 'wireLength']);
    assert.equal(frame.type, 'frame');
    assert.equal(frame.flags, 0xf1);
    assert.equal(frame.payload, payload);
    assert.equal(frame.wireLength, 7);
  });
});

describe('toBuffer: the bytes of any view, never its element count', () => {
  it('a Float32Array of 4 elements is 16 bytes; a window of a larger buffer is the window', () => {
    assert.equal(toBuffer(new Float32Array(4)).length, 16);
    const backing = new ArrayBuffer(64);
    const view = new Uint16Array(backing, 8, 3);
    view.set([0x0102, 0x0304, 0x0506]);
    const bytes = toBuffer(view);
    assert.equal(bytes.length, 6);
    assert.equal(bytes.buffer, backing);
    assert.equal(bytes.byteOffset, 8);
    const window = toBuffer(new DataView(backing, 10, 2));
    assert.equal(window.byteOffset, 10);
    assert.equal(window.length, 2);
    assert.equal(toBuffer(backing).length, 64);
    assert.throws(() => toBuffer('text' as unknown as ArrayBuffer), TypeError);
  });

  it('encodeFrame announces byteLength and carries exactly those bytes', () => {
    const floats = Float64Array.of(1.5, -2.25);
    const [frame] = encodeFrame(0x82, floats, null);
    assert.equal(frame[1], 16);
    assert.deepEqual(frame.subarray(2), Buffer.from(floats.buffer));
  });
});
