// RFC 6455 conformance, category 2 (as Autobahn's): pings are answered with a pong carrying the
// same payload (§5.5.2), in order; control payloads are at most 125 octets (§5.5); unsolicited
// pongs are ignored (§5.5.3).
import { Buffer } from 'node:buffer';
import {
  conformance,
  expectFail,
  expectPong,
  send,
  sendChopped,
  sendEach,
  type Case,
} from '../helpers/conformance.js';
import { ping, pong } from '../helpers/wire.js';

const allOctets = Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 53 + 7) & 0xff));
const tenPings = Array.from({ length: 10 }, (_, i) => `payload-${i}`);

const cases: Case[] = [
  {
    id: '2.1',
    title: '§5.5.2 a ping without payload is answered with a pong without payload',
    steps: [send(ping()), expectPong()],
  },
  {
    id: '2.2',
    title: '§5.5.2 a ping with a text payload is answered with the same payload',
    steps: [send(ping('Hello, world!')), expectPong('Hello, world!')],
  },
  {
    id: '2.3',
    title: '§5.5.2 a ping with a binary payload is answered with the same payload',
    steps: [
      send(ping(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))),
      expectPong(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])),
    ],
  },
  {
    id: '2.4',
    title: '§5.5 a ping with the largest control payload, 125 octets, is answered',
    steps: [send(ping(allOctets)), expectPong(allOctets)],
  },
  {
    id: '2.5',
    title: '§5.5 a ping with 126 octets of payload fails the connection with 1002',
    steps: [send(ping(Buffer.alloc(126, 0xfe))), expectFail(1002)],
  },
  {
    id: '2.6',
    title: '§5.5.2 a 125-octet ping written octet by octet is answered',
    steps: [sendChopped(1, ping(allOctets)), expectPong(allOctets)],
  },
  {
    id: '2.7',
    title: '§5.5.3 an unsolicited pong without payload is ignored',
    steps: [send(pong())],
  },
  {
    id: '2.8',
    title: '§5.5.3 an unsolicited pong with payload is ignored',
    steps: [send(pong('unsolicited pong payload'))],
  },
  {
    id: '2.9',
    title: '§5.5.3 an unsolicited pong then a ping: only the ping is answered',
    steps: [
      send(pong('unsolicited pong payload'), ping('ping payload')),
      expectPong('ping payload'),
    ],
  },
  {
    id: '2.10',
    title: '§5.5.2 ten pings in one write are answered in order',
    steps: [send(...tenPings.map((p) => ping(p))), ...tenPings.map((p) => expectPong(p))],
  },
  {
    id: '2.11',
    title: '§5.5.2 ten pings, each in its own write, are answered in order',
    steps: [sendEach(...tenPings.map((p) => ping(p))), ...tenPings.map((p) => expectPong(p))],
  },
  {
    id: '2.12',
    title: '§5.5.2 ten pings written octet by octet are answered in order',
    steps: [sendChopped(1, ...tenPings.map((p) => ping(p))), ...tenPings.map((p) => expectPong(p))],
  },
  {
    id: '2.13',
    title: '§5.5.2 pings of every payload length 0..125, in one write, are answered in order',
    steps: [
      send(...Array.from({ length: 126 }, (_, n) => ping(allOctets.subarray(0, n)))),
      ...Array.from({ length: 126 }, (_, n) => expectPong(allOctets.subarray(0, n))),
    ],
  },
  {
    id: '2.14',
    title: '§5.5 a pong with 126 octets of payload fails the connection with 1002',
    steps: [send(pong(Buffer.alloc(126, 0x2a))), expectFail(1002)],
  },
];

conformance(cases);
