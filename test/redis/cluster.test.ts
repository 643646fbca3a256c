// RedisAdapter on a real three-master Redis Cluster: sharded pub/sub (SPUBLISH/SSUBSCRIBE), with
// topics whose channels hash to each of the masters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisAdapter } from '../../src/redis/index.js';
import { RecordingHost } from '../helpers/pubsub-host.js';
import { RedisCluster, redisServerVersion } from '../helpers/redis-server.js';
import { within } from '../helpers/wait.js';

let cluster: RedisCluster;
/** Topics whose channels live on three different masters, by master port. */
let topicsByMaster = new Map<number, string>();

async function server() {
  const adapter = new RedisAdapter({ cluster: { urls: [cluster.urls[0]] } });
  const host = new RecordingHost();
  await within(Promise.resolve(adapter.attach(host)), 10_000, 'attach');
  return { adapter, host };
}

before(async () => {
  const [major] = await redisServerVersion();
  assert.ok(major >= 7, `sharded pub/sub needs redis-server >= 7, this is ${major}`);
  cluster = await RedisCluster.start(3);
  topicsByMaster = await cluster.topicOnEachMaster('topic-');
});
after(async () => {
  await cluster?.stop();
});

describe('RedisAdapter on a Redis Cluster (sharded pub/sub)', () => {
  it('relays topics on every master, once and in order, and leaves no connection after close()', async () => {
    const a = await server();
    const b = await server();
    const topics = [...topicsByMaster.values()];
    for (const topic of topics) {
      a.adapter.subscribe(topic);
      b.adapter.subscribe(topic);
    }
    await within(a.adapter.settled(), 15_000, "A's subscriptions");
    await within(b.adapter.settled(), 15_000, "B's subscriptions");
    for (const [port, topic] of topicsByMaster)
      assert.equal(
        await cluster.shardSubscribers(`wsnet:${topic}`),
        2,
        `${topic} on master ${port}`,
      );

    const perTopic = 50;
    for (let i = 0; i < perTopic; i++)
      for (const topic of topics)
        a.adapter.publish(topic, Buffer.from(`${topic}/${i}`), i % 2 === 0, undefined);
    await b.host.waitForDelivered(perTopic * topics.length, 15_000);
    for (const topic of topics)
      assert.deepEqual(
        b.host.texts(topic),
        Array.from({ length: perTopic }, (_, i) => `${topic}/${i}`),
      );
    for (const m of b.host.delivered)
      assert.equal(m.binary, Number(m.text.split('/')[1]) % 2 === 0, m.text);

    // A's own messages were dropped; B's reach A.
    b.adapter.publish(topics[2], Buffer.from('from b'), false, false);
    await a.host.waitForDelivered(1);
    assert.deepEqual(
      a.host.delivered.map((m) => [m.topic, m.text, m.compress]),
      [[topics[2], 'from b', false]],
    );

    // The last local subscriber leaves: the adapter stops listening on that master.
    const firstTopic = [...topicsByMaster.values()][0];
    b.adapter.unsubscribe(firstTopic);
    await within(b.adapter.settled(), 10_000, 'the unsubscribe');
    assert.equal(await cluster.shardSubscribers(`wsnet:${firstTopic}`), 1);

    assert.ok((await cluster.adapterConnections()) > 0);
    await within(a.adapter.close(), 10_000, 'close');
    await within(b.adapter.close(), 10_000, 'close');
    const deadline = Date.now() + 5000;
    while ((await cluster.adapterConnections()) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await cluster.adapterConnections(), 0, 'no wsnet connection on any master');
    assert.deepEqual([a.host.errors, b.host.errors], [[], []]);
  });
});
