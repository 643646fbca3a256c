// HttpFront, the node:http set-up both servers share: listening (and failing to), the sockets
// still speaking HTTP (dropped by closeHttpConnections, so that a half-sent request cannot hold
// a closing server open) against upgraded ones (left alone), the answers to malformed, oversized
// and too-slow requests, and serving sockets accepted elsewhere. Loopback only.
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import type http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { HttpFront, type HttpHandlers, type HttpServerOptions } from '../../src/io/http-server.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { settlesWithin, waitFor, within } from '../helpers/wait.js';

const SWITCHING =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

/** Answers every request with 200 `ok`; an upgrade gets a 101, then its bytes are echoed. */
const ECHO: HttpHandlers = {
  request: (_request: http.IncomingMessage, response: http.ServerResponse) => {
    response.writeHead(200, { 'Content-Length': '2' }).end('ok');
  },
  upgrade: (_request, socket, head) => {
    socket.write(SWITCHING);
    if (head.length > 0) socket.write(head);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
  },
};

function front(options: Partial<HttpServerOptions> = {}, handlers: HttpHandlers = ECHO): HttpFront {
  return new HttpFront(
    { headersTimeout: 60_000, requestTimeout: 60_000, listens: true, ...options },
    handlers,
  );
}

async function listening(
  options: Partial<HttpServerOptions> = {},
  handlers: HttpHandlers = ECHO,
): Promise<{ front: HttpFront; port: number }> {
  const f = front(options, handlers);
  await within(f.listen(0, '127.0.0.1'), 3000, 'listen');
  return { front: f, port: (f.server.address() as net.AddressInfo).port };
}

/** Drops every connection and stops listening, whatever the test left behind. */
async function shut(f: HttpFront): Promise<void> {
  f.closeHttpConnections();
  f.server.closeAllConnections();
  await within(f.close(), 3000, 'close()');
}

function get(port: number): string {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
}

