// HTTPClientSession beyond the handshake: plain HTTP requests, keep-alive, proxies (a CONNECT
// proxy started here on node:http, with and without authentication), and servers that
// misbehave: garbage, truncated heads, oversized heads, silence, refusal.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  ConnectionRefusedException,
  Context,
  HTTPClientSession,
  HTTPException,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  HTTPSClientSession,
  MessageException,
  NoMessageException,
  TimeoutException,
  Timespan,
  WebSocket,
  type HTTPRequestHandlerFactory,
} from '../../src/poco/index.js';
import { startEchoServer, startServer, WebSocketRequestHandler } from '../helpers/poco-server.js';
import { startProxy } from '../helpers/proxy.js';
import { startScriptedServer } from '../helpers/scripted-server.js';

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

const pages: HTTPRequestHandlerFactory = {
  createRequestHandler(request) {
    if (request.getURI() === '/ws') return new WebSocketRequestHandler();
    return {
      handleRequest(req, response) {
        response.setContentType('text/plain');
        response.sendBuffer(`page ${req.getURI()}`);
      },
    };
  },
};

describe('HTTPClientSession: plain HTTP', () => {
  it('fetches pages, keeping one connection alive across requests', async () => {
    const server = await startServer(pages);
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      session.setKeepAlive(true);
      for (const path of ['/a', '/b', '/c']) {
        const request = new HTTPRequest(HTTPRequest.HTTP_GET, path, HTTPMessage.HTTP_1_1);
        session.sendRequest(request);
        const response = new HTTPResponse();
        const body = await session.receiveResponse(response);
        assert.equal(response.getStatus(), 200);
        assert.equal(response.getReason(), 'OK');
        assert.equal(response.getContentType(), 'text/plain');
        assert.equal(await readAll(body), `page ${path}`);
      }
      assert.equal(server.server.totalConnections(), 1);
      session.reset();
    } finally {
      server.stop();
    }
  });

  it('sends a request body (POST with Content-Length)', async () => {
    let received = '';
    const echoBody: HTTPRequestHandlerFactory = {
      createRequestHandler: () => ({
        async handleRequest(request, response) {
          received = (await request.readBody()).toString();
          response.sendBuffer('ok');
        },
      }),
    };
    const server = await startServer(echoBody);
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      const request = new HTTPRequest(HTTPRequest.HTTP_POST, '/upload', HTTPMessage.HTTP_1_1);
      request.setContentLength(11);
      session.sendRequest(request).end('hello world');
      const response = new HTTPResponse();
      assert.equal(await readAll(await session.receiveResponse(response)), 'ok');
      assert.equal(received, 'hello world');
      session.reset();
    } finally {
      server.stop();
    }
  });
});

async function echoThrough(session: HTTPClientSession): Promise<string> {
  const ws = await WebSocket.connect(
    session,
    new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
    new HTTPResponse(),
  );
  await ws.sendFrame('through the proxy');
  const buffer = new Uint8Array(64);
  const { n } = await ws.receiveFrame(buffer);
  ws.close();
  return Buffer.from(buffer.subarray(0, n)).toString();
}

describe('HTTPClientSession: through an HTTP proxy', () => {
  it('ws: a CONNECT tunnel, with no Proxy-Authorization when no proxy credentials are set', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy();
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      session.setProxy('127.0.0.1', proxy.port);
      assert.equal(await echoThrough(session), 'through the proxy');
      assert.deepEqual(proxy.connects, [
        { target: `127.0.0.1:${server.port}`, authorization: undefined },
      ]);
    } finally {
      proxy.stop();
      server.stop();
    }
  });

  it('ws: proxy credentials go into the CONNECT as Basic Proxy-Authorization', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy({ credentials: 'proxyuser:proxypass' });
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      session.setProxy('127.0.0.1', proxy.port);
      session.setProxyCredentials('proxyuser', 'proxypass');
      assert.equal(await echoThrough(session), 'through the proxy');
      assert.equal(proxy.connects[0]?.authorization, 'Basic cHJveHl1c2VyOnByb3h5cGFzcw==');
    } finally {
      proxy.stop();
      server.stop();
    }
  });

  it('ws: a proxy that answers the Basic CONNECT with a Digest 407 gets one Digest retry; wrong credentials: HTTPException 407', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy({
      auth: { scheme: 'digest', username: 'proxyuser', password: 'proxypass' },
    });
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      session.setProxy('127.0.0.1', proxy.port);
      session.setProxyCredentials('proxyuser', 'proxypass');
      assert.equal(await echoThrough(session), 'through the proxy');
      assert.equal(proxy.connects.length, 2);
      assert.equal(proxy.connects[0]?.authorization, 'Basic cHJveHl1c2VyOnByb3h5cGFzcw==');
      assert.match(proxy.connects[1]?.authorization ?? '', /^Digest username="proxyuser"/);

      const wrong = new HTTPClientSession('127.0.0.1', server.port);
      wrong.setProxy('127.0.0.1', proxy.port);
      wrong.setProxyCredentials('proxyuser', 'wrong');
      await assert.rejects(echoThrough(wrong), (error: unknown) => {
        assert.ok(error instanceof HTTPException, String(error));
        assert.equal(
          error.message,
          'Cannot establish proxy connection: 407 Proxy Authentication Required',
        );
        return true;
      });
      assert.equal(proxy.connects.length, 4, 'Basic, then Digest once');
    } finally {
      proxy.stop();
      server.stop();
    }
  });

  it('wss: a CONNECT tunnel, then TLS to the server inside it', async () => {
    const server = await startEchoServer({ secure: true });
    const proxy = await startProxy();
    try {
      const session = new HTTPSClientSession(
        '127.0.0.1',
        server.port,
        new Context(Context.TLS_CLIENT_USE, { ca: server.tls!.cert }),
      );
      session.setProxy('127.0.0.1', proxy.port);
      assert.equal(await echoThrough(session), 'through the proxy');
      assert.equal(proxy.connects.length, 1);
    } finally {
      proxy.stop();
      server.stop();
    }
  });

  it("a proxy that wants credentials, or refuses, gives POCO's HTTPException", async () => {
    const server = await startEchoServer();
    for (const [options, status] of [
      [{ credentials: 'a:b' }, '407 Proxy Authentication Required'],
      [{ refuse: 403 }, '403 Forbidden'],
    ] as const) {
      const proxy = await startProxy(options);
      try {
        const session = new HTTPClientSession('127.0.0.1', server.port);
        session.setProxy('127.0.0.1', proxy.port);
        await assert.rejects(echoThrough(session), (error: unknown) => {
          assert.ok(error instanceof HTTPException, String(error));
          assert.equal(error.message, `Cannot establish proxy connection: ${status}`);
          return true;
        });
      } finally {
        proxy.stop();
      }
    }
    server.stop();
  });

  it('plain HTTP through the proxy uses the absolute-form URI, as POCO does', async () => {
    const server = await startServer(pages);
    const proxy = await startProxy({ credentials: 'u:p' });
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      session.setProxy('127.0.0.1', proxy.port);
      session.setProxyCredentials('u', 'p');
      session.sendRequest(
        new HTTPRequest(HTTPRequest.HTTP_GET, '/via-proxy', HTTPMessage.HTTP_1_1),
      );
      const response = new HTTPResponse();
      assert.equal(await readAll(await session.receiveResponse(response)), 'page /via-proxy');
      assert.deepEqual(proxy.forwarded, [
        { url: `http://127.0.0.1:${server.port}/via-proxy`, authorization: 'Basic dTpw' },
      ]);
      session.reset();
    } finally {
      proxy.stop();
      server.stop();
    }
  });
});

