// The message API's delivery contract (issue 8), over loopback: every message exactly once, in
// order, to the consumers of the moment ('message' listeners if any, else the queue read by
// `for await` / `receive()`); leaving `for await` loses nothing; a promise nobody awaits is no
// unhandled rejection; the inbox is bounded in bytes.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, afterEach, describe, it } from 'node:test';
import {
  ConnectionClosedError,
  ReadyState,
  WebSocketServer,
  connect,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { within } from '../helpers/wait.js';

const servers: WebSocketServer[] = [];
const clients: WebSocketConnection[] = [];
afterEach(() => {
  // A test that failed may leave a stalled client: drop it rather than wait for its close.
  for (const client of clients.splice(0)) client.terminate();
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** What the test client asks the server to do, as a JSON text message. */
interface Command {
  readonly send?: readonly string[];
  /** Ping after sending: the client's 'ping' event says every message before it has arrived. */
  readonly ping?: boolean;
  readonly close?: readonly [code: number, reason: string];
}

/**
 * A server that sends `greeting` to each connection as soon as it opens, then obeys commands
 * (unless `passive`: then it neither reads nor sends). `accepted` gives the server side of each
 * connection, in order.
 */
async function scriptedServer(
  options: { greeting?: readonly string[]; passive?: boolean } & Partial<ServerOptions> = {},
): Promise<{ server: WebSocketServer; accepted: () => Promise<WebSocketConnection> }> {
  const { greeting = [], passive = false, ...serverOptions } = options;
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...serverOptions });
  servers.push(server);
  const arrived: WebSocketConnection[] = [];
  const waiting: Array<(connection: WebSocketConnection) => void> = [];
  server.on('connection', (connection) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(connection);
    else arrived.push(connection);
    if (passive) return;
    for (const message of greeting) connection.send(message).catch(() => undefined);
    void obey(connection);
  });
  const accepted = () => {
    const connection = arrived.shift();
    if (connection !== undefined) return Promise.resolve(connection);
    return within(
      new Promise<WebSocketConnection>((resolve) => waiting.push(resolve)),
      3000,
      'the server side of the connection',
    );
  };
  return { server, accepted };
}

async function obey(connection: WebSocketConnection): Promise<void> {
  try {
    for await (const message of connection) {
      if (typeof message !== 'string' || !message.startsWith('{')) continue;
      const command = JSON.parse(message) as Command;
      for (const text of command.send ?? []) await connection.send(text);
      if (command.ping === true) connection.ping().catch(() => undefined);
      if (command.close !== undefined) await connection.close(...command.close);
    }
  } catch {
    // the connection ended abnormally: nothing more to do
  }
}

async function client(url: string, options: Parameters<typeof connect>[1] = {}) {
  const connection = await within(connect(url, options), 3000, 'connect()');
  clients.push(connection);
  return connection;
}

function command(connection: WebSocketConnection, what: Command): Promise<void> {
  return connection.send(JSON.stringify(what));
}

