// Issue 13 end to end, Redis restarted mid-stream: two WebSocketServers with the RedisAdapter in
// separate processes (test/fixtures/redis-ws-server.ts), with live WebSocket clients, and the
// redis-server killed and started again on its port. Local delivery never stops; the adapters
// reconnect and re-subscribe by themselves and remote delivery resumes; what was published
// meanwhile follows docs/redis.md ("Faults"): held up to maxBufferedBytes and sent first, in
// order, when the publishing connection is back, the rest dropped and reported; no client is
// dropped, nothing crashes, no rejection goes unhandled.
//
// Server F reaches Redis through a TcpGate, so that the test lets it back in only once G has
// re-subscribed: what F flushes then has a listener (Redis pub/sub keeps nothing for a server
// that is not subscribed yet, the at-most-once the docs state).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { HEADER_LENGTH } from '../../src/redis/envelope.js';
import { RedisServer } from '../helpers/redis-server.js';
import { ServerProcess, Subscriber, sequence } from '../helpers/scaled-servers.js';
import { TcpGate } from '../helpers/tcp-gate.js';

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

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

describe(
  'Redis restarted under live WebSocket servers in separate processes',
  { timeout: 120_000 },
  () => {
    it('local delivery never stops, remote delivery resumes, what was published meanwhile follows the policy', async () => {
      const redis = await RedisServer.start();
      cleanup.push(() => redis.stop());
      const gate = await TcpGate.start(redis.port);
      cleanup.push(() => gate.stop());
      // F holds 3 messages of 6 bytes ('down:0'...) while Redis is away; G holds none.
      const held = 3;
      const f = await ServerProcess.start('F', {
        url: `redis://127.0.0.1:${gate.port}`,
        maxBufferedBytes: held * (HEADER_LENGTH + 6),
      });
      cleanup.push(() => f.kill());
      const g = await ServerProcess.start('G', { url: redis.url, maxBufferedBytes: 0 });
      cleanup.push(() => g.kill());
      const onF = [
        await Subscriber.connect('wsnet', f.url(['live'])),
        await Subscriber.connect('ws', f.url(['live'])),
      ];
      const onG = [
        await Subscriber.connect('ws', g.url(['live'])),
        await Subscriber.connect('wsnet', g.url(['live'])),
      ];
      const clients = [...onF, ...onG];
      for (const client of clients) cleanup.push(() => client.close());

      // Mid-stream: both servers publish, every client gets both streams.
      await f.publish('live', 'pre-f:', 20);
      await g.publish('live', 'pre-g:', 20);
      for (const client of clients) {
        await client.received('pre-f:19');
        await client.received('pre-g:19');
      }

      // Redis goes away (F's connections with it).
      gate.shut();
      await redis.kill();
      await f.adapterError('connection');
      await g.adapterError('connection');

      // Local delivery goes on, on both servers.
      assert.equal(await f.publish('live', 'down:', 10), 2 * 10);
      assert.equal(await g.publish('live', 'downg', 5), 2 * 5);
      for (const client of onF) await client.received('down:9');
      for (const client of onG) await client.received('downg4');
      assert.match(
        await g.adapterError('dropped'),
        /publish buffer \(maxBufferedBytes 0\) is full/,
      );
      assert.match(await f.adapterError('dropped'), /maxBufferedBytes 72/);

      // Redis is back: G reconnects and re-subscribes by itself (and says what it dropped).
      await redis.restart();
      await untilNumsub(redis, 'wsnet:live', 1);
      await untilNumsub(redis, 'wsnet:', 1);
      await g.settled();
      assert.match(await g.adapterError('dropped'), /^5 publishes \(120 bytes\) were dropped/);

      // F is let back in: it re-subscribes, sends the 3 it held first, and reports the 7 dropped.
      gate.open();
      await untilNumsub(redis, 'wsnet:live', 2);
      await f.settled();
      for (const client of onG) await client.received(`down:${held - 1}`);
      assert.match(await f.adapterError('dropped'), /^7 publishes \(168 bytes\) were dropped/);

      // Remote delivery resumes both ways, and for broadcasts too.
      await f.publish('live', 'post-f:', 10);
      await g.publish('live', 'post-g:', 10);
      await g.broadcast('bc-g:', 1);
      await f.broadcast('bc-f:', 1);
      for (const client of clients) {
        await client.received('post-f:9');
        await client.received('post-g:9');
        await client.received('bc-g:0');
        await client.received('bc-f:0');
      }

      // Fences, after which an echo or a duplicate would have come (end-to-end.test.ts says why).
      await f.publish('live', 'fence-f', 1);
      await g.publish('live', 'fence-g', 1);
      for (const client of clients) {
        await client.received('fence-f0');
        await client.received('fence-g0');
      }

      for (const client of clients) {
        // Per publisher, each stream in order, once, and nothing G published while down reached F.
        assert.deepEqual(client.from('pre-f:'), sequence('pre-f:', 20), client.label);
        assert.deepEqual(client.from('pre-g:'), sequence('pre-g:', 20), client.label);
        assert.deepEqual(
          client.from('down:'),
          onF.includes(client) ? sequence('down:', 10) : sequence('down:', held),
          `${client.label}: F's clients got all 10 locally, G's clients the 3 F held`,
        );
        assert.deepEqual(
          client.from('downg'),
          onG.includes(client) ? sequence('downg', 5) : [],
          `${client.label}: G held nothing (maxBufferedBytes 0)`,
        );
        assert.deepEqual(client.from('post-f:'), sequence('post-f:', 10), client.label);
        assert.deepEqual(client.from('post-g:'), sequence('post-g:', 10), client.label);
        assert.deepEqual(client.from('bc-').sort(), ['bc-f:0', 'bc-g:0'], client.label);
        const down = onF.includes(client) ? 10 : held;
        const downG = onG.includes(client) ? 5 : 0;
        assert.equal(client.texts.length, 20 + 20 + down + downG + 10 + 10 + 2 + 2, 'nothing more');
        assert.equal(client.closed, false, `${client.label} was never dropped`);
      }

      for (const server of [f, g]) {
        const report = await server.report();
        assert.deepEqual(report.problems, [], `${server.name}: nothing unhandled`);
        assert.equal(report.clients, 2, `${server.name} kept its clients`);
        assert.deepEqual(
          [...new Set(report.errors.map((e) => e.kind))].sort(),
          ['connection', 'dropped'],
          `${server.name}: ${JSON.stringify(report.errors)}`,
        );
        assert.ok(server.running);
      }
      await f.close();
      await g.close();
    });
  },
);
