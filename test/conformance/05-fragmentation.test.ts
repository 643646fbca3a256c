// RFC 6455 conformance, category 5 (as Autobahn's): fragmentation (§5.4). Fragments of a message
// are reassembled, control frames may come between them (and are answered at once) but may not
// be fragmented themselves (§5.5); a continuation frame without a message to continue, or a new
// data frame inside a fragmented message, fails the connection with 1002.
import { Buffer } from 'node:buffer';
import {
  conformance,
  echo,
  expectBinary,
  expectFail,
  expectPong,
  expectText,
  send,
  sendChopped,
  sendEach,
  type Case,
  type Step,
} from '../helpers/conformance.js';
import { binary, close, cont, ping, pong, text, type OutFrame } from '../helpers/wire.js';

const NOFIN = { fin: false };

/** The same frames in one write, one write per frame, and octet by octet. */
function threeWays(
  id: number,
  title: string,
  frames: OutFrame[],
  expected: Step[],
  before: Step[] = [],
): Case[] {
  return [
    {
      id: `5.${id}.1`,
      title: `${title} (one write)`,
      steps: [...before, send(...frames), ...expected],
    },
    {
      id: `5.${id}.2`,
      title: `${title} (a write per frame)`,
      steps: [...before, sendEach(...frames), ...expected],
    },
    {
      id: `5.${id}.3`,
      title: `${title} (octet by octet)`,
      steps: [...before, sendChopped(1, ...frames), ...expected],
    },
  ];
}

const cases: Case[] = [
  ...threeWays(
    1,
    '§5.5 a fragmented ping fails the connection with 1002',
    [ping('fragment1', NOFIN), cont('fragment2')],
    [expectFail(1002)],
  ),
  ...threeWays(
    2,
    '§5.5 a fragmented pong fails the connection with 1002',
    [pong('fragment1', NOFIN), cont('fragment2')],
    [expectFail(1002)],
  ),
  ...threeWays(
    3,
    '§5.4 a text message in two fragments is echoed whole',
    [text('fragment1', NOFIN), cont('fragment2')],
    [expectText('fragment1fragment2')],
  ),
  ...threeWays(
    4,
    '§5.4 a binary message in three fragments is echoed whole',
    [
      binary(Buffer.from([0, 1, 2]), NOFIN),
      cont(Buffer.from([0xfd]), NOFIN),
      cont(Buffer.from([0xfe, 0xff])),
    ],
    [expectBinary(Buffer.from([0, 1, 2, 0xfd, 0xfe, 0xff]))],
  ),
  ...threeWays(
    5,
    '§5.4 a ping between two fragments is answered before the message completes',
    [text('fragment1', NOFIN), ping('ping payload'), cont('fragment2')],
    [expectPong('ping payload'), expectText('fragment1fragment2')],
  ),
  ...threeWays(
    6,
    '§5.4 an unsolicited pong between two fragments is ignored',
    [text('fragment1', NOFIN), pong('pong payload'), cont('fragment2')],
    [expectText('fragment1fragment2')],
  ),
  ...threeWays(
    7,
    '§5.4 a final continuation frame with no message to continue fails with 1002',
    [cont('non-continuation payload'), text('Hello, world!')],
    [expectFail(1002)],
  ),
  ...threeWays(
    8,
    '§5.4 a non-final continuation frame with no message to continue fails with 1002',
    [cont('non-continuation payload', NOFIN), text('Hello, world!')],
    [expectFail(1002)],
  ),
  ...threeWays(
    9,
    '§5.4 a continuation frame after a complete fragmented message fails with 1002',
    [cont('fragment3', NOFIN), text('fragment4')],
    [expectFail(1002)],
    [send(text('fragment1', NOFIN), cont('fragment2')), expectText('fragment1fragment2')],
  ),
  ...threeWays(
    10,
    '§5.4 a new text frame inside a fragmented message fails with 1002',
    [text('fragment1', NOFIN), text('fragment2')],
    [expectFail(1002)],
  ),
  ...threeWays(
    11,
    '§5.4 a new binary frame inside a fragmented text message fails with 1002',
    [text('fragment1', NOFIN), binary('fragment2', NOFIN), cont('fragment3')],
    [expectFail(1002)],
  ),
  ...threeWays(
    12,
    '§5.4 two pings among five fragments are answered in order, then the message echoed',
    [
      text('fragment1', NOFIN),
      cont('fragment2', NOFIN),
      ping('pongme 1!'),
      cont('fragment3', NOFIN),
      ping('pongme 2!'),
      cont('fragment4', NOFIN),
      cont('fragment5'),
    ],
    [
      expectPong('pongme 1!'),
      expectPong('pongme 2!'),
      expectText('fragment1fragment2fragment3fragment4fragment5'),
    ],
  ),
  ...threeWays(
    13,
    '§5.4 a message of empty fragments is echoed as an empty message',
    [text('', NOFIN), cont('', NOFIN), cont('')],
    [expectText('')],
  ),
  ...threeWays(
    14,
    '§5.4 two fragmented messages back to back are echoed in order',
    [text('ab', NOFIN), cont('cd'), binary(Buffer.from([1]), NOFIN), cont(Buffer.from([2]))],
    [expectText('abcd'), expectBinary(Buffer.from([1, 2]))],
  ),
  ...threeWays(
    15,
    '§5.5 a fragmented close frame fails the connection with 1002',
    [close(1000, '', NOFIN), cont('')],
    [expectFail(1002)],
  ),
  {
    id: '5.9.4',
    title:
      '§5.4 a whole fragmented message then a stray continuation, in one write: echo, then 1002',
    steps: [
      send(
        text('fragment1', NOFIN),
        cont('fragment2'),
        cont('fragment3', NOFIN),
        text('fragment4'),
      ),
      expectText('fragment1fragment2'),
      expectFail(1002),
    ],
  },
  {
    id: '5.16.1',
    title: '§5.4 a fragmented message after a whole one is echoed',
    steps: [
      ...echo(text('whole')),
      send(text('frag', NOFIN), cont('mented')),
      expectText('fragmented'),
    ],
  },
  {
    id: '5.16.2',
    title: '§5.4 fragments of 1 octet each make one message',
    steps: [
      send(
        binary(Buffer.from([0x41]), NOFIN),
        ...Array.from({ length: 62 }, (_, i) => cont(Buffer.from([0x42 + (i % 26)]), NOFIN)),
        cont(Buffer.from([0x7a])),
      ),
      expectBinary(
        Buffer.from([0x41, ...Array.from({ length: 62 }, (_, i) => 0x42 + (i % 26)), 0x7a]),
      ),
    ],
  },
];

conformance(cases);
