// Issue 13, in one process: topics (subscribe, unsubscribe, publish), broadcast and their
// bookkeeping, over loopback with real clients (wsnet's connect() and ws), in the event form and
// with for await. The slow-subscriber policies are in topics-slow.test.ts, compression in
// topics-deflate.test.ts, the adapter hook in topics-adapter.test.ts.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import WebSocketClient from 'ws';
import {
  InvalidArgumentError,
  WebSocketServer,
  connect,
  type Message,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { ConnectionClosedError } from '../../src/protocol/errors.js';
import { RawClient } from '../helpers/raw-client.js';
import { waitFor, within } from '../helpers/wait.js';

const FIN = 0x80;
const TEXT = 0x1;
const BINARY = 0x2;

const servers: WebSocketServer[] = [];
after(() => Promise.all(servers.splice(0).map((server) => within(server.close(), 10_000))));

/** A server whose connections are handed to `onConnection` (and kept in `accepted`, in order). */
async function startServer(
  options: Partial<ServerOptions> = {},
  onConnection: (connection: WebSocketConnection) => void = () => undefined,
) {
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  const accepted: WebSocketConnection[] = [];
  server.on('connection', (connection) => {
    accepted.push(connection);
    onConnection(connection);
  });
  /** The server side of the next connection, once it is accepted. */
  const nextAccepted = async (count: number) => {
    await waitFor(() => accepted.length >= count, 3000, `${count} accepted connections`);
    return accepted[count - 1];
  };
  return { server, accepted, nextAccepted };
}

/** Collects what a ws client receives, as [data, isBinary]. */
function wsInbox(client: WebSocketClient): Array<[Buffer, boolean]> {
  const inbox: Array<[Buffer, boolean]> = [];
  client.on('message', (data, isBinary) => inbox.push([data as Buffer, isBinary]));
  return inbox;
}

async function openWs(url: string, options: WebSocketClient.ClientOptions = {}) {
  const client = new WebSocketClient(url, options);
  const inbox = wsInbox(client);
  await within(once(client, 'open'), 3000, 'the ws client to open');
  return { client, inbox };
}

async function closeWs(client: WebSocketClient): Promise<void> {
  if (client.readyState === WebSocketClient.CLOSED) return;
  const closed = once(client, 'close');
  client.close();
  await within(closed, 5000, 'the ws client to close');
}

describe('topics: subscribe, publish, unsubscribe', () => {
  it('a message published to a topic reaches its subscribers only, wsnet (event form and for await) and ws clients alike', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      // The client says which topic it wants in its first message.
      connection.once('message', (topic) => {
        connection.subscribe(String(topic));
        void connection.send('subscribed');
      });
    });
    const events = await connect(server.url);
    const received: Message[] = [];
    events.on('message', (data) => received.push(data));
    events.send('sports').catch(() => undefined); // not awaited: the event form
    const iterating = await connect(server.url);
    await iterating.send('sports');
    const ws = await openWs(server.url);
    ws.client.send('sports');
    const other = await connect(server.url);
    await other.send('weather');
    await nextAccepted(4);
    await waitFor(
      () => server.subscriberCount('sports') === 3 && server.subscriberCount('weather') === 1,
      3000,
      'three sports subscribers and one weather',
    );
    assert.equal(server.subscriberCount('weather'), 1);
    assert.deepEqual(server.topics.sort(), ['sports', 'weather']);

    assert.equal(server.publish('sports', 'goal!'), 3);
    assert.equal(server.publish('sports', Buffer.from([1, 2, 3])), 3);
    assert.equal(server.publish('nobody', 'lost'), 0);

    const forAwait: Message[] = [];
    for await (const message of iterating) {
      forAwait.push(message);
      if (forAwait.length === 3) break;
    }
    assert.deepEqual(forAwait, ['subscribed', 'goal!', Buffer.from([1, 2, 3])]);
    await waitFor(() => received.length === 3 && ws.inbox.length === 3, 3000, 'the messages');
    assert.deepEqual(received, ['subscribed', 'goal!', Buffer.from([1, 2, 3])]);
    assert.deepEqual(
      ws.inbox.map(([data, isBinary]) => [data.toString('hex'), isBinary]),
      [
        [Buffer.from('subscribed').toString('hex'), false],
        [Buffer.from('goal!').toString('hex'), false],
        ['010203', true],
      ],
    );
    assert.equal(await other.receive(), 'subscribed');
    // Nothing of 'sports' went to the 'weather' subscriber: the next thing it gets is this.
    server.publish('weather', 'rain');
    assert.equal(await within(other.receive(), 3000), 'rain');

    await Promise.all([events.close(), iterating.close(), other.close(), closeWs(ws.client)]);
  });

  it('subscribe and unsubscribe say whether they changed anything; topics lists them in order', async () => {
    const { server, nextAccepted } = await startServer();
    const client = await connect(server.url);
    const connection = await nextAccepted(1);
    assert.deepEqual(connection.topics, []);
    assert.equal(connection.subscribe('a'), true);
    assert.equal(connection.subscribe('a'), false);
    assert.equal(connection.subscribe('b'), true);
    assert.deepEqual(connection.topics, ['a', 'b']);
    assert.equal(server.subscriberCount('a'), 1);
    assert.equal(connection.unsubscribe('a'), true);
    assert.equal(connection.unsubscribe('a'), false);
    assert.equal(connection.unsubscribe('never'), false);
    assert.deepEqual(connection.topics, ['b']);
    assert.equal(server.subscriberCount('a'), 0);
    assert.deepEqual(server.topics, ['b']);
    // A copy: changing it changes nothing.
    (connection.topics as string[]).push('c');
    assert.deepEqual(connection.topics, ['b']);
    server.publish('a', 'not for you');
    server.publish('b', 'for you');
    assert.equal(await within(client.receive(), 3000), 'for you');
    await client.close();
  });

  it('connection.publish leaves the publisher out unless includeSelf; server.publish excludes what it is told to', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      connection.subscribe('chat');
      connection.on('message', (data, isBinary) => {
        const text = String(data);
        if (text.startsWith('self:')) connection.publish('chat', data, { includeSelf: true });
        else connection.publish('chat', data, { binary: isBinary });
      });
    });
    const alice = await connect(server.url);
    const bob = await connect(server.url);
    const carol = await connect(server.url);
    await nextAccepted(3);
    await waitFor(() => server.subscriberCount('chat') === 3);

    await alice.send('hi from alice');
    assert.equal(await within(bob.receive(), 3000), 'hi from alice');
    assert.equal(await within(carol.receive(), 3000), 'hi from alice');
    await alice.send('self: echo too');
    assert.equal(await within(alice.receive(), 3000), 'self: echo too'); // not 'hi from alice'
    assert.equal(await within(bob.receive(), 3000), 'self: echo too');
    assert.equal(await within(carol.receive(), 3000), 'self: echo too');

    const [, bobOnServer] = [...server.clients];
    assert.equal(server.publish('chat', 'not bob', { exclude: bobOnServer }), 2);
    assert.equal(await within(alice.receive(), 3000), 'not bob');
    assert.equal(await within(carol.receive(), 3000), 'not bob');
    server.publish('chat', 'everyone');
    assert.equal(await within(bob.receive(), 3000), 'everyone'); // 'not bob' never came
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('binary and text keep their kind: strings, bytes as text, strings as binary, any typed array', async () => {
    const { server, nextAccepted } = await startServer({ decodeText: false }, (connection) => {
      connection.subscribe('kinds');
    });
    const client = await connect(server.url);
    const ws = await openWs(server.url);
    await nextAccepted(2);
    await waitFor(() => server.subscriberCount('kinds') === 2);
    server.publish('kinds', 'héllo');
    server.publish('kinds', Buffer.from('bytes as text'), { binary: false });
    server.publish('kinds', 'string as binary', { binary: true });
    server.publish('kinds', new Uint16Array([0x0102, 0x0304]));
    server.publish('kinds', new Uint8Array([9, 8, 7]).buffer);
    const expected: Array<[string, boolean]> = [
      ['héllo', false],
      ['bytes as text', false],
      ['string as binary', true],
      [Buffer.from(new Uint16Array([0x0102, 0x0304]).buffer).toString('latin1'), true],
      ['\x09\x08\x07', true],
    ];
    const got: Array<[string, boolean]> = [];
    client.on('message', (data, isBinary) =>
      got.push([
        isBinary ? Buffer.from(data as Buffer).toString('latin1') : String(data),
        isBinary,
      ]),
    );
    await waitFor(() => got.length === 5 && ws.inbox.length === 5, 3000, 'five messages each');
    assert.deepEqual(got, expected);
    assert.deepEqual(
      ws.inbox.map(([data, isBinary]) => [data.toString(isBinary ? 'latin1' : 'utf8'), isBinary]),
      expected,
    );
    // A text message received as bytes (decodeText: false) is published as text, as send() does.
    const [onServer] = [...server.clients];
    const textBytes = await new Promise<Message>((resolve) => {
      onServer.once('message', (data) => resolve(data));
      void client.send('relay me');
    });
    server.publish('kinds', textBytes);
    await waitFor(() => got.length === 6);
    assert.deepEqual(got[5], ['relay me', false]);
    await Promise.all([client.close(), closeWs(ws.client)]);
  });

  it('a published message is the frame send() makes, byte for byte (text, binary, large)', async () => {
    const { server, nextAccepted } = await startServer();
    const { client } = await RawClient.open(server.address().port, '/');
    const connection = await nextAccepted(1);
    connection.subscribe('t');
    const cases: Array<string | Buffer> = [
      'short',
      'x'.repeat(300), // above the size up to which header and payload are one buffer
      Buffer.alloc(70_000, 7), // a 64-bit length
      Buffer.from([0xff, 0x00]),
      '',
    ];
    for (const data of cases) {
      await connection.send(data);
      const sent = await client.readFrame();
      assert.equal(server.publish('t', data), 1);
      const published = await client.readFrame();
      assert.equal(published.flags, sent.flags);
      assert.equal(published.flags, FIN | (typeof data === 'string' ? TEXT : BINARY));
      assert.equal(published.masked, false);
      assert.ok(published.payload.equals(sent.payload));
    }
    client.destroy();
  });

  it('a message published while the subscriber sends one in fragments waits for its end (never between fragments)', async () => {
    const { server, nextAccepted } = await startServer();
    const { client } = await RawClient.open(server.address().port, '/');
    const connection = await nextAccepted(1);
    connection.subscribe('t');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    async function* fragments() {
      yield 'one, ';
      yield 'two, '; // sendStream holds a fragment back, to put FIN on the last: 'one' goes now
      await held;
      yield 'three';
    }
    const streamed = connection.sendStream(fragments());
    const first = await client.readFrame();
    assert.equal(first.flags, TEXT); // no FIN: the message goes on
    assert.equal(server.publish('t', 'published'), 1);
    assert.equal(server.publish('t', Buffer.from('and bytes')), 1);
    void connection.send('sent after');
    release();
    await within(streamed, 3000);
    assert.equal(first.payload.toString(), 'one, ');
    const rest = [];
    for (let i = 0; i < 5; i++) rest.push(await client.readFrame());
    assert.deepEqual(
      rest.map((frame) => [frame.flags, frame.payload.toString()]),
      [
        [0, 'two, '], // continuations
        [FIN, 'three'],
        [FIN | TEXT, 'published'],
        [FIN | BINARY, 'and bytes'],
        [FIN | TEXT, 'sent after'],
      ],
    );
    client.destroy();
  });

  it('broadcast reaches every open connection, or those the filter accepts', async () => {
    const { server, nextAccepted } = await startServer();
    const a = await connect(server.url);
    const ws = await openWs(server.url);
    await nextAccepted(2);
    assert.equal(server.broadcast('to all'), 2);
    assert.equal(await within(a.receive(), 3000), 'to all');
    await waitFor(() => ws.inbox.length === 1);
    assert.equal(ws.inbox[0][0].toString(), 'to all');
    const [first] = [...server.clients];
    assert.equal(server.broadcast(Buffer.from('only b'), { filter: (c) => c !== first }), 1);
    await waitFor(() => ws.inbox.length === 2);
    assert.deepEqual(ws.inbox[1], [Buffer.from('only b'), true]);
    server.broadcast('after');
    assert.equal(await within(a.receive(), 3000), 'after'); // 'only b' never came to a
    await Promise.all([a.close(), closeWs(ws.client)]);
  });
});

