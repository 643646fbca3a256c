// Interop with compression: the message API against the npm `ws` package with
// permessage-deflate (RFC 7692) negotiated, both ways: the `ws` client against the wsnet
// WebSocketServer, and wsnet's connect() against a `ws` WebSocketServer. `ws` runs with
// `threshold: 0`, so that it compresses every message, however small.
//
// Each server sits behind a frame tap (test/helpers/frame-tap.ts), a loopback relay that reads
// the frame headers going by: the tests check on the wire which messages were compressed
// (RSV1), in how many frames and bytes, and from the sizes, that each side compressed with the
// context takeover and the window it negotiated.
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
  WebSocketServer,
  type ConnectOptions,
  type Message,
  type PerMessageDeflateOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import {
  compressibleBytes,
  compressibleText,
  foundRepeat,
  randomLetters,
  repeatAtDistance,
} from '../helpers/compressible.js';
import {
  OP_BINARY,
  OP_TEXT,
  startFrameTap,
  type FrameTap,
  type TappedConnection,
  type TappedFrame,
  type TappedMessage,
} from '../helpers/frame-tap.js';
import { ConnectionQueue, tearDown, within } from '../helpers/interop.js';
import {
  assertMessage,
  byteLength,
  echoMessages,
  FORMS,
  receiver,
} from '../helpers/message-echo.js';

const SIZES = [0, 1, 1024, 64 * 1024, 1 << 20, 16 << 20];
/**
 * The sizes for the 'message' event form: how a message is delivered does not depend on its
 * size, and 16 MiB each way costs seconds of compression.
 */
const EVENT_SIZES = SIZES.filter((size) => size <= 1 << 20);
/** Below wsnet's threshold, and compressible: compress: true makes it smaller. */
const SMALL = 'small ✓ '.repeat(20);
/** wsnet's default threshold: shorter messages go uncompressed. */
const THRESHOLD = 1024;
const WINDOW_BITS = [9, 10, 11, 12, 13, 14, 15] as const;
type Bits = (typeof WINDOW_BITS)[number];

/** ws's perMessageDeflate options (its types call them `PerMessageDeflateOptions` too). */
interface WsDeflate {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

interface WsMessage {
  data: Buffer;
  isBinary: boolean;
}

/** A `ws` socket whose messages and close are recorded from its creation (ws-messages.test.ts). */
class Recorded {
  readonly messages: WsMessage[] = [];
  close: { code: number; reason: string } | undefined;
  readonly #changed = new Set<() => void>();

