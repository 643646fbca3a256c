// WebSocketConnection over an in-memory duplex pair: the message API's own behaviour (sending,
// receiving, backpressure, pings, the closing handshake, timers), without sockets or handshakes.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import {
  SendQueueFullError,
  WebSocketConnection,
  type ConnectionSettings,
} from '../../src/messages/index.js';
import { ReadyState } from '../../src/protocol/connection.js';
import {
  FRAME_FLAG_FIN,
  FRAME_OP_CLOSE,
  FRAME_OP_PING,
  FRAME_OP_TEXT,
} from '../../src/protocol/constants.js';
import { ConnectionClosedError, InvalidArgumentError } from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { randomMask } from '../../src/protocol/mask.js';
import { duplexPair } from '../helpers/duplex-pair.js';
import { within } from '../helpers/wait.js';

const NO_HEAD = { protocol: '', extensions: '', head: Buffer.alloc(0) };

function pair(
  clientSettings: ConnectionSettings = {},
  serverSettings: ConnectionSettings = clientSettings,
) {
  const [a, b] = duplexPair();
  const client = WebSocketConnection.create(a, 'client', NO_HEAD, clientSettings);
  const server = WebSocketConnection.create(b, 'server', NO_HEAD, serverSettings);
  return { client, server, a, b };
}

async function take(connection: WebSocketConnection, n: number) {
  const messages = [];
  for await (const message of connection) {
    messages.push(message);
    if (messages.length === n) break;
  }
  return messages;
}

/** A raw peer: records the frames written to `end` and never answers anything. */
function silentPeer(end: Duplex, role: 'client' | 'server') {
  const reader = new FrameReader();
  const frames: Array<{ flags: number; payload: Buffer }> = [];
  end.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (;;) {
      const header = reader.readHeader();
      if (header === null) return;
      const payload = reader.readPayload(header.length, header.masked ? header.mask : null);
      if (payload === null) return;
      frames.push({ flags: header.flags, payload: Buffer.from(payload) });
    }
  });
  const send = (flags: number, payload: Uint8Array) => {
    for (const buffer of encodeFrame(flags, payload, role === 'client' ? randomMask : null))
      end.write(buffer);
  };
  return { frames, send };
}

describe('WebSocketConnection: messages', () => {
  it('a string is sent as text and a Buffer as binary, received in order', async () => {
    const { client, server } = pair();
    await client.send('héllo ✓');
    await client.send(Buffer.from([0, 1, 2, 255]));
    await client.send(new Uint8Array(0));
    await client.send('');
    const messages = await within(take(server, 4));
    assert.deepEqual(messages, ['héllo ✓', Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), '']);
    await within(client.close());
  });

  it("events give the data and whether it was binary, and the iterator doesn't see them twice", async () => {
    const { client, server } = pair();
    const seen: Array<[string | Buffer, boolean]> = [];
    server.on('message', (data, isBinary) => seen.push([data, isBinary]));
    await client.send('text');
    await client.send(Buffer.from('bytes'));
    await within(client.close());
    assert.deepEqual(seen, [
      ['text', false],
      [Buffer.from('bytes'), true],
    ]);
  });

  it('messages that arrive before iteration starts are kept for it', async () => {
    const { client, server } = pair();
    await client.send('early 1');
    await client.send('early 2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await within(take(server, 2)), ['early 1', 'early 2']);
    await within(client.close());
  });

  it('bytes sent as text with { binary: false } must be UTF-8', async () => {
    const { client, server } = pair();
    await assert.rejects(
      client.send(Buffer.from([0xc3]), { binary: false }),
      (error: unknown) => error instanceof InvalidArgumentError && error.reason === 'INVALID_UTF8',
    );
    // The connection is still usable: nothing was sent.
    await client.send(Buffer.from('ok ✓'), { binary: false });
    assert.deepEqual(await within(take(server, 1)), ['ok ✓']);
    await within(client.close());
  });

  it('sendStream sends one fragmented message; other sends wait for its end', async () => {
    const { client, server } = pair();
    async function* fragments() {
      yield 'one ';
      await new Promise((resolve) => setTimeout(resolve, 10));
      yield Buffer.from([0xe2, 0x9c]); // a character split across fragments
      yield Buffer.from([0x93, 0x21]);
    }
    const streamed = client.sendStream(fragments());
    const after = client.send('after');
    await within(Promise.all([streamed, after]));
    const messages = await within(take(server, 2));
    assert.deepEqual(messages, ['one ✓!', 'after']);
    await within(client.close());
  });

  it('sendStream of bytes is binary; of nothing, an empty message', async () => {
    const { client, server } = pair();
    await client.sendStream([Buffer.from('ab'), Buffer.from('cd')]);
    await client.sendStream([], { binary: false });
    assert.deepEqual(await within(take(server, 2)), [Buffer.from('abcd'), '']);
    await within(client.close());
  });

  it('a source that fails before its first fragment went out leaves the connection usable', async () => {
    const { client, server } = pair();
    async function* failing() {
      yield 'held back until the next fragment';
      await Promise.resolve();
      throw new Error('disk gone');
    }
    await assert.rejects(client.sendStream(failing()), /disk gone/);
    await client.send('still open');
    assert.deepEqual(await within(take(server, 1)), ['still open']);
    await within(client.close());
  });

  it('a source that fails mid-message ends the connection with 1011', async () => {
    const { client, server } = pair();
    async function* failing() {
      yield 'part 1';
      yield 'part 2';
      await Promise.resolve();
      throw new Error('disk gone');
    }
    await assert.rejects(client.sendStream(failing()), /disk gone/);
    const status = await within(server.closed);
    assert.equal(status.code, 1011);
    assert.equal(status.reason, 'message stream failed');
  });
});

