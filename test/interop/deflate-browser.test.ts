// Interop with compression: a real browser's WebSocket (Debian's headless Chromium, driven by
// playwright-core, as in browser.test.ts) against wsnet message servers with permessage-deflate
// (RFC 7692). Chromium offers `permessage-deflate; client_max_window_bits` on every connection.
//
// The page comes from a node:http server; its WebSockets go to the wsnet servers through a
// frame tap (test/helpers/frame-tap.ts), a loopback relay that reads the frame headers going
// by: what crossed the wire compressed (RSV1) and in how many bytes is checked there, not
// inferred from the two ends. One browser serves the whole file.
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
import { WebSocketServer, type PerMessageDeflateOptions } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import { randomLetters } from '../helpers/compressible.js';
import {
  OP_BINARY,
  OP_TEXT,
  startFrameTap,
  type FrameTap,
  type TappedConnection,
  type TappedMessage,
} from '../helpers/frame-tap.js';
import { ConnectionQueue, tearDown, within } from '../helpers/interop.js';
import { assertMessage, echoMessages, type Form } from '../helpers/message-echo.js';

const CHROMIUM = '/usr/bin/chromium';
/** Every wait in the page gives up after this long (the page's own timers bound evaluate()). */
const PAGE_TIMEOUT_MS = 20_000;
/** wsnet's default threshold: shorter messages go uncompressed. */
const THRESHOLD = 1024;

/**
 * A message for the page to send, described rather than carried: the page and the test build
 * the same payload from it, so that no payload crosses the DevTools protocol.
 */
type Spec =
  | { kind: 'text'; unit: string; count: number }
  | { kind: 'letters'; count: number; seed: number }
  /** pseudoRandomBytes(size, seed), each byte ANDed with `mask` (0x0f: compressible). */
  | { kind: 'binary'; size: number; seed: number; mask: number };

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
}

interface RunSeen {
  /** The page's `WebSocket.extensions`. */
  extensions: string;
  echoes: EchoSeen[];
  close: CloseSeen;
}

/** What the test page puts on `window.deflateTest` (see PAGE_SCRIPT). */
interface PageApi {
  /** Opens a WebSocket to `url`, sends every message in a row, takes the echoes, closes. */
  run(url: string, specs: Spec[]): Promise<RunSeen>;
}

// The page's side, plain JavaScript run by Chromium. Its generators are test/helpers/bytes.ts's
// pseudoRandomBytes and compressible.ts's randomLetters.
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

