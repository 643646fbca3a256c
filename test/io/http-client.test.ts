// The client side of HTTP: the 401 loop both clients share (one retry at most, and nothing more
// once the handshake's signal aborts), untilAborted, making the transport (TCP, CONNECT tunnel,
// TLS; timeouts and aborts close what was half made) and requests over one kept-alive
// connection. Servers and proxies are started in the test, on loopback.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import {
  ConnectError,
  Deadline,
  HttpConnection,
  ResponseError,
  openConnection,
  sendAnsweringChallenge,
  untilAborted,
  type ChallengedRequest,
} from '../../src/io/http-client.js';
import { startProxy } from '../helpers/proxy.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { delay, settlesWithin, waitFor, within } from '../helpers/wait.js';

interface Answer {
  readonly status: number;
  readonly n: number;
}

/**
 * A scripted request: `send()` resolves the statuses in turn; `answer()` resolves what
 * `answers` says (or waits for the test to settle it, when `answers` is 'held').
 */
function scripted(statuses: number[], answers: boolean[] | 'held' = [true]) {
  let sends = 0;
  let answerCalls = 0;
  let release: ((retry: boolean) => void) | undefined;
  const request: ChallengedRequest<Answer> = {
    send: () => {
      const n = sends++;
      return Promise.resolve({ status: statuses[n] ?? 599, n });
    },
    answer: () => {
      const n = answerCalls++;
      if (answers === 'held') return new Promise((resolve) => (release = resolve));
      return Promise.resolve(answers[n] ?? false);
    },
  };
  return {
    request,
    sends: () => sends,
    answers: () => answerCalls,
    release: (retry: boolean) => release!(retry),
  };
}

/** Lets every pending promise callback and a turn of the event loop run. */
async function settle(): Promise<void> {
  await delay(10);
  await new Promise((resolve) => setImmediate(resolve));
}

describe('sendAnsweringChallenge (the 401 loop)', () => {
  it('a response other than 401 is returned as it is: one send, answer() never called', async () => {
    const s = scripted([200]);
    assert.deepEqual(await within(sendAnsweringChallenge(s.request)), { status: 200, n: 0 });
    assert.equal(s.sends(), 1);
    assert.equal(s.answers(), 0);
  });

  it('a 401 that answer() can answer is sent once more; the second response is returned', async () => {
    const s = scripted([401, 101], [true]);
    assert.deepEqual(await within(sendAnsweringChallenge(s.request)), { status: 101, n: 1 });
    assert.equal(s.sends(), 2);
    assert.equal(s.answers(), 1);
  });

  it('a 401 that answer() cannot answer is returned, without a second send', async () => {
    const s = scripted([401, 101], [false]);
    assert.deepEqual(await within(sendAnsweringChallenge(s.request)), { status: 401, n: 0 });
    assert.equal(s.sends(), 1);
    assert.equal(s.answers(), 1);
  });

  it('a second 401 is the answer: never a third send, nor a second answer()', async () => {
    const s = scripted([401, 401, 101], [true, true]);
    assert.deepEqual(await within(sendAnsweringChallenge(s.request)), { status: 401, n: 1 });
    assert.equal(s.sends(), 2);
    assert.equal(s.answers(), 1);
  });

  it('an abort during answer() rejects at once with its reason; send() is not called again', async () => {
    const s = scripted([401, 101], 'held');
    const deadline = new AbortController();
    const outcome = sendAnsweringChallenge(s.request, deadline.signal);
    await waitFor(() => s.answers() === 1, 3000, 'answer()');
    const reason = new Error('handshake deadline');
    deadline.abort(reason);
    assert.equal(await settlesWithin(outcome, 50), true, 'settled without waiting for answer()');
    await assert.rejects(outcome, (error: unknown) => error === reason);
    s.release(true); // answer() says "retry" after the abort: too late
    await settle();
    assert.equal(s.sends(), 1, 'no second send');
  });

  it('an abort during the first send() rejects with its reason; answer() is never called', async () => {
    let sends = 0;
    let answers = 0;
    const deadline = new AbortController();
    const outcome = sendAnsweringChallenge<Answer>(
      {
        send: () => {
          sends++;
          return new Promise<Answer>(() => undefined); // the server never answers
        },
        answer: () => {
          answers++;
          return Promise.resolve(true);
        },
      },
      deadline.signal,
    );
    const reason = new Error('handshake deadline');
    deadline.abort(reason);
    await assert.rejects(within(outcome), (error: unknown) => error === reason);
    await settle();
    assert.equal(sends, 1);
    assert.equal(answers, 0);
  });

  it('an abort during the retry rejects with its reason', async () => {
    let sends = 0;
    const deadline = new AbortController();
    const outcome = sendAnsweringChallenge<Answer>(
      {
        send: () =>
          sends++ === 0
            ? Promise.resolve({ status: 401, n: 0 })
            : new Promise<Answer>(() => undefined),
        answer: () => Promise.resolve(true),
      },
      deadline.signal,
    );
    await waitFor(() => sends === 2, 3000, 'the retry');
    const reason = new Error('handshake deadline');
    deadline.abort(reason);
    await assert.rejects(within(outcome), (error: unknown) => error === reason);
    assert.equal(sends, 2);
  });

  // Found by this test: send() was called before the signal was looked at, so a signal that
  // aborted before the call still sent the first request.
  it('a signal aborted before the call: rejects with its reason and sends nothing', async () => {
    const s = scripted([200]);
    const reason = new Error('already over');
    await assert.rejects(
      within(sendAnsweringChallenge(s.request, AbortSignal.abort(reason))),
      (error: unknown) => error === reason,
    );
    assert.equal(s.sends(), 0);
  });
});

