// Pipelined messages and the system calls of their replies: a read that brings many messages
// gets its replies in a few writes (one writev per read's worth, 64 KiB), in order, whether the
// application replies from 'message' listeners or from a `for await` loop, and however many
// bytes the replies add up to (more than the socket's 16 KiB high-water mark here: a batch is
// no congestion, and no reason for the sends in it to wait for a 'drain').
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type net from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer, type WebSocketConnection } from '../../src/messages/index.js';
import { FRAME_FLAG_FIN, FRAME_OP_BINARY } from '../../src/protocol/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { randomMask } from '../../src/protocol/mask.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';
import { waitFor } from '../helpers/wait.js';

const BINARY = FRAME_FLAG_FIN | FRAME_OP_BINARY;
const MESSAGES = 64;
const SIZE = 1024;

/** Counts the calls that hand bytes to the kernel (`_write` and `_writev`) on a socket. */
function countWrites(socket: net.Socket): { readonly count: number } {
  const counter = { count: 0 };
  const writable = socket as net.Socket & {
    _write: (...args: unknown[]) => void;
    _writev?: (...args: unknown[]) => void;
  };
  const write = writable._write.bind(socket);
  writable._write = (...args: unknown[]) => {
    counter.count++;
    write(...args);
  };
  const writev = writable._writev?.bind(socket);
  if (writev !== undefined)
    writable._writev = (...args: unknown[]) => {
      counter.count++;
      writev(...args);
    };
  return counter;
}

function echo(connection: WebSocketConnection, form: 'events' | 'for-await'): void {
  if (form === 'events') {
    connection.on('message', (data) => void connection.send(data));
    return;
  }
  void (async () => {
    try {
      for await (const message of connection) void connection.send(message);
    } catch {
      // the client went away
    }
  })();
}

describe('write batching of pipelined replies', () => {
  for (const form of ['events', 'for-await'] as const) {
    it(`${MESSAGES} messages of ${SIZE} bytes in one client write: the echoes (${form}) come back in order, in a few writes`, async () => {
      const wss = new WebSocketServer({ noServer: true });
      const httpServer = http.createServer();
      let writes: { readonly count: number } | undefined;
      httpServer.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head) => {
        void wss.handleUpgrade(request, socket, head).then((connection) => {
          if (connection === undefined) return;
          writes = countWrites(socket); // from after the 101
          echo(connection, form);
        });
      });
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      const port = (httpServer.address() as net.AddressInfo).port;
      const client = await RawClient.connect(port);
      try {
        client.write(upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ=='));
        assert.equal((await client.readHead()).status, 101);
        // All the frames in one write, each payload marked with its index.
        const frames = Array.from({ length: MESSAGES }, (_, i) =>
          encodeFrame(BINARY, Buffer.alloc(SIZE, i), randomMask),
        );
        client.write(Buffer.concat(frames.flat()));
        for (let i = 0; i < MESSAGES; i++) {
          const frame = await client.readFrame();
          assert.equal(frame.flags, BINARY);
          assert.deepEqual(frame.payload, Buffer.alloc(SIZE, i), `echo ${i} in its place`);
        }
        // 65 KiB of replies from one or two reads: one writev per read, or per 64 KiB of a
        // batch. It was one per 16 KiB of socket buffer (5 or more), and one per message (32 or
        // more) before batching.
        assert.ok(writes !== undefined);
        assert.ok(
          writes.count <= 3,
          `${writes.count} writes for ${MESSAGES} replies (expected at most 3)`,
        );
      } finally {
        client.destroy();
        await wss.close();
        await new Promise((resolve) => httpServer.close(resolve));
      }
    });
  }
});

describe('write batching of published messages', () => {
  it('four publishes in one turn reach each of three subscribers in order, in one write each', async () => {
    const SUBSCRIBERS = 3;
    const PUBLISHES = 4;
    const wss = new WebSocketServer({ noServer: true });
    const httpServer = http.createServer();
    const writes: Array<{ readonly count: number }> = [];
    const subscribed: WebSocketConnection[] = [];
    httpServer.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head) => {
      void wss.handleUpgrade(request, socket, head).then((connection) => {
        if (connection === undefined) return;
        connection.subscribe('news');
        writes.push(countWrites(socket)); // from after the 101
        subscribed.push(connection);
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const port = (httpServer.address() as net.AddressInfo).port;
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const client = await RawClient.connect(port);
        clients.push(client);
        client.write(upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ=='));
        assert.equal((await client.readHead()).status, 101);
      }
      await waitFor(() => subscribed.length === SUBSCRIBERS, 3000, 'the subscribers');
      // One turn of the event loop: the publishes of a handler, a timer, a read.
      for (let i = 0; i < PUBLISHES; i++)
        assert.equal(wss.publish('news', Buffer.alloc(SIZE, i)), SUBSCRIBERS);
      for (const client of clients)
        for (let i = 0; i < PUBLISHES; i++) {
          const frame = await client.readFrame();
          assert.equal(frame.flags, BINARY);
          assert.deepEqual(frame.payload, Buffer.alloc(SIZE, i), `publish ${i} in its place`);
        }
      // A write per subscriber per publish (4 each) without the batch.
      assert.deepEqual(
        writes.map((w) => w.count),
        Array.from({ length: SUBSCRIBERS }, () => 1),
      );
    } finally {
      for (const client of clients) client.destroy();
      await wss.close();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });
});
