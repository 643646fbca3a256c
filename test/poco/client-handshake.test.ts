// Probe case P7 and the rest of the client's handshake (poco-behaviour.md §8): every 401 flow
// (Basic, Digest with each algorithm, no credentials, 401 twice), 200, 404, bad and missing
// accept, a non-token Connection, against a server scripted byte by byte.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  HTTPClientSession,
  HTTPCredentials,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  WebSocket,
  WebSocketException,
} from '../../src/poco/index.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import {
  header,
  startScriptedServer,
  type ReceivedRequest,
  type Reply,
} from '../helpers/scripted-server.js';

function switching(request: ReceivedRequest, extra = ''): string {
  const accept = computeAccept(header(request, 'Sec-WebSocket-Key') ?? '');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;
}

const unauthorized = (challenge: string) =>
  `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${challenge}\r\nContent-Length: 12\r\n\r\nunauthorized`;

async function connect(port: number, credentials?: HTTPCredentials) {
  const session = new HTTPClientSession('127.0.0.1', port);
  const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
  const response = new HTTPResponse();
  const ws = await WebSocket.connect(session, request, response, credentials);
  return { ws, request, response, session };
}

async function refusal(port: number, credentials?: HTTPCredentials): Promise<[number, string]> {
  try {
    const { ws } = await connect(port, credentials);
    ws.close();
    return [0, 'connected'];
  } catch (error) {
    assert.ok(error instanceof WebSocketException, String(error));
    return [error.code(), error.message];
  }
}

async function withScript<T>(
  script: (request: ReceivedRequest, index: number) => Reply,
  body: (server: Awaited<ReturnType<typeof startScriptedServer>>) => Promise<T>,
): Promise<T> {
  const server = await startScriptedServer(script);
  try {
    return await body(server);
  } finally {
    server.stop();
  }
}

describe('the upgrade request on the wire (POCO order, HTTP/1.1)', () => {
  it("GET /ws HTTP/1.1, Connection, Upgrade, Sec-WebSocket-Version, Sec-WebSocket-Key, Host, then the caller's headers", async () => {
    await withScript(
      (request) => switching(request),
      async (server) => {
        const session = new HTTPClientSession('127.0.0.1', server.port);
        const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws'); // POCO's default: HTTP/1.0
        request.set('Origin', 'http://example.com');
        const ws = await WebSocket.connect(session, request, new HTTPResponse());
        const [received] = server.requests;
        assert.equal(
          received?.requestLine,
          'GET /ws HTTP/1.1',
          'RFC 6455 §4.1: HTTP/1.1, whatever the request said',
        );
        assert.deepEqual(
          received?.headers.map(([n]) => n),
          ['Origin', 'Connection', 'Upgrade', 'Sec-WebSocket-Version', 'Sec-WebSocket-Key', 'Host'],
        );
        assert.equal(header(received, 'Host'), `127.0.0.1:${server.port}`);
        const key = header(received, 'Sec-WebSocket-Key')!;
        assert.equal(
          Buffer.from(key, 'base64').length,
          16,
          'a 16-byte nonce (POCO: four 31-bit words)',
        );
        ws.close();
      },
    );
  });

  it("response holds the 101's headers; frames sent with the 101 are delivered", async () => {
    const early = Buffer.from([0x81, 0x05, ...Buffer.from('early'), 0x82, 0x02, 0x01, 0x02]);
    await withScript(
      (request) =>
        Buffer.concat([
          Buffer.from(switching(request, 'Sec-WebSocket-Protocol: chat\r\n'), 'latin1'),
          early,
        ]),
      async (server) => {
        const { ws, response } = await connect(server.port);
        assert.equal(response.getStatus(), 101);
        assert.equal(response.get('Sec-WebSocket-Protocol'), 'chat');
        assert.equal(ws.available(), early.length);
        const buffer = new Uint8Array(16);
        assert.deepEqual(await ws.receiveFrame(buffer), { n: 5, flags: 0x81 });
        assert.equal(Buffer.from(buffer.subarray(0, 5)).toString(), 'early');
        assert.deepEqual(await ws.receiveFrame(buffer), { n: 2, flags: 0x82 });
        ws.close();
      },
    );
  });

  it('client frames are masked, each with a fresh key; a masked server frame is accepted (POCO)', async () => {
    await withScript(
      (request) =>
        Buffer.concat([
          Buffer.from(switching(request), 'latin1'),
          Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]),
        ]),
      async (server) => {
        const { ws } = await connect(server.port);
        const buffer = new Uint8Array(8);
        assert.deepEqual(await ws.receiveFrame(buffer), { n: 1, flags: 0x81 });
        assert.equal(buffer[0], 0x61);
        await ws.sendFrame('a');
        await ws.sendFrame('a');
        const socket = server.sockets[0];
        const bytes = await new Promise<Buffer>((resolve) => {
          let all = Buffer.alloc(0);
          socket.on('data', (chunk: Buffer) => {
            all = Buffer.concat([all, chunk]);
            if (all.length >= 14) resolve(all);
          });
        });
        assert.equal(bytes[0], 0x81);
        assert.equal(bytes[1], 0x81, 'MASK bit set');
        assert.notDeepEqual(bytes.subarray(2, 6), bytes.subarray(9, 13), 'fresh masks');
        ws.close();
      },
    );
  });
});