describe('Deadline', () => {
  it('aborts once: listeners called once, the first reason kept, throwIfAborted throws it', () => {
    const deadline = new Deadline();
    let calls = 0;
    const removed = () => calls++;
    deadline.addEventListener('abort', () => calls++);
    deadline.addEventListener('abort', removed);
    deadline.removeEventListener('abort', removed);
    assert.equal(deadline.aborted, false);
    deadline.throwIfAborted(); // nothing yet
    const reason = new Error('deadline');
    deadline.abort(reason);
    deadline.abort(new Error('second'));
    assert.equal(calls, 1);
    assert.equal(deadline.aborted, true);
    assert.equal(deadline.reason, reason);
    assert.throws(
      () => deadline.throwIfAborted(),
      (error: unknown) => error === reason,
    );
    deadline.addEventListener('abort', () => calls++); // after the fact: never called
    deadline.abort(reason);
    assert.equal(calls, 1);
  });

  it('untilAborted on a Deadline rejects with its reason as soon as it aborts', async () => {
    const deadline = new Deadline();
    const outcome = untilAborted(new Promise<string>(() => undefined), deadline);
    assert.equal(await settlesWithin(outcome, 30), false);
    const reason = new Error('aborted');
    deadline.abort(reason);
    await assert.rejects(within(outcome, 100), (error: unknown) => error === reason);
    await assert.rejects(
      within(untilAborted(Promise.resolve(1), deadline), 100),
      (error: unknown) => error === reason,
    );
  });
});

describe('untilAborted', () => {
  it('without a signal it is the promise itself', () => {
    const promise = Promise.resolve(1);
    assert.equal(untilAborted(promise, undefined), promise);
  });

  it('settles as the promise does, and then leaves no listener on the signal', async () => {
    const controller = new AbortController();
    assert.equal(await within(untilAborted(Promise.resolve('value'), controller.signal)), 'value');
    const failure = new Error('failed');
    await assert.rejects(
      within(untilAborted(Promise.reject(failure), controller.signal)),
      (error: unknown) => error === failure,
    );
    await assert.rejects(
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is tested
      within(untilAborted(Promise.reject('a string'), controller.signal)),
      (error: unknown) => error instanceof Error && error.message === 'a string',
    );
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort(new Error('after the fact')); // changes nothing that settled
  });

  it('rejects with the reason as soon as the signal aborts, without waiting for the promise', async () => {
    const controller = new AbortController();
    let resolveLate!: (value: string) => void;
    const outcome = untilAborted(
      new Promise<string>((resolve) => (resolveLate = resolve)),
      controller.signal,
    );
    assert.equal(await settlesWithin(outcome, 30), false);
    const reason = new Error('aborted');
    controller.abort(reason);
    await assert.rejects(within(outcome, 100), (error: unknown) => error === reason);
    resolveLate('too late');
    await settle();
  });

  it('a signal aborted already rejects with its reason', async () => {
    const reason = new Error('before');
    let settled = false;
    const outcome = untilAborted(
      new Promise<string>(() => undefined),
      AbortSignal.abort(reason),
    ).finally(() => (settled = true));
    await assert.rejects(within(outcome, 100), (error: unknown) => error === reason);
    assert.equal(settled, true);
  });
});

