// Interop: the message API against the npm `ws` package, both ways: the `ws` client against the
// wsnet WebSocketServer, and wsnet's connect() against a `ws` WebSocketServer.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import WsClient, { WebSocketServer as WsServer } from 'ws';
import {
  connect,
  ProtocolError,
  SendQueueFullError,
  WebSocketServer,
  type WebSocketConnection,
} from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import { closeEvent, ConnectionQueue, nextMessage, tearDown, within } from '../helpers/interop.js';
import { RecordedWs } from '../helpers/ws-recorded.js';

const SIZES = [0, 125, 126, 65535, 65536, 16 << 20];
const TEXT = 'héllo wörld 😀 ✓';
/** How long a wait on a ws socket's events may take. */
const WS_WAIT_MS = 20_000;

/** Opens a `ws` client connection, bounded. */
async function openWs(url: string, protocols: string[] = []): Promise<RecordedWs> {
  const ws = new WsClient(url, protocols, { handshakeTimeout: 10_000 });
  const recorded = new RecordedWs(ws, WS_WAIT_MS);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await within(opened, 10_000, 'ws open');
  return recorded;
}

describe('interop: npm ws client → wsnet message server', () => {
  let server: WebSocketServer | undefined;
  let small: WebSocketServer | undefined;
  let connections: ConnectionQueue;
  let smallConnections: ConnectionQueue;
  const clients: WsClient[] = [];

  async function open(protocols: string[] = []) {
    const [client, accepted] = await Promise.all([
      openWs(server!.url, protocols),
      connections.next(),
    ]);
    clients.push(client.ws);
    return { client, connection: accepted.connection };
  }

  before(async () => {
    server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', protocols: ['chat.v1'] });
    connections = new ConnectionQueue(server);
    small = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', maxMessageSize: 1024 });
    smallConnections = new ConnectionQueue(small);
  });

  after(() =>
    tearDown([
      ['terminating the ws clients', () => clients.forEach((ws) => ws.terminate())],
      ['closing the server', () => server?.close()],
      ['closing the small server', () => small?.close()],
    ]),
  );

  /** The server side echoes one message; the ws side closes; both must see a clean 1000. */
  async function echo(payload: string | Buffer) {
    const { client, connection } = await open();
    client.ws.send(payload);
    const received = await nextMessage(connection);
    await connection.send(received);
    const back = await client.nextMessage();
    client.ws.close(1000);
    assert.deepEqual(await within(connection.closed, 10_000, 'server closed'), {
      code: 1000,
      reason: '',
      wasClean: true,
    });
    assert.deepEqual(await client.closed(), { code: 1000, reason: '' });
    return { received, back };
  }

  it('non-ASCII text is echoed as text', async () => {
    const { received, back } = await echo(TEXT);
    assert.equal(received, TEXT);
    assert.equal(back.isBinary, false);
    assert.equal(back.data.toString('utf8'), TEXT);
  });

  for (const size of SIZES) {
    it(`a binary message of ${size} bytes is echoed byte for byte`, async () => {
      const payload = pseudoRandomBytes(size, 0xb1a7 + size);
      const { received, back } = await echo(payload);
      assert.ok(Buffer.isBuffer(received), 'the server received a binary message');
      assert.equal(received.length, size);
      assert.ok(received.equals(payload), 'the server received the bytes ws sent');
      assert.equal(back.isBinary, true);
      assert.ok(back.data.equals(payload), 'ws received the bytes back');
    });
  }

  it("the server selects the subprotocol it supports among ws's offer", async () => {
    const { client, connection } = await open(['chat.v2', 'chat.v1']);
    assert.equal(client.ws.protocol, 'chat.v1');
    assert.equal(connection.protocol, 'chat.v1');
    await within(connection.close(), 10_000, 'close');
  });

  it('no subprotocol is selected when ws offers none', async () => {
    const { client, connection } = await open();
    assert.equal(client.ws.protocol, '');
    assert.equal(connection.protocol, '');
    await within(connection.close(), 10_000, 'close');
  });

  it("the server's close code and reason reach ws", async () => {
    const { client, connection } = await open();
    const status = await within(connection.close(4000, 'bye ✓'), 10_000, 'server close');
    assert.deepEqual(await client.closed(), { code: 4000, reason: 'bye ✓' });
    // ws answers with the same code (and reason): the server's status is what ws sent back.
    assert.equal(status.code, 4000);
    assert.equal(status.wasClean, true);
  });

  it("ws's close code and reason reach the server", async () => {
    const { client, connection } = await open();
    const onServer = closeEvent(connection);
    client.ws.close(3001, 'done');
    assert.deepEqual(await onServer, { code: 3001, reason: 'done', wasClean: true });
    assert.equal((await client.closed()).code, 3001);
  });

  it("ws answers the server's ping", async () => {
    const { client, connection } = await open();
    const rtt = await within(connection.ping('are you there?'), 10_000, 'pong');
    assert.ok(rtt >= 0);
    assert.deepEqual(client.pings, ['are you there?']);
    await within(connection.close(), 10_000, 'close');
  });

  it("the server answers ws's ping", async () => {
    const { client, connection } = await open();
    const pings: string[] = [];
    connection.on('ping', (data) => pings.push(data.toString()));
    client.ws.ping('hello?');
    await client.until('pong', () => (client.pongs.length > 0 ? true : undefined), 10_000);
    assert.deepEqual(client.pongs, ['hello?']);
    assert.deepEqual(pings, ['hello?']);
    await within(connection.close(), 10_000, 'close');
  });

  it('a message sent in fragments (sendStream) reaches ws whole, before the next one', async () => {
    const { client, connection } = await open();
    const utf8 = Buffer.from(TEXT, 'utf8');
    const emoji = utf8.indexOf(Buffer.from('😀', 'utf8'));
    // Text fragments that split a 4-byte character, yielded across turns of the event loop so
    // that a `send()` made meanwhile has to wait for the end of the message.
    async function* fragments() {
      yield utf8.subarray(0, emoji + 1);
      await nextTurn();
      yield utf8.subarray(emoji + 1, emoji + 3);
      await nextTurn();
      yield utf8.subarray(emoji + 3);
    }
    const streamed = connection.sendStream(fragments(), { binary: false });
    const after = connection.send('after');
    const binary = connection.sendStream([
      Buffer.from([1, 2]),
      new Uint8Array(0),
      Buffer.from([3]),
    ]);
    await within(Promise.all([streamed, after, binary]), 10_000, 'sends');
    const first = await client.nextMessage();
    const second = await client.nextMessage();
    const third = await client.nextMessage();
    assert.deepEqual(
      [first, second, third].map((m) => [m.isBinary, m.data.toString('hex')]),
      [
        [false, utf8.toString('hex')],
        [false, Buffer.from('after').toString('hex')],
        [true, '010203'],
      ],
    );
    await within(connection.close(), 10_000, 'close');
  });

  it('a message over maxMessageSize fails the connection with 1009, as ws sees it', async () => {
    const [client, accepted] = await Promise.all([openWs(small!.url), smallConnections.next()]);
    clients.push(client.ws);
    // The limit itself is accepted...
    client.ws.send(Buffer.alloc(1024, 7));
    const atLimit = await nextMessage(accepted.connection);
    assert.equal(atLimit.length, 1024);
    // ...one byte more is not.
    const failures: Error[] = [];
    accepted.connection.on('error', (error) => failures.push(error));
    client.ws.send(Buffer.alloc(1025, 7));
    assert.equal((await client.closed()).code, 1009);
    // The server failed the connection (RFC 6455 §7.1.7): it sent 1009 and read nothing more,
    // so the close is not clean; its status is the code it failed with, and the error says why.
    assert.deepEqual(await within(accepted.connection.closed, 10_000, 'closed'), {
      code: 1009,
      reason: '',
      wasClean: false,
    });
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof ProtocolError);
    assert.equal(failures[0].closeCode, 1009);
  });
});

