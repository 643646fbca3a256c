// The byte-bounded inbox: what it counts (payload plus a fixed overhead per item), when it stops
// reading (above the high-water mark) and when it resumes (at half of it), against a recording
// ReadFlow and against a real Channel.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { Channel, ReadPause, type ReadFlow } from '../../src/io/channel.js';
import { ITEM_OVERHEAD, Inbox } from '../../src/io/inbox.js';
import { Connection, type ConnectionEvent } from '../../src/protocol/connection.js';
import { FRAME_FLAG_FIN, FRAME_OP_BINARY } from '../../src/protocol/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { randomMask } from '../../src/protocol/mask.js';
import { duplexPair } from '../helpers/duplex-pair.js';
import { delay, waitFor, within } from '../helpers/wait.js';

/** Records each pause and resume, with its reason. */
function recordingFlow(): ReadFlow & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pauseReading: (reason) => calls.push(`pause ${reason}`),
    resumeReading: (reason) => calls.push(`resume ${reason}`),
  };
}

const PAUSE = `pause ${ReadPause.INBOX_FULL}`;
const RESUME = `resume ${ReadPause.INBOX_FULL}`;

describe('Inbox: accounting', () => {
  it('each item counts its payload plus ITEM_OVERHEAD; shift gives them back, oldest first', () => {
    const inbox = new Inbox<string>(recordingFlow(), 1_000_000);
    assert.equal(inbox.length, 0);
    assert.equal(inbox.bytes, 0);
    assert.equal(inbox.peek(), undefined);
    inbox.push('a', 10);
    inbox.push('b', 0);
    inbox.push('c', 1000);
    assert.equal(inbox.length, 3);
    assert.equal(inbox.bytes, 10 + 0 + 1000 + 3 * ITEM_OVERHEAD);
    assert.equal(inbox.peek(), 'a', 'peek does not take');
    assert.equal(inbox.length, 3);
    assert.equal(inbox.shift(), 'a');
    assert.equal(inbox.bytes, 1000 + 2 * ITEM_OVERHEAD);
    assert.equal(inbox.shift(), 'b');
    assert.equal(inbox.shift(), 'c');
    assert.equal(inbox.bytes, 0);
    assert.equal(inbox.shift(), undefined);
    assert.equal(inbox.length, 0);
  });

  it('empty items are not free: many of them fill the inbox on their overhead alone', () => {
    const flow = recordingFlow();
    const inbox = new Inbox<number>(flow, 10 * ITEM_OVERHEAD);
    for (let i = 0; i < 10; i++) inbox.push(i, 0);
    assert.deepEqual(flow.calls, [], 'exactly at the mark: not over it');
    inbox.push(10, 0);
    assert.deepEqual(flow.calls, [PAUSE]);
    assert.equal(inbox.bytes, 11 * ITEM_OVERHEAD);
  });

  it('order holds across many pushes and shifts (the backing arrays are compacted)', () => {
    const inbox = new Inbox<number>(recordingFlow(), Number.MAX_SAFE_INTEGER);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3000; i++) inbox.push(next++, 1);
      for (let i = 0; i < 2500; i++) assert.equal(inbox.shift(), expected++);
    }
    assert.equal(inbox.length, next - expected);
    assert.equal(inbox.bytes, (next - expected) * (1 + ITEM_OVERHEAD));
    while (inbox.length > 0) assert.equal(inbox.shift(), expected++);
    assert.equal(expected, next);
    assert.equal(inbox.bytes, 0);
  });
});