describe('HTTPClientSession: servers that misbehave', () => {
  async function attempt(
    reply: Parameters<typeof startScriptedServer>[0],
    configure: (s: HTTPClientSession) => void = () => undefined,
  ) {
    const server = await startScriptedServer(reply);
    try {
      const session = new HTTPClientSession('127.0.0.1', server.port);
      configure(session);
      const ws = await WebSocket.connect(
        session,
        new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
        new HTTPResponse(),
      );
      ws.close();
      return 'connected';
    } catch (error) {
      // No connection is left behind: the server sees every client socket close.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(
        server.sockets.every((s) => s.destroyed || s.readableEnded),
        'the client closed its connection',
      );
      return error;
    } finally {
      server.stop();
    }
  }

  it('garbage instead of HTTP: MessageException', async () => {
    const error = await attempt(() => 'SSH-2.0-OpenSSH_9.2\r\n\r\n');
    assert.ok(error instanceof MessageException, String(error));
    assert.match(error.displayText(), /^Malformed message: /);
  });

  it('a truncated 101 (the server closes mid-head): NoMessageException', async () => {
    const error = await attempt(() => ({
      send: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso',
      close: true,
    }));
    assert.ok(error instanceof NoMessageException, String(error));
    assert.equal(error.displayText(), 'No message received');
  });

  it('a response head over the size limit: MessageException', async () => {
    const error = await attempt(
      () => `HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.ok(error instanceof MessageException, String(error));
  });

  it('a server that never answers: TimeoutException after the receive timeout', async () => {
    const start = performance.now();
    const error = await attempt(
      () => ({ hang: true }),
      (session) => session.setTimeout(new Timespan(0, 200_000)),
    );
    assert.ok(error instanceof TimeoutException, String(error));
    assert.ok(performance.now() - start < 3000);
  });

  it('a TLS server that never finishes its handshake: TimeoutException after the connect timeout', async () => {
    const accepted: net.Socket[] = [];
    let closed = 0;
    const silent = net.createServer((socket) => {
      accepted.push(socket); // accepts, reads, says nothing
      socket.on('error', () => undefined);
      socket.on('close', () => closed++);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const session = new HTTPSClientSession('127.0.0.1', port);
      session.setTimeout(new Timespan(0, 200_000));
      await assert.rejects(
        WebSocket.connect(
          session,
          new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
          new HTTPResponse(),
        ),
        TimeoutException,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(
        accepted.length > 0 && closed === accepted.length,
        'the client gave the connection up',
      );
    } finally {
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });

  it('nothing listening: ConnectionRefusedException', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const session = new HTTPClientSession('127.0.0.1', port);
    await assert.rejects(
      WebSocket.connect(
        session,
        new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
        new HTTPResponse(),
      ),
      ConnectionRefusedException,
    );
  });

  it('a server certificate that does not verify: SSLException (verification is on by default)', async () => {
    const server = await startEchoServer({ secure: true });
    try {
      const session = new HTTPSClientSession('127.0.0.1', server.port); // no CA for the test certificate
      await assert.rejects(
        WebSocket.connect(
          session,
          new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
          new HTTPResponse(),
        ),
        (error: unknown) => (error as Error).name === 'SSL Exception',
      );
      const relaxed = new HTTPSClientSession(
        '127.0.0.1',
        server.port,
        new Context(Context.TLS_CLIENT_USE, { verificationMode: Context.VERIFY_NONE }),
      );
      const ws = await WebSocket.connect(
        relaxed,
        new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1),
        new HTTPResponse(),
      );
      assert.equal(ws.secure(), true);
      ws.close();
    } finally {
      server.stop();
    }
  });
});
