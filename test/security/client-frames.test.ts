// Peer-failure suite, clients, after the handshake: a hostile server (test/helpers/frame-server.ts,
// bytes by hand) attacks the message API's connect() client and POCO's WebSocket client with the
// frames that once broke a peer library (../shared/reference/peer-failures.md), and checks what
// the clients themselves put on the wire. Memory is measured in a child process
// (test/fixtures/limits-peer.ts) with the margin stated in each test.
//
// Covers: CVE-2016-10542 (ws, oversized payload, no default limit), CVE-2020-27813 (gorilla, frame
// length overflow) and CVE-2026-2229's 64-bit length (undici), CVE-2026-48779 (ws, flood of tiny
// fragments), CVE-2026-62389 (ws, incomplete fragmented messages, empty fragments not counted),
// undici CVE-2026-12151 (fragment count), ping floods (pongs owed), a server that never reads
// (send queue), GHSA-w67g-5rqw-f597 (gorilla, weak mask PRNG), CVE-2016-10518 (ws, ping(number))
// and CVE-2026-45736 (ws, close() with a TypedArray reason).
// POCO's client does not reassemble messages (receiveFrame hands over each frame), so the
// fragment rows are, for it, frames queued unread: bounded by its receive buffer.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  InvalidArgumentError,
  SendQueueFullError,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { WebSocket, WebSocketException } from '../../src/poco/index.js';
import { FixtureChild, MiB, mb, pump } from '../helpers/fixture-child.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import { projectRoot } from '../helpers/paths.js';
import type { RawClient } from '../helpers/raw-client.js';
import { EscapeWatch, pocoClient } from '../helpers/security-client.js';
import {
  OP_CLOSE,
  OP_CONT,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  FIN,
  binary,
  encode,
  ping,
} from '../helpers/wire.js';

const watch = new EscapeWatch();
let server: FrameServer;
before(async () => {
  watch.install();
  server = await startFrameServer();
});
after(async () => {
  watch.uninstall();
  await server.stop();
});

/** A connect() client on the frame server, and the server's end of it. */
async function messageClient(
  options: Parameters<typeof connect>[1] = {},
): Promise<{ client: WebSocketConnection; peer: RawClient }> {
  const client = await connect(server.url, { perMessageDeflate: false, ...options });
  client.on('error', () => undefined);
  return { client, peer: await server.next() };
}

/** A frame header alone: FIN|`opcode`, unmasked, with a 64-bit length field of `length`. */
function header64(opcode: number, length: bigint): Buffer {
  const head = Buffer.alloc(10);
  head[0] = FIN | opcode;
  head[1] = 127;
  head.writeBigUInt64BE(length, 2);
  return head;
}

/** Reads the client's frames until its close frame; returns the close code. */
async function closeCodeFrom(peer: RawClient): Promise<number> {
  for (let i = 0; i < 100_000; i++) {
    const frame = await peer.readFrame(10_000);
    if ((frame.flags & 0x0f) === OP_CLOSE) return frame.payload.readUInt16BE(0);
  }
  throw new Error('no close frame in 100 000 frames');
}

/** The POCO error of `promise`: its class and code. */
async function pocoRejection(promise: Promise<unknown>): Promise<[string, number]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, String(error));
    const code = error instanceof WebSocketException ? error.code() : -1;
    return [error.constructor.name, code];
  }
  return ['resolved', 0];
}

