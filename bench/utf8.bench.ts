/** UTF-8 validation of text messages: whole (isUtf8) and fragmented (the incremental validator). */
import { Buffer } from 'node:buffer';
import { Utf8Validator, isValidUtf8 } from '../src/protocol/utf8.js';
import { printTable, runCase, type Result } from './harness.js';
import { wsIsValidUtf8 } from './ws-internals.js';

function mixedText(size: number): Buffer {
  const sample = Buffer.from('WebSocket — κόσμε — 世界 — 🙂 — plain ASCII text, ');
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += sample.length) sample.copy(out, at);
  // Do not end inside a code point.
  let end = size;
  while (end > 0 && (out[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && out[end - 1] >= 0xc0) end--;
  out.fill(0x20, end);
  return out;
}

export function utf8Suite(): void {
  const results: Result[] = [];
  for (const [label, size] of [
    ['32 B', 32],
    ['1 KiB', 1024],
    ['64 KiB', 65536],
  ] as const) {
    const text = mixedText(size);
    results.push(
      ...runCase({
        name: `whole message, ${label}`,
        bytesPerOp: size,
        contenders: [
          { name: 'wsnet', run: () => void isValidUtf8(text) },
          { name: 'ws', run: () => void wsIsValidUtf8(text) },
        ],
      }),
    );
  }
  // Fragmented: wsnet checks each fragment as it arrives (fail fast, RFC 6455 §8.1); ws checks
  // the reassembled message once. Same bytes, 16 fragments cut at odd places.
  const message = mixedText(65536);
  const fragments = Array.from({ length: 16 }, (_, i) =>
    message.subarray(i * 4096 + (i ? 1 : 0), (i + 1) * 4096 + 1),
  );
  const validator = new Utf8Validator();
  results.push(
    ...runCase({
      name: 'fragmented 64 KiB (16 fragments)',
      bytesPerOp: message.length,
      contenders: [
        {
          name: 'wsnet',
          run: () => {
            validator.reset();
            for (let i = 0; i < fragments.length; i++)
              if (!validator.push(fragments[i], i === fragments.length - 1))
                throw new Error('invalid');
          },
        },
        { name: 'ws', run: () => void wsIsValidUtf8(Buffer.concat(fragments)) },
      ],
    }),
  );
  printTable('UTF-8 validation, GB/s', results, 'GB/s');
}
