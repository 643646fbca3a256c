// The I/O channel of one connection: a server-role protocol core on an in-memory socket pair with
// real backpressure (or on loopback TCP), fed by a raw peer that writes masked frames and reads
// the bytes the channel wrote. What is checked is what reaches the wire and the handler, and when.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import {
  Channel,
  ReadPause,
  type ChannelHandler,
  type ChannelOptions,
} from '../../src/io/channel.js';
import {
  Connection,
  ReadyState,
  type ConnectionEvent,
  type ConnectionOptions,
} from '../../src/protocol/connection.js';
import {
  CloseCode,
  FRAME_FLAG_FIN,
  FRAME_OP_BITMASK,
  FRAME_OP_CLOSE,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_TEXT,
} from '../../src/protocol/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { randomMask } from '../../src/protocol/mask.js';
import { duplexPair } from '../helpers/duplex-pair.js';
import { delay, settlesWithin, tcpPair, waitFor, within } from '../helpers/wait.js';

const TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;
const PING = FRAME_FLAG_FIN | FRAME_OP_PING;

/** A frame as a client writes it: masked (RFC 6455 §5.3). */
function masked(flags: number, payload: string | Uint8Array = ''): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(encodeFrame(flags, bytes, randomMask));
}

/** A frame without a mask: from a client, a protocol violation (RFC 6455 §5.1). */
function unmasked(flags: number, payload: string): Buffer {
  return Buffer.concat(encodeFrame(flags, Buffer.from(payload), null));
}

/** Records everything the channel tells its handler, in order. */
class Recorder implements ChannelHandler {
  readonly events: ConnectionEvent[] = [];
  readonly calls: string[] = [];
  /** Called with each batch of events, from inside `onChannelEvents`. */
  onEvents: ((events: ConnectionEvent[]) => void) | undefined;
  /** Called from inside `onChannelEnd`. */
  onEnd: (() => void) | undefined;
  idleAt: number | undefined;
  readonly closed: Promise<void>;
  readonly idle: Promise<void>;
  readonly ended: Promise<void>;
  #closed!: () => void;
  #idle!: () => void;
  #ended!: () => void;

