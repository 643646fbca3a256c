// Issue 13: the adapter hook (PubSubAdapter / PubSubHost), proved with a small in-test adapter
// that relays between two WebSocketServers of this process as a broker would (asynchronously,
// to the servers that listen to the topic, never back to the one that published). What the
// server calls and when, what it does with what is delivered to it, and that an adapter's
// failure is an 'adapterError', never a crash.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import {
  WebSocketServer,
  connect,
  type Message,
  type PubSubAdapter,
  type PubSubHost,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { waitFor, within } from '../helpers/wait.js';

/** The in-test broker: the adapters attached to it. */
class Bus {
  readonly adapters = new Set<BusAdapter>();
}

class BusAdapter implements PubSubAdapter {
  host: PubSubHost | undefined;
  readonly topics = new Set<string>();
  /** Every call the server made, in order (payloads as text). */
  readonly calls: string[] = [];
  readonly #bus: Bus;
  /** Make the next call of this name throw (an adapter with a bug). */
  failOn: string | undefined;

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  attach(host: PubSubHost): void {
    this.calls.push('attach');
    this.host = host;
    this.#bus.adapters.add(this);
  }

  subscribe(topic: string): void {
    this.calls.push(`subscribe ${topic}`);
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.calls.push(`unsubscribe ${topic}`);
    this.topics.delete(topic);
  }

  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void {
    this.calls.push(`publish ${topic} ${payload.toString()} ${binary} ${String(compress)}`);
    if (this.failOn === 'publish') {
      this.failOn = undefined;
      throw new Error('the broker is down');
    }
    const bytes = Buffer.from(payload); // what crosses a broker is a copy
    for (const other of this.#bus.adapters)
      if (other !== this && other.topics.has(topic))
        setImmediate(() => other.host!.deliver(topic, bytes, binary, compress));
  }

  close(): Promise<void> {
    this.calls.push('close');
    this.#bus.adapters.delete(this);
    this.topics.clear();
    return Promise.resolve();
  }
}

const servers: WebSocketServer[] = [];
after(() => Promise.all(servers.splice(0).map((server) => within(server.close(), 10_000))));

/**
 * A server on the bus whose connections subscribe to the topics their URL's query names
 * (`?room,other`), and publish what they send to their first topic.
 */
async function busServer(bus: Bus) {
  const adapter = new BusAdapter(bus);
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', adapter });
  servers.push(server);
  server.on('connection', (connection, request) => {
    const query = (request.url ?? '').split('?')[1] ?? '';
    const topics = query.split(',').filter((topic) => topic !== '');
    for (const topic of topics) connection.subscribe(topic);
    connection.on('message', (data) => connection.publish(topics[0], data));
  });
  return { server, adapter, url: (query: string) => `${server.url}?${query}` };
}

async function client(url: string) {
  const connection = await connect(url);
  const got: Message[] = [];
  connection.on('message', (data) => got.push(data));
  return { connection, got };
}

describe('the adapter hook', () => {
  it('a message published on either server reaches every subscriber on both, exactly once, in order', async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    const b = await busServer(bus);
    const a1 = await client(a.url('room'));
    const b1 = await client(b.url('room'));
    const b2 = await client(b.url('room'));
    const b3 = await client(b.url('other'));
    await waitFor(
      () => a.server.subscriberCount('room') === 1 && b.server.subscriberCount('room') === 2,
    );
    await waitFor(() => b.server.subscriberCount('other') === 1);

    for (let i = 0; i < 10; i++) {
      a.server.publish('room', `a${i}`);
      b.server.publish('room', Buffer.from(`b${i}`));
    }
    await b1.connection.send('from b1'); // connection.publish: everyone but b1
    const expected = (mine: boolean) => [
      ...Array.from({ length: 10 }, (_, i) => `a${i}`),
      ...Array.from({ length: 10 }, (_, i) => `b${i}`),
      ...(mine ? [] : ['from b1']),
    ];
    const settled = () => a1.got.length === 21 && b1.got.length === 20 && b2.got.length === 21;
    await waitFor(settled, 5000, 'every message on both servers');
    const text = (got: Message[]) => got.map(String);
    // Per publisher, in order; each message once.
    for (const [got, mine] of [
      [a1.got, false],
      [b1.got, true],
      [b2.got, false],
    ] as const) {
      assert.deepEqual(
        text(got).filter((m) => m.startsWith('a')),
        expected(mine).filter((m) => m.startsWith('a')),
      );
      assert.deepEqual(
        text(got).filter((m) => m.startsWith('b')),
        expected(mine).filter((m) => m.startsWith('b')),
      );
      assert.deepEqual(
        text(got).filter((m) => m.startsWith('from')),
        mine ? [] : ['from b1'],
      );
    }
    // Kinds are kept across the adapter.
    assert.equal(typeof a1.got[a1.got.findIndex((m) => String(m) === 'b0')], 'object');
    assert.equal(typeof b2.got[b2.got.findIndex((m) => String(m) === 'a0')], 'string');
    assert.deepEqual(b3.got, []);
    await Promise.all([a1, b1, b2, b3].map(({ connection }) => connection.close()));
  });

  it('the server calls attach, subscribe on a first subscriber, unsubscribe on the last, publish after each publish, close at the end', async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    assert.deepEqual(a.adapter.calls, ['attach', 'subscribe ']); // '' carries broadcasts
    const one = await client(a.url('room,side'));
    const two = await client(a.url('room'));
    await waitFor(() => a.server.subscriberCount('room') === 2);
    a.server.publish('room', 'hello', { compress: false });
    a.server.publish('nobody', Buffer.from('bytes'));
    a.server.broadcast('to all');
    a.server.broadcast('filtered', { filter: () => true });
    await one.connection.close();
    await waitFor(() => a.server.subscriberCount('room') === 1);
    await two.connection.close();
    await waitFor(() => a.server.topics.length === 0);
    assert.deepEqual(a.adapter.calls, [
      'attach',
      'subscribe ',
      'subscribe room',
      'subscribe side',
      'publish room hello false false',
      'publish nobody bytes true undefined',
      'publish  to all false undefined',
      'unsubscribe side',
      'unsubscribe room',
    ]);
    await a.server.close();
    assert.equal(a.adapter.calls.at(-1), 'close');
    const callsAtClose = a.adapter.calls.length;
    a.server.publish('room', 'after the close');
    assert.equal(a.adapter.calls.length, callsAtClose);
  });

