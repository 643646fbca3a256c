// What wsnet's WHATWG WebSocket adds in Node: the third constructor argument (wsnet's connect()
// options: headers, an HTTP proxy, credentials, limits), and an error event that says why.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  HandshakeError,
  InvalidArgumentError,
  NetworkError,
  WebSocketServer,
  type UpgradeContext,
} from '../../src/messages/index.js';
import { type ProtocolError } from '../../src/protocol/errors.js';
import { ErrorEvent, WebSocket } from '../../src/whatwg/index.js';
import { echo } from '../helpers/echo-servers.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { within } from '../helpers/wait.js';
import { ending } from './ending.js';
import { refusedUrl } from './servers.js';

describe("wsnet's WHATWG WebSocket in Node", () => {
  let server: WebSocketServer;
  let proxy: Proxy;
  const upgrades: UpgradeContext[] = [];
  let base: string;
  before(async () => {
    server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      accept: (context) => {
        upgrades.push(context);
        if (context.url === '/missing') return { status: 404 };
        if (context.url === '/private')
          return context.request.headers.authorization === 'Basic dXNlcjpzZWNyZXQ='
            ? true
            : { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="test"' } };
        return true;
      },
    });
    server.on('connection', (connection) => void echo(connection));
    base = `ws://127.0.0.1:${server.address().port}`;
    proxy = await startProxy();
  });
  after(async () => {
    proxy.stop();
    await server.close();
  });

  it('sends the headers given, through the proxy given', async () => {
    const socket = new WebSocket(`${base}/echo`, 'chat', {
      headers: { 'X-Trace': 'abc' },
      proxy: `http://127.0.0.1:${proxy.port}`,
    });
    socket.addEventListener('message', () => socket.close(1000));
    const seen = await ending(socket, () => socket.send('via the proxy'));
    assert.deepEqual(seen.events, ['open', 'message via the proxy', 'close 1000']);
    assert.equal(socket.protocol, '');
    const upgrade = upgrades.at(-1)!;
    assert.equal(upgrade.request.headers['x-trace'], 'abc');
    assert.deepEqual(upgrade.protocols, ['chat']);
    assert.equal(proxy.connects.at(-1)?.target, `127.0.0.1:${server.address().port}`);
  });

  it('answers a 401 with the credentials given', async () => {
    const socket = new WebSocket(`${base}/private`, [], {
      credentials: { username: 'user', password: 'secret' },
    });
    const seen = await ending(socket, () => socket.close(4000, 'in'));
    // wsnet's server answers a close with its code (not the reason).
    assert.deepEqual(seen.events, ['open', 'close 4000']);
    assert.equal(seen.close.wasClean, true);
    assert.match(String(upgrades.at(-1)?.request.headers.authorization), /^Basic /);
  });

  it('fails a refused handshake per spec (error, then close 1006), the error naming the status', async () => {
    const socket = new WebSocket(`${base}/missing`);
    const seen = await ending(socket);
    assert.deepEqual(seen.events, ['error', 'close 1006']);
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.equal(seen.close.wasClean, false);
    assert.ok(seen.error instanceof ErrorEvent);
    assert.ok(seen.error.error instanceof HandshakeError);
    assert.equal(seen.error.error.status, 404);
  });

  it("a refused connection's error event carries the NetworkError", async () => {
    const seen = await ending(new WebSocket(await refusedUrl()));
    assert.deepEqual(seen.events, ['error', 'close 1006']);
    assert.ok(seen.error?.error instanceof NetworkError, String(seen.error?.error));
  });

  it('an option connect() refuses fails the connection with the InvalidArgumentError', async () => {
    const socket = new WebSocket(`${base}/echo`, [], { headers: { Upgrade: 'h2c' } });
    const seen = await ending(socket);
    assert.deepEqual(seen.events, ['error', 'close 1006']);
    assert.ok(seen.error?.error instanceof InvalidArgumentError);
    assert.match(seen.error.message, /Upgrade header/);
  });

  it('a message over maxMessageSize fails the connection (1009 sent): error (why), then close 1006', async () => {
    const socket = new WebSocket(`${base}/echo`, [], { maxMessageSize: 4 });
    const seen = await ending(socket, () => socket.send('more than four bytes'));
    assert.deepEqual(seen.events, ['open', 'error', 'close 1006']);
    assert.match(seen.error!.message, /over the size limit/);
    assert.equal((seen.error!.error as ProtocolError).closeCode, 1009);
    assert.equal(seen.close.wasClean, false);
  });

  it('bufferedAmount goes back to 0 once the socket has taken the messages', async () => {
    const socket = new WebSocket(`${base}/echo`);
    socket.binaryType = 'arraybuffer';
    const amounts: number[] = [];
    let received = 0;
    const seen = ending(socket, () => {
      socket.send(new Uint8Array(100_000));
      socket.send('é');
      amounts.push(socket.bufferedAmount);
    });
    socket.addEventListener('message', () => {
      if (++received === 2) {
        amounts.push(socket.bufferedAmount);
        socket.close();
      }
    });
    await seen;
    assert.deepEqual(amounts, [100_002, 0]);
  });

  it('close() while CONNECTING stops the handshake: the server sees its connection closed', async () => {
    // A server that accepts TCP and never answers the upgrade: only the client can end it.
    const silent = net.createServer();
    const closedByClient = new Promise<void>((resolve) =>
      silent.on('connection', (socket) => {
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      }),
    );
    const requested = new Promise<void>((resolve) =>
      silent.on('connection', (socket) => socket.once('data', () => resolve())),
    );
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
      const seen = ending(socket);
      await within(requested, 5000, 'the upgrade request');
      socket.close();
      const { events } = await seen;
      assert.deepEqual(events, ['error', 'close 1006']);
      // Within the handshake's 30 s default: it was the close() that ended it.
      await within(closedByClient, 5000, 'the client closing the half-made connection');
    } finally {
      silent.close();
    }
  });
});
