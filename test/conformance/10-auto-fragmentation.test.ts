// RFC 6455 conformance, category 10 (as Autobahn's): fragmentation chosen by the sender (§5.4:
// "an intermediary ... MAY change the fragmentation", and a receiver must not care). Received:
// a large message in fragments of an arbitrary size is echoed whole. Sent: `sendStream()` puts
// a message on the wire as fragments, a text or binary frame then continuation frames, FIN on
// the last only; nothing else may come between them but control frames.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { it } from 'node:test';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import {
  conformance,
  expectBinary,
  expectText,
  send,
  within,
  FIN_WAIT_MS,
  type Case,
} from '../helpers/conformance.js';
import {
  FIN,
  OP_BINARY,
  OP_CONT,
  OP_TEXT,
  assertBytes,
  binary,
  cont,
  readFrame,
  text,
  utf8Text,
  type InFrame,
} from '../helpers/wire.js';
import type { RawClient } from '../helpers/raw-client.js';

/** `payload` in fragments of `size` octets. */
function fragmented(make: typeof text, payload: Buffer, size: number) {
  const frames = [];
  for (let at = 0; at < payload.length; at += size)
    frames.push(
      (at === 0 ? make : cont)(payload.subarray(at, at + size), {
        fin: at + size >= payload.length,
      }),
    );
  return frames;
}

const cases: Case[] = [
  {
    id: '10.1.1',
    title: '§5.4 a text message of 65536 octets in 1300-octet fragments is echoed whole',
    steps: [send(...fragmented(text, utf8Text(65536), 1300)), expectText(utf8Text(65536))],
  },
  {
    id: '10.1.2',
    title: '§5.4 a binary message of 1 MiB in 1300-octet fragments is echoed whole',
    steps: [
      send(...fragmented(binary, pseudoRandomBytes(1 << 20), 1300)),
      expectBinary(pseudoRandomBytes(1 << 20)),
    ],
  },
];

/** Reads frames up to and including the one with FIN. */
async function readMessageFrames(peer: RawClient): Promise<InFrame[]> {
  const frames: InFrame[] = [];
  for (let i = 0; i < 10_000; i++) {
    const f = await readFrame(peer);
    frames.push(f);
    if ((f.flags & FIN) !== 0) return frames;
  }
  throw new Error('no final fragment in 10000 frames');
}

conformance(cases, (harness) => {
  const masked = harness.role === 'client';
  const flagsOf = (frames: InFrame[]) => frames.map((f) => f.flags.toString(16)).join(' ');

  it(`10.2.1 §5.4 sendStream() from the ${harness.role}: text, continuations, FIN on the last`, async () => {
    const { peer, connection } = await harness.open();
    const sent = connection.sendStream(['fragment1', 'fragment2', 'fragment3']);
    const frames = await readMessageFrames(peer);
    await within(sent, FIN_WAIT_MS, 'sendStream()');
    assert.equal(
      flagsOf(frames),
      [OP_TEXT, OP_CONT, FIN | OP_CONT].map((f) => f.toString(16)).join(' '),
    );
    assert.deepEqual(
      frames.map((f) => f.payload.toString()),
      ['fragment1', 'fragment2', 'fragment3'],
    );
    for (const f of frames) assert.equal(f.masked, masked, '§5.1, §5.3');
  });

  it(`10.2.2 §5.6 sendStream() of text from the ${harness.role} may split a character across fragments`, async () => {
    const { peer, connection } = await harness.open();
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    const sent = connection.sendStream(
      [euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)],
      {
        binary: false,
      },
    );
    const frames = await readMessageFrames(peer);
    await within(sent, FIN_WAIT_MS, 'sendStream()');
    assert.equal(
      flagsOf(frames),
      [OP_TEXT, OP_CONT, FIN | OP_CONT].map((f) => f.toString(16)).join(' '),
    );
    assertBytes(Buffer.concat(frames.map((f) => f.payload)), euro, 'the text');
  });

  it(`10.2.3 §5.4 a message sent by the ${harness.role} during sendStream() goes after the last fragment`, async () => {
    const { peer, connection } = await harness.open();
    const chunks = Array.from({ length: 64 }, (_, i) => pseudoRandomBytes(16 * 1024, i + 1));
    const streamed = connection.sendStream(chunks);
    const after = connection.send('after');
    const frames = await readMessageFrames(peer);
    assert.equal(frames.length, 64);
    assert.equal(frames[0].flags, OP_BINARY, 'a binary first fragment, without FIN');
    for (const f of frames.slice(1, -1)) assert.equal(f.flags, OP_CONT);
    assert.equal(frames[63].flags, FIN | OP_CONT);
    assertBytes(Buffer.concat(frames.map((f) => f.payload)), Buffer.concat(chunks), 'the message');
    const next = await readFrame(peer);
    assert.equal(next.flags, FIN | OP_TEXT);
    assert.equal(next.payload.toString(), 'after');
    await within(Promise.all([streamed, after]), FIN_WAIT_MS, 'the sends');
  });
});