describe('topics: bad input', () => {
  it('refuses topics that are not strings of 1 to 1024 characters with InvalidArgumentError', async () => {
    const { server, nextAccepted } = await startServer();
    const client = await connect(server.url);
    const connection = await nextAccepted(1);
    const bad: unknown[] = ['', 'x'.repeat(1025), 42, null, undefined, Symbol('t'), {}];
    for (const topic of bad) {
      const isBad = (error: unknown) =>
        error instanceof InvalidArgumentError && /topic/.test(error.message);
      assert.throws(() => connection.subscribe(topic as string), isBad);
      assert.throws(() => connection.unsubscribe(topic as string), isBad);
      assert.throws(() => connection.publish(topic as string, 'x'), isBad);
      assert.throws(() => server.publish(topic as string, 'x'), isBad);
    }
    assert.equal(connection.subscribe('x'.repeat(1024)), true);
    assert.deepEqual(server.topics, ['x'.repeat(1024)]);
    await client.close();
  });

  it('refuses text that is not UTF-8, and data that is not bytes', async () => {
    const { server } = await startServer();
    assert.throws(
      () => server.publish('t', Buffer.from([0xc3, 0x28]), { binary: false }),
      (error: unknown) => error instanceof InvalidArgumentError && error.reason === 'INVALID_UTF8',
    );
    assert.throws(
      () => server.broadcast(Buffer.from([0xff]), { binary: false }),
      (error: unknown) => error instanceof InvalidArgumentError && error.reason === 'INVALID_UTF8',
    );
    assert.throws(() => server.publish('t', 42 as unknown as string), TypeError);
  });

  it('topics are a server connection’s: a connect() client refuses them', async () => {
    const { server } = await startServer();
    const client = await connect(server.url);
    assert.throws(() => client.subscribe('t'), InvalidArgumentError);
    assert.throws(() => client.publish('t', 'x'), InvalidArgumentError);
    assert.deepEqual(client.topics, []);
    await client.close();
  });

  it('refuses an unknown slowSubscriber policy and an adapter without its methods', () => {
    assert.throws(
      () =>
        new WebSocketServer({
          noServer: true,
          slowSubscriber: 'drop' as unknown as 'skip',
        }),
      (error: unknown) =>
        error instanceof InvalidArgumentError && /slowSubscriber/.test(error.message),
    );
    assert.throws(
      () =>
        new WebSocketServer({
          noServer: true,
          adapter: { attach() {} } as never,
        }),
      (error: unknown) =>
        error instanceof InvalidArgumentError && /no subscribe\(\) method/.test(error.message),
    );
  });
});

