// WebSocketServer over loopback: the three ways to run it, every handshake hook and refusal,
// the connection limit, TLS, shutdown, and the closing handshake in both directions at the
// socket level.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  WebSocketServer,
  connect,
  type ConnectionSettings,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import {
  FRAME_FLAG_FIN,
  FRAME_OP_CLOSE,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_TEXT,
} from '../../src/protocol/constants.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import { EchoServers, echo } from '../helpers/echo-servers.js';
import { RawClient, upgradeRequest, type HttpHead } from '../helpers/raw-client.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';

/** A whole text message in one frame: FIN | TEXT. */
const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;

const echoServers = new EchoServers();
after(() => echoServers.closeAll());
const echoServer = (options: Partial<ServerOptions> = {}) => echoServers.start(options);

/** Sends an upgrade request with `extra` headers (or a whole custom request) and reads the answer. */
async function handshake(
  port: number,
  options: { path?: string; extra?: Array<[string, string]>; raw?: string } = {},
): Promise<{ client: RawClient; head: HttpHead; body: string }> {
  const client = await RawClient.connect(port);
  client.write(
    options.raw ??
      upgradeRequest(options.path ?? '/', port, 'dGhlIHNhbXBsZSBub25jZQ==', options.extra),
  );
  const head = await client.readHead();
  let body = '';
  if (head.status !== 101) body = (await client.readToEnd()).toString('utf8');
  return { client, head, body };
}

