// RFC 6455 conformance, category 4 (as Autobahn's): opcodes 0x3-0x7 are "reserved for further
// non-control frames" and 0xB-0xF "for further control frames" (§5.2, §11.8); without an
// extension that defines them, a frame with one fails the connection with 1002, whether or not
// a valid message came before (which is still echoed), and nothing after it is processed.
import {
  conformance,
  echo,
  expectFail,
  expectText,
  send,
  sendChopped,
  type Case,
} from '../helpers/conformance.js';
import { frame, ping, text } from '../helpers/wire.js';

const RESERVED = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];

const cases: Case[] = [];
for (const [i, opcode] of RESERVED.entries()) {
  const kind = opcode < 8 ? 'non-control' : 'control';
  const series = opcode < 8 ? 1 : 2;
  const n = (i % 5) * 5;
  const op = `opcode 0x${opcode.toString(16)} (reserved ${kind})`;
  cases.push(
    {
      id: `4.${series}.${n + 1}`,
      title: `§5.2 a frame with ${op} and no payload fails the connection with 1002`,
      steps: [send(frame(opcode)), expectFail(1002)],
    },
    {
      id: `4.${series}.${n + 2}`,
      title: `§5.2 a frame with ${op} and a payload fails the connection with 1002`,
      steps: [send(frame(opcode, 'reserved opcode payload')), expectFail(1002)],
    },
    {
      id: `4.${series}.${n + 3}`,
      title: `§5.2 ${op} after a valid message, then a ping: 1002 and no pong`,
      steps: [
        ...echo(text('Hello, world!')),
        send(frame(opcode, 'reserved opcode payload'), ping('no pong')),
        expectFail(1002),
      ],
    },
    {
      id: `4.${series}.${n + 4}`,
      title: `§5.2 ${op} in the same write as a valid message and a ping: the echo, then 1002`,
      steps: [
        send(text('Hello, world!'), frame(opcode, 'reserved opcode payload'), ping('no pong')),
        expectText('Hello, world!'),
        expectFail(1002),
      ],
    },
    {
      id: `4.${series}.${n + 5}`,
      title: `§5.2 ${op} written octet by octet fails the connection with 1002`,
      steps: [sendChopped(1, frame(opcode, 'reserved opcode payload')), expectFail(1002)],
    },
  );
}

conformance(cases);
