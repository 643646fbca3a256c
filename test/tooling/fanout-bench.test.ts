// The moving parts of `npm run bench -- fanout` (bench/fanout.bench.ts), with small counts: the C
// subscriber (bench/fanout/subscriber.c) counts exactly the messages a real server publishes, in
// both of its modes (plain WebSocket against wsnet; socket.io v4 over a bare WebSocket against
// socket.io's Server, pings answered), its latency histogram reads the payload's timestamp, and
// one measurement round-trips through the server processes the suite runs. No rate is asserted.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server as SocketIoServer } from 'socket.io';
import { measureFanout, syncCounts, type FanoutSetup } from '../../bench/fanout/measure.js';
import {
  SubscriberProcess,
  bucketMicros,
  quantileMicros,
  subscriberBinary,
} from '../../bench/fanout/subscribers.js';
import { Child } from '../../bench/soak/children.js';
import { WebSocketServer, type WebSocketConnection } from '../../src/index.js';
import { RedisServer } from '../helpers/redis-server.js';
import { delay, waitFor, within } from '../helpers/wait.js';

describe('fan-out bench: the C subscriber', () => {
  before(() => {
    subscriberBinary(); // compiled once, outside every test's deadline
  });

  it('counts every message a wsnet server publishes, and only those (pings answered, not counted)', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    const connections: WebSocketConnection[] = [];
    server.on('connection', (connection) => {
      connection.subscribe('news');
      connections.push(connection);
    });
    const subscribers = await SubscriberProcess.start('ws', 3, [server.address().port]);
    try {
      await waitFor(() => server.subscriberCount('news') === 3, 5000, 'three subscribers');
      // A ping is answered with its pong, and is not a message.
      const pongs = connections.map(
        (connection) => new Promise<Buffer>((resolve) => connection.once('pong', resolve)),
      );
      for (const connection of connections) void connection.ping('are you there');
      const answered = await within(Promise.all(pongs), 5000, 'the pongs');
      assert.deepEqual(
        answered.map((data) => data.toString()),
        ['are you there', 'are you there', 'are you there'],
      );
      server.publish('news', 'one');
      server.publish('news', Buffer.alloc(70_000, 1)); // binary, a 64-bit length
      server.publish('news', `t=${process.hrtime.bigint()};stamped`);
      server.publish('other', 'nobody listens');
      server.broadcast('to everyone');
      assert.equal(await subscribers.until(12, 5000), 12);
      // Nothing more comes: waiting for a 13th ends at the deadline with 12.
      assert.equal(await subscribers.until(13, 300), 12);
      const stats = await subscribers.stats();
      assert.equal(stats.count, 12);
      assert.ok(stats.cpuMicros > 0);
      // Only the stamped message carried a timestamp: one latency per connection.
      assert.equal(
        [...stats.histogram.values()].reduce((sum, n) => sum + n, 0),
        3,
      );
      assert.ok(quantileMicros([stats.histogram], 0.99)! >= 0);
      // The histogram starts empty again after each stats.
      assert.equal((await subscribers.stats()).histogram.size, 0);
    } finally {
      await subscribers.close();
      await server.close();
    }
  });

  it('speaks socket.io: joins through `40`, counts only events, and answers pings', async () => {
    const httpServer = http.createServer();
    // Pings every 50 ms, 100 ms to answer: a subscriber that did not answer would be dropped.
    const io = new SocketIoServer(httpServer, {
      serveClient: false,
      transports: ['websocket'],
      pingInterval: 50,
      pingTimeout: 100,
    });
    io.on('connection', (socket) => void socket.join('room'));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const port = (httpServer.address() as AddressInfo).port;
    const subscribers = await SubscriberProcess.start('sio', 4, [port]);
    try {
      const joined = () => io.of('/').adapter.rooms.get('room')?.size ?? 0;
      await waitFor(() => joined() === 4, 5000, 'four sockets in the room');
      io.to('room').emit('m', 'hello');
      io.to('room').emit('m', `t=${process.hrtime.bigint()};stamped`);
      assert.equal(await subscribers.until(8, 5000), 8);
      // Many ping intervals later every socket is still there, and still counts.
      await delay(500);
      assert.equal(joined(), 4);
      io.to('room').emit('m', 'still here');
      assert.equal(await subscribers.until(12, 5000), 12);
      assert.equal(await subscribers.until(13, 300), 12);
      const stats = await subscribers.stats();
      assert.equal(
        [...stats.histogram.values()].reduce((sum, n) => sum + n, 0),
        4,
      );
    } finally {
      await subscribers.close();
      await io.close();
    }
  });

  it('fails with the reason when the server refuses the upgrade', async () => {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await assert.rejects(
        SubscriberProcess.start('ws', 1, [(server.address() as AddressInfo).port]),
        /upgrade refused/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('fan-out bench: latency buckets', () => {
  it('reads buckets as subscriber.c writes them: exact below 64 µs, then 32 per power of two', () => {
    assert.equal(bucketMicros(0), 0);
    assert.equal(bucketMicros(63), 63);
    assert.equal(bucketMicros(64), 65); // [64, 66)
    assert.equal(bucketMicros(64 + 32), 130); // [128, 132)
    assert.equal(bucketMicros(64 + 31), 127); // [126, 128)
  });

  it('merges histograms for a quantile', () => {
    const histograms = [new Map([[1, 1]]), new Map([[2, 98]]), new Map([[40, 1]])];
    assert.equal(quantileMicros(histograms, 0.99), 2);
    assert.equal(quantileMicros(histograms, 1), 40);
    assert.equal(quantileMicros([new Map()], 0.99), undefined);
  });
});

/** Waits until the servers count `n` subscribers between them. */
async function subscribed(servers: readonly Child[], n: number): Promise<void> {
  for (let i = 0; ; i++) {
    const counts = await Promise.all(
      servers.map((server) => server.ask<number>({ subscribers: true }, 'subscribers')),
    );
    if (counts.reduce((sum, count) => sum + count, 0) === n) return;
    assert.ok(i < 100, `the servers counted ${counts.join(' + ')} subscribers, not ${n}`);
    await delay(50);
  }
}

/**
 * Starts `serverCount` server processes of `kind` (on Redis if `redisUrl`), and one subscriber
 * process with `connections` spread over them; measures one short window; checks that every
 * message of every round was read, and nothing else.
 */
async function measureOnce(
  kind: string,
  mode: 'ws' | 'sio',
  serverCount: number,
  connections: number,
  redisUrl?: string,
): Promise<void> {
  const servers: Child[] = [];
  let subscribers: SubscriberProcess | undefined;
  try {
    for (let i = 0; i < serverCount; i++)
      servers.push(
        await Child.start(
          `${kind} server ${i}`,
          '../fanout/server-process',
          redisUrl === undefined ? [kind] : [kind, redisUrl],
        ),
      );
    const ports = servers.map((server) => server.ready as number);
    subscribers = await SubscriberProcess.start(mode, connections, ports);
    await subscribed(servers, connections);
    for (const server of servers) assert.equal(await server.ask({ settle: true }, 'settled'), true);
    const setup: FanoutSetup = { servers, subscribers: [subscribers], counts: [] };
    await syncCounts(setup);
    const result = await measureFanout(setup, 64, 3, 100, 20);
    assert.equal(result.lost, 0);
    assert.ok(result.delivered > 0 && result.serverMicros > 0 && result.subscriberMicros > 0);
    assert.ok(result.p99Micros !== undefined);
    // Whole rounds of 3 publishes to every subscriber, warm-up included, and nothing more.
    const { count } = await subscribers.stats();
    assert.equal(count % (3 * connections), 0);
    assert.equal(setup.counts[0], count);
    assert.equal(await subscribers.until(count + 1, 200), count);
  } finally {
    await subscribers?.close();
    for (const server of servers) await server.kill();
  }
}

describe('fan-out bench: one measurement through the server processes', () => {
  for (const [kind, mode] of [
    ['wsnet', 'ws'],
    ['ws', 'ws'],
    ['socketio', 'sio'],
    ['ceiling', 'ws'],
    ['ceiling-corked', 'ws'],
  ] as const)
    it(`${kind}: every message published in the rounds is read, none lost`, () =>
      measureOnce(kind, mode, 1, 5));

  describe('across processes on Redis', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await RedisServer.start();
    });
    after(() => redis.stop());

    for (const [kind, mode] of [
      ['wsnet', 'ws'],
      ['socketio', 'sio'],
    ] as const)
      it(`${kind}: two servers, one publishing, the other's subscribers get every message`, () =>
        measureOnce(kind, mode, 2, 6, redis.url));
  });
});
