// HTTP authentication arithmetic: RFC 7235 challenges, RFC 7617 Basic, RFC 7616 Digest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { basicAuthorization, parseBasicCredentials } from '../../src/protocol/auth/basic.js';
import { challengeParam, parseChallenges } from '../../src/protocol/auth/challenge.js';
import { digestAuthorization, parseDigestChallenge } from '../../src/protocol/auth/digest.js';
import { selectChallenge } from '../../src/protocol/auth/select.js';

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
    // RFC 7235 §2.1: a token68 has at least one character before its '=' padding (a finding of
    // the challenge fuzzer, which took a bare '=' as one).
    assert.deepEqual(parseChallenges('Basic ='), [{ scheme: 'Basic', params: [] }]);
    assert.deepEqual(parseChallenges('Negotiate ==, Basic realm="r"'), [
      { scheme: 'Negotiate', params: [] },
    ]);
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

describe('RFC 7616 §3.4: Digest variants', () => {
  const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
  const request = {
    username: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/',
    nonceCount: 1,
    cnonce: 'c',
  };
  const parse = (value: string) => parseDigestChallenge(parseChallenges(value)[0])!;

  it('§3.4.2 -sess: HA1 = H(H(user:realm:password):nonce:cnonce)', () => {
    const header = digestAuthorization(parse('Digest realm="r", nonce="n", algorithm=MD5-sess'), {
      ...request,
    });
    const ha1 = md5(`${md5('Mufasa:r:Circle of Life')}:n:c`);
    assert.match(header, /algorithm=MD5-sess/);
    assert.match(header, new RegExp(`response="${md5(`${ha1}:n:${md5('GET:/')}`)}"`));
  });

  it('§3.4.4 userhash=true: the username is sent as H(user:realm), flagged userhash=true', () => {
    const header = digestAuthorization(
      parse('Digest realm="r", nonce="n", userhash=TRUE'),
      request,
    );
    assert.match(header, new RegExp(`^Digest username="${md5('Mufasa:r')}"`));
    assert.match(header, /, userhash=true$/);
    assert.doesNotMatch(header, /Mufasa/);
  });

  it('a challenge without realm answers with realm="" (HA1 over an empty realm)', () => {
    const challenge = parse('Digest nonce="n"');
    assert.equal(challenge.realm, '');
    const header = digestAuthorization(challenge, request);
    const ha1 = md5('Mufasa::Circle of Life');
    assert.match(header, /realm=""/);
    assert.match(header, new RegExp(`response="${md5(`${ha1}:n:${md5('GET:/')}`)}"`));
  });

  it('without a given cnonce, each answer draws a fresh random one (16 bytes, hex)', () => {
    const challenge = parse('Digest realm="r", nonce="n", qop=auth');
    const withoutCnonce = { ...request, cnonce: undefined };
    const cnonces = [1, 2].map(
      () => /cnonce="([0-9a-f]+)"/.exec(digestAuthorization(challenge, withoutCnonce))?.[1],
    );
    for (const cnonce of cnonces) assert.match(cnonce ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(cnonces[0], cnonces[1]);
  });
});

describe('RFC 7235 §4.1: which challenge a client answers', () => {
  it('the first Basic or usable Digest one, in the order sent, across header values', () => {
    const selection = selectChallenge([
      'Negotiate, Digest realm="r", nonce="n", algorithm=SHA-1',
      'Digest realm="r", nonce="n2", algorithm=SHA-256, Basic realm="b"',
    ]);
    assert.equal(selection.usable?.scheme, 'digest');
    assert.equal(
      selection.usable?.scheme === 'digest' ? selection.usable.digest.nonce : undefined,
      'n2',
    );
    assert.deepEqual(selection.offered, ['Negotiate', 'Digest', 'Digest']);
  });

  it('Basic in any case', () => {
    assert.deepEqual(selectChallenge(['Bearer realm="x", BASIC realm="y"']), {
      usable: { scheme: 'basic' },
      offered: ['Bearer', 'BASIC'],
    });
  });

  it('none usable: undefined, with every scheme offered for the error message', () => {
    assert.deepEqual(selectChallenge(['Bearer', 'Digest realm="no nonce"', '']), {
      usable: undefined,
      offered: ['Bearer', 'Digest'],
    });
    assert.deepEqual(selectChallenge([]), { usable: undefined, offered: [] });
  });

  it('a parameter whose value is neither token nor quoted string ends the parse', () => {
    // What came before stays; `;` cannot start a token or a quoted-string.
    const challenges = parseChallenges('Basic realm="a", Digest nonce=;x, realm="r"');
    assert.deepEqual(
      challenges.map((c) => [c.scheme, c.params]),
      [['Basic', [['realm', 'a']]]],
    );
  });
});
