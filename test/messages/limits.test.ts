// Issue 8: what a hostile or slow peer can make the message API spend, and what must still end
// on time. Memory is measured in a child process (test/fixtures/limits-peer.ts, RSS after
// gc()); everything runs on loopback, and every flood is bounded in bytes and time.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  TimeoutError,
  WebSocketServer,
  connect,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import {
  FRAME_FLAG_FIN,
  FRAME_OP_BINARY,
  FRAME_OP_PING,
  FRAME_OP_TEXT,
} from '../../src/protocol/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { FixtureChild, MiB, mb, pump } from '../helpers/fixture-child.js';
import { startFrameServer } from '../helpers/frame-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { header, startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;
const FRAME_BINARY = FRAME_FLAG_FIN | FRAME_OP_BINARY;

const servers: WebSocketServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => withTimeout(server.close(), 15_000)));
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `promise`'s outcome, or 'pending' if it has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending')));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `count` ping frames with 125-byte payloads, back to back: masked (a client's) or not. */
function pingFrames(count: number, masked: boolean): Buffer {
  const payload = Buffer.alloc(125, 0x70);
  const [one] = encodeFrame(
    FRAME_FLAG_FIN | FRAME_OP_PING,
    payload,
    masked ? fixedMask([1, 2, 3, 4]) : null,
  );
  return Buffer.concat(Array.from({ length: count }, () => one));
}

describe('ping flood (finding 4)', () => {
  // About 1 MiB of pings per write; at most 1 GiB or 6 s of them.
  const FLOOD = { maxBytes: 1024 * MiB, timeMs: 6000, stallMs: 2000 };
  const MAX_GROWTH = 100 * MiB;

  it('a client that sends pings and never reads leaves the server RSS bounded (< 100 MiB growth) and the server serving others', async () => {
    // finding 4 (server side)
    const server = await FixtureChild.start('limits-peer', ['echo-server']);
    try {
      const before = await server.memory();
      const { client: flooder } = await RawClient.open(server.port, '/');
      flooder.socket.pause(); // never reads: the pongs pile up on the server's side
      const flood = await pump(flooder.socket, pingFrames(8000, true), FLOOD);
      const afterFlood = await server.memory(15_000);
      const growth = afterFlood.rss - before.rss;

      const { client: other } = await RawClient.open(server.port, '/');
      other.sendFrame(FRAME_TEXT, 'still there?');
      const echo = await other.readFrame(5000);
      other.destroy();
      flooder.destroy();

      assert.ok(
        growth < MAX_GROWTH,
        `server RSS grew by ${mb(growth)} (${mb(before.rss)} -> ${mb(afterFlood.rss)}) after ${mb(flood.bytes)} of pings in ${flood.ms} ms (stopped: ${flood.stopped})`,
      );
      assert.equal(echo.flags, FRAME_TEXT);
      assert.equal(echo.payload.toString(), 'still there?');
    } finally {
      server.kill();
    }
  });

  it('a server that sends pings and never reads leaves the connect() client RSS bounded (< 100 MiB growth)', async () => {
    // finding 4 (client side)
    const frameServer = await startFrameServer();
    const client = await FixtureChild.start('limits-peer', ['hoarding-client', frameServer.url]);
    try {
      const peer = await frameServer.next();
      peer.socket.pause(); // never reads: the client's pongs pile up on its side
      const before = await client.memory();
      const flood = await pump(peer.socket, pingFrames(8000, false), FLOOD);
      const afterFlood = await client.memory(15_000);
      const growth = afterFlood.rss - before.rss;
      assert.ok(
        growth < MAX_GROWTH,
        `connect() client RSS grew by ${mb(growth)} (${mb(before.rss)} -> ${mb(afterFlood.rss)}) after ${mb(flood.bytes)} of pings in ${flood.ms} ms (stopped: ${flood.stopped})`,
      );
    } finally {
      client.kill();
      await frameServer.stop();
    }
  });
});

describe('the inbox is bounded in bytes (finding 6)', () => {
  it('8 MiB messages to a connection nobody reads: server RSS grows by < maxInboxBytes + 2 messages + 16 MiB, not 16 messages', async () => {
    // finding 6 (message API): the fixture's server sets maxInboxBytes: 1 MiB and never reads
    const MESSAGE = 8 * MiB;
    const bound = 1 * MiB + 2 * MESSAGE + 16 * MiB;
    const server = await FixtureChild.start('limits-peer', ['hoarding-server']);
    try {
      const before = await server.memory();
      const { client } = await RawClient.open(server.port, '/');
      const [frame] = encodeFrame(
        FRAME_BINARY,
        Buffer.alloc(MESSAGE, 0x5a),
        fixedMask([9, 8, 7, 6]),
      );
      // Up to 24 messages (192 MiB), within 8 s; the server stops reading when its inbox is full.
      const sent = await pump(client.socket, frame, {
        maxBytes: 24 * frame.length,
        timeMs: 8000,
        stallMs: 1500,
      });
      const afterSending = await server.memory();
      client.destroy();
      const growth = afterSending.rss - before.rss;
      assert.ok(
        growth < bound,
        `server RSS grew by ${mb(growth)} (${mb(before.rss)} -> ${mb(afterSending.rss)}; bound ${mb(bound)}) after the client wrote ${(sent.bytes / frame.length).toFixed(0)} messages of ${mb(MESSAGE)} (stopped: ${sent.stopped})`,
      );
    } finally {
      server.kill();
    }
  });
});

describe('WebSocketServer.close() ends on time (finding 11)', () => {
  it('resolves within about closeTimeout while a peer holds a half-sent HTTP request', async () => {
    // finding 11 (a): node:http stops checking headersTimeout once it is closed
    const server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      handshakeTimeout: 1000,
      closeTimeout: 1000,
    });
    servers.push(server);
    const client = await RawClient.connect(server.address().port);
    try {
      client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // then silence
      await sleep(100);
      const started = Date.now();
      const closing = server.close();
      const outcome = await withTimeout(closing, 3000);
      assert.notEqual(
        outcome,
        'pending',
        `close() still pending after ${Date.now() - started} ms (handshakeTimeout and closeTimeout 1000 ms)`,
      );
    } finally {
      client.destroy();
    }
  });

  it('resolves within about closeTimeout while a silent peer has a full send queue', async () => {
    // finding 11 (b): a hard-coded 10 s linger came on top of closeTimeout
    const closeTimeout = 500;
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', closeTimeout });
    servers.push(server);
    let serverSide: WebSocketConnection | undefined;
    server.on('connection', (connection) => {
      serverSide = connection;
      const message = Buffer.alloc(MiB, 1);
      // More than the kernel and maxQueuedBytes (16 MiB) take: the queue is full.
      for (let i = 0; i < 40; i++) connection.send(message).catch(() => undefined);
    });
    const { client } = await RawClient.open(server.address().port, '/');
    try {
      client.socket.pause(); // silent: never reads, never answers the close
      await sleep(300);
      assert.ok(
        serverSide !== undefined && serverSide.bufferedAmount > 4 * MiB,
        `send queue: ${mb(serverSide?.bufferedAmount ?? 0)}`,
      );
      const started = Date.now();
      const outcome = await withTimeout(server.close(), closeTimeout + 1500);
      assert.notEqual(
        outcome,
        'pending',
        `close() still pending after ${Date.now() - started} ms (closeTimeout ${closeTimeout} ms)`,
      );
    } finally {
      client.destroy();
    }
  });
});

