// POCO's own WebSocketTest (Net/testsuite/src/WebSocketTest.cpp and the NetSSL_OpenSSL one),
// ported to TypeScript against the wsnet server, over loopback TCP and over TLS. The client
// side here is written at the socket level (test/helpers/raw-client.ts); the POCO client is a
// later issue. Each test names the POCO test it ports (poco-behaviour.md (b)).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import {
  HTTPServerParams,
  PocoBuffer,
  TimeoutException,
  Timespan,
  WebSocket,
  type HTTPRequestHandler,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startEchoServer, startServer, type RunningServer } from '../helpers/poco-server.js';

const FRAME_TEXT = 0x81;
const FRAME_BINARY = 0x82;

for (const secure of [false, true]) {
  const transport = secure ? 'TLS' : 'TCP';
  const tlsOptions = (server: RunningServer) =>
    server.tls === undefined ? {} : { tls: { ca: server.tls.cert } };

  describe(`POCO WebSocketTest over ${transport}`, () => {
    it('testWebSocket: 1..19 bytes, the 125..128 length boundary, text and binary, close echo', async () => {
      const server = await startEchoServer({ secure });
      try {
        const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
        const echo = async (payload: string, flags = FRAME_TEXT) => {
          client.sendFrame(flags, payload);
          const frame = await client.readFrame();
          assert.equal(frame.masked, false, 'server frames are not masked');
          assert.equal(frame.flags, flags);
          assert.equal(frame.payload.toString(), payload);
        };
        await echo('x');
        for (let i = 2; i < 20; i++) {
          await echo('x'.repeat(i));
          await echo('x'.repeat(i));
        }
        for (let i = 125; i < 129; i++) {
          await echo('x'.repeat(i));
          await echo('x'.repeat(i));
        }
        await echo('Hello, world!');
        await echo('Hello, universe!', FRAME_BINARY);
        client.sendFrame(0x88, Buffer.from([0x03, 0xe8])); // ws.shutdown()
        const close = await client.readFrame();
        assert.equal(close.payload.length, 2);
        assert.equal(close.flags & 0x0f, 0x08);
        assert.deepEqual([...close.payload], [0x03, 0xe8]);
        client.destroy();
      } finally {
        server.stop();
      }
    });

    it('testWebSocketLarge: 64000 bytes as 1024-byte binary frames, each echoed', async () => {
      const server = await startEchoServer({ secure, bufSize: 64000 });
      try {
        const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
        const payload = Buffer.alloc(64000, 'x');
        // What POCO's SocketStream does with a 64000-byte write: 62 frames of 1024, one of 512.
        for (let at = 0; at < payload.length; at += 1024)
          client.sendFrame(FRAME_BINARY, payload.subarray(at, at + 1024));
        const received: Buffer[] = [];
        let n = 0;
        while (n < payload.length) {
          const frame = await client.readFrame();
          received.push(frame.payload);
          n += frame.payload.length;
        }
        assert.equal(n, 64000);
        assert.ok(Buffer.concat(received).equals(payload));
        client.destroy();
      } finally {
        server.stop();
      }
    });

    for (const msgSize of [64000, 70000]) {
      it(`testWebSocketLargeInOneFrame: ${msgSize} bytes in one frame (${msgSize < 65536 ? '16' : '64'}-bit length)`, async () => {
        const server = await startEchoServer({ secure, bufSize: msgSize });
        try {
          const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
          const payload = Buffer.alloc(msgSize, 'x');
          for (let round = 0; round < 2; round++) {
            client.sendFrame(FRAME_TEXT, payload);
            const frame = await client.readFrame();
            assert.equal(frame.payload.length, msgSize);
            assert.ok(frame.payload.equals(payload));
          }
          client.destroy();
        } finally {
          server.stop();
        }
      });
    }

    it('testWebSocketNB (the non-blocking side on the server): -1 until a frame is whole, then 1 and 256000 bytes', async () => {
      const results: Array<{ step: string; n: number; flags?: number }> = [];
      const handler: HTTPRequestHandler = {
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          ws.setBlocking(false);
          const buffer = new Uint8Array(256 * 1024);
          const first = await ws.receiveFrame(buffer);
          results.push({ step: 'nothing sent yet', n: first.n });
          const sent = await ws.sendFrame('ready', 5);
          results.push({ step: 'sendFrame', n: sent });
          ws.setSendBufferSize(256 * 1024);
          ws.setReceiveBufferSize(256 * 1024);
          for (let frames = 0; frames < 3; frames++) {
            let frame = await ws.receiveFrame(buffer);
            while (frame.n < 0) {
              if (await ws.poll(new Timespan(5, 0), WebSocket.SELECT_READ))
                frame = await ws.receiveFrame(buffer);
              else break;
            }
            results.push({ step: `frame ${frames}`, n: frame.n, flags: frame.flags });
            if ((frame.flags & 0x0f) === 0x08) {
              const n = await ws.shutdown();
              results.push({ step: 'shutdown', n });
            } else {
              results.push({ step: 'echo', n: await ws.sendFrame(buffer, frame.n, frame.flags) });
            }
          }
        },
      };
      const server = await startServer({ createRequestHandler: () => handler }, { secure });
      try {
        const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
        assert.equal((await client.readFrame()).payload.toString(), 'ready');
        client.sendFrame(FRAME_TEXT, 'x');
        assert.equal((await client.readFrame()).payload.toString(), 'x');
        const big = Buffer.alloc(256000, 'z');
        client.sendFrame(FRAME_TEXT, big);
        assert.ok((await client.readFrame()).payload.equals(big));
        client.sendFrame(0x88, Buffer.from([0x03, 0xe8]));
        const close = await client.readFrame();
        assert.equal(close.flags, 0x88);
        assert.equal(close.payload.length, 2);
        assert.deepEqual(results, [
          { step: 'nothing sent yet', n: -1 },
          { step: 'sendFrame', n: 5 },
          { step: 'frame 0', n: 1, flags: FRAME_TEXT },
          { step: 'echo', n: 1 },
          { step: 'frame 1', n: 256000, flags: FRAME_TEXT },
          { step: 'echo', n: 256000 },
          { step: 'frame 2', n: 2, flags: 0x88 },
          { step: 'shutdown', n: 2 },
        ]);
        client.destroy();
      } finally {
        server.stop();
      }
    });

    it('testWebSocketTimeout (server side): a receive timeout throws TimeoutException, and the stream stays usable', async () => {
      let outcome: unknown;
      let elapsed = -1;
      let afterTimeout = '';
      const handler: HTTPRequestHandler = {
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          ws.setReceiveTimeout(new Timespan(0, 300_000)); // 0.3 s
          const buffer = new Uint8Array(64);
          const start = performance.now();
          try {
            await ws.receiveFrame(buffer);
          } catch (error) {
            outcome = error;
            elapsed = performance.now() - start;
          }
          ws.setReceiveTimeout(new Timespan(5, 0));
          const { n } = await ws.receiveFrame(buffer);
          afterTimeout = Buffer.from(buffer.subarray(0, n)).toString();
          await ws.shutdown();
        },
      };
      const server = await startServer({ createRequestHandler: () => handler }, { secure });
      try {
        const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
        // Half a frame before the timeout, the rest after it: the partial frame must survive.
        const frame = Buffer.concat([
          Buffer.from([0x81, 0x85, 1, 2, 3, 4]),
          Buffer.from('later').map((b, i) => b ^ [1, 2, 3, 4][i % 4]),
        ]);
        client.write(frame.subarray(0, 4));
        await new Promise((resolve) => setTimeout(resolve, 600));
        client.write(frame.subarray(4));
        const close = await client.readFrame();
        assert.equal(close.flags, 0x88);
        assert.ok(
          outcome instanceof TimeoutException,
          `expected a TimeoutException, got ${String(outcome)}`,
        );
        assert.equal(outcome.displayText(), 'Timeout');
        assert.ok(elapsed >= 250 && elapsed < 2000, `timed out after ${elapsed} ms`);
        assert.equal(afterTimeout, 'later');
        client.destroy();
      } finally {
        server.stop();
      }
    });

    it('receiveFrame(PocoBuffer) appends: size() == n after each frame, from PocoBuffer(0)', async () => {
      const sizes: number[] = [];
      const handler: HTTPRequestHandler = {
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          for (let i = 0; i < 3; i++) {
            const buffer = new PocoBuffer(0);
            assert.equal(buffer.size(), 0);
            const { n, flags } = await ws.receiveFrame(buffer);
            sizes.push(n, buffer.size());
            await ws.sendFrame(buffer.begin(), n, flags);
          }
          const kept = new PocoBuffer(0);
          await ws.receiveFrame(kept);
          await ws.receiveFrame(kept);
          sizes.push(kept.size());
        },
      };
      const server = await startServer({ createRequestHandler: () => handler }, { secure });
      try {
        const { client } = await RawClient.open(server.port, '/ws', tlsOptions(server));
        for (const size of [1, 126, 70000]) {
          client.sendFrame(FRAME_BINARY, Buffer.alloc(size, 7));
          assert.equal((await client.readFrame()).payload.length, size);
        }
        client.sendFrame(FRAME_TEXT, 'ab');
        client.sendFrame(FRAME_TEXT, 'cde');
        await client.closed();
        assert.deepEqual(sizes, [1, 1, 126, 126, 70000, 70000, 5]);
      } finally {
        server.stop();
      }
    });
  });
}

describe('POCO defaults', () => {
  let server: RunningServer;
  let ws: WebSocket | undefined;
  before(async () => {
    server = await startEchoServer({ onWebSocket: (socket) => (ws = socket) });
  });
  after(() => server.stop());

  it('the server-side receive timeout is HTTPServerParams.getTimeout() (60 s), send timeout none, mode WS_SERVER', async () => {
    const { client } = await RawClient.open(server.port);
    client.sendFrame(FRAME_TEXT, 'x');
    await client.readFrame();
    assert.ok(ws !== undefined);
    assert.equal(ws.getReceiveTimeout().totalMicroseconds(), 60_000_000);
    assert.equal(ws.getSendTimeout().totalMicroseconds(), 0);
    assert.equal(ws.mode(), WebSocket.WS_SERVER);
    assert.equal(ws.getMaxPayloadSize(), 2147483647);
    assert.equal(new HTTPServerParams().getTimeout().totalSeconds(), 60);
    client.destroy();
  });
});