describe('frame lengths', () => {
  it('CVE-2016-10542 (ws): a frame announcing 64 MiB + 1 gets 1009 from connect() with no options (the default limit), before its payload', async () => {
    const { client, peer } = await messageClient();
    peer.write(header64(0x2, BigInt(64 * MiB + 1)));
    assert.equal(await closeCodeFrom(peer), 1009);
    peer.destroy();
    assert.equal((await client.closed).code, 1009);
    await watch.assertNone();
  });

  it('CVE-2016-10542 (ws): POCO receiveFrame(1 KiB) on a frame announcing 2^31 - 1 bytes: WebSocketException 10', async () => {
    const { ws, peer } = await pocoClient(server);
    peer.write(header64(0x2, 2n ** 31n - 1n));
    assert.deepEqual(await pocoRejection(ws.receiveFrame(new Uint8Array(1024))), [
      'WebSocketException',
      WebSocket.WS_ERR_PAYLOAD_TOO_BIG,
    ]);
    ws.close();
    await watch.assertNone();
  });

  for (const [what, length, code] of [
    ['2^64 - 1 (the top bit set)', 2n ** 64n - 1n, 1002],
    ['2^63 (the top bit set)', 2n ** 63n, 1002],
    ['2^53 + 1 (over Number.MAX_SAFE_INTEGER)', 2n ** 53n + 1n, 1009],
  ] as const) {
    it(`CVE-2020-27813 (gorilla) / CVE-2026-2229 (undici): a 64-bit length of ${what} fails connect() with ${code}`, async () => {
      const { client, peer } = await messageClient();
      peer.write(header64(0x2, length));
      assert.equal(await closeCodeFrom(peer), code);
      peer.destroy();
      assert.equal((await client.closed).code, code);
      await watch.assertNone();
    });

    it(`CVE-2020-27813 (gorilla) / CVE-2026-2229 (undici): a 64-bit length of ${what} fails POCO's receiveFrame`, async () => {
      const { ws, peer } = await pocoClient(server);
      peer.write(header64(0x2, length));
      const [name, errorCode] = await pocoRejection(ws.receiveFrame(new Uint8Array(1024)));
      // Too big for the buffer (10), or a protocol error the socket reports (a NetException).
      assert.ok(
        name === 'WebSocketException' ? errorCode === 10 : /Exception$/.test(name),
        `${name} ${errorCode}`,
      );
      ws.close();
      await watch.assertNone();
    });
  }
});

describe('fragments and floods (memory in a child process)', () => {
  const LIMIT = 1 * MiB;

  it('CVE-2026-48779 (ws) / CVE-2026-12151 (undici): 1-byte fragments past maxMessageSize get 1009; the client peak RSS grows < 2 × maxMessageSize + 32 MiB', async () => {
    const client = await FixtureChild.start('limits-peer', [
      'deflate-client', // here without an extension: a connect() client with this maxMessageSize
      server.url,
      String(LIMIT),
    ]);
    try {
      const peer = await server.next();
      const before = await client.memory();
      const fragments = Buffer.concat(
        Array.from({ length: 4096 }, () =>
          encode({ flags: OP_CONT, payload: Buffer.from('y') }, false),
        ),
      );
      // 1.3 Mi fragments at most (4 MB on the wire); the client closes after 1 Mi.
      peer.socket.write(encode(binary('x', { fin: false }), false));
      for (let i = 0; i < 320 && !peer.socket.destroyed; i++) peer.socket.write(fragments);
      assert.equal(await closeCodeFrom(peer), 1009);
      peer.destroy();
      assert.equal((await client.next('closed', 15_000)).code, 1009);
      const after = await client.memory(15_000);
      const growth = after.peakRss - before.rss;
      assert.ok(growth < 2 * LIMIT + 32 * MiB, `peak RSS grew by ${mb(growth)}`);
    } finally {
      client.kill();
    }
  });

  it('CVE-2026-62389 (ws): 2 Mi empty fragments of a message that never ends cost no memory (RSS grows < 16 MiB); the client still answers a ping', async () => {
    const client = await FixtureChild.start('limits-peer', [
      'deflate-client',
      server.url,
      String(LIMIT),
    ]);
    try {
      const peer = await server.next();
      const before = await client.memory();
      const empties = Buffer.concat(
        Array.from({ length: 8192 }, () =>
          encode({ flags: OP_CONT, payload: Buffer.alloc(0) }, false),
        ),
      );
      peer.socket.write(encode(binary('', { fin: false }), false));
      const flood = await pump(peer.socket, empties, {
        maxBytes: 256 * empties.length, // 2 Mi fragments
        timeMs: 20_000,
        stallMs: 5000,
      });
      peer.socket.write(encode(ping('alive'), false)); // a control frame between fragments (§5.4)
      let pongs = 0;
      for (let i = 0; i < 10 && pongs === 0; i++) {
        const frame = await peer.readFrame(15_000);
        if ((frame.flags & 0x0f) === OP_PONG && frame.payload.toString() === 'alive') pongs++;
      }
      assert.equal(pongs, 1, 'the pong for the ping after the flood');
      const after = await client.memory(15_000);
      const growth = after.rss - before.rss;
      assert.ok(
        growth < 16 * MiB,
        `RSS grew by ${mb(growth)} after ${mb(flood.bytes)} of empty fragments (${flood.stopped})`,
      );
      assert.equal(client.peek('closed'), undefined, 'the connection is still open');
    } finally {
      client.kill();
    }
  });

  it('ping flood: a server that floods pings and never reads leaves the connect() client RSS growth < 64 MiB (pongs owed are collapsed)', async () => {
    const client = await FixtureChild.start('limits-peer', ['hoarding-client', server.url]);
    try {
      const peer = await server.next();
      peer.socket.pause(); // never reads: the client's pongs can only pile up on its side
      const before = await client.memory();
      const pings = Buffer.concat(
        Array.from({ length: 4096 }, () => encode(ping(Buffer.alloc(125, 0x70)), false)),
      );
      const flood = await pump(peer.socket, pings, {
        maxBytes: 256 * MiB,
        timeMs: 4000,
        stallMs: 2000,
      });
      const after = await client.memory(15_000);
      const growth = after.rss - before.rss;
      assert.ok(growth < 64 * MiB, `RSS grew by ${mb(growth)} after ${mb(flood.bytes)} of pings`);
    } finally {
      client.kill();
    }
  });
});

