// RFC 6455 conformance, category 1 (as Autobahn's): framing of whole text and binary messages
// (§5.2, §5.6), at the boundaries of the three payload length encodings (7-bit, 16-bit, 64-bit),
// sent in one write and chopped into small writes; and masking (§5.1, §5.3).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { it } from 'node:test';
import {
  conformance,
  echo,
  expectFail,
  expectFrame,
  sendChopped,
  sendWrongMask,
  type Case,
} from '../helpers/conformance.js';
import { binary, encode, readFrame, text } from '../helpers/wire.js';

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

const cases: Case[] = [];
for (const [series, kind] of [
  [1, 'text'],
  [2, 'binary'],
] as const) {
  const make = (n: number) =>
    kind === 'text' ? text('*'.repeat(n)) : binary(Buffer.alloc(n, 0xfe));
  for (const [i, n] of LENGTHS.entries())
    cases.push({
      id: `1.${series}.${i + 1}`,
      title: `§5.2 ${kind} message of ${n} octets is echoed`,
      steps: echo(make(n)),
    });
  for (const [i, n] of LENGTHS.entries()) {
    // Octet by octet up to the 7-bit boundary; the large ones in 997-octet writes (as Autobahn).
    const chop = n <= 128 ? 1 : 997;
    cases.push({
      id: `1.${series}.${i + 1 + LENGTHS.length}`,
      title: `§5.2 ${kind} message of ${n} octets, written in ${chop}-octet pieces, is echoed`,
      steps: [sendChopped(chop, make(n)), expectFrame(make(n))],
    });
  }
}
cases.push(
  {
    id: '1.3.1',
    title: '§5.1 a frame masked wrongly for its direction fails the connection with 1002',
    steps: [sendWrongMask(text('Hello, world!')), expectFail(1002)],
  },
  {
    id: '1.3.2',
    title: '§5.1 a wrongly masked frame after a valid message fails the connection with 1002',
    steps: [...echo(text('Hello')), sendWrongMask(binary('world')), expectFail(1002)],
  },
);

conformance(cases, (harness) => {
  if (harness.role !== 'client') return;
  it('1.4.1 §5.3 the client masks each frame with a new masking key', async () => {
    const { peer } = await harness.open();
    const keys = new Set<string>();
    for (let i = 0; i < 16; i++) {
      peer.write(encode(text(`message ${i}`), false));
      const echoed = await readFrame(peer);
      assert.equal(echoed.payload.toString(), `message ${i}`);
      assert.ok(echoed.key !== null, 'masked');
      keys.add(echoed.key.toString('hex'));
    }
    // 16 random 32-bit keys collide with a probability of about 3e-8.
    assert.equal(keys.size, 16, `keys: ${[...keys].join(' ')}`);
  });
});
