// The cross-process path as deployed: two child processes, each with its own RedisAdapter (its
// own connections, origin id and event loop), and this process as a third server, on one real
// redis-server. Each gets the others' messages once, in order per publisher, and not its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisAdapter } from '../../src/redis/index.js';
import { FixtureChild, type FixtureMessage } from '../helpers/fixture-child.js';
import { RecordingHost } from '../helpers/pubsub-host.js';
import { RedisServer } from '../helpers/redis-server.js';
import { within } from '../helpers/wait.js';

let redis: RedisServer;
const children: FixtureChild[] = [];

before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  for (const child of children) child.kill();
  await redis?.stop();
});

const COUNT = 100;
const sequence = (prefix: string) => Array.from({ length: COUNT }, (_, i) => `${prefix}${i}`);

async function report(
  child: FixtureChild,
): Promise<{ delivered: Array<[string, string, boolean]>; errors: string[] }> {
  child.send({ type: 'report' });
  const message: FixtureMessage = await child.next('report');
  return message as unknown as { delivered: Array<[string, string, boolean]>; errors: string[] };
}

describe('RedisAdapter across OS processes', () => {
  it('relays between servers in separate processes', { timeout: 60_000 }, async () => {
    const p = await FixtureChild.start('redis-adapter-child', [redis.url]);
    children.push(p);
    const q = await FixtureChild.start('redis-adapter-child', [redis.url]);
    children.push(q);
    const here = new RedisAdapter({ url: redis.url });
    const host = new RecordingHost();
    await here.attach(host);
    try {
      for (const child of [p, q]) {
        child.send({ type: 'subscribe', topic: 'chat' });
        await child.next('subscribed');
      }
      here.subscribe('chat');
      await within(here.settled(), 10_000, 'the subscription');

      p.send({ type: 'publish', topic: 'chat', prefix: 'p', count: COUNT });
      q.send({ type: 'publish', topic: 'chat', prefix: 'q', count: COUNT });
      here.publish('chat', Buffer.from('here'), true, undefined);
      await Promise.all([p.next('published'), q.next('published')]);
      await host.waitForDelivered(2 * COUNT);
      assert.deepEqual(
        host.texts().filter((t) => t.startsWith('p')),
        sequence('p'),
      );
      assert.deepEqual(
        host.texts().filter((t) => t.startsWith('q')),
        sequence('q'),
      );

      // The children got each other's messages and this process's, none of their own.
      const deadline = Date.now() + 10_000;
      let reports = await Promise.all([report(p), report(q)]);
      while (reports.some((r) => r.delivered.length < COUNT + 1) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        reports = await Promise.all([report(p), report(q)]);
      }
      const [fromP, fromQ] = reports;
      for (const [r, other] of [
        [fromP, 'q'],
        [fromQ, 'p'],
      ] as const) {
        const texts = r.delivered.map(([, text]) => text);
        assert.deepEqual(
          texts.filter((t) => t !== 'here'),
          sequence(other),
        );
        assert.deepEqual(
          r.delivered.filter(([, text]) => text === 'here'),
          [['chat', 'here', true]],
        );
        assert.deepEqual(r.errors, []);
      }
      assert.deepEqual(host.errors, []);

      for (const child of [p, q]) {
        child.send({ type: 'close' });
        await child.next('closed');
        assert.deepEqual(
          await child.exited(10_000),
          { code: 0, signal: null },
          'exits by itself once closed',
        );
      }
    } finally {
      await here.close();
    }
  });
});
