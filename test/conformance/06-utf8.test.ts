// RFC 6455 conformance, category 6 (as Autobahn's): text is UTF-8 (§5.6, §8.1, RFC 3629). Valid
// text is echoed however it is fragmented, code points split across fragments included; invalid
// text (overlong forms, surrogates D800-DFFF, code points above U+10FFFF, stray or missing
// continuation octets) fails the connection with 1007 (§8.1: "MUST _Fail the WebSocket
// Connection_"), and fails it as soon as the invalid octet arrives: before the message's
// remaining fragments are sent, and inside a frame before its end (checked by sending only up
// to the offending fragment or octet).
import { Buffer } from 'node:buffer';
import {
  conformance,
  echo,
  expectFail,
  expectPong,
  expectText,
  send,
  sendChopped,
  sendTruncated,
  type Case,
  type Step,
} from '../helpers/conformance.js';
import { cont, ping, text, utf8FailureIndex } from '../helpers/wire.js';

const NOFIN = { fin: false };
const h = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const KOSME = h('ce ba e1 bd b9 cf 83 ce bc ce b5'); // κόσμε, Markus Kuhn's UTF-8 test text

/** Valid sequences: each must be echoed. */
const VALID: Array<[string, Buffer]> = [
  ['κόσμε', KOSME],
  ['U+0000, the first 1-octet character', h('00')],
  ['U+0080, the first 2-octet character', h('c2 80')],
  ['U+0800, the first 3-octet character', h('e0 a0 80')],
  ['U+10000, the first 4-octet character', h('f0 90 80 80')],
  ['U+007F, the last 1-octet character', h('7f')],
  ['U+07FF, the last 2-octet character', h('df bf')],
  ['U+FFFF, the last 3-octet character', h('ef bf bf')],
  ['U+10FFFF, the last character', h('f4 8f bf bf')],
  ['U+D7FF, just below the surrogates', h('ed 9f bf')],
  ['U+E000, just above the surrogates', h('ee 80 80')],
  ['U+FFFD, the replacement character', h('ef bf bd')],
  ['U+FFFE and U+FDD0, noncharacters (valid UTF-8)', h('ef bf be ef b7 90')],
  ['Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')],
];

/** Invalid sequences: each must fail with 1007. */
const INVALID: Array<[string, Buffer]> = [
  [
    'κόσμε, a surrogate (U+D800), "edited"',
    Buffer.concat([KOSME, h('ed a0 80'), Buffer.from('edited')]),
  ],
  ['U+110000, above U+10FFFF', h('f4 90 80 80')],
  ['U+1FFFFF, a 4-octet form above U+10FFFF', h('f7 bf bf bf')],
  ['a 5-octet sequence', h('f8 88 80 80 80')],
  ['the last 5-octet sequence', h('fb bf bf bf bf')],
  ['a 6-octet sequence', h('fc 84 80 80 80 80')],
  ['the last 6-octet sequence', h('fd bf bf bf bf bf')],
  ['a lone continuation octet 80', h('80')],
  ['a lone continuation octet BF', h('bf')],
  ['continuation octets 80 BF 80', h('80 bf 80')],
  ['all 64 continuation octets 80-BF', Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 + i))],
  ['a 2-octet lead C0 followed by a space', h('c0 20')],
  ['a 3-octet lead E0 followed by a space', h('e0 20')],
  ['a 4-octet lead F0 followed by a space', h('f0 20')],
  ['a 2-octet lead C2 followed by a space', h('c2 20')],
  ['a truncated 2-octet sequence at the end', h('c2')],
  ['a truncated 3-octet sequence at the end', h('e0 a0')],
  ['a truncated 3-octet sequence (U+FFFF) at the end', h('ef bf')],
  ['a truncated 4-octet sequence at the end', h('f0 90 80')],
  ['a truncated U+10FFFF at the end', h('f4 8f bf')],
  ['κόσμε and a truncated 3-octet sequence', Buffer.concat([KOSME, h('e1 bd')])],
  ['the octet FE', h('fe')],
  ['the octet FF', h('ff')],
  ['FE FE FF FF', h('fe fe ff ff')],
  ['an overlong "/" in 2 octets', h('c0 af')],
  ['an overlong "/" in 3 octets', h('e0 80 af')],
  ['an overlong "/" in 4 octets', h('f0 80 80 af')],
  ['an overlong "/" in 5 octets', h('f8 80 80 80 af')],
  ['an overlong "/" in 6 octets', h('fc 80 80 80 80 af')],
  ['the largest overlong 2-octet form, C1 BF', h('c1 bf')],
  ['the largest overlong 3-octet form, E0 9F BF', h('e0 9f bf')],
  ['the largest overlong 4-octet form, F0 8F BF BF', h('f0 8f bf bf')],
  ['an overlong NUL in 2 octets', h('c0 80')],
  ['an overlong NUL in 3 octets', h('e0 80 80')],
  ['an overlong NUL in 4 octets', h('f0 80 80 80')],
  ['the surrogate U+D800', h('ed a0 80')],
  ['the surrogate U+DB7F', h('ed ad bf')],
  ['the surrogate U+DB80', h('ed ae 80')],
  ['the surrogate U+DBFF', h('ed af bf')],
  ['the surrogate U+DC00', h('ed b0 80')],
  ['the surrogate U+DF80', h('ed be 80')],
  ['the surrogate U+DFFF', h('ed bf bf')],
  ['a surrogate pair U+D800 U+DC00 (CESU-8)', h('ed a0 80 ed b0 80')],
  ['a surrogate pair U+DBFF U+DFFF (CESU-8)', h('ed af bf ed bf bf')],
  ['a 3-octet sequence broken by a lead octet', h('e1 80 c0 80')],
  [
    'a surrogate after 64 octets of valid text',
    Buffer.concat([Buffer.from('x'.repeat(64)), h('ed a0 80'), Buffer.from('y'.repeat(8))]),
  ],
];

