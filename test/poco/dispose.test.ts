// `using` on the POCO facade: disposal does what the C++ destructor does, over real loopback
// sockets. HTTPServer stops, ServerSocket closes (unless a server holds it), HTTPClientSession
// closes its connection, and a WebSocket drops its reference: the last one closes TCP without a
// close frame, while copies keep the connection open.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  HTTPServer,
  ServerSocket,
  SocketAddress,
  WebSocket,
  type HTTPRequestHandler,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { startEchoServer, startServer } from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { within, refusesConnections } from '../helpers/wait.js';
import { FIN, OP_TEXT } from '../helpers/wire.js';

const loopback = () => new SocketAddress('127.0.0.1', 0);

/** A POCO client WebSocket to `port`. */
function connectTo(port: number): Promise<WebSocket> {
  return WebSocket.connect(
    new HTTPClientSession('127.0.0.1', port),
    new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
    new HTTPResponse(),
  );
}

/** Sends `text` and returns the echo. */
async function echo(ws: WebSocket, text: string): Promise<string> {
  await ws.sendFrame(text);
  const { n, payload } = await within(ws.receiveFrame(), 3000, 'the echo');
  return payload.subarray(0, n).toString();
}

/** What ended each echo handler's loop: null for end of stream (0, flags 0) or a CLOSE. */
function echoServerReportingEnds() {
  const ends: unknown[] = [];
  let wake: (() => void) | undefined;
  return {
    ends,
    options: {
      onEnd: (error: unknown) => {
        ends.push(error);
        wake?.();
      },
    },
    /** Resolves once a handler's loop ended. */
    ended: () =>
      within(
        ends.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve)),
        3000,
        "the handler's end",
      ),
  };
}

