// HTTPServer: pages and WebSockets from one handler factory, POCO's error responses, keep-alive,
// lifetimes, statistics, stopping, and what bad or slow clients get.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { describe, it } from 'node:test';
import {
  HTTPServerParams,
  InvalidSocketException,
  ServerSocket,
  SocketAddress,
  Timespan,
  WebSocket,
  HTTPServer,
  AssertionViolationException,
  type HTTPRequestHandlerFactory,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import {
  startEchoServer,
  startServer,
  type RunningServer,
  WebSocketRequestHandler,
} from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';

async function withServer<T>(
  server: RunningServer,
  body: (port: number) => Promise<T>,
): Promise<T> {
  try {
    return await body(server.port);
  } finally {
    server.stop();
  }
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Serves a page on / and echoes WebSocket frames on /ws, from one factory (POCO's sample). */
const pageAndSocket: HTTPRequestHandlerFactory = {
  createRequestHandler(request) {
    if (request.getURI() === '/ws') return new WebSocketRequestHandler();
    if (request.getURI() === '/') {
      return {
        handleRequest(_request, response) {
          response.setContentType('text/html');
          response.sendBuffer('<h1>hello</h1>');
        },
      };
    }
    if (request.getURI() === '/stream') {
      return {
        async handleRequest(_request, response) {
          response.setChunkedTransferEncoding(true);
          const body = response.send();
          body.write('one,');
          await sleep(10);
          body.write('two');
        },
      };
    }
    if (request.getURI() === '/throw') {
      return {
        handleRequest() {
          throw new Error('handler failed');
        },
      };
    }
    return null;
  },
};

describe('HTTPServer: one factory for pages and WebSockets', () => {
  it('serves a page, a streamed body, and a WebSocket on the same port', async () => {
    await withServer(await startServer(pageAndSocket), async (port) => {
      const page = await get(port, '/');
      assert.equal(page.status, 200);
      assert.equal(page.body, '<h1>hello</h1>');
      assert.equal(page.headers['content-type'], 'text/html');
      assert.equal(page.headers['content-length'], '14');
      const streamed = await get(port, '/stream');
      assert.equal(streamed.body, 'one,two');
      assert.equal(streamed.headers['transfer-encoding'], 'chunked');
      const { client } = await RawClient.open(port, '/ws');
      client.sendFrame(0x81, 'over the same port');
      assert.equal((await client.readFrame()).payload.toString(), 'over the same port');
      client.destroy();
    });
  });

  it('a factory that returns null gives 501 Not Implemented with Connection: Close', async () => {
    await withServer(await startServer(pageAndSocket), async (port) => {
      const client = await RawClient.connect(port);
      client.write('GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n');
      const bytes = await client.readToEnd();
      assert.equal(bytes.toString(), 'HTTP/1.1 501 Not Implemented\r\nConnection: Close\r\n\r\n');
    });
  });

  it("a handler that throws before responding gives 500 + Connection: Close (POCO's exact bytes) and the error handler hears of it", async () => {
    const server = await startServer(pageAndSocket);
    const errors: unknown[] = [];
    server.server.setErrorHandler((error) => errors.push(error));
    await withServer(server, async (port) => {
      const client = await RawClient.connect(port);
      client.write('GET /throw HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(
        (await client.readToEnd()).toString(),
        'HTTP/1.1 500 Internal Server Error\r\nConnection: Close\r\n\r\n',
      );
      assert.equal((errors[0] as Error).message, 'handler failed');
    });
  });

  it('an upgrade request whose handler throws also gets the 500, on the raw socket', async () => {
    const failing: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        handleRequest() {
          throw new Error('no');
        },
      }),
    };
    await withServer(await startServer(failing), async (port) => {
      const client = await RawClient.connect(port);
      client.write(
        'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
      assert.equal(
        (await client.readToEnd()).toString(),
        'HTTP/1.1 500 Internal Server Error\r\nConnection: Close\r\n\r\n',
      );
    });
  });

  it('keeps connections alive between requests, unless HTTPServerParams says otherwise', async () => {
    await withServer(await startServer(pageAndSocket), async (port) => {
      const client = await RawClient.connect(port);
      for (let i = 0; i < 3; i++) {
        client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        const head = await client.readHead();
        assert.equal(head.status, 200);
        assert.equal(head.headers.find(([n]) => n === 'Connection')?.[1], 'Keep-Alive');
        await client.readBytes(14);
      }
      client.destroy();
    });
    const params = new HTTPServerParams();
    params.setKeepAlive(false);
    await withServer(await startServer(pageAndSocket, { params }), async (port) => {
      const client = await RawClient.connect(port);
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const text = (await client.readToEnd()).toString();
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\nConnection: Close\r\n/);
    });
  });

  it('response.send() twice is an AssertionViolationException', async () => {
    let second: unknown;
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        handleRequest(_request: HTTPServerRequest, response: HTTPServerResponse) {
          response.sendBuffer('once');
          try {
            response.send();
          } catch (error) {
            second = error;
          }
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      assert.equal((await get(port, '/')).body, 'once');
      assert.ok(second instanceof AssertionViolationException);
    });
  });

  it('reports request details: method, URI, version, addresses, headers in order', async () => {
    let seen: Record<string, unknown> = {};
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          seen = {
            method: request.getMethod(),
            uri: request.getURI(),
            version: request.getVersion(),
            client: request.clientAddress().host(),
            server: request.serverAddress().port(),
            custom: request.getAll('X-Custom'),
            body: (await request.readBody()).toString(),
            secure: request.secure(),
          };
          response.sendBuffer('ok');
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const client = await RawClient.connect(port);
      client.write(
        'POST /path?q=1 HTTP/1.1\r\nHost: x\r\nX-Custom: a\r\nX-Custom: b\r\nContent-Length: 4\r\n\r\nbody',
      );
      await client.readHead();
      client.destroy();
      assert.deepEqual(seen, {
        method: 'POST',
        uri: '/path?q=1',
        version: 'HTTP/1.1',
        client: '127.0.0.1',
        server: port,
        custom: ['a', 'b'],
        body: 'body',
        secure: false,
      });
    });
  });
});