describe('floods against POCO, which queues frames unread up to its receive buffer', () => {
  for (const [what, unit] of [
    [
      'CVE-2026-48779 (ws) / CVE-2026-62389 (ws): empty continuation frames',
      encode({ flags: OP_CONT, payload: Buffer.alloc(0) }, false),
    ],
    [
      'ping flood: 125-byte pings (POCO hands pings to the application, it does not answer them)',
      encode(ping(Buffer.alloc(125)), false),
    ],
  ] as const) {
    it(`${what} to a POCO client that does not read: it stops reading, the server's writes stall after < 64 MiB`, async () => {
      const { ws, peer } = await pocoClient(server);
      const chunk = Buffer.concat(Array.from({ length: 4096 }, () => unit));
      const flood = await pump(peer.socket, chunk, {
        maxBytes: 512 * MiB,
        timeMs: 15_000,
        stallMs: 1500,
      });
      assert.equal(flood.stopped, 'stalled', `${mb(flood.bytes)} written, ${flood.stopped}`);
      assert.ok(flood.bytes < 64 * MiB, `${mb(flood.bytes)} accepted before the stall`);
      ws.close();
      await watch.assertNone();
    });
  }
});

describe('a server that never reads', () => {
  it('connect(): send() without awaiting rejects with SendQueueFullError once maxQueuedBytes (1 MiB) are waiting', async () => {
    const { client, peer } = await messageClient({ maxQueuedBytes: 1 * MiB });
    peer.socket.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let full: unknown;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 4096 && full === undefined; i++) {
      const sent = client.send(chunk);
      sends.push(sent);
      sent.catch((error: unknown) => (full ??= error));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(full instanceof SendQueueFullError, String(full));
    assert.equal(full.limit, 1 * MiB);
    client.terminate();
    await Promise.allSettled(sends);
    await watch.assertNone();
  });

  it('POCO: sendFrame rejects with TimeoutException once the send timeout passes with the buffer full', async () => {
    const { ws, peer } = await pocoClient(server);
    peer.socket.pause();
    ws.setSendTimeout(200_000); // microseconds
    const chunk = Buffer.alloc(1 * MiB, 0x61);
    let outcome = 'never rejected';
    for (let i = 0; i < 512; i++) {
      try {
        await ws.sendFrame(chunk, chunk.length, WebSocket.FRAME_BINARY);
      } catch (error) {
        outcome = (error as Error).constructor.name;
        break;
      }
    }
    assert.equal(outcome, 'TimeoutException');
    ws.close();
    await watch.assertNone();
  });
});

