// Issue 11 §1, the peer-failure suite: frames that broke other WebSocket servers, fed to both
// servers of wsnet (the message API's WebSocketServer and the POCO facade's HTTPServer with
// WebSocket(request, response)). Advisories covered here:
//   ws CVE-2016-10542 (an oversized payload), gorilla CVE-2020-27813 and undici CVE-2026-1528
//   (64-bit lengths, length overflow), ws CVE-2026-48779 and undici CVE-2026-12151 (a flood of
//   tiny fragments, fragment count), ws CVE-2026-62389 and undici CVE-2026-9675 (incomplete
//   fragmented messages, empty fragments not counted, cumulative fragment size), poco#5472 (a
//   partial frame header, then EOF), socket.io/engine.io CVE-2024-38355 & co. (crafted frames →
//   uncaught exception), and issue 11's ping floods, pong floods and slow reader.
// Memory is measured in a child process (test/fixtures/limits-peer.ts, RSS after gc()); each
// flood is bounded in bytes and time, and a good client is served while it runs.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { MiB, pump } from '../helpers/fixture-child.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  SERVER_KINDS,
  SERVER_NAMES,
  assertServes,
  clientFrame,
  closeCodeOf,
  growthUnder,
  startTarget,
  type ServerKind,
  type ServerUnderTest,
} from '../helpers/security-server.js';
import { FIN, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT } from '../helpers/wire.js';

