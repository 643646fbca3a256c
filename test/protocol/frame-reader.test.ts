// Incremental frame reading (RFC 6455 §5.2): any split of the input, zero-copy views, the
// 64-bit length rule, and bounded memory for trickled input.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { hex, pseudoRandomBytes, toHex } from '../helpers/bytes.js';

interface ReadFrame {
  flags: number;
  masked: boolean;
  mask: string;
  payload: string;
}

/** Reads every complete frame out of `reader`. */
function drain(
  reader: FrameReader,
  out: ReadFrame[],
  state: { header: ReadFrame | null; length: number },
): void {
  for (;;) {
    if (state.header === null) {
      const header = reader.readHeader();
      if (header === null) return;
      state.header = {
        flags: header.flags,
        masked: header.masked,
        mask: Buffer.from(header.mask).toString('hex'),
        payload: '',
      };
      state.length = header.length;
    }
    const payload = reader.readPayload(state.length);
    if (payload === null) return;
    out.push({
      ...state.header,
      payload: payload.toString('hex'),
      mask: state.header.masked ? state.header.mask : '',
    });
    state.header = null;
  }
}

function readAll(chunks: Uint8Array[]): ReadFrame[] {
  const reader = new FrameReader();
  const out: ReadFrame[] = [];
  const state = { header: null as ReadFrame | null, length: 0 };
  for (const chunk of chunks) {
    reader.push(Buffer.from(chunk));
    drain(reader, out, state);
  }
  return out;
}

const stream = Buffer.concat([
  hex('81 05 48 65 6c 6c 6f'),
  hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
  hex('89 00'),
  ...encodeFrame(0x82, pseudoRandomBytes(300), null),
  ...encodeFrame(0x82, pseudoRandomBytes(70000), fixedMask([1, 2, 3, 4])),
  hex('88 02 03 e8'),
]);