/** One frame per octet: a text frame, then continuation frames, the last with FIN. */
function octetFragments(bytes: Buffer, last = true) {
  return Array.from(bytes, (b, i) =>
    (i === 0 ? text : cont)(Buffer.from([b]), { fin: last && i === bytes.length - 1 }),
  );
}

/**
 * Fail-fast: the fragments before the offending octet, then a ping whose pong proves that the
 * endpoint accepted them; then the offending fragment, which must fail the connection at once,
 * though the message's final fragment is never sent.
 */
function failFast(bytes: Buffer): Step[] {
  const at = utf8FailureIndex(bytes);
  if (at < 0) throw new Error('valid UTF-8 in the invalid table');
  const steps: Step[] = [];
  if (at > 0)
    steps.push(
      send(...octetFragments(bytes.subarray(0, at), false), ping('so far so good')),
      expectPong('so far so good'),
    );
  // A sequence cut short can only be known to be invalid at the end of the message.
  const offending =
    at === bytes.length
      ? cont('')
      : (at === 0 ? text : cont)(bytes.subarray(at, at + 1), { fin: at === bytes.length - 1 });
  steps.push(send(offending), expectFail(1007));
  return steps;
}

const sample = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!');

const cases: Case[] = [
  { id: '6.1.1', title: '§5.6 an empty text message is echoed', steps: echo(text('')) },
  {
    id: '6.1.2',
    title: '§5.6 a text message of three empty fragments is echoed',
    steps: [send(text('', NOFIN), cont('', NOFIN), cont('')), expectText('')],
  },
  {
    id: '6.1.3',
    title: '§5.6 a text message of empty fragments around a non-empty one is echoed',
    steps: [send(text('', NOFIN), cont('middle', NOFIN), cont('')), expectText('middle')],
  },
  // 6.2: valid text cut at every octet, inside code points too.
  ...Array.from({ length: sample.length - 1 }, (_, i): Case => ({
    id: `6.2.${i + 1}`,
    title: `§8.1 valid text split into two fragments after octet ${i + 1} of ${sample.length} is echoed`,
    steps: [
      send(text(sample.subarray(0, i + 1), NOFIN), cont(sample.subarray(i + 1))),
      expectText(sample),
    ],
  })),
  {
    id: '6.2.29',
    title: '§8.1 valid text written octet by octet in one frame is echoed',
    steps: [sendChopped(1, text(sample)), expectText(sample)],
  },
  {
    id: '6.3.1',
    title: '§8.1 fail fast: κόσμε, then a fragment with U+110000, fails with 1007 before "edited"',
    steps: [
      send(text(KOSME, NOFIN), ping('ok')),
      expectPong('ok'),
      send(cont(h('f4 90 80 80'), NOFIN)),
      expectFail(1007),
    ],
  },
  {
    id: '6.3.2',
    title:
      '§8.1 fail fast: F4 ending one fragment and 90 starting the next fails with 1007 at the 90',
    steps: [
      send(text(Buffer.concat([KOSME, h('f4')]), NOFIN), ping('ok')),
      expectPong('ok'),
      send(cont(h('90'), NOFIN)),
      expectFail(1007),
    ],
  },
  {
    id: '6.3.3',
    title: '§8.1 invalid text in one frame written octet by octet fails with 1007',
    steps: [
      sendChopped(1, text(Buffer.concat([KOSME, h('f4 90 80 80'), Buffer.from('edited')]))),
      expectFail(1007),
    ],
  },
  {
    id: '6.3.4',
    title:
      '§8.1 fail fast in a frame: κόσμε F4 90 of a frame whose rest never comes fails with 1007',
    steps: [
      sendTruncated(text(Buffer.concat([KOSME, h('f4 90 80 80'), Buffer.from('edited')])), 13),
      expectFail(1007),
    ],
  },
];

