/**
 * Frame parsing at a server: masked client frames in 64 KiB reads, through wsnet's Connection
 * (read, unmask, validate, reassemble, events) and through ws's Receiver (the same work).
 */
import { Buffer } from 'node:buffer';
import { Connection } from '../src/protocol/connection.js';
import { encodeFrame } from '../src/protocol/frame.js';
import { fixedMask } from '../src/protocol/mask.js';
import { printTable, runCase, type Result } from './harness.js';
import { WsReceiverJs, WsReceiverNative, type WsReceiver } from './ws-internals.js';

const READ_SIZE = 65536;

/** `count` masked frames of `size` bytes, cut into socket-sized reads. */
function wire(flags: number, size: number, count: number): Buffer[] {
  const payload = Buffer.alloc(size, 'x');
  const frames = Buffer.concat(
    Array.from({ length: count }, () =>
      Buffer.concat(encodeFrame(flags, payload, fixedMask([1, 2, 3, 4]))),
    ),
  );
  const reads: Buffer[] = [];
  for (let at = 0; at < frames.length; at += READ_SIZE)
    reads.push(Buffer.from(frames.subarray(at, at + READ_SIZE)));
  return reads;
}

function parseCase(name: string, flags: number, size: number, count: number): Result[] {
  const reads = wire(flags, size, count);
  // Unmasking happens in place, so each run masks the reads back first... which would time the
  // masking twice. Instead both parsers see the same bytes, alternately masked and unmasked:
  // framing is unaffected and, for binary frames, so is the work.
  const connection = new Connection('server', { maxMessageSize: 1 << 30 });
  let wsnetMessages = 0;
  let wsMessages = 0;
  const receiver = (Receiver: new (options: object) => WsReceiver) =>
    new Receiver({ isServer: true, maxPayload: 1 << 30, binaryType: 'nodebuffer' })
      .on('message', () => wsMessages++)
      .on('error', (error) => {
        throw error;
      });
  const wsJs = receiver(WsReceiverJs);
  const wsNative = receiver(WsReceiverNative);
  const results = runCase({
    name,
    bytesPerOp: size * count,
    unitsPerOp: count,
    unit: 'frames',
    contenders: [
      {
        name: 'wsnet',
        run: () => {
          for (const read of reads) {
            connection.receiveData(read);
            wsnetMessages += connection.takeEvents().length;
          }
        },
      },
      {
        name: 'ws (JS)',
        run: () => {
          for (const read of reads) wsJs.write(read);
        },
      },
      {
        name: 'ws (bufferutil)',
        run: () => {
          for (const read of reads) wsNative.write(read);
        },
      },
    ],
  });
  if (connection.failure !== undefined) throw connection.failure;
  if (wsnetMessages === 0 || wsMessages === 0) throw new Error('no messages parsed');
  return results;
}

export function parseSuite(): void {
  const frames = [
    ...parseCase('32 B binary frames', 0x82, 32, 20000),
    ...parseCase('1 KiB binary frames', 0x82, 1024, 2000),
  ];
  printTable(
    'Frame parsing at a server (masked frames in 64 KiB reads), frames/s',
    frames,
    'units',
  );
  const bulk = parseCase('64 KiB binary frames', 0x82, 65536, 64);
  printTable('Frame parsing at a server, MB/s', bulk, 'MB/s');
}