describe('HttpFront: listening', () => {
  it('listen() resolves once listening, and requests reach the request handler', async () => {
    const { front: f, port } = await listening();
    const client = await RawClient.connect(port);
    try {
      client.write(get(port));
      const head = await client.readHead(3000);
      assert.equal(head.status, 200);
      assert.equal((await client.readBytes(2, 3000)).toString(), 'ok');
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('listen() on a port in use rejects with EADDRINUSE', async () => {
    const { front: first, port } = await listening();
    const second = front();
    try {
      await assert.rejects(
        within(second.listen(port, '127.0.0.1'), 3000, 'the second listen()'),
        (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE',
      );
      assert.equal(second.server.listening, false);
    } finally {
      await shut(second);
      await shut(first);
    }
  });
});

describe('HttpFront: connections still speaking HTTP', () => {
  it('a client that sent half a request holds close() open until closeHttpConnections() drops it', async () => {
    const { front: f, port } = await listening();
    const client = await RawClient.connect(port);
    try {
      client.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Half: `);
      await waitFor(() => f.httpConnections === 1, 3000, 'the connection to be tracked');
      const closing = f.close();
      assert.equal(
        await settlesWithin(closing, 200),
        false,
        'close() waits for the connection with half a request',
      );
      f.closeHttpConnections();
      assert.equal(f.httpConnections, 0);
      await client.closed(3000);
      await within(closing, 3000, 'close() after closeHttpConnections()');
      assert.equal(f.server.listening, false);
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('a kept-alive connection is counted until it closes, and closeHttpConnections() drops it', async () => {
    const { front: f, port } = await listening();
    const quitter = await RawClient.connect(port);
    const idle = await RawClient.connect(port);
    try {
      for (const client of [quitter, idle]) {
        client.write(get(port));
        assert.equal((await client.readHead(3000)).status, 200);
        await client.readBytes(2, 3000);
      }
      assert.equal(f.httpConnections, 2);
      quitter.destroy();
      await waitFor(() => f.httpConnections === 1, 3000, 'the closed one to be forgotten');
      f.closeHttpConnections();
      await idle.closed(3000);
    } finally {
      quitter.destroy();
      idle.destroy();
      await shut(f);
    }
  });

  it('an upgraded socket is forgotten: it survives closeHttpConnections() and close(), and got the bytes past the head', async () => {
    const { front: f, port } = await listening();
    const client = await RawClient.connect(port);
    try {
      client.write(upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ==') + 'first bytes');
      assert.equal((await client.readHead(3000)).status, 101);
      assert.equal((await client.readBytes(11, 3000)).toString(), 'first bytes');
      assert.equal(f.httpConnections, 0);
      f.closeHttpConnections();
      const closing = f.close();
      assert.equal(f.server.listening, false, 'no longer listening');
      client.write('still here');
      assert.equal((await client.readBytes(10, 3000)).toString(), 'still here');
      assert.equal(client.ended, false);
      client.end();
      await client.closed(3000);
      await within(closing, 3000, 'close() once the upgraded connection has closed');
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('over TLS, an upgraded socket survives closeHttpConnections() too (its TCP socket is forgotten)', async () => {
    const { cert, key } = selfSignedCertificate();
    const { front: f, port } = await listening({ tls: { cert, key } });
    const client = await RawClient.connect(port, { tls: { ca: cert, servername: 'localhost' } });
    try {
      client.write(upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ=='));
      assert.equal((await client.readHead(3000)).status, 101);
      assert.equal(f.httpConnections, 0);
      f.closeHttpConnections();
      client.write('still here');
      assert.equal((await client.readBytes(10, 3000)).toString(), 'still here');
    } finally {
      client.destroy();
      await shut(f);
    }
  });
});

describe('HttpFront: client errors', () => {
  it('a malformed request gets 400, then the connection is closed', async () => {
    const { front: f, port } = await listening();
    const client = await RawClient.connect(port);
    try {
      client.write('NOT HTTP AT ALL\r\n\r\n');
      const answer = (await client.readToEnd(3000)).toString('latin1');
      assert.equal(answer, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('a head over maxHeaderSize gets 431, then the connection is closed', async () => {
    const { front: f, port } = await listening({ maxHeaderSize: 1024 });
    const client = await RawClient.connect(port);
    try {
      client.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`);
      const answer = (await client.readToEnd(3000)).toString('latin1');
      assert.equal(
        answer,
        'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
      );
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('a head that takes longer than a short headersTimeout gets 408 soon after it (not after 30 s)', async () => {
    const TIMEOUT = 300;
    const { front: f, port } = await listening({
      headersTimeout: TIMEOUT,
      requestTimeout: TIMEOUT,
    });
    const client = await RawClient.connect(port);
    try {
      const started = performance.now();
      client.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const answer = (await client.readToEnd(5000)).toString('latin1');
      const elapsed = performance.now() - started;
      assert.equal(answer, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      assert.ok(elapsed >= TIMEOUT - 5, `answered after ${elapsed.toFixed(0)} ms`);
      assert.ok(elapsed < TIMEOUT + 2000, `answered after ${elapsed.toFixed(0)} ms`);
    } finally {
      client.destroy();
      await shut(f);
    }
  });

  it('a malformed request after a response was written: the connection is dropped without a 400', async () => {
    const { front: f, port } = await listening();
    const client = await RawClient.connect(port);
    try {
      client.write(get(port));
      assert.equal((await client.readHead(3000)).status, 200);
      await client.readBytes(2, 3000);
      client.write('NOT HTTP AT ALL\r\n\r\n');
      const rest = await client.readToEnd(3000);
      assert.equal(rest.toString('latin1'), '', 'nothing is written into the kept-alive stream');
    } finally {
      client.destroy();
      await shut(f);
    }
  });
});

describe('HttpFront: sockets accepted elsewhere (listens: false)', () => {
  it('serve() answers requests on them, runs the header timeout, and closeHttpConnections() drops them', async () => {
    const TIMEOUT = 300;
    const f = front({ listens: false, headersTimeout: TIMEOUT, requestTimeout: TIMEOUT });
    const acceptor = net.createServer((socket) => f.serve(socket));
    await new Promise<void>((resolve) => acceptor.listen(0, '127.0.0.1', resolve));
    const port = (acceptor.address() as net.AddressInfo).port;
    const served = await RawClient.connect(port);
    const slow = await RawClient.connect(port);
    let kept: RawClient | undefined;
    try {
      assert.equal(f.server.listening, false);
      served.write(get(port));
      assert.equal((await served.readHead(3000)).status, 200);
      assert.equal((await served.readBytes(2, 3000)).toString(), 'ok');

      slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const answer = (await slow.readToEnd(5000)).toString('latin1');
      assert.equal(answer, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');

      // Connected only now: headersTimeout runs from the connection's start.
      kept = await RawClient.connect(port);
      kept.write(get(port));
      assert.equal((await kept.readHead(3000)).status, 200);
      await kept.readBytes(2, 3000);
      f.closeHttpConnections();
      await kept.closed(3000);
      await served.closed(3000);
      assert.equal(
        await settlesWithin(f.close(), 100),
        true,
        'close() of a front that never listened',
      );
    } finally {
      for (const client of [served, slow, kept]) client?.destroy();
      f.closeHttpConnections();
      await f.close();
      await new Promise((resolve) => acceptor.close(resolve));
    }
  });
});
