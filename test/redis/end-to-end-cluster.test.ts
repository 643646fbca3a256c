// Issue 13 end to end on a Redis Cluster (three masters, sharded pub/sub): two WebSocketServers
// with `adapter: new RedisAdapter({ cluster })` in separate processes, real WebSocket clients
// subscribed to three topics whose channels live on three different masters. Every publish
// reaches every subscriber on both servers once, in order per publisher and topic; broadcasts
// (the topic '', channel `wsnet:`) cross too; once closed, no server leaves a connection behind.
// The fences work as in end-to-end.test.ts, per topic: a topic's channel lives on one master,
// which keeps the order of what it relays on it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, redisServerVersion } from '../helpers/redis-server.js';
import { ServerProcess, Subscriber, sequence } from '../helpers/scaled-servers.js';

let cluster: RedisCluster;
const servers: ServerProcess[] = [];
const clients: Subscriber[] = [];
/** A topic on each master: master port → topic. */
let topicsByMaster = new Map<number, string>();

before(async () => {
  const [major] = await redisServerVersion();
  assert.ok(major >= 7, `sharded pub/sub needs redis-server >= 7, this is ${major}`);
  cluster = await RedisCluster.start(3);
  topicsByMaster = await cluster.topicOnEachMaster('room-');
});
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) server.kill();
  await cluster?.stop();
});

describe('WebSocketServers with the RedisAdapter on a Redis Cluster', { timeout: 120_000 }, () => {
  it('topics on three masters and broadcasts reach every subscriber of both servers once, in order', async () => {
    const options = { cluster: { urls: [cluster.urls[0]] } };
    const [p, q] = await Promise.all([
      ServerProcess.start('P', options),
      ServerProcess.start('Q', options),
    ]);
    servers.push(p, q);
    const topics = [...topicsByMaster.values()];
    for (const server of [p, q])
      for (const kind of ['wsnet', 'ws'] as const) {
        const client = await Subscriber.connect(kind, server.url(topics));
        clients.push(client);
        assert.equal(client.welcome?.welcome, server.name);
      }
    for (const topic of topics)
      assert.equal(await cluster.shardSubscribers(`wsnet:${topic}`), 2, topic);
    assert.equal(await cluster.shardSubscribers('wsnet:'), 2, "the broadcasts' channel");

    // Both servers publish on every topic at once, interleaved.
    const COUNT = 60;
    await Promise.all(
      [p, q].flatMap((server) =>
        topics.map((topic) => server.publish(topic, `${server.name}/${topic}/`, COUNT)),
      ),
    );
    await q.broadcast('bc-q/', 10);
    await p.broadcast('bc-p/', 10);
    for (const client of clients) {
      for (const server of [p, q])
        for (const topic of topics) await client.received(`${server.name}/${topic}/${COUNT - 1}`);
      await client.received('bc-q/9');
      await client.received('bc-p/9');
    }
    // Fences on every topic and on the broadcasts' channel, from both servers.
    for (const server of [p, q]) {
      for (const topic of topics) await server.publish(topic, `fence/${server.name}/${topic}`, 1);
      await server.broadcast(`fence/${server.name}/bc`, 1);
    }
    const fences = [p, q].flatMap((server) => [
      ...topics.map((topic) => `fence/${server.name}/${topic}0`),
      `fence/${server.name}/bc0`,
    ]);
    for (const client of clients)
      await client.until(() => fences.every((f) => client.texts.includes(f)), 15_000, 'the fences');

    for (const client of clients) {
      for (const server of [p, q])
        for (const topic of topics)
          assert.deepEqual(
            client.from(`${server.name}/${topic}/`),
            sequence(`${server.name}/${topic}/`, COUNT),
            `${client.label}: ${server.name} on ${topic}`,
          );
      assert.deepEqual(client.from('bc-q/'), sequence('bc-q/', 10));
      assert.deepEqual(client.from('bc-p/'), sequence('bc-p/', 10));
      assert.equal(client.texts.length, 2 * 3 * COUNT + 20 + fences.length, 'nothing more');
    }

    for (const server of [p, q]) {
      const report = await server.report();
      assert.deepEqual(report.problems, [], `${server.name}: nothing unhandled`);
      assert.deepEqual(report.errors, [], `${server.name}: no adapterError`);
    }
    assert.ok((await cluster.adapterConnections()) > 0);
    await p.close();
    await q.close();
    const deadline = Date.now() + 10_000;
    while ((await cluster.adapterConnections()) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await cluster.adapterConnections(), 0, 'no wsnet connection on any master');
    for (const topic of topics)
      assert.equal(await cluster.shardSubscribers(`wsnet:${topic}`), 0, topic);
  });
});
