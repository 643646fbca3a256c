// RFC 6455 §8.1 (text must be UTF-8) and §5.6, with Unicode's Table 3-7 of well-formed sequences.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { Utf8Validator, isValidUtf8 } from '../../src/protocol/utf8.js';
import { hex } from '../helpers/bytes.js';

const valid = [
  '',
  'Hello',
  'κόσμε',
  'Hello-µ@ßöäüàá-UTF-8!!',
  '\u{10ffff}',
  '\u{1f600} emoji',
  '\uffff\ufffe', // non-characters are well-formed
];
const invalid: Array<[string, string]> = [
  ['80', 'a lone continuation byte'],
  ['c0 af', 'overlong 2-byte form'],
  ['c1 bf', 'overlong 2-byte form'],
  ['e0 80 af', 'overlong 3-byte form'],
  ['f0 80 80 af', 'overlong 4-byte form'],
  ['ed a0 80', 'a UTF-16 surrogate (D800)'],
  ['ed bf bf', 'a UTF-16 surrogate (DFFF)'],
  ['f4 90 80 80', 'past U+10FFFF'],
  ['f5 80 80 80', 'lead byte F5'],
  ['ff', 'byte FF'],
  ['ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64', 'Autobahn 6.3.1'],
  ['e2 82', 'a truncated 3-byte sequence'],
  ['e2 82 41', 'a letter as the third byte of a 3-byte sequence'],
  ['f0 9f 98 41', 'a letter as the fourth byte of a 4-byte sequence'],
  ['41'.repeat(30) + ' e2 82 41', 'the same in a long input'],
];

describe('isValidUtf8', () => {
  for (const text of valid)
    it(`accepts ${JSON.stringify(text)}`, () => assert.ok(isValidUtf8(Buffer.from(text))));
  for (const [bytes, what] of invalid)
    it(`rejects ${what}`, () => assert.ok(!isValidUtf8(hex(bytes))));
});

describe('Utf8Validator: fragmented text', () => {
  it('accepts a code point split at every position, across two and across four fragments', () => {
    const bytes = Buffer.from('a\u{1f600}b€c');
    for (let i = 0; i <= bytes.length; i++) {
      const v = new Utf8Validator();
      assert.ok(v.push(bytes.subarray(0, i)), `first part, cut at ${i}`);
      assert.ok(v.push(bytes.subarray(i), true), `second part, cut at ${i}`);
    }
    const v = new Utf8Validator();
    for (let i = 0; i < bytes.length; i++) assert.ok(v.push(bytes.subarray(i, i + 1), false));
    assert.ok(v.push(Buffer.alloc(0), true));
  });

  it('RFC 6455 §8.1 fail-fast: rejects the fragment that makes the text invalid', () => {
    // Autobahn 6.4.1: "κόσμε" then F4 90 80 80 (past U+10FFFF): F4 90 is already impossible.
    const v = new Utf8Validator();
    assert.ok(v.push(hex('ce ba e1 bd b9 cf 83 ce bc ce b5')));
    assert.equal(v.push(hex('f4 90')), false);
  });

  for (const [prefix, what] of [
    ['ed a0', 'surrogate'],
    ['e0 80', 'overlong 3-byte'],
    ['f0 80', 'overlong 4-byte'],
    ['f4 90', 'past U+10FFFF'],
    ['c0', 'overlong lead C0'],
    ['f5', 'lead F5'],
    ['80', 'lone continuation'],
  ] as const) {
    it(`rejects the impossible prefix ${prefix} (${what}) at the end of a fragment`, () => {
      const v = new Utf8Validator();
      assert.equal(v.push(Buffer.concat([Buffer.from('ok'), hex(prefix)])), false);
    });
  }

  it('rejects an impossible continuation of a prefix from the previous fragment', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(hex('41 ed')));
    assert.equal(v.push(hex('a0 80')), false, 'ED A0 is a surrogate');
    const w = new Utf8Validator();
    assert.ok(w.push(hex('f0')));
    assert.ok(w.push(hex('9f')));
    assert.equal(w.push(hex('41')), false, 'F0 9F 41: a letter inside a 4-byte sequence');
  });

  it('rejects a message that ends inside a code point', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(hex('e2 82')));
    assert.equal(v.atBoundary(), false);
    assert.equal(v.push(Buffer.alloc(0), true), false);
    const w = new Utf8Validator();
    assert.equal(w.push(hex('41 e2 82'), true), false);
  });

  it('a rejected fragment leaves the validator as it was (all-or-nothing)', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(hex('e2')));
    assert.equal(v.push(hex('41')), false);
    assert.ok(v.push(hex('82 ac'), true), 'E2 82 AC (€) can still be completed');
  });

  it('reset() starts a new message', () => {
    const v = new Utf8Validator();
    assert.ok(v.push(hex('e2 82')));
    v.reset();
    assert.ok(v.atBoundary());
    assert.ok(v.push(Buffer.from('fresh'), true));
  });
});
