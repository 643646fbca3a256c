// The opening handshake (RFC 6455 §4, §9.1, §11.3) and POCO's checks (poco-behaviour.md §7, §8).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { HandshakeError, type HandshakeErrorReason } from '../../src/protocol/errors.js';
import {
  checkUpgradeResponse,
  upgradeRequestHeaders,
  type UpgradeResponse,
} from '../../src/protocol/handshake/client.js';
import { headerLookup, rawHeaderLookup } from '../../src/protocol/handshake/header-lookup.js';
import {
  HeaderSyntaxError,
  formatExtensionList,
  formatProtocolList,
  hasToken,
  parseExtensionList,
  parseProtocolList,
  parseTokenList,
} from '../../src/protocol/handshake/headers.js';
import { computeAccept, createKey, isValidKey } from '../../src/protocol/handshake/keys.js';
import {
  acceptResponseHeaders,
  checkUpgradeRequest,
  rejectionResponse,
  type HandshakePolicy,
  type UpgradeRequest,
} from '../../src/protocol/handshake/server.js';
import { webSocketExceptionFor } from '../../src/poco/handshake-errors.js';

/**
 * A refusal as POCO reports it: the rule, POCO's error code and POCO's message. The core names
 * the rule; the POCO facade gives it POCO's code and words (src/poco/handshake-errors.ts).
 */
function pocoView(error: HandshakeError): [HandshakeErrorReason, number, string] {
  const exception = webSocketExceptionFor(error);
  return [error.reason, exception.code(), exception.message];
}