describe('using: the POCO facade', () => {
  it('HTTPServer and ServerSocket: the server stops listening at the end of the block', async () => {
    let port: number;
    {
      using socket = await ServerSocket.create(loopback());
      using server = new HTTPServer({ createRequestHandler: () => null }, socket);
      server.start();
      port = server.port();
      assert.equal(await refusesConnections(port), false);
    }
    assert.ok(await refusesConnections(port), 'the port still accepts connections');
  });

  it('a ServerSocket alone stops listening at the end of its block', async () => {
    let port: number;
    {
      using socket = await ServerSocket.create(loopback());
      port = socket.address().port();
      assert.equal(await refusesConnections(port), false);
    }
    assert.ok(await refusesConnections(port));
  });

  it('a ServerSocket disposed of while an HTTPServer serves on it stays open until the server stops', async () => {
    let server: HTTPServer;
    let port: number;
    {
      // POCO's HTTPServer holds a copy of the socket: the application's object going away does
      // not close it.
      using socket = await ServerSocket.create(loopback());
      server = new HTTPServer({ createRequestHandler: () => null }, socket);
      server.start();
      port = socket.address().port();
    }
    try {
      assert.equal(await refusesConnections(port), false, 'the serving socket was closed');
    } finally {
      server.stop();
    }
    assert.ok(await refusesConnections(port));
  });

  it('HTTPServer disposal is stop(): the WebSockets being served carry on, as in POCO', async () => {
    const echoServer = await startEchoServer();
    try {
      const ws = await connectTo(echoServer.port);
      echoServer.server[Symbol.dispose]();
      assert.ok(await refusesConnections(echoServer.port));
      assert.equal(await echo(ws, 'still served'), 'still served');
      ws.close();
    } finally {
      echoServer.stop();
    }
  });

  it('a client WebSocket closes TCP, without a close frame, at the end of its block', async () => {
    const server = echoServerReportingEnds();
    const echoServer = await startEchoServer(server.options);
    try {
      let client: WebSocket;
      {
        using ws = await connectTo(echoServer.port);
        client = ws;
        assert.equal(await echo(ws, 'inside'), 'inside');
      }
      // The server's receiveFrame saw end of stream (0, flags 0): no CLOSE frame came.
      await server.ended();
      assert.deepEqual(server.ends, [null]);
      assert.equal(client.impl().isClosed(), true);
    } finally {
      echoServer.stop();
    }
  });

  it('a copy disposed of drops its reference only: the connection stays open for the others', async () => {
    const server = echoServerReportingEnds();
    const echoServer = await startEchoServer(server.options);
    try {
      using ws = await connectTo(echoServer.port);
      {
        using copy = new WebSocket(ws);
        assert.ok(copy.equals(ws));
      }
      assert.equal(await echo(ws, 'after the copy'), 'after the copy');
      {
        using another = new WebSocket(ws);
        ws[Symbol.dispose](); // the original goes first; the copy holds the connection
        assert.equal(await echo(another, 'through the copy'), 'through the copy');
      }
      // The last reference is gone: the connection closed.
      await server.ended();
      assert.equal(ws.impl().isClosed(), true);
    } finally {
      echoServer.stop();
    }
  });

  it("a handler's WebSocket disposed of in the handler closes then; a copy kept outside outlives the handler", async () => {
    const copies: WebSocket[] = [];
    const handler: HTTPRequestHandler = {
      async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
        using ws = new WebSocket(request, response);
        const { n, payload } = await ws.receiveFrame();
        if (payload.subarray(0, n).toString() === 'keep') copies.push(new WebSocket(ws));
        await ws.sendFrame(payload, n);
      },
    };
    const running = await startServer({ createRequestHandler: () => handler });
    try {
      // Disposed of in the handler, no copy: the client sees TCP close after the echo.
      const { client } = await RawClient.open(running.port);
      client.sendFrame(FIN | OP_TEXT, 'bye');
      assert.equal((await client.readFrame()).payload.toString(), 'bye');
      await client.closed(3000);

      // A copy made in the handler keeps the connection after the handler's `using` ended.
      const { client: kept } = await RawClient.open(running.port);
      kept.sendFrame(FIN | OP_TEXT, 'keep');
      assert.equal((await kept.readFrame()).payload.toString(), 'keep');
      const copy = copies[0];
      assert.equal(copy.impl().isClosed(), false);
      await copy.sendFrame('from the copy');
      assert.equal((await kept.readFrame()).payload.toString(), 'from the copy');
      assert.equal(kept.ended, false);
      {
        using last = copy;
        assert.ok(last.equals(copy));
      }
      await kept.closed(3000);
    } finally {
      running.stop();
    }
  });

  it('an HTTPClientSession closes its kept-alive connection at the end of its block', async () => {
    /** One request on a kept-alive session, disposed of at the end. */
    const requestOnce = async (port: number) => {
      using session = new HTTPClientSession('127.0.0.1', port);
      session.setKeepAlive(true);
      session.sendRequest(new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1));
      const body = await session.receiveResponse(new HTTPResponse());
      let text = '';
      for await (const chunk of body) text += String(chunk);
      assert.equal(text, 'ok');
    };
    const closedOnServer = new Promise<void>((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.on('data', () =>
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\nok'),
        );
        socket.once('close', () => {
          server.close();
          resolve();
        });
        socket.on('error', reject);
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        requestOnce(port).catch(reject);
      });
    });
    await within(closedOnServer, 3000, 'the server to see the connection close');
  });

  it('disposing of what is already closed (or never opened) does nothing, and never throws', async () => {
    const echoServer = await startEchoServer();
    try {
      const ws = await connectTo(echoServer.port);
      ws.close();
      ws[Symbol.dispose]();
      ws[Symbol.dispose]();
      assert.equal(ws.impl().isClosed(), true);

      const session = new HTTPClientSession('127.0.0.1', echoServer.port);
      session[Symbol.dispose]();
      session[Symbol.dispose]();

      const socket = await ServerSocket.create(loopback());
      socket.close();
      socket[Symbol.dispose]();

      const server = new HTTPServer({ createRequestHandler: () => null }, socket);
      server.stop();
      server[Symbol.dispose]();
      server[Symbol.dispose]();
    } finally {
      echoServer.stop();
    }
  });

  it("the block's own error is what the block throws; the socket is closed all the same", async () => {
    const server = echoServerReportingEnds();
    const echoServer = await startEchoServer(server.options);
    const blockError = new Error('the block failed');
    let client: WebSocket | undefined;
    try {
      await assert.rejects(
        async () => {
          using ws = await connectTo(echoServer.port);
          client = ws;
          ws.close(); // disposal after an explicit close: nothing to do, nothing thrown
          throw blockError;
        },
        (error) => error === blockError,
      );
      assert.equal(client!.impl().isClosed(), true);
      await server.ended();
    } finally {
      echoServer.stop();
    }
  });
});
