// Interop with compression: the message API against python-websockets (Debian's
// python3-websockets, run by /usr/bin/python3), whose default is permessage-deflate (RFC 7692)
// on, both ways: a python echo server with wsnet's connect(), and a python client against a
// wsnet echo server. Each python process is started here, on 127.0.0.1, and ended by its handle.
//
// python-websockets 10.4 (Debian 12) offers `permessage-deflate; client_max_window_bits`, and
// its server answers with `server_max_window_bits=12; client_max_window_bits=12`; it compresses
// every data message, however short. Each wsnet peer sits behind a frame tap
// (test/helpers/frame-tap.ts) that reads the frame headers going by: RSV1 and the sizes on the
// wire are checked there.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  WebSocketServer,
  type ConnectOptions,
  type PerMessageDeflateOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { foundRepeat, randomLetters, repeatAtDistance } from '../helpers/compressible.js';
import {
  OP_BINARY,
  OP_TEXT,
  startFrameTap,
  type FrameTap,
  type TappedConnection,
  type TappedMessage,
} from '../helpers/frame-tap.js';
import { ConnectionQueue, tearDown, within } from '../helpers/interop.js';
import {
  assertMessage,
  byteLength,
  echoMessages,
  FORMS,
  receiver,
  type Form,
} from '../helpers/message-echo.js';

const PYTHON = '/usr/bin/python3';
const SIZES = [0, 1, 1024, 64 * 1024, 1 << 20];
/** wsnet's default threshold: shorter messages go uncompressed. */
const THRESHOLD = 1024;
const WINDOW_BITS = [9, 10, 11, 12, 13, 14, 15];

// The payloads, built the same way here and in python: blocks of SHA-256 of "seed:i", each byte
// cut to 4 bits (binary) or mapped to one of 16 letters (text, with a non-ASCII suffix). Both
// compress to about half.
const PYTHON_PAYLOADS = `
import hashlib
def blocks(size, seed):
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:size])
LOW = bytes(b & 0x0F for b in range(256))
LETTERS = bytes(0x61 + (b & 0x0F) for b in range(256))
def binary(size, seed):
    return blocks(size, seed).translate(LOW)
def text(size, seed):
    return blocks(size, seed).translate(LETTERS).decode("ascii") + SUFFIX
SUFFIX = " ✓ héllo wörld 😀"
`;
const SUFFIX = ' ✓ héllo wörld 😀';

function blocks(size: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, length = 0; length < size; i++, length += 32)
    parts.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(parts).subarray(0, size);
}

function binary(size: number, seed: number): Buffer {
  const bytes = Buffer.from(blocks(size, seed));
  for (let i = 0; i < size; i++) bytes[i] &= 0x0f;
  return bytes;
}

function text(size: number, seed: number): string {
  const bytes = Buffer.from(blocks(size, seed));
  for (let i = 0; i < size; i++) bytes[i] = 0x61 + (bytes[i] & 0x0f);
  return bytes.toString('latin1') + SUFFIX;
}

/** What the python client sends: text and binary of each size, then `row` copies of one text. */
function clientPayloads(sizes: readonly number[], row: number): Array<string | Buffer> {
  return [
    ...sizes.flatMap((size) => [text(size, size), binary(size, size + 1)]),
    ...Array.from({ length: row }, () => text(1500, 7)),
  ];
}

const PYTHON_ECHO_SERVER = `
import asyncio, websockets
async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
`;

// argv[1]: {"url", "sizes", "row"}. Sends each message and waits for its echo, then sends
// "row" copies of one message in a row and takes their echoes; closes (1000) and prints what
// it saw as JSON. Every wait is bounded.
const PYTHON_CLIENT = `
import asyncio, json, sys, websockets
${PYTHON_PAYLOADS}
config = json.loads(sys.argv[1])
async def main():
    async with websockets.connect(config["url"], max_size=None, open_timeout=10, close_timeout=10) as ws:
        echoes = []
        for size in config["sizes"]:
            for payload in (text(size, size), binary(size, size + 1)):
                await ws.send(payload)
                back = await asyncio.wait_for(ws.recv(), 20)
                echoes.append({"type": type(back).__name__, "length": len(back), "same": back == payload})
        row = text(1500, 7)
        for _ in range(config["row"]):
            await ws.send(row)
        same = 0
        for _ in range(config["row"]):
            same += (await asyncio.wait_for(ws.recv(), 20)) == row
        seen = {
            "offer": ws.request_headers.get("Sec-WebSocket-Extensions"),
            "answer": ws.response_headers.get("Sec-WebSocket-Extensions"),
            "echoes": echoes,
            "row": same,
        }
    seen["close"] = [ws.close_code, ws.close_reason]
    print(json.dumps(seen), flush=True)
asyncio.run(asyncio.wait_for(main(), 60))
`;

interface ClientSeen {
  offer: string | null;
  answer: string | null;
  echoes: Array<{ type: string; length: number; same: boolean }>;
  row: number;
  close: [number, string];
}

/** Every python process this file starts, to be ended by its handle. */
const children = new Set<ChildProcess>();

