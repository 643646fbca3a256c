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
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import {
  assertPageEcho,
  ChromiumPage,
  fromPage,
  testPage,
  type CloseSeen,
  type EchoSeen,
} from '../helpers/chromium.js';
import { randomLetters } from '../helpers/compressible.js';
import { assertShrunk, assertTakeover, assertWire, THRESHOLD } from '../helpers/deflate-wire.js';
import { echoUntilClosed, type Form } from '../helpers/message-echo.js';
import { TappedServers, type TappedServer } from '../helpers/tapped-servers.js';

/**
 * A message for the page to send, described rather than carried: the page and the test build
 * the same payload from it, so that no payload crosses the DevTools protocol.
 */
type Spec =
  | { kind: 'text'; unit: string; count: number }
  | { kind: 'letters'; count: number; seed: number }
  /** pseudoRandomBytes(size, seed), each byte ANDed with `mask` (0x0f: compressible). */
  | { kind: 'binary'; size: number; seed: number; mask: number };

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

// The page's side, after the helpers every test page has (test/helpers/chromium.ts). Its
// letters are compressible.ts's randomLetters.
const PAGE_SCRIPT = String.raw`
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

window.deflateTest = {
  async run(url, specs) {
    const session = new Session(url);
    await session.open();
    const payloads = specs.map(payloadOf);
    for (const payload of payloads) session.ws.send(payload);
    const echoes = [];
    for (const sent of payloads) echoes.push(await echoSeen(sent, await session.nextMessage()));
    const extensions = session.ws.extensions;
    session.ws.close(1000);
    return { extensions, echoes, close: await session.closed() };
  },
};
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

/** How the page's `window` looks to the functions given to `page.evaluate`. */
interface TestWindow {
  deflateTest: PageApi;
}

/** Chromium's offer, and the answer of a wsnet server with `perMessageDeflate: true`. */
const OFFER = 'permessage-deflate; client_max_window_bits';
const ANSWER = 'permessage-deflate; client_max_window_bits=12';
/** Chromium sends a message of 1 MiB and more in frames of 128 KiB of its input. */
const CHROMIUM_FRAMES = { frames: 'any' } as const;
/** The rows repeat 2000 letters, about 1035 bytes compressed alone; a repeat takes a few. */
const ROW = { firstOver: 900, shrink: 20 };

describe('interop, permessage-deflate: Chromium WebSocket → wsnet message server', () => {
  const browser = new ChromiumPage(testPage('wsnet deflate interop', PAGE_SCRIPT));
  const servers = new TappedServers();
  let page: Page;
  let compressing: TappedServer;
  let noServerTakeover: TappedServer;

  /**
   * The page sends `specs` in a row to `target`; the server echoes each (taking them in `form`)
   * and checks it is the payload; the page closes with 1000. Returns what both ends and the
   * wire saw.
   */
  async function exchange(target: TappedServer, specs: Spec[], form: Form = 'for await') {
    const index = target.tap.connections.length;
    const payloads = specs.map(payloadOf);
    const [seen, onServer] = await Promise.all([
      fromPage(
        page.evaluate(([url, s]) => (globalThis as unknown as TestWindow).deflateTest.run(url, s), [
          target.tap.url,
          specs,
        ] as const),
      ),
      echoUntilClosed(target.connections, payloads, form),
    ]);
    assert.deepEqual(seen.close, { code: 1000, reason: '', wasClean: true });
    assert.equal(seen.echoes.length, specs.length);
    seen.echoes.forEach((echo, i) => assertPageEcho(echo, payloads[i], `the page's echo ${i}`));
    const wire = target.tap.connections[index];
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

  before(async () => {
    await browser.listen();
    compressing = await servers.start(true);
    noServerTakeover = await servers.start({ serverNoContextTakeover: true });
    page = await browser.open();
  });

  after(() => browser.close(servers.closing()));

  it("negotiation: Chromium's offer, wsnet's answer, the same extension on both sides", async () => {
    const text = 'héllo wörld 😀 ✓';
    const { seen, connection, offer, toServer, toClient } = await exchange(compressing, [
      { kind: 'text', unit: text, count: 1 },
    ]);
    assert.equal(offer, OFFER);
    assert.equal(connection.extensions, ANSWER);
    assert.equal(seen.extensions, ANSWER);
    // Chromium compresses every message, however short; wsnet only from its threshold.
    assertWire(toServer, [text], 'all', CHROMIUM_FRAMES);
    assertWire(toClient, [text], 'none');
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
    assertWire(toServer, payloads, 'all', CHROMIUM_FRAMES);
    assertWire(toClient, payloads, 'all');
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
      assertWire(toServer, payloads, 'all', CHROMIUM_FRAMES);
      // Four bits of entropy a byte: DEFLATE makes anything from 1 KiB up smaller.
      assertWire(toClient, payloads, 'from threshold');
      // A compressed message in fragments, RSV1 on the first frame only.
      assert.equal(toServer[0].frames > 1, size >= 1 << 20, `${toServer[0].frames} frames`);
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      if (size < THRESHOLD) assert.equal(toClient[0].wireBytes, size);
    });
  }

  it('incompressible binary of 1 MiB: Chromium sends it deflated anyway, wsnet sends it back plain', async () => {
    const size = 1 << 20;
    const { toServer, toClient, payloads } = await exchange(compressing, [
      { kind: 'binary', size, seed: 0x1dea, mask: 0xff },
    ]);
    assertWire(toServer, payloads, 'all', CHROMIUM_FRAMES);
    // DEFLATE stores what it cannot shrink, in blocks of at most 64 KiB with a few bytes each.
    assert.ok(toServer[0].wireBytes >= size, `Chromium: ${toServer[0].wireBytes}`);
    assert.ok(toServer[0].wireBytes < size * 1.01, `Chromium: ${toServer[0].wireBytes}`);
    // A message that compression would not make smaller goes uncompressed.
    assertWire(toClient, payloads, 'none');
    assert.equal(toClient[0].wireBytes, size);
  });

  it('20 messages in a row: with context takeover, after the first each takes a few bytes both ways', async () => {
    const specs: Spec[] = Array.from({ length: 20 }, () => ({
      kind: 'letters',
      count: 2000,
      seed: 0x7a4e,
    }));
    const { memory, toServer, toClient, payloads } = await exchange(compressing, specs, 'events');
    assertWire(toServer, payloads, 'all', CHROMIUM_FRAMES);
    assertWire(toClient, payloads, 'all');
    assertTakeover(toServer, true, 'Chromium', ROW);
    assertTakeover(toClient, true, 'wsnet', ROW);
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
    assertWire(toServer, payloads, 'all', CHROMIUM_FRAMES);
    assertWire(toClient, payloads, 'all');
    assertTakeover(toClient, false, 'wsnet', ROW);
    assertTakeover(toServer, true, 'Chromium', ROW);
    // Only the history of what Chromium sends is kept.
    assert.equal(memory, 4096);
  });
});
