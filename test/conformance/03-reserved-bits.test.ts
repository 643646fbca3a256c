// RFC 6455 conformance, category 3 (as Autobahn's): "RSV1, RSV2, RSV3: MUST be 0 unless an
// extension is negotiated that defines meanings for non-zero values" (§5.2), and none is: every
// non-zero combination on any frame fails the connection with 1002, and nothing after it is
// processed (the ping that follows gets no pong); messages before it are still answered.
import { Buffer } from 'node:buffer';
import {
  conformance,
  echo,
  expectFail,
  expectText,
  send,
  sendChopped,
  type Case,
} from '../helpers/conformance.js';
import { binary, close, cont, ping, pong, text, type OutFrame } from '../helpers/wire.js';

const KINDS: Array<[string, (rsv: number) => OutFrame]> = [
  ['a text frame', (rsv) => text('Hello, world!', { rsv })],
  ['a binary frame', (rsv) => binary(Buffer.from([0x00, 0xff, 0xfe]), { rsv })],
  ['a ping', (rsv) => ping('ping payload', { rsv })],
  ['a pong', (rsv) => pong('pong payload', { rsv })],
  ['a close frame', (rsv) => close(1000, '', { rsv })],
];

const cases: Case[] = [];
for (let rsv = 1; rsv <= 7; rsv++) {
  const bits = `RSV=${rsv.toString(2).padStart(3, '0')}`;
  for (const [k, [what, make]] of KINDS.entries())
    cases.push({
      id: `3.${rsv}.${k + 1}`,
      title: `§5.2 ${bits} on ${what} fails the connection with 1002`,
      steps: [send(make(rsv), ping('no pong')), expectFail(1002)],
    });
  cases.push(
    {
      id: `3.${rsv}.${KINDS.length + 1}`,
      title: `§5.2 ${bits} on a text frame after a valid message fails the connection with 1002`,
      steps: [
        ...echo(text('Hello, world!')),
        send(text('Hello, world!', { rsv }), ping('no pong')),
        expectFail(1002),
      ],
    },
    {
      id: `3.${rsv}.${KINDS.length + 2}`,
      title: `§5.2 ${bits} on a text frame in the same write as a valid message: its echo, then 1002`,
      steps: [
        send(text('Hello, world!'), text('Hello, world!', { rsv }), ping('no pong')),
        expectText('Hello, world!'),
        expectFail(1002),
      ],
    },
    {
      id: `3.${rsv}.${KINDS.length + 3}`,
      title: `§5.2 ${bits} on a continuation frame fails the connection with 1002`,
      steps: [
        send(text('fragment1', { fin: false }), cont('fragment2', { rsv })),
        expectFail(1002),
      ],
    },
    {
      id: `3.${rsv}.${KINDS.length + 4}`,
      title: `§5.2 ${bits} on a text frame written octet by octet fails the connection with 1002`,
      steps: [sendChopped(1, text('Hello, world!', { rsv })), expectFail(1002)],
    },
  );
}

conformance(cases);