describe('topics: cleanup', () => {
  it('a topic goes with its last subscriber: 100,000 short-lived topics leave nothing behind', async () => {
    const { server, nextAccepted } = await startServer();
    const client = await connect(server.url);
    const connection = await nextAccepted(1);
    for (let i = 0; i < 100_000; i++) {
      assert.equal(connection.subscribe(`topic-${i}`), true);
      if (i % 2 === 0) assert.equal(connection.unsubscribe(`topic-${i}`), true);
    }
    assert.equal(server.topics.length, 50_000);
    assert.equal(connection.topics.length, 50_000);
    for (let i = 1; i < 100_000; i += 2) connection.unsubscribe(`topic-${i}`);
    assert.deepEqual(server.topics, []);
    assert.deepEqual(connection.topics, []);
    assert.equal(server.subscriberCount('topic-1'), 0);
    await client.close();
  });

  it('closed connections leave every topic by themselves, however they close', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      for (let i = 0; i < 50; i++) connection.subscribe(`room-${i}`);
      connection.subscribe(`own-${connection.remotePort}`);
    });
    const closing = await connect(server.url);
    const ws = await openWs(server.url);
    const raw = (await RawClient.open(server.address().port, '/')).client;
    const staying = await connect(server.url);
    await nextAccepted(4);
    assert.equal(server.topics.length, 54);
    assert.equal(server.subscriberCount('room-7'), 4);

    await closing.close(); // a closing handshake
    ws.client.terminate(); // a TCP close without one
    raw.reset(); // an RST
    await waitFor(() => server.clients.size === 1, 5000, 'three connections closed');
    assert.equal(server.topics.length, 51);
    assert.equal(server.subscriberCount('room-7'), 1);

    // After its close, a connection cannot subscribe again (it would be left behind).
    const [closed] = await Promise.all([nextAccepted(1)]);
    assert.throws(() => closed.subscribe('late'), ConnectionClosedError);
    assert.equal(closed.unsubscribe('room-1'), false);
    assert.equal(server.subscriberCount('late'), 0);

    await staying.close();
    await waitFor(() => server.clients.size === 0);
    assert.deepEqual(server.topics, []);
  });

  it('a closing server leaves no topic behind', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    server.on('connection', (connection) => connection.subscribe('t'));
    const clients = await Promise.all([connect(server.url), connect(server.url)]);
    await waitFor(() => server.subscriberCount('t') === 2);
    await within(server.close(), 10_000);
    assert.deepEqual(server.topics, []);
    assert.equal(server.publish('t', 'after the close'), 0);
    await Promise.all(clients.map((client) => client.closed));
  });
});