const running: ServerUnderTest[] = [];
after(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

async function target(kind: ServerKind): Promise<ServerUnderTest> {
  const server = await startTarget(kind);
  running.push(server);
  return server;
}

/** A masked frame header announcing `length` (64-bit form) and no payload after it. */
function header64(flags: number, length: bigint): Buffer {
  const head = Buffer.alloc(14);
  head[0] = flags;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(length, 2);
  head.set([1, 2, 3, 4], 10);
  return head;
}

/** `count` copies of `frame`, back to back. */
function repeated(frame: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** What the server did with an attacker's connection: its close code, or POCO's exception code. */
async function outcome(server: ServerUnderTest, client: RawClient): Promise<string> {
  if (server.kind === 'messages') return `close ${await closeCodeOf(client)}`;
  const end = await server.nextEnd(10_000);
  return end === null ? 'handler ended normally' : `${end.className} ${end.code}`;
}

/** The server a memory test runs in its child: which limits-peer mode. */
const ECHO_MODE: Record<ServerKind, string> = {
  messages: 'echo-server',
  poco: 'poco-echo-server',
};

/** Attack bytes go out while a good client is served; RSS growth must stay under this. */
const FLOOD_MARGIN = 64 * MiB;

for (const kind of SERVER_KINDS) {
  describe(`peer failures, frames: ${SERVER_NAMES[kind]}`, () => {
    it('CVE-2016-10542 (ws): a frame announcing 2 GiB - 1 is refused on its header (1009 / WS_ERR_PAYLOAD_TOO_BIG), none of it read', async () => {
      const server = await target(kind);
      const { client } = await RawClient.open(server.port);
      client.write(header64(FIN | OP_BINARY, 2n ** 31n - 1n));
      const got = await outcome(server, client);
      client.destroy();
      // The message API's default maxMessageSize is 64 MiB; the facade's, the receive buffer.
      assert.equal(got, kind === 'messages' ? 'close 1009' : 'WebSocketException 10');
      await assertServes(server.port);
    });

    for (const [name, length] of [
      ['2^63 (the top bit set)', 2n ** 63n],
      ['2^64 - 1', 2n ** 64n - 1n],
      ['2^53 + 1 (past a double)', 2n ** 53n + 1n],
    ] as const) {
      it(`CVE-2020-27813 (gorilla) / CVE-2026-1528 (undici): a 64-bit length of ${name} is refused, no overflow`, async () => {
        const server = await target(kind);
        const { client } = await RawClient.open(server.port);
        client.write(header64(FIN | OP_BINARY, length));
        const got = await outcome(server, client);
        client.destroy();
        const topBit = length >= 2n ** 63n;
        // §5.2: the most significant bit MUST be 0 (1002); otherwise too big (1009).
        if (kind === 'messages') assert.equal(got, topBit ? 'close 1002' : 'close 1009');
        else assert.equal(got, 'WebSocketException 10');
        await assertServes(server.port);
      });
    }

    it('poco#5472 (POCO): a partial frame header and then EOF ends that connection (WS_ERR_INCOMPLETE_FRAME), no spin', async () => {
      const server = await target(kind);
      for (const partial of [
        [0x82],
        [0x82, 0xfe, 0x01],
        [0x82, 0xff, 0, 0, 0, 0],
        [0x82, 0x85, 1, 2],
      ]) {
        const { client } = await RawClient.open(server.port);
        client.write(Buffer.from(partial));
        client.end();
        if (kind === 'poco') assert.equal(await outcome(server, client), 'WebSocketException 11');
        await client.closed(10_000);
        client.destroy();
      }
      await assertServes(server.port);
    });

    it('CVE-2024-38355 & co. (socket.io/engine.io): crafted frames end only their connection, with the RFC 6455 close code', async () => {
      const server = await target(kind);
      const crafted: Array<[string, Buffer]> = [
        ['reserved opcode 3', clientFrame(FIN | 0x3, 'x')],
        ['RSV1 without an extension', clientFrame(FIN | 0x40 | OP_TEXT, 'x')],
        ['an unmasked frame', Buffer.from([FIN | OP_TEXT, 1, 0x78])],
        ['a 126-byte ping', clientFrame(FIN | OP_PING, Buffer.alloc(126))],
        ['a fragmented ping', clientFrame(OP_PING, 'x')],
        ['a continuation with no message', clientFrame(FIN | OP_CONT, 'x')],
        ['text that is not UTF-8', clientFrame(FIN | OP_TEXT, Buffer.from([0xc3, 0x28]))],
        ['a 1-byte close payload', clientFrame(FIN | OP_CLOSE, Buffer.from([3]))],
        ['close code 999', clientFrame(FIN | OP_CLOSE, Buffer.from([0x03, 0xe7]))],
        ['a close reason not UTF-8', clientFrame(FIN | OP_CLOSE, Buffer.from([3, 0xe8, 0xff]))],
      ];
      const outcomes: Record<string, string> = {};
      for (const [name, bytes] of crafted) {
        const { client } = await RawClient.open(server.port);
        client.write(bytes);
        // The facade hands frames over as they came: a close behind it ends the echo loop.
        if (kind === 'poco') client.write(clientFrame(FIN | OP_CLOSE, Buffer.from([3, 0xe8])));
        outcomes[name] = await outcome(server, client);
        client.destroy();
      }
      assert.deepEqual(outcomes, EXPECTED_CRAFTED[kind]);
      await assertServes(server.port);
    });

    it('CVE-2026-48779 (ws) / CVE-2026-12151 (undici): 1,000,000 one-byte fragments cost their bytes, not an object each (RSS growth < 64 MiB)', async () => {
      // A list of fragments costs ~100 bytes of bookkeeping per fragment: ~100 MB here.
      const mode = kind === 'messages' ? 'echo-server' : 'poco-idle-server';
      const growth = await growthUnder(mode, [], async (port) => {
        const { client } = await RawClient.open(port);
        client.write(clientFrame(OP_BINARY, 'a'));
        const sent = await pump(client.socket, repeated(clientFrame(OP_CONT, 'b'), 100_000), {
          maxBytes: 7_000_000,
          timeMs: 4000,
          stallMs: 1500,
        });
        if (kind === 'messages') await assertServes(port, 'while the message is incomplete');
        else await RawClient.open(port).then(({ client: good }) => good.destroy());
        client.destroy();
        return `${sent.bytes} bytes of fragments (stopped: ${sent.stopped})`;
      });
      assert.ok(growth.rss < FLOOD_MARGIN, growth.text);
    });

    it('CVE-2026-62389 (ws) / CVE-2026-9675 (undici): 1,000,000 empty fragments of a message never finished cost nothing (RSS growth < 64 MiB)', async () => {
      const mode = kind === 'messages' ? 'echo-server' : 'poco-idle-server';
      const growth = await growthUnder(mode, [], async (port) => {
        const { client } = await RawClient.open(port);
        client.write(clientFrame(OP_BINARY, Buffer.alloc(64 * 1024)));
        const sent = await pump(client.socket, repeated(clientFrame(OP_CONT), 100_000), {
          maxBytes: 6_000_000,
          timeMs: 4000,
          stallMs: 1500,
        });
        if (kind === 'messages') await assertServes(port, 'while the message is incomplete');
        else await RawClient.open(port).then(({ client: good }) => good.destroy());
        client.destroy();
        return `${sent.bytes} bytes of empty fragments (stopped: ${sent.stopped})`;
      });
      assert.ok(growth.rss < FLOOD_MARGIN, growth.text);
    });

    for (const [flood, opcode] of [
      ['ping', OP_PING],
      ['pong', OP_PONG],
    ] as const) {
      it(`${flood} flood (issue 11): 125-byte ${flood}s from a client that never reads: RSS growth < 64 MiB, others served`, async () => {
        const growth = await growthUnder(ECHO_MODE[kind], [], async (port) => {
          const { client } = await RawClient.open(port);
          const flooding = pump(
            client.socket,
            repeated(clientFrame(FIN | opcode, Buffer.alloc(125, 0x70)), 8000),
            {
              maxBytes: 512 * MiB,
              timeMs: 2500,
              stallMs: 1500,
            },
          );
          await assertServes(port, `during the ${flood} flood`);
          const sent = await flooding;
          client.destroy();
          return `${(sent.bytes / MiB).toFixed(0)} MiB of ${flood}s (stopped: ${sent.stopped})`;
        });
        assert.ok(growth.rss < FLOOD_MARGIN, growth.text);
      });
    }

    it('slow reader (issue 11): a client that sends and never reads the echoes: RSS growth < 64 MiB, others served', async () => {
      // The echo waits for the socket; the message API's inbox (1 MiB) and send queue (16 MiB),
      // the facade's receive buffer, hold the rest back through TCP.
      const size = kind === 'messages' ? 64 * 1024 : 1000; // the POCO echo's buffer is 1 KiB
      const growth = await growthUnder(ECHO_MODE[kind], [], async (port) => {
        const { client } = await RawClient.open(port);
        const flooding = pump(
          client.socket,
          clientFrame(FIN | OP_BINARY, Buffer.alloc(size, 0x61)),
          {
            maxBytes: 1024 * MiB,
            timeMs: 2500,
            stallMs: 1500,
          },
        );
        await assertServes(port, 'during the slow reader');
        const sent = await flooding;
        client.destroy();
        return `${(sent.bytes / MiB).toFixed(0)} MiB sent (stopped: ${sent.stopped})`;
      });
      assert.ok(growth.rss < FLOOD_MARGIN, growth.text);
    });
  });
}

/**
 * The message API fails the connection with RFC 6455's code (§7.4.1); the facade reports frames
 * as they came, as POCO does (the application validates): only what it must refuse is refused.
 */
const EXPECTED_CRAFTED: Record<ServerKind, Record<string, string>> = {
  messages: {
    'reserved opcode 3': 'close 1002',
    'RSV1 without an extension': 'close 1002',
    'an unmasked frame': 'close 1002',
    'a 126-byte ping': 'close 1002',
    'a fragmented ping': 'close 1002',
    'a continuation with no message': 'close 1002',
    'text that is not UTF-8': 'close 1007',
    'a 1-byte close payload': 'close 1002',
    'close code 999': 'close 1002',
    'a close reason not UTF-8': 'close 1007',
  },
  // Each frame reached the handler and was echoed; the close behind it ended the loop.
  poco: {},
};
EXPECTED_CRAFTED.poco = Object.fromEntries(
  Object.keys(EXPECTED_CRAFTED.messages).map((name) => [name, 'handler ended normally']),
);