describe('connect() stops at its handshake timeout (finding 12)', () => {
  const HANDSHAKE_TIMEOUT = 500;
  const UNAUTHORIZED =
    'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\n' +
    'Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';

  /**
   * A server that answers every request with a 401 whose chunked body never ends: a chunk every
   * 100 ms, for at most 20 s. `stop()` ends the chunks and every connection.
   */
  async function endless401(): Promise<ScriptedServer> {
    const timers: NodeJS.Timeout[] = [];
    const started: { server?: ScriptedServer } = {};
    const server = await startScriptedServer((request) => {
      // The script runs for a request, so its connection is in `sockets` already.
      const socket = started.server!.sockets[request.connection];
      let ticks = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || ++ticks > 200) clearInterval(timer);
        else socket.write('1\r\nx\r\n');
      }, 100);
      timers.push(timer);
      return `${UNAUTHORIZED}1\r\nx\r\n`;
    });
    started.server = server;
    return {
      port: server.port,
      requests: server.requests,
      sockets: server.sockets,
      stop: () => {
        for (const timer of timers) clearInterval(timer);
        server.stop();
      },
    };
  }

  it('after the timeout of an endless 401: no second TCP connection, no credentials sent, the socket closed', async () => {
    // finding 12: the 401 retry went on after the deadline
    const server = await endless401();
    try {
      const started = performance.now();
      await assert.rejects(
        connect(`ws://127.0.0.1:${server.port}/`, {
          credentials: { username: 'user', password: 'secret' },
          handshakeTimeout: HANDSHAKE_TIMEOUT,
        }),
        TimeoutError,
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed < HANDSHAKE_TIMEOUT + 500, `rejected after ${elapsed.toFixed(0)} ms`);
      await sleep(1000); // whatever connect() still does after its deadline happens now
      const withCredentials = server.requests.filter(
        (request) => header(request, 'Authorization') !== undefined,
      );
      assert.deepEqual(
        {
          connections: server.sockets.length,
          requestsWithCredentials: withCredentials.length,
          open: server.sockets.filter((socket: net.Socket) => !socket.destroyed).length,
        },
        { connections: 1, requestsWithCredentials: 0, open: 0 },
      );
    } finally {
      server.stop();
    }
  });

  it('a process whose connect() timed out on an endless 401 exits on its own', async () => {
    // finding 12: the socket of the late retry leaked and kept the process alive
    const server = await endless401();
    const child = await FixtureChild.start('limits-peer', [
      'connect-401',
      `ws://127.0.0.1:${server.port}/`,
      String(HANDSHAKE_TIMEOUT),
    ]);
    try {
      const outcome = await child.next('outcome', HANDSHAKE_TIMEOUT + 3000);
      assert.equal(outcome.className, 'TimeoutError', JSON.stringify(outcome));
      const exit = await child.exited(3000);
      assert.deepEqual(
        { exited: exit !== undefined, connections: server.sockets.length },
        { exited: true, connections: 1 },
        `3 s after connect() rejected (${JSON.stringify(outcome)}), the child ${exit === undefined ? 'still runs' : 'exited'}; the server accepted ${server.sockets.length} connection(s)`,
      );
    } finally {
      child.kill();
      server.stop();
    }
  });
});

