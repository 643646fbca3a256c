// Interop with compression: the message API against the npm `ws` package with
// permessage-deflate (RFC 7692) negotiated, both ways: the `ws` client against the wsnet
// WebSocketServer, and wsnet's connect() against a `ws` WebSocketServer. `ws` runs with
// `threshold: 0`, so that it compresses every message, however small.
//
// Each server sits behind a frame tap (test/helpers/frame-tap.ts), a loopback relay that reads
// the frame headers going by: the tests check on the wire which messages were compressed
// (RSV1), in how many frames and bytes, and from the sizes, that each side compressed with the
// context takeover and the window it negotiated.
//
// Most checks are the same whichever side is the server: they are written once, on a `Pair`
// that names the ends and the wire's two directions by implementation, not by role.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import WsClient, { WebSocketServer as WsServer, type RawData } from 'ws';
import {
  connect,
  type ConnectOptions,
  type PerMessageDeflateOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import {
  compressibleBytes,
  compressibleText,
  randomLetters,
  WINDOW_BITS,
  windowPayloads,
  type WindowBits,
} from '../helpers/compressible.js';
import { assertShrunk, assertTakeover, assertWindow, assertWire } from '../helpers/deflate-wire.js';
import {
  startFrameTap,
  type FrameTap,
  type TappedConnection,
  type TappedDirection,
  type TappedFrame,
  type TappedMessage,
} from '../helpers/frame-tap.js';
import { tearDown, within } from '../helpers/interop.js';
import {
  assertMessage,
  echoMessages,
  FORMS,
  receiver,
  sendAndCheckEchoes,
  type Form,
  type Pace,
} from '../helpers/message-echo.js';
import { TappedServers } from '../helpers/tapped-servers.js';
import { assertWsMessage, RecordedWs, toBuffer } from '../helpers/ws-recorded.js';

const SIZES = [0, 1, 1024, 64 * 1024, 1 << 20, 16 << 20];
/**
 * The sizes for the 'message' event form: how a message is delivered does not depend on its
 * size, and 16 MiB each way costs seconds of compression.
 */
const EVENT_SIZES = SIZES.filter((size) => size <= 1 << 20);
/** Below wsnet's threshold, and compressible: compress: true makes it smaller. */
const SMALL = 'small ✓ '.repeat(20);

/** ws's perMessageDeflate options (its types call them `PerMessageDeflateOptions` too). */
interface WsDeflate {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/**
 * One connection between wsnet and ws, whichever is the server: both ends, the extension
 * offered and answered, and what each end sent as it crossed the wire.
 */
interface Pair {
  /** wsnet's end. */
  readonly connection: WebSocketConnection;
  /** ws's end. */
  readonly peer: RecordedWs;
  /** The client's Sec-WebSocket-Extensions and the server's answer. */
  readonly offer: string | undefined;
  readonly answer: string | undefined;
  readonly wire: TappedConnection;
  readonly fromWsnet: TappedDirection;
  readonly fromWs: TappedDirection;
  /**
   * The client sends `payloads`, the server echoes each; what both ends received is checked.
   * wsnet takes its messages in `form`.
   */
  roundTrip(payloads: ReadonlyArray<string | Buffer>, form: Form, pace: Pace): Promise<void>;
  /** The client closes with 1000; both ends must see the clean close. */
  close(): Promise<void>;
}

/** The offer, the answer, and that wsnet's connection took the answer as its extensions. */
function assertNegotiated(pair: Pair, offer: string, answer: string) {
  assert.equal(pair.offer, offer);
  assert.equal(pair.answer, answer);
  assert.equal(pair.connection.extensions, answer);
}

const OPCODE_NAMES: Record<number, string> = {
  0x0: 'cont',
  0x1: 'text',
  0x2: 'binary',
  0x8: 'close',
  0x9: 'ping',
  0xa: 'pong',
};

/** Frames as 'text+rsv1', 'cont+fin'...: their order, opcodes, RSV1 and FIN. */
function frameList(frames: readonly TappedFrame[]): string[] {
  return frames.map(
    (f) =>
      `${OPCODE_NAMES[f.opcode] ?? f.opcode}${f.rsv1 ? '+rsv1' : ''}${f.rsv2 || f.rsv3 ? '+rsv23' : ''}${f.fin ? '+fin' : ''}`,
  );
}

const FRAGMENTS_OUT = ['text+rsv1', 'cont', 'cont+fin', 'binary+rsv1', 'cont', 'cont+fin'];
/** The same with a ping after the first frame. */
const FRAGMENTS_WITH_PING = ['text+rsv1', 'ping+fin', ...FRAGMENTS_OUT.slice(1)];

/** A compressible text and bytes, each in three fragments. */
function fragmented(seed: number) {
  const utf8 = Buffer.from(compressibleText(6000, seed), 'utf8');
  // Cuts inside multibyte characters: text fragments need not end on a character.
  const multibyte = [...utf8.entries()].filter(([, b]) => b >= 0xc0).map(([i]) => i + 1);
  const cuts = [multibyte.find((i) => i > 2000)!, multibyte.find((i) => i > 4000)!];
  const bytes = compressibleBytes(9000, seed + 1);
  return {
    text: utf8.toString('utf8'),
    textParts: [utf8.subarray(0, cuts[0]), utf8.subarray(cuts[0], cuts[1]), utf8.subarray(cuts[1])],
    bytes,
    binaryParts: [bytes.subarray(0, 3000), bytes.subarray(3000, 6000), bytes.subarray(6000)],
  };
}

/** ws sends the parts as two fragmented messages, with a ping after the first frame. */
function wsSendsFragments(peer: RecordedWs, textParts: Buffer[], binaryParts: Buffer[]) {
  textParts.forEach((part, i) => {
    peer.ws.send(part, { binary: false, fin: i === textParts.length - 1 });
    // A control frame may come between the frames of a message (RFC 6455 §5.4).
    if (i === 0) peer.ws.ping('between');
  });
  binaryParts.forEach((part, i) =>
    peer.ws.send(part, { binary: true, fin: i === binaryParts.length - 1 }),
  );
}

async function wsnetSendsFragments(
  connection: WebSocketConnection,
  textParts: Buffer[],
  binaryParts: Buffer[],
) {
  await within(connection.sendStream(textParts, { binary: false }), 10_000, 'sendStream');
  await within(connection.sendStream(binaryParts), 10_000, 'sendStream');
}

/** Both fragmented messages crossed both ways in three frames, RSV1 on the first only. */
function assertFragmentedBothWays(pair: Pair, text: string, bytes: Buffer) {
  assertWire(pair.fromWsnet.messages(), [text, bytes], 'all', { frames: 3 });
  assertWire(pair.fromWs.messages(), [text, bytes], 'all', { frames: 3 });
}

/**
 * A compressible text A, then a text B sent plain, A again, incompressible bytes, A again: with
 * context takeover, each repeat of A refers back to the first A, at the right distance only if
 * neither side counted the plain messages in its history. ws compresses what it is told to
 * (every message but B); wsnet is told to send B plain and leaves the bytes plain by itself,
 * since compressing them would not make them smaller.
 */
function interleaved(seed: number) {
  const a = randomLetters(1500, seed) + ' ✓';
  const payloads: Array<string | Buffer> = [
    a,
    randomLetters(1500, seed + 1),
    a,
    pseudoRandomBytes(2000, seed + 2),
    a,
  ];
  return {
    payloads,
    wsCompress: [true, false, true, true, true],
    wsnetCompress: payloads.map((_, i) => (i === 1 ? { compress: false } : {})),
    wsnetCompressed: [true, false, true, false, true],
  };
}

function assertInterleaved(messages: readonly TappedMessage[], compressed: boolean[], who: string) {
  assert.deepEqual(
    messages.map((m) => m.compressed),
    compressed,
    `${who}: the messages compressed`,
  );
  const [first, , again, , third] = messages.map((m) => m.wireBytes);
  assert.ok(
    again * 10 < first && third * 10 < first,
    `${who}: the repeats should refer back to the first: ${first}, ${again}, ${third} bytes`,
  );
}

function formatDeflate(params: ReadonlyArray<string | false>): string {
  return ['permessage-deflate', ...params.filter((p) => p !== false)].join('; ');
}

/** The four server_/client_no_context_takeover requests, as [server, client]. */
const TAKEOVER_CASES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

const nct = (server: boolean, client: boolean) =>
  [server && 'server_no_context_takeover', client && 'client_no_context_takeover'].filter(
    (p) => p !== false,
  );
const describeNct = (server: boolean, client: boolean) =>
  nct(server, client).join(' + ') || 'nothing';
/** ws's options for these requests: only those it makes, none set to false. */
const wsNoContextTakeover = (server: boolean, client: boolean): WsDeflate => ({
  ...(server ? { serverNoContextTakeover: true } : {}),
  ...(client ? { clientNoContextTakeover: true } : {}),
});

/** The seeds of the echo tests' payloads, apart for each direction. */
interface EchoSeeds {
  text: number;
  bytes: number;
  row: number;
}

/** The echo tests, the same whichever side is the server. */
function echoTests(open: () => Promise<Pair>, seeds: EchoSeeds) {
  for (const form of FORMS) {
    const sizes = form === 'events' ? EVENT_SIZES : SIZES;
    it(`text and binary of ${sizes.join(', ')} bytes are echoed, compressed both ways (wsnet: ${form})`, async () => {
      const pair = await open();
      const payloads = sizes.flatMap((size) => [
        compressibleText(size, seeds.text + size),
        compressibleBytes(size, seeds.bytes + size),
      ]);
      await pair.roundTrip(payloads, form, 'one at a time');
      // ws (threshold 0) compressed every message, empty ones included; wsnet those of at
      // least its threshold.
      const fromWs = pair.fromWs.messages();
      const fromWsnet = pair.fromWsnet.messages();
      assertWire(fromWs, payloads, 'all');
      assertWire(fromWsnet, payloads, 'from threshold');
      assertShrunk(fromWs, payloads);
      assertShrunk(fromWsnet, payloads);
      assert.ok(pair.connection.compressionMemory > 0, 'wsnet keeps its LZ77 histories');
      await pair.close();
    });

    it(`200 messages in a row, context taken over: after the first, each takes a few bytes (wsnet: ${form})`, async () => {
      const pair = await open();
      const base = randomLetters(1500, seeds.row) + ' ✓';
      const payloads = Array.from({ length: 200 }, (_, i) => `${i} ${base}`);
      await pair.roundTrip(payloads, form, 'all at once');
      assertWire(pair.fromWs.messages(), payloads, 'all');
      assertWire(pair.fromWsnet.messages(), payloads, 'all');
      assertTakeover(pair.fromWs.messages(), true, 'ws');
      assertTakeover(pair.fromWsnet.messages(), true, 'wsnet');
      await pair.close();
    });
  }
}

/**
 * The same message four times: a side that resets its context compresses each to the same
 * size; one that takes it over, the later ones to a few bytes. wsnet keeps a history unless
 * both sides reset.
 */
async function checkTakeover(pair: Pair, resets: { wsnet: boolean; ws: boolean }, seed: number) {
  const payload = randomLetters(1500, seed) + ' ✓';
  await pair.roundTrip([payload, payload, payload, payload], 'for await', 'all at once');
  assertTakeover(pair.fromWsnet.messages(), !resets.wsnet, 'wsnet');
  assertTakeover(pair.fromWs.messages(), !resets.ws, 'ws');
  assert.equal(pair.connection.compressionMemory > 0, !(resets.wsnet && resets.ws));
  await pair.close();
}

/**
 * Sends repeatAtDistance(k) for every k both ways, and checks from the sizes on the wire which
 * repeats each compressor found: exactly those within its window.
 */
async function checkWindows(
  pair: Pair,
  windows: { ws: WindowBits; wsnet: WindowBits },
  seed: number,
) {
  const payloads = windowPayloads(seed);
  await pair.roundTrip(payloads, 'for await', 'all at once');
  assertWindow(pair.fromWs.messages(), payloads, windows.ws, 'ws');
  assertWindow(pair.fromWsnet.messages(), payloads, windows.wsnet, 'wsnet');
  await pair.close();
}

/** Max window bits 8 both ways: ws compresses (zlib with its 9-bit window), wsnet sends plain. */
async function checkWindowBits8(pair: Pair, seed: number) {
  const expected = 'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8';
  assertNegotiated(pair, expected, expected);
  const payloads = [0, 1, 2].map((i) => randomLetters(3000, seed + i));
  await pair.roundTrip(payloads, 'events', 'all at once');
  const fromWs = pair.fromWs.messages();
  const fromWsnet = pair.fromWsnet.messages();
  assertWire(fromWs, payloads, 'all');
  assertShrunk(fromWs, payloads);
  assertWire(fromWsnet, payloads, 'none');
  assert.deepEqual(
    fromWsnet.map((m) => m.wireBytes),
    payloads.map(() => 3000),
  );
  await pair.close();
}

/** wsnet sends: compress: false a large message plain, compress: true a small one compressed. */
async function checkCompressOption(pair: Pair, seed: number) {
  const large = compressibleText(5000, seed);
  await within(pair.connection.send(large, { compress: false }), 10_000, 'send');
  await within(pair.connection.send(SMALL, { compress: true }), 10_000, 'send');
  await within(pair.connection.send(large), 10_000, 'send');
  assertWsMessage(await pair.peer.nextMessage(), large, 'plain');
  assertWsMessage(await pair.peer.nextMessage(), SMALL, 'compressed small');
  assertWsMessage(await pair.peer.nextMessage(), large, 'compressed large');
  const fromWsnet = pair.fromWsnet.messages();
  assert.deepEqual(
    fromWsnet.map((m) => [m.compressed, m.wireBytes < 5000]),
    [
      [false, false],
      [true, true],
      [true, true],
    ],
  );
  assert.equal(fromWsnet[0].wireBytes, 5000);
  await pair.close();
}

describe('interop, permessage-deflate: npm ws client → wsnet message server', () => {
  const servers = new TappedServers();
  const clients: WsClient[] = [];

  after(() =>
    tearDown([
      ['terminating the ws clients', () => clients.forEach((ws) => ws.terminate())],
      ...servers.closing(),
    ]),
  );

  /**
   * A ws client (threshold 0, plus `wsDeflate`) connected to a wsnet server with `deflate`
   * (one server for each set of options).
   */
  async function open(deflate: PerMessageDeflateOptions, wsDeflate: WsDeflate = {}): Promise<Pair> {
    const { tap, connections } = await servers.shared(deflate);
    const index = tap.connections.length;
    const ws = new WsClient(tap.url, {
      handshakeTimeout: 10_000,
      perMessageDeflate: { threshold: 0, ...wsDeflate },
    });
    clients.push(ws);
    const peer = new RecordedWs(ws);
    let answer: string | undefined;
    ws.once('upgrade', (response: IncomingMessage) => {
      answer = response.headers['sec-websocket-extensions'];
    });
    const opened = within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
      10_000,
      'ws open',
    );
    const [, { connection, request }] = await Promise.all([opened, connections.next()]);
    const wire = tap.connections[index];
    return {
      connection,
      peer,
      offer: request.headers['sec-websocket-extensions'],
      answer,
      wire,
      fromWsnet: wire.toClient,
      fromWs: wire.toServer,
      async roundTrip(payloads, form, pace) {
        const echoed = echoMessages(connection, payloads.length, form);
        if (pace === 'one at a time') {
          for (const [i, payload] of payloads.entries()) {
            ws.send(payload);
            assertWsMessage(await peer.nextMessage(), payload, `echo ${i}`);
          }
        } else {
          for (const payload of payloads) ws.send(payload);
          const back = await peer.take(payloads.length);
          back.forEach((m, i) => assertWsMessage(m, payloads[i], `echo ${i}`));
        }
        const received = await within(echoed, 10_000, 'the echoes');
        received.forEach((m, i) => assertMessage(m, payloads[i], `received ${i}`));
      },
      async close() {
        ws.close(1000);
        assert.deepEqual(await within(connection.closed, 10_000, 'server closed'), {
          code: 1000,
          reason: '',
          wasClean: true,
        });
        assert.deepEqual(await peer.closed(), { code: 1000, reason: '' });
      },
    };
  }

  it("negotiation: ws's offer, wsnet's answer, the same extension on both sides", async () => {
    const pair = await open({});
    assertNegotiated(
      pair,
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate; client_max_window_bits=12',
    );
    assert.equal(pair.peer.ws.extensions, 'permessage-deflate');
    assert.match(
      pair.wire.toClient.head,
      /^sec-websocket-extensions: permessage-deflate; client_max_window_bits=12$/im,
    );
    await pair.close();
  });

  echoTests(() => open({}), { text: 0x7e47, bytes: 0xb1a7, row: 0x200 });

  for (const [offerServer, offerClient] of TAKEOVER_CASES) {
    for (const [wantServer, wantClient] of TAKEOVER_CASES) {
      it(`no context takeover: ws asks for ${describeNct(offerServer, offerClient)}, wsnet for ${describeNct(wantServer, wantClient)}`, async () => {
        const pair = await open(
          { serverNoContextTakeover: wantServer, clientNoContextTakeover: wantClient },
          wsNoContextTakeover(offerServer, offerClient),
        );
        // wsnet honours server_no_context_takeover when asked and adds what it wants; a
        // client's client_no_context_takeover (a hint, RFC 7692 §7.1.1.2) is echoed, which
        // makes it binding: ws keeps it only then.
        const serverResets = offerServer || wantServer;
        const clientResets = offerClient || wantClient;
        assertNegotiated(
          pair,
          formatDeflate([...nct(offerServer, offerClient), 'client_max_window_bits']),
          formatDeflate([...nct(serverResets, clientResets), 'client_max_window_bits=12']),
        );
        // ws takes its context over unless the answer says it may not, its own offer
        // notwithstanding: with the hint echoed, the answer says so whenever ws offered it.
        await checkTakeover(pair, { wsnet: serverResets, ws: clientResets }, 0x3c7);
      });
    }
  }

  for (const bits of WINDOW_BITS) {
    it(`max window bits: ws asks for server_max_window_bits=${bits} and client_max_window_bits=${bits}`, async () => {
      const pair = await open(
        { serverMaxWindowBits: 15, clientMaxWindowBits: 15, threshold: 0 },
        { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
      );
      const expected = `permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`;
      assertNegotiated(pair, expected, expected);
      await checkWindows(pair, { ws: bits, wsnet: bits }, 0x900);
    });

    it(`max window bits: wsnet asks ws for client_max_window_bits=${bits} and compresses with ${bits}`, async () => {
      const pair = await open({
        serverMaxWindowBits: bits,
        clientMaxWindowBits: bits,
        threshold: 0,
      });
      assertNegotiated(
        pair,
        'permessage-deflate; client_max_window_bits',
        `permessage-deflate; client_max_window_bits=${bits}`,
      );
      await checkWindows(pair, { ws: bits, wsnet: bits }, 0x900);
    });
  }

  it('compressed and plain messages interleaved: a plain message is no part of the LZ77 history', async () => {
    const pair = await open({});
    const { payloads, wsCompress, wsnetCompress, wsnetCompressed } = interleaved(0x1a);
    const next = receiver(pair.connection, 'for await');
    payloads.forEach((payload, i) => pair.peer.ws.send(payload, { compress: wsCompress[i] }));
    for (const [i, payload] of payloads.entries()) {
      const message = await next();
      assertMessage(message, payload, `received ${i}`);
      await within(pair.connection.send(message, wsnetCompress[i]), 10_000, 'send');
    }
    const back = await pair.peer.take(payloads.length);
    back.forEach((m, i) => assertWsMessage(m, payloads[i], `echo ${i}`));
    assertInterleaved(pair.fromWs.messages(), wsCompress, 'ws');
    assertInterleaved(pair.fromWsnet.messages(), wsnetCompressed, 'wsnet');
    await pair.close();
  });

  it('max window bits 8: ws compresses (zlib with its 9-bit window), wsnet cannot and sends plain', async () => {
    const pair = await open(
      { serverMaxWindowBits: 15, clientMaxWindowBits: 15, threshold: 0 },
      { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    );
    await checkWindowBits8(pair, 0x800);
  });

  it('fragmented messages: ws sends fragments (a ping between them), wsnet sendStream sends them back, compressed, RSV1 on the first frame only', async () => {
    const pair = await open({});
    const { text, textParts, bytes, binaryParts } = fragmented(0xf7a);
    const next = receiver(pair.connection, 'for await');
    const pings: string[] = [];
    pair.connection.on('ping', (data) => pings.push(data.toString()));
    wsSendsFragments(pair.peer, textParts, binaryParts);
    assertMessage(await next(), text, 'the text');
    assertMessage(await next(), bytes, 'the bytes');
    await wsnetSendsFragments(pair.connection, textParts, binaryParts);
    assertWsMessage(await pair.peer.nextMessage(), text, 'the text back');
    assertWsMessage(await pair.peer.nextMessage(), bytes, 'the bytes back');

    assertFragmentedBothWays(pair, text, bytes);
    assert.deepEqual(frameList(pair.fromWs.frames), FRAGMENTS_WITH_PING);
    // wsnet answered the ping as it came, before the end of the message.
    assert.deepEqual(frameList(pair.fromWsnet.frames), ['pong+fin', ...FRAGMENTS_OUT]);
    assert.deepEqual(pings, ['between']);
    await pair.close();
  });

  it('send(…, { compress }): false sends a large message plain, true compresses a small one', async () => {
    await checkCompressOption(await open({}), 0xc1);
  });
});

describe('interop, permessage-deflate: wsnet connect() → npm ws server', () => {
  interface WsServed {
    server: WsServer;
    tap: FrameTap;
    accepted: RecordedWs[];
    offers: Array<string | undefined>;
    answers: Array<string | undefined>;
  }
  const servers = new Map<string, Promise<WsServed>>();
  const taps: FrameTap[] = [];
  const connections: WebSocketConnection[] = [];

  /**
   * A ws server with threshold 0 plus `deflate`, behind a frame tap; one per set of options.
   * It echoes each message, except on the path /manual, where the test speaks for it.
   */
  function served(deflate: WsDeflate): Promise<WsServed> {
    const key = JSON.stringify(deflate);
    let found = servers.get(key);
    if (found === undefined) {
      found = (async () => {
        const server = new WsServer({
          host: '127.0.0.1',
          port: 0,
          perMessageDeflate: { threshold: 0, ...deflate },
        });
        const accepted: RecordedWs[] = [];
        const offers: Array<string | undefined> = [];
        const answers: Array<string | undefined> = [];
        server.on('headers', (headers: string[]) => {
          const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
          answers.push(line?.replace(/^[^:]*:\s*/, ''));
        });
        server.on('connection', (ws, request) => {
          offers.push(request.headers['sec-websocket-extensions']);
          accepted.push(new RecordedWs(ws));
          if (request.url !== '/manual')
            ws.on('message', (data: RawData, isBinary: boolean) =>
              ws.send(toBuffer(data), { binary: isBinary }),
            );
        });
        await within(once(server, 'listening'), 10_000, 'ws listening');
        const tap = await startFrameTap((server.address() as AddressInfo).port);
        taps.push(tap);
        return { server, tap, accepted, offers, answers };
      })();
      servers.set(key, found);
    }
    return found;
  }

  after(() =>
    tearDown([
      ['terminating the connections', () => connections.forEach((c) => c.terminate())],
      [
        'closing the ws servers',
        async () => {
          for (const s of servers.values()) {
            const { server } = await s;
            server.clients.forEach((ws) => ws.terminate());
            await new Promise<void>((resolve, reject) =>
              server.close((error) => (error ? reject(error) : resolve())),
            );
          }
        },
      ],
      [
        'closing the taps',
        async () => {
          for (const tap of taps) await tap.close();
        },
      ],
    ]),
  );

  async function open(deflate: WsDeflate, options: ConnectOptions = {}, path = '/'): Promise<Pair> {
    const { tap, accepted, offers, answers } = await served(deflate);
    const index = tap.connections.length;
    const before = accepted.length;
    const connection = await connect(`${tap.url}${path}`, { handshakeTimeout: 10_000, ...options });
    connections.push(connection);
    // ws emits 'connection' once it has written the 101, which may be just after connect().
    await within(
      (async () => {
        while (accepted.length === before) await nextTurn();
      })(),
      10_000,
      'server-side ws socket',
    );
    const peer = accepted[before];
    const wire = tap.connections[index];
    return {
      connection,
      peer,
      offer: offers[before],
      answer: answers[before],
      wire,
      fromWsnet: wire.toServer,
      fromWs: wire.toClient,
      async roundTrip(payloads, form, pace) {
        await sendAndCheckEchoes(connection, payloads, form, pace);
        // What ws received, it sent back: the echo is the check of both directions.
        const received = await peer.take(payloads.length);
        received.forEach((m, i) => assertWsMessage(m, payloads[i], `received ${i}`));
        assert.equal(peer.messages.length, 0, 'ws received no more than that');
      },
      async close() {
        const status = await within(connection.close(), 10_000, 'close');
        assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
        assert.deepEqual(await peer.closed(), { code: 1000, reason: '' });
      },
    };
  }

  it("negotiation: wsnet's offer, ws's answer, the same extension on both sides", async () => {
    const pair = await open({});
    // ws leaves client_max_window_bits out when it sets no limit.
    assertNegotiated(pair, 'permessage-deflate; client_max_window_bits', 'permessage-deflate');
    assert.equal(pair.peer.ws.extensions, 'permessage-deflate');
    assert.match(
      pair.wire.toServer.head,
      /^sec-websocket-extensions: permessage-deflate; client_max_window_bits$/im,
    );
    await pair.close();
  });

  echoTests(() => open({}), { text: 0x5e47, bytes: 0xc0de, row: 0x201 });

  for (const [offerServer, offerClient] of TAKEOVER_CASES) {
    for (const [wantServer, wantClient] of TAKEOVER_CASES) {
      it(`no context takeover: wsnet asks for ${describeNct(offerServer, offerClient)}, ws for ${describeNct(wantServer, wantClient)}`, async () => {
        const pair = await open(wsNoContextTakeover(wantServer, wantClient), {
          perMessageDeflate: {
            serverNoContextTakeover: offerServer,
            clientNoContextTakeover: offerClient,
          },
        });
        // ws answers with the offer's parameters, then those it adds, and drops the offer's
        // client_max_window_bits when it sets no limit.
        assertNegotiated(
          pair,
          formatDeflate([...nct(offerServer, offerClient), 'client_max_window_bits']),
          formatDeflate([
            ...nct(offerServer, offerClient),
            ...nct(wantServer && !offerServer, wantClient && !offerClient),
          ]),
        );
        await checkTakeover(
          pair,
          { wsnet: offerClient || wantClient, ws: offerServer || wantServer },
          0x3c8,
        );
      });
    }
  }

  for (const bits of WINDOW_BITS) {
    it(`max window bits: wsnet asks for server_max_window_bits=${bits} and client_max_window_bits=${bits}`, async () => {
      const pair = await open(
        {},
        {
          perMessageDeflate: { serverMaxWindowBits: bits, clientMaxWindowBits: bits, threshold: 0 },
        },
      );
      const expected = `permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`;
      assertNegotiated(pair, expected, expected);
      await checkWindows(pair, { ws: bits, wsnet: bits }, 0xa00);
    });

    it(`max window bits: ws sets server_max_window_bits=${bits} and client_max_window_bits=${bits} unasked`, async () => {
      const pair = await open(
        { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
        { perMessageDeflate: { threshold: 0 } },
      );
      assertNegotiated(
        pair,
        'permessage-deflate; client_max_window_bits',
        `permessage-deflate; client_max_window_bits=${bits}; server_max_window_bits=${bits}`,
      );
      // wsnet's client compresses with at most 12 bits unless told a number of its own.
      await checkWindows(pair, { ws: bits, wsnet: Math.min(bits, 12) as WindowBits }, 0xa00);
    });
  }

  it('compressed and plain messages interleaved: a plain message is no part of the LZ77 history', async () => {
    const pair = await open({}, {}, '/manual');
    const { payloads, wsCompress, wsnetCompress, wsnetCompressed } = interleaved(0x1b);
    const next = receiver(pair.connection, 'events');
    for (const [i, payload] of payloads.entries())
      await within(pair.connection.send(payload, wsnetCompress[i]), 10_000, 'send');
    (await pair.peer.take(payloads.length)).forEach((m, i) => {
      assertWsMessage(m, payloads[i], `received ${i}`);
      pair.peer.ws.send(m.data, { binary: m.isBinary, compress: wsCompress[i] });
    });
    for (const [i, payload] of payloads.entries())
      assertMessage(await next(), payload, `echo ${i}`);
    assertInterleaved(pair.fromWsnet.messages(), wsnetCompressed, 'wsnet');
    assertInterleaved(pair.fromWs.messages(), wsCompress, 'ws');
    await pair.close();
  });

  it('max window bits 8: ws compresses (zlib with its 9-bit window), wsnet cannot and sends plain', async () => {
    const pair = await open(
      {},
      { perMessageDeflate: { serverMaxWindowBits: 8, clientMaxWindowBits: 8, threshold: 0 } },
    );
    await checkWindowBits8(pair, 0x810);
  });

  it('fragmented messages: wsnet sendStream sends fragments and ws fragments (a ping between them) reach wsnet whole, compressed, RSV1 on the first frame only', async () => {
    const pair = await open({}, {}, '/manual');
    const { text, textParts, bytes, binaryParts } = fragmented(0xf8a);
    const next = receiver(pair.connection, 'events');
    await wsnetSendsFragments(pair.connection, textParts, binaryParts);
    assertWsMessage(await pair.peer.nextMessage(), text, 'the text');
    assertWsMessage(await pair.peer.nextMessage(), bytes, 'the bytes');
    const pings: string[] = [];
    pair.connection.on('ping', (data) => pings.push(data.toString()));
    wsSendsFragments(pair.peer, textParts, binaryParts);
    assertMessage(await next(), text, 'the text back');
    assertMessage(await next(), bytes, 'the bytes back');

    assertFragmentedBothWays(pair, text, bytes);
    assert.deepEqual(frameList(pair.fromWsnet.frames), [...FRAGMENTS_OUT, 'pong+fin']);
    assert.deepEqual(frameList(pair.fromWs.frames), FRAGMENTS_WITH_PING);
    assert.deepEqual(pings, ['between']);
    await pair.close();
  });

  it('send(…, { compress }): false sends a large message plain, true compresses a small one', async () => {
    await checkCompressOption(await open({}, {}, '/manual'), 0xc2);
  });
});
