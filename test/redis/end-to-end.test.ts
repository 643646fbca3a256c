// Issue 13 end to end, as deployed: WebSocketServers with `adapter: new RedisAdapter(...)` in
// separate OS processes (test/fixtures/redis-ws-server.ts) on one real redis-server, each with
// real WebSocket clients (wsnet's `connect` and ws). A publish on any server reaches every
// subscriber on every server exactly once, in order per publisher; `connection.publish` leaves
// out its own connection across servers; `server.broadcast` crosses them (as the topic '', the
// channel `wsnet:`); a server that leaves (closed or killed) leaves no subscription in Redis.
//
// "Exactly once" is checked without waiting for a time: each publisher ends with a marker (what
// one connection publishes reaches each subscriber in order, so the marker comes after all of
// it); then every server publishes a fence, and Redis sends a fence published after a message
// was delivered after that message's copies on every subscribing connection, echoes included.
// Once the fences are in, a duplicate would have arrived: the lists are compared as they are.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer } from '../helpers/redis-server.js';
import { ServerProcess, Subscriber, sequence } from '../helpers/scaled-servers.js';

let redis: RedisServer;
const servers: ServerProcess[] = [];
const subscribers: Subscriber[] = [];

async function startServer(name: string): Promise<ServerProcess> {
  const server = await ServerProcess.start(name, { url: redis.url });
  servers.push(server);
  return server;
}

async function subscriber(
  kind: 'wsnet' | 'ws',
  server: ServerProcess,
  topics: string[],
): Promise<Subscriber> {
  const client = await Subscriber.connect(kind, server.url(topics));
  subscribers.push(client);
  assert.equal(client.welcome?.welcome, server.name, 'the client landed on its server');
  return client;
}

/** Subscribers of a channel, as Redis counts them. */
async function numsub(channel: string): Promise<number> {
  // The last line: the channel's name comes first, and for '' it is an empty line.
  return Number((await redis.cli(['pubsub', 'numsub', channel])).trim().split('\n').at(-1));
}

/** Connections named by a RedisAdapter (wsnet-publish, wsnet-subscribe) in CLIENT LIST. */
async function adapterConnections(): Promise<number> {
  return (await redis.cli(['client', 'list']))
    .split('\n')
    .filter((line) => / name=wsnet-(publish|subscribe) /.test(line)).length;
}

/** Polls (bounded) until `read()` gives `expected`; fails with the last value. */
async function until<T>(read: () => Promise<T>, expected: T, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  assert.equal(value, expected, what);
}

/**
 * Every server publishes a fence on `topic` (broadcasts one if `topic` is undefined); resolves
 * once each of `clients` has every fence.
 */
async function fence(clients: Subscriber[], topic: string | undefined, name: string) {
  const running = servers.filter((s) => s.running);
  for (const server of running)
    if (topic === undefined) await server.broadcast(`${name}-${server.name}-`, 1);
    else await server.publish(topic, `${name}-${server.name}-`, 1);
  const expected = running.map((s) => `${name}-${s.name}-0`);
  for (const client of clients)
    await client.until(() => expected.every((f) => client.texts.includes(f)), 15_000, name);
}

/** No server of the test reported an unhandled rejection, an uncaught exception, or an error. */
async function assertQuiet(...checked: ServerProcess[]): Promise<void> {
  for (const server of checked) {
    const report = await server.report();
    assert.deepEqual(report.problems, [], `${server.name}: nothing unhandled`);
    assert.deepEqual(report.errors, [], `${server.name}: no adapterError`);
  }
}

before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  for (const client of subscribers) client.close();
  for (const server of servers) server.kill();
  await redis?.stop();
});

