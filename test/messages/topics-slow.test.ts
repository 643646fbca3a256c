// Issue 13: the slow-subscriber policies. A subscriber that stops reading (its socket paused, so
// the kernel's buffers fill, then the server socket's, then the connection's send queue) must
// never make the server hold more than its bound, must be told about (the slowSubscriber
// event), and must not hold the others back: each policy is run with a fast subscriber that
// receives every message while the slow one is skipped, or closed.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import {
  WebSocketServer,
  connect,
  type SlowSubscriberAction,
  type SlowSubscriberPolicy,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { RawClient, type RawFrame } from '../helpers/raw-client.js';
import { waitFor, within } from '../helpers/wait.js';

const MESSAGE = 64 * 1024;
const MAX_QUEUED = 256 * 1024;
/** Messages published at most: far more than the kernel's loopback buffers hold (a few MiB). */
const MAX_MESSAGES = 1500;
/** Messages published after the first slowSubscriber event, to see the bound hold. */
const AFTER_EVENT = 20;
const OP_CLOSE = 0x8;

const servers: WebSocketServer[] = [];
after(() => Promise.all(servers.splice(0).map((server) => within(server.close(), 15_000))));

interface SlowEvent {
  readonly connection: WebSocketConnection;
  readonly action: SlowSubscriberAction;
  readonly topic: string | undefined;
}

/**
 * A server with the policy, a fast wsnet subscriber (event form) and a slow raw subscriber that
 * never reads; publishes numbered messages one at a time (each waits for the fast one to have
 * it) until the policy has acted and AFTER_EVENT more went out. Returns what it saw.
 */
async function runSlowSubscriber(policy: SlowSubscriberPolicy, viaBroadcast = false) {
  const server = await WebSocketServer.listen({
    port: 0,
    host: '127.0.0.1',
    maxQueuedBytes: MAX_QUEUED,
    slowSubscriber: policy,
    heartbeat: false,
  });
  servers.push(server);
  const accepted: WebSocketConnection[] = [];
  server.on('connection', (connection) => {
    accepted.push(connection);
    connection.subscribe('ticks');
  });
  const events: SlowEvent[] = [];
  server.on('slowSubscriber', (connection, action, topic) =>
    events.push({ connection, action, topic }),
  );
  const fast = await connect(server.url, { maxMessageSize: 2 * MESSAGE });
  const fastGot: number[] = [];
  fast.on('message', (data, isBinary) => {
    if (isBinary) fastGot.push((data as Buffer).readUInt32BE(0));
  });
  const slow = (await RawClient.open(server.address().port, '/')).client;
  slow.socket.pause(); // stops reading: the server's side fills up
  await waitFor(() => accepted.length === 2 && server.subscriberCount('ticks') === 2);
  const slowOnServer = accepted[1];

  let published = 0;
  let firstEventAt = -1;
  let maxBuffered = 0;
  const payload = Buffer.alloc(MESSAGE, 0x5a);
  while (published < MAX_MESSAGES) {
    const message = Buffer.from(payload);
    message.writeUInt32BE(published, 0);
    if (viaBroadcast) server.broadcast(message);
    else server.publish('ticks', message);
    published++;
    await waitFor(() => fastGot.length === published, 5000, `the fast subscriber's #${published}`);
    maxBuffered = Math.max(maxBuffered, slowOnServer.bufferedAmount);
    if (events.length > 0 && firstEventAt === -1) firstEventAt = published;
    if (firstEventAt !== -1 && published - firstEventAt >= AFTER_EVENT) break;
  }
  return {
    server,
    fast,
    fastGot,
    slow,
    slowOnServer,
    events,
    published,
    firstEventAt,
    maxBuffered,
  };
}

/**
 * The frames a raw client gets once it reads again, until `until` says; with `end`, once all that
 * waited for it is out, 'the end' is published (text) and the frames are read up to it.
 */
async function drain(
  slow: RawClient,
  until: (frame: RawFrame) => boolean,
  end?: { server: WebSocketServer; connection: WebSocketConnection },
): Promise<RawFrame[]> {
  slow.socket.resume();
  if (end !== undefined) {
    await waitFor(() => end.connection.bufferedAmount === 0, 10_000, 'the slow one to drain');
    end.server.publish('ticks', 'the end');
  }
  const frames: RawFrame[] = [];
  for (let i = 0; i < MAX_MESSAGES + 2; i++) {
    const frame = await slow.readFrame(5000);
    frames.push(frame);
    if (until(frame)) return frames;
  }
  throw new Error('the slow subscriber never got the end');
}