describe('WebSocketConnection: limits and backpressure', () => {
  it('a message over maxMessageSize fails the connection with 1009 (RFC 6455 §7.4.1)', async () => {
    const { client, server } = pair({}, { maxMessageSize: 1000 });
    const failures: Error[] = [];
    server.on('error', (error) => failures.push(error));
    await client.send(Buffer.alloc(999));
    await client.send(Buffer.alloc(1001)).catch(() => undefined);
    const [clientStatus, serverStatus] = await within(Promise.all([client.closed, server.closed]));
    assert.deepEqual(clientStatus, { code: 1009, reason: '', wasClean: true });
    // The failing side reports the code it failed with; the close was not clean (§7.1.7).
    assert.deepEqual(serverStatus, { code: 1009, reason: '', wasClean: false });
    assert.equal(failures.length, 1);
    // The iterator of the failed side reports the failure.
    await assert.rejects(
      (async () => {
        for await (const message of server) assert.equal((message as Buffer).length, 999);
      })(),
      (error: unknown) => error instanceof ConnectionClosedError && error.code === 1009,
    );
  });

  it('a peer that does not read: send() waits, and the queue is bounded by maxQueuedBytes', async () => {
    const { client, server } = pair({ maxQueuedBytes: 256 * 1024 });
    // The server neither iterates nor listens: after 16 messages it stops reading.
    const message = Buffer.alloc(64 * 1024, 7);
    const sends: Array<Promise<void>> = [];
    let full: unknown;
    for (let i = 0; i < 200 && full === undefined; i++) {
      const sent = client.send(message);
      sent.catch((error: unknown) => (full ??= error));
      sends.push(sent);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(
      full instanceof SendQueueFullError,
      `expected SendQueueFullError, got ${String(full)}`,
    );
    assert.ok(
      client.bufferedAmount <= 256 * 1024 + 64 * 1024 + 64 * 1024,
      `bufferedAmount ${client.bufferedAmount}`,
    );
    // The reader catches up: every accepted send resolves, in order, all messages arrive.
    const accepted = sends.length - 1;
    const received = await within(take(server, accepted), 5000, 'reading the backlog');
    assert.equal(received.length, accepted);
    await within(Promise.all(sends.slice(0, accepted)));
    await within(client.close());
  });

  it('a slow iterator pauses the socket once the inbox holds over maxInboxBytes, and resumes when it catches up', async () => {
    // Each 2-byte message counts 2 bytes and an overhead of 160: the fourth is over 500 bytes.
    const { client, server, b } = pair({}, { maxInboxBytes: 500 });
    const iterator = server[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) void client.send(`m${i}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(b.isPaused(), true);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const result = await within(iterator.next());
      assert.equal(result.done, false);
      got.push(result.value as string);
    }
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    assert.equal(b.isPaused(), false);
    await within(client.close());
  });
});

describe('WebSocketConnection: ping and pong', () => {
  it('ping() resolves with the round-trip time once the pong comes (auto-pong on the other side)', async () => {
    const { client, server } = pair();
    const pings: Buffer[] = [];
    server.on('ping', (data) => pings.push(data));
    const rtt = await within(client.ping('hello'));
    assert.ok(rtt >= 0 && rtt < 3000);
    assert.deepEqual(pings, [Buffer.from('hello')]);
    const rtt2 = await within(server.ping());
    assert.ok(rtt2 >= 0);
    await within(client.close());
  });

  it('a ping payload over 125 bytes is refused before anything is sent (§5.5)', async () => {
    const { client, server } = pair();
    await assert.rejects(client.ping(Buffer.alloc(126)), InvalidArgumentError);
    assert.ok((await within(client.ping(Buffer.alloc(125)))) >= 0);
    await within(server.close());
  });

  it('an unsolicited pong is delivered as an event and resolves no ping', async () => {
    const { client, server } = pair();
    const pongs = new Promise<Buffer>((resolve) => server.once('pong', resolve));
    await client.pong('beat');
    assert.deepEqual(await within(pongs), Buffer.from('beat'));
    await within(client.close());
  });

  it('pending pings are rejected when the connection closes', async () => {
    const [a, b] = duplexPair();
    const client = WebSocketConnection.create(a, 'client', NO_HEAD);
    silentPeer(b, 'server');
    const ping = client.ping();
    client.terminate();
    await assert.rejects(within(ping), ConnectionClosedError);
  });
});

describe('WebSocketConnection: the closing handshake (RFC 6455 §7)', () => {
  it('client-initiated: both sides see 1000 and a clean close; ready states move on', async () => {
    const { client, server } = pair();
    const closeEvent = new Promise<[number, string, boolean]>((resolve) =>
      server.once('close', (...args) => resolve(args)),
    );
    assert.equal(client.readyState, ReadyState.OPEN);
    const closing = client.close(1000, 'bye ✓');
    assert.equal(client.readyState, ReadyState.CLOSING);
    const status = await within(closing);
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(await within(closeEvent), [1000, 'bye ✓', true]);
    assert.equal(client.readyState, ReadyState.CLOSED);
    assert.equal(server.readyState, ReadyState.CLOSED);
  });

  it('server-initiated with a code and reason', async () => {
    const { client, server } = pair();
    const [serverStatus, clientStatus] = await within(
      Promise.all([server.close(4000, 'done'), client.closed]),
    );
    assert.deepEqual(clientStatus, { code: 4000, reason: 'done', wasClean: true });
    assert.deepEqual(serverStatus, { code: 4000, reason: '', wasClean: true });
  });

  it('a normal close ends iteration; sends after close are rejected', async () => {
    const { client, server } = pair();
    const loop = (async () => {
      const got = [];
      for await (const message of server) got.push(message);
      return got;
    })();
    await client.send('last');
    await client.close();
    assert.deepEqual(await within(loop), ['last']);
    await assert.rejects(client.send('late'), ConnectionClosedError);
    await assert.rejects(server.send('late'), ConnectionClosedError);
  });

  it('codes that may not be sent and reasons over 123 bytes are refused (§7.4, §5.5)', async () => {
    const { client } = pair();
    for (const code of [999, 1004, 1006, 1015, 2000, 5000])
      await assert.rejects(client.close(code), InvalidArgumentError, String(code));
    await assert.rejects(client.close(1000, 'x'.repeat(124)), InvalidArgumentError);
    assert.equal(client.readyState, ReadyState.OPEN);
    await within(client.close(1000, 'x'.repeat(123)));
  });

  it('close(1005) sends a close frame without a code (what browsers send); with a reason it is refused', async () => {
    const { client, server } = pair();
    await assert.rejects(client.close(1005, 'why'), /a close frame without a code has no reason/);
    assert.equal(client.readyState, ReadyState.OPEN);
    const closeEvent = new Promise<[number, string, boolean]>((resolve) =>
      server.once('close', (...args) => resolve(args)),
    );
    const status = await within(client.close(1005));
    // The server saw no code (1005) and echoed none: both report 1005, cleanly.
    assert.deepEqual(await within(closeEvent), [1005, '', true]);
    assert.deepEqual(status, { code: 1005, reason: '', wasClean: true });
    assert.equal(client.failure, undefined);
  });

  it('a peer that never answers the close frame: TCP is dropped after closeTimeout (1006)', async () => {
    const [a, b] = duplexPair();
    const server = WebSocketConnection.create(b, 'server', NO_HEAD, { closeTimeout: 100 });
    const peer = silentPeer(a, 'client');
    const started = Date.now();
    const status = await within(server.close(1001));
    assert.deepEqual(status, { code: 1006, reason: '', wasClean: false });
    assert.ok(Date.now() - started >= 90);
    assert.equal(peer.frames[0]?.flags, FRAME_FLAG_FIN | FRAME_OP_CLOSE);
    assert.equal(peer.frames[0]?.payload.readUInt16BE(0), 1001);
  });

  it('the client waits for the server to close TCP (§7.1.1), but not beyond closeTimeout', async () => {
    const [a, b] = duplexPair();
    const client = WebSocketConnection.create(a, 'client', NO_HEAD, { closeTimeout: 150 });
    const peer = silentPeer(b, 'server');
    const closing = client.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The server answers the close frame but keeps TCP open.
    peer.send(FRAME_FLAG_FIN | FRAME_OP_CLOSE, Buffer.from([0x03, 0xe8]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.readyState, ReadyState.CLOSING, 'the client does not close TCP first');
    const status = await within(closing);
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
  });

  it('terminate() drops the connection: 1006 on both sides, the iterator throws', async () => {
    const { client, server } = pair();
    const loop = (async () => {
      for await (const message of server) void message;
    })();
    client.terminate();
    const [c, s] = await within(Promise.all([client.closed, server.closed]));
    assert.equal(c.code, 1006);
    assert.equal(s.code, 1006);
    assert.equal(s.wasClean, false);
    await assert.rejects(
      within(loop),
      (error: unknown) => error instanceof ConnectionClosedError && error.code === 1006,
    );
  });

  it('a protocol violation by the peer fails the connection with 1002 and an error event', async () => {
    const [a, b] = duplexPair();
    const server = WebSocketConnection.create(b, 'server', NO_HEAD, { closeTimeout: 500 });
    const peer = silentPeer(a, 'client');
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    // An unmasked client frame (§5.1).
    for (const buffer of encodeFrame(FRAME_FLAG_FIN | FRAME_OP_TEXT, Buffer.from('x'), null))
      a.write(buffer);
    const status = await within(server.closed);
    assert.deepEqual(status, { code: 1002, reason: '', wasClean: false });
    assert.equal(peer.frames[0]?.payload.readUInt16BE(0), 1002);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /not masked/);
    // Kept for code that attached no listener in time.
    assert.equal(server.failure, errors[0]);
  });
});

describe('WebSocketConnection: heartbeat and idle timeout', () => {
  it('a peer that stops answering pings is declared dead: close 1011, then TCP dropped', async () => {
    const [a, b] = duplexPair();
    const server = WebSocketConnection.create(b, 'server', NO_HEAD, {
      heartbeat: { interval: 30, timeout: 60 },
      closeTimeout: 60,
    });
    const peer = silentPeer(a, 'client');
    const status = await within(server.closed, 2000, 'heartbeat death');
    assert.deepEqual(status, { code: 1011, reason: 'keepalive ping timeout', wasClean: false });
    const flags = peer.frames.map((frame) => frame.flags);
    assert.equal(flags[0], FRAME_FLAG_FIN | FRAME_OP_PING);
    const close = peer.frames.find((frame) => frame.flags === (FRAME_FLAG_FIN | FRAME_OP_CLOSE));
    assert.equal(close?.payload.readUInt16BE(0), 1011);
  });

  it('is on by default: a ping after 30 s, and a peer silent 30 s more is failed with 1011', async (t) => {
    // Timers are mocked (setTimeout and setInterval: the heartbeat's one timer repeats): the default heartbeat runs in virtual time, the bytes
    // still flow through the duplex pair.
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const turns = async () => {
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const [a, b] = duplexPair();
    const server = WebSocketConnection.create(b, 'server', NO_HEAD, {});
    const peer = silentPeer(a, 'client');
    t.mock.timers.tick(29_999);
    await turns();
    assert.equal(peer.frames.length, 0, 'no ping before 30 s');
    t.mock.timers.tick(1);
    await turns();
    assert.deepEqual(
      peer.frames.map((frame) => frame.flags),
      [FRAME_FLAG_FIN | FRAME_OP_PING],
    );
    t.mock.timers.tick(29_999);
    await turns();
    assert.equal(server.readyState, ReadyState.OPEN, 'the pong may take 30 s');
    t.mock.timers.tick(1);
    await turns();
    const close = peer.frames.find((frame) => frame.flags === (FRAME_FLAG_FIN | FRAME_OP_CLOSE));
    assert.equal(close?.payload.readUInt16BE(0), 1011);
    t.mock.timers.tick(5_000); // the close timeout: TCP dropped
    await turns();
    assert.deepEqual(await server.closed, {
      code: 1011,
      reason: 'keepalive ping timeout',
      wasClean: false,
    });
  });

  it('heartbeat: false turns it off: a silent peer is kept', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const [a, b] = duplexPair();
    const server = WebSocketConnection.create(b, 'server', NO_HEAD, { heartbeat: false });
    const peer = silentPeer(a, 'client');
    t.mock.timers.tick(10 * 60_000);
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(peer.frames.length, 0);
    assert.equal(server.readyState, ReadyState.OPEN);
    server.terminate();
  });

  // A timeout equal to the interval runs on one repeating timer, a different one on two timers.
  for (const [name, timeouts] of [
    ['one timer', { answer: 20, pong: 20 }],
    ['two timers', { answer: 100, pong: 40 }],
  ] as const) {
    it(`${name}: a live peer keeps answering: the heartbeat keeps the connection open`, async () => {
      const { client, server } = pair(
        {},
        { heartbeat: { interval: 20, timeout: timeouts.answer } },
      );
      const pings: Buffer[] = [];
      client.on('ping', (data) => pings.push(data));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(pings.length >= 3, `${pings.length} pings`);
      assert.equal(server.readyState, ReadyState.OPEN);
      await within(client.close());
    });

    it(`${name}: while its own reading is paused (inbox full), an overdue pong is not held against the peer`, async () => {
      // The peer answers every ping, but its pongs wait unread behind messages the application
      // has not taken: the heartbeat must not call that peer dead.
      const { client, server, b } = pair(
        {},
        { heartbeat: { interval: 20, timeout: timeouts.pong }, maxInboxBytes: 4096 },
      );
      const sent = Array.from({ length: 64 }, (_, i) => `m${i}:${'x'.repeat(1000)}`);
      for (const message of sent) void client.send(message);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(b.isPaused(), true, 'the server stopped reading');
      await new Promise((resolve) => setTimeout(resolve, 400)); // ten heartbeat timeouts
      assert.equal(server.readyState, ReadyState.OPEN);
      const received: unknown[] = [];
      for (let i = 0; i < sent.length; i++) received.push(await within(server.receive()));
      assert.deepEqual(received, sent);
      await new Promise((resolve) => setTimeout(resolve, 150)); // the pongs are read now
      assert.equal(server.readyState, ReadyState.OPEN);
      await within(client.close());
    });

    it(`${name}: a heartbeat still declares a peer dead whose pongs never come while reading goes on`, async () => {
      const [a, b] = duplexPair();
      const server = WebSocketConnection.create(b, 'server', NO_HEAD, {
        heartbeat: { interval: 20, timeout: timeouts.pong },
        maxInboxBytes: 4096,
        closeTimeout: 60,
      });
      const peer = silentPeer(a, 'client');
      void server.receive().catch(() => undefined); // a consumer: the inbox never fills
      const status = await within(server.closed, 2000, 'heartbeat death');
      assert.equal(status.code, 1011);
      assert.ok(peer.frames.length > 0);
    });
  }

  it('idleTimeout closes a connection that received nothing with 1001', async () => {
    const { client, server } = pair({}, { idleTimeout: 80 });
    const status = await within(client.closed);
    assert.deepEqual(status, { code: 1001, reason: 'idle timeout', wasClean: true });
    assert.equal(server.readyState, ReadyState.CLOSED);
  });

  it('traffic keeps an idle timeout from firing', async () => {
    const { client, server } = pair({}, { idleTimeout: 100 });
    for (let i = 0; i < 6; i++) {
      await client.send('tick');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    assert.equal(server.readyState, ReadyState.OPEN);
    await within(client.close());
  });
});
