// Issue 11 §1, the peer-failure suite: handshake inputs that broke other WebSocket servers, fed to
// both servers of wsnet (the message API's WebSocketServer and the POCO facade's HTTPServer with
// WebSocket(request, response)); each must be answered or refused within the test's deadline,
// and the server must go on serving a good client. Advisories covered here:
//   ws CVE-2021-32640 (Sec-WebSocket-Protocol ReDoS), ws GHSA-5v72-xg48-5rpm (Object.prototype
//   extension names), ws CVE-2024-37890 (more headers than maxHeadersCount), tungstenite
//   CVE-2023-43669 (an over-long handshake header), faye CVE-2020-7662 (extension-header ReDoS)
//   and CVE-2026-54466 (draft-75/76 handshakes), socket.io/engine.io CVE-2024-38355,
//   CVE-2022-41940, GHSA-q9mw-68c2-j6m5, CVE-2023-32695 (a crafted request → uncaught
//   exception), poco#5472 (a partial head, then EOF), and issue 11's slowloris handshakes.
// Not applicable to a server: python-websockets CVE-2021-33880 (Basic-auth timing): neither
// server checks credentials itself; the message API's `accept` hook and a POCO handler are the
// application's code.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { pump } from '../helpers/fixture-child.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  SERVER_KINDS,
  SERVER_NAMES,
  answerTo,
  assertServes,
  handshakeWith,
  startTarget,
  type ServerUnderTest,
} from '../helpers/security-server.js';