const sequence = (frames: RawFrame[]) =>
  frames.filter((frame) => (frame.flags & 0x0f) === 0x2).map((f) => f.payload.readUInt32BE(0));

describe('slow subscribers', () => {
  it("'queue' (default): queued within maxQueuedBytes, then skipped with an event; the fast one gets all", async () => {
    const run = await runSlowSubscriber('queue');
    assert.ok(run.firstEventAt > 0, `no slowSubscriber event in ${run.published} messages`);
    assert.ok(run.events.every((event) => event.connection === run.slowOnServer));
    assert.ok(run.events.every((event) => event.action === 'skipped' && event.topic === 'ticks'));
    assert.ok(run.events.length >= AFTER_EVENT, `${run.events.length} events`);
    const frame = MESSAGE + 10;
    const hwm = 16 * 1024; // the server socket's writableHighWaterMark (Node's default)
    assert.ok(
      run.maxBuffered <= MAX_QUEUED + hwm + frame,
      `held ${run.maxBuffered} bytes for the slow subscriber (bound ${MAX_QUEUED + hwm + frame})`,
    );
    assert.ok(run.maxBuffered > MAX_QUEUED / 2, `queued only ${run.maxBuffered} bytes`);
    assert.deepEqual(
      run.fastGot,
      Array.from({ length: run.published }, (_, i) => i),
    );
    assert.equal(run.slowOnServer.readyState, 1); // still open: it only missed messages
    // Reading again, it gets what was written and queued, in order, then what comes next.
    const frames = await drain(run.slow, (f) => f.payload.toString() === 'the end', {
      server: run.server,
      connection: run.slowOnServer,
    });
    const got = sequence(frames);
    assert.deepEqual(
      got,
      Array.from({ length: got.length }, (_, i) => i),
    );
    assert.ok(got.length < run.published, 'the slow subscriber missed nothing');
    assert.equal(got.length + run.events.length, run.published);
    run.slow.destroy();
    await run.fast.close();
  });

  it("'skip': never queued behind a congested socket; skipped with an event; the fast one gets all", async () => {
    const run = await runSlowSubscriber('skip');
    assert.ok(run.firstEventAt > 0, `no slowSubscriber event in ${run.published} messages`);
    assert.ok(run.events.every((event) => event.action === 'skipped'));
    // No queue at all: at most the socket's high-water mark and the one write that crossed it.
    const bound = 16 * 1024 + MESSAGE + 10;
    assert.ok(run.maxBuffered <= bound, `held ${run.maxBuffered} bytes (bound ${bound})`);
    assert.deepEqual(
      run.fastGot,
      Array.from({ length: run.published }, (_, i) => i),
    );
    const frames = await drain(run.slow, (f) => f.payload.toString() === 'the end', {
      server: run.server,
      connection: run.slowOnServer,
    });
    const got = sequence(frames);
    assert.equal(got.length + run.events.length, run.published);
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], 'out of order');
    run.slow.destroy();
    await run.fast.close();
  });

  it("'close': a subscriber that would exceed maxQueuedBytes is closed with 1008; the fast one gets all", async () => {
    const run = await runSlowSubscriber('close', true);
    assert.equal(run.events.length, 1);
    assert.equal(run.events[0].action, 'closed');
    assert.equal(run.events[0].topic, undefined); // a broadcast
    assert.ok(run.maxBuffered <= MAX_QUEUED + 16 * 1024 + MESSAGE + 10);
    assert.deepEqual(
      run.fastGot,
      Array.from({ length: run.published }, (_, i) => i),
    );
    // Reading again, it gets what was queued before the close, then the close frame.
    const frames = await drain(run.slow, (f) => (f.flags & 0x0f) === OP_CLOSE);
    const close = frames[frames.length - 1];
    assert.equal(close.payload.readUInt16BE(0), 1008);
    assert.match(close.payload.subarray(2).toString(), /slow subscriber/);
    const got = sequence(frames);
    assert.deepEqual(
      got,
      Array.from({ length: got.length }, (_, i) => i),
    );
    run.slow.destroy();
    await waitFor(() => run.server.clients.size === 1, 5000, 'the slow one to be gone');
    assert.equal(run.server.subscriberCount('ticks'), 1);
    await run.fast.close();
  });
});
