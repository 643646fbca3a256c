// A peer that stops reading mid-message, against each server's sending side (test/security/ has
// the client's sending side, a server that never reads, and the server's memory against a client
// that never reads its echoes; this is the server's send queue and its close): the server sends
// far more than the socket buffers hold (64 KiB messages; POCO: one message in 1 MiB frames) to a
// client that paused its socket mid-message. Message API: sends not awaited
// reject with SendQueueFullError once maxQueuedBytes would be passed, and what waits for the
// kernel stays within that bound; an awaited send waits (the next one is never issued) and
// completes once the peer reads again, every byte in order; close() against the stalled peer
// drops TCP after closeTimeout (wasClean false). POCO: sendFrame waits, then rejects with
// TimeoutException after the send timeout, the bytes it accepted bounded; close() (linger 0)
// drops TCP.
// Either way only that connection ends and a good client is served meanwhile.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  SendQueueFullError,
  WebSocketServer,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import {
  TimeoutException,
  WebSocket,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { startServer, type RunningServer } from '../helpers/poco-server.js';
import { echo } from '../helpers/echo-servers.js';
import { RawClient } from '../helpers/raw-client.js';
import { EscapeWatch } from '../helpers/security-client.js';
import { settlesWithin, within } from '../helpers/wait.js';
import { goodVisit, until } from './fault-kit.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

const watch = new EscapeWatch();
before(() => watch.install());
after(() => watch.uninstall());

describe('a client that stops reading: message API WebSocketServer', () => {
  let server: WebSocketServer;
  /** The next connection the test takes over (the server does not echo on it), and its socket. */
  let taken: Array<{ connection: WebSocketConnection; socket: net.Socket }> = [];
  let takeNext = false;
  before(async () => {
    server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      maxQueuedBytes: 1 * MiB,
      closeTimeout: 300,
    });
    server.on('connection', (connection, request) => {
      if (takeNext) {
        takeNext = false;
        connection.on('error', () => undefined);
        taken.push({ connection, socket: request.socket });
      } else void echo(connection);
    });
  });
  after(() => server.close());

  /** A client that completed the handshake and then paused its socket, and the server's side. */
  async function stalledPeer() {
    taken = [];
    takeNext = true;
    const { client } = await RawClient.open(server.address().port, '/ws');
    client.socket.pause();
    await until(() => taken.length === 1, 'the connection');
    return { client, ...taken[0] };
  }

  it('sends not awaited reject with SendQueueFullError past maxQueuedBytes; bufferedAmount stays within it; close() drops TCP after closeTimeout', async () => {
    const { client, connection, socket } = await stalledPeer();
    const chunk = Buffer.alloc(CHUNK, 0x61);
    let full: unknown;
    let highest = 0;
    const sends: Array<Promise<void>> = [];
    // 64 KiB binary messages, none awaited: at most 256 MiB are tried.
    for (let i = 0; i < 4096 && full === undefined; i++) {
      const sent = connection.send(chunk);
      sends.push(sent);
      sent.catch((error: unknown) => (full ??= error));
      highest = Math.max(highest, connection.bufferedAmount);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(full instanceof SendQueueFullError, `no SendQueueFullError: ${String(full)}`);
    assert.equal(full.limit, 1 * MiB);
    assert.ok(
      highest <= 1 * MiB + 2 * CHUNK,
      `bufferedAmount reached ${highest} bytes (limit ${1 * MiB})`,
    );
    // Meanwhile the server serves others.
    await goodVisit(server.address().port, 'a peer stalled the send queue');
    // The close frame waits behind what the peer does not read: closeTimeout drops TCP.
    const status = await within(connection.close(1000, 'bye'), 5000, 'close()');
    assert.equal(status.wasClean, false, JSON.stringify(status));
    await until(() => socket.destroyed, "the server's socket to be destroyed");
    await until(() => server.clients.size === 0, 'no connection left');
    await Promise.allSettled(sends);
    client.destroy();
    await watch.assertNone();
  });

  it('awaited sends wait while the peer does not read and complete, every byte in order, once it reads again', async () => {
    const { client, connection } = await stalledPeer();
    let sent = 0;
    let blocked: Promise<void> | undefined;
    // Awaited sends of one 64 KiB binary message each until one waits (at most 256 MiB).
    for (let i = 0; i < 4096 && blocked === undefined; i++) {
      const send = connection.send(Buffer.alloc(CHUNK, i & 0xff));
      sent++;
      if (!(await settlesWithin(send, 200))) blocked = send;
      else await send;
    }
    assert.ok(blocked !== undefined, 'every awaited send completed: the peer never held them');
    assert.ok(connection.bufferedAmount <= 1 * MiB + 2 * CHUNK, `${connection.bufferedAmount}`);
    client.socket.resume();
    await within(blocked, 10_000, 'the waiting send once the peer reads');
    for (let i = 0; i < sent; i++) {
      const frame = await client.readFrame(10_000);
      assert.equal(frame.payload.length, CHUNK, `message ${i}`);
      assert.equal(frame.payload[0], i & 0xff, `message ${i} in order`);
    }
    const status = await within(connection.close(1000), 5000, 'close()');
    assert.equal(status.code, 1006, 'the raw client never answers the close: dropped');
    client.destroy();
    await until(() => server.clients.size === 0, 'no connection left');
    await watch.assertNone();
  });
});