  constructor() {
    this.closed = new Promise((resolve) => (this.#closed = resolve));
    this.idle = new Promise((resolve) => (this.#idle = resolve));
    this.ended = new Promise((resolve) => (this.#ended = resolve));
  }

  onChannelEvents(events: ConnectionEvent[]): void {
    this.calls.push('events');
    this.events.push(...events);
    this.onEvents?.(events);
  }
  onChannelClosed(): void {
    this.calls.push('closed');
    this.#closed();
  }
  onChannelEnd(): void {
    this.calls.push('end');
    this.onEnd?.();
    this.#ended();
  }
  onChannelError(): void {
    this.calls.push('error');
  }
  onChannelDrain(): void {
    this.calls.push('drain');
  }
  onChannelIdle(): void {
    this.calls.push('idle');
    this.idleAt = performance.now();
    this.#idle();
  }

  /** The text messages received, decoded. */
  get texts(): string[] {
    return this.events.flatMap((event) =>
      event.type === 'message' && !event.binary ? [event.data.toString()] : [],
    );
  }

  count(type: ConnectionEvent['type']): number {
    return this.events.filter((event) => event.type === type).length;
  }
}

/** A server-role channel on one end of an in-memory pair; `peer` is the client's end. */
function setup(options: ChannelOptions = {}, core: ConnectionOptions = {}, highWaterMark?: number) {
  const [local, peer] = duplexPair(highWaterMark);
  const handler = new Recorder();
  const connection = new Connection('server', core);
  const channel = new Channel<Duplex>(local, connection, handler, options);
  return { local, peer, handler, connection, channel };
}

interface WireFrame {
  opcode: number;
  payload: Buffer;
}

/** Starts reading `end` and parses the (unmasked) frames the server wrote, as they come. */
function readFrames(end: Duplex): WireFrame[] {
  const reader = new FrameReader();
  const frames: WireFrame[] = [];
  let pending: { flags: number; length: number } | null = null;
  end.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (;;) {
      if (pending === null) {
        const header = reader.readHeader();
        if (header === null) return;
        assert.equal(header.masked, false, 'a server never masks (RFC 6455 §5.1)');
        pending = { flags: header.flags, length: header.length };
      }
      const payload = reader.readPayload(pending.length);
      if (payload === null) return;
      frames.push({ opcode: pending.flags & FRAME_OP_BITMASK, payload: Buffer.from(payload) });
      pending = null;
    }
  });
  return frames;
}

function closeCode(frame: WireFrame): number {
  return frame.payload.readUInt16BE(0);
}

describe('Channel: one path for every received byte', () => {
  it('the bytes read past the HTTP head reach the handler in start(), before any later read, in order', async () => {
    const head = Buffer.concat([masked(TEXT, 'one'), masked(TEXT, 'two')]);
    const { peer, handler, channel } = setup({ head });
    peer.write(masked(TEXT, 'three')); // already waiting on the socket when start() runs
    await delay(20);
    assert.deepEqual(handler.calls, [], 'nothing happens before start()');
    channel.start();
    assert.deepEqual(
      handler.texts,
      ['one', 'two'],
      "the head's messages, synchronously in start()",
    );
    await waitFor(() => handler.texts.length === 3, 3000, 'the message read after the head');
    assert.deepEqual(handler.texts, ['one', 'two', 'three']);
    channel.destroy();
    await within(handler.closed);
  });

  it('a frame cut between the head and the next read is one message (the same parser state)', async () => {
    const frame = masked(TEXT, 'split across the head');
    const { peer, handler, channel } = setup({ head: frame.subarray(0, 7) });
    channel.start();
    assert.deepEqual(handler.events, [], 'half a frame makes no event');
    peer.write(frame.subarray(7));
    await waitFor(() => handler.events.length > 0);
    assert.deepEqual(handler.texts, ['split across the head']);
    assert.equal(handler.count('failure'), 0);
    channel.destroy();
    await within(handler.closed);
  });
});

describe('Channel: pause reasons', () => {
  const { INBOX_FULL, LARGE_FRAME, SHUT_DOWN } = ReadPause;
  for (const order of [
    [INBOX_FULL, LARGE_FRAME, SHUT_DOWN],
    [SHUT_DOWN, LARGE_FRAME, INBOX_FULL],
    [LARGE_FRAME, SHUT_DOWN, INBOX_FULL],
  ]) {
    it(`reading stays stopped until every reason is released (released in the order ${order.join(', ')})`, async () => {
      const { peer, handler, channel } = setup();
      channel.start();
      for (const reason of [INBOX_FULL, LARGE_FRAME, SHUT_DOWN]) channel.pauseReading(reason);
      peer.write(masked(TEXT, 'held back'));
      for (const reason of order) {
        await delay(30);
        assert.deepEqual(handler.texts, [], `nothing is read while reason ${reason} still holds`);
        assert.equal(channel.readingPaused, true);
        channel.resumeReading(reason);
      }
      assert.equal(channel.readingPaused, false);
      await waitFor(() => handler.texts.length === 1, 3000, 'the held message');
      assert.deepEqual(handler.texts, ['held back']);
      channel.destroy();
      await within(handler.closed);
    });
  }

  it('releasing a reason that does not hold does not resume reading', async () => {
    const { peer, handler, channel } = setup();
    channel.start();
    channel.pauseReading(ReadPause.INBOX_FULL);
    channel.resumeReading(ReadPause.LARGE_FRAME);
    channel.resumeReading(ReadPause.SHUT_DOWN);
    peer.write(masked(TEXT, 'held back'));
    await delay(30);
    assert.deepEqual(handler.texts, []);
    assert.equal(channel.readingPaused, true);
    channel.resumeReading(ReadPause.INBOX_FULL);
    await waitFor(() => handler.texts.length === 1);
    channel.destroy();
    await within(handler.closed);
  });

  it('a reason set while start() delivers the head holds the reads after it', async () => {
    const { peer, handler, channel } = setup({ head: masked(TEXT, 'in the head') });
    handler.onEvents = () => channel.pauseReading(ReadPause.INBOX_FULL); // what a full inbox does
    peer.write(masked(TEXT, 'after the head'));
    channel.start();
    await delay(30);
    assert.deepEqual(handler.texts, ['in the head']);
    handler.onEvents = undefined;
    channel.resumeReading(ReadPause.INBOX_FULL);
    await waitFor(() => handler.texts.length === 2);
    assert.deepEqual(handler.texts, ['in the head', 'after the head']);
    channel.destroy();
    await within(handler.closed);
  });

  // Found by this test: start()'s 'data' listener switched a socket nobody paused (readableFlowing
  // null: a fresh socket or Duplex) to flowing mode, whatever the pause reasons.
  it('a reason set before start() holds reading from the start', async () => {
    const { peer, handler, channel } = setup();
    channel.pauseReading(ReadPause.SHUT_DOWN);
    peer.write(masked(TEXT, 'held back'));
    channel.start();
    await delay(30);
    assert.deepEqual(handler.texts, [], 'nothing is read while the reason holds');
    channel.resumeReading(ReadPause.SHUT_DOWN);
    await waitFor(() => handler.texts.length === 1);
    channel.destroy();
    await within(handler.closed);
  });
});

describe('Channel: congestion and automatic pongs', () => {
  // RFC 6455 §5.5.3: "an endpoint MAY elect to send a Pong frame for only the most recently
  // processed Ping frame". A peer that floods pings and never reads must not grow our output.
  it('a peer that floods pings and never reads gets a bounded output; the latest ping is answered once it drains', async () => {
    const HWM = 1024;
    const PINGS = 4000;
    const { local, peer, handler, channel } = setup({}, {}, HWM);
    let written = 0;
    const write = local.write.bind(local) as (chunk: Buffer) => boolean;
    (local as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
      written += chunk.length;
      return write(chunk);
    };
    channel.start();
    const payload = (i: number) => Buffer.from(String(i).padStart(125, '0')); // the largest ping
    for (let i = 0; i < PINGS; i++) peer.write(masked(PING, payload(i)));
    await waitFor(() => handler.count('ping') === PINGS, 10_000, 'every ping read');
    await delay(20);
    assert.equal(channel.congested, true, 'the peer reads nothing: the socket is congested');
    // Each pong is 127 bytes; unbounded, the channel would have written PINGS * 127 bytes. It may
    // write what the peer's receive buffer and its own write buffer hold, and no more.
    assert.ok(
      written <= 2 * HWM + 4 * 127,
      `the channel wrote ${written} bytes for ${PINGS} pings (bound ${2 * HWM + 4 * 127})`,
    );
    const flooded = written;

    const frames = readFrames(peer); // the peer reads at last
    const last = payload(PINGS - 1);
    await waitFor(
      () => frames.some((frame) => frame.payload.equals(last)),
      5000,
      'the pong to the latest ping',
    );
    await delay(50);
    assert.ok(
      frames.every((frame) => frame.opcode === FRAME_OP_PONG),
      'only pongs',
    );
    const answered = frames.length - 1; // pongs written before the congestion was seen
    assert.ok(answered < PINGS - 1, `the pongs were coalesced (${frames.length} pongs)`);
    frames.slice(0, answered).forEach((frame, i) => {
      assert.ok(frame.payload.equals(payload(i)), `pong ${i} answers ping ${i}`);
    });
    assert.ok(frames[answered].payload.equals(last), 'exactly one owed pong: the latest ping');
    assert.equal(written - flooded, 127, 'after the drain, one pong more was written');
    assert.equal(channel.congested, false);
    assert.ok(handler.calls.includes('drain'));
    channel.destroy();
    await within(handler.closed);
  });

  it('drained() resolves at once on a socket that is not congested', async () => {
    const { handler, channel } = setup();
    channel.start();
    assert.equal(channel.congested, false);
    assert.equal(await settlesWithin(channel.drained(), 0), true);
    channel.destroy();
    await within(handler.closed);
  });

  it('a send over the mark returns false, and drained() resolves once the peer reads', async () => {
    const { peer, handler, channel } = setup({}, {}, 1024);
    channel.start();
    assert.equal(channel.sendText('x'.repeat(64 * 1024)), false);
    assert.equal(channel.congested, true);
    const drained = channel.drained();
    assert.equal(await settlesWithin(drained, 50), false, 'pending while the peer reads nothing');
    const frames = readFrames(peer);
    await within(drained, 3000, 'drained()');
    assert.equal(channel.congested, false);
    assert.ok(handler.calls.includes('drain'));
    await waitFor(() => frames.length === 1);
    assert.equal(frames[0].payload.length, 64 * 1024);
    channel.destroy();
    await within(handler.closed);
  });

  it('drained() rejects when the socket closes before it drains', async () => {
    const { handler, channel } = setup({}, {}, 1024);
    channel.start();
    assert.equal(channel.sendBinary(Buffer.alloc(64 * 1024)), false);
    const drained = channel.drained();
    channel.destroy();
    await assert.rejects(within(drained), /closed before its write buffer drained/);
    await within(handler.closed);
    assert.ok(!handler.calls.includes('drain'));
  });

  it('a drained() nobody awaits, on a socket that then closes, is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { handler, channel } = setup({}, {}, 1024);
      channel.start();
      assert.equal(channel.sendBinary(Buffer.alloc(64 * 1024)), false);
      void channel.drained(); // dropped: nobody will ever look at it
      channel.destroy();
      await within(handler.closed);
      // Unhandled rejections are reported once the microtask queue has drained.
      await delay(20);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('Channel: timers', () => {
  // RFC 6455 §7.1.1: the closing handshake is bounded; a peer that never answers the close
  // frame has its TCP connection dropped.
  it('the close timer destroys the socket closeTimeout ms after a close the peer never answers, not before', async () => {
    const CLOSE_TIMEOUT = 300;
    const { local, peer, handler, channel, connection } = setup({ closeTimeout: CLOSE_TIMEOUT });
    const frames = readFrames(peer); // the peer reads, but never answers
    channel.start();
    const sent = performance.now();
    channel.sendClose(CloseCode.NORMAL_CLOSURE, 'bye');
    await delay(CLOSE_TIMEOUT / 2);
    assert.equal(channel.closed, false, 'not before closeTimeout');
    assert.equal(local.destroyed, false);
    await within(handler.closed, CLOSE_TIMEOUT + 2000, 'the close timer');
    const elapsed = performance.now() - sent;
    assert.ok(elapsed >= CLOSE_TIMEOUT - 2, `closed after ${elapsed.toFixed(0)} ms`);
    assert.equal(local.destroyed, true);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, FRAME_OP_CLOSE);
    assert.equal(closeCode(frames[0]), CloseCode.NORMAL_CLOSURE);
    assert.equal(connection.state, ReadyState.CLOSED);
    assert.equal(
      connection.closeStatus.code,
      CloseCode.ABNORMAL_CLOSURE,
      'no close frame came back',
    );
  });

  it('the close timer is not armed while the connection is open', async () => {
    const { handler, channel } = setup({ closeTimeout: 50 });
    channel.start();
    await delay(200);
    assert.equal(channel.closed, false);
    channel.destroy();
    await within(handler.closed);
  });

  it('the idle timer is refreshed by every byte, even bytes of a frame not yet complete', async () => {
    const IDLE = 200;
    const { peer, handler, channel } = setup({ idleTimeout: IDLE });
    channel.start();
    const frame = masked(TEXT, 'slow frame'); // 16 bytes, one every IDLE / 4 ms: 800 ms in all
    let lastByte = 0;
    for (const byte of frame) {
      peer.write(Buffer.of(byte));
      lastByte = performance.now();
      await delay(IDLE / 4);
    }
    assert.ok(!handler.calls.includes('idle'), 'no idle report while bytes keep coming');
    assert.deepEqual(handler.texts, ['slow frame']);
    await within(handler.idle, IDLE * 10, 'the idle report');
    const silence = handler.idleAt! - lastByte;
    assert.ok(silence >= IDLE - 20, `idle reported after ${silence.toFixed(0)} ms of silence`);
    channel.destroy();
    await within(handler.closed);
  });
});

describe('Channel: deferFailureClose', () => {
  // RFC 6455 §7.1.7: the peer broke the protocol, the connection is failed with a close frame;
  // replies to the messages that came before the violation go out first.
  for (const when of ['synchronously', 'in a later microtask'] as const) {
    it(`replies made ${when} in onChannelEvents go out before the failure's close frame`, async () => {
      const { peer, handler, channel, connection } = setup(
        { deferFailureClose: true },
        { closeOnError: false },
      );
      handler.onEvents = (events) => {
        for (const event of events) {
          if (event.type !== 'message') continue;
          const reply = () => channel.sendText(`echo ${event.data.toString()}`);
          if (when === 'synchronously') reply();
          else queueMicrotask(reply);
        }
      };
      const frames = readFrames(peer);
      channel.start();
      // One read: two messages, then a frame without a mask (RFC 6455 §5.1: fail, 1002).
      peer.write(
        Buffer.concat([masked(TEXT, 'first'), masked(TEXT, 'second'), unmasked(TEXT, 'bad')]),
      );
      await waitFor(
        () => frames.some((frame) => frame.opcode === FRAME_OP_CLOSE),
        3000,
        'the close frame',
      );
      assert.deepEqual(
        frames.map((frame) =>
          frame.opcode === FRAME_OP_CLOSE
            ? ['close', closeCode(frame)]
            : ['text', frame.payload.toString()],
        ),
        [
          ['text', 'echo first'],
          ['text', 'echo second'],
          ['close', CloseCode.PROTOCOL_ERROR],
        ],
      );
      assert.equal(handler.count('failure'), 1);
      await within(handler.closed);
      assert.equal(connection.closeStatus.code, CloseCode.PROTOCOL_ERROR);
    });
  }
});

describe('Channel: ended and error', () => {
  it('ended is false while open, true when the peer ends its side (the core has seen the EOF)', async () => {
    const { peer, handler, channel, connection } = setup();
    let atEnd: { ended: boolean; state: ReadyState } | undefined;
    handler.onEnd = () => (atEnd = { ended: channel.ended, state: connection.state });
    channel.start();
    assert.equal(channel.ended, false);
    peer.end();
    await within(handler.ended, 3000, 'onChannelEnd');
    assert.deepEqual(atEnd, { ended: true, state: ReadyState.CLOSED });
    assert.equal(channel.error, undefined);
    await within(handler.closed);
    assert.equal(channel.ended, true);
  });

  it('ended is true after a close without an end of stream (destroy), and error stays undefined', async () => {
    const { handler, channel } = setup();
    channel.start();
    channel.destroy();
    await within(handler.closed);
    assert.equal(channel.closed, true);
    assert.equal(channel.ended, true);
    assert.equal(channel.error, undefined);
    assert.ok(!handler.calls.includes('end'), 'no end of stream was read');
  });

  it('error is the first error of the socket; onChannelError comes before onChannelClosed', async () => {
    const { local, handler, channel } = setup();
    channel.start();
    const first = new Error('first');
    local.destroy(first);
    await within(handler.closed);
    local.emit('error', new Error('second'));
    assert.equal(channel.error, first);
    assert.deepEqual(
      handler.calls.filter((call) => call === 'error' || call === 'closed'),
      ['error', 'closed', 'error'],
    );
    assert.equal(channel.ended, true);
  });

  it('a TCP reset from the peer on loopback: error is ECONNRESET, the close is abnormal (1006)', async () => {
    const { server, client } = await tcpPair();
    const handler = new Recorder();
    const connection = new Connection('server');
    const channel = new Channel<net.Socket>(server, connection, handler);
    channel.start();
    client.write(masked(TEXT, 'before the reset'));
    await waitFor(() => handler.texts.length === 1);
    client.resetAndDestroy();
    await within(handler.closed, 3000, 'the close after the reset');
    const error: NodeJS.ErrnoException | undefined = channel.error;
    assert.equal(error?.code, 'ECONNRESET');
    assert.ok(handler.calls.indexOf('error') < handler.calls.indexOf('closed'));
    assert.equal(channel.ended, true);
    assert.equal(connection.closeStatus.code, CloseCode.ABNORMAL_CLOSURE);
  });
});

describe('Channel: dropping the connection (loopback TCP)', () => {
  it('terminate() resets the connection: the peer sees ECONNRESET', async () => {
    const { server, client } = await tcpPair();
    const handler = new Recorder();
    const channel = new Channel<net.Socket>(server, new Connection('server'), handler);
    channel.start();
    const peerError = new Promise<NodeJS.ErrnoException>((resolve) =>
      client.once('error', resolve),
    );
    const peerClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    channel.terminate();
    assert.equal((await within(peerError, 3000, "the peer's error")).code, 'ECONNRESET');
    await within(peerClosed);
    await within(handler.closed);
  });

  it('close(linger) sends what was written, then ends the connection', async () => {
    const { server, client } = await tcpPair();
    const handler = new Recorder();
    const channel = new Channel<net.Socket>(server, new Connection('server'), handler);
    channel.start();
    const frames = readFrames(client);
    const clientEnded = new Promise<void>((resolve) => client.once('end', resolve));
    channel.sendText('y'.repeat(1024 * 1024));
    channel.close(5000);
    await within(clientEnded, 5000, "the peer's end of stream");
    assert.equal(frames.length, 1);
    assert.equal(frames[0].payload.length, 1024 * 1024, 'the whole frame arrived');
    await within(handler.closed);
    client.destroy();
  });

  it('close(linger) drops a peer that does not take the rest within lingerMs', async () => {
    const LINGER = 200;
    const { server, client } = await tcpPair();
    client.pause(); // never reads: the kernel's buffers fill
    const handler = new Recorder();
    const channel = new Channel<net.Socket>(server, new Connection('server'), handler);
    channel.start();
    channel.sendBinary(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(server.writableLength > 0, 'bytes are still waiting in user space');
    const closing = performance.now();
    channel.close(LINGER);
    await delay(LINGER / 2);
    assert.equal(channel.closed, false, 'not before lingerMs');
    await within(handler.closed, LINGER + 3000, 'the linger timer');
    const elapsed = performance.now() - closing;
    assert.ok(elapsed >= LINGER - 2, `dropped after ${elapsed.toFixed(0)} ms`);
    client.destroy();
  });
});
