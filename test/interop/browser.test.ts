// Interop: a real browser's WebSocket (Debian's headless Chromium, driven by playwright-core)
// against the wsnet message server. The server is attached to a node:http server that also
// serves the test page, so the browser connects from a real origin, as a web application would.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WebSocketServer, type Message, type UpgradeContext } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import { closeEvent, ConnectionQueue, nextMessage, tearDown, within } from '../helpers/interop.js';

const CHROMIUM = '/usr/bin/chromium';
/** Every wait in the page gives up after this long (the page's own timers bound evaluate()). */
const PAGE_TIMEOUT_MS = 20_000;

interface CloseSeen {
  code: number;
  reason: string;
  wasClean: boolean;
}

interface EchoSeen {
  /** 'text' or 'binary': the type of the message the browser got back. */
  kind: string;
  /** Bytes (binary) or UTF-16 code units (text) received. */
  length: number;
  sentSha256: string;
  receivedSha256: string;
  /** Text only: the message received is the string sent. */
  sameText: boolean;
  close: CloseSeen;
}

/** What the test page puts on `window.wsnetTest` (see PAGE_SCRIPT). */
interface PageApi {
  origin: string;
  echoBinary(size: number, seed: number): Promise<EchoSeen>;
  echoText(unit: string, count: number): Promise<EchoSeen>;
  subprotocol(offered: string[]): Promise<{ protocol: string; close: CloseSeen }>;
  untilServerCloses(): Promise<CloseSeen>;
  closeWith(code: number, reason: string): Promise<CloseSeen>;
  refused(): Promise<{ opened: boolean; errored: boolean; close: CloseSeen }>;
}