describe('HTTPServer: lifetimes and stopping', () => {
  it('the WebSocket made in a handler closes when the handler returns; a copy keeps the connection open', async () => {
    const kept: WebSocket[] = [];
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: (request) => ({
        handleRequest(req: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(req, response);
          if (request.getURI() === '/keep') kept.push(new WebSocket(ws));
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const scoped = await RawClient.open(port, '/scoped');
      await scoped.client.closed();
      const keep = await RawClient.open(port, '/keep');
      await sleep(50);
      assert.equal(keep.client.ended, false, 'the copied WebSocket keeps the connection open');
      const copy = kept[0];
      await copy.sendFrame('still here');
      assert.equal((await keep.client.readFrame()).payload.toString(), 'still here');
      copy.close();
      await keep.client.closed();
      await assert.rejects(copy.sendFrame('x'), InvalidSocketException);
      assert.throws(() => copy.available(), InvalidSocketException);
    });
  });

  it('copies are equal and share one connection', async () => {
    let equal = false;
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          const copy = new WebSocket(ws);
          equal = ws.equals(copy) && ws.impl() === copy.impl();
          copy.close();
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      await client.closed();
      assert.ok(equal);
    });
  });

  it('stopAll(true) ends open WebSockets: a pending receiveFrame returns 0', async () => {
    let result: { n: number; flags: number } | undefined;
    let entered!: () => void;
    const waiting = new Promise<void>((resolve) => (entered = resolve));
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          const pending = ws.receiveFrame(new Uint8Array(8));
          entered();
          result = await pending;
          done();
        },
      }),
    };
    const server = await startServer(factory);
    const { client } = await RawClient.open(server.port);
    await waiting;
    assert.equal(server.server.currentConnections(), 1);
    server.server.stopAll(true);
    await finished;
    assert.deepEqual(result, { n: 0, flags: 0 });
    await client.closed();
  });

  it('accepts connections before start() and serves them once it starts; statistics', async () => {
    const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0));
    const port = socket.address().port();
    assert.notEqual(port, 0, 'the port is known before the server starts');
    const server = new HTTPServer(pageAndSocket, socket, new HTTPServerParams());
    const early = get(port, '/');
    await sleep(50);
    assert.equal(server.queuedConnections(), 1);
    server.start();
    assert.equal((await early).status, 200);
    const { client } = await RawClient.open(port, '/ws');
    assert.equal(server.currentConnections(), 1);
    assert.equal(server.totalConnections(), 2);
    assert.ok(server.maxConcurrentConnections() >= 1);
    assert.equal(server.port(), port);
    client.destroy();
    server.stop();
    await assert.rejects(get(port, '/'), /ECONNREFUSED/);
    server.stopAll(true);
  });
});