describe('P7: status codes other than 101', () => {
  const cases: Array<[string, string, [number, string]]> = [
    [
      '200',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      [1, 'The server does not understand the WebSocket protocol'],
    ],
    [
      '404',
      'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
      [1, 'Cannot upgrade to WebSocket connection: Not Found'],
    ],
    [
      '403 with a body',
      'HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope',
      [1, 'Cannot upgrade to WebSocket connection: Forbidden'],
    ],
    [
      '302 (redirects are not followed)',
      'HTTP/1.1 302 Found\r\nLocation: /other\r\nContent-Length: 0\r\n\r\n',
      [1, 'Cannot upgrade to WebSocket connection: Found'],
    ],
    ['401 without credentials', unauthorized('Basic realm="r"'), [6, 'Not authorized']],
  ];
  for (const [what, reply, expected] of cases) {
    it(what, async () => {
      await withScript(
        () => reply,
        async (server) => assert.deepEqual(await refusal(server.port), expected),
      );
    });
  }

  it('401 with empty credentials is the same as none', async () => {
    await withScript(
      () => unauthorized('Basic realm="r"'),
      async (server) => {
        assert.deepEqual(await refusal(server.port, new HTTPCredentials()), [6, 'Not authorized']);
        assert.equal(server.requests.length, 1);
      },
    );
  });
});

describe('P7: a 101 that is not right', () => {
  const cases: Array<[string, (request: ReceivedRequest) => string, [number, string]]> = [
    [
      'a wrong Sec-WebSocket-Accept',
      () =>
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
      [5, 'Invalid or missing Sec-WebSocket-Accept header in handshake response'],
    ],
    [
      'no Sec-WebSocket-Accept',
      () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      [5, 'Invalid or missing Sec-WebSocket-Accept header in handshake response'],
    ],
    [
      'Connection: keep-alive, Upgrade (POCO wants the whole value)',
      (request) =>
        switching(request).replace('Connection: Upgrade', 'Connection: keep-alive, Upgrade'),
      [1, 'No Connection: Upgrade header in handshake response'],
    ],
    [
      'no Upgrade: websocket',
      (request) => switching(request).replace('Upgrade: websocket\r\n', ''),
      [1, 'No Upgrade: websocket header in handshake response'],
    ],
  ];
  for (const [what, reply, expected] of cases) {
    it(what, async () => {
      await withScript(reply, async (server) =>
        assert.deepEqual(await refusal(server.port), expected),
      );
    });
  }

  it('header names and values in any case are accepted', async () => {
    await withScript(
      (request) =>
        `HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: UPGRADE\r\nsec-websocket-accept: ${computeAccept(header(request, 'Sec-WebSocket-Key')!)}\r\n\r\n`,
      async (server) => assert.deepEqual(await refusal(server.port), [0, 'connected']),
    );
  });
});

