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
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  connect,
  type ConnectOptions,
  type PerMessageDeflateOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { randomLetters, windowPayloads } from '../helpers/compressible.js';
import { assertShrunk, assertTakeover, assertWindow, assertWire } from '../helpers/deflate-wire.js';
import { startFrameTap, type FrameTap, type TappedConnection } from '../helpers/frame-tap.js';
import { tearDown, within } from '../helpers/interop.js';
import { echoUntilClosed, FORMS, sendAndCheckEchoes, type Form } from '../helpers/message-echo.js';
import { echoServerPort, PYTHON_ECHO_SERVER, spawnPython } from '../helpers/python-websockets.js';
import { TappedServers, type TappedServer } from '../helpers/tapped-servers.js';

const SIZES = [0, 1, 1024, 64 * 1024, 1 << 20];
/** The rows repeat 1500 letters (and a suffix), about 790 bytes compressed alone. */
const ROW = { firstOver: 700 };

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
  const child = spawnPython(script, args);
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

describe('interop, permessage-deflate: wsnet connect() → python-websockets server', () => {
  let tap: FrameTap | undefined;
  const connections: WebSocketConnection[] = [];

  before(async () => {
    tap = await startFrameTap(await echoServerPort(python(PYTHON_ECHO_SERVER)));
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
    return { connection, wire: tap!.connections[index] };
  }

  async function closeCleanly(connection: WebSocketConnection) {
    const status = await within(connection.close(), 10_000, 'close');
    assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
  }

  const extensionsHeader = (head: string) => /^sec-websocket-extensions: (.*)$/im.exec(head)?.[1];

  /** wsnet's offer and python's answer on the wire; wsnet took the answer as its extensions. */
  function assertNegotiated(
    connection: WebSocketConnection,
    wire: TappedConnection,
    offer: string,
    answer: string,
  ) {
    assert.equal(extensionsHeader(wire.toServer.head), offer);
    assert.equal(extensionsHeader(wire.toClient.head), answer);
    assert.equal(connection.extensions, answer);
  }

  for (const form of FORMS) {
    it(`text and binary of ${SIZES.join(', ')} bytes are echoed, compressed both ways (wsnet: ${form})`, async () => {
      const { connection, wire } = await open();
      assertNegotiated(
        connection,
        wire,
        'permessage-deflate; client_max_window_bits',
        'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
      );
      const payloads = SIZES.flatMap((size) => [text(size, size), binary(size, size + 1)]);
      await sendAndCheckEchoes(connection, payloads, form, 'one at a time');
      const toServer = wire.toServer.messages();
      const toClient = wire.toClient.messages();
      assertWire(toServer, payloads, 'from threshold');
      // python-websockets compresses every message, empty ones included.
      assertWire(toClient, payloads, 'all');
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      await closeCleanly(connection);
    });
  }

  it('50 messages in a row: with context takeover, after the first each takes a few bytes both ways', async () => {
    const { connection, wire } = await open();
    const payload = randomLetters(1500, 0x50) + SUFFIX;
    const payloads = Array.from({ length: 50 }, () => payload);
    await sendAndCheckEchoes(connection, payloads, 'for await', 'all at once');
    assertTakeover(wire.toServer.messages(), true, 'wsnet', ROW);
    assertTakeover(wire.toClient.messages(), true, 'python', ROW);
    await closeCleanly(connection);
  });

  it('wsnet asks for no context takeover both ways: python agrees, and both compress each message alone', async () => {
    const { connection, wire } = await open({
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    assertNegotiated(
      connection,
      wire,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12',
    );
    const payload = randomLetters(1500, 0x51) + SUFFIX;
    const payloads = Array.from({ length: 5 }, () => payload);
    await sendAndCheckEchoes(connection, payloads, 'events', 'all at once');
    assertTakeover(wire.toServer.messages(), false, 'wsnet', ROW);
    assertTakeover(wire.toClient.messages(), false, 'python', ROW);
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
      const payloads = windowPayloads(0xb00);
      await sendAndCheckEchoes(connection, payloads, 'for await', 'all at once');
      assertWindow(wire.toServer.messages(), payloads, windows.wsnet, 'wsnet');
      assertWindow(wire.toClient.messages(), payloads, windows.python, 'python');
      await closeCleanly(connection);
    });
  }
});

describe('interop, permessage-deflate: python-websockets client → wsnet message server', () => {
  const servers = new TappedServers();
  let compressing: TappedServer;

  before(async () => {
    compressing = await servers.start(true);
  });

  after(() => tearDown(servers.closing()));

  /**
   * Runs the python client against `target`, whose connection echoes every message (taking
   * them in `form`); checks what both ends saw and returns it with the wire's messages.
   */
  async function exchange(target: TappedServer, sizes: readonly number[], row: number, form: Form) {
    const index = target.tap.connections.length;
    const payloads = clientPayloads(sizes, row);
    const [seen, onServer] = await Promise.all([
      runClient({ url: target.tap.url, sizes, row }),
      echoUntilClosed(target.connections, payloads, form),
    ]);
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
    assert.equal(onServer.request.headers['sec-websocket-extensions'], seen.offer);
    assert.equal(onServer.connection.extensions, seen.answer);
    const wire = target.tap.connections[index];
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
      assertWire(toServer, payloads, 'all');
      assertWire(toClient, payloads, 'from threshold');
      assertShrunk(toServer, payloads);
      assertShrunk(toClient, payloads);
      const rowStart = SIZES.length * 2;
      assertTakeover(toServer.slice(rowStart), true, 'python', ROW);
      assertTakeover(toClient.slice(rowStart), true, 'wsnet', ROW);
      // Both 4 KiB histories (wsnet's 12-bit window, client_max_window_bits=12) are full.
      assert.equal(memory, 2 * 4096);
    });
  }

  it('a wsnet server that wants no context takeover either way: python agrees, and both compress each message alone', async () => {
    const target = await servers.start({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
    });
    const { seen, toServer, toClient, memory } = await exchange(target, [1024], 5, 'for await');
    assert.equal(seen.offer, 'permessage-deflate; client_max_window_bits');
    assert.equal(
      seen.answer,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12',
    );
    assertTakeover(toServer.slice(2), false, 'python', ROW);
    assertTakeover(toClient.slice(2), false, 'wsnet', ROW);
    assert.equal(memory, 0);
  });
});