describe('topics: peers that vanish, handlers that throw', () => {
  it('a subscriber that vanishes mid-publish is skipped; the others get every message', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) =>
      connection.subscribe('feed'),
    );
    const steady = await connect(server.url);
    const received: Message[] = [];
    steady.on('message', (data) => received.push(data));
    const vanishing = (await RawClient.open(server.address().port, '/')).client;
    await nextAccepted(2);
    await waitFor(() => server.subscriberCount('feed') === 2);
    const payload = Buffer.alloc(8 * 1024, 1);
    const COUNT = 400;
    for (let i = 0; i < COUNT; i++) {
      payload.writeUInt32BE(i, 0);
      server.publish('feed', Buffer.from(payload));
      if (i === 100) vanishing.reset(); // an RST while messages are on their way
      if (i % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await waitFor(() => received.length === COUNT, 10_000, `${COUNT} messages`);
    assert.deepEqual(
      received.map((message) => (message as Buffer).readUInt32BE(0)),
      Array.from({ length: COUNT }, (_, i) => i),
    );
    await waitFor(() => server.subscriberCount('feed') === 1, 5000, 'the vanished one to leave');
    await steady.close();
  });

  it('a handler that publishes and then throws: the others get the message, the thrower is closed with 1011, nothing crashes', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      connection.subscribe('room');
      connection.on('message', (data) => {
        connection.publish('room', data);
        throw new Error('a bug after the publish');
      });
    });
    const handlerErrors: Error[] = [];
    server.on('handlerError', (error) => handlerErrors.push(error));
    const thrower = await connect(server.url);
    const listener = await connect(server.url);
    await nextAccepted(2);
    await waitFor(() => server.subscriberCount('room') === 2);
    await thrower.send('hello room');
    assert.equal(await within(listener.receive(), 3000), 'hello room');
    const status = await within(thrower.closed, 5000);
    assert.equal(status.code, 1011);
    assert.equal(handlerErrors.length, 1);
    assert.equal(handlerErrors[0].message, 'a bug after the publish');
    await waitFor(() => server.subscriberCount('room') === 1);
    await listener.close();
  });

  it('an async handler that publishes and then rejects: the same', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      connection.subscribe('room');
    });
    // An async listener, as users write them: the server catches its rejection.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    server.on('connection', async (connection) => {
      for await (const message of connection) {
        server.publish('room', `relayed: ${String(message)}`);
        throw new Error('async bug');
      }
    });
    const handlerErrors: Error[] = [];
    server.on('handlerError', (error) => handlerErrors.push(error));
    const listener = await connect(server.url);
    const thrower = await connect(server.url);
    await nextAccepted(2);
    await waitFor(() => server.subscriberCount('room') === 2);
    await thrower.send('x');
    assert.equal(await within(listener.receive(), 3000), 'relayed: x');
    assert.equal(await within(thrower.receive(), 3000), 'relayed: x');
    assert.equal((await within(thrower.closed, 5000)).code, 1011);
    assert.equal(handlerErrors[0]?.message, 'async bug');
    await listener.close();
  });

  it('a closing connection can still publish (a goodbye), and receives nothing more', async () => {
    const { server, nextAccepted } = await startServer({}, (connection) => {
      connection.subscribe('room');
      connection.on('close', () => connection.publish('room', 'someone left'));
    });
    const leaving = await connect(server.url);
    const staying = await connect(server.url);
    await nextAccepted(2);
    await waitFor(() => server.subscriberCount('room') === 2);
    await leaving.close();
    assert.equal(await within(staying.receive(), 3000), 'someone left');
    assert.equal(server.subscriberCount('room'), 1);
    await staying.close();
  });
});