function python(script: string, args: string[] = []): ChildProcess {
  const child = spawn(PYTHON, ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

after(() =>
  tearDown([
    [
      'ending the python processes',
      async () => {
        for (const child of [...children]) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill();
          await within(exited, 5000, `python (pid ${child.pid}) to exit`);
        }
      },
    ],
  ]),
);

/** Runs the python client with `config`; resolves with what it printed, once it exited. */
async function runClient(config: object, ms = 60_000): Promise<ClientSeen> {
  const child = python(PYTHON_CLIENT, [JSON.stringify(config)]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close': the process exited and its output has all been read.
  const code = await within(
    new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status))),
    ms,
    'the python client',
  );
  assert.equal(code, 0, `the python client failed: ${stderr}`);
  return JSON.parse(stdout) as ClientSeen;
}

/** Each wire message's opcode, RSV1 and frame count. */
function shape(messages: readonly TappedMessage[]) {
  return messages.map((m) => ({
    opcode: m.opcode,
    compressed: m.compressed,
    frames: m.frames,
    complete: m.complete,
  }));
}

function expectedShape(payloads: ReadonlyArray<string | Buffer>, compressed: boolean[]) {
  return payloads.map((payload, i) => ({
    opcode: typeof payload === 'string' ? OP_TEXT : OP_BINARY,
    compressed: compressed[i],
    frames: 1,
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

/** Identical messages: alone, each compresses to the same size; with takeover, to a few bytes. */
function assertTakeover(messages: readonly TappedMessage[], takeover: boolean, who: string) {
  assert.ok(messages.length >= 3, `${who}: ${messages.length} messages`);
  const [first, ...later] = messages.map((m) => m.wireBytes);
  assert.ok(first > 700, `${who}: the first message took ${first} bytes`);
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

describe('interop, permessage-deflate: wsnet connect() → python-websockets server', () => {
  let tap: FrameTap | undefined;
  const connections: WebSocketConnection[] = [];

  before(async () => {
    const child = python(PYTHON_ECHO_SERVER);
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout!.once('data', (line: Buffer) => resolve(Number(line.toString().trim())));
        child.once('exit', () =>
          reject(new Error(`python3 -c <websockets echo server> exited: ${errors}`)),
        );
      }),
      10_000,
      'the python server to listen',
    );
    tap = await startFrameTap(port);
  });

  after(() =>
    tearDown([
      ['terminating the connections', () => connections.forEach((c) => c.terminate())],
      ['closing the tap', () => tap?.close()],
    ]),
  );

  async function open(options: ConnectOptions = {}) {
    const index = tap!.connections.length;
    const connection = await connect(tap!.url, { handshakeTimeout: 10_000, ...options });
    connections.push(connection);
    const wire: TappedConnection = tap!.connections[index];
    return { connection, wire };
  }

  async function closeCleanly(connection: WebSocketConnection) {
    const status = await within(connection.close(), 10_000, 'close');
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
  }

  const extensionsHeader = (head: string) => /^sec-websocket-extensions: (.*)$/im.exec(head)?.[1];

  for (const form of FORMS) {
    it(`text and binary of ${SIZES.join(', ')} bytes are echoed, compressed both ways (wsnet: ${form})`, async () => {
      const { connection, wire } = await open();
      assert.equal(
        extensionsHeader(wire.toServer.head),
        'permessage-deflate; client_max_window_bits',
      );
      assert.equal(
        connection.extensions,
        'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
      );
      assert.equal(extensionsHeader(wire.toClient.head), connection.extensions);
      const next = receiver(connection, form);
      const payloads = SIZES.flatMap((size) => [text(size, size), binary(size, size + 1)]);
      for (const [i, payload] of payloads.entries()) {
        await within(connection.send(payload), 20_000, 'send');
        assertMessage(await next(), payload, `echo ${i}`);
      }
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
      assert.deepEqual(
        shape(toServer),
        expectedShape(
          payloads,
          payloads.map((p) => byteLength(p) >= THRESHOLD),
        ),
      );
      // python-websockets compresses every message, empty ones included.
      assert.deepEqual(
        shape(toClient),
        expectedShape(
          payloads,
          payloads.map(() => true),
        ),
      );
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      await closeCleanly(connection);
    });
  }

  it('50 messages in a row: with context takeover, after the first each takes a few bytes both ways', async () => {
    const { connection, wire } = await open();
    const payload = randomLetters(1500, 0x50) + SUFFIX;
    const next = receiver(connection, 'for await');
    const sent = Array.from({ length: 50 }, () => connection.send(payload));
    for (let i = 0; i < 50; i++) assertMessage(await next(), payload, `echo ${i}`);
    await within(Promise.all(sent), 10_000, 'the sends');
    assertTakeover(wire.toServer.messages(), true, 'wsnet');
    assertTakeover(wire.toClient.messages(), true, 'python');
    await closeCleanly(connection);
  });

  it('wsnet asks for no context takeover both ways: python agrees, and both compress each message alone', async () => {
    const { connection, wire } = await open({
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    assert.equal(
      extensionsHeader(wire.toServer.head),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits',
    );
    assert.equal(
      connection.extensions,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12',
    );
    const payload = randomLetters(1500, 0x51) + SUFFIX;
    const next = receiver(connection, 'events');
    for (let i = 0; i < 5; i++) void connection.send(payload);
    for (let i = 0; i < 5; i++) assertMessage(await next(), payload, `echo ${i}`);
    assertTakeover(wire.toServer.messages(), false, 'wsnet');
    assertTakeover(wire.toClient.messages(), false, 'python');
    assert.equal(connection.compressionMemory, 0);
    await closeCleanly(connection);
  });

  for (const [offer, windows] of [
    [{}, { python: 12, wsnet: 12 }],
    [
      { serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
      { python: 10, wsnet: 11 },
    ],
  ] as const) {
    const asked = offer as PerMessageDeflateOptions;
    it(`max window bits: wsnet offers ${JSON.stringify(asked)}; python compresses with ${windows.python} bits, wsnet with ${windows.wsnet}`, async () => {
      const { connection, wire } = await open({ perMessageDeflate: { ...asked, threshold: 0 } });
      assert.equal(
        connection.extensions,
        `permessage-deflate; server_max_window_bits=${windows.python}; client_max_window_bits=${windows.wsnet}`,
      );
      // R + R with R at a distance of 2^k - 300: found only by a window of k bits or more.
      const payloads = WINDOW_BITS.map((k) => repeatAtDistance(k, 0xb00 + k));
      const next = receiver(connection, 'for await');
      for (const payload of payloads) void connection.send(payload);
      for (const [i, payload] of payloads.entries())
        assertMessage(await next(), payload, `echo ${i}`);
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
        WINDOW_BITS.map((k) => k <= windows.python),
        `python compresses with a window of ${windows.python} bits`,
      );
      await closeCleanly(connection);
    });
  }
});

describe('interop, permessage-deflate: python-websockets client → wsnet message server', () => {
  interface Served {
    server: WebSocketServer;
    tap: FrameTap;
    connections: ConnectionQueue;
  }
  const served: Served[] = [];
  let compressing: Served;

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

  before(async () => {
    compressing = await serve(true);
  });

  after(() =>
    tearDown([
      [
        'closing the servers',
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
    ]),
  );

  /**
   * Runs the python client against `target`, whose connection echoes every message (taking
   * them in `form`); checks what both ends saw and returns it with the wire's messages.
   */
  async function exchange(target: Served, sizes: readonly number[], row: number, form: Form) {
    const index = target.tap.connections.length;
    const payloads = clientPayloads(sizes, row);
    const [seen, onServer] = await Promise.all([
      runClient({ url: target.tap.url, sizes, row }),
      (async () => {
        const { connection, request } = await target.connections.next();
        const received = await echoMessages(connection, payloads.length, form);
        const memory = connection.compressionMemory;
        const status = await within(connection.closed, 10_000, 'close');
        return { connection, request, received, memory, status };
      })(),
    ]);
    onServer.received.forEach((message, i) =>
      assertMessage(message, payloads[i], `the server received message ${i}`),
    );
    assert.deepEqual(onServer.status, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(seen.close, [1000, '']);
    assert.deepEqual(
      seen.echoes,
      sizes.flatMap((size) => [
        // python's len() of a str counts code points.
        { type: 'str', length: size + [...SUFFIX].length, same: true },
        { type: 'bytes', length: size, same: true },
      ]),
    );
    assert.equal(seen.row, row);
    const wire: TappedConnection = target.tap.connections[index];
    assert.equal(onServer.request.headers['sec-websocket-extensions'], seen.offer);
    assert.equal(onServer.connection.extensions, seen.answer);
    return {
      seen,
      payloads,
      memory: onServer.memory,
      toServer: wire.toServer.messages(),
      toClient: wire.toClient.messages(),
    };
  }

  for (const form of FORMS) {
    it(`text and binary of ${SIZES.join(', ')} bytes, then 50 in a row, are echoed compressed (wsnet: ${form})`, async () => {
      const { seen, payloads, memory, toServer, toClient } = await exchange(
        compressing,
        SIZES,
        50,
        form,
      );
      assert.equal(seen.offer, 'permessage-deflate; client_max_window_bits');
      assert.equal(seen.answer, 'permessage-deflate; client_max_window_bits=12');
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
      const rowStart = SIZES.length * 2;
      assertTakeover(toServer.slice(rowStart), true, 'python');
      assertTakeover(toClient.slice(rowStart), true, 'wsnet');
      // Both 4 KiB histories (wsnet's 12-bit window, client_max_window_bits=12) are full.
      assert.equal(memory, 2 * 4096);
    });
  }

  it('a wsnet server that wants no context takeover either way: python agrees, and both compress each message alone', async () => {
    const target = await serve({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    const { seen, toServer, toClient, memory } = await exchange(target, [1024], 5, 'for await');
    assert.equal(seen.offer, 'permessage-deflate; client_max_window_bits');
    assert.equal(
      seen.answer,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12',
    );
    assertTakeover(toServer.slice(2), false, 'python');
    assertTakeover(toClient.slice(2), false, 'wsnet');
    assert.equal(memory, 0);
  });
});