/** A TCP server that reads what it is sent and never writes a byte; it records its sockets. */
/** Starts `server` on a free loopback port; resolves with the port. */
async function listenOnLoopback(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP connection to a loopback port over plain TCP. */
function connectionTo(port: number): HttpConnection {
  return new HttpConnection(() =>
    openConnection({ target: { host: '127.0.0.1', port }, timeoutMs: 3000 }),
  );
}

async function silentServer() {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume(); // reads (and so sees the client's end of stream), never answers
    sockets.push(socket);
  });
  return {
    port: await listenOnLoopback(server),
    sockets,
    allClosed: () => sockets.length > 0 && sockets.every((socket) => socket.closed),
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A TCP server that echoes; it counts connections. */
async function echoServer() {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  return {
    port: await listenOnLoopback(server),
    connections: () => connections,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function echoes(socket: net.Socket, text: string): Promise<string> {
  const received: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (Buffer.concat(received).length >= text.length) resolve();
    });
  });
  socket.write(text);
  await within(done, 3000, 'the echo');
  return Buffer.concat(received).toString();
}

describe('openConnection', () => {
  it('opens TCP to the target', async () => {
    const echo = await echoServer();
    try {
      const socket = await within(
        openConnection({ target: { host: '127.0.0.1', port: echo.port }, timeoutMs: 3000 }),
      );
      assert.equal(socket.remotePort, echo.port);
      assert.equal(await echoes(socket, 'hello'), 'hello');
      socket.destroy();
    } finally {
      echo.stop();
    }
  });

  it('a refused connection is a network ConnectError, with the cause', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      within(openConnection({ target: { host: '127.0.0.1', port }, timeoutMs: 3000 })),
      (error: unknown) =>
        error instanceof ConnectError &&
        error.kind === 'network' &&
        (error.cause as NodeJS.ErrnoException).code === 'ECONNREFUSED',
    );
  });

  it('a proxy that never answers CONNECT: a timeout ConnectError after timeoutMs, and its connection is closed', async () => {
    const TIMEOUT = 200;
    const proxy = await silentServer();
    try {
      const started = performance.now();
      await assert.rejects(
        within(
          openConnection({
            target: { host: '127.0.0.1', port: 9 },
            proxy: { host: '127.0.0.1', port: proxy.port },
            timeoutMs: TIMEOUT,
          }),
        ),
        (error: unknown) => error instanceof ConnectError && error.kind === 'timeout',
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= TIMEOUT - 2, `gave up after ${elapsed.toFixed(0)} ms`);
      await waitFor(proxy.allClosed, 3000, 'the half-made tunnel to close');
    } finally {
      proxy.stop();
    }
  });

  it('an abort while the tunnel is being made rejects with its reason and closes the connection', async () => {
    const proxy = await silentServer();
    try {
      const controller = new AbortController();
      const opening = openConnection({
        target: { host: '127.0.0.1', port: 9 },
        proxy: { host: '127.0.0.1', port: proxy.port },
        timeoutMs: 0,
        signal: controller.signal,
      });
      await waitFor(() => proxy.sockets.length === 1, 3000, 'the proxy connection');
      const reason = new Error('aborted by the test');
      controller.abort(reason);
      await assert.rejects(within(opening), (error: unknown) => error === reason);
      await waitFor(proxy.allClosed, 3000, 'the half-made tunnel to close');
    } finally {
      proxy.stop();
    }
  });

  it("a proxy that refuses the tunnel: a proxy-refused ConnectError with the proxy's status", async () => {
    const proxy = await startProxy({ refuse: 407 });
    try {
      await assert.rejects(
        within(
          openConnection({
            target: { host: '127.0.0.1', port: 9 },
            proxy: { host: '127.0.0.1', port: proxy.port },
            timeoutMs: 3000,
          }),
        ),
        (error: unknown) =>
          error instanceof ConnectError && error.kind === 'proxy-refused' && error.status === 407,
      );
    } finally {
      proxy.stop();
    }
  });

  it('through a proxy: CONNECT to the target with its authority and Proxy-Authorization, then the tunnel carries bytes', async () => {
    const echo = await echoServer();
    const proxy = await startProxy({ credentials: 'user:pass' });
    try {
      const authorization = `Basic ${Buffer.from('user:pass').toString('base64')}`;
      const socket = await within(
        openConnection({
          target: { host: '127.0.0.1', port: echo.port },
          proxy: { host: '127.0.0.1', port: proxy.port, authorization },
          timeoutMs: 3000,
        }),
      );
      assert.deepEqual(proxy.connects, [{ target: `127.0.0.1:${echo.port}`, authorization }]);
      assert.equal(await echoes(socket, 'through the tunnel'), 'through the tunnel');
      socket.destroy();
    } finally {
      proxy.stop();
      echo.stop();
    }
  });

  it('a 407 is answered once: Basic (a challenge first, then the credentials) and Digest (MD5, qop=auth, the authority as URI)', async () => {
    const echo = await echoServer();
    for (const scheme of ['basic', 'digest'] as const) {
      const proxy = await startProxy({
        auth: { scheme, username: 'pu', password: 'pp', alsoOffer: ['Negotiate'] },
      });
      try {
        const socket = await within(
          openConnection({
            target: { host: '127.0.0.1', port: echo.port },
            proxy: {
              host: '127.0.0.1',
              port: proxy.port,
              credentials: { username: 'pu', password: 'pp' },
            },
            timeoutMs: 3000,
          }),
        );
        assert.equal(await echoes(socket, `via ${scheme}`), `via ${scheme}`);
        socket.destroy();
        assert.equal(proxy.connects.length, 2, 'one CONNECT, one answer');
        assert.equal(proxy.connects[0].authorization, undefined);
        const answer = proxy.connects[1].authorization ?? '';
        if (scheme === 'basic')
          assert.equal(answer, `Basic ${Buffer.from('pu:pp').toString('base64')}`);
        else {
          assert.match(answer, /^Digest /);
          assert.match(answer, new RegExp(`uri="127\\.0\\.0\\.1:${echo.port}"`));
        }
      } finally {
        proxy.stop();
      }
    }
    echo.stop();
  });

  it('refused again, or a challenge nothing answers: a proxy-refused ConnectError (407) saying why, after at most two CONNECTs', async () => {
    const echo = await echoServer();
    const cases = [
      {
        auth: { scheme: 'digest', username: 'pu', password: 'right' } as const,
        proxy: { credentials: { username: 'pu', password: 'wrong' } },
        connects: 2,
        why: /refused the credentials/,
      },
      {
        auth: { scheme: 'basic', username: 'pu', password: 'right' } as const,
        proxy: {
          authorization: `Basic ${Buffer.from('pu:wrong').toString('base64')}`,
          credentials: { username: 'pu', password: 'wrong' },
        },
        connects: 1, // the preemptive Basic was the answer: not sent twice
        why: /refused the credentials/,
      },
      {
        auth: { scheme: 'basic', username: 'pu', password: 'right' } as const,
        proxy: {},
        connects: 1,
        why: /wants credentials: none were given/,
      },
    ];
    for (const { auth, proxy: settings, connects, why } of cases) {
      const proxy = await startProxy({ auth });
      try {
        await assert.rejects(
          within(
            openConnection({
              target: { host: '127.0.0.1', port: echo.port },
              proxy: { host: '127.0.0.1', port: proxy.port, ...settings },
              timeoutMs: 3000,
            }),
          ),
          (error: unknown) => {
            assert.ok(error instanceof ConnectError, String(error));
            assert.equal(error.kind, 'proxy-refused');
            assert.equal(error.status, 407);
            assert.match(error.message, why);
            return true;
          },
        );
        assert.equal(proxy.connects.length, connects);
      } finally {
        proxy.stop();
      }
    }
    // Only a scheme wsnet cannot answer: said so, no second CONNECT.
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n',
        ),
      );
    });
    try {
      await assert.rejects(
        openConnection({
          target: { host: '127.0.0.1', port: echo.port },
          proxy: {
            host: '127.0.0.1',
            port: await listenOnLoopback(server),
            credentials: { username: 'u', password: 'p' },
          },
          timeoutMs: 3000,
        }),
        /asks for NTLM, Negotiate; only Basic and Digest are answered/,
      );
    } finally {
      server.close();
      echo.stop();
    }
  });

  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
  it('TLS to an IP literal: the handshake completes and sends no server name', async () => {
    const { cert, key } = selfSignedCertificate();
    const names: unknown[] = [];
    const server = tls.createServer({ cert, key }, (socket) => {
      names.push(socket.servername);
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    const port = await listenOnLoopback(server);
    try {
      const socket = await within(
        openConnection({ target: { host: '127.0.0.1', port }, tls: { ca: cert }, timeoutMs: 3000 }),
      );
      assert.ok(socket instanceof tls.TLSSocket && socket.authorized);
      assert.equal(await echoes(socket, 'secret'), 'secret');
      assert.deepEqual(names, [false]);
      socket.destroy();
    } finally {
      server.close();
    }
  });
});