describe('interop: wsnet connect() → npm ws server', () => {
  let server: WsServer | undefined;
  let url: string;
  /** The server's sockets, in the order they connected. */
  const accepted: RecordedWs[] = [];
  const connections: WebSocketConnection[] = [];

  async function open(path = '/', options: Parameters<typeof connect>[1] = {}) {
    const before = accepted.length;
    const connection = await connect(`${url}${path}`, { handshakeTimeout: 10_000, ...options });
    connections.push(connection);
    // ws emits 'connection' once it has written the 101, which may be just after connect().
    const peer = await within(
      (async () => {
        for (let turn = 0; accepted.length === before; turn++) {
          if (turn > 1000) throw new Error('no server-side socket');
          await nextTurn();
        }
        return accepted[before];
      })(),
      10_000,
      'server-side ws socket',
    );
    return { connection, peer };
  }

  before(async () => {
    server = new WsServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (offered) => (offered.has('chat.v1') ? 'chat.v1' : false),
    });
    server.on('connection', (ws, request) => {
      const recorded = new RecordedWs(ws, WS_WAIT_MS);
      // The backpressure test's peer reads nothing until told to.
      if (request.url === '/paused') ws.pause();
      accepted.push(recorded);
    });
    await within(once(server, 'listening'), 10_000, 'ws listening');
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() =>
    tearDown([
      ['terminating the connections', () => connections.forEach((c) => c.terminate())],
      ['terminating the server side', () => server?.clients.forEach((ws) => ws.terminate())],
      [
        'closing the ws server',
        () =>
          new Promise<void>((resolve, reject) => {
            if (server === undefined) return resolve();
            server.close((error) => (error ? reject(error) : resolve()));
          }),
      ],
    ]),
  );

  /** ws echoes one message; wsnet closes; both must see a clean 1000. */
  async function echo(payload: string | Uint8Array) {
    const { connection, peer } = await open();
    await within(connection.send(payload), 10_000, 'send');
    const received = await peer.nextMessage();
    peer.ws.send(received.data, { binary: received.isBinary });
    const back = await nextMessage(connection);
    const status = await within(connection.close(), 10_000, 'close');
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(await peer.closed(), { code: 1000, reason: '' });
    return { received, back };
  }

  it('non-ASCII text is echoed as text', async () => {
    const { received, back } = await echo(TEXT);
    assert.equal(received.isBinary, false);
    assert.equal(received.data.toString('utf8'), TEXT);
    assert.equal(back, TEXT);
  });

  for (const size of SIZES) {
    it(`a binary message of ${size} bytes is echoed byte for byte`, async () => {
      const payload = pseudoRandomBytes(size, 0xc0de + size);
      const { received, back } = await echo(payload);
      assert.equal(received.isBinary, true);
      assert.ok(received.data.equals(payload), 'ws received the bytes wsnet sent');
      assert.ok(Buffer.isBuffer(back), 'wsnet received a binary message');
      assert.equal(back.length, size);
      assert.ok(back.equals(payload), 'wsnet received the bytes back');
    });
  }

  it('ws selects the subprotocol it supports among the offer', async () => {
    const { connection, peer } = await open('/', { protocols: ['chat.v2', 'chat.v1'] });
    assert.equal(connection.protocol, 'chat.v1');
    assert.equal(peer.ws.protocol, 'chat.v1');
    await within(connection.close(), 10_000, 'close');
  });

  it('no subprotocol is selected when wsnet offers none', async () => {
    const { connection, peer } = await open();
    assert.equal(connection.protocol, '');
    assert.equal(peer.ws.protocol, '');
    await within(connection.close(), 10_000, 'close');
  });

  it("ws's close code and reason reach wsnet", async () => {
    const { connection, peer } = await open();
    const seen = closeEvent(connection);
    peer.ws.close(4000, 'bye ✓');
    assert.deepEqual(await seen, { code: 4000, reason: 'bye ✓', wasClean: true });
    assert.equal((await peer.closed()).code, 4000);
  });

  it("wsnet's close code and reason reach ws", async () => {
    const { connection, peer } = await open();
    const status = await within(connection.close(3001, 'done'), 10_000, 'close');
    assert.deepEqual(await peer.closed(), { code: 3001, reason: 'done' });
    assert.equal(status.code, 3001);
    assert.equal(status.wasClean, true);
  });

  it("ws answers wsnet's ping", async () => {
    const { connection, peer } = await open();
    const pongs: string[] = [];
    connection.on('pong', (data) => pongs.push(data.toString()));
    const rtt = await within(connection.ping('are you there?'), 10_000, 'pong');
    assert.ok(rtt >= 0);
    assert.deepEqual(pongs, ['are you there?']);
    assert.deepEqual(peer.pings, ['are you there?']);
    await within(connection.close(), 10_000, 'close');
  });

  it("wsnet answers ws's ping", async () => {
    const { connection, peer } = await open();
    const pings: string[] = [];
    connection.on('ping', (data) => pings.push(data.toString()));
    peer.ws.ping('hello?');
    await peer.until('pong', () => (peer.pongs.length > 0 ? true : undefined), 10_000);
    assert.deepEqual(peer.pongs, ['hello?']);
    assert.deepEqual(pings, ['hello?']);
    await within(connection.close(), 10_000, 'close');
  });

  it('a message sent in fragments (sendStream) reaches ws whole', async () => {
    const { connection, peer } = await open();
    const parts = [
      pseudoRandomBytes(70_000, 1),
      pseudoRandomBytes(1, 2),
      pseudoRandomBytes(300, 3),
    ];
    await within(connection.sendStream(parts), 10_000, 'sendStream');
    await within(connection.sendStream(['fragm', 'ented ', '✓']), 10_000, 'sendStream');
    const binary = await peer.nextMessage();
    assert.equal(binary.isBinary, true);
    assert.ok(binary.data.equals(Buffer.concat(parts)));
    const text = await peer.nextMessage();
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString('utf8'), 'fragmented ✓');
    await within(connection.close(), 10_000, 'close');
  });

  it("a message over the client's maxMessageSize fails the connection with 1009", async () => {
    const { connection, peer } = await open('/', { maxMessageSize: 1024 });
    peer.ws.send(Buffer.alloc(1024, 1));
    assert.equal((await nextMessage(connection)).length, 1024);
    const failures: Error[] = [];
    connection.on('error', (error) => failures.push(error));
    peer.ws.send(Buffer.alloc(1025, 1));
    assert.equal((await peer.closed()).code, 1009);
    // As on the server side: the client failed the connection with 1009, not cleanly.
    assert.deepEqual(await within(connection.closed, 10_000, 'closed'), {
      code: 1009,
      reason: '',
      wasClean: false,
    });
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof ProtocolError);
    assert.equal(failures[0].closeCode, 1009);
  });

  it('backpressure: sends to a peer that reads nothing wait, and the queue stays bounded', async () => {
    const chunk = 64 * 1024;
    const maxQueuedBytes = 1024 * 1024;
    const { connection, peer } = await open('/paused', { maxQueuedBytes });
    const settled: Array<'pending' | 'sent' | Error> = [];
    const sends: Array<Promise<void>> = [];
    let refused: unknown;
    let largestBuffered = 0;
    // 4096 × 64 KiB = 256 MiB: far more than the kernel's buffers; the queue must refuse long
    // before. Each send gets a turn of the event loop so that the socket can flush meanwhile.
    for (let i = 0; i < 4096 && refused === undefined; i++) {
      const payload = Buffer.alloc(chunk, i & 0xff);
      payload.writeUInt32BE(i);
      const index = settled.push('pending') - 1;
      const sent = connection.send(payload).then(
        () => void (settled[index] = 'sent'),
        (error: unknown) => {
          settled[index] = error instanceof Error ? error : new Error(String(error));
          refused ??= error;
        },
      );
      sends.push(sent);
      largestBuffered = Math.max(largestBuffered, connection.bufferedAmount);
      await nextTurn();
    }
    assert.ok(refused instanceof SendQueueFullError, `refused with ${String(refused)}`);
    const accepted = settled.filter((s) => !(s instanceof Error)).length;
    assert.equal(settled.filter((s) => s instanceof Error).length, 1, 'only the last send failed');
    // What the socket could not take waits in the queue, which never outgrows its limit (plus
    // what the socket's own buffer holds: at most a frame past its high-water mark).
    assert.ok(
      largestBuffered <= maxQueuedBytes + 2 * (chunk + 16) + 16 * 1024,
      `bufferedAmount reached ${largestBuffered}`,
    );
    assert.ok(accepted * chunk < 128 * 1024 * 1024, `${accepted} sends accepted`);
    // While the peer reads nothing, the queued sends stay pending.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const pending = settled.filter((s) => s === 'pending').length;
    assert.ok(pending > 0, 'some sends wait for the socket');
    assert.ok(pending * chunk <= maxQueuedBytes, `${pending} sends pending`);

    // Once the peer reads again, every accepted send completes and arrives, in order.
    peer.ws.resume();
    await within(Promise.all(sends), 20_000, 'queued sends');
    assert.equal(settled.filter((s) => s === 'sent').length, accepted);
    await peer.until('all messages', () => (peer.messages.length >= accepted ? true : undefined));
    assert.deepEqual(
      peer.messages.map((m) => m.data.readUInt32BE()),
      Array.from({ length: accepted }, (_, i) => i),
    );
    assert.ok(peer.messages.every((m) => m.isBinary && m.data.length === chunk));
    await within(connection.close(), 10_000, 'close');
  });
});
