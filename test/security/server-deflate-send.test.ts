// Issue 11 §1, the peer-failure suite: permessage-deflate inputs and server-side send APIs.
// Advisories covered here:
//   python-websockets CVE-2018-1000518 and undici CVE-2026-1526 (a decompression bomb, memory
//   measured), undici CVE-2026-85024 (malformed DEFLATE after the size limit), undici
//   CVE-2026-2229 (a bad server_max_window_bits: here the server's side, an offer with one),
//   ws CVE-2016-10518 (ping(number) sending uninitialised memory: the server's ping() and
//   POCO's sendFrame), ws CVE-2026-45736 (close() with a TypedArray reason).
// The POCO facade never negotiates an extension (README "Deviations from POCO"), so the
// deflate rows apply to the message API's server only.
// Not applicable to a server: gorilla GHSA-w67g-5rqw-f597 (weak mask PRNG): servers send
// unmasked frames (RFC 6455 §5.1); the clients' suite covers it.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { WebSocketServer, type WebSocketConnection } from '../../src/messages/index.js';
import { WebSocket } from '../../src/poco/index.js';
import { MiB } from '../helpers/fixture-child.js';
import { startServer } from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  answerTo,
  assertServes,
  clientFrame,
  closeCodeOf,
  growthUnder,
  handshakeWith,
  startTarget,
  type ServerUnderTest,
} from '../helpers/security-server.js';
import { FIN, OP_BINARY, OP_CLOSE, readFrame } from '../helpers/wire.js';

const RSV1 = 0x40;
const DEFLATE: Array<[string, string]> = [['Sec-WebSocket-Extensions', 'permessage-deflate']];

