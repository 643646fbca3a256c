/**
 * connect()'s redirects (`followRedirects`, `maxRedirects`) against real servers on loopback:
 * node:http (or node:https) servers whose upgrade listener either answers a redirect or hands
 * the request to a WebSocketServer ({ noServer }) that echoes. Each server is its own origin
 * (127.0.0.1 and a port of its own); every request they get is recorded.
 */
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { TimeoutError, WebSocketServer, connect } from '../../src/messages/index.js';
import { HandshakeError, InvalidArgumentError } from '../../src/protocol/errors.js';
import { echo } from '../helpers/echo-servers.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { waitFor, within } from '../helpers/wait.js';

/** What a path answers: a redirect (Location may be absent), or the WebSocket (accept). */
type Route = { status: number; location?: string } | 'accept';

interface Seen {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

interface Hop {
  /** `ws://127.0.0.1:port` or `wss://...`. */
  readonly base: string;
  readonly seen: Seen[];
  readonly routes: Map<string, Route>;
}

const { cert, key } = selfSignedCertificate();
const cleanups: Array<() => void> = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

async function startHop(secure = false): Promise<Hop> {
  const server = secure ? https.createServer({ cert, key }) : http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const seen: Seen[] = [];
  const routes = new Map<string, Route>();
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = request.url ?? '';
    seen.push({ path, headers: request.headers });
    const route = routes.get(path) ?? { status: 404 };
    if (route === 'accept') {
      void wss.handleUpgrade(request, socket, head).then((connection) => {
        if (connection !== undefined) void echo(connection);
      });
      return;
    }
    const location = route.location === undefined ? '' : `Location: ${route.location}\r\n`;
    socket.end(
      `HTTP/1.1 ${route.status} ${http.STATUS_CODES[route.status]}\r\n${location}Content-Length: 5\r\n\r\nmoved`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
    void wss.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return { base: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}`, seen, routes };
}

async function echoes(url: string, options: Parameters<typeof connect>[1] = {}) {
  const connection = await within(connect(url, { tls: { ca: cert }, ...options }));
  await connection.send('hello');
  const next = await within(connection[Symbol.asyncIterator]().next(), 3000, 'the echo');
  await connection.close();
  return { url: connection.url, reply: next.done === true ? undefined : String(next.value) };
}

function rejectsWith(reason: string, status: number) {
  return (error: unknown) => {
    assert.ok(error instanceof HandshakeError, String(error));
    assert.equal(error.reason, reason);
    assert.equal(error.status, status);
    return true;
  };
}

describe('connect(): redirects', () => {
  it('not followed by default: a HandshakeError (CANNOT_UPGRADE) with the status, naming the Location', async () => {
    const a = await startHop();
    a.routes.set('/old', { status: 302, location: '/new' });
    a.routes.set('/new', 'accept');
    await assert.rejects(connect(`${a.base}/old`), (error: unknown) => {
      rejectsWith('CANNOT_UPGRADE', 302)(error);
      assert.match((error as Error).message, /to \/new: followRedirects is off/);
      return true;
    });
    assert.deepEqual(
      a.seen.map(({ path }) => path),
      ['/old'],
    );
  });

  it('301, 302, 303, 307 and 308 are followed; connection.url is the final URL', async () => {
    const a = await startHop();
    a.routes.set('/ws', 'accept');
    for (const status of [301, 302, 303, 307, 308]) {
      a.routes.set(`/from-${status}`, { status, location: `${a.base}/ws` });
      const { url, reply } = await echoes(`${a.base}/from-${status}`, { followRedirects: true });
      assert.equal(url, `${a.base}/ws`);
      assert.equal(reply, 'hello');
    }
    // 300 and 304 are not redirects to follow.
    a.routes.set('/multiple', { status: 300, location: `${a.base}/ws` });
    await assert.rejects(
      connect(`${a.base}/multiple`, { followRedirects: true }),
      rejectsWith('CANNOT_UPGRADE', 300),
    );
  });

  it('a chain: relative Locations resolve against the current URL; credentials, Authorization and Cookie stop at the first origin, other headers go on', async () => {
    const a = await startHop();
    const b = await startHop();
    a.routes.set('/start?x=1', { status: 302, location: 'next' }); // relative to /start
    a.routes.set('/next', { status: 307, location: '/dir/then' });
    a.routes.set('/dir/then', { status: 308, location: `${b.base}/elsewhere` });
    b.routes.set('/elsewhere', { status: 301, location: '../final?y=2' });
    b.routes.set('/final?y=2', 'accept');
    const start = `${a.base.replace('//', '//user:secret@')}/start?x=1`;
    const { url, reply } = await echoes(start, {
      followRedirects: true,
      preemptiveAuth: true,
      headers: { Authorization: 'Bearer token', Cookie: 'session=1', 'X-Trace': 'kept' },
    });
    assert.equal(reply, 'hello');
    assert.equal(url, `${b.base}/final?y=2`, 'no user info in connection.url');
    assert.deepEqual(
      a.seen.map(({ path }) => path),
      ['/start?x=1', '/next', '/dir/then'],
    );
    assert.deepEqual(
      b.seen.map(({ path }) => path),
      ['/elsewhere', '/final?y=2'],
    );
    for (const { headers } of a.seen) {
      // headers given explicitly come after the preemptive Basic: node:http joins them
      assert.match(String(headers.authorization), /Basic dXNlcjpzZWNyZXQ=/);
      assert.equal(headers.cookie, 'session=1');
      assert.equal(headers['x-trace'], 'kept');
    }
    for (const { headers } of b.seen) {
      assert.equal(headers.authorization, undefined);
      assert.equal(headers.cookie, undefined);
      assert.equal(headers['x-trace'], 'kept');
      assert.equal(headers.host, new URL(b.base.replace('ws', 'http')).host);
    }
  });

  it('a 401 after a cross-origin hop is not answered with the first origin’s credentials', async () => {
    const a = await startHop();
    const b = await startHop();
    a.routes.set('/', { status: 302, location: `${b.base}/` });
    b.routes.set('/', { status: 401 });
    await assert.rejects(
      connect(`${a.base.replace('//', '//user:secret@')}/`, { followRedirects: true }),
      rejectsWith('UNAUTHORIZED', 401),
    );
    assert.equal(b.seen.length, 1, 'no retry with credentials');
    assert.equal(b.seen[0].headers.authorization, undefined);
  });

  it('a loop fails clearly (REDIRECT_LOOP) without asking the first URL again', async () => {
    const a = await startHop();
    a.routes.set('/x', { status: 302, location: '/y' });
    a.routes.set('/y', { status: 307, location: `${a.base.replace('ws:', 'http:')}/x` });
    await assert.rejects(connect(`${a.base}/x`, { followRedirects: true }), (error: unknown) => {
      rejectsWith('REDIRECT_LOOP', 307)(error);
      assert.match((error as Error).message, new RegExp(`${a.base}/x`));
      return true;
    });
    assert.deepEqual(
      a.seen.map(({ path }) => path),
      ['/x', '/y'],
    );
  });

  it('maxRedirects: exactly that many are followed; one more is TOO_MANY_REDIRECTS', async () => {
    const a = await startHop();
    for (let i = 0; i < 5; i++) a.routes.set(`/r${i}`, { status: 302, location: `/r${i + 1}` });
    a.routes.set('/r5', 'accept');
    const { url } = await echoes(`${a.base}/r2`, { followRedirects: true, maxRedirects: 3 });
    assert.equal(url, `${a.base}/r5`);
    a.seen.length = 0;
    await assert.rejects(
      connect(`${a.base}/r0`, { followRedirects: true, maxRedirects: 3 }),
      rejectsWith('TOO_MANY_REDIRECTS', 302),
    );
    assert.deepEqual(
      a.seen.map(({ path }) => path),
      ['/r0', '/r1', '/r2', '/r3'],
    );
    await assert.rejects(
      connect(`${a.base}/r0`, { followRedirects: true, maxRedirects: 0 }),
      rejectsWith('TOO_MANY_REDIRECTS', 302),
    );
    // The default is 10: an endless chain stops after 10 redirects, 11 requests.
    a.seen.length = 0;
    const c = await startHop();
    for (let i = 0; i < 20; i++) c.routes.set(`/c${i}`, { status: 302, location: `/c${i + 1}` });
    await assert.rejects(
      connect(`${c.base}/c0`, { followRedirects: true }),
      rejectsWith('TOO_MANY_REDIRECTS', 302),
    );
    assert.equal(c.seen.length, 11);
    for (const bad of [-1, 1.5, Number.NaN])
      await assert.rejects(connect(`${c.base}/c0`, { maxRedirects: bad }), InvalidArgumentError);
  });

  it('wss never goes to ws (nor http); ws may go to wss', async () => {
    const secure = await startHop(true);
    const plain = await startHop();
    plain.routes.set('/ws', 'accept');
    secure.routes.set('/to-ws', { status: 302, location: `${plain.base}/ws` });
    secure.routes.set('/to-http', {
      status: 301,
      location: `${plain.base.replace('ws:', 'http:')}/ws`,
    });
    for (const path of ['/to-ws', '/to-http'])
      await assert.rejects(
        connect(`${secure.base}${path}`, { followRedirects: true, tls: { ca: cert } }),
        (error: unknown) => {
          assert.ok(error instanceof HandshakeError, String(error));
          assert.equal(error.reason, 'REDIRECT_DOWNGRADE');
          return true;
        },
      );
    assert.equal(plain.seen.length, 0, 'nothing sent in plain text');
    secure.routes.set('/wss', 'accept');
    plain.routes.set('/up', {
      status: 302,
      location: `${secure.base.replace('wss:', 'https:')}/wss`,
    });
    const { url, reply } = await echoes(`${plain.base}/up`, { followRedirects: true });
    assert.equal(url, `${secure.base}/wss`);
    assert.equal(reply, 'hello');
  });

  it('handshakeTimeout covers the whole chain: a hop that never answers is a TimeoutError, and its connection is closed', async () => {
    const a = await startHop();
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume();
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => silent.close());
    const port = (silent.address() as net.AddressInfo).port;
    a.routes.set('/', { status: 307, location: `ws://127.0.0.1:${port}/` });
    await assert.rejects(
      connect(`${a.base}/`, { followRedirects: true, handshakeTimeout: 500 }),
      (error: unknown) => error instanceof TimeoutError && error.operation === 'handshake',
    );
    assert.equal(sockets.length, 1);
    await waitFor(() => sockets[0].closed, 3000, 'the silent hop closed');
  });

  it('another scheme (REDIRECT_SCHEME), or no usable Location (INVALID_REDIRECT), is refused', async () => {
    const a = await startHop();
    a.routes.set('/ftp', { status: 302, location: 'ftp://127.0.0.1/file' });
    a.routes.set('/js', { status: 302, location: 'javascript:alert(1)' });
    a.routes.set('/none', { status: 302 });
    a.routes.set('/bad', { status: 302, location: 'http://[::1' });
    await assert.rejects(
      connect(`${a.base}/ftp`, { followRedirects: true }),
      rejectsWith('REDIRECT_SCHEME', 302),
    );
    await assert.rejects(
      connect(`${a.base}/js`, { followRedirects: true }),
      rejectsWith('REDIRECT_SCHEME', 302),
    );
    await assert.rejects(
      connect(`${a.base}/none`, { followRedirects: true }),
      rejectsWith('INVALID_REDIRECT', 302),
    );
    await assert.rejects(
      connect(`${a.base}/bad`, { followRedirects: true }),
      rejectsWith('INVALID_REDIRECT', 302),
    );
    assert.equal(a.seen.length, 4);
  });
});
