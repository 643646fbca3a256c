// RedisAdapter when Redis goes away: killed and restarted on the same port, or never reachable.
// The adapter reconnects and re-subscribes by itself; what is published meanwhile follows the
// bounded policy (held up to maxBufferedBytes, in order; past it dropped and reported); nothing
// is thrown, no 'error' event goes unhandled, no promise is left rejected.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { RedisAdapter, RedisAdapterError } from '../../src/redis/index.js';
import { HEADER_LENGTH } from '../../src/redis/envelope.js';
import { RecordingHost } from '../helpers/pubsub-host.js';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { TcpGate } from '../helpers/tcp-gate.js';
import { waitFor, within } from '../helpers/wait.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const open: RedisAdapter[] = [];

async function server(url: string, maxBufferedBytes?: number) {
  const adapter = new RedisAdapter({
    url,
    ...(maxBufferedBytes === undefined ? {} : { maxBufferedBytes }),
  });
  const host = new RecordingHost();
  open.push(adapter);
  await within(Promise.resolve(adapter.attach(host)), 10_000, 'attach');
  return { adapter, host };
}

async function numsub(redis: RedisServer, channel: string): Promise<number> {
  return Number((await redis.cli(['pubsub', 'numsub', channel])).trim().split('\n')[1]);
}

async function untilNumsub(redis: RedisServer, channel: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await numsub(redis, channel)) !== count) {
    if (Date.now() > deadline) throw new Error(`${channel} never had ${count} subscribers`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((adapter) => within(adapter.close(), 10_000, 'close')));
});
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});

describe('RedisAdapter faults', () => {
  it('Redis killed and restarted on its port: reconnects, re-subscribes, flushes what it held in order, reports what it dropped', async () => {
    const redis = await RedisServer.start();
    // A reaches Redis through a gate, so that the test can let it back in after B has
    // re-subscribed: what A flushes then has a listener (Redis pub/sub keeps nothing).
    const gate = await TcpGate.start(redis.port);
    try {
      const held = 3;
      const a = await server(`redis://127.0.0.1:${gate.port}`, held * (HEADER_LENGTH + 4));
      const b = await server(redis.url);
      a.adapter.subscribe('back');
      await within(a.adapter.settled(), 10_000, "A's subscription");
      b.adapter.subscribe('f');
      await within(b.adapter.settled(), 10_000, "B's subscription");
      a.adapter.publish('f', Buffer.from('before'), false, undefined);
      await b.host.waitForDelivered(1);

      gate.shut();
      await redis.kill();
      await a.host.waitForError('connection');
      await b.host.waitForError('connection');
      // Redis is down: A's server goes on publishing (delivered locally by the server itself).
      for (let i = 0; i < 10; i++) a.adapter.publish('f', Buffer.from(`q00${i}`), false, undefined);
      const firstDrop = await a.host.waitForError('dropped');
      assert.equal((firstDrop as RedisAdapterError).dropped, 1, 'the first drop is said at once');

      // B's topics churn while Redis is down: what it listens to after the reconnect is what it
      // wants then, whatever came and went meanwhile.
      for (let i = 0; i < 1000; i++) {
        b.adapter.subscribe(`churn-${i}`);
        b.adapter.unsubscribe(`churn-${i}`);
      }
      b.adapter.subscribe('joined-while-down');

      await redis.restart();
      await untilNumsub(redis, 'wsnet:f', 1); // B re-subscribed by itself
      await within(b.adapter.settled(), 10_000, "B's re-subscription");
      assert.equal(await numsub(redis, 'wsnet:joined-while-down'), 1);
      assert.equal((await redis.cli(['pubsub', 'channels', 'wsnet:churn-*'])).trim(), '');
      gate.open();
      await b.host.waitForDelivered(1 + held);
      await waitFor(() => a.host.errorsOf('dropped').length === 2, 15_000, 'the drop total');
      const total = a.host.errorsOf('dropped')[1] as RedisAdapterError;
      assert.equal(total.dropped, 10 - held);
      assert.match(total.message, /7 publishes \(154 bytes\) were dropped/);

      a.adapter.publish('f', Buffer.from('after'), false, undefined);
      await b.host.waitForDelivered(2 + held);
      assert.deepEqual(b.host.texts(), ['before', 'q000', 'q001', 'q002', 'after']);

      // A's subscribing connection came back through the gate and re-subscribed too.
      await untilNumsub(redis, 'wsnet:back', 1);
      b.adapter.publish('back', Buffer.from('to a'), true, true);
      await a.host.waitForDelivered(1);
      assert.deepEqual(
        a.host.delivered.map((m) => [m.text, m.binary, m.compress]),
        [['to a', true, true]],
      );
      // One connection report per connection and outage, not one per retry.
      assert.ok(
        a.host.errorsOf('connection').length <= 2,
        `${a.host.errorsOf('connection').length} reports`,
      );
      assert.ok(
        b.host.errorsOf('connection').length <= 2,
        `${b.host.errorsOf('connection').length} reports`,
      );
      assert.deepEqual(
        [...a.host.errors, ...b.host.errors].filter((e) => !(e instanceof RedisAdapterError)),
        [],
      );
    } finally {
      await Promise.all(open.splice(0).map((adapter) => within(adapter.close(), 10_000, 'close')));
      await gate.stop();
      await redis.stop();
    }
  });

  it('Redis never reachable: attach() resolves, publishes are held then dropped, close() reports them', async () => {
    const port = await freePort(); // nothing listens there
    const a = await server(`redis://127.0.0.1:${port}`, 100);
    a.adapter.subscribe('t');
    const error = await a.host.waitForError('connection');
    assert.match(error.message, /ECONNREFUSED/);
    a.adapter.publish('t', Buffer.alloc(50), true, undefined); // held (68 bytes)
    a.adapter.publish('t', Buffer.alloc(50), true, undefined); // does not fit: dropped
    a.adapter.publish('t', Buffer.alloc(1), true, undefined); // dropped: after a gap
    assert.equal(a.host.errorsOf('dropped').length, 1);
    await within(a.adapter.close(), 5000, 'close without Redis');
    open.splice(open.indexOf(a.adapter), 1);
    const reports = a.host.errorsOf('dropped') as RedisAdapterError[];
    assert.equal(reports.length, 2);
    assert.equal(reports[1].dropped, 3, 'close() drops the held one and counts the dropped ones');
  });
});