function headerOf(head: HttpHead, name: string): string | undefined {
  return head.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

describe('settings that cannot mean anything are refused at configuration time', () => {
  const bad: Array<[string, ConnectionSettings]> = [
    ['a negative inbox', { maxInboxBytes: -1 }],
    ['a fractional send queue', { maxQueuedBytes: 1.5 }],
    ['a timeout that is not a number', { closeTimeout: Number.NaN }],
    ['an idle timeout of Infinity', { idleTimeout: Infinity }],
    ['a heartbeat every 0 ms', { heartbeat: { interval: 0, timeout: 100 } }],
    ['a heartbeat without its timeout', { heartbeat: { interval: 1000 } as never }],
    ['a heartbeat that is not an object', { heartbeat: true as never }],
    ['a negative message size', { maxMessageSize: -5 }],
  ];
  for (const [what, options] of bad) {
    it(`${what}: the server and connect() throw InvalidArgumentError naming it`, async () => {
      assert.throws(() => new WebSocketServer({ noServer: true, ...options }), {
        name: 'InvalidArgumentError',
        reason: 'INVALID_OPTION',
      });
      await assert.rejects(connect('ws://127.0.0.1:1/', options), {
        name: 'InvalidArgumentError',
        reason: 'INVALID_OPTION',
      });
    });
  }
});

describe('WebSocketServer: standalone', () => {
  it('answers a valid upgrade with the RFC 6455 §4.2.2 101 and echoes', async () => {
    const server = await echoServer();
    assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const { client, head } = await handshake(server.address().port);
    assert.equal(head.statusLine, 'HTTP/1.1 101 Switching Protocols');
    assert.equal(headerOf(head, 'Upgrade'), 'websocket');
    assert.equal(headerOf(head, 'Connection'), 'Upgrade');
    assert.equal(headerOf(head, 'Sec-WebSocket-Accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(headerOf(head, 'Sec-WebSocket-Protocol'), undefined);
    assert.equal(headerOf(head, 'Sec-WebSocket-Extensions'), undefined);
    client.sendFrame(FRAME_TEXT, 'ping?');
    const frame = await client.readFrame();
    assert.equal(frame.flags, FRAME_TEXT);
    assert.equal(frame.masked, false);
    assert.equal(frame.payload.toString(), 'ping?');
    client.destroy();
  });

  it('frames sent right behind the request are delivered', async () => {
    const server = await echoServer();
    const port = server.address().port;
    const client = await RawClient.connect(port);
    client.write(upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ=='));
    client.sendFrame(FRAME_TEXT, 'eager');
    assert.equal((await client.readHead()).status, 101);
    assert.equal((await client.readFrame()).payload.toString(), 'eager');
    client.destroy();
  });

  it('a plain HTTP request gets 426 Upgrade Required', async () => {
    const server = await echoServer();
    const response = await fetch(`http://127.0.0.1:${server.address().port}/`);
    assert.equal(response.status, 426);
    assert.equal(response.headers.get('upgrade'), 'websocket');
    assert.match(await response.text(), /WebSocket endpoint/);
  });

  const badRequests: Array<[string, (port: number) => string, number, RegExp]> = [
    [
      'no Sec-WebSocket-Key',
      (port) =>
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      400,
      /Sec-WebSocket-Key is missing \(RFC 6455 §4.2.1\)/,
    ],
    [
      'a key that is not 16 bytes of base64',
      (port) => upgradeRequest('/', port, 'c2hvcnQ='),
      400,
      /Sec-WebSocket-Key is not the base64 of 16 bytes/,
    ],
    [
      'a POST (§4.2.1: the method must be GET)',
      (port) => upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ==').replace('GET', 'POST'),
      400,
      /must be a GET request/,
    ],
    [
      'HTTP/1.0',
      (port) => upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ==', [], 'HTTP/1.0'),
      400,
      /HTTP\/1\.1/,
    ],
  ];
  for (const [name, request, status, body] of badRequests) {
    it(`refuses ${name} with ${status}`, async () => {
      const server = await echoServer();
      const { head, body: text } = await handshake(server.address().port, {
        raw: request(server.address().port),
      });
      assert.equal(head.status, status);
      assert.equal(headerOf(head, 'Connection'), 'close');
      assert.match(text, body);
    });
  }

  it('an unsupported version gets 400 with Sec-WebSocket-Version: 13 (§4.4)', async () => {
    const server = await echoServer();
    const port = server.address().port;
    const { head } = await handshake(port, {
      raw: upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ==').replace(
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Version: 8',
      ),
    });
    assert.equal(head.status, 400);
    assert.equal(headerOf(head, 'Sec-WebSocket-Version'), '13');
  });

  it('malformed HTTP gets 400 and the server stays up', async () => {
    const server = await echoServer();
    const client = await RawClient.connect(server.address().port);
    client.write('GET / HTTP/1.1\r\nHo st: x\r\n\r\n');
    const head = await client.readHead();
    assert.equal(head.status, 400);
    client.destroy();
    const connection = await connect(server.url);
    await connection.close();
  });

  it('rejects a request head over maxHeaderSize (431)', async () => {
    const server = await echoServer({ maxHeaderSize: 1024 });
    const port = server.address().port;
    const { head } = await handshake(port, { extra: [['X-Big', 'x'.repeat(2000)]] });
    assert.equal(head.status, 431);
  });

  it('a handshake that stalls is answered 408 and closed after handshakeTimeout', async () => {
    const server = await echoServer({ handshakeTimeout: 300 });
    const client = await RawClient.connect(server.address().port);
    client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and nothing more
    const started = Date.now();
    const head = await client.readHead(3000);
    assert.equal(head.status, 408);
    assert.ok(Date.now() - started >= 250, `${Date.now() - started} ms`);
    await client.closed(3000);
  });

  it('needs exactly one of port, server, noServer', () => {
    assert.throws(() => new WebSocketServer({}), /exactly one/);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), /exactly one/);
  });
});

describe('WebSocketServer: handshake hooks', () => {
  it('path: other paths get 404, the query is ignored', async () => {
    const server = await echoServer({ path: '/chat' });
    const port = server.address().port;
    assert.equal((await handshake(port, { path: '/other' })).head.status, 404);
    assert.equal((await handshake(port, { path: '/chat?room=1' })).head.status, 101);
    assert.equal(server.url, `ws://127.0.0.1:${port}/chat`);
  });

  it('origins: an Origin not in the list gets 403', async () => {
    const server = await echoServer({ origins: ['https://example.com'] });
    const port = server.address().port;
    const refused = await handshake(port, { extra: [['Origin', 'https://evil.example']] });
    assert.equal(refused.head.status, 403);
    assert.equal((await handshake(port)).head.status, 403, 'no Origin at all');
    const accepted = await handshake(port, { extra: [['Origin', 'https://EXAMPLE.com']] });
    assert.equal(accepted.head.status, 101);
    accepted.client.destroy();
  });

  it('accept: false → 403; a Rejection → its status, headers and body', async () => {
    const seen: string[] = [];
    const server = await echoServer({
      accept: ({ request, url, origin }) => {
        seen.push(`${url} ${origin}`);
        const authorization = request.headers.authorization;
        if (url === '/forbidden') return false;
        if (authorization !== 'Bearer good')
          return {
            status: 401,
            headers: { 'WWW-Authenticate': 'Bearer realm="chat"' },
            body: 'token required',
          };
        return true;
      },
    });
    const port = server.address().port;
    assert.equal((await handshake(port, { path: '/forbidden' })).head.status, 403);
    const unauthorized = await handshake(port, { extra: [['Origin', 'http://a.test']] });
    assert.equal(unauthorized.head.status, 401);
    assert.equal(headerOf(unauthorized.head, 'WWW-Authenticate'), 'Bearer realm="chat"');
    assert.equal(unauthorized.body, 'token required');
    const ok = await handshake(port, { extra: [['Authorization', 'Bearer good']] });
    assert.equal(ok.head.status, 101);
    ok.client.destroy();
    assert.deepEqual(seen, ['/forbidden ', '/ http://a.test', '/ ']);
  });

  it('accept may be async; rejections are reported by a rejection event', async () => {
    const rejections: number[] = [];
    const server = await echoServer({
      accept: async ({ request }) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return request.headers['x-ticket'] === 'yes';
      },
    });
    server.on('rejection', (status) => rejections.push(status));
    const port = server.address().port;
    assert.equal((await handshake(port)).head.status, 403);
    const ok = await handshake(port, { extra: [['X-Ticket', 'yes']] });
    assert.equal(ok.head.status, 101);
    ok.client.sendFrame(FRAME_TEXT, 'after an async accept');
    assert.equal((await ok.client.readFrame()).payload.toString(), 'after an async accept');
    ok.client.destroy();
    assert.deepEqual(rejections, [403]);
  });

  it('an accept hook that throws gives 500, and the error is reported', async () => {
    const errors: Array<Error | undefined> = [];
    const server = await echoServer({
      accept: () => {
        throw new Error('database down');
      },
    });
    server.on('rejection', (_status, _request, error) => errors.push(error));
    assert.equal((await handshake(server.address().port)).head.status, 500);
    assert.match(errors[0]?.message ?? '', /database down/);
  });

  it('a rejection with a header value holding CR/LF cannot split the response', async () => {
    const server = await echoServer({
      accept: () => ({ status: 401, headers: { 'X-Evil': 'a\r\nSet-Cookie: x=1' } }),
    });
    const { head } = await handshake(server.address().port);
    assert.equal(head.status, 500);
    assert.equal(headerOf(head, 'Set-Cookie'), undefined);
  });

  it('protocols: the first offered one the server supports is selected', async () => {
    const server = await echoServer({ protocols: ['chat.v2', 'chat.v1'] });
    const port = server.address().port;
    const both = await handshake(port, {
      extra: [['Sec-WebSocket-Protocol', 'chat.v1, chat.v2']],
    });
    assert.equal(headerOf(both.head, 'Sec-WebSocket-Protocol'), 'chat.v1');
    both.client.destroy();
    const none = await handshake(port, { extra: [['Sec-WebSocket-Protocol', 'other']] });
    assert.equal(none.head.status, 101);
    assert.equal(headerOf(none.head, 'Sec-WebSocket-Protocol'), undefined);
    none.client.destroy();
    const connection = await connect(server.url, { protocols: ['x', 'chat.v2'] });
    assert.equal(connection.protocol, 'chat.v2');
    await connection.close();
  });

  it('handleProtocols decides; choosing one that was not offered is a 500, not a bad 101', async () => {
    let choice: string | undefined = 'b';
    const server = await echoServer({ handleProtocols: () => choice });
    const port = server.address().port;
    const chosen = await handshake(port, { extra: [['Sec-WebSocket-Protocol', 'a, b']] });
    assert.equal(headerOf(chosen.head, 'Sec-WebSocket-Protocol'), 'b');
    chosen.client.destroy();
    choice = 'zzz';
    assert.equal(
      (await handshake(port, { extra: [['Sec-WebSocket-Protocol', 'a, b']] })).head.status,
      500,
    );
  });

  it('a malformed Sec-WebSocket-Protocol is refused with 400', async () => {
    const server = await echoServer();
    const { head } = await handshake(server.address().port, {
      extra: [['Sec-WebSocket-Protocol', 'a b']],
    });
    assert.equal(head.status, 400);
  });

  it('maxConnections: handshakes beyond it get 503 until a connection closes', async () => {
    const server = await echoServer({ maxConnections: 2 });
    const first = await connect(server.url);
    const second = await connect(server.url);
    const refused = await handshake(server.address().port);
    assert.equal(refused.head.status, 503);
    await first.close();
    // The server's side closes when its TCP connection does.
    for (let i = 0; i < 100 && server.clients.size > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const third = await connect(server.url);
    await Promise.all([second.close(), third.close()]);
  });

  it('extensions offered are declined: the 101 names none (none is implemented yet)', async () => {
    const server = await echoServer();
    const { client, head } = await handshake(server.address().port, {
      extra: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']],
    });
    assert.equal(head.status, 101);
    assert.equal(headerOf(head, 'Sec-WebSocket-Extensions'), undefined);
    client.destroy();
  });
});

describe('WebSocketServer: attached and by hand', () => {
  it('attached to an http.Server: pages stay the application’s, upgrades are WebSockets', async () => {
    const httpServer = http.createServer((_request, response) => response.end('a page'));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const chat = new WebSocketServer({ server: httpServer, path: '/chat' });
    const news = new WebSocketServer({ server: httpServer, path: '/news' });
    chat.on('connection', (connection) => void connection.send('chat'));
    news.on('connection', (connection) => void connection.send('news'));
    try {
      const port = (httpServer.address() as net.AddressInfo).port;
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'a page');
      for (const path of ['chat', 'news']) {
        const connection = await connect(`ws://127.0.0.1:${port}/${path}`);
        for await (const message of connection) {
          assert.equal(message, path);
          break;
        }
        await connection.close();
      }
      assert.equal(chat.url, `ws://127.0.0.1:${port}/chat`);
    } finally {
      await Promise.all([chat.close(), news.close()]);
      await new Promise((resolve) => httpServer.close(resolve));
    }
    assert.equal(httpServer.listening, false);
  });

  it('noServer: handleUpgrade from the application’s own upgrade listener', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const httpServer = http.createServer();
    httpServer.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (request.url !== '/ws') {
        socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\n\r\n");
        return;
      }
      void wss.handleUpgrade(request, socket, head).then((connection) => {
        if (connection !== undefined) void echo(connection);
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (httpServer.address() as net.AddressInfo).port;
      assert.equal((await handshake(port, { path: '/elsewhere' })).head.status, 418);
      const connection = await connect(`ws://127.0.0.1:${port}/ws`);
      await connection.send(Buffer.from([1, 2, 3]));
      for await (const message of connection) {
        assert.deepEqual(message, Buffer.from([1, 2, 3]));
        break;
      }
      await connection.close();
      assert.throws(() => wss.address(), /not listening/);
    } finally {
      await wss.close();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });
});

describe('WebSocketServer: TLS', () => {
  it('wss: a standalone server with a certificate; the client verifies it against its CA', async () => {
    const certificate = selfSignedCertificate();
    const server = await echoServer({ tls: { key: certificate.key, cert: certificate.cert } });
    assert.match(server.url, /^wss:/);
    const connection = await connect(server.url, { tls: { ca: certificate.cert } });
    await connection.send('over TLS ✓');
    for await (const message of connection) {
      assert.equal(message, 'over TLS ✓');
      break;
    }
    assert.deepEqual(await connection.close(), { code: 1000, reason: '', wasClean: true });
    // Without the CA, verification fails (it is on by default).
    await assert.rejects(connect(server.url), (error: Error) => error.name === 'NetworkError');
  });
});

describe('WebSocketServer: closing', () => {
  it('server-initiated close: the server sends its close, the client answers, the server ends TCP first', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    echoServers.track(server);
    const closed = new Promise<WebSocketConnection>((resolve) =>
      server.once('connection', (connection) => resolve(connection)),
    );
    const { client } = await RawClient.open(server.address().port, '/');
    const connection = await closed;
    const status = connection.close(4001, 'bye');
    const frame = await client.readFrame();
    assert.equal(frame.flags, FRAME_FLAG_FIN | FRAME_OP_CLOSE);
    assert.deepEqual(frame.payload, Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('bye')]));
    client.sendFrame(FRAME_FLAG_FIN | FRAME_OP_CLOSE, Buffer.from([0x0f, 0xa1]));
    await client.readToEnd(); // the server's FIN: it closed TCP first (§7.1.1)
    assert.deepEqual(await status, { code: 4001, reason: '', wasClean: true });
    client.destroy();
  });

  it('client-initiated close: the server echoes the code and closes TCP', async () => {
    const server = await echoServer();
    const { client } = await RawClient.open(server.address().port, '/');
    client.sendFrame(FRAME_FLAG_FIN | FRAME_OP_CLOSE, Buffer.from([0x03, 0xe9, 0x78]));
    const frame = await client.readFrame();
    assert.equal(frame.flags, FRAME_FLAG_FIN | FRAME_OP_CLOSE);
    assert.deepEqual(frame.payload, Buffer.from([0x03, 0xe9]));
    assert.equal((await client.readToEnd()).length, 0);
    client.destroy();
  });

  it('a client that never answers the close: the server drops it after closeTimeout', async () => {
    const server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      closeTimeout: 150,
    });
    echoServers.track(server);
    const accepted = new Promise<WebSocketConnection>((resolve) =>
      server.once('connection', resolve),
    );
    const { client } = await RawClient.open(server.address().port, '/');
    const connection = await accepted;
    const started = Date.now();
    const status = await connection.close();
    assert.ok(Date.now() - started >= 140);
    assert.deepEqual(status, { code: 1006, reason: '', wasClean: false });
    await client.closed();
  });

  it('a valid message then a bad frame in one read: the echo goes out before the close 1002', async () => {
    const server = await echoServer();
    const { client } = await RawClient.open(server.address().port, '/');
    client.socket.cork();
    client.sendFrame(FRAME_TEXT, 'valid');
    client.sendFrame(FRAME_FLAG_FIN | 0x03, 'reserved opcode');
    client.socket.uncork();
    const echo = await client.readFrame();
    assert.equal(echo.payload.toString(), 'valid');
    const close = await client.readFrame();
    assert.equal(close.flags, FRAME_FLAG_FIN | FRAME_OP_CLOSE);
    assert.equal(close.payload.readUInt16BE(0), 1002);
    client.destroy();
  });

  it('pings are answered with the same payload; a pong resolves nothing unasked', async () => {
    const server = await echoServer();
    const { client } = await RawClient.open(server.address().port, '/');
    client.sendFrame(FRAME_FLAG_FIN | FRAME_OP_PONG, 'unsolicited');
    client.sendFrame(FRAME_FLAG_FIN | FRAME_OP_PING, 'are you there');
    const frame = await client.readFrame();
    assert.equal(frame.flags, FRAME_FLAG_FIN | FRAME_OP_PONG);
    assert.equal(frame.payload.toString(), 'are you there');
    client.destroy();
  });

  it('server.close() closes every connection with 1001 and stops listening', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    const url = server.url;
    const clients = await Promise.all([connect(url), connect(url), connect(url)]);
    for (let i = 0; i < 100 && server.clients.size < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(server.clients.size, 3);
    await server.close();
    const statuses = await Promise.all(clients.map((client) => client.closed));
    for (const status of statuses)
      assert.deepEqual(status, { code: 1001, reason: '', wasClean: true });
    assert.equal(server.clients.size, 0);
    await assert.rejects(connect(url, { handshakeTimeout: 2000 }), (error: Error) =>
      ['NetworkError', 'TimeoutError'].includes(error.name),
    );
  });

  it('the accept key matches RFC 6455 for random keys too', async () => {
    const server = await echoServer();
    const { head, key, client } = await RawClient.open(server.address().port, '/');
    assert.equal(headerOf(head, 'Sec-WebSocket-Accept'), computeAccept(key));
    client.destroy();
  });
});
