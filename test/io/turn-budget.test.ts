// The turn budget of costly channels (issue 9): once a turn of the event loop has spent
// TURN_BUDGET_MS on the reads of budgeted channels, further reads wait for a later turn, with
// their sockets paused, so that timers and other I/O run in between; nothing is lost or
// reordered, and an end of stream or a close that comes meanwhile follows the kept reads.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { Channel, type ChannelHandler } from '../../src/io/channel.js';
import { TURN_BUDGET_MS } from '../../src/io/turn-budget.js';
import { Connection, type ConnectionEvent } from '../../src/protocol/connection.js';
import { FRAME_FLAG_FIN, FRAME_OP_TEXT } from '../../src/protocol/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { randomMask } from '../../src/protocol/mask.js';
import { waitFor } from '../helpers/wait.js';

/** A masked text frame, as a client sends it. */
function text(payload: string): Buffer {
  return Buffer.concat(
    encodeFrame(FRAME_FLAG_FIN | FRAME_OP_TEXT, Buffer.from(payload), randomMask),
  );
}

/** Burns CPU for `ms`: the cost of inflating and compressing a read's messages. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A socket stand-in whose reads the test emits itself, synchronously. */
function socket(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** A budgeted channel whose every read costs `cost` ms, logging what it processed into `log`. */
function costlyChannel(name: string, log: string[], cost: number, budgeted = true) {
  const stream = socket();
  const handler: ChannelHandler = {
    onChannelEvents(events: ConnectionEvent[]) {
      for (const event of events)
        if (event.type === 'message') log.push(`${name}:${event.data.toString()}`);
      busy(cost);
    },
    onChannelClosed() {
      log.push(`${name}:closed`);
    },
    onChannelEnd() {
      log.push(`${name}:end`);
    },
  };
  const channel = new Channel<Duplex>(stream, new Connection('server'), handler, { budgeted });
  channel.start();
  return { stream, channel };
}

/** Lets the turn under way end: the budget is process-wide, and a test starts with all of it. */
async function freshTurn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('turn budget of costly channels', () => {
  // Reads that each cost a little of the budget: several fit in a turn, twelve do not (on a busy
  // machine fewer fit, which changes none of the assertions).
  const small = Math.ceil(TURN_BUDGET_MS * 0.3);
  // A read that costs more than the whole budget: whatever follows it in the turn waits.
  const large = TURN_BUDGET_MS + 1;

  it('reads past the budget wait for later turns; timers run in between; nothing is lost', async () => {
    await freshTurn();
    const log: string[] = [];
    const count = 12;
    const channels = Array.from({ length: count }, (_, i) => costlyChannel(`c${i}`, log, small));
    setTimeout(() => log.push('timer'), 0);
    // Twelve sockets ready in one poll phase: their reads come one after another, synchronously.
    for (const [i, { stream }] of channels.entries()) stream.emit('data', text(`m${i}`));
    const atOnce = log.length;
    assert.ok(atOnce >= 1 && atOnce < count, `${atOnce} of ${count} reads processed at once`);
    assert.deepEqual(
      log,
      channels.slice(0, atOnce).map((_, i) => `c${i}:m${i}`),
    );
    assert.equal(channels[count - 1].channel.readingPaused, true, 'a kept read pauses its socket');
    await waitFor(() => log.length === count + 1, 5000, 'every read and the timer');
    assert.deepEqual(
      log.filter((entry) => entry !== 'timer'),
      channels.map((_, i) => `c${i}:m${i}`),
    );
    assert.ok(
      log.indexOf('timer') < log.indexOf(`c${count - 1}:m${count - 1}`),
      `the timer waited for every read: ${log.join(', ')}`,
    );
    assert.equal(channels[count - 1].channel.readingPaused, false, 'reading resumes after');
  });

  it('a channel that is not budgeted (uncompressed, POCO) processes every read at once', () => {
    const log: string[] = [];
    const channels = Array.from({ length: 4 }, (_, i) => costlyChannel(`c${i}`, log, large, false));
    for (const [i, { stream }] of channels.entries()) stream.emit('data', text(`m${i}`));
    assert.deepEqual(log, ['c0:m0', 'c1:m1', 'c2:m2', 'c3:m3']);
  });

  it("a channel's kept reads stay in order, and its end of stream follows them", async () => {
    await freshTurn();
    const log: string[] = [];
    const first = costlyChannel('a', log, large);
    const second = costlyChannel('b', log, large);
    first.stream.emit('data', text('1')); // spends the whole budget
    second.stream.emit('data', text('1')); // kept
    second.stream.emit('data', text('2')); // kept behind it
    second.stream.emit('end');
    assert.deepEqual(log, ['a:1']);
    await waitFor(() => log.includes('b:end'), 5000, 'the end of stream');
    assert.deepEqual(log, ['a:1', 'b:1', 'b:2', 'b:end']);
  });

  it('a socket that closes with kept reads has them processed before it reports the close', async () => {
    await freshTurn();
    const log: string[] = [];
    const first = costlyChannel('a', log, large);
    const second = costlyChannel('b', log, large);
    first.stream.emit('data', text('1'));
    second.stream.emit('data', text('1')); // kept
    second.stream.emit('data', text('2')); // kept
    second.stream.destroy();
    await waitFor(() => log.includes('b:closed'), 5000, 'the close');
    assert.deepEqual(log, ['a:1', 'b:1', 'b:2', 'b:closed']);
  });
});