describe('a client that stops reading: POCO HTTPServer + WebSocket(request, response)', () => {
  let running: RunningServer;
  const results: Array<{ accepted: number; outcome: string }> = [];
  before(async () => {
    running = await startServer({
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          const buffer = new Uint8Array(1024);
          let { n, flags } = await ws.receiveFrame(buffer);
          if (Buffer.from(buffer.subarray(0, n)).toString() === 'stall') {
            // Stream a large message to a peer that does not read it.
            ws.setSendTimeout(1_000_000); // µs
            const chunk = new Uint8Array(1 * MiB);
            let accepted = 0;
            let outcome = 'never blocked';
            for (let i = 0; i < 256; i++) {
              try {
                await ws.sendFrame(chunk, chunk.length, i === 0 ? WebSocket.FRAME_BINARY : 0);
                accepted += chunk.length;
              } catch (error) {
                outcome = (error as Error).constructor.name;
                break;
              }
            }
            // close() would let the unsent bytes drain for up to 10 s (README, "What Node does
            // differently"); with linger 0 it is a reset, at once.
            ws.setLinger(true, 0);
            ws.close();
            results.push({ accepted, outcome });
            return;
          }
          // Anyone else: an echo, until the close.
          for (let frames = 0; frames < 1000 && n > 0; frames++) {
            await ws.sendFrame(buffer, n, flags);
            if ((flags & WebSocket.FRAME_OP_BITMASK) === WebSocket.FRAME_OP_CLOSE) break;
            ({ n, flags } = await ws.receiveFrame(buffer));
          }
          ws.close();
        },
      }),
    });
  });
  after(() => running.stop());

  it('sendFrame waits, then rejects with TimeoutException after the send timeout; the bytes it took are bounded; close() with linger 0 drops TCP', async () => {
    const { client } = await RawClient.open(running.port, '/ws');
    client.socket.pause();
    client.sendFrame(0x81, 'stall');
    await goodVisit(running.port, 'a peer stalled a sendFrame');
    await until(() => results.length === 1, 'the handler to give up', 30_000);
    const [result] = results;
    assert.equal(result.outcome, TimeoutException.name);
    assert.ok(result.accepted < 64 * MiB, `${result.accepted / MiB} MiB accepted before it waited`);
    // close() with linger 0 dropped TCP with the frame unsent; the good client's connection is
    // gone too.
    await until(() => running.server.currentConnections() === 0, 'TCP dropped by close()');
    await goodVisit(running.port, 'the stalled connection was closed');
    client.destroy();
    await watch.assertNone();
  });
});