describe('idleTimeout counts any bytes received (finding 13)', () => {
  it('does not close (1001) a client whose large frame is still arriving, a few bytes every 100 ms', async () => {
    // finding 13: bytes of a frame in progress did not count as received
    const idleTimeout = 300;
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', idleTimeout });
    servers.push(server);
    server.on('connection', (connection) => {
      void (async () => {
        try {
          for await (const message of connection) await connection.send(message);
        } catch {
          // closed abnormally
        }
      })();
    });
    const { client } = await RawClient.open(server.address().port, '/');
    try {
      const payload = Buffer.alloc(1000, 0x41);
      const [frame] = encodeFrame(FRAME_BINARY, payload, fixedMask([5, 6, 7, 8]));
      // 8 header bytes, then 8 bytes every 100 ms for 1.5 s (five times idleTimeout).
      let offset = 0;
      for (let step = 0; step < 16; step++) {
        client.write(frame.subarray(offset, offset + 8));
        offset += 8;
        await sleep(100);
        if (client.pending > 0 || client.ended) {
          const sent = client.pending > 0 ? await client.readFrame(100) : undefined;
          assert.fail(
            `after ${(step + 1) * 100} ms of upload (idleTimeout ${idleTimeout} ms) the server ` +
              (sent === undefined
                ? 'closed the connection'
                : `sent flags 0x${sent.flags.toString(16)}, code ${sent.payload.length >= 2 ? sent.payload.readUInt16BE(0) : '-'} ${JSON.stringify(sent.payload.subarray(2).toString())}`),
          );
        }
      }
      client.write(frame.subarray(offset));
      const echo = await client.readFrame(2000);
      assert.equal(echo.flags, FRAME_BINARY);
      assert.ok(echo.payload.equals(payload));
    } finally {
      client.destroy();
    }
  });
});
