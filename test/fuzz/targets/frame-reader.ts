/**
 * Fuzz target: the frame reader (src/protocol/frame-reader.ts). The input is received bytes.
 *
 * Invariant: the only exception is ProtocolError LENGTH_MSB_SET (with close code 1002); reading
 * ends in at most one step per two input bytes; the frames read do not depend on how the bytes
 * were split into chunks (whole, byte by byte, and split at every offset of short inputs); and
 * each frame read re-encodes (encodeFrame) to a frame that an independent RFC 6455 parser reads
 * back as the same flags and payload.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ProtocolError } from '../../../src/protocol/errors.js';
import { encodeFrame } from '../../../src/protocol/frame.js';
import { FrameReader } from '../../../src/protocol/frame-reader.js';
import { fixedMask } from '../../../src/protocol/mask.js';
import type { FuzzTarget } from '../harness.js';
import { wireStream } from '../frames.js';
import { parseWireFrame } from '../wire-check.js';

interface Reading {
  frames: Array<{ flags: number; payload: Buffer }>;
  error: string | null;
}

function read(chunks: readonly Buffer[], total: number, smallChunk: number): Reading {
  const reader = new FrameReader(smallChunk);
  const frames: Reading['frames'] = [];
  let header: { flags: number; length: number; mask: number[] | null } | null = null;
  let steps = 0;
  try {
    for (const chunk of chunks) {
      reader.push(Buffer.from(chunk)); // the reader unmasks in place: give it its own copy
      for (;;) {
        assert.ok(++steps <= total + chunks.length + 1, 'the reader does not make progress');
        if (header === null) {
          const h = reader.readHeader();
          if (h === null) break;
          header = { flags: h.flags, length: h.length, mask: h.masked ? [...h.mask] : null };
        }
        // A declared length larger than what can still arrive is never complete: stop there.
        if (header.length > total) break;
        const payload = reader.readPayload(header.length, header.mask);
        if (payload === null) break;
        frames.push({ flags: header.flags, payload: Buffer.from(payload) });
        header = null;
      }
      assert.ok(reader.bufferedBytes <= total, 'buffers more than it was given');
    }
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    assert.equal(error.reason, 'LENGTH_MSB_SET', `undocumented reader error ${error.reason}`);
    assert.equal(error.closeCode, 1002);
    return { frames, error: error.reason };
  }
  return { frames, error: null };
}

function checkReencodes(frame: { flags: number; payload: Buffer }): void {
  for (const mask of [null, fixedMask([0x37, 0xfa, 0x21, 0x3d])]) {
    const wire = Buffer.concat(encodeFrame(frame.flags, frame.payload, mask));
    const parsed = parseWireFrame(wire, 0);
    assert.ok(parsed !== null && parsed.next === wire.length, 're-encoded frame is not one frame');
    assert.equal(parsed.frame.flags, frame.flags);
    assert.equal(parsed.frame.masked, mask !== null);
    assert.ok(parsed.frame.payload.equals(frame.payload), 're-encoded payload differs');
  }
}

function check(input: Buffer): void {
  const whole = read([input], input.length, 1024);
  for (const frame of whole.frames) checkReencodes(frame);
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  assert.deepEqual(read(bytes, input.length, 1024), whole, 'byte by byte differs from whole');
  assert.deepEqual(read(bytes, input.length, 0), whole, 'uncoalesced differs from whole');
  if (input.length <= 48)
    for (let at = 1; at < input.length; at++)
      assert.deepEqual(
        read([input.subarray(0, at), input.subarray(at)], input.length, 1024),
        whole,
        `split at ${at} differs from whole`,
      );
}

export const frameReaderTarget: FuzzTarget = {
  name: 'frame-reader',
  generate: wireStream(),
  check,
};