function payloadOf(spec) {
  switch (spec.kind) {
    case 'text':
      return spec.unit.repeat(spec.count);
    case 'letters': {
      const bytes = pseudoRandomBytes(spec.count, spec.seed);
      let text = '';
      for (const b of bytes) text += String.fromCharCode(0x61 + (b & 0x0f));
      return text;
    }
    case 'binary': {
      const bytes = pseudoRandomBytes(spec.size, spec.seed);
      for (let i = 0; i < bytes.length; i++) bytes[i] &= spec.mask;
      return bytes;
    }
  }
  throw new Error('unknown spec ' + JSON.stringify(spec));
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A WebSocket whose messages and close are recorded from the start, so none is missed. */
class Session {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'arraybuffer';
    this.messages = [];
    this.onMessage = null;
    this.closeEvent = null;
    this.onClose = null;
    this.ws.onmessage = (event) => {
      this.messages.push(event.data);
      this.onMessage?.();
    };
    this.ws.onclose = (event) => {
      this.closeEvent = { code: event.code, reason: event.reason, wasClean: event.wasClean };
      this.onClose?.();
      this.onMessage?.();
    };
  }
  open() {
    return bounded('open', (resolve, reject) => {
      this.ws.onopen = () => resolve();
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

window.deflateTest = {
  async run(url, specs) {
    const session = new Session(url);
    await session.open();
    const payloads = specs.map(payloadOf);
    for (const payload of payloads) session.ws.send(payload);
    const echoes = [];
    for (const sent of payloads) {
      const received = await session.nextMessage();
      const isText = typeof received === 'string';
      const sentBytes = typeof sent === 'string' ? new TextEncoder().encode(sent) : sent;
      const receivedBytes = isText ? new TextEncoder().encode(received) : new Uint8Array(received);
      echoes.push({
        kind: isText ? 'text' : 'binary',
        length: isText ? received.length : receivedBytes.byteLength,
        sentSha256: await sha256(sentBytes),
        receivedSha256: await sha256(receivedBytes),
        sameText: isText && received === sent,
      });
    }
    const extensions = session.ws.extensions;
    session.ws.close(1000);
    return { extensions, echoes, close: await session.closed() };
  },
};
`;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>wsnet deflate interop</title></head>
<body><script>${PAGE_SCRIPT}</script></body></html>
`;

function payloadOf(spec: Spec): string | Buffer {
  switch (spec.kind) {
    case 'text':
      return spec.unit.repeat(spec.count);
    case 'letters':
      return randomLetters(spec.count, spec.seed);
    case 'binary': {
      const bytes = pseudoRandomBytes(spec.size, spec.seed);
      for (let i = 0; i < bytes.length; i++) bytes[i] &= spec.mask;
      return bytes;
    }
  }
}

function sha256(payload: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload)
    .digest('hex');
}

/** How the page's `window` looks to the functions given to `page.evaluate`. */
interface TestWindow {
  deflateTest: PageApi;
}

/** Chromium's offer, and the answer of a wsnet server with `perMessageDeflate: true`. */
const OFFER = 'permessage-deflate; client_max_window_bits';
const ANSWER = 'permessage-deflate; client_max_window_bits=12';

describe('interop, permessage-deflate: Chromium WebSocket → wsnet message server', () => {
  interface Served {
    server: WebSocketServer;
    tap: FrameTap;
    connections: ConnectionQueue;
  }
  let pageServer: http.Server | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let userDataDir: string | undefined;
  let compressing: Served;
  let noServerTakeover: Served;
  const served: Served[] = [];

  async function serve(deflate: true | PerMessageDeflateOptions): Promise<Served> {
    const server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: deflate,
    });
    const connections = new ConnectionQueue(server);
    const tap = await startFrameTap(server.address().port);
    const result = { server, tap, connections };
    served.push(result);
    return result;
  }

  /** A `page.evaluate` result, bounded: the page's own timers should have ended it sooner. */
  function fromPage<T>(evaluation: Promise<T>): Promise<T> {
    return within(evaluation, PAGE_TIMEOUT_MS + 10_000, 'page.evaluate');
  }

  /**
   * The page sends `specs` in a row to `target`; the server echoes each (taking them in `form`)
   * and checks it is the payload; the page closes with 1000. Returns what both ends and the
   * wire saw.
   */
  async function exchange(target: Served, specs: Spec[], form: Form = 'for await') {
    const index = target.tap.connections.length;
    const payloads = specs.map(payloadOf);
    const [seen, onServer] = await Promise.all([
      fromPage(
        page.evaluate(([url, s]) => (globalThis as unknown as TestWindow).deflateTest.run(url, s), [
          target.tap.url,
          specs,
        ] as const),
      ),
      (async () => {
        const { connection, request } = await target.connections.next();
        const received = await echoMessages(connection, specs.length, form);
        // Before the close, which may let the histories go.
        const memory = connection.compressionMemory;
        const status = await within(connection.closed, 10_000, 'close');
        return { connection, request, received, memory, status };
      })(),
    ]);
    onServer.received.forEach((message, i) =>
      assertMessage(message, payloads[i], `the server received message ${i}`),
    );
    assert.deepEqual(onServer.status, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
    assert.equal(seen.echoes.length, specs.length);
    seen.echoes.forEach((echo, i) => {
      const payload = payloads[i];
      const what = `the page's echo ${i}`;
      assert.equal(echo.kind, typeof payload === 'string' ? 'text' : 'binary', what);
      assert.equal(echo.length, payload.length, what);
      assert.equal(echo.sentSha256, sha256(payload), `${what}: the page sent the payload`);
      assert.equal(echo.receivedSha256, sha256(payload), `${what}: the page got it back`);
      assert.equal(echo.sameText, typeof payload === 'string', what);
    });
    const wire: TappedConnection = target.tap.connections[index];
    return {
      seen,
      connection: onServer.connection,
      /** The server connection's compressionMemory once it had echoed every message. */
      memory: onServer.memory,
      offer: onServer.request.headers['sec-websocket-extensions'],
      payloads,
      toServer: wire.toServer.messages(),
      toClient: wire.toClient.messages(),
    };
  }

  /** Each wire message's opcode and RSV1, and that it came whole. */
  function shape(messages: readonly TappedMessage[]) {
    return messages.map((m) => ({
      opcode: m.opcode,
      compressed: m.compressed,
      rsvOnContinuation: m.rsvOnContinuation,
      complete: m.complete,
    }));
  }

  function expectedShape(payloads: ReadonlyArray<string | Buffer>, compressed: boolean[]) {
    return payloads.map((payload, i) => ({
      opcode: typeof payload === 'string' ? OP_TEXT : OP_BINARY,
      compressed: compressed[i],
      rsvOnContinuation: false,
      complete: true,
    }));
  }

  before(async () => {
    const httpServer = http.createServer((request, response) => {
      if (request.url === '/') {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        response.end(PAGE);
      } else {
        response.writeHead(404).end();
      }
    });
    pageServer = httpServer;
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(0, '127.0.0.1', resolve);
    });
    const { port } = httpServer.address() as AddressInfo;
    compressing = await serve(true);
    noServerTakeover = await serve({ serverNoContextTakeover: true });

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
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 10_000 });
  });

  after(() =>
    tearDown([
      ['closing Chromium', () => context?.close()],
      [
        'closing the WebSocket servers',
        async () => {
          for (const { server } of served) await server.close();
        },
      ],
      [
        'closing the taps',
        async () => {
          for (const { tap } of served) await tap.close();
        },
      ],
      [
        'closing the HTTP server',
        () =>
          new Promise<void>((resolve, reject) => {
            if (pageServer === undefined) return resolve();
            pageServer.closeAllConnections();
            pageServer.close((error) => (error ? reject(error) : resolve()));
          }),
      ],
      [
        'removing the profile',
        () => userDataDir !== undefined && rm(userDataDir, { recursive: true, force: true }),
      ],
    ]),
  );

  it("negotiation: Chromium's offer, wsnet's answer, the same extension on both sides", async () => {
    const text = 'héllo wörld 😀 ✓';
    const { seen, connection, offer, toServer, toClient } = await exchange(compressing, [
      { kind: 'text', unit: text, count: 1 },
    ]);
    assert.equal(offer, OFFER);
    assert.equal(connection.extensions, ANSWER);
    assert.equal(seen.extensions, ANSWER);
    // Chromium compresses every message, however short; wsnet only from its threshold.
    assert.deepEqual(shape(toServer), expectedShape([text], [true]));
    assert.deepEqual(shape(toClient), expectedShape([text], [false]));
    assert.equal(toClient[0].wireBytes, Buffer.byteLength(text));
  });

  it('a text of 4.6 MB of multibyte characters crosses compressed both ways, in well under 1% of its size', async () => {
    const unit = 'héllo wörld 😀 ✓ ';
    const count = 200_000; // 23 bytes a unit
    const { seen, toServer, toClient, payloads } = await exchange(compressing, [
      { kind: 'text', unit, count },
    ]);
    assert.equal(seen.extensions, ANSWER);
    const size = Buffer.byteLength(payloads[0]);
    assert.equal(size, 4_600_000);
    assert.deepEqual(shape(toServer), expectedShape(payloads, [true]));
    assert.deepEqual(shape(toClient), expectedShape(payloads, [true]));
    for (const [who, message] of [
      ['Chromium', toServer[0]],
      ['wsnet', toClient[0]],
    ] as const)
      assert.ok(
        message.wireBytes < size / 100,
        `${who} sent ${size} bytes in ${message.wireBytes} on the wire`,
      );
  });

  const sizes = [0, 1, 125, 126, 1024, 65535, 65536, 1 << 20, 16 << 20];
  for (const [i, size] of sizes.entries()) {
    const form: Form = i % 2 === 0 ? 'for await' : 'events';
    it(`compressible binary of ${size} bytes is echoed byte for byte (server: ${form})`, async () => {
      const spec: Spec = { kind: 'binary', size, seed: 0x5eed0000 + size, mask: 0x0f };
      const { toServer, toClient, payloads } = await exchange(compressing, [spec], form);
      assert.deepEqual(shape(toServer), expectedShape(payloads, [true]));
      // Four bits of entropy a byte: DEFLATE makes anything from 1 KiB up smaller.
      assert.deepEqual(shape(toClient), expectedShape(payloads, [size >= THRESHOLD]));
      // Chromium sends a message of 1 MiB and more in frames of 128 KiB of its input: a
      // compressed message in fragments, RSV1 on the first frame only.
      assert.equal(toServer[0].frames > 1, size >= 1 << 20, `${toServer[0].frames} frames`);
      if (size >= THRESHOLD) {
        assert.ok(toServer[0].wireBytes < 0.7 * size, `Chromium: ${toServer[0].wireBytes}`);
        assert.ok(toClient[0].wireBytes < 0.7 * size, `wsnet: ${toClient[0].wireBytes}`);
      } else {
        assert.equal(toClient[0].wireBytes, size);
      }
    });
  }

  it('incompressible binary of 1 MiB: Chromium sends it deflated anyway, wsnet sends it back plain', async () => {
    const size = 1 << 20;
    const { toServer, toClient, payloads } = await exchange(compressing, [
      { kind: 'binary', size, seed: 0x1dea, mask: 0xff },
    ]);
    assert.deepEqual(shape(toServer), expectedShape(payloads, [true]));
    // DEFLATE stores what it cannot shrink, in blocks of at most 64 KiB with a few bytes each.
    assert.ok(toServer[0].wireBytes >= size, `Chromium: ${toServer[0].wireBytes}`);
    assert.ok(toServer[0].wireBytes < size * 1.01, `Chromium: ${toServer[0].wireBytes}`);
    // A message that compression would not make smaller goes uncompressed.
    assert.deepEqual(shape(toClient), expectedShape(payloads, [false]));
    assert.equal(toClient[0].wireBytes, size);
  });

  it('20 messages in a row: with context takeover, after the first each takes a few bytes both ways', async () => {
    const specs: Spec[] = Array.from({ length: 20 }, () => ({
      kind: 'letters',
      count: 2000,
      seed: 0x7a4e,
    }));
    const { memory, toServer, toClient, payloads } = await exchange(compressing, specs, 'events');
    assert.deepEqual(
      shape(toServer),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    assert.deepEqual(
      shape(toClient),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    for (const [who, messages] of [
      ['Chromium', toServer],
      ['wsnet', toClient],
    ] as const) {
      const [first, ...later] = messages.map((m) => m.wireBytes);
      assert.ok(first > 900, `${who}: the first message took ${first} bytes`);
      assert.ok(
        later.every((bytes) => bytes * 20 < first),
        `${who}: ${first}, then ${later.join(', ')} bytes`,
      );
    }
    // Context takeover both ways: wsnet kept both 4 KiB histories (client_max_window_bits=12,
    // and its own 12-bit window) after 40 KB each way.
    assert.equal(memory, 2 * 4096);
  });

  it('serverNoContextTakeover: wsnet says so, and compresses each message alone; Chromium still takes over', async () => {
    const specs: Spec[] = Array.from({ length: 5 }, () => ({
      kind: 'letters',
      count: 2000,
      seed: 0x7a4f,
    }));
    const { seen, connection, memory, offer, toServer, toClient, payloads } = await exchange(
      noServerTakeover,
      specs,
    );
    const answer = 'permessage-deflate; server_no_context_takeover; client_max_window_bits=12';
    assert.equal(offer, OFFER);
    assert.equal(connection.extensions, answer);
    assert.equal(seen.extensions, answer);
    assert.deepEqual(
      shape(toServer),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    assert.deepEqual(
      shape(toClient),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    const fromChromium = toServer.map((m) => m.wireBytes);
    const fromWsnet = toClient.map((m) => m.wireBytes);
    assert.ok(fromWsnet[0] > 900, `wsnet: ${fromWsnet.join(', ')}`);
    assert.deepEqual(
      fromWsnet,
      fromWsnet.map(() => fromWsnet[0]),
      'each wsnet message compressed alone',
    );
    assert.ok(
      fromChromium.slice(1).every((bytes) => bytes * 20 < fromChromium[0]),
      `Chromium: ${fromChromium.join(', ')}`,
    );
    // Only the history of what Chromium sends is kept.
    assert.equal(memory, 4096);
  });
});