describe('FrameReader', () => {
  it('reads a stream of frames given in one chunk', () => {
    const frames = readAll([stream]);
    assert.deepEqual(
      frames.map((f) => [f.flags, f.masked, f.payload.length / 2]),
      [
        [0x81, false, 5],
        [0x81, true, 5],
        [0x89, false, 0],
        [0x82, false, 300],
        [0x82, true, 70000],
        [0x88, false, 2],
      ],
    );
    assert.equal(frames[1].mask, '37fa213d');
    assert.equal(
      frames[1].payload,
      '7f9f4d5158',
      'the reader does not unmask; the connection does',
    );
  });

  it('gives the same frames for every split of the stream into two chunks', () => {
    const whole = readAll([stream]);
    const small = stream.subarray(0, 40); // every header form is in the first 40 bytes
    for (let cut = 0; cut <= small.length; cut++) {
      const split = readAll([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(split, whole, `cut at ${cut}`);
    }
  });

  it('gives the same frames when fed one byte at a time', () => {
    const bytes = Array.from(stream.subarray(0, 400), (b) => Uint8Array.of(b));
    const header = readAll([stream.subarray(0, 400)]);
    assert.deepEqual(readAll(bytes), header);
  });

  it('returns a payload inside one chunk as a view of it (no copy)', () => {
    const reader = new FrameReader();
    const chunk = Buffer.concat([hex('82 7e 04 00'), Buffer.alloc(1024, 7)]);
    reader.push(chunk);
    const header = reader.readHeader();
    assert.equal(header?.length, 1024);
    const payload = reader.readPayload(1024)!;
    assert.equal(payload.buffer, chunk.buffer);
    assert.equal(payload.byteOffset, chunk.byteOffset + 4);
  });

  it('copies a payload that spans chunks into one buffer', () => {
    const reader = new FrameReader();
    reader.push(Buffer.concat([hex('82 7e 08 00'), Buffer.alloc(1024, 1)]));
    reader.push(Buffer.alloc(1024, 2));
    reader.readHeader();
    const payload = reader.readPayload(2048)!;
    assert.equal(payload.length, 2048);
    assert.equal(payload[1023], 1);
    assert.equal(payload[1024], 2);
    assert.equal(reader.bufferedBytes, 0);
  });

  it('unmasks a payload gathered from many chunks, whatever the chunk sizes (mask phases)', () => {
    const payload = pseudoRandomBytes(70_001);
    const mask = [0x37, 0xfa, 0x21, 0x3d];
    const wire = Buffer.concat(encodeFrame(0x82, payload, fixedMask(mask)));
    for (const sizes of [[4097], [3, 5000, 1], [65536], [2049, 2047, 9999]]) {
      const reader = new FrameReader(0);
      let at = 0;
      let turn = 0;
      while (at < wire.length) {
        const size = sizes[turn++ % sizes.length];
        reader.push(Buffer.from(wire.subarray(at, at + size)));
        at += size;
      }
      const header = reader.readHeader()!;
      assert.ok(header.masked);
      const received = reader.readPayload(header.length, header.mask)!;
      assert.ok(received.equals(payload), `chunk sizes ${sizes.join(', ')}`);
    }
  });

  it('unmasks a payload inside one chunk in place', () => {
    const payload = Buffer.from('Hello');
    const chunk = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    const reader = new FrameReader();
    reader.push(chunk);
    const header = reader.readHeader()!;
    assert.equal(reader.readPayload(header.length, header.mask)!.toString(), payload.toString());
  });

  it('returns null until a header is complete, for every header form', () => {
    for (const header of [
      hex('81 05'),
      hex('81 7e 01 00'),
      hex('82 ff 00 00 00 00 00 01 00 00 01 02 03 04'),
    ]) {
      const reader = new FrameReader();
      for (let i = 0; i < header.length - 1; i++) {
        reader.push(header.subarray(i, i + 1));
        assert.equal(reader.readHeader(), null, `after ${i + 1} of ${header.length} header bytes`);
      }
      reader.push(header.subarray(header.length - 1));
      assert.notEqual(reader.readHeader(), null);
    }
  });

  it('reads 64-bit lengths up to 2^53 - 1 exactly', () => {
    const reader = new FrameReader();
    reader.push(hex('82 7f 00 1f ff ff ff ff ff ff'));
    assert.equal(reader.readHeader()?.length, 2 ** 53 - 1);
    reader.push(hex('82 7f 7f ff ff ff ff ff ff ff'));
    assert.ok(reader.readHeader()!.length > 2 ** 62, 'large lengths are over every limit');
  });

  it('RFC 6455 §5.2: a 64-bit length with the most significant bit set is a protocol error', () => {
    const reader = new FrameReader();
    reader.push(hex('82 7f 80 00 00 00 00 00 00 00'));
    assert.throws(
      () => reader.readHeader(),
      (error: unknown) =>
        error instanceof ProtocolError &&
        error.reason === 'LENGTH_MSB_SET' &&
        error.closeCode === 1002,
    );
  });

  it('a trickled large frame keeps memory near its size (tiny chunks are coalesced)', () => {
    const reader = new FrameReader();
    const payload = pseudoRandomBytes(200_000);
    reader.push(hex('82 7f 00 00 00 00 00 03 0d 40'));
    assert.equal(reader.readHeader()?.length, 200_000);
    for (let i = 0; i < payload.length; i += 3) reader.push(payload.subarray(i, i + 3));
    // 200 000 3-byte chunks end up in 16 KiB blocks: a few dozen chunk objects, not 66 667.
    const chunkCount = (reader as unknown as { chunks: unknown[] }).chunks.length;
    assert.ok(chunkCount < 20, `${chunkCount} chunks held`);
    assert.ok(reader.readPayload(200_000)!.equals(payload));
  });

  it('a small chunk after a large one goes into the block as a piece of its own', () => {
    const reader = new FrameReader();
    const parts = [
      pseudoRandomBytes(10, 1), // taken as it is: nothing was pending
      pseudoRandomBytes(10, 2), // small, after pending bytes: starts a coalescing block
      pseudoRandomBytes(2000, 3), // large: queued as it is
      pseudoRandomBytes(10, 4), // small again: into the block, but not after its last piece
      pseudoRandomBytes(10, 5), // appended to that piece
    ];
    for (const part of parts) reader.push(part);
    const chunks = (reader as unknown as { chunks: Buffer[] }).chunks;
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [10, 10, 2000, 20],
    );
    assert.equal(chunks[1].buffer, chunks[3].buffer, 'both pieces share one block');
    assert.ok(reader.readPayload(2040)!.equals(Buffer.concat(parts)));
  });

  it('peekPayload copies what is buffered past a position without consuming it', () => {
    const reader = new FrameReader(0);
    reader.push(hex('01 02 03'));
    reader.push(hex('04 05'));
    assert.equal(toHex(reader.peekPayload(1)), '02 03 04 05');
    assert.equal(
      toHex(reader.peekPayload(3, [0x10, 0x20, 0x30, 0x40])),
      '44 15',
      'unmasked from mask phase 3 on',
    );
    assert.equal(reader.peekPayload(5).length, 0, 'nothing past the end');
    assert.equal(reader.peekPayload(9).length, 0, 'nor far past it');
    assert.equal(reader.bufferedBytes, 5);
    assert.equal(toHex(reader.readPayload(5)!), '01 02 03 04 05');
  });

  it('peekPayload hands out a view, not a copy, of unmasked bytes that lie in the newest chunk', () => {
    const reader = new FrameReader(0);
    // Chunks over memory of their own (not Node's shared pool, where a copy may land too).
    const older = new Uint8Array(hex('01 02 03'));
    const newest = new Uint8Array(hex('04 05 06'));
    reader.push(older);
    reader.push(newest);
    const view = reader.peekPayload(4);
    assert.equal(toHex(view), '05 06');
    assert.equal(view.buffer, newest.buffer, 'a view of the newest chunk');
    assert.equal(view.byteOffset, newest.byteOffset + 1);
    const spanning = reader.peekPayload(2);
    assert.equal(toHex(spanning), '03 04 05 06');
    assert.notEqual(spanning.buffer, newest.buffer, 'bytes from two chunks are a copy');
    const masked = reader.peekPayload(4, [0x10, 0x20, 0x30, 0x40]);
    assert.equal(toHex(masked), '15 26', 'unmasked from mask phase 0 on');
    assert.equal(toHex(newest), '04 05 06', 'masked bytes are unmasked into a copy');
    assert.equal(reader.bufferedBytes, 6, 'nothing consumed');

    // One chunk, partly consumed: the view starts where the reading stopped.
    const single = new FrameReader(0);
    const chunk = new Uint8Array(hex('0a 0b 0c 0d 0e'));
    single.push(chunk);
    assert.equal(toHex(single.readPayload(2)!), '0a 0b');
    const rest = single.peekPayload(0);
    assert.equal(toHex(rest), '0c 0d 0e');
    assert.equal(rest.buffer, chunk.buffer);
    assert.equal(toHex(single.peekPayload(1)), '0d 0e');
  });

  it('drops consumed chunks from its list once over 1024 of them are used up', () => {
    // Coalescing off: every 1-byte push stays a chunk of its own, as large pushes do.
    const reader = new FrameReader(0);
    const bytes = pseudoRandomBytes(3000);
    for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
    const chunks = () => (reader as unknown as { chunks: unknown[] }).chunks.length;
    assert.equal(chunks(), 3000);
    // Read in pieces that end on chunk boundaries with chunks left over: the list is compacted
    // once more than 1024 chunks and more than half the list are consumed.
    let at = 0;
    for (const size of [1000, 600]) {
      assert.ok(reader.readPayload(size)!.equals(bytes.subarray(at, at + size)));
      at += size;
    }
    assert.equal(chunks(), 3000 - 1600, 'the 1600 consumed chunks are gone');
    assert.equal(reader.bufferedBytes, 1400);
    assert.ok(reader.readPayload(1400)!.equals(bytes.subarray(1600)));
    assert.equal(reader.bufferedBytes, 0);
  });

  it('empty pushes and zero-length payloads are harmless', () => {
    const reader = new FrameReader();
    reader.push(Buffer.alloc(0));
    assert.equal(reader.readHeader(), null);
    reader.push(hex('8a 00'));
    assert.equal(reader.readHeader()?.length, 0);
    assert.equal(reader.readPayload(0)?.length, 0);
    assert.equal(reader.bufferedBytes, 0);
  });
});

describe('FrameReader.gatherPartialPayloads', () => {
  const payload = pseudoRandomBytes(200_003, 7);
  const masked = Buffer.concat(encodeFrame(0x82, payload, fixedMask([0x12, 0x34, 0x56, 0x78])));
  const plain = Buffer.concat(encodeFrame(0x82, payload, null));

  /** Feeds `wire` in reads of the given sizes (cycled), reading as a Connection does. */
  function gatherIn(wire: Buffer, sizes: number[]): { payload: Buffer; views: number[] } {
    const reader = new FrameReader();
    assert.equal(reader.gatherPartialPayloads, false, 'off by default');
    reader.gatherPartialPayloads = true;
    assert.equal(reader.gatherPartialPayloads, true);
    const views: number[] = [];
    let header: ReturnType<FrameReader['readHeader']> = null;
    for (let at = 0, i = 0; at < wire.length; i++) {
      const size = sizes[i % sizes.length];
      reader.push(Buffer.from(wire.subarray(at, at + size)));
      at += size;
      header ??= reader.readHeader();
      if (header === null) continue;
      const out = reader.readPayload(header.length, header.masked ? header.mask : null);
      if (out !== null) {
        assert.equal(reader.bufferedBytes, 0, 'nothing left once the frame is read');
        return { payload: out, views };
      }
      const gathered = reader.gatheredPayload();
      if (gathered === null) {
        // A large frame's buffer waits for an eighth of it: until then nothing is reserved.
        assert.ok(reader.bufferedBytes * 8 < header.length, 'gathering starts at an eighth');
        continue;
      }
      const before = views.at(-1) ?? 0;
      views.push(gathered.length);
      assert.equal(reader.bufferedBytes, gathered.length, 'gathered bytes still count as buffered');
      // What this read added (the bytes before it were checked when they came).
      assert.ok(
        payload.subarray(before, gathered.length).equals(gathered.subarray(before)),
        'what is gathered so far is the payload, unmasked, in place',
      );
    }
    throw new Error('the frame never completed');
  }

  it('unmasks a payload that spans reads of any sizes (every mask phase) into one buffer', () => {
    for (const sizes of [[1], [3, 5, 7], [1000, 1], [65_536], [4099, 13]]) {
      const { payload: out, views } = gatherIn(masked, sizes);
      assert.ok(out.equals(payload), `reads of ${sizes.join(', ')}`);
      assert.ok(views.length > 0, 'the frame was gathered in steps');
    }
  });

  it('gathers an unmasked payload (a client reading a server) the same way', () => {
    assert.ok(gatherIn(plain, [777, 65_536]).payload.equals(payload));
  });

  it('off (the default), a partial payload stays buffered until it is complete', () => {
    const reader = new FrameReader();
    reader.push(masked.subarray(0, 1000));
    const header = reader.readHeader()!;
    assert.equal(reader.readPayload(header.length, header.mask), null);
    assert.equal(reader.gatheredPayload(), null);
    assert.equal(reader.bufferedBytes, 1000 - 14);
  });

  it('reserves no buffer for a large frame declared but barely sent', () => {
    // A 16 MiB frame's header and 1 KiB of it: a buffer at the declared length would be 16 MiB
    // reserved for 1 KiB received.
    const reader = new FrameReader();
    reader.gatherPartialPayloads = true;
    const big = Buffer.concat(encodeFrame(0x82, Buffer.alloc(16 << 20, 0x61), null));
    reader.push(big.subarray(0, 10 + 1024));
    const header = reader.readHeader()!;
    assert.equal(reader.readPayload(header.length), null);
    assert.equal(reader.gatheredPayload(), null, 'nothing gathered yet');
    assert.equal(reader.bufferedBytes, 1024);
    // Once an eighth has arrived, the payload is gathered into its buffer from then on.
    reader.push(big.subarray(10 + 1024, 10 + (2 << 20)));
    assert.equal(reader.readPayload(header.length), null);
    assert.equal(reader.gatheredPayload()?.length, 2 << 20);
    reader.push(big.subarray(10 + (2 << 20)));
    const out = reader.readPayload(header.length);
    assert.ok(out?.equals(big.subarray(10)));
  });
});
