/**
 * Fuzz target: WWW-Authenticate / Proxy-Authenticate challenge parsing
 * (src/protocol/auth/challenge.ts). The input is one header value (latin1).
 *
 * Invariant: parseChallenges never throws (malformed parts end the parse); every challenge has a
 * token scheme, parameter names that are lower-case tokens, a token68 only of token68 characters;
 * challengeParam finds each parameter's first value; the result is the same on a second parse.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { challengeParam, parseChallenges } from '../../../src/protocol/auth/challenge.js';
import { isToken } from '../../../src/protocol/handshake/headers.js';
import type { FuzzTarget } from '../harness.js';

function check(input: Buffer): void {
  const value = input.toString('latin1');
  const challenges = parseChallenges(value);
  assert.ok(challenges.length <= value.length, 'more challenges than characters');
  for (const challenge of challenges) {
    assert.ok(isToken(challenge.scheme), `scheme ${JSON.stringify(challenge.scheme)}`);
    if (challenge.token68 !== undefined) {
      // RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
      assert.match(challenge.token68, /^[A-Za-z0-9\-._~+/]+=*$/);
      assert.equal(challenge.params.length, 0);
    }
    for (const [name, paramValue] of challenge.params) {
      assert.ok(isToken(name) && name === name.toLowerCase(), `param name ${name}`);
      assert.equal(typeof paramValue, 'string');
      assert.equal(
        challengeParam(challenge, name.toUpperCase()),
        challenge.params.find(([n]) => n === name)?.[1],
      );
    }
  }
  assert.deepEqual(parseChallenges(value), challenges, 'parsing is not deterministic');
}

const param = fc
  .tuple(
    fc.constantFrom(
      'realm',
      'nonce',
      'qop',
      'algorithm',
      'opaque',
      'stale',
      'charset',
      'Realm',
      'x',
    ),
    fc.oneof(
      fc.constantFrom(
        '"a b"',
        '"a\\"b"',
        '"',
        '""',
        'auth',
        'MD5',
        '"auth,auth-int"',
        'true',
        '=',
        '',
      ),
      fc.string({ maxLength: 12 }).map((s) => `"${s}"`),
    ),
    fc.constantFrom('=', ' = ', '= ', ' ='),
  )
  .map(([name, v, eq]) => `${name}${eq}${v}`);

const challenge = fc
  .tuple(
    fc.constantFrom('Basic', 'Digest', 'Bearer', 'Negotiate', 'NTLM', 'Newauth', 'x', ''),
    fc.oneof(
      fc.array(param, { maxLength: 4 }).map((ps) => ps.join(', ')),
      fc.constantFrom('dGVzdA==', 'abc=def', 'a=b=c', '==', 'YWJj'),
    ),
  )
  .map(([scheme, rest]) => (rest === '' ? scheme : `${scheme} ${rest}`));

const headerValue = fc.oneof(
  fc.array(challenge, { maxLength: 4 }).map((cs) => Buffer.from(cs.join(', '), 'latin1')),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => Buffer.from(s, 'latin1')),
  // Long runs of one character: a parser that backtracks shows here.
  fc
    .tuple(
      fc.constantFrom(' ', ',', '=', '"', 'a', '\\', '\t'),
      fc.integer({ min: 100, max: 3000 }),
      fc.constantFrom('', 'x', '=', '"'),
    )
    .map(([c, n, end]) => Buffer.from(`Basic ${c.repeat(n)}${end}`, 'latin1')),
);

export const challengeTarget: FuzzTarget = { name: 'challenge', generate: headerValue, check };
