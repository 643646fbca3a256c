// POCO's WebSocketTest (Net and NetSSL_OpenSSL), ported line by line: the wsnet POCO client
// (HTTPClientSession / HTTPSClientSession + WebSocket.connect) against the wsnet POCO server.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  Context,
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  HTTPSClientSession,
  PocoBuffer,
  TimeoutException,
  Timespan,
  WebSocket,
  type HTTPRequestHandlerFactory,
} from '../../src/poco/index.js';
import {
  startEchoServer,
  startServer,
  WebSocketRequestHandler,
  type RunningServer,
} from '../helpers/poco-server.js';

function session(server: RunningServer): HTTPClientSession {
  if (server.tls === undefined) return new HTTPClientSession('127.0.0.1', server.port);
  return new HTTPSClientSession(
    '127.0.0.1',
    server.port,
    new Context(Context.TLS_CLIENT_USE, { ca: server.tls.cert }),
  );
}

async function open(server: RunningServer, version = HTTPMessage.HTTP_1_1): Promise<WebSocket> {
  const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', version);
  return WebSocket.connect(session(server), request, new HTTPResponse());
}

function text(buffer: Uint8Array, n: number): string {
  return Buffer.from(buffer.subarray(0, n)).toString();
}

for (const secure of [false, true]) {
  describe(`POCO WebSocketTest, client and server, over ${secure ? 'TLS' : 'TCP'}`, () => {
    it('testWebSocket', async () => {
      const server = await startEchoServer({ secure });
      try {
        // NetSSL's version sends HTTP/1.0 requests; wsnet upgrades them to HTTP/1.1 (RFC 6455).
        const ws = await open(server, secure ? HTTPMessage.HTTP_1_0 : HTTPMessage.HTTP_1_1);
        const buffer = new Uint8Array(1024);
        let payload = 'x';
        let n = await ws.sendFrame(payload, payload.length);
        let frame = await ws.receiveFrame(buffer);
        assert.equal(frame.n, payload.length);
        assert.equal(text(buffer, frame.n), payload);
        assert.equal(frame.flags, WebSocket.FRAME_TEXT);

        for (let i = 2; i < 20; i++) {
          payload = 'x'.repeat(i);
          n = await ws.sendFrame(payload, payload.length);
          assert.equal(n, payload.length);
          frame = await ws.receiveFrame(buffer);
          assert.equal(frame.n, payload.length);
          assert.equal(text(buffer, frame.n), payload);
          assert.equal(frame.flags, WebSocket.FRAME_TEXT);

          n = await ws.sendFrame(payload, payload.length);
          const pocobuffer = new PocoBuffer(0);
          assert.equal(pocobuffer.size(), 0);
          frame = await ws.receiveFrame(pocobuffer);
          assert.equal(frame.n, payload.length);
          assert.equal(pocobuffer.size(), payload.length);
          assert.equal(pocobuffer.begin().toString(), payload);
          assert.equal(frame.flags, WebSocket.FRAME_TEXT);
        }

        for (let i = 125; i < 129; i++) {
          payload = 'x'.repeat(i);
          await ws.sendFrame(payload, payload.length);
          frame = await ws.receiveFrame(buffer);
          assert.equal(frame.n, payload.length);
          assert.equal(text(buffer, frame.n), payload);
          assert.equal(frame.flags, WebSocket.FRAME_TEXT);

          await ws.sendFrame(payload, payload.length);
          const pocobuffer = new PocoBuffer(0);
          frame = await ws.receiveFrame(pocobuffer);
          assert.equal(frame.n, payload.length);
          assert.equal(pocobuffer.begin().toString(), payload);
          assert.equal(frame.flags, WebSocket.FRAME_TEXT);
        }

        payload = 'Hello, world!';
        await ws.sendFrame(payload, payload.length);
        frame = await ws.receiveFrame(buffer);
        assert.equal(text(buffer, frame.n), payload);
        assert.equal(frame.flags, WebSocket.FRAME_TEXT);

        payload = 'Hello, universe!';
        await ws.sendFrame(payload, payload.length, WebSocket.FRAME_BINARY);
        frame = await ws.receiveFrame(buffer);
        assert.equal(text(buffer, frame.n), payload);
        assert.equal(frame.flags, WebSocket.FRAME_BINARY);

        await ws.shutdown();
        frame = await ws.receiveFrame(buffer);
        assert.equal(frame.n, 2);
        assert.equal(frame.flags & WebSocket.FRAME_OP_BITMASK, WebSocket.FRAME_OP_CLOSE);
        ws.close();
      } finally {
        server.stop();
      }
    });

    it('testWebSocketLarge: 64000 bytes written as 1024-byte binary frames (sendBytes, as SocketStream)', async () => {
      const msgSize = 64000;
      const server = await startEchoServer({ secure, bufSize: msgSize });
      try {
        const ws = await open(server);
        ws.setSendBufferSize(msgSize);
        ws.setReceiveBufferSize(msgSize);
        const payload = Buffer.alloc(msgSize, 'x');
        for (let at = 0; at < msgSize; at += 1024)
          await ws.sendBytes(payload.subarray(at, at + 1024));
        const buffer = new Uint8Array(msgSize + 1);
        let n = 0;
        let frame;
        do {
          frame = await ws.receiveFrame(buffer.subarray(n));
          n += frame.n;
        } while (frame.n > 0 && n < msgSize);
        assert.equal(n, msgSize);
        assert.ok(Buffer.from(buffer.subarray(0, n)).equals(payload));
        ws.close();
      } finally {
        server.stop();
      }
    });

    it('testWebSocketLargeInOneFrame: 64000 and 70000 bytes', async () => {
      for (const msgSize of [64000, 70000]) {
        const server = await startEchoServer({ secure, bufSize: msgSize });
        try {
          const ws = await open(server);
          ws.setSendBufferSize(msgSize);
          ws.setReceiveBufferSize(msgSize);
          const payload = Buffer.alloc(msgSize, 'x');
          assert.equal(await ws.sendFrame(payload, msgSize), msgSize);
          const buffer = new PocoBuffer(msgSize);
          let frame = await ws.receiveFrame(buffer.begin(), buffer.size());
          assert.equal(frame.n, msgSize);
          assert.ok(buffer.begin().equals(payload));
          await ws.sendFrame(payload, msgSize);
          const appended = new PocoBuffer(0);
          frame = await ws.receiveFrame(appended);
          assert.equal(frame.n, msgSize);
          assert.ok(appended.begin().equals(payload));
          ws.close();
        } finally {
          server.stop();
        }
      }
    });

    it('testWebSocketNB', async () => {
      const server = await startEchoServer({ secure, bufSize: 256 * 1024 });
      try {
        const ws = await open(server);
        ws.setBlocking(false);
        const buffer = new Uint8Array(256 * 1024);
        let frame = await ws.receiveFrame(buffer);
        assert.ok(frame.n < 0);

        let payload = Buffer.from('x');
        let n = await ws.sendFrame(payload, 1);
        assert.ok(n > 0);
        if (await ws.poll(new Timespan(1, 0), WebSocket.SELECT_READ)) {
          do frame = await ws.receiveFrame(buffer);
          while (frame.n < 0 && (await ws.poll(new Timespan(1, 0), WebSocket.SELECT_READ)));
          assert.equal(frame.n, 1);
          assert.equal(text(buffer, 1), 'x');
          assert.equal(frame.flags, WebSocket.FRAME_TEXT);
        } else {
          assert.fail('no echo within 1 s');
        }

        ws.setSendBufferSize(256 * 1024);
        ws.setReceiveBufferSize(256 * 1024);
        payload = Buffer.alloc(256000, 'z');
        n = await ws.sendFrame(payload, payload.length);
        assert.ok(n > 0);
        frame = { n: -1, flags: 0 };
        while (frame.n < 0 && (await ws.poll(new Timespan(2, 0), WebSocket.SELECT_READ)))
          frame = await ws.receiveFrame(buffer);
        assert.equal(frame.n, payload.length);
        assert.ok(Buffer.from(buffer.subarray(0, frame.n)).equals(payload));
        assert.equal(frame.flags, WebSocket.FRAME_TEXT);

        n = await ws.shutdown();
        assert.ok(n > 0);
        frame = { n: -1, flags: 0 };
        while (frame.n < 0 && (await ws.poll(new Timespan(2, 0), WebSocket.SELECT_READ)))
          frame = await ws.receiveFrame(buffer);
        assert.equal(frame.n, 2);
        assert.equal(frame.flags & WebSocket.FRAME_OP_BITMASK, WebSocket.FRAME_OP_CLOSE);
        ws.close();
      } finally {
        server.stop();
      }
    });

    it("testWebSocketTimeout: the client's receive timeout fires while the handler dawdles", async () => {
      // POCO: 2 s timeouts, a 3 s handler delay, "elapsed < 4 s". Scaled down by 10.
      const factory: HTTPRequestHandlerFactory = {
        createRequestHandler: () => ({
          async handleRequest(request, response) {
            const ws = new WebSocket(request, response);
            const buffer = new Uint8Array(64);
            const { n, flags } = await ws.receiveFrame(buffer);
            await new Promise((resolve) => setTimeout(resolve, 300));
            await ws.sendFrame(buffer, n, flags).catch(() => undefined);
            await ws.receiveFrame(buffer).catch(() => undefined);
          },
        }),
      };
      const server = await startServer(factory, { secure });
      try {
        const ws = await open(server);
        ws.setSendTimeout(new Timespan(0, 200_000));
        ws.setReceiveTimeout(new Timespan(0, 200_000));
        const start = performance.now();
        await ws.sendFrame('x', 1);
        const buffer = new Uint8Array(64);
        await assert.rejects(ws.receiveFrame(buffer), (error: unknown) => {
          assert.ok(error instanceof TimeoutException, 'Data exchange shall time out.');
          return true;
        });
        assert.ok(performance.now() - start < 400);
        ws.setReceiveTimeout(new Timespan(2, 0));
        await ws.shutdown();
        await ws.receiveFrame(buffer); // the late echo: the stream is still in step
        ws.close();
      } finally {
        server.stop();
      }
    });
  });
}

describe('client defaults', () => {
  it("the client WebSocket takes the session's timeouts (POCO: 60 s / 60 s) and is WS_CLIENT", async () => {
    const server = await startServer({ createRequestHandler: () => new WebSocketRequestHandler() });
    try {
      const cs = new HTTPClientSession('127.0.0.1', server.port);
      assert.equal(cs.getConnectTimeout().totalSeconds(), 30);
      assert.equal(cs.getSendTimeout().totalSeconds(), 60);
      assert.equal(cs.getReceiveTimeout().totalSeconds(), 60);
      const ws = await WebSocket.connect(
        cs,
        new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
        new HTTPResponse(),
      );
      assert.equal(ws.mode(), WebSocket.WS_CLIENT);
      assert.equal(ws.getReceiveTimeout().totalSeconds(), 60);
      assert.equal(ws.getSendTimeout().totalSeconds(), 60);
      assert.equal(ws.secure(), false);
      ws.close();
    } finally {
      server.stop();
    }
  });
});
