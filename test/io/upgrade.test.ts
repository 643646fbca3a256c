// Writing the answer to an upgrade request on a socket node:http handed over: the checked head
// (nothing reaches the wire for a bad header), the one error guard per socket, the refusal's
// status and shape, and the wait for the responses to earlier pipelined requests (RFC 9112
// §9.3.2). Real sockets on loopback throughout: what is asserted is what the peer received.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import {
  earlierResponses,
  formatHead,
  writeAcceptance,
  writeRefusal,
} from '../../src/io/upgrade.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';
import { delay, settlesWithin, tcpPair, waitFor, within } from '../helpers/wait.js';
import { guardSocket } from '../../src/io/guard.js';
import { rawHeaderLookup } from '../../src/protocol/handshake/header-lookup.js';

const ACCEPT: Array<[string, string]> = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
];

/** A loopback pair: the server's socket, and a raw client reading what it writes. */
async function loopback(): Promise<{ server: net.Socket; client: RawClient }> {
  const { server, client } = await tcpPair();
  return { server, client: RawClient.wrap(client) };
}

function header(head: { headers: Array<[string, string]> }, name: string): string | undefined {
  return head.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

function codeOf(error: unknown): unknown {
  return (error as NodeJS.ErrnoException).code;
}

describe('formatHead', () => {
  it('writes the status line and the headers in order, repeats included, then the empty line', () => {
    assert.equal(
      formatHead(101, 'Switching Protocols', [...ACCEPT, ['X-Twice', 'a'], ['X-Twice', 'b']]),
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'X-Twice: a\r\nX-Twice: b\r\n\r\n',
    );
  });

  // A CR or LF in a value would start a second header line (response splitting).
  for (const value of ['a\r\nSet-Cookie: evil=1', 'a\nX-Injected: 1', 'a\rb', 'nul\0byte']) {
    it(`a header value ${JSON.stringify(value)} throws ERR_INVALID_CHAR`, () => {
      assert.throws(
        () => formatHead(101, 'Switching Protocols', [...ACCEPT, ['X-Value', value]]),
        (error: unknown) => error instanceof TypeError && codeOf(error) === 'ERR_INVALID_CHAR',
      );
    });
  }

  for (const name of ['Bad Name', 'X-Colon:', '', 'X-\r\nInjected']) {
    it(`a header name ${JSON.stringify(name)} throws ERR_INVALID_HTTP_TOKEN`, () => {
      assert.throws(
        () => formatHead(101, 'Switching Protocols', [[name, 'value']]),
        (error: unknown) =>
          error instanceof TypeError && codeOf(error) === 'ERR_INVALID_HTTP_TOKEN',
      );
    });
  }

  it('a reason phrase with CR or LF throws', () => {
    assert.throws(() => formatHead(400, 'Bad\r\nX-Injected: 1', []), TypeError);
  });
});

describe('writeAcceptance', () => {
  it('a CR/LF in the subprotocol or extensions throws, and not one byte reaches the socket', async () => {
    const { server, client } = await loopback();
    try {
      const accept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
      for (const options of [
        { protocol: 'chat\r\nSet-Cookie: session=evil' },
        { extensions: 'permessage-deflate\r\nSet-Cookie: session=evil' },
      ])
        assert.throws(
          () => writeAcceptance(server, accept, options),
          (error: unknown) => codeOf(error) === 'ERR_INVALID_CHAR',
        );
      assert.equal(server.bytesWritten, 0);
      assert.equal(server.writableLength, 0);
      await delay(50);
      assert.equal(client.pending, 0, 'the client received nothing');
      // The socket is still usable: a valid 101 goes out whole, in RFC 6455 §4.2.2's order.
      writeAcceptance(server, accept, { protocol: 'chat', extensions: 'permessage-deflate' });
      const head = await client.readHead(3000);
      assert.equal(head.statusLine, 'HTTP/1.1 101 Switching Protocols');
      assert.deepEqual(head.headers, [
        ...ACCEPT,
        ['Sec-WebSocket-Protocol', 'chat'],
        ['Sec-WebSocket-Extensions', 'permessage-deflate'],
      ]);
    } finally {
      server.destroy();
      client.destroy();
    }
  });
});

describe('rawHeaderLookup', () => {
  it("gives what node:http's request.headers gives, repeats and letter case included", async () => {
    const server = http.createServer();
    try {
      const received = new Promise<http.IncomingMessage>((resolve) =>
        server.once('upgrade', (request: http.IncomingMessage, socket: net.Socket) => {
          socket.destroy();
          resolve(request);
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const client = await RawClient.connect(port);
      client.write(
        'GET /x HTTP/1.1\r\nHost: \r\nhost: second\r\nOrigin: https://a\r\norigin: https://b\r\n' +
          'Connection: keep-alive\r\nconnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Key: k\r\nSEC-WEBSOCKET-KEY: j\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\nUser-Agent: one\r\n' +
          'User-Agent: two\r\nAuthorization: x\r\nauthorization: y\r\n\r\n',
      );
      const request = await within(received, 3000, 'the upgrade request');
      client.destroy();
      const lookup = rawHeaderLookup(request.rawHeaders);
      const names = [...new Set(request.rawHeaders.filter((_, i) => i % 2 === 0))].map((name) =>
        name.toLowerCase(),
      );
      for (const name of [...names, 'sec-websocket-extensions'])
        assert.equal(lookup(name), request.headers[name], name);
      assert.equal(lookup('host'), '', 'the first Host, as node:http keeps it');
      assert.equal(lookup('sec-websocket-key'), 'k, j');
    } finally {
      server.close();
    }
  });
});

describe('guardSocket', () => {
  it("called 20 times on one socket, it adds one 'error' listener", () => {
    const socket = new PassThrough();
    const before = socket.listenerCount('error');
    for (let i = 0; i < 20; i++) guardSocket(socket);
    assert.equal(socket.listenerCount('error'), before + 1);
    const other = new PassThrough();
    guardSocket(other);
    assert.equal(other.listenerCount('error'), 1, 'each socket gets its own guard');
  });

  it('an error on a guarded socket does not throw (it would crash the process unguarded)', () => {
    const unguarded = new PassThrough();
    assert.throws(() => unguarded.emit('error', new Error('ECONNRESET')));
    const socket = new PassThrough();
    guardSocket(socket);
    assert.doesNotThrow(() => socket.emit('error', new Error('ECONNRESET')));
  });

  it('refusals repeated on one socket add no listener after the first', async () => {
    const { server, client } = await loopback();
    try {
      const before = server.listenerCount('error');
      writeRefusal(server, { status: 400 });
      const after = server.listenerCount('error');
      assert.equal(after, before + 1);
      for (let i = 0; i < 10; i++) writeRefusal(server, { status: 400 });
      assert.equal(server.listenerCount('error'), after);
    } finally {
      server.destroy();
      client.destroy();
    }
  });
});

describe('writeRefusal', () => {
  for (const status of [200, 101, 302, 399, 600, 404.5, Number.NaN]) {
    it(`status ${status} (not 400-599) is answered as 500`, async () => {
      const { server, client } = await loopback();
      try {
        writeRefusal(server, { status });
        const head = await client.readHead(3000);
        assert.equal(head.statusLine, 'HTTP/1.1 500 Internal Server Error');
        assert.equal(header(head, 'Connection'), 'close');
        const body = await client.readToEnd(3000);
        assert.equal(body.toString(), 'Internal Server Error\n');
        assert.equal(Number(header(head, 'Content-Length')), body.length);
      } finally {
        server.destroy();
        client.destroy();
      }
    });
  }

  it('a status in 400-599 is kept, with its headers, its body, and the connection ended', async () => {
    const { server, client } = await loopback();
    try {
      writeRefusal(server, {
        status: 403,
        headers: [['X-Reason', 'origin not allowed']],
        body: 'no entry ✗',
      });
      const head = await client.readHead(3000);
      assert.equal(head.statusLine, 'HTTP/1.1 403 Forbidden');
      assert.deepEqual(head.headers, [
        ['X-Reason', 'origin not allowed'],
        ['Connection', 'close'],
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', String(Buffer.byteLength('no entry ✗'))],
      ]);
      const body = await client.readToEnd(3000);
      assert.equal(body.toString('utf8'), 'no entry ✗');
      assert.equal(client.ended, true, 'the connection is ended after the answer');
    } finally {
      server.destroy();
      client.destroy();
    }
  });

  it('a header that cannot be written makes the answer a bare 500, without the header', async () => {
    const { server, client } = await loopback();
    try {
      writeRefusal(server, {
        status: 401,
        headers: [
          ['WWW-Authenticate', 'Basic realm="x"'],
          ['X-Evil', 'v\r\nSet-Cookie: session=evil'],
        ],
        body: 'refused',
      });
      const all = (await client.readToEnd(3000)).toString('latin1');
      assert.equal(
        all,
        'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
    } finally {
      server.destroy();
      client.destroy();
    }
  });

  it('on a socket already destroyed, it writes nothing and does not throw', async () => {
    const { server, client } = await loopback();
    server.destroy();
    assert.doesNotThrow(() => writeRefusal(server, { status: 400 }));
    assert.equal(server.bytesWritten, 0);
    client.destroy();
  });
});

describe('earlierResponses (RFC 9112 §9.3.2: responses in request order)', () => {
  /** A node:http server whose upgrade handler is `onUpgrade`; GET /slow answers after 150 ms. */
  async function httpServer(onUpgrade: (socket: net.Socket) => void) {
    let finished = 0;
    const server = http.createServer((request, response) => {
      response.on('finish', () => finished++);
      const answer = () =>
        response.writeHead(200, { 'Content-Length': '4' }).end(request.url!.slice(1, 5));
      if (request.url === '/slow') setTimeout(answer, 150);
      else if (request.url === '/never') return;
      else answer();
    });
    server.keepAliveTimeout = 100;
    server.on('upgrade', (_request: http.IncomingMessage, socket: net.Socket) => {
      guardSocket(socket); // as both servers do: node:http removed its own error listener
      onUpgrade(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
      port,
      finished: () => finished,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  it('without earlier requests it is undefined: the caller goes on synchronously', async () => {
    let earlier: Promise<void> | undefined | 'not called' = 'not called';
    let socket: net.Socket | undefined;
    const server = await httpServer((s) => {
      socket = s;
      earlier = earlierResponses(s);
    });
    const client = await RawClient.connect(server.port);
    try {
      client.write(upgradeRequest('/', server.port, 'dGhlIHNhbXBsZSBub25jZQ=='));
      await waitFor(() => socket !== undefined, 3000, 'the upgrade');
      assert.equal(earlier, undefined);
    } finally {
      client.destroy();
      socket?.destroy();
      server.close();
    }
  });

  // Finding 10 (issue 8) at this layer: two earlier requests, the first answered late or both at
  // once (a response whose bytes have all left stays attached until its 'finish').
  for (const paths of [
    ['/slow', '/fast'],
    ['/fast', '/fast'],
  ]) {
    it(`waits for every earlier pipelined response (${paths.join(', ')}): the answers go out in request order`, async () => {
      let socket: net.Socket | undefined;
      let finishedThen = -1;
      let timeoutsAfter = 0;
      let waited: Promise<void> | undefined;
      const server = await httpServer((s) => {
        socket = s;
        const earlier = earlierResponses(s);
        waited = (async () => {
          assert.ok(earlier instanceof Promise, 'two responses are still to be written');
          await earlier;
          finishedThen = server.finished();
          s.on('timeout', () => timeoutsAfter++);
          s.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
          );
        })();
      });
      const client = await RawClient.connect(server.port);
      try {
        const host = `Host: 127.0.0.1:${server.port}\r\n`;
        client.write(
          paths.map((path) => `GET ${path} HTTP/1.1\r\n${host}\r\n`).join('') +
            upgradeRequest('/', server.port, 'dGhlIHNhbXBsZSBub25jZQ=='),
        );
        for (const path of paths) {
          const head = await client.readHead(3000);
          assert.equal(head.status, 200, `the answer to ${path} comes first: ${head.raw}`);
          assert.equal((await client.readBytes(4, 3000)).toString(), path.slice(1));
        }
        const last = await client.readHead(3000);
        assert.equal(last.status, 101, 'the upgrade is answered last');
        await within(waited!, 3000, 'earlierResponses');
        assert.equal(finishedThen, 2, 'both earlier responses had finished when it resolved');
        // node:http armed its keep-alive timer (100 ms) when the last response ended; the
        // socket is the WebSocket's now, and that timer must not fire on it.
        assert.equal(socket!.timeout, 0);
        await delay(300);
        assert.equal(timeoutsAfter, 0, "no keep-alive 'timeout' on the upgraded socket");
        assert.equal(socket!.destroyed, false);
      } finally {
        client.destroy();
        socket?.destroy();
        server.close();
      }
    });
  }

  it('an earlier response that never finishes: it resolves when the client resets the connection, not before', async () => {
    let socket: net.Socket | undefined;
    let earlier: Promise<void> | undefined;
    const server = await httpServer((s) => {
      socket = s;
      earlier = earlierResponses(s);
    });
    const client = await RawClient.connect(server.port);
    try {
      client.write(
        `GET /never HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n` +
          upgradeRequest('/', server.port, 'dGhlIHNhbXBsZSBub25jZQ=='),
      );
      await waitFor(() => socket !== undefined, 3000, 'the upgrade');
      assert.ok(earlier instanceof Promise);
      assert.equal(await settlesWithin(earlier, 100), false, 'pending while the response is');
      client.reset(); // the client gives up: a TCP reset
      await within(earlier, 3000, 'earlierResponses after the reset');
      assert.equal(socket!.destroyed, true);
    } finally {
      client.destroy();
      socket?.destroy();
      server.close();
    }
  });
});
