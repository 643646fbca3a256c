// Issue 8: what a peer can make the POCO facade spend, and a client handshake that must end.
// Memory is measured in a child process (test/fixtures/limits-peer.ts, RSS after gc()) running
// a POCO HTTPServer; everything runs on loopback, and every stream is bounded in bytes and time.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  HTTPClientSession,
  HTTPCredentials,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  TimeoutException,
  Timespan,
  WebSocket,
} from '../../src/poco/index.js';
import { FRAME_BINARY } from '../../src/poco/constants.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { FixtureChild, MiB, mb, pump } from '../helpers/fixture-child.js';
import { RawClient } from '../helpers/raw-client.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

describe('POCO facade: payloads over the receive buffer (finding 5)', () => {
  it('a frame announcing 2^31 - 1 bytes: receiveFrame(1 KiB) rejects with 10 on the header, and 200 MiB streamed after it do not stay in memory', async () => {
    // finding 5: the frame was buffered whole before "Insufficient buffer" could be said
    const server = await FixtureChild.start('limits-peer', ['poco-frame-server']);
    try {
      const before = await server.memory();
      const { client } = await RawClient.open(server.port, '/ws');
      await server.next('accepted');
      // FIN | BINARY, MASK | 127, a 64-bit length of 2^31 - 1, then the masking key.
      client.write(Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
      const streamed = await pump(client.socket, Buffer.alloc(MiB, 0x33), {
        maxBytes: 200 * MiB,
        timeMs: 8000,
        stallMs: 1500,
      });
      const afterStreaming = await server.memory();
      const growth = afterStreaming.rss - before.rss;
      // What receiveFrame said while the frame was still arriving (not what the end said).
      const failure = await server.next('receive-error', 1000).catch(() => undefined);
      const received = server.peek('received');
      client.destroy();
      assert.ok(
        growth < 50 * MiB,
        `server RSS grew by ${mb(growth)} (${mb(before.rss)} -> ${mb(afterStreaming.rss)}) after ${mb(streamed.bytes)} of the frame's payload (stopped: ${streamed.stopped}); receiveFrame: ${JSON.stringify(failure ?? received ?? 'still pending')}`,
      );
      assert.deepEqual(
        failure && { className: failure.className, code: failure.code, message: failure.message },
        {
          className: 'WebSocketException',
          code: WebSocket.WS_ERR_PAYLOAD_TOO_BIG,
          message: 'Insufficient buffer for payload size 2147483647',
        },
      );
    } finally {
      server.kill();
    }
  });
});

describe('POCO facade: the receive budget counts per-frame overhead (finding 6)', () => {
  it('1-byte frames to a handler that does not read: server RSS grows by < 12 MiB, not ~46 MB', async () => {
    // finding 6 (POCO): 1 MiB of 1-byte frames was counted as 1 MiB while costing tens of MB
    const server = await FixtureChild.start('limits-peer', ['poco-idle-server']);
    try {
      const before = await server.memory();
      const { client } = await RawClient.open(server.port, '/ws');
      await server.next('accepted');
      const [one] = encodeFrame(FRAME_BINARY, Buffer.from([0x42]), fixedMask([1, 2, 3, 4]));
      const chunk = Buffer.concat(Array.from({ length: 65536 }, () => one)); // 64 Ki frames
      // Up to 32 MiB of frames (~4.8 million) within 8 s; the server stops reading at its budget.
      const sent = await pump(client.socket, chunk, {
        maxBytes: 32 * MiB,
        timeMs: 8000,
        stallMs: 1500,
      });
      const afterSending = await server.memory();
      client.destroy();
      const growth = afterSending.rss - before.rss;
      assert.ok(
        growth < 12 * MiB,
        `server RSS grew by ${mb(growth)} (${mb(before.rss)} -> ${mb(afterSending.rss)}; heap ${mb(before.heapUsed)} -> ${mb(afterSending.heapUsed)}) after the client wrote ${sent.bytes / one.length} frames of 1 byte (stopped: ${sent.stopped})`,
      );
    } finally {
      server.kill();
    }
  });
});

describe('POCO client: a 401 whose body never ends (finding 12)', () => {
  it('WebSocket.connect rejects with TimeoutException within about the session receive timeout', async () => {
    // finding 12 (POCO): draining the 401 body ignored the receive timeout and hung
    const server = await startScriptedServer(
      () =>
        'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', // then no last chunk, ever
    );
    const session = new HTTPClientSession('127.0.0.1', server.port);
    // Connect 2 s, send 2 s, receive 0.5 s (microseconds).
    session.setTimeout(new Timespan(2, 0), new Timespan(2, 0), new Timespan(0, 500_000));
    const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
    const started = performance.now();
    const connecting = WebSocket.connect(
      session,
      request,
      new HTTPResponse(),
      new HTTPCredentials('user', 'secret'),
    ).then(
      (ws) => {
        ws.close();
        return 'connected';
      },
      (error: unknown) => error,
    );
    try {
      const outcome = await Promise.race([
        connecting,
        new Promise((resolve) => setTimeout(resolve, 4000, 'still pending')),
      ]);
      const elapsed = performance.now() - started;
      assert.ok(
        outcome instanceof TimeoutException,
        `after ${elapsed.toFixed(0)} ms: ${String(outcome)}`,
      );
      assert.ok(elapsed < 2000, `TimeoutException after ${elapsed.toFixed(0)} ms`);
      assert.equal(server.requests.length, 1);
    } finally {
      server.stop();
      await connecting;
    }
  });
});