describe(
  'WebSocketServers with the RedisAdapter in separate processes',
  { timeout: 120_000 },
  () => {
    let a: ServerProcess;
    let b: ServerProcess;
    let c: ServerProcess;

    before(async () => {
      [a, b, c] = await Promise.all([startServer('A'), startServer('B'), startServer('C')]);
    });

    it('a publish on any server reaches every subscriber on every server once, in order per publisher', async () => {
      const chat: Subscriber[] = [];
      for (const server of [a, b, c])
        for (const kind of ['wsnet', 'ws'] as const)
          chat.push(await subscriber(kind, server, ['chat']));
      const elsewhere = await subscriber('ws', c, ['other']);
      assert.equal(
        await numsub('wsnet:chat'),
        3,
        'each server subscribes once, for all its clients',
      );

      // Three publishers at once: the servers A and B, and a client of C (connection.publish).
      const COUNT = 200;
      const talker = chat[4]; // C's wsnet client
      for (let i = 0; i < COUNT; i++) talker.publish('chat', `T:${i}`);
      talker.publish('chat', 'T:end');
      const [deliveredA, deliveredB] = await Promise.all([
        a.publish('chat', 'A:', COUNT),
        b.publish('chat', 'B:', COUNT),
      ]);
      assert.equal(deliveredA, 2 * COUNT, 'A wrote each to its two local subscribers');
      assert.equal(deliveredB, 2 * COUNT);
      await a.publish('chat', 'A:end', 1);
      await b.publish('chat', 'B:end', 1);
      for (const client of chat) {
        await client.received('A:end0');
        await client.received('B:end0');
        if (client !== talker) await client.received('T:end');
      }
      await fence(chat, 'chat', 'fence');

      for (const client of chat) {
        assert.deepEqual(client.from('A:'), [...sequence('A:', COUNT), 'A:end0'], client.label);
        assert.deepEqual(client.from('B:'), [...sequence('B:', COUNT), 'B:end0'], client.label);
        assert.deepEqual(
          client.from('T:'),
          client === talker ? [] : [...sequence('T:', COUNT), 'T:end'],
          `${client.label}: the talker's messages, but not to itself`,
        );
        assert.deepEqual(client.from('fence-').sort(), ['fence-A-0', 'fence-B-0', 'fence-C-0']);
        assert.equal(
          client.texts.length,
          2 * (COUNT + 1) + (client === talker ? 0 : COUNT + 1) + 3,
          `${client.label}: nothing more`,
        );
      }
      assert.deepEqual(elsewhere.texts, [], 'a client of another topic gets none of it');
      await assertQuiet(a, b, c);
    });

    it('connection.publish leaves its own connection out across servers; includeSelf puts it in once', async () => {
      const sender = await subscriber('wsnet', a, ['room']);
      const neighbour = await subscriber('ws', a, ['room']);
      const remote = await subscriber('wsnet', b, ['room']);
      const remoteWs = await subscriber('ws', c, ['room']);
      const all = [sender, neighbour, remote, remoteWs];

      sender.publish('room', 'hello from the sender');
      sender.publish('room', 'to all of us', true);
      for (const client of all) await client.received('to all of us');
      await fence(all, 'room', 'fence');

      const fences = ['fence-A-0', 'fence-B-0', 'fence-C-0'];
      const ordered = (texts: string[]) => [...texts.slice(0, -3), ...texts.slice(-3).sort()];
      assert.deepEqual(ordered(sender.texts), ['to all of us', ...fences]);
      for (const client of [neighbour, remote, remoteWs])
        assert.deepEqual(
          ordered(client.texts),
          ['hello from the sender', 'to all of us', ...fences],
          client.label,
        );
      await assertQuiet(a, b, c);
    });

    it('server.broadcast reaches every open connection of every server once; with a filter it stays local', async () => {
      // Clients with and without topics: a broadcast is for every open connection.
      const clients = [
        await subscriber('wsnet', a, []),
        await subscriber('ws', a, ['chat']),
        await subscriber('ws', b, []),
        await subscriber('wsnet', c, []),
        await subscriber('ws', c, ['room', 'chat']),
      ];
      const seen = new Map(clients.map((client) => [client, client.texts.length]));
      assert.equal(await numsub('wsnet:'), 3, "every server listens to the broadcasts' channel");

      const COUNT = 50;
      const local = await b.broadcast('local:', 1, true); // a filter: B's connections only
      const delivered = await b.broadcast('all:', COUNT);
      const openOnB = (await b.report()).clients;
      assert.equal(delivered, COUNT * openOnB, 'B wrote each to all of its open connections');
      assert.equal(local, openOnB);
      for (const client of clients) await client.received(`all:${COUNT - 1}`);
      await fence(clients, undefined, 'bfence');

      for (const client of clients) {
        const texts = client.texts.slice(seen.get(client));
        const onB = client.welcome!.welcome === 'B';
        assert.deepEqual(
          texts.filter((t) => !t.startsWith('bfence-')),
          [...(onB ? ['local:0'] : []), ...sequence('all:', COUNT)],
          client.label,
        );
        assert.deepEqual(texts.filter((t) => t.startsWith('bfence-')).sort(), [
          'bfence-A-0',
          'bfence-B-0',
          'bfence-C-0',
        ]);
      }
      await assertQuiet(a, b, c);
    });

    it("with channelPrefix '', a broadcast crosses on the channel '' and topics on their own names", async () => {
      const [x, y] = await Promise.all([
        ServerProcess.start('X', { url: redis.url, channelPrefix: '' }),
        ServerProcess.start('Y', { url: redis.url, channelPrefix: '' }),
      ]);
      servers.push(x, y);
      const onX = await subscriber('wsnet', x, ['bare']);
      const onY = await subscriber('ws', y, []);
      assert.equal(await numsub(''), 2, "the broadcasts' channel is the prefix alone: ''");
      assert.equal(await numsub('bare'), 1);
      await x.broadcast('from x:', 3);
      await y.broadcast('from y:', 3);
      await y.publish('bare', 'bare:', 1);
      for (const client of [onX, onY]) {
        await client.received('from x:2');
        await client.received('from y:2');
      }
      await onX.received('bare:0');
      assert.deepEqual(
        onX.texts.sort(),
        [...sequence('from x:', 3), ...sequence('from y:', 3), 'bare:0'].sort(),
      );
      await x.close();
      await y.close();
      assert.equal(await numsub(''), 0);
      await assertQuiet(a, b, c);
    });

    it('a server that leaves, closed or killed, leaves no subscription and no connection in Redis', async () => {
      const d = await startServer('D');
      const e = await startServer('E');
      const onD = await subscriber('wsnet', d, ['leave']);
      const onE = await subscriber('ws', e, ['leave']);
      const onA = await subscriber('ws', a, ['leave']);
      assert.equal(await numsub('wsnet:leave'), 3);
      assert.equal(await numsub('wsnet:'), 5);
      const connections = 10;
      await until(
        adapterConnections,
        connections,
        'two per server (one publishes, one subscribes)',
      );

      // Closed: its clients get a 1001 close, it unsubscribes and quits, and exits by itself.
      await d.close();
      await onD.until(() => onD.closed, 10_000, 'the close');
      assert.equal(await numsub('wsnet:leave'), 2);
      assert.equal(await numsub('wsnet:'), 4);
      await until(adapterConnections, connections - 2, "D's connections are gone");
      await a.publish('leave', 'after D:', 1);
      await onE.received('after D:0');

      // Killed (SIGKILL): no goodbye, but its sockets die with it and Redis forgets them.
      e.kill();
      assert.ok(await e.child.exited(10_000));
      await until(() => numsub('wsnet:leave'), 1, "E's subscription is gone");
      assert.equal(await numsub('wsnet:'), 3);
      await until(adapterConnections, connections - 4, "E's connections are gone");
      await onE.until(() => onE.closed, 10_000, 'the cut');

      // The others go on.
      await b.publish('leave', 'after E:', 1);
      await onA.received('after E:0');
      await assertQuiet(a, b, c);
    });
  },
);
