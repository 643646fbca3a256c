// RFC 6455 conformance, category 9 (as Autobahn's): large messages (up to 16 MiB, in one frame
// and in many fragments, chopped into small writes) and many round trips. An endpoint may limit
// message size (§10.4): a message over the limit fails the connection with 1009 (§7.4.1), as soon
// as a frame header announces it, before its payload arrives.
import { Buffer } from 'node:buffer';
import {
  conformance,
  expectBinary,
  expectFail,
  expectText,
  send,
  sendChopped,
  sendTruncated,
  type Case,
  type Step,
} from '../helpers/conformance.js';
import { pseudoRandomBytes as pseudoRandom } from '../helpers/bytes.js';
import { binary, cont, text, utf8Text, type OutFrame } from '../helpers/wire.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const size = (n: number) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);

/** `payload` as a message of fragments of `fragment` octets. */
function fragments(make: typeof text, payload: Buffer, fragment: number): OutFrame[] {
  const frames: OutFrame[] = [];
  for (let at = 0; at < payload.length; at += fragment)
    frames.push(
      (at === 0 ? make : cont)(payload.subarray(at, at + fragment), {
        fin: at + fragment >= payload.length,
      }),
    );
  return frames;
}

const cases: Case[] = [];
for (const [i, n] of [MiB, 4 * MiB, 16 * MiB].entries()) {
  const timeoutMs = 5000 + n / 10_000;
  cases.push(
    {
      id: `9.1.${i + 1}`,
      title: `§5.2 a text message of ${size(n)} in one frame is echoed`,
      steps: [send(text(utf8Text(n))), expectText(utf8Text(n), timeoutMs)],
      timeoutMs,
    },
    {
      id: `9.2.${i + 1}`,
      title: `§5.2 a binary message of ${size(n)} in one frame is echoed`,
      steps: [send(binary(pseudoRandom(n))), expectBinary(pseudoRandom(n), timeoutMs)],
      timeoutMs,
    },
  );
}
for (const [i, [n, fragment]] of [
  [MiB, 64],
  [4 * MiB, 4 * KiB],
  [16 * MiB, MiB],
].entries()) {
  const timeoutMs = 5000 + n / 10_000;
  cases.push(
    {
      id: `9.3.${i + 1}`,
      title: `§5.4 a text message of ${size(n)} in ${fragment}-octet fragments is echoed`,
      steps: [send(...fragments(text, utf8Text(n), fragment)), expectText(utf8Text(n), timeoutMs)],
      timeoutMs,
    },
    {
      id: `9.4.${i + 1}`,
      title: `§5.4 a binary message of ${size(n)} in ${fragment}-octet fragments is echoed`,
      steps: [
        send(...fragments(binary, pseudoRandom(n), fragment)),
        expectBinary(pseudoRandom(n), timeoutMs),
      ],
      timeoutMs,
    },
  );
}
for (const [i, [n, chop]] of [
  [64 * KiB, 64],
  [MiB, 4 * KiB],
].entries())
  cases.push({
    id: `9.5.${i + 1}`,
    title: `§5.2 a text message of ${size(n)} in one frame, written in ${chop}-octet pieces, is echoed`,
    steps: [sendChopped(chop, text(utf8Text(n))), expectText(utf8Text(n))],
    timeoutMs: 10_000,
  });

const messages = Array.from({ length: 1000 }, (_, i) => `message ${i} ${'*'.repeat(i % 50)}`);
cases.push(
  {
    id: '9.7.1',
    title: '§6.1 1000 text messages, one round trip each, are echoed',
    steps: messages.flatMap((m): Step[] => [send(text(m)), expectText(m)]),
  },
  {
    id: '9.7.2',
    title: '§6.1 1000 binary messages in one write are echoed in order',
    steps: [send(...messages.map((m) => binary(m))), ...messages.map((m) => expectBinary(m))],
  },
);

// Limits: an endpoint configured for messages of at most 1 MiB.
const limit = { maxMessageSize: MiB };
cases.push(
  {
    id: '9.9.1',
    title: '§10.4 a message of exactly the limit (1 MiB) is echoed',
    steps: [send(binary(pseudoRandom(MiB))), expectBinary(pseudoRandom(MiB))],
    settings: limit,
  },
  {
    id: '9.9.2',
    title: '§10.4 a message one octet over the limit fails the connection with 1009',
    steps: [send(binary(pseudoRandom(MiB + 1))), expectFail(1009)],
    settings: limit,
  },
  {
    id: '9.9.3',
    title: '§10.4 fragments that add up to one octet over the limit fail the connection with 1009',
    steps: [send(...fragments(text, utf8Text(MiB + 1), 64 * KiB)), expectFail(1009)],
    settings: limit,
  },
  {
    id: '9.9.4',
    title: '§10.4 a frame header announcing more than the limit fails with 1009 before the payload',
    // Only the header goes out: the endpoint must not wait for 2 MiB that never come.
    steps: [sendTruncated(binary(Buffer.alloc(2 * MiB))), expectFail(1009)],
    settings: limit,
  },
  {
    id: '9.9.5',
    title: '§10.4 the limit is on messages: many small frames over it fail with 1009',
    steps: [
      send(
        text('x'.repeat(100), { fin: false }),
        ...Array.from({ length: 2 * KiB }, () => cont('y'.repeat(512), { fin: false })),
      ),
      expectFail(1009),
    ],
    settings: limit,
  },
);

conformance(cases);