const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('RFC 6455 §4.1, §4.2.2: key and accept', () => {
  it('computeAccept: the RFC sample', () => {
    assert.equal(computeAccept(SAMPLE_KEY), SAMPLE_ACCEPT);
  });

  it('computeAccept: a key with characters past ASCII is hashed from its latin1 octets', () => {
    // POCO's policy takes any non-blank key; node:http gives header octets as latin1 characters.
    for (const key of ['clé-\u00ff', 'a\u0080b', `${SAMPLE_KEY}\u00e9`])
      assert.equal(
        computeAccept(key),
        createHash('sha1')
          .update(Buffer.from(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`, 'latin1'))
          .digest('base64'),
        JSON.stringify(key),
      );
  });

  it('createKey: 16 random bytes, base64, 24 characters ending "=="', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = createKey();
      assert.equal(key.length, 24);
      assert.ok(key.endsWith('=='));
      assert.equal(Buffer.from(key, 'base64').length, 16);
      assert.ok(isValidKey(key));
      keys.add(key);
    }
    assert.equal(keys.size, 200);
  });

  it('isValidKey: only the base64 of exactly 16 bytes', () => {
    assert.ok(isValidKey(SAMPLE_KEY));
    for (const key of [
      'abc',
      '',
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZ!==',
      `${SAMPLE_KEY} `,
    ])
      assert.ok(!isValidKey(key), JSON.stringify(key));
  });
});

describe('RFC 7230 §7 token lists (Connection, Upgrade)', () => {
  it('parses with optional white space and empty elements', () => {
    assert.deepEqual(parseTokenList('keep-alive, Upgrade'), ['keep-alive', 'Upgrade']);
    assert.deepEqual(parseTokenList(' ,a,,\tb ,'), ['a', 'b']);
    assert.deepEqual(parseTokenList(''), []);
  });

  it('rejects what is not a token', () => {
    assert.throws(() => parseTokenList('a b'), HeaderSyntaxError);
    assert.throws(() => parseTokenList('a;b'), HeaderSyntaxError);
    assert.throws(() => parseTokenList('"quoted"'), HeaderSyntaxError);
  });

  it('hasToken matches case-insensitively, like POCO (GH #110: "keep-alive, Upgrade")', () => {
    assert.ok(hasToken('keep-alive, Upgrade', 'upgrade'));
    assert.ok(hasToken('UPGRADE', 'upgrade'));
    assert.ok(!hasToken('upgrades', 'upgrade'));
    assert.ok(!hasToken(undefined, 'upgrade'));
  });
});

describe('RFC 6455 §11.3.4: Sec-WebSocket-Protocol', () => {
  it('parses and formats a list of tokens', () => {
    assert.deepEqual(parseProtocolList('chat, superchat'), ['chat', 'superchat']);
    assert.equal(formatProtocolList(['chat', 'v2.json']), 'chat, v2.json');
  });

  it('rejects an empty list, separators inside, and formats only tokens', () => {
    assert.throws(() => parseProtocolList(' , '), HeaderSyntaxError);
    assert.throws(() => parseProtocolList('a/b'), HeaderSyntaxError);
    assert.throws(() => formatProtocolList(['has space']), TypeError);
  });

  it('a value of many spaces is rejected in linear time (ws CVE-2021-32640)', () => {
    // A backtracking parser takes minutes on this; the scanner is one pass.
    assert.throws(() => parseProtocolList(`a${' '.repeat(200_000)}b`), HeaderSyntaxError);
    assert.deepEqual(parseProtocolList(`a${' '.repeat(200_000)},b`), ['a', 'b']);
  });
});

describe('RFC 6455 §9.1: Sec-WebSocket-Extensions', () => {
  it('parses extensions, parameters, and quoted values', () => {
    assert.deepEqual(
      parseExtensionList(
        'permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"; x=1, foo',
      ),
      [
        { name: 'permessage-deflate', params: [['client_max_window_bits', null]] },
        {
          name: 'permessage-deflate',
          params: [
            ['server_max_window_bits', '10'],
            ['x', '1'],
          ],
        },
        { name: 'foo', params: [] },
      ],
    );
  });

  it('unescapes quoted strings; a quoted value must still be a token', () => {
    assert.deepEqual(parseExtensionList('e; p="a\\b"'), [{ name: 'e', params: [['p', 'ab']] }]);
    assert.throws(() => parseExtensionList('e; p="a b"'), HeaderSyntaxError);
    assert.throws(() => parseExtensionList('e; p="unterminated'), HeaderSyntaxError);
  });

  it('rejects malformed lists', () => {
    for (const value of ['', ';', 'e;', 'e; =1', 'e; p=', 'e p', 'e,, ;q', 'e; p=1 2'])
      assert.throws(() => parseExtensionList(value), HeaderSyntaxError, JSON.stringify(value));
  });

  it('keeps Object.prototype names as plain data (ws GHSA-5v72-xg48-5rpm)', () => {
    const [extension] = parseExtensionList('__proto__; constructor=1; hasOwnProperty');
    assert.equal(extension?.name, '__proto__');
    assert.deepEqual(extension?.params, [
      ['constructor', '1'],
      ['hasOwnProperty', null],
    ]);
    assert.equal(Object.getPrototypeOf(extension), Object.prototype);
  });

  it('format → parse round trip', () => {
    const list = [
      {
        name: 'permessage-deflate',
        params: [
          ['client_max_window_bits', null] as const,
          ['server_max_window_bits', '10'] as const,
        ],
      },
      { name: 'x-other', params: [] },
    ];
    const text = formatExtensionList(list);
    assert.equal(
      text,
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-other',
    );
    assert.deepEqual(parseExtensionList(text), list);
    assert.throws(
      () => formatExtensionList([{ name: 'e', params: [['p', 'not a token']] }]),
      TypeError,
    );
    assert.throws(() => formatExtensionList([{ name: 'a b', params: [] }]), {
      name: 'TypeError',
      message: 'not a token: "a b"',
    });
    assert.throws(() => formatExtensionList([{ name: 'e', params: [['p;q', null]] }]), {
      name: 'TypeError',
      message: 'not a token: "p;q"',
    });
  });
});

describe('headerLookup', () => {
  it('reads node:http header objects, raw pairs and functions, case-insensitively', () => {
    assert.equal(headerLookup({ upgrade: 'websocket' })('upgrade'), 'websocket');
    assert.equal(headerLookup({ 'X-Multi': ['a', 'b'] })('x-multi'), 'a, b');
    const pairs = headerLookup([
      ['Connection', 'keep-alive'],
      ['connection', 'Upgrade'],
    ]);
    assert.equal(pairs('connection'), 'keep-alive, Upgrade');
    assert.equal(headerLookup((name) => (name === 'host' ? 'h' : undefined))('host'), 'h');
  });

  it('matches raw pairs by whole name, not by length alone, and reads any iterable of pairs', () => {
    // 'Keep-Alive' has the length of 'connection': compared, not taken.
    const pairs = headerLookup([
      ['Keep-Alive', 'timeout=5'],
      ['CONNECTION', 'Upgrade'],
    ]);
    assert.equal(pairs('connection'), 'Upgrade');
    assert.equal(pairs('upgrade'), undefined);
    const iterable = headerLookup(
      new Map([
        ['Sec-WebSocket-Protocol', 'a'],
        ['sec-websocket-protocol', 'b'],
      ]).entries(),
    );
    assert.equal(iterable('sec-websocket-protocol'), 'a, b');
  });

  it('reads rawHeaders as node:http would: the first Host, the other repeats joined', () => {
    const get = rawHeaderLookup([
      'Host',
      'a',
      'Connection',
      'keep-alive',
      'host',
      'b',
      'CONNECTION',
      'Upgrade',
    ]);
    assert.equal(get('host'), 'a');
    assert.equal(get('connection'), 'keep-alive, Upgrade');
    assert.equal(get('upgrade'), undefined);
  });

  it('skips undefined values of a header object (node:http types allow them)', () => {
    const get = headerLookup({ Upgrade: undefined, Host: 'h' });
    assert.equal(get('upgrade'), undefined);
    assert.equal(get('host'), 'h');
  });
});

function request(
  headers: Record<string, string>,
  extra: Partial<UpgradeRequest> = {},
): UpgradeRequest {
  return { method: 'GET', httpVersion: '1.1', headers, ...extra };
}

const GOOD = {
  Host: 'example.com',
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': SAMPLE_KEY,
};

function without(name: string): Record<string, string> {
  const headers: Record<string, string> = { ...GOOD };
  delete headers[name];
  return headers;
}

function refusal(
  req: UpgradeRequest,
  policy: HandshakePolicy,
): [HandshakeErrorReason, number, string] | 'ok' {
  const result = checkUpgradeRequest(req, policy);
  return result.ok ? 'ok' : pocoView(result.error);
}

describe('server handshake check, POCO policy (poco-behaviour.md §7, probe P1)', () => {
  const cases: Array<[string, UpgradeRequest, [HandshakeErrorReason, number, string] | 'ok']> = [
    ['a good request', request(GOOD), 'ok'],
    ['no Upgrade', request(without('Upgrade')), ['NO_HANDSHAKE', 1, 'No WebSocket handshake']],
    [
      'no Connection',
      request(without('Connection')),
      ['NO_HANDSHAKE', 1, 'No WebSocket handshake'],
    ],
    [
      'Upgrade: websocket, foo',
      request({ ...GOOD, Upgrade: 'websocket, foo' }),
      ['NO_HANDSHAKE', 1, 'No WebSocket handshake'],
    ],
    [
      'no version',
      request(without('Sec-WebSocket-Version')),
      ['NO_VERSION', 2, 'Missing Sec-WebSocket-Version in handshake request'],
    ],
    [
      'version 8',
      request({ ...GOOD, 'Sec-WebSocket-Version': '8' }),
      ['UNSUPPORTED_VERSION', 3, 'Unsupported WebSocket version requested: 8'],
    ],
    [
      'no key',
      request(without('Sec-WebSocket-Key')),
      ['NO_KEY', 4, 'Missing Sec-WebSocket-Key in handshake request'],
    ],
    [
      'a blank key',
      request({ ...GOOD, 'Sec-WebSocket-Key': '   ' }),
      ['NO_KEY', 4, 'Missing Sec-WebSocket-Key in handshake request'],
    ],
    [
      'Connection: keep-alive, Upgrade and Upgrade: WebSocket',
      request({ ...GOOD, Connection: 'keep-alive, Upgrade', Upgrade: 'WebSocket' }),
      'ok',
    ],
    ['HTTP/1.0', request(GOOD, { httpVersion: '1.0' }), 'ok'],
    ['POST', request(GOOD, { method: 'POST' }), 'ok'],
    ['the key "abc"', request({ ...GOOD, 'Sec-WebSocket-Key': 'abc' }), 'ok'],
    ['no Host', request(without('Host')), 'ok'],
  ];
  for (const [what, req, expected] of cases)
    it(what, () => assert.deepEqual(refusal(req, 'poco'), expected));

  it("checks in POCO's order: handshake, then version, then key", () => {
    const bare = request({
      Upgrade: 'websocket',
      Connection: 'upgrade',
      'Sec-WebSocket-Version': '7',
    });
    assert.deepEqual(refusal(bare, 'poco'), [
      'UNSUPPORTED_VERSION',
      3,
      'Unsupported WebSocket version requested: 7',
    ]);
  });

  it('accepting gives the key and the accept value', () => {
    const result = checkUpgradeRequest(request(GOOD), 'poco');
    assert.ok(result.ok);
    assert.equal(result.key, SAMPLE_KEY);
    assert.equal(result.accept, SAMPLE_ACCEPT);
  });
});

describe('server handshake check, RFC policy (RFC 6455 §4.2.1)', () => {
  const cases: Array<[string, UpgradeRequest, HandshakeErrorReason]> = [
    ['POST', request(GOOD, { method: 'POST' }), 'METHOD_NOT_GET'],
    ['HTTP/1.0', request(GOOD, { httpVersion: '1.0' }), 'HTTP_VERSION'],
    ['no Host', request(without('Host')), 'NO_HOST'],
    ['the key "abc"', request({ ...GOOD, 'Sec-WebSocket-Key': 'abc' }), 'INVALID_KEY'],
    [
      'a malformed Sec-WebSocket-Protocol',
      request({ ...GOOD, 'Sec-WebSocket-Protocol': 'a b' }),
      'INVALID_HEADER',
    ],
    [
      'a malformed Sec-WebSocket-Extensions',
      request({ ...GOOD, 'Sec-WebSocket-Extensions': 'x;' }),
      'INVALID_HEADER',
    ],
    ['Upgrade: h2c', request({ ...GOOD, Upgrade: 'h2c' }), 'NO_HANDSHAKE'],
  ];
  for (const [what, req, reason] of cases)
    it(`refuses ${what}`, () => {
      const result = checkUpgradeRequest(req, 'rfc');
      assert.ok(!result.ok && result.error instanceof HandshakeError);
      assert.equal(result.error.reason, reason);
    });

  it('accepts Upgrade as a token list, HTTP/2.0, and reads the offered protocols and extensions', () => {
    const result = checkUpgradeRequest(
      request(
        {
          ...GOOD,
          Upgrade: 'foo, WebSocket',
          'Sec-WebSocket-Protocol': 'chat, superchat',
          'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
        },
        { httpVersion: '2.0' },
      ),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.protocols, ['chat', 'superchat']);
    assert.deepEqual(result.extensions, [
      { name: 'permessage-deflate', params: [['client_max_window_bits', null]] },
    ]);
  });

  it('rejectionResponse: 400, naming the supported version when the version was the problem (§4.4)', () => {
    const versionResult = checkUpgradeRequest(request({ ...GOOD, 'Sec-WebSocket-Version': '8' }));
    assert.ok(!versionResult.ok);
    assert.deepEqual(rejectionResponse(versionResult.error), {
      status: 400,
      headers: [['Sec-WebSocket-Version', '13']],
    });
    const keyResult = checkUpgradeRequest(request(without('Sec-WebSocket-Key')));
    assert.ok(!keyResult.ok);
    assert.deepEqual(rejectionResponse(keyResult.error), { status: 400, headers: [] });
  });

  it('acceptResponseHeaders', () => {
    assert.deepEqual(acceptResponseHeaders(SAMPLE_ACCEPT, { protocol: 'chat' }), [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', SAMPLE_ACCEPT],
      ['Sec-WebSocket-Protocol', 'chat'],
    ]);
    assert.deepEqual(
      acceptResponseHeaders(SAMPLE_ACCEPT, { extensions: 'permessage-deflate' }).slice(3),
      [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    );
  });

  it('an error that is not a header syntax error propagates, not disguised as INVALID_HEADER', () => {
    // A JavaScript caller's lookup that breaks its contract (null instead of undefined).
    const headers = (name: string) =>
      name === 'sec-websocket-extensions' ? (null as unknown as string) : headerLookup(GOOD)(name);
    assert.throws(
      () => checkUpgradeRequest({ method: 'GET', httpVersion: '1.1', headers }),
      TypeError,
    );
  });
});

describe('client handshake', () => {
  it('request headers with extensions: the offer goes last, as given', () => {
    assert.deepEqual(
      upgradeRequestHeaders(SAMPLE_KEY, { extensions: 'permessage-deflate' }).slice(4),
      [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    );
  });

  it("request headers in POCO's order", () => {
    assert.deepEqual(upgradeRequestHeaders(SAMPLE_KEY, { protocols: ['chat', 'superchat'] }), [
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Version', '13'],
      ['Sec-WebSocket-Key', SAMPLE_KEY],
      ['Sec-WebSocket-Protocol', 'chat, superchat'],
    ]);
  });

  const ok101 = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': SAMPLE_ACCEPT,
  };
  function response(
    status: number,
    reason: string,
    headers: Record<string, string> = {},
  ): UpgradeResponse {
    return { status, reason, headers };
  }
  function outcome(res: UpgradeResponse, policy: HandshakePolicy) {
    const result = checkUpgradeResponse(res, SAMPLE_KEY, policy, {
      protocols: ['chat'],
      extensions: ['permessage-deflate'],
    });
    return result.ok ? 'ok' : pocoView(result.error);
  }

  const pocoCases: Array<[string, UpgradeResponse, unknown]> = [
    ['101 with the right accept', response(101, 'Switching Protocols', ok101), 'ok'],
    [
      'header names in any case',
      response(101, 'Switching Protocols', {
        connection: 'UPGRADE',
        UPGRADE: 'WebSocket',
        'sec-websocket-accept': SAMPLE_ACCEPT,
      }),
      'ok',
    ],
    ['401', response(401, 'Unauthorized'), ['UNAUTHORIZED', 6, 'Not authorized']],
    [
      '200',
      response(200, 'OK'),
      ['NOT_UNDERSTOOD', 1, 'The server does not understand the WebSocket protocol'],
    ],
    [
      '404',
      response(404, 'Not Found'),
      ['CANNOT_UPGRADE', 1, 'Cannot upgrade to WebSocket connection: Not Found'],
    ],
    [
      'a bad accept',
      response(101, 'Switching Protocols', { ...ok101, 'Sec-WebSocket-Accept': 'x' }),
      ['INVALID_ACCEPT', 5, 'Invalid or missing Sec-WebSocket-Accept header in handshake response'],
    ],
    [
      'a missing accept',
      response(101, 'Switching Protocols', { Upgrade: 'websocket', Connection: 'Upgrade' }),
      ['INVALID_ACCEPT', 5, 'Invalid or missing Sec-WebSocket-Accept header in handshake response'],
    ],
    [
      'Connection: keep-alive, Upgrade',
      response(101, 'Switching Protocols', { ...ok101, Connection: 'keep-alive, Upgrade' }),
      ['NO_CONNECTION_UPGRADE', 1, 'No Connection: Upgrade header in handshake response'],
    ],
    [
      'no Upgrade',
      response(101, 'Switching Protocols', {
        Connection: 'Upgrade',
        'Sec-WebSocket-Accept': SAMPLE_ACCEPT,
      }),
      ['NO_UPGRADE_WEBSOCKET', 1, 'No Upgrade: websocket header in handshake response'],
    ],
    [
      'no Connection header',
      response(101, 'Switching Protocols', {
        Upgrade: 'websocket',
        'Sec-WebSocket-Accept': SAMPLE_ACCEPT,
      }),
      ['NO_CONNECTION_UPGRADE', 1, 'No Connection: Upgrade header in handshake response'],
    ],
    [
      'an unoffered subprotocol (POCO does not check)',
      response(101, 'Switching Protocols', { ...ok101, 'Sec-WebSocket-Protocol': 'other' }),
      'ok',
    ],
  ];
  for (const [what, res, expected] of pocoCases)
    it(`POCO policy: ${what}`, () => assert.deepEqual(outcome(res, 'poco'), expected));

  it('POCO policy: an empty Sec-WebSocket-Protocol selects no subprotocol', () => {
    for (const value of ['', '  ']) {
      const result = checkUpgradeResponse(
        response(101, 'x', { ...ok101, 'Sec-WebSocket-Protocol': value }),
        SAMPLE_KEY,
        'poco',
        { protocols: ['chat'] },
      );
      assert.ok(result.ok, JSON.stringify(value));
      assert.equal(result.protocol, undefined, JSON.stringify(value));
    }
    const chosen = checkUpgradeResponse(
      response(101, 'x', { ...ok101, 'Sec-WebSocket-Protocol': ' chat ' }),
      SAMPLE_KEY,
      'poco',
      { protocols: ['chat'] },
    );
    assert.ok(chosen.ok);
    assert.equal(chosen.protocol, 'chat');
  });

  it('RFC policy: Connection only has to contain "upgrade"', () => {
    assert.equal(
      outcome(
        response(101, 'Switching Protocols', { ...ok101, Connection: 'keep-alive, Upgrade' }),
        'rfc',
      ),
      'ok',
    );
  });

  it('RFC policy: the server may select only what was offered', () => {
    assert.deepEqual(
      outcome(response(101, 'x', { ...ok101, 'Sec-WebSocket-Protocol': 'other' }), 'rfc')[0],
      'UNEXPECTED_SUBPROTOCOL',
    );
    assert.deepEqual(
      outcome(response(101, 'x', { ...ok101, 'Sec-WebSocket-Extensions': 'x-unknown' }), 'rfc')[0],
      'UNEXPECTED_EXTENSION',
    );
    assert.deepEqual(
      outcome(response(101, 'x', { ...ok101, 'Sec-WebSocket-Extensions': 'bad;' }), 'rfc')[0],
      'INVALID_HEADER',
    );
    const result = checkUpgradeResponse(
      response(101, 'x', {
        ...ok101,
        'Sec-WebSocket-Protocol': 'chat',
        'Sec-WebSocket-Extensions': 'permessage-deflate',
      }),
      SAMPLE_KEY,
      'rfc',
      { protocols: ['chat'], extensions: ['permessage-deflate'] },
    );
    assert.ok(result.ok);
    assert.equal(result.protocol, 'chat');
    assert.deepEqual(result.extensions, [{ name: 'permessage-deflate', params: [] }]);
  });

  it('RFC policy: with nothing offered, any subprotocol or extension is unexpected', () => {
    const check = (headers: Record<string, string>) => {
      const result = checkUpgradeResponse(response(101, 'x', { ...ok101, ...headers }), SAMPLE_KEY);
      return result.ok ? 'ok' : result.error.reason;
    };
    assert.equal(check({}), 'ok');
    assert.equal(check({ 'Sec-WebSocket-Protocol': 'chat' }), 'UNEXPECTED_SUBPROTOCOL');
    assert.equal(
      check({ 'Sec-WebSocket-Extensions': 'permessage-deflate' }),
      'UNEXPECTED_EXTENSION',
    );
  });

  it('RFC policy: an error that is not a header syntax error propagates', () => {
    const headers = (name: string) =>
      name === 'sec-websocket-extensions' ? (null as unknown as string) : headerLookup(ok101)(name);
    assert.throws(
      () => checkUpgradeResponse({ status: 101, reason: 'x', headers }, SAMPLE_KEY, 'rfc', {}),
      TypeError,
    );
  });
});
