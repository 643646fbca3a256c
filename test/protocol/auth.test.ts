// HTTP authentication arithmetic: RFC 7235 challenges, RFC 7617 Basic, RFC 7616 Digest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthorization, parseBasicCredentials } from '../../src/protocol/auth/basic.js';
import { challengeParam, parseChallenges } from '../../src/protocol/auth/challenge.js';
import { digestAuthorization, parseDigestChallenge } from '../../src/protocol/auth/digest.js';

describe('RFC 7235 §4.1: WWW-Authenticate challenges', () => {
  it('one challenge with parameters, quoted and not', () => {
    const [challenge] = parseChallenges(
      'Digest realm="x@y", qop="auth, auth-int", nonce=abc, algorithm=SHA-256',
    );
    assert.equal(challenge?.scheme, 'Digest');
    assert.deepEqual(challenge?.params, [
      ['realm', 'x@y'],
      ['qop', 'auth, auth-int'],
      ['nonce', 'abc'],
      ['algorithm', 'SHA-256'],
    ]);
  });

  it('several challenges in one value, split where a new scheme starts', () => {
    const challenges = parseChallenges(
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    );
    assert.deepEqual(
      challenges.map((c) => [c.scheme, c.params]),
      [
        [
          'Newauth',
          [
            ['realm', 'apps'],
            ['type', '1'],
            ['title', 'Login to "apps"'],
          ],
        ],
        ['Basic', [['realm', 'simple']]],
      ],
    );
  });

  it('schemes without parameters, token68, and parameter names in any case', () => {
    assert.deepEqual(
      parseChallenges('NTLM, Negotiate abc123==, Basic REALM="r"').map((c) => [
        c.scheme,
        c.token68 ?? null,
        c.params,
      ]),
      [
        ['NTLM', null, []],
        ['Negotiate', 'abc123==', []],
        ['Basic', null, [['realm', 'r']]],
      ],
    );
    assert.equal(challengeParam(parseChallenges('Basic Realm="R"')[0], 'realm'), 'R');
  });

  it('malformed input ends the parse without throwing', () => {
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges('Basic realm="unterminated').length, 0);
    assert.doesNotThrow(() => parseChallenges('==,,="'.repeat(1000)));
  });
});

describe('RFC 7617: Basic', () => {
  it('the RFC example, and UTF-8 user names', () => {
    assert.equal(
      basicAuthorization('Aladdin', 'open sesame'),
      'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    );
    assert.deepEqual(parseBasicCredentials('QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), {
      username: 'Aladdin',
      password: 'open sesame',
    });
    assert.equal(basicAuthorization('test', '123£'), 'Basic dGVzdDoxMjPCow==');
    assert.equal(parseBasicCredentials('bm9jb2xvbg=='), undefined);
  });
});

describe('RFC 7616 §3.9.1: Digest, the RFC example', () => {
  const challenge = (algorithm: string) =>
    parseDigestChallenge(
      parseChallenges(
        `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
      )[0],
    )!;
  const request = {
    username: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonceCount: 1,
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('MD5', () => {
    const header = digestAuthorization(challenge('MD5'), request);
    assert.match(header, /response="8ca523f5e9506fed4657c9700eebdbec"/);
    assert.match(header, /^Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/);
    assert.match(
      header,
      /, qop=auth, nc=00000001, cnonce="f2\/wE4q74E6zIJEtWaHKaf5wv\/H5QzzpXusqGemxURZJ"/,
    );
    assert.match(header, /opaque="FQhe\/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"/);
  });

  it('SHA-256', () => {
    assert.match(
      digestAuthorization(challenge('SHA-256'), request),
      /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/,
    );
  });

  it('the algorithms we can do, and the ones we cannot', () => {
    for (const name of [
      'MD5',
      'MD5-sess',
      'SHA-256',
      'SHA-256-sess',
      'SHA-512-256',
      'SHA-512-256-sess',
    ])
      assert.ok(challenge(name) !== undefined, name);
    assert.equal(
      parseDigestChallenge(parseChallenges('Digest nonce="n", algorithm=SHA-1')[0]),
      undefined,
    );
    assert.equal(parseDigestChallenge(parseChallenges('Digest realm="no nonce"')[0]), undefined);
  });

  it('without qop (RFC 2069 compatibility): H(HA1:nonce:HA2), no nc or cnonce', () => {
    const plain = parseDigestChallenge(parseChallenges('Digest realm="r", nonce="n"')[0])!;
    const header = digestAuthorization(plain, { ...request, cnonce: 'c' });
    assert.doesNotMatch(header, /qop=|nc=|cnonce=/);
    assert.match(header, /algorithm=MD5/);
  });
});
