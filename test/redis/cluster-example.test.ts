// examples/cluster-redis.ts as a user runs it: node:cluster with two workers on one port, each a
// WebSocketServer with the RedisAdapter on a real redis-server (started here on a free port and
// passed with --redis). Clients land on different workers (each says which in its welcome), and
// a message sent to one worker reaches the clients of both. SIGTERM closes everything: the
// clients get 1001, the workers and the primary exit, Redis keeps no connection of theirs. Every
// process is ended by its PID if it is still there at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess } from '../helpers/cli.js';
import { RedisServer } from '../helpers/redis-server.js';
import { Subscriber } from '../helpers/scaled-servers.js';
import { delay, refusesConnections } from '../helpers/wait.js';

const example = fileURLToPath(new URL('../../examples/cluster-redis.js', import.meta.url));

let redis: RedisServer;
const clients: Subscriber[] = [];
const pids: number[] = [];

/** Whether the process `pid` still exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  redis = await RedisServer.start();
});
after(async () => {
  for (const client of clients) client.close();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await redis?.stop();
});

describe('examples/cluster-redis.ts', { timeout: 60_000 }, () => {
  it('two workers on one port: clients on both, a message to one reaches all; SIGTERM ends it all', async () => {
    const primary = new CliProcess(['--port', '0', '--workers', '2', '--redis', redis.url], {
      script: example,
    });
    pids.push(primary.process.pid!);
    try {
      const [, port, first, second] = await primary.waitFor(
        /listening on ws:\/\/127\.0\.0\.1:(\d+)\/ with 2 workers \(pids (\d+), (\d+)\)/,
        { timeoutMs: 20_000 },
      );
      const workerPids = [Number(first), Number(second)];
      pids.push(...workerPids);
      // Each worker listens to the broadcasts' channel (its adapter subscribes as it starts).
      const numsub = async () =>
        (await redis.cli(['pubsub', 'numsub', 'wsnet:'])).trim().split('\n')[1];
      for (let i = 0; (await numsub()) !== '2' && i < 200; i++) await delay(50);
      assert.equal(await numsub(), '2', 'both workers subscribe in Redis');

      // node:cluster's primary hands connections to the workers in turn: connect until both
      // workers have clients (bounded), with both kinds of client.
      const byWorker = new Map<unknown, Subscriber[]>();
      for (let i = 0; (byWorker.size < 2 || clients.length < 4) && i < 20; i++) {
        const client = await Subscriber.connect(
          i % 2 === 0 ? 'wsnet' : 'ws',
          `ws://127.0.0.1:${port}/`,
          {
            welcomePrefix: '{"worker"',
          },
        );
        clients.push(client);
        assert.ok(workerPids.includes(client.welcome!.pid as number), 'a worker the primary named');
        byWorker.set(client.welcome!.worker, [
          ...(byWorker.get(client.welcome!.worker) ?? []),
          client,
        ]);
      }
      assert.equal(byWorker.size, 2, 'clients landed on both workers');

      const [[workerOne, [sender]], [workerTwo, [replier]]] = [...byWorker];
      sender.send('hello from one');
      for (const client of clients)
        if (client !== sender) await client.received(`worker ${String(workerOne)}: hello from one`);
      replier.send('hello from two');
      const reply = `worker ${String(workerTwo)}: hello from two`;
      for (const client of clients) if (client !== replier) await client.received(reply);
      assert.deepEqual(sender.texts, [reply], 'the sender does not get its own message');

      primary.kill('SIGTERM');
      const exit = await primary.exit(20_000);
      assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
      assert.match(exit.stdout, /^SIGTERM: closing the workers$/m);
      for (const client of clients) {
        await client.until(() => client.closed, 10_000, 'the close');
        assert.equal(client.closeCode, 1001, `${client.label}: going away`);
      }
      for (const pid of workerPids) for (let i = 0; alive(pid) && i < 100; i++) await delay(50);
      assert.deepEqual(workerPids.filter(alive), [], 'the workers exited');
      assert.ok(await refusesConnections(Number(port)), 'nothing listens on the port any more');
      assert.equal(
        (await redis.cli(['client', 'list']))
          .split('\n')
          .filter((line) => / name=wsnet-(publish|subscribe) /.test(line)).length,
        0,
        'the workers quit their Redis connections',
      );
    } finally {
      primary.kill();
    }
  });
});
