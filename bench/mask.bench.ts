/** Masking throughput: unmasking in place, as a server does for every received payload. */
import { Buffer } from 'node:buffer';
import { applyMask } from '../src/protocol/mask.js';
import { printTable, runCase, type Result } from './harness.js';
import { wsNative, wsPureJs } from './ws-internals.js';

export function maskSuite(): void {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const results: Result[] = [];
  for (const [label, size] of [
    ['16 B', 16],
    ['1 KiB', 1024],
    ['64 KiB', 65536],
    ['1 MiB', 1 << 20],
  ] as const) {
    // Offset by one byte, like a payload after a frame header inside a received chunk.
    const data = Buffer.alloc(size + 1, 0x5a).subarray(1);
    results.push(
      ...runCase({
        name: label,
        bytesPerOp: size,
        contenders: [
          { name: 'wsnet', run: () => applyMask(data, mask) },
          { name: 'ws (JS)', run: () => wsPureJs.unmask(data, mask) },
          { name: 'ws (bufferutil)', run: () => wsNative.unmask(data, mask) },
        ],
      }),
    );
  }
  printTable('Masking (unmask in place), GB/s', results, 'GB/s');
}
