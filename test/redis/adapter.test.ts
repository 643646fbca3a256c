// RedisAdapter against one real redis-server: three adapters with recording hosts stand for three
// servers in different processes (each adapter has its own connections and origin id).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { RedisAdapter, RedisAdapterError } from '../../src/redis/index.js';
import { RecordingHost } from '../helpers/pubsub-host.js';
import { RedisServer } from '../helpers/redis-server.js';
import { waitFor, within } from '../helpers/wait.js';

let redis: RedisServer;
const open: RedisAdapter[] = [];

/** An adapter attached to a new recording host; closed after the test. */
async function server(
  options: Partial<ConstructorParameters<typeof RedisAdapter>[0]> = {},
): Promise<{ adapter: RedisAdapter; host: RecordingHost }> {
  const adapter = new RedisAdapter({ url: redis.url, ...options });
  const host = new RecordingHost();
  open.push(adapter);
  await within(Promise.resolve(adapter.attach(host)), 10_000, 'attach');
  return { adapter, host };
}

async function subscribed(adapter: RedisAdapter, ...topics: string[]): Promise<void> {
  for (const topic of topics) adapter.subscribe(topic);
  await within(adapter.settled(), 10_000, 'the subscriptions');
}

/** Subscribers of a channel, as Redis counts them. */
async function numsub(channel: string): Promise<number> {
  const lines = (await redis.cli(['pubsub', 'numsub', channel])).trim().split('\n');
  return Number(lines[1]);
}

/** Connections named by a RedisAdapter, from CLIENT LIST. */
async function adapterConnections(): Promise<string[]> {
  return (await redis.cli(['client', 'list']))
    .split('\n')
    .filter((line) => / name=wsnet-(publish|subscribe) /.test(line));
}

/** Polls CLIENT LIST (bounded) until it shows `count` adapter connections. */
async function untilConnections(count: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await adapterConnections()).length !== count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

const text = (s: string) => Buffer.from(s, 'utf8');

before(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((adapter) => adapter.close()));
});
after(async () => {
  await redis?.stop();
});