const running: ServerUnderTest[] = [];
after(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

async function target(...args: Parameters<typeof startTarget>): Promise<ServerUnderTest> {
  const server = await startTarget(...args);
  running.push(server);
  return server;
}

function headerOf(head: { headers: Array<[string, string]> }, name: string): string | undefined {
  return head.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/**
 * What each crafted request gets. The message API checks the handshake fully (RFC 6455 §4.2.1);
 * the facade checks what POCO's WebSocket checks (Connection, Upgrade, a supported version, a
 * key present) and leaves method, HTTP version and the key's form alone, as POCO does. A path is
 * the application's business in both (no `path` set here). Nothing else: no crash, no hang.
 */
const EXPECTED_CRAFTED: Record<string, Record<string, number | string>> = {
  messages: {
    'a key that is not base64': 400,
    'two keys': 400,
    'version 99': 400,
    'version "13, 13"': 400,
    'HTTP/1.0': 400,
    'a bad percent-escape in the path': 101,
    'a path of 10,000 slashes': 101,
    'POST with a body': 400,
    'a NUL in a header value': 400,
    'a header with no colon': 400,
    'not HTTP at all': 400,
  },
  poco: {
    'a key that is not base64': 101,
    'two keys': 101,
    'version 99': 400,
    'version "13, 13"': 400,
    'HTTP/1.0': 101,
    'a bad percent-escape in the path': 101,
    'a path of 10,000 slashes': 101,
    'POST with a body': 101,
    'a NUL in a header value': 400,
    'a header with no colon': 400,
    'not HTTP at all': 400,
  },
};

for (const kind of SERVER_KINDS) {
  describe(`peer failures, handshake: ${SERVER_NAMES[kind]}`, () => {
    it('CVE-2021-32640 (ws): a Sec-WebSocket-Protocol of 15,000 spaces between two tokens is answered, not a ReDoS', async () => {
      // ws 7.4.5's /^ *| *$/ split took seconds per request; the head stays under 16 KiB.
      const server = await target(kind, { protocols: ['chat'] });
      const value = `chat${' '.repeat(15_000)}x`;
      const { client, head } = await answerTo(
        server.port,
        handshakeWith(server.port, [['Sec-WebSocket-Protocol', value]]),
      );
      client.destroy();
      if (kind === 'messages') {
        assert.equal(head.status, 400, 'tokens separated by spaces, not commas, are malformed');
      } else {
        // The facade leaves subprotocols to the handler (POCO's WebSocket does not select one).
        assert.equal(head.status, 101);
        assert.equal(headerOf(head, 'Sec-WebSocket-Protocol'), undefined);
      }
      await assertServes(server.port);
    });

    it('GHSA-5v72-xg48-5rpm (ws): Sec-WebSocket-Extensions naming Object.prototype members is declined, no crash', async () => {
      // ws 3.3.0 parsed extension offers into a plain object: `constructor`/`__proto__` crashed it.
      const server = await target(kind, { perMessageDeflate: true });
      const offer =
        '__proto__; __proto__=1, constructor; toString; hasOwnProperty=x, ' +
        'permessage-deflate; __proto__; constructor=1, valueOf';
      const { client, head } = await answerTo(
        server.port,
        handshakeWith(server.port, [['Sec-WebSocket-Extensions', offer]]),
      );
      client.destroy();
      assert.equal(head.status, 101);
      assert.equal(
        headerOf(head, 'Sec-WebSocket-Extensions'),
        undefined,
        'no extension is agreed: the only permessage-deflate offer has unknown parameters',
      );
      await assertServes(server.port);
    });

    it('CVE-2024-37890 (ws): 2,100 headers before Sec-WebSocket-Key (over node:http maxHeadersCount) are refused with 400 or 431, not a crash', async () => {
      // ws 8.17.0 read the key node:http had dropped past its 2000th header as undefined.
      const server = await target(kind);
      const filler = Array.from({ length: 2100 }, (): [string, string] => ['a', '1']);
      const request = handshakeWith(server.port, filler);
      // Move the key after the filler: node:http keeps only the first 2000 headers.
      const keyLine = /Sec-WebSocket-Key: [^\r]*\r\n/.exec(request)![0];
      const moved = request.replace(keyLine, '').replace(/\r\n\r\n$/, `\r\n${keyLine}\r\n`);
      assert.ok(Buffer.byteLength(moved) < 16 * 1024, 'under the 16 KiB head limit');
      const { client, head } = await answerTo(server.port, moved);
      client.destroy();
      // Node 20's node:http drops the headers past its count (the key is then missing: 400);
      // Node 22's llhttp refuses the head itself (431). Either way, the handshake is refused.
      assert.ok([400, 431].includes(head.status), `status ${head.status}`);
      await assertServes(server.port);
    });

    it('CVE-2023-43669 (tungstenite): an endless handshake header is cut off with 431 after 16 KiB, not buffered', async () => {
      // tungstenite 0.20.0 buffered a header line of any length.
      const server = await target(kind);
      const client = await RawClient.connect(server.port);
      client.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: `);
      const streamed = await pump(client.socket, Buffer.alloc(64 * 1024, 0x61), {
        maxBytes: 64 * 1024 * 1024,
        timeMs: 10_000,
        stallMs: 2000,
      });
      // node:http answers 431 and closes; with our bytes unread there, the 431 may be lost to
      // the reset that the kernel sends instead of a FIN.
      const reply = await client.readToEnd(10_000).catch(() => client.socket.destroy());
      client.destroy();
      assert.ok(client.ended, 'the server ended the connection');
      assert.match(Buffer.isBuffer(reply) ? reply.toString('latin1') : '', /^(HTTP\/1\.1 431 |$)/);
      assert.notEqual(streamed.stopped, 'count', `the server took all ${streamed.bytes} bytes`);
      await assertServes(server.port);
    });

    it('CVE-2020-7662 (faye websocket-extensions): a quoted parameter of 7,000 backslash pairs with no closing quote is answered, not a ReDoS', async () => {
      const server = await target(kind, { perMessageDeflate: true });
      const offer = `permessage-deflate; x="${'\\a'.repeat(7000)}`;
      const { client, head } = await answerTo(
        server.port,
        handshakeWith(server.port, [['Sec-WebSocket-Extensions', offer]]),
      );
      client.destroy();
      // An unparsable offer: the message API refuses the handshake, the facade ignores it.
      if (kind === 'messages') assert.equal(head.status, 400);
      else assert.equal(head.status, 101);
      assert.equal(headerOf(head, 'Sec-WebSocket-Extensions'), undefined);
      await assertServes(server.port);
    });

    it('CVE-2026-54466 (faye websocket-driver): a draft-76 handshake (Sec-WebSocket-Key1/2, no version) is refused with 400', async () => {
      // The driver's draft-75/76 framing read an unbounded length; wsnet speaks only RFC 6455.
      const server = await target(kind);
      const request =
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
        'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n' +
        'Origin: http://example.com\r\n\r\n^n:ds[4U';
      const { client, head } = await answerTo(server.port, request);
      client.destroy();
      assert.equal(head.status, 400);
      await assertServes(server.port);
    });

    it('CVE-2024-38355, CVE-2022-41940, GHSA-q9mw-68c2-j6m5, CVE-2023-32695 (socket.io/engine.io): crafted upgrade requests get their HTTP answer, no uncaught exception', async () => {
      const server = await target(kind);
      const port = server.port;
      const crafted: Array<[string, string]> = [
        ['a key that is not base64', handshakeWith(port).replace(/Key: [^\r]*/, 'Key: %%%%')],
        ['two keys', handshakeWith(port, [['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']])],
        ['version 99', handshakeWith(port).replace('Version: 13', 'Version: 99')],
        ['version "13, 13"', handshakeWith(port).replace('Version: 13', 'Version: 13, 13')],
        ['HTTP/1.0', handshakeWith(port).replace('HTTP/1.1', 'HTTP/1.0')],
        ['a bad percent-escape in the path', handshakeWith(port).replace('/ws', '/%zz%')],
        ['a path of 10,000 slashes', handshakeWith(port).replace('/ws', '/'.repeat(10_000))],
        ['POST with a body', handshakeWith(port, [['Content-Length', '3']]).replace('GET', 'POST')],
        ['a NUL in a header value', handshakeWith(port, [['X-Nul', 'a\u0000b']])],
        ['a header with no colon', handshakeWith(port, [['X-Broken\r\nno colon here', 'x']])],
        ['not HTTP at all', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003\r\n\r\n'],
      ];
      const outcomes: Record<string, number | string> = {};
      for (const [name, request] of crafted) {
        const client = await RawClient.connect(port);
        client.write(request);
        try {
          outcomes[name] = (await client.readHead(10_000)).status;
        } catch (error) {
          outcomes[name] = client.ended ? 'closed' : String(error);
        }
        client.destroy();
      }
      assert.deepEqual(outcomes, EXPECTED_CRAFTED[kind]);
      await assertServes(port);
    });

    it('poco#5472 (POCO): a partial request head and then EOF ends that connection, the server serves on', async () => {
      const server = await target(kind);
      for (const cut of [1, 20, 90]) {
        const request = handshakeWith(server.port);
        const client = await RawClient.connect(server.port);
        client.write(request.slice(0, cut));
        client.end();
        // node:http answers an incomplete head at EOF with 400 or just closes; either ends it.
        await client.closed(10_000);
        client.destroy();
      }
      await assertServes(server.port);
    });

    it('slowloris (issue 11): 100 handshakes trickling one byte at a time are dropped at the handshake timeout; good clients are served meanwhile', async () => {
      const server = await target(kind, { handshakeTimeout: 1000 });
      const request = handshakeWith(server.port);
      const slow = await Promise.all(
        Array.from({ length: 100 }, () => RawClient.connect(server.port)),
      );
      let stop = false;
      const trickle = (async () => {
        for (let i = 0; i < 40 && !stop; i++) {
          for (const client of slow) if (!client.ended) client.write(request[i]);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      try {
        await assertServes(server.port, 'during the slowloris');
        // Each is answered 408 or closed once the timeout passed (node:http checks it every ~250 ms).
        await Promise.all(slow.map((client) => client.closed(10_000)));
      } finally {
        stop = true;
        await trickle;
        for (const client of slow) client.destroy();
      }
      await assertServes(server.port);
    });
  });
}
