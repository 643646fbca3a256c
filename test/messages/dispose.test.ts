// `await using` on the message API: a server and a connection close when their block ends, over
// real loopback sockets; disposing of what is already closed does nothing; an error of the block
// is what the block throws.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import WebSocketClient from 'ws';
import {
  ReadyState,
  WebSocketServer,
  computeAccept,
  connect,
  type CloseStatus,
  type WebSocketConnection,
} from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { within, refusesConnections } from '../helpers/wait.js';

/** A ws client connected to `url`, and the close it will see. */
async function wsClient(url: string) {
  const client = new WebSocketClient(url);
  const closed = new Promise<[number, string]>((resolve) =>
    client.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
  );
  await within(
    new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)),
    5000,
    'the handshake',
  );
  return { client, closed };
}

/** The server side of the next connection to `server`. */
function nextConnection(server: WebSocketServer): Promise<WebSocketConnection> {
  return within(
    new Promise<WebSocketConnection>((resolve) => server.once('connection', resolve)),
    5000,
    'the connection',
  );
}

describe('await using: the message API', () => {
  it('a WebSocketServer closes at the end of its block: 1001 to its clients, then the port is closed', async () => {
    let port: number;
    let client: Awaited<ReturnType<typeof wsClient>>;
    let disposed: WebSocketServer;
    {
      await using server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
      disposed = server;
      port = server.address().port;
      const accepted = nextConnection(server);
      client = await wsClient(server.url);
      await accepted;
      assert.equal(server.clients.size, 1);
    }
    // The block waited for the close: the client has its close frame already.
    assert.deepEqual(await within(client.closed, 1000, 'the client close'), [1001, '']);
    assert.equal(disposed.clients.size, 0);
    assert.ok(await refusesConnections(port), 'the port still accepts connections');
  });

  it('a connection closes at the end of its block with 1000, and waits for the handshake', async () => {
    await using server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    const accepted = nextConnection(server);
    let client: WebSocketConnection;
    let peer: WebSocketConnection;
    {
      await using connection = await connect(server.url);
      client = connection;
      peer = await accepted;
      await connection.send('inside the block');
      assert.equal(await peer.receive(), 'inside the block');
    }
    // The closing handshake was over when the block ended: both sides saw a clean 1000.
    assert.equal(client.readyState, ReadyState.CLOSED);
    const status: CloseStatus = await client.closed;
    assert.deepEqual([status.code, status.wasClean], [1000, true]);
    const peerStatus = await within(peer.closed, 1000, "the server side's close");
    assert.deepEqual([peerStatus.code, peerStatus.wasClean], [1000, true]);
  });

  it('a server-side connection disposed of in a handler closes with 1000', async () => {
    await using server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    // An async 'connection' listener, as the README's servers are (the server handles its promise).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    server.on('connection', async (connection) => {
      await using conversation = connection;
      await conversation.send(String(await conversation.receive()).toUpperCase());
    });
    const { client, closed } = await wsClient(server.url);
    const reply = new Promise<string>((resolve) =>
      client.once('message', (data: Buffer) => resolve(data.toString())),
    );
    client.send('hello');
    assert.equal(await within(reply, 5000, 'the reply'), 'HELLO');
    assert.deepEqual(await within(closed, 5000, 'the close'), [1000, '']);
  });

  it('disposal of a connection whose peer never answers the close ends after closeTimeout', async () => {
    // A peer that completes the handshake and then reads nothing and answers nothing.
    const silent = net.createServer((socket) => {
      socket.once('data', (request: Buffer) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? '';
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`,
        );
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      let client: WebSocketConnection;
      await within(
        (async () => {
          await using connection = await connect(`ws://127.0.0.1:${port}/`, {
            closeTimeout: 200,
          });
          client = connection;
        })(),
        5000,
        'the disposal',
      );
      // The disposal waited for the end: closed when the block was left, without an answer.
      assert.equal(client!.readyState, ReadyState.CLOSED);
      assert.equal((await client!.closed).wasClean, false, 'no close frame came back');
    } finally {
      silent.close();
    }
  });

  it('disposing of what is already closed does nothing, and never throws', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    const accepted = nextConnection(server);
    const connection = await connect(server.url);
    const peer = await accepted;
    const status = await connection.close(4000, 'done');
    await connection[Symbol.asyncDispose]();
    await connection[Symbol.asyncDispose]();
    assert.deepEqual((await connection.closed).code, 4000, 'the close that happened stands');
    assert.equal((await peer.closed).code, 4000);
    assert.equal(status.code, 4000);

    // A terminated connection too.
    const accepted2 = nextConnection(server);
    const dropped = await connect(server.url);
    await accepted2;
    dropped.terminate();
    await dropped[Symbol.asyncDispose]();
    assert.equal((await dropped.closed).code, 1006);

    await server.close();
    await server[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    assert.equal(server.clients.size, 0);
  });

  it("the block's own error is what the block throws; the resources are closed all the same", async () => {
    const blockError = new Error('the block failed');
    let port = 0;
    let client: WebSocketConnection | undefined;
    await assert.rejects(
      async () => {
        await using listening = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
        port = listening.address().port;
        await using connection = await connect(listening.url);
        client = connection;
        throw blockError;
      },
      (error) => error === blockError,
    );
    assert.equal(client!.readyState, ReadyState.CLOSED);
    assert.equal((await client!.closed).code, 1000);
    assert.ok(await refusesConnections(port), 'the port still accepts connections');
  });

  it('a raw peer sees the server close over TCP when the server block ends', async () => {
    let port: number;
    let raw: RawClient;
    {
      await using server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
      port = server.address().port;
      const accepted = nextConnection(server);
      ({ client: raw } = await RawClient.open(port, '/'));
      await accepted;
      // This peer answers the close frame, as RFC 6455 §5.5.1 wants.
      void raw.readFrame().then((frame) => raw.sendFrame(0x88, frame.payload));
    }
    await raw.closed(1000);
    assert.ok(await refusesConnections(port));
  });
});