/** Polls `condition` every 10 ms until it holds or `ms` have passed; returns whether it held. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

function nextPing(connection: WebSocketConnection): Promise<Buffer> {
  return within(
    new Promise<Buffer>((resolve) => connection.once('ping', resolve)),
    3000,
    "the client's 'ping' event",
  );
}

const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => prefix + i);

describe('delivery: message listeners', () => {
  // Finding 8: bytes that came with the 101 were delivered before `await connect()` resumed.
  it("a 'message' listener attached right after await connect() gets all 40 greeting messages, in order", async () => {
    const greeting = numbered('greeting ', 40);
    const { server } = await scriptedServer({ greeting });
    const connection = await client(server.url);
    const got: string[] = [];
    connection.on('message', (data) => got.push(data as string));
    await until(() => got.length >= greeting.length, 3000);
    assert.deepEqual(got, greeting, `${got.length} of ${greeting.length} delivered`);
    assert.equal(connection.readyState, ReadyState.OPEN);
    // The connection did not stall: it still carries messages both ways.
    await command(connection, { send: ['after the greeting'] });
    await until(() => got.length > greeting.length, 3000);
    assert.equal(got.at(-1), 'after the greeting');
  });

  // Finding 8: "0/50 for a server's greeting".
  it('a one-message greeting reaches a listener attached after await connect(), on each of 20 connections', async () => {
    const { server } = await scriptedServer({ greeting: ['hello'] });
    const received: string[][] = [];
    for (let i = 0; i < 20; i++) {
      const connection = await client(server.url);
      const got: string[] = [];
      received.push(got);
      connection.on('message', (data) => got.push(data as string));
    }
    await until(() => received.every((got) => got.length === 1), 3000);
    const delivered = received.filter((got) => got.length === 1 && got[0] === 'hello').length;
    assert.equal(delivered, 20, `greeting delivered on ${delivered} of 20 connections`);
  });

  // Delivery contract: queued messages go to the first listener, before newer ones.
  it("messages queued while nobody listened go to the first 'message' listener, before newer ones", async () => {
    const { server } = await scriptedServer();
    const connection = await client(server.url);
    const pinged = nextPing(connection);
    await command(connection, { send: ['q0', 'q1', 'q2'], ping: true });
    await pinged; // q0-q2 have arrived and wait in the queue
    const got: string[] = [];
    connection.on('message', (data) => got.push(data as string));
    await command(connection, { send: ['n0', 'n1'] });
    await until(() => got.length >= 5, 3000);
    assert.deepEqual(got, ['q0', 'q1', 'q2', 'n0', 'n1']);
  });

  // Delivery contract: listeners if any, else the queue; each message exactly once.
  it('while a listener is attached messages go to it only; once it is removed, to the queue', async () => {
    const { server } = await scriptedServer();
    const connection = await client(server.url);
    const iterator = connection[Symbol.asyncIterator]();
    const waitingNext = iterator.next(); // a consumer of the queue, waiting
    const got: string[] = [];
    const listener = (data: string | Buffer) => got.push(data as string);
    connection.on('message', listener);
    await command(connection, { send: ['a', 'b', 'c'] });
    await until(() => got.length >= 3, 3000);
    assert.deepEqual(got, ['a', 'b', 'c']);
    connection.off('message', listener);
    await command(connection, { send: ['d'] });
    const next = await within(waitingNext, 3000, 'the next message from the queue');
    assert.deepEqual(next, { done: false, value: 'd' }, 'the queue got a listened message too');
    assert.deepEqual(got, ['a', 'b', 'c']);
  });
});

describe('delivery: receive() and for await', () => {
  // Finding 9: there was no call to read one message.
  it('receive() gives the next message; once closed and drained it rejects with ConnectionClosedError', async () => {
    const { server } = await scriptedServer();
    const connection = await client(server.url);
    const first = connection.receive(); // waiting before anything arrived
    await command(connection, { send: ['text ✓', 'second'], close: [4000, 'bye'] });
    assert.equal(await within(first, 3000, 'receive()'), 'text ✓');
    const status = await within(connection.closed, 3000, 'the close');
    assert.deepEqual(status, { code: 4000, reason: 'bye', wasClean: true });
    // Closed, but a message is still queued: it is not lost.
    assert.equal(await within(connection.receive(), 3000, 'receive() after the close'), 'second');
    await assert.rejects(
      within(connection.receive(), 3000, 'receive() once drained'),
      (error: unknown) =>
        error instanceof ConnectionClosedError &&
        error.code === 4000 &&
        error.reason === 'bye' &&
        error.wasClean,
    );
  });

  // Finding 9: a pending receive() learns of the close.
  it('a receive() waiting when the connection closes rejects with ConnectionClosedError', async () => {
    const { server } = await scriptedServer();
    const connection = await client(server.url);
    const waiting = connection.receive();
    waiting.catch(() => undefined);
    await command(connection, { close: [1000, ''] });
    await assert.rejects(
      within(waiting, 3000, 'receive()'),
      (error: unknown) => error instanceof ConnectionClosedError && error.code === 1000,
    );
  });

  // Finding 9: `break` out of `for await` dropped the queued messages.
  it('break out of for await keeps the queued messages and the connection open', async () => {
    const { server } = await scriptedServer();
    const connection = await client(server.url);
    const pinged = nextPing(connection);
    const sent = numbered('m', 5);
    await command(connection, { send: sent, ping: true });
    await pinged; // all five are queued
    const firstPart: unknown[] = [];
    for await (const message of connection) {
      firstPart.push(message);
      if (firstPart.length === 2) break;
    }
    assert.deepEqual(firstPart, ['m0', 'm1']);
    assert.equal(connection.readyState, ReadyState.OPEN);
    const rest = await within(
      (async () => {
        const messages: unknown[] = [];
        for await (const message of connection) {
          messages.push(message);
          if (messages.length === 3) break;
        }
        return messages;
      })(),
      2000,
      'the three queued messages after break',
    );
    assert.deepEqual(rest, ['m2', 'm3', 'm4']);
    await command(connection, { send: ['still open'] });
    assert.equal(await within(connection.receive(), 3000, 'receive()'), 'still open');
  });
});

describe('delivery: promises nobody awaits', () => {
  // Delivery contract (finding 1): a fire-and-forget send() after the peer left.
  it('send()/ping()/pong() after the peer left: unawaited, no unhandledRejection; awaited, ConnectionClosedError', async () => {
    const { server, accepted } = await scriptedServer();
    const connection = await client(server.url);
    const serverSide = await accepted();
    connection.terminate();
    await within(serverSide.closed, 3000, 'the server side to close');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      void serverSide.send('late');
      void serverSide.send(Buffer.from('late bytes'));
      void serverSide.ping();
      void serverSide.pong();
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled.map(String), []);
    await assert.rejects(serverSide.send('late'), ConnectionClosedError);
    await assert.rejects(serverSide.ping(), ConnectionClosedError);
    await assert.rejects(serverSide.pong(), ConnectionClosedError);
  });
});

describe('delivery: the inbox is bounded in bytes', () => {
  // Finding 6 / delivery contract: the inbox was bounded by count (16 messages), not bytes.
  it('maxInboxBytes: a consumer that does not read stops the socket reading; taking the messages resumes it', async () => {
    const MESSAGE = 2 * 1024 * 1024;
    const COUNT = 15; // fewer than the old count limit (16): by count, nothing would stop
    const { server, accepted } = await scriptedServer({
      passive: true,
      maxInboxBytes: 64 * 1024,
    });
    const sender = await client(server.url, { maxQueuedBytes: 64 * 1024 * 1024 });
    const consumer = await accepted(); // neither listens nor iterates (yet)
    const sends = Array.from({ length: COUNT }, (_, i) => sender.send(Buffer.alloc(MESSAGE, i)));
    for (const sent of sends) sent.catch(() => undefined);
    // Wait until the sender's backlog stops moving (or is gone).
    let last = -1;
    for (let i = 0; i < 50 && sender.bufferedAmount !== last && sender.bufferedAmount > 0; i++) {
      last = sender.bufferedAmount;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const backlog = sender.bufferedAmount;
    // Reading stopped after about 64 KiB: what the kernel buffers of loopback hold (a few MiB)
    // can have left the sender, not the 30 MiB.
    assert.ok(
      backlog >= (COUNT * MESSAGE) / 2,
      `the sender still holds ${backlog} of ${COUNT * MESSAGE} bytes: the consumer kept reading`,
    );
    const received: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      const message = (await within(consumer.receive(), 5000, `message ${i}`)) as Buffer;
      assert.equal(message.length, MESSAGE);
      received.push(message[0]);
    }
    assert.deepEqual(
      received,
      Array.from({ length: COUNT }, (_, i) => i),
    );
    await within(Promise.all(sends), 5000, 'every send to resolve');
    assert.ok(await until(() => sender.bufferedAmount === 0, 3000), 'the backlog drained');
  });
});
