/**
 * Masking throughput, in the three shapes it takes in a WebSocket:
 * - in place: a server unmasking a payload that sits inside one received chunk;
 * - into a new buffer: a client masking a payload into the frame it sends;
 * - gathered: a server unmasking a payload that arrived over several socket reads (wsnet unmasks
 *   while gathering; ws, like most, concatenates and then unmasks).
 */
import { Buffer } from 'node:buffer';
import { encodeFrame } from '../src/protocol/frame.js';
import { FrameReader } from '../src/protocol/frame-reader.js';
import { applyMask, fixedMask, maskInto } from '../src/protocol/mask.js';
import { printTable, runCase, type Result } from './harness.js';
import { wsNative, wsPureJs } from './ws-internals.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

const SIZES = [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 65536],
  ['1 MiB', 1 << 20],
] as const;

function inPlace(): Result[] {
  return SIZES.flatMap(([label, size]) => {
    // Offset by one byte, like a payload after a frame header inside a received chunk.
    const data = Buffer.alloc(size + 1, 0x5a).subarray(1);
    return runCase({
      name: label,
      bytesPerOp: size,
      contenders: [
        { name: 'wsnet', run: () => applyMask(data, MASK) },
        { name: 'ws (JS)', run: () => wsPureJs.unmask(data, MASK) },
        { name: 'ws (bufferutil)', run: () => wsNative.unmask(data, MASK) },
      ],
    });
  });
}

function intoNewBuffer(): Result[] {
  return SIZES.flatMap(([label, size]) => {
    const source = Buffer.alloc(size, 0x5a);
    // The payload follows a header in the frame buffer: write it at an unaligned offset.
    const frame = Buffer.alloc(size + 14);
    return runCase({
      name: label,
      bytesPerOp: size,
      contenders: [
        { name: 'wsnet', run: () => maskInto(source, MASK, frame, 14) },
        { name: 'ws (JS)', run: () => wsPureJs.mask(source, MASK, frame, 14, size) },
        { name: 'ws (bufferutil)', run: () => wsNative.mask(source, MASK, frame, 14, size) },
      ],
    });
  });
}

function gathered(): Result[] {
  return [
    ['256 KiB', 256 * 1024],
    ['1 MiB', 1 << 20],
    ['16 MiB', 16 << 20],
  ].flatMap(([label, size]) => {
    const wire = Buffer.concat(
      encodeFrame(0x82, Buffer.alloc(size as number, 0x5a), fixedMask(MASK)),
    );
    const reads: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 65536) reads.push(wire.subarray(at, at + 65536));
    const headerLength = 14;
    const payloadReads = [reads[0].subarray(headerLength), ...reads.slice(1)];
    // ws's Receiver: consume() copies the reads into one buffer, then unmask() runs over it.
    const wsGather = (unmask: (buffer: Buffer, mask: Buffer) => void) => () =>
      unmask(Buffer.concat(payloadReads, size as number), MASK);
    return runCase({
      name: `${label} in 64 KiB reads`,
      bytesPerOp: size as number,
      contenders: [
        {
          name: 'wsnet',
          run: () => {
            const reader = new FrameReader();
            for (const read of reads) reader.push(read);
            const header = reader.readHeader()!;
            reader.readPayload(header.length, header.mask);
          },
        },
        { name: 'ws (JS)', run: wsGather((b, m) => wsPureJs.unmask(b, m)) },
        { name: 'ws (bufferutil)', run: wsGather((b, m) => wsNative.unmask(b, m)) },
      ],
    });
  });
}

export function maskSuite(): void {
  printTable('Masking in place (a payload inside one received chunk), GB/s', inPlace(), 'GB/s');
  printTable(
    'Masking into a new buffer (a client building a frame), GB/s',
    intoNewBuffer(),
    'GB/s',
  );
  printTable(
    'Unmasking a payload gathered from socket reads (a server receiving a large frame), GB/s',
    gathered(),
    'GB/s',
  );
}