const running: Array<{ stop: () => Promise<void> }> = [];
after(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

/** `mib` MiB of zeros as a permessage-deflate payload (sync-flushed, trailer removed, §7.2.1). */
function zerosBomb(mib: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(MiB), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const bomb = Buffer.concat(Array.from({ length: mib }, () => block));
  return bomb.subarray(0, bomb.length - 4);
}

describe('peer failures, permessage-deflate: message API WebSocketServer', () => {
  async function deflateServer(): Promise<ServerUnderTest> {
    const server = await startTarget('messages', { perMessageDeflate: true, maxMessageSize: MiB });
    running.push(server);
    return server;
  }

  it('CVE-2018-1000518 (python-websockets) / CVE-2026-1526 (undici): 256 MiB of zeros in 256 KiB gets 1009; peak RSS grows < 2 × maxMessageSize + 16 MiB', async () => {
    const limit = 8 * MiB;
    const growth = await growthUnder('deflate-echo-server', [String(limit)], async (port) => {
      const { client, head } = await RawClient.open(port, '/ws', { headers: DEFLATE });
      assert.match(head.raw, /permessage-deflate/);
      const bomb = zerosBomb(256);
      client.write(clientFrame(FIN | RSV1 | OP_BINARY, bomb));
      const code = await closeCodeOf(client, 20_000);
      client.destroy();
      assert.equal(code, 1009);
      await assertServes(port);
      return `a ${(bomb.length / 1024).toFixed(0)} KiB bomb`;
    });
    assert.ok(growth.peak < 2 * limit + 16 * MiB, growth.text);
  });

  it('CVE-2026-85024 (undici): malformed DEFLATE behind data that already passed the limit is 1009, not an unhandled zlib error', async () => {
    const server = await deflateServer();
    const { client } = await RawClient.open(server.port, '/ws', { headers: DEFLATE });
    const garbage = Buffer.alloc(64, 0xff); // a reserved block type (BTYPE 11): invalid DEFLATE
    client.write(clientFrame(FIN | RSV1 | OP_BINARY, Buffer.concat([zerosBomb(4), garbage])));
    assert.equal(await closeCodeOf(client), 1009);
    client.destroy();
    // Malformed DEFLATE within the limit is 1007 (invalid data).
    const second = await RawClient.open(server.port, '/ws', { headers: DEFLATE });
    second.client.write(clientFrame(FIN | RSV1 | OP_BINARY, garbage));
    assert.equal(await closeCodeOf(second.client), 1007);
    second.client.destroy();
    await assertServes(server.port);
  });

  it('CVE-2026-2229 (undici): an offer with server_max_window_bits=99 (or 0, or 15.5) is declined: 101 without the extension (no value: 400)', async () => {
    const server = await deflateServer();
    // A parameter with no value where one is required is a malformed header: 400.
    for (const [bits, status] of [
      ['99', 101],
      ['0', 101],
      ['15.5', 101],
      ['', 400],
    ] as const) {
      const offer = `permessage-deflate; server_max_window_bits=${bits}`;
      const { client, head } = await answerTo(
        server.port,
        handshakeWith(server.port, [['Sec-WebSocket-Extensions', offer]]),
      );
      client.destroy();
      assert.deepEqual(
        [head.status, /sec-websocket-extensions/i.test(head.raw)],
        [status, false],
        `${offer}: ${head.statusLine}`,
      );
    }
    await assertServes(server.port);
  });
});

describe('peer failures, server-side send APIs', () => {
  /** A message-API server whose handler runs `act` on the first connection. */
  async function withHandler(
    act: (connection: WebSocketConnection) => Promise<unknown>,
  ): Promise<{ client: RawClient; result: Promise<unknown> }> {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', closeTimeout: 500 });
    running.push({ stop: () => server.close() });
    let settle!: (value: unknown) => void;
    const result = new Promise((resolve) => (settle = resolve));
    server.on('connection', (connection) => {
      act(connection).then(
        (value) => settle({ value }),
        (error: unknown) => settle({ error: (error as Error).constructor.name }),
      );
    });
    const { client } = await RawClient.open(server.address().port);
    return { client, result };
  }

  it('CVE-2016-10518 (ws): the message API server’s ping(42) is refused with TypeError; nothing is sent', async () => {
    const { client, result } = await withHandler(async (connection) => {
      const outcome = await connection.ping(42 as unknown as string).then(
        () => 'sent',
        (error: unknown) => (error as Error).constructor.name,
      );
      void connection.close(1000, outcome);
      return outcome;
    });
    assert.deepEqual(await result, { value: 'TypeError' });
    // The next frame is the close: no ping went out.
    const next = await readFrame(client, 10_000);
    assert.equal(next.flags & 0x0f, OP_CLOSE);
    client.destroy();
  });

  it('CVE-2016-10518 (ws): POCO sendFrame(42, 42, PING) on the server side throws; nothing is sent', async () => {
    let settle!: (value: string) => void;
    const result = new Promise<string>((resolve) => (settle = resolve));
    const server = await startServer({
      createRequestHandler: () => ({
        async handleRequest(request, response) {
          const ws = new WebSocket(request, response);
          try {
            await ws.sendFrame(42 as unknown as Uint8Array, 42, WebSocket.FRAME_FLAG_FIN | 0x9);
            settle('sent');
          } catch (error) {
            settle((error as Error).constructor.name);
          }
          await ws.shutdown(1000);
        },
      }),
    });
    running.push({ stop: () => Promise.resolve(server.stop()) });
    const { client } = await RawClient.open(server.port);
    assert.notEqual(await result, 'sent');
    const next = await readFrame(client, 10_000);
    assert.equal(next.flags & 0x0f, OP_CLOSE, 'the first frame is the close: no ping');
    client.destroy();
  });

  it('CVE-2026-45736 (ws): close(1000, a Uint16Array reason) on the message API server is refused with InvalidArgumentError; nothing is sent', async () => {
    const reason = Uint16Array.of(0x4142, 0x4344); // 4 bytes of a typed array, not a string
    const { client, result } = await withHandler(async (connection) => {
      const outcome = await connection.close(1000, reason as unknown as string).then(
        () => 'sent',
        (error: unknown) => (error as Error).constructor.name,
      );
      void connection.close(1000, outcome);
      return outcome;
    });
    assert.deepEqual(await result, { value: 'InvalidArgumentError' });
    // The only close frame is the one after the refusal, with its own reason.
    const frame = await readFrame(client, 10_000);
    assert.equal(frame.flags & 0x0f, OP_CLOSE);
    assert.equal(frame.payload.subarray(2).toString(), 'InvalidArgumentError');
    client.destroy();
  });
});
