// The heartbeat's shared timers: connections with the same interval wait in one queue under one
// timer (no Timeout per idle connection), and the queue keeps each connection's beats and pong
// deadlines apart as connections join, answer, fall silent and leave at different times.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { WebSocketConnection, type ConnectionSettings } from '../../src/messages/connection.js';
import { ReadyState } from '../../src/protocol/connection.js';
import { duplexPair } from '../helpers/duplex-pair.js';
import { within } from '../helpers/wait.js';

const NO_HEAD = { protocol: '', extensions: '', head: Buffer.alloc(0) };

/** A client and a server over an in-memory pair; the client answers pings by itself. */
function pair(serverSettings: ConnectionSettings, clientSettings: ConnectionSettings = {}) {
  const [a, b] = duplexPair();
  const client = WebSocketConnection.create(a, 'client', NO_HEAD, clientSettings);
  const server = WebSocketConnection.create(b, 'server', NO_HEAD, serverSettings);
  return { client, server };
}

const timeouts = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebSocketConnection: the heartbeat queues', () => {
  it('fifty idle connections with the default heartbeat hold one timer between them, none once closed', async () => {
    const before = timeouts();
    const pairs = Array.from({ length: 50 }, () => pair({}));
    // Clients and servers alike: a 30 s interval and a 30 s timeout, one queue.
    assert.equal(timeouts(), before + 1);
    await Promise.all(pairs.map(({ client }) => client.close()));
    await within(
      Promise.all(pairs.map(({ server }) => server.closed)),
      5000,
      'the servers closing',
    );
    assert.equal(timeouts(), before);
  });

  it('connections that join at different times are each pinged, and live ones stay open', async () => {
    const pongs: number[] = [];
    const pairs: ReturnType<typeof pair>[] = [];
    for (let i = 0; i < 4; i++) {
      const made = pair({ heartbeat: { interval: 40, timeout: 40 } }, { heartbeat: false });
      const index = pairs.push(made) - 1;
      pongs[index] = 0;
      made.server.on('pong', () => pongs[index]++);
      await sleep(13); // joins between the queue's steps
    }
    await within(
      (async () => {
        while (pongs.some((count) => count < 3)) await sleep(20);
      })(),
      5000,
      'three pongs on every connection',
    );
    for (const { server } of pairs) assert.equal(server.readyState, ReadyState.OPEN);
    await Promise.all(pairs.map(({ client }) => client.close()));
  });

  it('a silent peer among live ones is failed with 1011; the others keep their beat, even after one leaves', async () => {
    const live = [0, 1, 2].map(() =>
      pair({ heartbeat: { interval: 30, timeout: 60 } }, { heartbeat: false }),
    );
    const pongs = live.map(() => 0);
    live.forEach(({ server }, i) => server.on('pong', () => pongs[i]++));
    // A peer that drops what it reads and answers no ping: its server's pong deadline passes.
    const [a, b] = duplexPair();
    a.on('data', () => undefined);
    const silent = WebSocketConnection.create(b, 'server', NO_HEAD, {
      heartbeat: { interval: 30, timeout: 60 },
      closeTimeout: 50,
    });
    const status = await within(silent.closed, 5000, 'the silent peer failed');
    assert.equal(status.code, 1011);
    assert.equal(status.reason, 'keepalive ping timeout');
    // One live connection leaves; the two others are still beaten and answered.
    await live[0].client.close();
    await within(live[0].server.closed, 5000, 'the first live connection closed');
    const seen = [pongs[1], pongs[2]];
    await within(
      (async () => {
        while (pongs[1] < seen[0] + 2 || pongs[2] < seen[1] + 2) await sleep(20);
      })(),
      5000,
      'two more pongs on each remaining connection',
    );
    assert.equal(live[1].server.readyState, ReadyState.OPEN);
    assert.equal(live[2].server.readyState, ReadyState.OPEN);
    await Promise.all([live[1].client.close(), live[2].client.close()]);
  });
});
