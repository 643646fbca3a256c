// Interop: a real browser's WebSocket (Debian's headless Chromium, driven by playwright-core)
// against the wsnet message server. The server is attached to a node:http server that also
// serves the test page, so the browser connects from a real origin, as a web application would.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { WebSocketServer, type Message, type UpgradeContext } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import {
  assertPageEcho,
  ChromiumPage,
  fromPage,
  testPage,
  type CloseSeen,
  type EchoSeen,
} from '../helpers/chromium.js';
import { closeEvent, ConnectionQueue, nextMessage, within } from '../helpers/interop.js';

/** What the test page puts on `window.wsnetTest` (see PAGE_SCRIPT). */
interface PageApi {
  origin: string;
  echoBinary(size: number, seed: number): Promise<EchoSeen & { close: CloseSeen }>;
  echoText(unit: string, count: number): Promise<EchoSeen & { close: CloseSeen }>;
  subprotocol(offered: string[]): Promise<{ protocol: string; close: CloseSeen }>;
  untilServerCloses(): Promise<CloseSeen>;
  closeWith(code: number, reason: string): Promise<CloseSeen>;
  refused(): Promise<{ opened: boolean; errored: boolean; close: CloseSeen }>;
}

// The page's side, after the helpers every test page has (test/helpers/chromium.ts): its payloads
// come from pseudoRandomBytes, so the server can check what arrived byte for byte without the
// payload crossing the DevTools protocol; the browser reports SHA-256s of what it sent and
// received.
const PAGE_SCRIPT = String.raw`
function url(scenario) {
  return 'ws://' + location.host + '/ws?s=' + scenario;
}

async function connect(scenario, protocols = []) {
  const session = new Session(url(scenario), protocols);
  await session.open();
  return session;
}

async function echo(sent) {
  const session = await connect('echo');
  session.ws.send(sent);
  const received = await session.nextMessage();
  session.ws.close(1000);
  const close = await session.closed();
  return { ...(await echoSeen(sent, received)), close };
}

window.wsnetTest = {
  origin: location.origin,
  echoBinary(size, seed) {
    return echo(pseudoRandomBytes(size, seed));
  },
  echoText(unit, count) {
    return echo(unit.repeat(count));
  },
  async subprotocol(offered) {
    const session = await connect('hold', offered);
    const protocol = session.ws.protocol;
    session.ws.close(1000);
    return { protocol, close: await session.closed() };
  },
  async untilServerCloses() {
    const session = await connect('hold');
    return session.closed();
  },
  async closeWith(code, reason) {
    const session = await connect('hold');
    session.ws.close(code, reason);
    return session.closed();
  },
  async refused() {
    const session = new Session(url('refuse'), []);
    const close = await session.closed();
    return { opened: session.opened, errored: session.errored, close };
  },
};
`;

/** How the page's `window` looks to the functions given to `page.evaluate`. */
interface TestWindow {
  wsnetTest: PageApi;
}

