// connect() over loopback: options, every refusal and misbehaving server, 401 with Basic and
// Digest, proxies, TLS, and backpressure against a server that stops reading.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { after, describe, it } from 'node:test';
import {
  NetworkError,
  SendQueueFullError,
  TimeoutError,
  WebSocketServer,
  connect,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { challengeParam, parseChallenges } from '../../src/protocol/auth/challenge.js';
import { FRAME_FLAG_FIN, FRAME_OP_TEXT } from '../../src/protocol/constants.js';
import { HandshakeError, InvalidArgumentError } from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import { startProxy } from '../helpers/proxy.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { header, startScriptedServer, type ReceivedRequest } from '../helpers/scripted-server.js';

/** A whole text message in one frame: FIN | TEXT. */
const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;

const servers: WebSocketServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** An echo server that records each accepted request. */
async function echoServer(
  options: Partial<ServerOptions> = {},
): Promise<{ server: WebSocketServer; requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  server.on('connection', (connection, request) => {
    requests.push(request);
    void (async () => {
      try {
        for await (const message of connection) await connection.send(message);
      } catch {
        // closed abnormally
      }
    })();
  });
  return { server, requests };
}

async function first(connection: WebSocketConnection): Promise<string | Buffer> {
  for await (const message of connection) return message;
  throw new Error('closed before a message');
}

/** The 101 a scripted server answers a request with. */
function switching(request: ReceivedRequest, extra = ''): string {
  const accept = computeAccept(header(request, 'Sec-WebSocket-Key') ?? '');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;
}

function handshakeError(reason: string, status: number) {
  return (error: unknown) =>
    error instanceof HandshakeError && error.reason === reason && error.status === status;
}

describe('connect(): the request', () => {
  it('sends Host, the WebSocket headers, Origin, subprotocols and extra headers', async () => {
    const { server, requests } = await echoServer({ protocols: ['b'] });
    const connection = await connect(`${server.url}path?q=1`, {
      protocols: ['a', 'b'],
      origin: 'https://app.example',
      headers: { 'X-Trace': 'abc' },
    });
    const request = requests[0];
    assert.equal(request.url, '/path?q=1');
    assert.equal(request.headers.host, `127.0.0.1:${server.address().port}`);
    assert.equal(request.headers.origin, 'https://app.example');
    assert.equal(request.headers['sec-websocket-protocol'], 'a, b');
    assert.equal(request.headers['sec-websocket-version'], '13');
    assert.equal(request.headers['x-trace'], 'abc');
    assert.equal(Buffer.from(request.headers['sec-websocket-key'] ?? '', 'base64').length, 16);
    assert.equal(connection.protocol, 'b');
    assert.equal(connection.extensions, '');
    assert.equal(connection.remoteAddress, '127.0.0.1');
    assert.equal(connection.remotePort, server.address().port);
    await connection.close();
  });

  it('IPv6: ws://[::1]:port/ connects, with the brackets in Host', async () => {
    const { server, requests } = await echoServer({ host: '::1' });
    assert.match(server.url, /^ws:\/\/\[::1\]:\d+\/$/);
    const connection = await connect(server.url);
    assert.equal(requests[0].headers.host, `[::1]:${server.address().port}`);
    assert.equal(connection.remoteAddress, '::1');
    await connection.close();
  });

  const invalid: Array<[string, () => Promise<unknown>]> = [
    ['an http(s)-less, ws-less scheme', () => connect('ftp://127.0.0.1/')],
    ['a fragment (RFC 6455 §3)', () => connect('ws://127.0.0.1/#x')],
    ['not a URL', () => connect('not a url')],
    [
      'a header the handshake owns',
      () => connect('ws://127.0.0.1/', { headers: { Upgrade: 'x' } }),
    ],
    ['a subprotocol that is not a token', () => connect('ws://127.0.0.1/', { protocols: ['a b'] })],
    ['the same subprotocol twice', () => connect('ws://127.0.0.1/', { protocols: ['a', 'a'] })],
    [
      'a proxy that is not http:// or socks5://',
      () => connect('ws://127.0.0.1/', { proxy: 'ftp://x:1' }),
    ],
  ];
  for (const [name, attempt] of invalid)
    it(`refuses ${name} with InvalidArgumentError, before connecting`, async () => {
      await assert.rejects(attempt(), InvalidArgumentError);
    });
});

describe('connect(): refusals and misbehaving servers', () => {
  const flows: Array<[string, (request: ReceivedRequest) => string, (error: unknown) => boolean]> =
    [
      [
        '401 without credentials',
        () =>
          'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
        handshakeError('UNAUTHORIZED', 401),
      ],
      [
        '404',
        () => 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
        handshakeError('CANNOT_UPGRADE', 404),
      ],
      [
        '200 (not a WebSocket server)',
        () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
        handshakeError('NOT_UNDERSTOOD', 200),
      ],
      [
        'a wrong Sec-WebSocket-Accept',
        () =>
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
        handshakeError('INVALID_ACCEPT', 101),
      ],
      [
        'a missing Sec-WebSocket-Accept',
        () =>
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        handshakeError('INVALID_ACCEPT', 101),
      ],
      [
        'a subprotocol that was not offered (§4.1)',
        (request) => switching(request, 'Sec-WebSocket-Protocol: other\r\n'),
        handshakeError('UNEXPECTED_SUBPROTOCOL', 101),
      ],
      [
        'an extension that was not offered (§4.1)',
        (request) => switching(request, 'Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n'),
        handshakeError('UNEXPECTED_EXTENSION', 101),
      ],
      [
        'garbage instead of HTTP',
        () => 'SSH-2.0-OpenSSH_9.2\r\n\r\n',
        (error) => error instanceof NetworkError && error.kind === 'http',
      ],
    ];
  for (const [name, reply, check] of flows)
    it(`${name} → ${name.startsWith('garbage') ? 'NetworkError' : 'HandshakeError'}`, async () => {
      const scripted = await startScriptedServer((request) => ({
        send: reply(request),
        close: true,
      }));
      try {
        await assert.rejects(connect(`ws://127.0.0.1:${scripted.port}/`), check);
      } finally {
        scripted.stop();
      }
    });

  it('a server that never answers: TimeoutError after handshakeTimeout, the socket closed', async () => {
    const scripted = await startScriptedServer(() => ({ hang: true }));
    try {
      const started = Date.now();
      await assert.rejects(
        connect(`ws://127.0.0.1:${scripted.port}/`, { handshakeTimeout: 200 }),
        (error: unknown) => error instanceof TimeoutError && error.operation === 'handshake',
      );
      assert.ok(Date.now() - started >= 190);
      const socket = scripted.sockets[0];
      for (let i = 0; i < 100 && !socket.destroyed && socket.readable; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(socket.destroyed || !socket.readable, 'the client closed its socket');
    } finally {
      scripted.stop();
    }
  });

  it('nothing listening: NetworkError (network)', async () => {
    const scripted = await startScriptedServer(() => ({ close: true }));
    const port = scripted.port;
    scripted.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(
      connect(`ws://127.0.0.1:${port}/`),
      (error: unknown) => error instanceof NetworkError && error.kind === 'network',
    );
  });

  it('frames sent in the same read as the 101 are delivered', async () => {
    const frame = Buffer.concat(encodeFrame(FRAME_TEXT, Buffer.from('early bird'), null));
    const scripted = await startScriptedServer((request) =>
      Buffer.concat([Buffer.from(switching(request), 'latin1'), frame]),
    );
    try {
      const connection = await connect(`ws://127.0.0.1:${scripted.port}/`);
      assert.equal(await first(connection), 'early bird');
      connection.terminate();
    } finally {
      scripted.stop();
    }
  });
});

describe('connect(): credentials', () => {
  it('Basic from the URL user info (percent-decoded), after a 401', async () => {
    const seen: Array<string | undefined> = [];
    const { server } = await echoServer({
      accept: ({ request }) => {
        seen.push(request.headers.authorization);
        return request.headers.authorization ===
          `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`
          ? true
          : { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="chat"' } };
      },
    });
    const port = server.address().port;
    const connection = await connect(`ws://alice:p%40ss%20word@127.0.0.1:${port}/`);
    assert.deepEqual(seen, [
      undefined,
      `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`,
    ]);
    await connection.close();
    // Wrong credentials: refused twice, one retry only.
    seen.length = 0;
    await assert.rejects(
      connect(`ws://127.0.0.1:${port}/`, { credentials: { username: 'alice', password: 'no' } }),
      handshakeError('UNAUTHORIZED', 401),
    );
    assert.equal(seen.length, 2);
  });

  it('preemptiveAuth sends Basic with the first request', async () => {
    const seen: Array<string | undefined> = [];
    const { server } = await echoServer({
      accept: ({ request }) => {
        seen.push(request.headers.authorization);
        return true;
      },
    });
    const connection = await connect(server.url, {
      credentials: { username: 'u', password: 'p' },
      preemptiveAuth: true,
    });
    assert.deepEqual(seen, [`Basic ${Buffer.from('u:p').toString('base64')}`]);
    await connection.close();
  });

  for (const algorithm of ['MD5', 'SHA-256', 'SHA-256-sess'] as const)
    it(`Digest ${algorithm} with qop=auth (RFC 7616), on the same connection`, async () => {
      const hashName = algorithm.startsWith('MD5') ? 'md5' : 'sha256';
      const h = (text: string) => createHash(hashName).update(text).digest('hex');
      const nonce = 'dcd98b7102dd2f0e8b11d0f600bfb0c093';
      const scripted = await startScriptedServer((request, index) => {
        if (index === 0)
          return `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="ws@test", qop="auth", algorithm=${algorithm}, nonce="${nonce}", opaque="5ccc"\r\nContent-Length: 0\r\n\r\n`;
        const answer = parseChallenges(header(request, 'Authorization') ?? '')[0];
        const param = (name: string) => challengeParam(answer, name) ?? '';
        let ha1 = h('bob:ws@test:secret');
        if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${param('cnonce')}`);
        const expected = h(
          `${ha1}:${nonce}:${param('nc')}:${param('cnonce')}:auth:${h('GET:/digest')}`,
        );
        const valid =
          param('response') === expected &&
          param('uri') === '/digest' &&
          param('opaque') === '5ccc' &&
          param('nc') === '00000001';
        return valid ? switching(request) : 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n';
      });
      try {
        const connection = await connect(`ws://bob:secret@127.0.0.1:${scripted.port}/digest`);
        assert.equal(scripted.requests.length, 2);
        assert.equal(scripted.requests[1].connection, 0, 'the retry reuses the connection');
        connection.terminate();
      } finally {
        scripted.stop();
      }
    });
});

describe('connect(): through an HTTP proxy', () => {
  it('a CONNECT tunnel, without Proxy-Authorization when the proxy URL has no user info', async () => {
    const { server } = await echoServer();
    const proxy = await startProxy();
    try {
      const connection = await connect(server.url, { proxy: `http://127.0.0.1:${proxy.port}` });
      await connection.send('through the tunnel');
      assert.equal(await first(connection), 'through the tunnel');
      await connection.close();
      assert.deepEqual(proxy.connects, [
        { target: `127.0.0.1:${server.address().port}`, authorization: undefined },
      ]);
    } finally {
      proxy.stop();
    }
  });

  it('Basic proxy credentials from the proxy URL answer the 407 (or go first with preemptiveAuth); a refusal is NetworkError (proxy) with its status', async () => {
    const { server } = await echoServer();
    const proxy = await startProxy({ credentials: 'pu:pp' });
    try {
      await assert.rejects(
        connect(server.url, { proxy: `http://127.0.0.1:${proxy.port}` }),
        (error: unknown) =>
          error instanceof NetworkError && error.kind === 'proxy' && error.status === 407,
      );
      const connection = await connect(server.url, {
        proxy: `http://pu:pp@127.0.0.1:${proxy.port}`,
      });
      await connection.close();
      // The credentials answer the 407: the first CONNECT goes without them.
      assert.deepEqual(
        proxy.connects.slice(1).map(({ authorization }) => authorization),
        [undefined, `Basic ${Buffer.from('pu:pp').toString('base64')}`],
      );
      const preemptive = await connect(server.url, {
        proxy: `http://pu:pp@127.0.0.1:${proxy.port}`,
        preemptiveAuth: true,
      });
      await preemptive.close();
      assert.equal(proxy.connects.length, 4, 'preemptiveAuth: Basic with the first CONNECT');
      assert.equal(
        proxy.connects[3].authorization,
        `Basic ${Buffer.from('pu:pp').toString('base64')}`,
      );
    } finally {
      proxy.stop();
    }
  });
});

describe('connect(): through an https:// proxy (TLS to the proxy)', () => {
  const { cert, key } = selfSignedCertificate();

  it('ws:// and wss:// targets through the TLS tunnel (wss: TLS inside TLS), the proxy checked with tls.ca', async () => {
    const proxy = await startProxy({ tls: { cert, key }, credentials: 'pu:pp' });
    try {
      const plain = await echoServer();
      const secure = await echoServer({ tls: { cert, key } });
      for (const url of [plain.server.url, `wss://127.0.0.1:${secure.server.address().port}/`]) {
        const connection = await connect(url, {
          proxy: `https://pu:pp@127.0.0.1:${proxy.port}`,
          tls: { ca: cert },
        });
        await connection.send(`via ${url}`);
        assert.equal(await first(connection), `via ${url}`);
        await connection.close();
      }
      // Each target: a CONNECT without credentials (407), then one that answers it.
      assert.deepEqual(
        proxy.connects.map(({ target, authorization }) => [target, authorization !== undefined]),
        [
          [`127.0.0.1:${plain.server.address().port}`, false],
          [`127.0.0.1:${plain.server.address().port}`, true],
          [`127.0.0.1:${secure.server.address().port}`, false],
          [`127.0.0.1:${secure.server.address().port}`, true],
        ],
      );
    } finally {
      proxy.stop();
    }
  });

  it('a proxy whose certificate is not trusted: NetworkError (tls), and nothing reaches it past TLS', async () => {
    const proxy = await startProxy({ tls: { cert, key } });
    try {
      const { server } = await echoServer();
      await assert.rejects(
        connect(server.url, { proxy: `https://127.0.0.1:${proxy.port}` }),
        (error: unknown) =>
          error instanceof NetworkError &&
          error.kind === 'tls' &&
          /TLS with the proxy failed/.test(error.message),
      );
      assert.deepEqual(proxy.connects, []);
      // rejectUnauthorized: false trusts any certificate, the proxy's too.
      const connection = await connect(server.url, {
        proxy: `https://127.0.0.1:${proxy.port}`,
        tls: { rejectUnauthorized: false },
      });
      await connection.close();
      assert.equal(proxy.connects.length, 1);
    } finally {
      proxy.stop();
    }
  });

  it('an https:// proxy that speaks plain HTTP: NetworkError (tls)', async () => {
    const proxy = await startProxy();
    try {
      const { server } = await echoServer();
      await assert.rejects(
        connect(server.url, { proxy: `https://127.0.0.1:${proxy.port}`, tls: { ca: cert } }),
        (error: unknown) => error instanceof NetworkError && error.kind === 'tls',
      );
    } finally {
      proxy.stop();
    }
  });
});

describe('connect(): backpressure against a server that stops reading', () => {
  it('send() waits for the socket and rejects past maxQueuedBytes; memory stays bounded', async () => {
    let serverSide: WebSocketConnection | undefined;
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    // The server neither listens nor iterates: after 16 messages its socket stops reading.
    server.on('connection', (connection) => (serverSide = connection));
    const connection = await connect(server.url, { maxQueuedBytes: 1024 * 1024 });
    const message = Buffer.alloc(256 * 1024, 1);
    let full: unknown;
    let accepted = 0;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 2000 && full === undefined; i++) {
      connection.send(message).catch((error: unknown) => (full ??= error));
      accepted++;
      if (i % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (let i = 0; i < 100 && full === undefined; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(full instanceof SendQueueFullError, `got ${String(full)}`);
    // Kernel buffers take some (a few MiB on loopback); everything else waits in the queue.
    assert.ok(connection.bufferedAmount <= 1024 * 1024 + 2 * message.length);
    assert.ok(accepted < 2000, `${accepted} sends were accepted: the queue is not bounded`);
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024);
    connection.terminate();
    // The server's socket is paused (its reader stopped): it notices the reset once it reads.
    assert.ok(serverSide !== undefined);
    const drained = (async () => {
      let count = 0;
      try {
        for await (const received of serverSide) count += (received as Buffer).length > 0 ? 1 : 0;
      } catch {
        // the reset: 1006
      }
      return count;
    })();
    const status = await serverSide.closed;
    assert.equal(status.code, 1006);
    assert.ok((await drained) > 0);
  });
});