/** Reads a response body to its end. */
async function bodyOf(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('HttpConnection', () => {
  it('a 401 answered with credentials is retried on the same connection (one connect)', async () => {
    const seen: Array<{ port: number | undefined; authorization: string | undefined }> = [];
    const server = http.createServer((request, response) => {
      seen.push({ port: request.socket.remotePort, authorization: request.headers.authorization });
      if (request.headers.authorization === undefined)
        response
          .writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"', 'Content-Length': '7' })
          .end('go away');
      else response.writeHead(200, { 'Content-Length': '7' }).end('welcome');
    });
    const port = await listenOnLoopback(server);
    let connects = 0;
    const connection = new HttpConnection(() => {
      connects++;
      return openConnection({ target: { host: '127.0.0.1', port }, timeoutMs: 3000 });
    });
    let authorization: string | undefined;
    try {
      const response = await within(
        sendAnsweringChallenge({
          send: () => {
            const headers: Array<[string, string]> = [['Host', `127.0.0.1:${port}`]];
            if (authorization !== undefined) headers.push(['Authorization', authorization]);
            const pending = connection.request({
              method: 'GET',
              path: '/',
              headers,
              responseTimeoutMs: 3000,
            });
            pending.body.end();
            return pending.response;
          },
          answer: async (refused) => {
            assert.equal(refused.kind, 'response');
            if (refused.kind !== 'response') return false;
            assert.equal(await bodyOf(refused.body), 'go away');
            authorization = 'Basic dTpw';
            return true;
          },
        }),
      );
      assert.equal(response.status, 200);
      assert.equal(response.kind, 'response');
      if (response.kind === 'response') assert.equal(await bodyOf(response.body), 'welcome');
      assert.equal(connects, 1);
      assert.equal(seen.length, 2);
      assert.equal(seen[0].port, seen[1].port, 'both requests on one connection');
      assert.deepEqual(
        seen.map((s) => s.authorization),
        [undefined, 'Basic dTpw'],
      );
    } finally {
      connection.reset();
      server.closeAllConnections();
      server.close();
    }
  });

  it('sends the headers given, in their order, with nothing added when Connection is given', async () => {
    let head = '';
    const server = net.createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n'))
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    const connection = connectionTo(await listenOnLoopback(server));
    try {
      const pending = connection.request({
        method: 'GET',
        path: '/path?q=1',
        headers: [
          ['X-Second', 'b'],
          ['x-first', 'a'],
          ['Connection', 'Upgrade'],
          ['X-Second', 'again'],
        ],
        responseTimeoutMs: 3000,
      });
      pending.body.end();
      const response = await within(pending.response);
      assert.equal(response.status, 200);
      assert.equal(
        head,
        'GET /path?q=1 HTTP/1.1\r\nX-Second: b\r\nx-first: a\r\nConnection: Upgrade\r\nX-Second: again\r\n\r\n',
      );
    } finally {
      connection.reset();
      server.close();
    }
  });

  it('a 101 hands over the socket, the bytes read past the head, and the headers in order', async () => {
    const server = http.createServer();
    server.on('upgrade', (_request: http.IncomingMessage, socket: net.Socket) => {
      socket.on('error', () => undefined);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfirst frame',
      );
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
    });
    const port = await listenOnLoopback(server);
    const connection = connectionTo(port);
    try {
      const pending = connection.request({
        method: 'GET',
        path: '/',
        headers: [
          ['Host', `127.0.0.1:${port}`],
          ['Connection', 'Upgrade'],
          ['Upgrade', 'websocket'],
        ],
        responseTimeoutMs: 3000,
      });
      pending.body.end();
      const response = await within(pending.response);
      assert.equal(response.kind, 'upgrade');
      if (response.kind !== 'upgrade') return;
      assert.equal(response.status, 101);
      assert.equal(response.reason, 'Switching Protocols');
      assert.equal(response.version, 'HTTP/1.1');
      assert.deepEqual(response.headers, [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
      ]);
      assert.equal(response.head.toString(), 'first frame');
      assert.equal(await echoes(response.socket, 'then more'), 'then more');
      response.socket.destroy();
    } finally {
      connection.reset();
      server.closeAllConnections();
      server.close();
    }
  });

  it('no response head within responseTimeoutMs: a timeout ResponseError', async () => {
    const silent = await silentServer();
    const connection = connectionTo(silent.port);
    try {
      const pending = connection.request({
        method: 'GET',
        path: '/',
        headers: [['Host', 'x']],
        responseTimeoutMs: 150,
      });
      pending.body.end();
      await assert.rejects(
        within(pending.response),
        (error: unknown) => error instanceof ResponseError && error.kind === 'timeout',
      );
      await waitFor(silent.allClosed, 3000, 'the request to be dropped');
    } finally {
      connection.reset();
      silent.stop();
    }
  });

  for (const [what, reply, kind] of [
    ['closes without a response', null, 'no-response'],
    ['answers with garbage', 'NOT HTTP\r\n\r\n', 'malformed'],
  ] as const) {
    it(`a server that ${what}: a ${kind} ResponseError`, async () => {
      const server = net.createServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => (reply === null ? socket.destroy() : socket.end(reply)));
      });
      const connection = connectionTo(await listenOnLoopback(server));
      try {
        const pending = connection.request({
          method: 'GET',
          path: '/',
          headers: [['Host', 'x']],
          responseTimeoutMs: 3000,
        });
        pending.body.end();
        await assert.rejects(
          within(pending.response),
          (error: unknown) => error instanceof ResponseError && error.kind === kind,
        );
      } finally {
        connection.reset();
        server.close();
      }
    });
  }

  it("a connection that cannot be made: the response rejects with connect's ConnectError", async () => {
    const failure = new ConnectError('network', 'no route');
    const connection = new HttpConnection(() => Promise.reject(failure));
    try {
      const pending = connection.request({
        method: 'GET',
        path: '/',
        headers: [['Host', 'x']],
        responseTimeoutMs: 3000,
      });
      pending.body.end();
      await assert.rejects(within(pending.response), (error: unknown) => error === failure);
    } finally {
      connection.reset();
    }
  });
});