describe('HTTPServer: bad and slow clients', () => {
  it('malformed HTTP gets 400 and a close', async () => {
    await withServer(await startEchoServer(), async (port) => {
      const client = await RawClient.connect(port);
      client.write('THIS IS NOT HTTP\r\n\r\n');
      const text = (await client.readToEnd()).toString();
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    });
  });

  it('a stalled handshake is closed after HTTPServerParams.getTimeout()', async () => {
    const params = new HTTPServerParams();
    params.setTimeout(new Timespan(0, 300_000));
    await withServer(await startEchoServer({ params }), async (port) => {
      const client = await RawClient.connect(port);
      client.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); // and nothing more
      const start = performance.now();
      const text = (await client.readToEnd(5000)).toString();
      const elapsed = performance.now() - start;
      assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(elapsed >= 200 && elapsed < 4000, `closed after ${elapsed} ms`);
    });
  });

  it("a head over node:http's header limit gets 431 and a close", async () => {
    await withServer(await startEchoServer(), async (port) => {
      const client = await RawClient.connect(port);
      client.write(`GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
      assert.match((await client.readToEnd()).toString(), /^HTTP\/1\.1 431 /);
    });
  });

  it('a client that floods a handler that does not read is slowed down by TCP, not buffered without bound', async () => {
    let ws: WebSocket | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const received: number[] = [];
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          ws = new WebSocket(request, response);
          ws.setReceiveBufferSize(256 * 1024);
          await released;
          const buffer = new Uint8Array(65536);
          for (;;) {
            const { n, flags } = await ws.receiveFrame(buffer);
            if (n === 0 && flags === 0) break;
            received.push(n);
          }
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      const frame = Buffer.alloc(65536, 1);
      const total = 400; // 26 MB
      let written = 0;
      // Write until the client's own socket says stop (TCP backpressure reached it).
      while (written < total && client.socket.writableLength < 8 * 1024 * 1024) {
        client.sendFrame(0x82, frame);
        written++;
        if (written % 16 === 0) await sleep(1);
      }
      await sleep(200);
      const held = ws!.available();
      assert.ok(held <= 256 * 1024 + 2 * 65536 + 64 * 1024, `the server holds ${held} bytes`);
      assert.ok(
        written < total || client.socket.writableLength > 0,
        'the client felt backpressure',
      );
      release();
      while (written < total) {
        client.sendFrame(0x82, frame);
        written++;
      }
      client.end();
      await client.closed(20000);
      assert.equal(received.length, total);
      assert.ok(received.every((n) => n === 65536));
    });
  });

  it('a handler sending to a client that does not read waits in sendFrame: memory stays bounded', async () => {
    let sent = 0;
    let writable = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          const frame = Buffer.alloc(1 << 20, 2);
          for (let i = 0; i < 64; i++) {
            await ws.sendFrame(frame, frame.length, WebSocket.FRAME_BINARY);
            sent++;
          }
          writable = ws.available();
          done();
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.socket.pause();
      await sleep(300);
      assert.ok(sent < 16, `${sent} MiB were accepted while the client read nothing`);
      client.socket.resume();
      let total = 0;
      while (total < 64) {
        await client.readFrame(10000);
        total++;
      }
      await finished;
      assert.equal(sent, 64);
      assert.equal(writable, 0);
      client.destroy();
    });
  });
});

describe('WebSocket: what a WebSocket cannot do', () => {
  it('connect/bind/listen/sendUrgent are InvalidAccessException; socket options Node lacks are NotImplementedException', async () => {
    const outcomes: string[] = [];
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          for (const call of [
            () => ws.connect(),
            () => ws.bind(),
            () => ws.listen(),
            () => ws.sendUrgent(),
            () => ws.connectNB(),
            () => ws.setReuseAddress(),
            () => ws.getOption(),
            () => ws.init(),
          ]) {
            try {
              call();
            } catch (error) {
              outcomes.push((error as Error).toString());
            }
          }
          ws.setNoDelay(false);
          ws.setKeepAlive(true);
          ws.setLinger(true, 5);
          outcomes.push(
            `${ws.getNoDelay()} ${ws.getKeepAlive()} ${JSON.stringify(ws.getLinger())} ${ws.secure()} ${ws.address().host()} ${ws.peerAddress().host()} ${ws.sockfd() >= 0}`,
          );
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      await client.closed();
      assert.deepEqual(outcomes, [
        'Invalid access: Cannot connect() a WebSocketImpl',
        'Invalid access: Cannot bind() a WebSocketImpl',
        'Invalid access: Cannot listen() on a WebSocketImpl',
        'Invalid access: Cannot sendUrgent() on a WebSocketImpl',
        'Invalid access: Cannot connectNB() a WebSocketImpl',
        'Not implemented: setReuseAddress(): Node.js does not expose this socket option on a connected socket',
        'Not implemented: getOption(): Node.js does not expose this socket option on a connected socket',
        'Assertion violation: The socket is already initialized',
        'false true {"on":true,"seconds":5} false 127.0.0.1 127.0.0.1 true',
      ]);
    });
  });

  it('setLinger(true, 0) makes close() reset the connection', async () => {
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          ws.setLinger(true, 0);
          await ws.receiveFrame(new Uint8Array(16));
          ws.close();
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.sendFrame(0x81, 'bye');
      await client.closed();
      assert.equal(client.error?.code, 'ECONNRESET');
    });
  });

  it("poll(SELECT_READ) sees frames already buffered (POCO's poll does not)", async () => {
    const polls: boolean[] = [];
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          polls.push(await ws.poll(new Timespan(0, 100_000), WebSocket.SELECT_READ)); // nothing yet
          polls.push(await ws.poll(new Timespan(2, 0), WebSocket.SELECT_READ)); // two frames arrive
          await ws.receiveFrame(new Uint8Array(16));
          polls.push(await ws.poll(0, WebSocket.SELECT_READ)); // the second is buffered
          polls.push(await ws.poll(0, WebSocket.SELECT_WRITE));
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      await sleep(200);
      client.write(
        Buffer.concat([
          Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x61]),
          Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x62]),
        ]),
      );
      await client.closed();
      assert.deepEqual(polls, [false, true, true, true]);
    });
  });

  it('poll(SELECT_WRITE) waits while sendFrame would block, and wakes when the peer reads', async () => {
    const outcome: Array<number | boolean | string> = [];
    const factory: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
          const ws = new WebSocket(request, response);
          ws.setBlocking(false);
          const big = Buffer.alloc(8 << 20, 0x61);
          outcome.push(await ws.sendFrame(big, big.length, WebSocket.FRAME_BINARY)); // -1
          outcome.push(await ws.poll(new Timespan(0, 200_000), WebSocket.SELECT_WRITE)); // false
          const started = performance.now();
          outcome.push(await ws.poll(new Timespan(5, 0), WebSocket.SELECT_WRITE)); // the peer reads
          outcome.push(performance.now() - started < 4000 ? 'before the deadline' : 'timed out');
          ws.close();
        },
      }),
    };
    await withServer(await startServer(factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.socket.pause(); // reads nothing: the server's buffers fill
      await sleep(500);
      client.socket.resume();
      await client.closed();
      assert.deepEqual(outcome, [-1, false, true, 'before the deadline']);
    });
  });
});