describe('what the clients send', () => {
  /** Reads `n` frames from `peer` and returns their masking keys. */
  async function keysOf(peer: RawClient, n: number): Promise<number[]> {
    const keys: number[] = [];
    for (let i = 0; i < n; i++) {
      const head = await peer.readBytes(2);
      assert.ok((head[1] & 0x80) !== 0, 'a client frame is masked');
      const length = head[1] & 0x7f;
      assert.ok(length < 126);
      keys.push((await peer.readBytes(4)).readUInt32BE(0));
      await peer.readBytes(length);
    }
    return keys;
  }

  /**
   * What a test can show of a CSPRNG: no zero key, no repeat beyond chance (2 repeats in 1000
   * 32-bit keys happen with p < 1e-8), no constant step (a counter) and no constant XOR between
   * neighbours. It cannot prove unpredictability; the source check below shows where keys come
   * from.
   */
  function assertUnpredictableInTheTrivialWays(keys: number[]): void {
    assert.ok(!keys.includes(0), 'no zero mask');
    assert.ok(new Set(keys).size >= keys.length - 1, `${keys.length - new Set(keys).size} repeats`);
    const steps = new Set(keys.slice(1).map((k, i) => (k - keys[i]) >>> 0));
    assert.ok(steps.size > keys.length / 2, 'not a counter');
    const xors = new Set(keys.slice(1).map((k, i) => (k ^ keys[i]) >>> 0));
    assert.ok(xors.size > keys.length / 2, 'not a fixed XOR sequence');
  }

  it('GHSA-w67g-5rqw-f597 (gorilla): connect() masks 1000 frames with keys that are distinct, not sequential, not zero', async () => {
    const { client, peer } = await messageClient();
    for (let i = 0; i < 1000; i++) void client.send('m');
    assertUnpredictableInTheTrivialWays(await keysOf(peer, 1000));
    client.terminate();
  });

  it('GHSA-w67g-5rqw-f597 (gorilla): POCO masks 1000 frames with keys that are distinct, not sequential, not zero', async () => {
    const { ws, peer } = await pocoClient(server);
    for (let i = 0; i < 1000; i++) await ws.sendFrame('m');
    assertUnpredictableInTheTrivialWays(await keysOf(peer, 1000));
    ws.close();
  });

  it('GHSA-w67g-5rqw-f597 (gorilla): the mask generator both clients use draws from node:crypto', async () => {
    const source = await readFile(`${projectRoot}/src/protocol/mask.ts`, 'utf8');
    assert.match(source, /import \{[^}]*randomFillSync[^}]*\} from 'node:crypto'/);
    assert.match(source, /export const randomMask[\s\S]{0,200}randomFillSync\(/);
    assert.doesNotMatch(source, /Math\.random/);
  });

  it('CVE-2016-10518 (ws): connect() ping(number) rejects and sends nothing; ping(Uint16Array) sends exactly its bytes', async () => {
    const { client, peer } = await messageClient();
    await assert.rejects(client.ping(1000 as unknown as string), TypeError);
    const words = new Uint16Array([0x0102, 0xa0b0, 0xffff]);
    void client.ping(words);
    const frame = await peer.readFrame();
    assert.equal(frame.flags, FIN | OP_PING, 'the first frame out is the second ping');
    assert.deepEqual(frame.payload, Buffer.from(words.buffer));
    client.terminate();
    await watch.assertNone();
  });

  it('CVE-2016-10518 (ws): POCO sendFrame(number) rejects and sends nothing; a Uint16Array ping goes out as its bytes', async () => {
    const { ws, peer } = await pocoClient(server);
    await assert.rejects(ws.sendFrame(1000 as unknown as string, undefined, FIN | OP_PING));
    const words = new Uint16Array([0x0102, 0xa0b0, 0xffff]);
    await ws.sendFrame(words, undefined, FIN | OP_PING);
    const frame = await peer.readFrame();
    assert.equal(frame.flags, FIN | OP_PING);
    assert.deepEqual(frame.payload, Buffer.from(words.buffer));
    ws.close();
    await watch.assertNone();
  });

  it('CVE-2026-45736 (ws): connect() close(1000, a Uint16Array reason) rejects with InvalidArgumentError and sends nothing (the reason is a string)', async () => {
    const { client, peer } = await messageClient();
    const reason = new Uint16Array([0x6968, 0x2121]);
    await assert.rejects(client.close(1000, reason as unknown as string), InvalidArgumentError);
    await client.send('still open');
    const frame = await peer.readFrame();
    assert.equal(frame.flags, FIN | OP_TEXT, 'the first frame out is the text, no close before it');
    assert.equal(frame.payload.toString(), 'still open');
    client.terminate();
    await watch.assertNone();
  });

  it('CVE-2026-45736 (ws): POCO shutdown(1000, a Uint16Array reason) sends exactly its bytes (not its elements truncated to bytes)', async () => {
    const { ws, peer } = await pocoClient(server);
    const reason = new Uint16Array([0x6968, 0x2121]);
    // POCO sends what it is given (its statusMessage is a std::string): here, the bytes.
    assert.equal(await ws.shutdown(1000, reason as unknown as string), 6);
    const frame = await peer.readFrame();
    assert.equal(frame.flags, FIN | OP_CLOSE);
    assert.deepEqual(
      frame.payload,
      Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(reason.buffer)]),
    );
    ws.close();
    await watch.assertNone();
  });
});