  it('a broadcast without a filter reaches the other servers’ connections too', async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    const b = await busServer(bus);
    const onA = await client(a.url('x'));
    const onB = await client(b.url('y'));
    const ws = await client(b.url(''));
    await waitFor(() => b.server.clients.size === 2 && a.server.clients.size === 1);
    assert.equal(a.server.broadcast('everyone'), 1);
    await waitFor(() => onB.got.length === 1 && ws.got.length === 1 && onA.got.length === 1);
    assert.deepEqual([onA.got, onB.got, ws.got], [['everyone'], ['everyone'], ['everyone']]);
    await Promise.all([onA, onB, ws].map(({ connection }) => connection.close()));
  });

  it("what the adapter delivers is checked: text that is not UTF-8, a bad topic and the adapter's own errors are 'adapterError's", async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    const errors: Error[] = [];
    a.server.on('adapterError', (error) => errors.push(error));
    const sub = await client(a.url('room'));
    await waitFor(() => a.server.subscriberCount('room') === 1);
    const host = a.adapter.host!;
    host.deliver('room', Buffer.from([0xc3, 0x28]), false, undefined);
    host.deliver('x'.repeat(2000), Buffer.from('too long a topic'), false, undefined);
    host.reportError(new Error('lost the broker'));
    host.deliver('room', Buffer.from('fine'), false, undefined);
    await waitFor(() => sub.got.length === 1);
    assert.deepEqual(sub.got, ['fine']); // and nothing of the refused ones
    assert.equal(errors.length, 3);
    assert.match(errors[0].message, /UTF-8/);
    assert.match(errors[1].message, /topic/);
    assert.equal(errors[2].message, 'lost the broker');
    // An adapter that throws: reported, and local delivery goes on.
    a.adapter.failOn = 'publish';
    assert.equal(a.server.publish('room', 'still local'), 1);
    await waitFor(() => sub.got.length === 2);
    assert.equal(sub.got[1], 'still local');
    assert.equal(errors[3].message, 'the broker is down');
    await sub.connection.close();
  });

  it('without an adapterError listener, an adapter failure is a process warning, not a crash', async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    const warning = once(process, 'warning');
    a.adapter.host!.reportError(new Error('nobody listens'));
    const [reported] = (await within(warning, 3000)) as [Error];
    assert.equal(reported.message, 'nobody listens');
  });

  it('an attach that fails: listen() rejects (and releases the adapter); new WebSocketServer() emits adapterError', async () => {
    let closed = 0;
    const failing = (): PubSubAdapter => ({
      attach: () => Promise.reject(new Error('cannot reach the broker')),
      subscribe: () => undefined,
      unsubscribe: () => undefined,
      publish: () => undefined,
      close: () => {
        closed++;
        return Promise.resolve();
      },
    });
    await assert.rejects(
      WebSocketServer.listen({ port: 0, host: '127.0.0.1', adapter: failing() }),
      /cannot reach the broker/,
    );
    assert.equal(closed, 1);
    const server = new WebSocketServer({ noServer: true, adapter: failing() });
    const [error] = (await within(once(server, 'adapterError'), 3000)) as [Error];
    assert.match(error.message, /cannot reach the broker/);
    await server.close();
    assert.equal(closed, 2);
  });

  it('a subscriber on one server does not get what it publishes back through the adapter', async () => {
    const bus = new Bus();
    const a = await busServer(bus);
    const b = await busServer(bus);
    const sender = await client(a.url('room'));
    const peer = await client(b.url('room'));
    await waitFor(
      () => a.server.subscriberCount('room') === 1 && b.server.subscriberCount('room') === 1,
    );
    await sender.connection.send('hi');
    await waitFor(() => peer.got.length === 1);
    // A later message the sender should get proves that 'hi' did not come back before it.
    a.server.publish('room', 'marker');
    await waitFor(() => sender.got.length > 0);
    assert.deepEqual(sender.got, ['marker']);
    const senderOnA: WebSocketConnection = [...a.server.clients][0];
    assert.deepEqual(senderOnA.topics, ['room']);
    await Promise.all([sender.connection.close(), peer.connection.close()]);
  });
});