for (const [i, [what, bytes]] of VALID.entries())
  cases.push(
    {
      id: `6.${4 + i}.1`,
      title: `§8.1 valid: ${what}, in one frame, is echoed`,
      steps: [send(text(bytes)), expectText(bytes)],
    },
    {
      id: `6.${4 + i}.2`,
      title: `§8.1 valid: ${what}, one octet per fragment, is echoed`,
      steps: [send(...octetFragments(bytes)), expectText(bytes)],
    },
  );

const base = 4 + VALID.length;
for (const [i, [what, bytes]] of INVALID.entries()) {
  cases.push(
    {
      id: `6.${base + i}.1`,
      title: `§8.1 invalid: ${what}, in one frame, fails with 1007`,
      steps: [send(text(bytes)), expectFail(1007)],
    },
    {
      id: `6.${base + i}.2`,
      title: `§8.1 invalid: ${what}, one octet per fragment, fails with 1007 at the offending one`,
      steps: failFast(bytes),
    },
  );
  // Inside one frame too: the frame's payload up to the offending octet, and never the rest
  // (a sequence cut short is only invalid at the end, which this frame never reaches).
  const at = utf8FailureIndex(bytes);
  if (at < bytes.length)
    cases.push({
      id: `6.${base + i}.3`,
      title: `§8.1 invalid: ${what}, in one frame cut after the offending octet, fails with 1007`,
      steps: [
        sendTruncated(text(Buffer.concat([bytes, Buffer.from('+rest')])), at + 1),
        expectFail(1007),
      ],
    });
}

// Every Unicode scalar value, in fragments whose boundaries fall inside code points.
const everything = Buffer.from(
  Array.from({ length: 0x110000 - 0x800 }, (_, i) => {
    const cp = i < 0xd800 ? i : i + 0x800; // skip the surrogates
    return String.fromCodePoint(cp);
  }).join(''),
  'utf8',
);
const pieces: Buffer[] = [];
for (let at = 0; at < everything.length; at += 1021)
  pieces.push(everything.subarray(at, at + 1021));
cases.push({
  id: `6.${base + INVALID.length}.1`,
  title: `§8.1 every scalar value U+0000..U+10FFFF (${everything.length} octets) in 1021-octet fragments is echoed`,
  steps: [
    send(...pieces.map((p, i) => (i === 0 ? text : cont)(p, { fin: i === pieces.length - 1 }))),
    expectText(everything, 10_000),
  ],
  timeoutMs: 10_000,
});

conformance(cases);