  constructor(readonly ws: WsClient) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.messages.push({ data: toBuffer(data), isBinary });
      this.#notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.close = { code, reason: reason.toString() };
      this.#notify();
    });
    ws.on('error', () => undefined);
  }

  #notify(): void {
    for (const check of [...this.#changed]) check();
  }

  /**
   * Resolves once `test()` gives a value (checked now and after every event); rejects once the
   * socket closed without it (unless waiting for the close itself), or after `ms`.
   */
  until<T>(what: string, test: () => T | undefined, ms = 30_000): Promise<T> {
    let check!: () => void;
    const waiting = new Promise<T>((resolve, reject) => {
      check = () => {
        const value = test();
        if (value === undefined) {
          if (this.close !== undefined)
            reject(new Error(`${what}: the ws socket closed (${JSON.stringify(this.close)})`));
          return;
        }
        this.#changed.delete(check);
        resolve(value);
      };
    });
    this.#changed.add(check);
    check();
    return within(waiting, ms, what).finally(() => this.#changed.delete(check));
  }

  nextMessage(): Promise<WsMessage> {
    return this.until('ws message', () => this.messages.shift());
  }

  /** The next `count` messages. */
  take(count: number): Promise<WsMessage[]> {
    return this.until('ws messages', () =>
      this.messages.length >= count ? this.messages.splice(0, count) : undefined,
    );
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.until('ws close', () => this.close);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Asserts that a message is the payload, without printing megabytes when it is not. */
function assertSame(actual: Message | WsMessage, payload: string | Buffer, what: string): void {
  if (typeof actual === 'object' && !Buffer.isBuffer(actual)) {
    assert.equal(actual.isBinary, typeof payload !== 'string', `${what}: type`);
    const expected = typeof payload === 'string' ? Buffer.from(payload) : payload;
    assert.equal(actual.data.length, expected.length, `${what}: length`);
    assert.ok(actual.data.equals(expected), `${what}: the bytes`);
    return;
  }
  assertMessage(actual, payload, what);
}

/** Each wire message's opcode, RSV1 and frame count, to compare with what was sent. */
function shape(messages: readonly TappedMessage[]) {
  return messages.map((m) => ({
    opcode: m.opcode,
    compressed: m.compressed,
    frames: m.frames,
    rsvOnContinuation: m.rsvOnContinuation,
    complete: m.complete,
  }));
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

function expectedShape(payloads: ReadonlyArray<string | Buffer>, compressed: boolean[]) {
  return payloads.map((payload, i) => ({
    opcode: typeof payload === 'string' ? OP_TEXT : OP_BINARY,
    compressed: compressed[i],
    frames: 1,
    rsvOnContinuation: false,
    complete: true,
  }));
}

/** Compressible payloads of 1 KiB and more cross in well under their size. */
function assertShrunk(
  messages: readonly TappedMessage[],
  payloads: ReadonlyArray<string | Buffer>,
) {
  payloads.forEach((payload, i) => {
    const size = byteLength(payload);
    if (size >= THRESHOLD)
      assert.ok(
        messages[i].wireBytes < 0.7 * size,
        `message ${i} (${size} bytes) took ${messages[i].wireBytes} bytes on the wire`,
      );
  });
}

/**
 * Same message sent `n` times: without context takeover each is compressed alone, to the same
 * size; with it, the later ones refer back to the first and take a few bytes.
 */
function assertTakeover(messages: readonly TappedMessage[], takeover: boolean, who: string) {
  assert.ok(messages.length >= 3, `${who}: ${messages.length} messages`);
  const [first, ...later] = messages.map((m) => m.wireBytes);
  assert.ok(first > 500, `${who}: the first message took ${first} bytes`);
  if (takeover)
    assert.ok(
      later.every((bytes) => bytes * 10 < first),
      `${who} should take over its context: ${first}, then ${later.join(', ')} bytes`,
    );
  else
    assert.deepEqual(
      later,
      later.map(() => first),
      `${who} should reset its context: ${first}, then ${later.join(', ')} bytes`,
    );
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

describe('interop, permessage-deflate: npm ws client → wsnet message server', () => {
  interface Served {
    server: WebSocketServer;
    tap: FrameTap;
    connections: ConnectionQueue;
  }
  const servers = new Map<string, Promise<Served>>();
  const taps: FrameTap[] = [];
  const clients: WsClient[] = [];

  /** A wsnet server with these perMessageDeflate options, behind a frame tap; one per set. */
  function served(deflate: PerMessageDeflateOptions): Promise<Served> {
    const key = JSON.stringify(deflate);
    let found = servers.get(key);
    if (found === undefined) {
      found = (async () => {
        const server = await WebSocketServer.listen({
          port: 0,
          host: '127.0.0.1',
          perMessageDeflate: deflate,
        });
        const connections = new ConnectionQueue(server);
        const tap = await startFrameTap(server.address().port);
        taps.push(tap);
        return { server, tap, connections };
      })();
      servers.set(key, found);
    }
    return found;
  }

  after(() =>
    tearDown([
      ['terminating the ws clients', () => clients.forEach((ws) => ws.terminate())],
      [
        'closing the servers',
        async () => {
          for (const s of servers.values()) await (await s).server.close();
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

  /** A ws client (threshold 0, plus `wsDeflate`) connected to a server with `deflate`. */
  async function open(deflate: PerMessageDeflateOptions, wsDeflate: WsDeflate = {}) {
    const { tap, connections } = await served(deflate);
    const index = tap.connections.length;
    const ws = new WsClient(tap.url, {
      handshakeTimeout: 10_000,
      perMessageDeflate: { threshold: 0, ...wsDeflate },
    });
    clients.push(ws);
    const client = new Recorded(ws);
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
    const [, accepted] = await Promise.all([opened, connections.next()]);
    const wire: TappedConnection = tap.connections[index];
    return {
      client,
      connection: accepted.connection,
      offer: accepted.request.headers['sec-websocket-extensions'],
      answer,
      wire,
    };
  }

  /** ws closes with 1000; both sides must see the clean close. */
  async function closeCleanly(client: Recorded, connection: WebSocketConnection) {
    client.ws.close(1000);
    assert.deepEqual(await within(connection.closed, 10_000, 'server closed'), {
      code: 1000,
      reason: '',
      wasClean: true,
    });
    assert.deepEqual(await client.closed(), { code: 1000, reason: '' });
  }

  it("negotiation: ws's offer, wsnet's answer, the same extension on both sides", async () => {
    const { client, connection, offer, answer, wire } = await open({});
    assert.equal(offer, 'permessage-deflate; client_max_window_bits');
    assert.equal(answer, 'permessage-deflate; client_max_window_bits=12');
    assert.equal(connection.extensions, 'permessage-deflate; client_max_window_bits=12');
    assert.equal(client.ws.extensions, 'permessage-deflate');
    assert.match(
      wire.toClient.head,
      /^sec-websocket-extensions: permessage-deflate; client_max_window_bits=12$/im,
    );
    await closeCleanly(client, connection);
  });

  for (const form of FORMS) {
    const sizes = form === 'events' ? EVENT_SIZES : SIZES;
    it(`text and binary of ${sizes.join(', ')} bytes are echoed, compressed both ways (wsnet: ${form})`, async () => {
      const { client, connection, wire } = await open({});
      const payloads = sizes.flatMap((size) => [
        compressibleText(size, 0x7e47 + size),
        compressibleBytes(size, 0xb1a7 + size),
      ]);
      const echoed = echoMessages(connection, payloads.length, form);
      for (const [i, payload] of payloads.entries()) {
        client.ws.send(payload);
        assertSame(await client.nextMessage(), payload, `echo ${i}`);
      }
      const received = await within(echoed, 10_000, 'the echoes');
      payloads.forEach((payload, i) => assertSame(received[i], payload, `received ${i}`));
      // ws (threshold 0) compressed every message, empty ones included; wsnet those of at
      // least its threshold.
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
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
          payloads.map((p) => byteLength(p) >= THRESHOLD),
        ),
      );
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      assert.ok(connection.compressionMemory > 0, 'wsnet keeps its LZ77 histories');
      await closeCleanly(client, connection);
    });

    it(`200 messages in a row, context taken over: after the first, each takes a few bytes (wsnet: ${form})`, async () => {
      const { client, connection, wire } = await open({});
      const base = randomLetters(1500, 0x200) + ' ✓';
      const payloads = Array.from({ length: 200 }, (_, i) => `${i} ${base}`);
      const echoed = echoMessages(connection, payloads.length, form);
      for (const payload of payloads) client.ws.send(payload);
      const back = await client.take(payloads.length);
      payloads.forEach((payload, i) => assertSame(back[i], payload, `echo ${i}`));
      const received = await within(echoed, 10_000, 'the echoes');
      payloads.forEach((payload, i) => assertSame(received[i], payload, `received ${i}`));
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
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
      assertTakeover(toServer, true, 'ws');
      assertTakeover(toClient, true, 'wsnet');
      await closeCleanly(client, connection);
    });
  }

  for (const [offerServer, offerClient] of TAKEOVER_CASES) {
    for (const [wantServer, wantClient] of TAKEOVER_CASES) {
      it(`no context takeover: ws asks for ${describeNct(offerServer, offerClient)}, wsnet for ${describeNct(wantServer, wantClient)}`, async () => {
        const { client, connection, offer, answer, wire } = await open(
          { serverNoContextTakeover: wantServer, clientNoContextTakeover: wantClient },
          {
            ...(offerServer ? { serverNoContextTakeover: true } : {}),
            ...(offerClient ? { clientNoContextTakeover: true } : {}),
          },
        );
        assert.equal(
          offer,
          formatDeflate([...nct(offerServer, offerClient), 'client_max_window_bits']),
        );
        // wsnet honours server_no_context_takeover when asked and adds what it wants; a
        // client's client_no_context_takeover (a hint, RFC 7692 §7.1.1.2) is echoed, which
        // makes it binding: ws keeps it only then.
        const serverResets = offerServer || wantServer;
        const clientResets = offerClient || wantClient;
        const expected = formatDeflate([
          ...nct(serverResets, clientResets),
          'client_max_window_bits=12',
        ]);
        assert.equal(answer, expected);
        assert.equal(connection.extensions, expected);
        const payload = randomLetters(1500, 0x3c7) + ' ✓';
        const echoed = echoMessages(connection, 4, 'for await');
        for (let i = 0; i < 4; i++) client.ws.send(payload);
        (await client.take(4)).forEach((m, i) => assertSame(m, payload, `echo ${i}`));
        await within(echoed, 10_000, 'the echoes');
        // ws takes its context over unless the answer says it may not, its own offer
        // notwithstanding: with the hint echoed, the answer says so whenever ws offered it.
        assertTakeover(wire.toServer.messages(), !clientResets, 'ws');
        assertTakeover(wire.toClient.messages(), !serverResets, 'wsnet');
        assert.equal(connection.compressionMemory > 0, !(serverResets && clientResets));
        await closeCleanly(client, connection);
      });
    }
  }

  /**
   * Sends repeatAtDistance(k) for every k from both sides, and checks from the sizes on the
   * wire which repeats each compressor found: exactly those within its window.
   */
  async function checkWindows(
    client: Recorded,
    connection: WebSocketConnection,
    wire: TappedConnection,
    windows: { ws: Bits; wsnet: Bits },
  ) {
    const payloads = WINDOW_BITS.map((k) => repeatAtDistance(k, 0x900 + k));
    const echoed = echoMessages(connection, payloads.length, 'for await');
    for (const payload of payloads) client.ws.send(payload);
    (await client.take(payloads.length)).forEach((m, i) => assertSame(m, payloads[i], `echo ${i}`));
    await within(echoed, 10_000, 'the echoes');
    const toServer = wire.toServer.messages();
    const toClient = wire.toClient.messages();
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
    assert.deepEqual(
      payloads.map((p, i) => foundRepeat(p, toServer[i].wireBytes)),
      WINDOW_BITS.map((k) => k <= windows.ws),
      `ws compresses with a window of ${windows.ws} bits`,
    );
    assert.deepEqual(
      payloads.map((p, i) => foundRepeat(p, toClient[i].wireBytes)),
      WINDOW_BITS.map((k) => k <= windows.wsnet),
      `wsnet compresses with a window of ${windows.wsnet} bits`,
    );
  }

  for (const bits of WINDOW_BITS) {
    it(`max window bits: ws asks for server_max_window_bits=${bits} and client_max_window_bits=${bits}`, async () => {
      const { client, connection, offer, answer, wire } = await open(
        { serverMaxWindowBits: 15, clientMaxWindowBits: 15, threshold: 0 },
        { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
      );
      const expected = `permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`;
      assert.equal(offer, expected);
      assert.equal(answer, expected);
      assert.equal(connection.extensions, expected);
      await checkWindows(client, connection, wire, { ws: bits, wsnet: bits });
      await closeCleanly(client, connection);
    });

    it(`max window bits: wsnet asks ws for client_max_window_bits=${bits} and compresses with ${bits}`, async () => {
      const { client, connection, offer, answer, wire } = await open({
        serverMaxWindowBits: bits,
        clientMaxWindowBits: bits,
        threshold: 0,
      });
      assert.equal(offer, 'permessage-deflate; client_max_window_bits');
      assert.equal(answer, `permessage-deflate; client_max_window_bits=${bits}`);
      assert.equal(connection.extensions, answer);
      await checkWindows(client, connection, wire, { ws: bits, wsnet: bits });
      await closeCleanly(client, connection);
    });
  }

  it('compressed and plain messages interleaved: a plain message is no part of the LZ77 history', async () => {
    const { client, connection, wire } = await open({});
    const { payloads, wsCompress, wsnetCompress, wsnetCompressed } = interleaved(0x1a);
    const next = receiver(connection, 'for await');
    payloads.forEach((payload, i) => client.ws.send(payload, { compress: wsCompress[i] }));
    for (const [i, payload] of payloads.entries()) {
      const message = await next();
      assertSame(message, payload, `received ${i}`);
      await within(connection.send(message, wsnetCompress[i]), 10_000, 'send');
    }
    (await client.take(payloads.length)).forEach((m, i) => assertSame(m, payloads[i], `echo ${i}`));
    assertInterleaved(wire.toServer.messages(), wsCompress, 'ws');
    assertInterleaved(wire.toClient.messages(), wsnetCompressed, 'wsnet');
    await closeCleanly(client, connection);
  });

  it('max window bits 8: ws compresses (zlib with its 9-bit window), wsnet cannot and sends plain', async () => {
    const { client, connection, offer, answer, wire } = await open(
      { serverMaxWindowBits: 15, clientMaxWindowBits: 15, threshold: 0 },
      { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    );
    const expected = 'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8';
    assert.equal(offer, expected);
    assert.equal(answer, expected);
    assert.equal(connection.extensions, expected);
    const payloads = [0, 1, 2].map((i) => randomLetters(3000, 0x800 + i));
    const echoed = echoMessages(connection, payloads.length, 'events');
    for (const payload of payloads) client.ws.send(payload);
    (await client.take(payloads.length)).forEach((m, i) => assertSame(m, payloads[i], `echo ${i}`));
    await within(echoed, 10_000, 'the echoes');
    const toServer = wire.toServer.messages();
    const toClient = wire.toClient.messages();
    assert.deepEqual(
      shape(toServer),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    assertShrunk(toServer, payloads);
    assert.deepEqual(
      shape(toClient),
      expectedShape(
        payloads,
        payloads.map(() => false),
      ),
    );
    assert.deepEqual(
      toClient.map((m) => m.wireBytes),
      payloads.map(() => 3000),
    );
    await closeCleanly(client, connection);
  });

  it('fragmented messages: ws sends fragments (a ping between them), wsnet sendStream sends them back, compressed, RSV1 on the first frame only', async () => {
    const { client, connection, wire } = await open({});
    const utf8 = Buffer.from(compressibleText(6000, 0xf7a), 'utf8');
    // Cuts inside multibyte characters: text fragments need not end on a character.
    const multibyte = [...utf8.entries()].filter(([, b]) => b >= 0xc0).map(([i]) => i + 1);
    const cuts = [multibyte.find((i) => i > 2000)!, multibyte.find((i) => i > 4000)!];
    const textParts = [
      utf8.subarray(0, cuts[0]),
      utf8.subarray(cuts[0], cuts[1]),
      utf8.subarray(cuts[1]),
    ];
    const bytes = compressibleBytes(9000, 0xf7b);
    const binaryParts = [bytes.subarray(0, 3000), bytes.subarray(3000, 6000), bytes.subarray(6000)];
    const next = receiver(connection, 'for await');

    const pings: string[] = [];
    connection.on('ping', (data) => pings.push(data.toString()));
    textParts.forEach((part, i) => {
      client.ws.send(part, { binary: false, fin: i === textParts.length - 1 });
      // A control frame may come between the frames of a message (RFC 6455 §5.4).
      if (i === 0) client.ws.ping('between');
    });
    binaryParts.forEach((part, i) =>
      client.ws.send(part, { binary: true, fin: i === binaryParts.length - 1 }),
    );
    const text = utf8.toString('utf8');
    assertSame(await next(), text, 'the text');
    assertSame(await next(), bytes, 'the bytes');
    await within(connection.sendStream(textParts, { binary: false }), 10_000, 'sendStream');
    await within(connection.sendStream(binaryParts), 10_000, 'sendStream');
    assertSame(await client.nextMessage(), text, 'the text back');
    assertSame(await client.nextMessage(), bytes, 'the bytes back');

    const fragmented = [
      { opcode: OP_TEXT, compressed: true, frames: 3, rsvOnContinuation: false, complete: true },
      { opcode: OP_BINARY, compressed: true, frames: 3, rsvOnContinuation: false, complete: true },
    ];
    assert.deepEqual(shape(wire.toServer.messages()), fragmented);
    assert.deepEqual(shape(wire.toClient.messages()), fragmented);
    assert.deepEqual(frameList(wire.toServer.frames), FRAGMENTS_WITH_PING);
    // wsnet answered the ping as it came, before the end of the message.
    assert.deepEqual(frameList(wire.toClient.frames), ['pong+fin', ...FRAGMENTS_OUT]);
    assert.deepEqual(pings, ['between']);
    await closeCleanly(client, connection);
  });

  it('send(…, { compress }): false sends a large message plain, true compresses a small one', async () => {
    const { client, connection, wire } = await open({});
    const large = compressibleText(5000, 0xc1);
    await within(connection.send(large, { compress: false }), 10_000, 'send');
    await within(connection.send(SMALL, { compress: true }), 10_000, 'send');
    await within(connection.send(large), 10_000, 'send');
    assertSame(await client.nextMessage(), large, 'plain');
    assertSame(await client.nextMessage(), SMALL, 'compressed small');
    assertSame(await client.nextMessage(), large, 'compressed large');
    const toClient = wire.toClient.messages();
    assert.deepEqual(
      toClient.map((m) => [m.compressed, m.wireBytes < 5000]),
      [
        [false, false],
        [true, true],
        [true, true],
      ],
    );
    assert.equal(toClient[0].wireBytes, 5000);
    await closeCleanly(client, connection);
  });
});

describe('interop, permessage-deflate: wsnet connect() → npm ws server', () => {
  interface WsServed {
    server: WsServer;
    tap: FrameTap;
    accepted: Recorded[];
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
        const accepted: Recorded[] = [];
        const offers: Array<string | undefined> = [];
        const answers: Array<string | undefined> = [];
        server.on('headers', (headers: string[]) => {
          const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
          answers.push(line?.replace(/^[^:]*:\s*/, ''));
        });
        server.on('connection', (ws, request) => {
          offers.push(request.headers['sec-websocket-extensions']);
          accepted.push(new Recorded(ws));
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

  async function open(deflate: WsDeflate, options: ConnectOptions = {}, path = '/') {
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
    return {
      connection,
      peer: accepted[before],
      offer: offers[before],
      answer: answers[before],
      wire: tap.connections[index],
    };
  }

  async function closeCleanly(connection: WebSocketConnection, peer: Recorded) {
    const status = await within(connection.close(), 10_000, 'close');
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(await peer.closed(), { code: 1000, reason: '' });
  }

  it("negotiation: wsnet's offer, ws's answer, the same extension on both sides", async () => {
    const { connection, peer, offer, answer, wire } = await open({});
    assert.equal(offer, 'permessage-deflate; client_max_window_bits');
    // ws leaves client_max_window_bits out when it sets no limit.
    assert.equal(answer, 'permessage-deflate');
    assert.equal(connection.extensions, 'permessage-deflate');
    assert.equal(peer.ws.extensions, 'permessage-deflate');
    assert.match(
      wire.toServer.head,
      /^sec-websocket-extensions: permessage-deflate; client_max_window_bits$/im,
    );
    await closeCleanly(connection, peer);
  });

  for (const form of FORMS) {
    const sizes = form === 'events' ? EVENT_SIZES : SIZES;
    it(`text and binary of ${sizes.join(', ')} bytes are echoed, compressed both ways (wsnet: ${form})`, async () => {
      const { connection, peer, wire } = await open({});
      const next = receiver(connection, form);
      const payloads = sizes.flatMap((size) => [
        compressibleText(size, 0x5e47 + size),
        compressibleBytes(size, 0xc0de + size),
      ]);
      for (const [i, payload] of payloads.entries()) {
        await within(connection.send(payload), 30_000, 'send');
        assertSame(await next(), payload, `echo ${i}`);
      }
      // What ws received, it sent back: the echo is the check of both directions.
      assert.equal(peer.messages.length, payloads.length);
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
      assert.deepEqual(
        shape(toServer),
        expectedShape(
          payloads,
          payloads.map((p) => byteLength(p) >= THRESHOLD),
        ),
      );
      assert.deepEqual(
        shape(toClient),
        expectedShape(
          payloads,
          payloads.map(() => true),
        ),
      );
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      assert.ok(connection.compressionMemory > 0, 'wsnet keeps its LZ77 histories');
      await closeCleanly(connection, peer);
    });

    it(`200 messages in a row, context taken over: after the first, each takes a few bytes (wsnet: ${form})`, async () => {
      const { connection, peer, wire } = await open({});
      const next = receiver(connection, form);
      const base = randomLetters(1500, 0x201) + ' ✓';
      const payloads = Array.from({ length: 200 }, (_, i) => `${i} ${base}`);
      const sent = payloads.map((payload) => connection.send(payload));
      for (const [i, payload] of payloads.entries()) assertSame(await next(), payload, `echo ${i}`);
      await within(Promise.all(sent), 10_000, 'the sends');
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
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
      assertTakeover(toServer, true, 'wsnet');
      assertTakeover(toClient, true, 'ws');
      await closeCleanly(connection, peer);
    });
  }

  for (const [offerServer, offerClient] of TAKEOVER_CASES) {
    for (const [wantServer, wantClient] of TAKEOVER_CASES) {
      it(`no context takeover: wsnet asks for ${describeNct(offerServer, offerClient)}, ws for ${describeNct(wantServer, wantClient)}`, async () => {
        const { connection, peer, offer, answer, wire } = await open(
          {
            ...(wantServer ? { serverNoContextTakeover: true } : {}),
            ...(wantClient ? { clientNoContextTakeover: true } : {}),
          },
          {
            perMessageDeflate: {
              serverNoContextTakeover: offerServer,
              clientNoContextTakeover: offerClient,
            },
          },
        );
        assert.equal(
          offer,
          formatDeflate([...nct(offerServer, offerClient), 'client_max_window_bits']),
        );
        // ws answers with the offer's parameters, then those it adds, and drops the offer's
        // client_max_window_bits when it sets no limit.
        const expected = formatDeflate([
          ...nct(offerServer, offerClient),
          ...nct(wantServer && !offerServer, wantClient && !offerClient),
        ]);
        assert.equal(answer, expected);
        assert.equal(connection.extensions, expected);
        const serverResets = offerServer || wantServer;
        const clientResets = offerClient || wantClient;
        const next = receiver(connection, 'for await');
        const payload = randomLetters(1500, 0x3c8) + ' ✓';
        for (let i = 0; i < 4; i++) void connection.send(payload);
        for (let i = 0; i < 4; i++) assertSame(await next(), payload, `echo ${i}`);
        assertTakeover(wire.toServer.messages(), !clientResets, 'wsnet');
        assertTakeover(wire.toClient.messages(), !serverResets, 'ws');
        assert.equal(connection.compressionMemory > 0, !(serverResets && clientResets));
        await closeCleanly(connection, peer);
      });
    }
  }

  /** As in the other direction: which repeats each side's compressor found. */
  async function checkWindows(
    connection: WebSocketConnection,
    wire: TappedConnection,
    windows: { ws: Bits; wsnet: Bits },
  ) {
    const payloads = WINDOW_BITS.map((k) => repeatAtDistance(k, 0xa00 + k));
    const next = receiver(connection, 'for await');
    for (const payload of payloads) void connection.send(payload);
    for (const [i, payload] of payloads.entries()) assertSame(await next(), payload, `echo ${i}`);
    const toServer = wire.toServer.messages();
    const toClient = wire.toClient.messages();
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
    assert.deepEqual(
      payloads.map((p, i) => foundRepeat(p, toServer[i].wireBytes)),
      WINDOW_BITS.map((k) => k <= windows.wsnet),
      `wsnet compresses with a window of ${windows.wsnet} bits`,
    );
    assert.deepEqual(
      payloads.map((p, i) => foundRepeat(p, toClient[i].wireBytes)),
      WINDOW_BITS.map((k) => k <= windows.ws),
      `ws compresses with a window of ${windows.ws} bits`,
    );
  }

  for (const bits of WINDOW_BITS) {
    it(`max window bits: wsnet asks for server_max_window_bits=${bits} and client_max_window_bits=${bits}`, async () => {
      const { connection, peer, offer, answer, wire } = await open(
        {},
        {
          perMessageDeflate: { serverMaxWindowBits: bits, clientMaxWindowBits: bits, threshold: 0 },
        },
      );
      const expected = `permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`;
      assert.equal(offer, expected);
      assert.equal(answer, expected);
      assert.equal(connection.extensions, expected);
      await checkWindows(connection, wire, { ws: bits, wsnet: bits });
      await closeCleanly(connection, peer);
    });

    it(`max window bits: ws sets server_max_window_bits=${bits} and client_max_window_bits=${bits} unasked`, async () => {
      const { connection, peer, offer, answer, wire } = await open(
        { serverMaxWindowBits: bits, clientMaxWindowBits: bits },
        { perMessageDeflate: { threshold: 0 } },
      );
      assert.equal(offer, 'permessage-deflate; client_max_window_bits');
      const expected = `permessage-deflate; client_max_window_bits=${bits}; server_max_window_bits=${bits}`;
      assert.equal(answer, expected);
      assert.equal(connection.extensions, expected);
      // wsnet's client compresses with at most 12 bits unless told a number of its own.
      await checkWindows(connection, wire, { ws: bits, wsnet: Math.min(bits, 12) as Bits });
      await closeCleanly(connection, peer);
    });
  }

  it('compressed and plain messages interleaved: a plain message is no part of the LZ77 history', async () => {
    const { connection, peer, wire } = await open({}, {}, '/manual');
    const { payloads, wsCompress, wsnetCompress, wsnetCompressed } = interleaved(0x1b);
    const next = receiver(connection, 'events');
    for (const [i, payload] of payloads.entries())
      await within(connection.send(payload, wsnetCompress[i]), 10_000, 'send');
    (await peer.take(payloads.length)).forEach((m, i) => {
      assertSame(m, payloads[i], `received ${i}`);
      peer.ws.send(m.data, { binary: m.isBinary, compress: wsCompress[i] });
    });
    for (const [i, payload] of payloads.entries()) assertSame(await next(), payload, `echo ${i}`);
    assertInterleaved(wire.toServer.messages(), wsnetCompressed, 'wsnet');
    assertInterleaved(wire.toClient.messages(), wsCompress, 'ws');
    await closeCleanly(connection, peer);
  });

  it('max window bits 8: ws compresses (zlib with its 9-bit window), wsnet cannot and sends plain', async () => {
    const { connection, peer, offer, answer, wire } = await open(
      {},
      { perMessageDeflate: { serverMaxWindowBits: 8, clientMaxWindowBits: 8, threshold: 0 } },
    );
    const expected = 'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8';
    assert.equal(offer, expected);
    assert.equal(answer, expected);
    assert.equal(connection.extensions, expected);
    const payloads = [0, 1, 2].map((i) => randomLetters(3000, 0x810 + i));
    const next = receiver(connection, 'events');
    for (const payload of payloads) void connection.send(payload);
    for (const [i, payload] of payloads.entries()) assertSame(await next(), payload, `echo ${i}`);
    const toServer = wire.toServer.messages();
    const toClient = wire.toClient.messages();
    assert.deepEqual(
      shape(toServer),
      expectedShape(
        payloads,
        payloads.map(() => false),
      ),
    );
    assert.deepEqual(
      toServer.map((m) => m.wireBytes),
      payloads.map(() => 3000),
    );
    assert.deepEqual(
      shape(toClient),
      expectedShape(
        payloads,
        payloads.map(() => true),
      ),
    );
    assertShrunk(toClient, payloads);
    await closeCleanly(connection, peer);
  });

  it('fragmented messages: wsnet sendStream sends fragments and ws fragments (a ping between them) reach wsnet whole, compressed, RSV1 on the first frame only', async () => {
    const { connection, peer, wire } = await open({}, {}, '/manual');
    const utf8 = Buffer.from(compressibleText(6000, 0xf8a), 'utf8');
    const multibyte = [...utf8.entries()].filter(([, b]) => b >= 0xc0).map(([i]) => i + 1);
    const cuts = [multibyte.find((i) => i > 2000)!, multibyte.find((i) => i > 4000)!];
    const textParts = [
      utf8.subarray(0, cuts[0]),
      utf8.subarray(cuts[0], cuts[1]),
      utf8.subarray(cuts[1]),
    ];
    const bytes = compressibleBytes(9000, 0xf8b);
    const binaryParts = [bytes.subarray(0, 3000), bytes.subarray(3000, 6000), bytes.subarray(6000)];
    const text = utf8.toString('utf8');
    const next = receiver(connection, 'events');

    await within(connection.sendStream(textParts, { binary: false }), 10_000, 'sendStream');
    await within(connection.sendStream(binaryParts), 10_000, 'sendStream');
    assertSame(await peer.nextMessage(), text, 'the text');
    assertSame(await peer.nextMessage(), bytes, 'the bytes');
    const pings: string[] = [];
    connection.on('ping', (data) => pings.push(data.toString()));
    textParts.forEach((part, i) => {
      peer.ws.send(part, { binary: false, fin: i === 2 });
      if (i === 0) peer.ws.ping('between');
    });
    binaryParts.forEach((part, i) => peer.ws.send(part, { binary: true, fin: i === 2 }));
    assertSame(await next(), text, 'the text back');
    assertSame(await next(), bytes, 'the bytes back');

    const fragmented = [
      { opcode: OP_TEXT, compressed: true, frames: 3, rsvOnContinuation: false, complete: true },
      { opcode: OP_BINARY, compressed: true, frames: 3, rsvOnContinuation: false, complete: true },
    ];
    assert.deepEqual(shape(wire.toServer.messages()), fragmented);
    assert.deepEqual(shape(wire.toClient.messages()), fragmented);
    assert.deepEqual(frameList(wire.toServer.frames), [...FRAGMENTS_OUT, 'pong+fin']);
    assert.deepEqual(frameList(wire.toClient.frames), FRAGMENTS_WITH_PING);
    assert.deepEqual(pings, ['between']);
    await closeCleanly(connection, peer);
  });

  it('send(…, { compress }): false sends a large message plain, true compresses a small one', async () => {
    const { connection, peer, wire } = await open({}, {}, '/manual');
    const large = compressibleText(5000, 0xc2);
    await within(connection.send(large, { compress: false }), 10_000, 'send');
    await within(connection.send(SMALL, { compress: true }), 10_000, 'send');
    await within(connection.send(large), 10_000, 'send');
    assertSame(await peer.nextMessage(), large, 'plain');
    assertSame(await peer.nextMessage(), SMALL, 'compressed small');
    assertSame(await peer.nextMessage(), large, 'compressed large');
    const toServer = wire.toServer.messages();
    assert.deepEqual(
      toServer.map((m) => [m.compressed, m.wireBytes < 5000]),
      [
        [false, false],
        [true, true],
        [true, true],
      ],
    );
    assert.equal(toServer[0].wireBytes, 5000);
    await closeCleanly(connection, peer);
  });
});
