// Peer-failure suite, clients, the opening handshake: a hostile server (or proxy) attacks both of
// wsnet's clients — the message API's connect() and POCO's WebSocket.connect() — with the input
// that once broke a peer library (../shared/reference/peer-failures.md). Each test asserts the
// documented error, no unhandled rejection or uncaught exception, and (by the next test) a live
// process.
//
// Covers: CVE-2023-43669 (tungstenite, over-long head), CVE-2024-37890 (ws, header count),
// CVE-2020-7662 (faye websocket-extensions ReDoS), GHSA-5v72-xg48-5rpm (ws, Object.prototype
// extension names), CVE-2021-32640 (ws, Sec-WebSocket-Protocol ReDoS), poco#5472 (partial head then
// EOF), a 401 challenge flood and pathological WWW-Authenticate, a trickling 101 (slowloris against
// a client), a proxy that answers CONNECT with garbage or drops the tunnel.
// Not applicable here: CVE-2021-33880 (python websockets, Basic-auth timing) is a server checking
// credentials; a client only sends them. CVE-2026-54466 (faye driver, draft-75 length) needs
// draft-75/76 framing, which wsnet does not speak (RFC 6455 only).
// socket.io / engine.io (CVE-2024-38355, CVE-2022-41940, GHSA-q9mw-68c2-j6m5, CVE-2023-32695) are
// packets of their own protocol above WebSocket; what they share with wsnet, no uncaught exception
// on peer input, is asserted by every test of this suite (EscapeWatch).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HTTPCredentials } from '../../src/poco/index.js';
import {
  EscapeWatch,
  messageOutcome,
  pocoOutcome,
  pocoSession,
  switching,
  type Outcome,
} from '../helpers/security-client.js';
import {
  startScriptedServer,
  type Reply,
  type ReceivedRequest,
} from '../helpers/scripted-server.js';

const watch = new EscapeWatch();
before(() => watch.install());
after(() => watch.uninstall());

/** Both clients against a server that answers every request with `script`. */
async function bothClients(
  script: (request: ReceivedRequest, index: number) => Reply,
  options: { credentials?: boolean; timeoutMs?: number; protocols?: string[] } = {},
): Promise<{ message: Outcome; poco: Outcome; requests: number[] }> {
  const server = await startScriptedServer(script);
  try {
    const timeoutMs = options.timeoutMs ?? 5000;
    const message = await messageOutcome(`ws://127.0.0.1:${server.port}/ws`, {
      handshakeTimeout: timeoutMs,
      ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
      ...(options.credentials === true
        ? { credentials: { username: 'user', password: 'secret' } }
        : {}),
    });
    const messageRequests = server.requests.length;
    const poco = await pocoOutcome(
      pocoSession(server.port, timeoutMs),
      options.credentials === true ? new HTTPCredentials('user', 'secret') : undefined,
    );
    await watch.assertNone();
    return { message, poco, requests: [messageRequests, server.requests.length - messageRequests] };
  } finally {
    server.stop();
  }
}

describe('the 101 head', () => {
  it('CVE-2023-43669 (tungstenite): a 101 head of 8 MiB is refused by both clients (16 KiB limit)', async () => {
    const huge = `X-Filler: ${'a'.repeat(8 * 1024 * 1024)}\r\n`;
    const { message, poco } = await bothClients((request) => ({
      send: switching(request, huge),
      close: true,
    }));
    assert.equal(message.name, 'NetworkError', message.message);
    assert.equal(message.code, 'http');
    assert.equal(poco.name, 'MessageException', poco.message);
  });

  it('CVE-2024-37890 (ws): a 101 with 5000 headers is refused by both clients', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const { message, poco } = await bothClients((request) => ({
      send: switching(request, many),
      close: true,
    }));
    assert.equal(message.name, 'NetworkError', message.message);
    assert.equal(poco.name, 'MessageException', poco.message);
  });

  it('CVE-2020-7662 (faye websocket-extensions): a ReDoS-shaped Sec-WebSocket-Extensions in the 101 is refused, not a hang', async () => {
    // The websocket-extensions pattern: a parameter whose quoted value never closes, made of
    // escapes, backtracked over by a regular expression. 12 KiB: under the head limit.
    const hostile = `permessage-deflate; x="${'\\a'.repeat(6000)}`;
    const { message, poco } = await bothClients((request) =>
      switching(request, `Sec-WebSocket-Extensions: ${hostile}\r\n`),
    );
    assert.equal(message.name, 'HandshakeError', message.message);
    // POCO's client offers no extension; POCO does not read the 101's extensions (it connects).
    assert.ok(['connected', 'WebSocketException'].includes(poco.name), poco.message);
  });

  it('GHSA-5v72-xg48-5rpm (ws): extension names from Object.prototype in the 101 are refused', async () => {
    const names = '__proto__; constructor=1, hasOwnProperty, toString; valueOf="x"';
    const { message, poco } = await bothClients((request) =>
      switching(request, `Sec-WebSocket-Extensions: ${names}\r\n`),
    );
    assert.equal(message.name, 'HandshakeError', message.message);
    assert.ok(['connected', 'WebSocketException'].includes(poco.name), poco.message);
    assert.equal(({} as Record<string, unknown>).constructor, Object, 'the prototype is intact');
  });

  it('CVE-2021-32640 (ws): a Sec-WebSocket-Protocol of 12 000 spaces in the 101 is refused', async () => {
    const { message, poco } = await bothClients(
      (request) => switching(request, `Sec-WebSocket-Protocol: chat${' '.repeat(12000)}x\r\n`),
      { protocols: ['chat'] },
    );
    assert.equal(message.name, 'HandshakeError', message.message);
    // POCO requested no subprotocol: the server naming one is not checked by POCO.
    assert.ok(['connected', 'WebSocketException'].includes(poco.name), poco.message);
  });

  it('poco#5472: a partial 101 head and then EOF fails both clients (no spin)', async () => {
    const { message, poco } = await bothClients(() => ({
      send: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs',
      close: true,
    }));
    assert.equal(message.name, 'NetworkError', message.message);
    assert.equal(poco.name, 'NoMessageException', poco.message);
  });

  it('slowloris against a client: a 101 trickled one byte at a time ends at the handshake deadline', async () => {
    // Every 20 ms one more byte of a header that never ends: the deadline covers the whole
    // handshake, not each read, so the trickle cannot keep the client waiting.
    const trickles: NodeJS.Timeout[] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nX-Slow: ');
      let sent = 0;
      const timer = setInterval(() => {
        // Bounded: 500 bytes at most (10 s), then the server gives up.
        if (sent++ >= 500 || socket.destroyed) {
          clearInterval(timer);
          socket.destroy();
          return;
        }
        socket.write('a');
      }, 20);
      trickles.push(timer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const message = await messageOutcome(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 300 });
      assert.equal(message.name, 'TimeoutError', message.message);
      const poco = await pocoOutcome(pocoSession(port, 300));
      assert.equal(poco.name, 'TimeoutException', poco.message);
      await watch.assertNone();
    } finally {
      for (const timer of trickles) clearInterval(timer);
      server.close();
    }
  });
});

