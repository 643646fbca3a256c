// Issue 9: decompression bombs against the message API's server and client, measured in a child
// process (test/fixtures/limits-peer.ts): a message of ~1 MiB on the wire that inflates to 1 GiB
// of zeros must get 1009 while the process's peak RSS grows by less than 2 × maxMessageSize.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { FixtureChild, MiB, mb } from '../helpers/fixture-child.js';
import { startFrameServer } from '../helpers/frame-server.js';
import { RawClient } from '../helpers/raw-client.js';

const FIN = 0x80;
const RSV1 = 0x40;
const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;

const MAX_MESSAGE = 16 * MiB;

/**
 * 1 GiB of zeros as a permessage-deflate payload of about 1 MiB: 64 MiB of zeros sync-flushed
 * by zlib (blocks that end byte-aligned, none final) chain into one valid stream when repeated,
 * since every back-reference points at zeros either way. The message's trailing 00 00 ff ff is
 * removed (RFC 7692 §7.2.1).
 */
function gigabyteOfZeros(): Buffer {
  const chunk = zlib.deflateRawSync(Buffer.alloc(64 * MiB), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const bomb = Buffer.concat(Array.from({ length: 16 }, () => chunk));
  return bomb.subarray(0, bomb.length - 4);
}

const BOMB = gigabyteOfZeros();

/** Reads frames until a close frame; returns its code. */
async function closeCode(peer: RawClient): Promise<number> {
  for (;;) {
    const frame = await peer.readFrame(20_000);
    if ((frame.flags & 0x0f) === CLOSE) return frame.payload.readUInt16BE(0);
  }
}

describe('decompression bombs (RFC 7692 §8.1)', () => {
  it('the bomb is about 1 MiB on the wire', () => {
    assert.ok(BOMB.length < 1.1 * MiB && BOMB.length > 0.9 * MiB, `${BOMB.length} bytes`);
  });

  for (const shape of ['one frame', 'fragments of 1 KiB'] as const) {
    it(`server: 1 GiB of zeros in ${shape} gets 1009; peak RSS grows < 2 × maxMessageSize; others are served`, async () => {
      const server = await FixtureChild.start('limits-peer', [
        'deflate-echo-server',
        String(MAX_MESSAGE),
      ]);
      try {
        const { client: good } = await RawClient.open(server.port, '/', {
          headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
        });
        const before = await server.memory();
        const { client: attacker, head } = await RawClient.open(server.port, '/', {
          headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
        });
        assert.match(
          head.headers.find(([name]) => name.toLowerCase() === 'sec-websocket-extensions')?.[1] ??
            '',
          /^permessage-deflate/,
        );
        if (shape === 'one frame') {
          attacker.sendFrame(FIN | RSV1 | BINARY, BOMB);
        } else {
          const size = 1024;
          attacker.sendFrame(RSV1 | BINARY, BOMB.subarray(0, size));
          for (let at = size; at < BOMB.length; at += size)
            attacker.sendFrame(
              (at + size >= BOMB.length ? FIN : 0) | CONT,
              BOMB.subarray(at, at + size),
            );
        }
        assert.equal(await closeCode(attacker), 1009);
        attacker.destroy();
        const after = await server.memory(15_000);
        const growth = after.peakRss - before.rss;
        assert.ok(
          growth < 2 * MAX_MESSAGE,
          `peak RSS grew by ${mb(growth)} (RSS ${mb(before.rss)} before, peak ${mb(after.peakRss)})`,
        );
        // The other connection was not disturbed.
        good.sendFrame(FIN | TEXT, 'still there?');
        const echo = await good.readFrame(5000);
        assert.equal(echo.payload.toString(), 'still there?');
        good.destroy();
      } finally {
        server.kill();
      }
    });
  }

  it('client: a server that sends the bomb gets 1009; the client peak RSS grows < 2 × maxMessageSize', async () => {
    const frameServer = await startFrameServer({ extensions: 'permessage-deflate' });
    const client = await FixtureChild.start('limits-peer', [
      'deflate-client',
      frameServer.url,
      String(MAX_MESSAGE),
    ]);
    try {
      assert.equal(client.ready.extensions, 'permessage-deflate');
      const peer = await frameServer.next();
      const before = await client.memory();
      peer.sendFrame(FIN | RSV1 | BINARY, BOMB, false);
      assert.equal(await closeCode(peer), 1009);
      peer.sendFrame(FIN | CLOSE, Buffer.from([0x03, 0xf1]), false); // the close reply
      peer.end(); // the server closes TCP first (RFC 6455 §7.1.1)
      const closed = await client.next('closed', 15_000);
      assert.equal(closed.code, 1009);
      const after = await client.memory(15_000);
      const growth = after.peakRss - before.rss;
      assert.ok(
        growth < 2 * MAX_MESSAGE,
        `peak RSS grew by ${mb(growth)} (RSS ${mb(before.rss)} before, peak ${mb(after.peakRss)})`,
      );
    } finally {
      client.kill();
      await frameServer.stop();
    }
  });
});