// The page's side, plain JavaScript run by Chromium. Its generator is test/helpers/bytes.ts's
// pseudoRandomBytes, so the server can check what arrived byte for byte without the payload
// crossing the DevTools protocol; the browser reports SHA-256s of what it sent and received.
const PAGE_SCRIPT = String.raw`
'use strict';
const TIMEOUT = ${PAGE_TIMEOUT_MS};

function bounded(what, executor) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what + ': timed out in the page')), TIMEOUT);
    executor(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

function pseudoRandomBytes(length, seed) {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A WebSocket whose messages and close are recorded from the start, so none is missed. */
class Session {
  constructor(scenario, protocols) {
    this.ws = new WebSocket('ws://' + location.host + '/ws?s=' + scenario, protocols);
    this.ws.binaryType = 'arraybuffer';
    this.messages = [];
    this.onMessage = null;
    this.closeEvent = null;
    this.onClose = null;
    this.errored = false;
    this.opened = false;
    this.ws.onmessage = (event) => {
      this.messages.push(event.data);
      this.onMessage?.();
    };
    this.ws.onerror = () => { this.errored = true; };
    this.ws.onclose = (event) => {
      this.closeEvent = { code: event.code, reason: event.reason, wasClean: event.wasClean };
      this.onClose?.();
      this.onMessage?.();
    };
  }
  open() {
    return bounded('open', (resolve, reject) => {
      this.ws.onopen = () => { this.opened = true; resolve(); };
      this.onClose = () => reject(new Error('closed before open: ' + JSON.stringify(this.closeEvent)));
    });
  }
  nextMessage() {
    return bounded('message', (resolve, reject) => {
      const take = () => {
        if (this.messages.length > 0) resolve(this.messages.shift());
        else if (this.closeEvent !== null) reject(new Error('closed: ' + JSON.stringify(this.closeEvent)));
        else return;
        this.onMessage = null;
      };
      this.onMessage = take;
      take();
    });
  }
  closed() {
    return bounded('close', (resolve) => {
      if (this.closeEvent !== null) return resolve(this.closeEvent);
      this.onClose = () => resolve(this.closeEvent);
    });
  }
}

async function connect(scenario, protocols = []) {
  const session = new Session(scenario, protocols);
  await session.open();
  return session;
}

async function echo(sent, sentBytes) {
  const session = await connect('echo');
  session.ws.send(sent);
  const received = await session.nextMessage();
  session.ws.close(1000);
  const close = await session.closed();
  const isText = typeof received === 'string';
  const receivedBytes = isText ? new TextEncoder().encode(received) : new Uint8Array(received);
  return {
    kind: isText ? 'text' : 'binary',
    length: isText ? received.length : receivedBytes.byteLength,
    sentSha256: await sha256(sentBytes),
    receivedSha256: await sha256(receivedBytes),
    sameText: isText && received === sent,
    close,
  };
}

window.wsnetTest = {
  origin: location.origin,
  echoBinary(size, seed) {
    const bytes = pseudoRandomBytes(size, seed);
    return echo(bytes, bytes);
  },
  echoText(unit, count) {
    const text = unit.repeat(count);
    return echo(text, new TextEncoder().encode(text));
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
    const session = new Session('refuse', []);
    const close = await session.closed();
    return { opened: session.opened, errored: session.errored, close };
  },
};
`;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>wsnet interop</title></head>
<body><script>${PAGE_SCRIPT}</script></body></html>
`;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How the page's `window` looks to the functions given to `page.evaluate`. */
interface TestWindow {
  wsnetTest: PageApi;
}

describe('interop: Chromium WebSocket → wsnet message server (attached to node:http)', () => {
  let httpServer: http.Server | undefined;
  let server: WebSocketServer | undefined;
  let connections: ConnectionQueue;
  let context: BrowserContext | undefined;
  let page: Page;
  let userDataDir: string | undefined;
  let pageOrigin: string;
  const handshakes: UpgradeContext[] = [];
  const rejections: number[] = [];

  /** A `page.evaluate` result, bounded: the page's own timers should have ended it sooner. */
  function fromPage<T>(evaluation: Promise<T>): Promise<T> {
    return within(evaluation, PAGE_TIMEOUT_MS + 5_000, 'page.evaluate');
  }

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
    const pageServer = http.createServer((request, response) => {
      if (request.url === '/') {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        response.end(PAGE);
      } else {
        response.writeHead(404).end();
      }
    });
    httpServer = pageServer;
    await new Promise<void>((resolve, reject) => {
      pageServer.once('error', reject);
      pageServer.listen(0, '127.0.0.1', resolve);
    });
    const { port } = pageServer.address() as AddressInfo;
    pageOrigin = `http://127.0.0.1:${port}`;
    server = new WebSocketServer({
      server: pageServer,
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

    userDataDir = await mkdtemp(path.join(tmpdir(), 'wsnet-chromium-'));
    // A persistent context because that is how Chromium takes a fresh --user-data-dir here.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${pageOrigin}/`, { timeout: 10_000 });
  });

  after(() =>
    tearDown([
      ['closing Chromium', () => context?.close()],
      ['closing the WebSocket server', () => server?.close()],
      [
        'closing the HTTP server',
        () =>
          new Promise<void>((resolve, reject) => {
            if (httpServer === undefined) return resolve();
            httpServer.closeAllConnections();
            httpServer.close((error) => (error ? reject(error) : resolve()));
          }),
      ],
      [
        'removing the profile',
        () => userDataDir !== undefined && rm(userDataDir, { recursive: true, force: true }),
      ],
    ]),
  );

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
    assert.equal(seen.kind, 'text');
    assert.equal(seen.sameText, true);
    assert.equal(seen.receivedSha256, sha256(Buffer.from(text, 'utf8')));
    assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
  });

  it('a text of several MiB of multibyte characters is echoed exactly', async () => {
    const unit = 'héllo wörld 😀 ✓ ';
    const count = 200_000; // 24 bytes a unit: 4.8 MB, with a 4-byte character every 24 bytes
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
    // Not assert.equal: a failure would print two 4.8 MB strings.
    assert.ok(received === expected, 'the server received exactly the text the browser sent');
    assert.equal(seen.kind, 'text');
    assert.equal(seen.length, expected.length);
    assert.equal(seen.sameText, true);
    assert.equal(seen.receivedSha256, sha256(Buffer.from(expected, 'utf8')));
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
      assert.equal(seen.sentSha256, sha256(expected), 'the page generated the same bytes');
      assert.equal(seen.kind, 'binary');
      assert.equal(seen.length, size);
      assert.equal(seen.receivedSha256, sha256(expected));
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