describe('401 challenges', () => {
  it('a 401 flood: a server that answers every request with 401 gets exactly one retry from each client', async () => {
    const challenge =
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n';
    const { message, poco, requests } = await bothClients(() => challenge, { credentials: true });
    assert.equal(message.name, 'HandshakeError', message.message);
    assert.equal(poco.name, 'WebSocketException', poco.message);
    assert.equal(poco.code, 6);
    assert.deepEqual(requests, [2, 2], 'the first request and one retry each, no loop');
  });

  it('pathological WWW-Authenticate (Basic/Digest parsing): 2000 challenges, unterminated quotes, 8 KiB of escapes', async () => {
    const hostile = [
      Array.from({ length: 2000 }, () => 'Foo').join(', '),
      `Digest realm="${'\\"'.repeat(4000)}`,
      `Digest ${'a=,'.repeat(4000)}nonce="n"`,
      `Basic realm=${'='.repeat(8000)}`,
      `Digest realm="r", nonce="${'\\'.repeat(8000)}", algorithm=${'x'.repeat(100)}`,
    ];
    for (const value of hostile) {
      const { message, poco } = await bothClients(
        () =>
          `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${value}\r\nContent-Length: 0\r\n\r\n`,
        { credentials: true },
      );
      assert.ok(
        ['HandshakeError', 'NetworkError'].includes(message.name),
        `${value.slice(0, 40)}: ${message.name} ${message.message}`,
      );
      assert.equal(poco.name, 'WebSocketException', `${value.slice(0, 40)}: ${poco.message}`);
    }
  });
});

describe('proxies', () => {
  async function throughProxy(
    script: (request: ReceivedRequest) => Reply,
  ): Promise<{ message: Outcome; poco: Outcome }> {
    const proxy = await startScriptedServer(script);
    try {
      const message = await messageOutcome('ws://127.0.0.1:9/ws', {
        proxy: `http://127.0.0.1:${proxy.port}`,
        handshakeTimeout: 5000,
      });
      const session = pocoSession(9, 5000);
      session.setProxy('127.0.0.1', proxy.port);
      const poco = await pocoOutcome(session);
      await watch.assertNone();
      return { message, poco };
    } finally {
      proxy.stop();
    }
  }

  it('a proxy that answers the CONNECT with garbage fails both clients', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) & 0xff));
    const { message, poco } = await throughProxy(() => ({
      send: Buffer.concat([garbage, Buffer.from('\r\n\r\n')]),
      close: true,
    }));
    // A malformed answer, the proxy's as a server's: 'http' (src/messages/errors.ts), and POCO's
    // MessageException (test/faults/proxy-drops.test.ts has the other ways a proxy fails).
    assert.equal(message.name, 'NetworkError', message.message);
    assert.equal(message.code, 'http', message.message);
    assert.equal(poco.name, 'MessageException', poco.message);
  });

  it('a proxy that says 200 and then drops the tunnel fails both clients', async () => {
    const { message, poco } = await throughProxy(() => ({
      send: 'HTTP/1.1 200 Connection Established\r\n\r\n',
      close: true,
    }));
    assert.equal(message.name, 'NetworkError', message.message);
    assert.equal(poco.name, 'NoMessageException', poco.message);
  });
});