describe('P7: 401 flows with credentials', () => {
  it('Basic: one retry, same connection, same key, Authorization added', async () => {
    await withScript(
      (request) =>
        header(request, 'Authorization') === undefined
          ? unauthorized('Basic realm="wsnet"')
          : switching(request),
      async (server) => {
        const { ws } = await connect(server.port, new HTTPCredentials('user', 'pass'));
        const [first, second] = server.requests;
        assert.equal(server.requests.length, 2);
        assert.equal(second?.connection, first?.connection, 'the kept-alive connection is reused');
        assert.equal(
          header(second, 'Sec-WebSocket-Key'),
          header(first, 'Sec-WebSocket-Key'),
          'the same key',
        );
        assert.equal(header(second, 'Authorization'), 'Basic dXNlcjpwYXNz');
        assert.deepEqual(
          second.headers.slice(0, -1),
          first.headers,
          'the second request is the first plus Authorization',
        );
        ws.close();
      },
    );
  });

  it('a server that closes after the 401: the retry opens a new connection', async () => {
    await withScript(
      (request) =>
        header(request, 'Authorization') === undefined
          ? {
              send: unauthorized('Basic realm="r"').replace(
                '\r\n\r\n',
                '\r\nConnection: close\r\n\r\n',
              ),
              close: true,
            }
          : switching(request),
      async (server) => {
        const { ws } = await connect(server.port, new HTTPCredentials('user', 'pass'));
        assert.notEqual(server.requests[1]?.connection, server.requests[0]?.connection);
        ws.close();
      },
    );
  });

  /** A server-side check of a Digest answer, written from RFC 7616 independently of wsnet. */
  function verifyDigest(authorization: string, algorithm: string, password: string): boolean {
    const fields = new Map<string, string>();
    for (const match of authorization
      .slice('Digest '.length)
      .matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g))
      fields.set(match[1], match[2] ?? match[3]);
    const hashName = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' }[
      algorithm.replace(/-sess$/, '')
    ]!;
    const H = (text: string) => createHash(hashName).update(text).digest('hex');
    let ha1 = H(`${fields.get('username')}:${fields.get('realm')}:${password}`);
    if (algorithm.endsWith('-sess'))
      ha1 = H(`${ha1}:${fields.get('nonce')}:${fields.get('cnonce')}`);
    const ha2 = H(`GET:${fields.get('uri')}`);
    const expected = H(
      `${ha1}:${fields.get('nonce')}:${fields.get('nc')}:${fields.get('cnonce')}:${fields.get('qop')}:${ha2}`,
    );
    return (
      fields.get('algorithm') === algorithm &&
      fields.get('response') === expected &&
      fields.get('uri') === '/ws' &&
      fields.get('nc') === '00000001' &&
      fields.get('opaque') === 'opaque-value'
    );
  }

  for (const algorithm of [
    'MD5',
    'MD5-sess',
    'SHA-256',
    'SHA-256-sess',
    'SHA-512-256',
    'SHA-512-256-sess',
  ]) {
    it(`Digest ${algorithm}, qop=auth, nc and cnonce`, async () => {
      await withScript(
        (request) => {
          const authorization = header(request, 'Authorization');
          if (authorization === undefined)
            return unauthorized(
              `Digest realm="wsnet@test", qop="auth", algorithm=${algorithm}, nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="opaque-value"`,
            );
          return verifyDigest(authorization, algorithm, 'Circle of Life')
            ? switching(request)
            : unauthorized('Digest realm="x", nonce="y"');
        },
        async (server) => {
          const { ws } = await connect(
            server.port,
            new HTTPCredentials('Mufasa', 'Circle of Life'),
          );
          assert.match(
            header(server.requests[1], 'Authorization')!,
            /^Digest username="Mufasa", realm="wsnet@test"/,
          );
          ws.close();
        },
      );
    });
  }

  it('the first usable challenge wins (Basic and Digest offered: whichever comes first)', async () => {
    await withScript(
      (request) => {
        if (header(request, 'Authorization') === undefined)
          return 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nWWW-Authenticate: Digest realm="r", nonce="n", qop="auth"\r\nWWW-Authenticate: Basic realm="r"\r\nContent-Length: 0\r\n\r\n';
        return switching(request);
      },
      async (server) => {
        const { ws } = await connect(server.port, new HTTPCredentials('u', 'p'));
        assert.match(header(server.requests[1], 'Authorization')!, /^Digest /);
        ws.close();
      },
    );
  });

  it('401 twice: 6 "Not authorized", after exactly one retry', async () => {
    await withScript(
      () => unauthorized('Basic realm="r"'),
      async (server) => {
        assert.deepEqual(await refusal(server.port, new HTTPCredentials('user', 'wrong')), [
          6,
          'Not authorized',
        ]);
        assert.equal(server.requests.length, 2);
      },
    );
  });

  it('a challenge wsnet cannot answer (NTLM only): 6, saying why', async () => {
    await withScript(
      () => unauthorized('NTLM'),
      async (server) => {
        const [code, message] = await refusal(server.port, new HTTPCredentials('user', 'pass'));
        assert.equal(code, 6);
        assert.match(message, /^Not authorized: .*NTLM/);
        assert.equal(server.requests.length, 1);
      },
    );
  });

  it('after the retry, a status other than 101 or 401 falls through to its own error', async () => {
    await withScript(
      (request) =>
        header(request, 'Authorization') === undefined
          ? unauthorized('Basic realm="r"')
          : 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
      async (server) =>
        assert.deepEqual(await refusal(server.port, new HTTPCredentials('u', 'p')), [
          1,
          'Cannot upgrade to WebSocket connection: Not Found',
        ]),
    );
  });
});

describe('HTTPCredentials', () => {
  it('fromUserInfo and fromURI decode percent-escapes; empty()', () => {
    const a = HTTPCredentials.fromUserInfo('us%40er:p%3Ass');
    assert.deepEqual([a.getUsername(), a.getPassword()], ['us@er', 'p:ss']);
    const b = HTTPCredentials.fromURI('ws://alice:s%20cret@example.com/chat');
    assert.deepEqual([b.getUsername(), b.getPassword()], ['alice', 's cret']);
    assert.ok(new HTTPCredentials().empty());
    assert.ok(!new HTTPCredentials('', 'x').empty());
    assert.ok(HTTPCredentials.isBasicCredentials('Basic abc'));
    assert.ok(HTTPCredentials.isDigestCredentials('digest realm="x"'));
    assert.ok(HTTPCredentials.isNTLMCredentials('NTLM'));
  });
});