describe('Inbox: flow control', () => {
  it('pauses once when the bytes go above the mark, not at it', () => {
    const flow = recordingFlow();
    const mark = 4 * (100 + ITEM_OVERHEAD);
    const inbox = new Inbox<string>(flow, mark);
    for (let i = 0; i < 4; i++) inbox.push(`item ${i}`, 100);
    assert.equal(inbox.bytes, mark);
    assert.deepEqual(flow.calls, []);
    inbox.push('over', 1);
    assert.deepEqual(flow.calls, [PAUSE]);
    inbox.push('more', 100);
    inbox.push('and more', 100);
    assert.deepEqual(flow.calls, [PAUSE], 'one pause, however far over');
  });

  it('resumes once the bytes are down to half the mark, not before', () => {
    const flow = recordingFlow();
    const size = 100 + ITEM_OVERHEAD;
    const inbox = new Inbox<number>(flow, 8 * size);
    for (let i = 0; i < 10; i++) inbox.push(i, 100);
    assert.deepEqual(flow.calls, [PAUSE]);
    for (let i = 0; i < 5; i++) inbox.shift(); // 5 items left: over half
    assert.equal(inbox.bytes, 5 * size);
    assert.deepEqual(flow.calls, [PAUSE], 'still paused above half the mark');
    inbox.shift(); // 4 items left: exactly half
    assert.equal(inbox.bytes, 4 * size);
    assert.deepEqual(flow.calls, [PAUSE, RESUME]);
    inbox.shift();
    inbox.shift();
    assert.deepEqual(flow.calls, [PAUSE, RESUME], 'one resume');
    for (let i = 0; i < 7; i++) inbox.push(i, 100); // over again
    assert.deepEqual(flow.calls, [PAUSE, RESUME, PAUSE]);
  });

  it('clear() drops everything and resumes a full inbox; on one that is not full it does nothing', () => {
    const flow = recordingFlow();
    const inbox = new Inbox<number>(flow, 1000);
    inbox.push(1, 10);
    inbox.clear();
    assert.equal(inbox.length, 0);
    assert.equal(inbox.bytes, 0);
    assert.deepEqual(flow.calls, []);
    for (let i = 0; i < 20; i++) inbox.push(i, 100);
    assert.deepEqual(flow.calls, [PAUSE]);
    inbox.clear();
    assert.equal(inbox.length, 0);
    assert.equal(inbox.bytes, 0);
    assert.equal(inbox.shift(), undefined);
    assert.deepEqual(flow.calls, [PAUSE, RESUME]);
    inbox.push(99, 1);
    assert.equal(inbox.shift(), 99, 'usable after clear()');
  });

  it('changing the mark applies at once: lower pauses, higher resumes at its half', () => {
    const flow = recordingFlow();
    const inbox = new Inbox<number>(flow, 10_000);
    for (let i = 0; i < 4; i++) inbox.push(i, 100); // 4 * 260 = 1040 bytes
    assert.deepEqual(flow.calls, []);
    inbox.highWaterMark = 1000;
    assert.equal(inbox.highWaterMark, 1000);
    assert.deepEqual(flow.calls, [PAUSE]);
    inbox.highWaterMark = 2000; // half is 1000: still above it
    assert.deepEqual(flow.calls, [PAUSE]);
    inbox.highWaterMark = 2080; // half is 1040
    assert.deepEqual(flow.calls, [PAUSE, RESUME]);
  });
});

describe('Inbox: on a Channel', () => {
  it("a full inbox stops the channel's reads; taking items down to half the mark starts them again", async () => {
    const [local, peer] = duplexPair();
    const PAYLOAD = 1000;
    const connection = new Connection('server');
    const channel = new Channel<Duplex>(local, connection, {
      onChannelEvents(events: ConnectionEvent[]) {
        for (const event of events) if (event.type === 'message') inbox.push(event.data, PAYLOAD);
      },
      onChannelClosed: () => undefined,
    });
    const inbox = new Inbox<Buffer>(channel, 4 * (PAYLOAD + ITEM_OVERHEAD));
    channel.start();
    const frame = () =>
      Buffer.concat(
        encodeFrame(FRAME_FLAG_FIN | FRAME_OP_BINARY, Buffer.alloc(PAYLOAD), randomMask),
      );
    for (let i = 0; i < 5; i++) peer.write(frame());
    await waitFor(() => channel.readingPaused, 3000, 'the pause');
    assert.equal(inbox.length, 5);
    peer.write(frame());
    peer.write(frame());
    await delay(30);
    assert.equal(inbox.length, 5, 'nothing more is read while the inbox is full');
    inbox.shift();
    inbox.shift();
    assert.equal(channel.readingPaused, true, '3 items: above half the mark');
    inbox.shift();
    assert.equal(channel.readingPaused, false, '2 items: at half the mark');
    await waitFor(() => inbox.length === 4, 3000, 'the frames written while paused');
    channel.destroy();
    await within(new Promise((resolve) => local.once('close', resolve)));
  });
});