describe('interop: Chromium WebSocket → wsnet message server (attached to node:http)', () => {
  const browser = new ChromiumPage(testPage('wsnet interop', PAGE_SCRIPT));
  let server: WebSocketServer | undefined;
  let connections: ConnectionQueue;
  let page: Page;
  let pageOrigin: string;
  const handshakes: UpgradeContext[] = [];
  const rejections: number[] = [];

  /** The server side of an echo: takes the next connection, echoes one message, awaits close. */
  async function echoOnce(): Promise<Message> {
    const { connection } = await connections.next();
    const message = await nextMessage(connection);
    await connection.send(message);
    const status = await within(connection.closed, 10_000, 'close');
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
    return message;
  }

  before(async () => {
    await browser.listen();
    pageOrigin = browser.origin;
    server = new WebSocketServer({
      server: browser.httpServer,
      path: '/ws',
      protocols: ['chat.v1'],
      origins: [pageOrigin],
      accept: (upgrade) => {
        handshakes.push(upgrade);
        return !upgrade.url.endsWith('s=refuse');
      },
    });
    server.on('rejection', (status) => rejections.push(status));
    connections = new ConnectionQueue(server);
    page = await browser.open();
  });

  after(() => browser.close([['closing the WebSocket server', () => server?.close()]]));

  it('the page comes from the HTTP server the WebSocket server is attached to', async () => {
    const origin = await fromPage(
      page.evaluate(() => (globalThis as unknown as TestWindow).wsnetTest.origin),
    );
    assert.equal(origin, pageOrigin);
  });

  it('non-ASCII text is echoed as text, exactly', async () => {
    const text = 'héllo wörld 😀 ✓';
    const [seen, received] = await Promise.all([
      fromPage(
        page.evaluate((t) => (globalThis as unknown as TestWindow).wsnetTest.echoText(t, 1), text),
      ),
      echoOnce(),
    ]);
    assert.equal(received, text);
    assertPageEcho(seen, text, "the page's echo");
    assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
  });

  it('a text of several MiB of multibyte characters is echoed exactly', async () => {
    const unit = 'héllo wörld 😀 ✓ ';
    const count = 200_000; // 23 bytes a unit: 4.6 MB, with a 4-byte character every 23 bytes
    const expected = unit.repeat(count);
    const [seen, received] = await Promise.all([
      fromPage(
        page.evaluate(([u, n]) => (globalThis as unknown as TestWindow).wsnetTest.echoText(u, n), [
          unit,
          count,
        ] as const),
      ),
      echoOnce(),
    ]);
    assert.equal(typeof received, 'string');
    // Not assert.equal: a failure would print two 4.6 MB strings.
    assert.ok(received === expected, 'the server received exactly the text the browser sent');
    assertPageEcho(seen, expected, "the page's echo");
  });

  for (const size of [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]) {
    it(`a binary message of ${size} bytes is echoed byte for byte`, async () => {
      const seed = 0x5eed0000 + size;
      const [seen, received] = await Promise.all([
        fromPage(
          page.evaluate(
            ([n, s]) => (globalThis as unknown as TestWindow).wsnetTest.echoBinary(n, s),
            [size, seed] as const,
          ),
        ),
        echoOnce(),
      ]);
      const expected = pseudoRandomBytes(size, seed);
      assert.ok(Buffer.isBuffer(received), 'the server received a binary message');
      assert.equal(received.length, size);
      assert.ok(received.equals(expected), 'the server received the bytes the browser sent');
      // The page generated the same bytes, and got them back.
      assertPageEcho(seen, expected, "the page's echo");
      assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
    });
  }

  it("the server selects the subprotocol it supports among the browser's offer", async () => {
    handshakes.length = 0;
    const [seen, accepted] = await Promise.all([
      fromPage(
        page.evaluate(() =>
          (globalThis as unknown as TestWindow).wsnetTest.subprotocol(['chat.v2', 'chat.v1']),
        ),
      ),
      connections.next(),
    ]);
    assert.equal(seen.protocol, 'chat.v1');
    assert.equal(accepted.connection.protocol, 'chat.v1');
    assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
    assert.equal(handshakes.length, 1);
    assert.deepEqual(handshakes[0].protocols, ['chat.v2', 'chat.v1']);
  });

  it("the browser's Origin header reaches the accept hook", async () => {
    handshakes.length = 0;
    const [seen, accepted] = await Promise.all([
      fromPage(
        page.evaluate(() => (globalThis as unknown as TestWindow).wsnetTest.subprotocol([])),
      ),
      connections.next(),
    ]);
    assert.equal(seen.protocol, '');
    assert.equal(accepted.connection.protocol, '');
    assert.equal(handshakes.length, 1);
    assert.equal(handshakes[0].origin, pageOrigin);
    assert.equal(accepted.request.headers.origin, pageOrigin);
    assert.equal(handshakes[0].url, '/ws?s=hold');
  });

  it('a handshake the accept hook refuses fails in the browser (error, then close 1006)', async () => {
    rejections.length = 0;
    const seen = await fromPage(
      page.evaluate(() => (globalThis as unknown as TestWindow).wsnetTest.refused()),
    );
    assert.deepEqual(seen, {
      opened: false,
      errored: true,
      close: { code: 1006, reason: '', wasClean: false },
    });
    assert.deepEqual(rejections, [403]);
  });

  it("the server's close code and reason reach the browser, cleanly", async () => {
    const [seen, status] = await Promise.all([
      fromPage(
        page.evaluate(() => (globalThis as unknown as TestWindow).wsnetTest.untilServerCloses()),
      ),
      (async () => {
        const { connection } = await connections.next();
        return within(connection.close(4000, 'bye ✓'), 10_000, 'server close');
      })(),
    ]);
    assert.deepEqual(seen, { code: 4000, reason: 'bye ✓', wasClean: true });
    assert.deepEqual(status, { code: 4000, reason: 'bye ✓', wasClean: true });
  });

  it("the browser's close code and reason reach the server", async () => {
    const [seen, onServer] = await Promise.all([
      fromPage(
        page.evaluate(() =>
          (globalThis as unknown as TestWindow).wsnetTest.closeWith(3001, 'done'),
        ),
      ),
      (async () => closeEvent((await connections.next()).connection))(),
    ]);
    assert.deepEqual(onServer, { code: 3001, reason: 'done', wasClean: true });
    // The browser's CloseEvent reports the server's answering close frame, which echoes the
    // code (RFC 6455 §5.5.1) but not the reason, as ws does too.
    assert.deepEqual(seen, { code: 3001, reason: '', wasClean: true });
  });

  it("the browser answers the server's ping", async () => {
    const [seen, rtt] = await Promise.all([
      fromPage(
        page.evaluate(() => (globalThis as unknown as TestWindow).wsnetTest.untilServerCloses()),
      ),
      (async () => {
        const { connection } = await connections.next();
        const pongs: Buffer[] = [];
        connection.on('pong', (data) => pongs.push(data));
        const roundTrip = await within(connection.ping('are you there?'), 10_000, 'pong');
        assert.deepEqual(
          pongs.map((pong) => pong.toString()),
          ['are you there?'],
        );
        await within(connection.close(1000, 'pinged'), 10_000, 'server close');
        return roundTrip;
      })(),
    ]);
    assert.ok(rtt >= 0 && rtt < 10_000, `round trip ${rtt} ms`);
    assert.deepEqual(seen, { code: 1000, reason: 'pinged', wasClean: true });
  });
});