describe('RedisAdapter on one redis-server', () => {
  it('delivers every message once, in order, with its flags, to every other server subscribed', async () => {
    const a = await server();
    const b = await server();
    const c = await server();
    await subscribed(a.adapter, 'news');
    await subscribed(b.adapter, 'news');
    await subscribed(c.adapter, 'news');
    const count = 300;
    const flags = (i: number) => ({
      binary: i % 3 === 0,
      compress: i % 4 === 0 ? undefined : i % 4 === 1,
    });
    for (let i = 0; i < count; i++) {
      const { binary, compress } = flags(i);
      a.adapter.publish('news', text(`message ${i}`), binary, compress);
    }
    await b.host.waitForDelivered(count);
    await c.host.waitForDelivered(count);
    for (const host of [b.host, c.host]) {
      assert.deepEqual(
        host.texts('news'),
        Array.from({ length: count }, (_, i) => `message ${i}`),
      );
      host.delivered.forEach((m, i) => {
        assert.deepEqual({ binary: m.binary, compress: m.compress }, flags(i), `message ${i}`);
      });
    }
    // A's own messages came back to it from Redis and were dropped: B's reply shows A listens.
    b.adapter.publish('news', text('from b'), false, undefined);
    await a.host.waitForDelivered(1);
    await c.host.waitForDelivered(count + 1);
    assert.deepEqual(a.host.texts(), ['from b']);
    assert.equal(b.host.delivered.length, count, 'B ignores its own message too');
    assert.deepEqual([a.host.errors, b.host.errors, c.host.errors], [[], [], []]);
  });

  it('keeps the order of each publisher when two publish at once', async () => {
    const a = await server();
    const b = await server();
    const c = await server();
    await subscribed(c.adapter, 'mix');
    for (let i = 0; i < 200; i++) {
      a.adapter.publish('mix', text(`a${i}`), false, undefined);
      b.adapter.publish('mix', text(`b${i}`), true, undefined);
    }
    await c.host.waitForDelivered(400);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(c.host.delivered.length, 400, 'nothing twice');
    const texts = c.host.texts();
    for (const who of ['a', 'b'])
      assert.deepEqual(
        texts.filter((t) => t.startsWith(who)),
        Array.from({ length: 200 }, (_, i) => `${who}${i}`),
      );
    assert.ok(c.host.delivered.every((m) => m.binary === m.text.startsWith('b')));
  });

  it('carries binary payloads byte for byte, empty ones included', async () => {
    const a = await server();
    const b = await server();
    await subscribed(b.adapter, 'bytes');
    const payloads = [Buffer.alloc(0), Buffer.from([0, 255, 1, 254]), Buffer.alloc(256 * 1024, 7)];
    for (const payload of payloads) a.adapter.publish('bytes', payload, true, undefined);
    await b.host.waitForDelivered(payloads.length);
    assert.deepEqual(
      b.host.delivered.map((m) => m.payload),
      payloads,
    );
  });

  it('listens to a topic only while the server has local subscribers', async () => {
    const a = await server();
    const b = await server();
    const sentinel = await server();
    assert.equal(await numsub('wsnet:room'), 0, 'no channel before the first subscriber');
    await subscribed(b.adapter, 'room');
    await subscribed(sentinel.adapter, 'room');
    assert.equal(await numsub('wsnet:room'), 2);
    a.adapter.publish('room', text('one'), false, undefined);
    await b.host.waitForDelivered(1);
    b.adapter.unsubscribe('room');
    await within(b.adapter.settled(), 10_000, 'the unsubscribe');
    assert.equal(await numsub('wsnet:room'), 1, 'only the sentinel is left');
    a.adapter.publish('room', text('two'), false, undefined);
    // The sentinel got "two": had B still listened, it would have had it by then too.
    await sentinel.host.waitForDelivered(2);
    assert.deepEqual(b.host.texts(), ['one']);
    // Subscribing again picks the topic up again.
    await subscribed(b.adapter, 'room');
    a.adapter.publish('room', text('three'), false, undefined);
    await b.host.waitForDelivered(2);
    assert.deepEqual(b.host.texts(), ['one', 'three']);
  });

  it('keeps topics apart, and servers with another channelPrefix apart', async () => {
    const a = await server();
    const b = await server();
    const other = await server({ channelPrefix: 'other-app:' });
    await subscribed(b.adapter, 'x', 'y');
    await subscribed(other.adapter, 'x');
    a.adapter.publish('x', text('to x'), false, undefined);
    a.adapter.publish('y', text('to y'), false, undefined);
    a.adapter.publish('z', text('to z'), false, undefined);
    other.adapter.publish('y', text('other y'), false, undefined);
    await b.host.waitForDelivered(2);
    assert.equal(await numsub('other-app:x'), 1);
    // A marker published last by A and by `other` shows everything before it has arrived.
    await subscribed(b.adapter, 'marker');
    await subscribed(other.adapter, 'marker');
    a.adapter.publish('marker', text('end'), false, undefined);
    await b.host.waitForDelivered(3);
    assert.deepEqual(
      b.host.delivered.map((m) => `${m.topic}:${m.text}`),
      ['x:to x', 'y:to y', 'marker:end'],
    );
    assert.deepEqual(other.host.delivered, [], 'another prefix is another namespace');
  });

  it('reports garbage published on a wsnet channel and goes on delivering', async () => {
    const a = await server();
    const b = await server();
    await subscribed(b.adapter, 'g');
    await redis.cli(['publish', 'wsnet:g', 'not an envelope']);
    await redis.cli(['publish', 'wsnet:g', '']);
    const error = await b.host.waitForError('malformed');
    assert.ok(error instanceof RedisAdapterError);
    assert.match(error.message, /wsnet:g.*not a wsnet envelope/);
    a.adapter.publish('g', text('valid'), false, undefined);
    await b.host.waitForDelivered(1);
    await waitFor(() => b.host.errorsOf('malformed').length === 2, 5000, 'both reports');
    assert.deepEqual(b.host.texts(), ['valid']);
  });

  it('reports a deliver() that throws, and delivers the next message', async () => {
    const a = await server();
    const b = await server();
    await subscribed(b.adapter, 't');
    b.host.onDeliver = (m) => {
      if (m.text === 'boom') throw new Error('handler failed');
    };
    a.adapter.publish('t', text('boom'), false, undefined);
    a.adapter.publish('t', text('after'), false, undefined);
    await b.host.waitForDelivered(2);
    const error = await b.host.waitForError('deliver');
    assert.equal((error.cause as Error).message, 'handler failed');
  });

  it('close() unsubscribes and quits: no connection of it is left (CLIENT LIST)', async () => {
    const before = (await adapterConnections()).length;
    const a = await server();
    const b = await server();
    await subscribed(a.adapter, 'c1', 'c2');
    b.adapter.publish('c1', text('hi'), false, undefined);
    await a.host.waitForDelivered(1);
    await untilConnections(before + 4);
    assert.equal((await adapterConnections()).length, before + 4, 'two connections each');
    await within(a.adapter.close(), 10_000, 'close');
    await within(b.adapter.close(), 10_000, 'close');
    // Redis drops a client a moment after its QUIT.
    await untilConnections(before);
    assert.deepEqual(await adapterConnections(), []);
    assert.equal(await numsub('wsnet:c1'), 0);
    // A publish after close is reported, not thrown.
    b.adapter.publish('c1', text('late'), false, undefined);
    assert.equal(b.host.errorsOf('dropped').length, 1);
    assert.deepEqual(a.host.errors, []);
  });

  it('rejects bad options with a clear error', () => {
    assert.throws(() => new RedisAdapter({}), /exactly one of `url` and `cluster`/);
    assert.throws(
      () => new RedisAdapter({ url: redis.url, cluster: { urls: [redis.url] } }),
      /exactly one/,
    );
    assert.throws(() => new RedisAdapter({ url: 'not a url' }), TypeError);
    assert.throws(() => new RedisAdapter({ cluster: { urls: [] } }), /names no node/);
    assert.throws(() => new RedisAdapter({ cluster: { urls: ['http://x:1'] } }), /redis:\/\//);
    assert.throws(
      () => new RedisAdapter({ cluster: { urls: [redis.url] }, channelPrefix: '{app}:' }),
      /hash tag/,
    );
    assert.throws(
      () => new RedisAdapter({ url: redis.url, maxBufferedBytes: -1 }),
      /maxBufferedBytes/,
    );
  });
});
