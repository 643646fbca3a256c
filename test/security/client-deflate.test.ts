// Peer-failure suite, clients, permessage-deflate (RFC 7692): a hostile server attacks the message
// API's connect() client, which offers compression by default, with the inputs that broke undici
// and python websockets (../shared/reference/peer-failures.md). Memory is measured in a child
// process (test/fixtures/limits-peer.ts, mode deflate-client) with the margin stated.
//
// Covers: CVE-2026-1526 (undici, decompression bomb), CVE-2026-2229 (undici, bad
// server_max_window_bits), CVE-2026-9675 (undici, cumulative size of compressed fragments),
// CVE-2026-85024 (undici, malformed DEFLATE after the size limit → unhandled zlib error),
// CVE-2018-1000518 (python websockets, decompression without max_size).
// Not applicable to POCO's client: POCO's WebSocket has no permessage-deflate (it offers no
// extension and never inflates), so none of these inputs reach an inflater there.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { connect, type WebSocketConnection } from '../../src/messages/index.js';
import { FixtureChild, MiB, mb } from '../helpers/fixture-child.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startScriptedServer } from '../helpers/scripted-server.js';
import { EscapeWatch, messageOutcome, switching } from '../helpers/security-client.js';
import { FIN, OP_BINARY, OP_CLOSE, OP_CONT, encode } from '../helpers/wire.js';

const RSV1 = 0x40;

const watch = new EscapeWatch();
let server: FrameServer;
before(async () => {
  watch.install();
  server = await startFrameServer({ extensions: 'permessage-deflate' });
});
after(async () => {
  watch.uninstall();
  await server.stop();
});

/** `bytes` zeros deflated (raw, sync-flushed, the trailing 00 00 ff ff removed: RFC 7692 §7.2.1). */
function deflatedZeros(bytes: number): Buffer {
  const chunk = zlib.deflateRawSync(Buffer.alloc(Math.min(bytes, 64 * MiB)), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const copies = Math.ceil(bytes / (64 * MiB));
  const all = Buffer.concat(Array.from({ length: copies }, () => chunk));
  return all.subarray(0, all.length - 4);
}

/** 1 GiB of zeros in about 1 MiB. */
const BOMB = deflatedZeros(1024 * MiB);

async function messageClient(
  options: Parameters<typeof connect>[1] = {},
): Promise<{ client: WebSocketConnection; peer: RawClient }> {
  const client = await connect(server.url, options);
  client.on('error', () => undefined);
  client.on('message', () => undefined);
  return { client, peer: await server.next() };
}

async function closeCodeFrom(peer: RawClient): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const frame = await peer.readFrame(20_000);
    if ((frame.flags & 0x0f) === OP_CLOSE) return frame.payload.readUInt16BE(0);
  }
  throw new Error('no close frame in 1000 frames');
}

/** A compressed binary frame (RSV1), unmasked as a server's. */
function compressed(payload: Buffer, fin = true, opcode = OP_BINARY): Buffer {
  return encode(
    { flags: (fin ? FIN : 0) | (opcode === OP_CONT ? 0 : RSV1) | opcode, payload },
    false,
  );
}

describe('decompression', () => {
  it('CVE-2026-1526 (undici): 1 GiB of zeros in ~1 MiB gets 1009; the client peak RSS grows < 2 × maxMessageSize (16 MiB)', async () => {
    const LIMIT = 16 * MiB;
    const client = await FixtureChild.start('limits-peer', [
      'deflate-client',
      server.url,
      String(LIMIT),
    ]);
    try {
      assert.equal(client.ready.extensions, 'permessage-deflate');
      const peer = await server.next();
      const before = await client.memory();
      peer.write(compressed(BOMB));
      assert.equal(await closeCodeFrom(peer), 1009);
      peer.destroy();
      assert.equal((await client.next('closed', 15_000)).code, 1009);
      const after = await client.memory(15_000);
      const growth = after.peakRss - before.rss;
      assert.ok(growth < 2 * LIMIT, `peak RSS grew by ${mb(growth)}`);
    } finally {
      client.kill();
    }
  });

  it('CVE-2018-1000518 (python websockets): with no options at all, the default maxMessageSize (64 MiB) bounds the inflated size: 1009', async () => {
    const { client, peer } = await messageClient();
    assert.equal(client.extensions, 'permessage-deflate', 'compression is offered by default');
    peer.write(compressed(BOMB));
    assert.equal(await closeCodeFrom(peer), 1009);
    peer.destroy();
    assert.equal((await client.closed).code, 1009);
    await watch.assertNone();
  });

  it('CVE-2026-9675 (undici): compressed fragments each under maxMessageSize, together over it, get 1009', async () => {
    const { client, peer } = await messageClient({ maxMessageSize: 64 * 1024 });
    // One compressed message of 256 KiB of zeros, split into 8 fragments on the wire: each
    // fragment inflates to less than the limit, the message to 4 times it.
    const body = deflatedZeros(256 * 1024);
    const step = Math.ceil(body.length / 8);
    for (let at = 0, i = 0; at < body.length; at += step, i++) {
      const last = at + step >= body.length;
      peer.write(compressed(body.subarray(at, at + step), last, i === 0 ? OP_BINARY : OP_CONT));
    }
    assert.equal(await closeCodeFrom(peer), 1009);
    peer.destroy();
    assert.equal((await client.closed).code, 1009);
    await watch.assertNone();
  });

  it('CVE-2026-85024 (undici): malformed DEFLATE right after the size limit is passed gets 1009, no zlib error escapes', async () => {
    const { client, peer } = await messageClient({ maxMessageSize: 64 * 1024 });
    const garbage = Buffer.alloc(4096, 0xff); // an invalid block type, over and over
    peer.write(compressed(Buffer.concat([deflatedZeros(1 * MiB), garbage])));
    peer.write(compressed(garbage)); // and a whole malformed message after it
    assert.equal(await closeCodeFrom(peer), 1009);
    peer.destroy();
    assert.equal((await client.closed).code, 1009);
    await watch.assertNone();
  });

  it('CVE-2026-85024 (undici): malformed DEFLATE alone fails the connection with a close code, no zlib error escapes', async () => {
    const { client, peer } = await messageClient();
    peer.write(compressed(Buffer.alloc(64, 0xff)));
    const code = await closeCodeFrom(peer);
    assert.ok([1002, 1007].includes(code), `close code ${code}`);
    peer.destroy();
    assert.equal((await client.closed).code, code);
    await watch.assertNone();
  });
});

describe('negotiation', () => {
  const hostile = [
    'server_max_window_bits=7',
    'server_max_window_bits=16',
    'server_max_window_bits=0',
    'server_max_window_bits=-1',
    'server_max_window_bits=99999999999999999999',
    'server_max_window_bits=abc',
    'server_max_window_bits=',
    'server_max_window_bits="1"0',
    'server_max_window_bits=10; server_max_window_bits=10',
    'server_max_window_bits=0x0f',
  ];
  it(`CVE-2026-2229 (undici): a 101 with a bad server_max_window_bits is refused with HandshakeError (${hostile.length} values)`, async () => {
    for (const parameter of hostile) {
      const scripted = await startScriptedServer((request) =>
        switching(request, `Sec-WebSocket-Extensions: permessage-deflate; ${parameter}\r\n`),
      );
      try {
        const outcome = await messageOutcome(`ws://127.0.0.1:${scripted.port}/`, {
          handshakeTimeout: 5000,
        });
        assert.equal(outcome.name, 'HandshakeError', `${parameter}: ${outcome.message}`);
      } finally {
        scripted.stop();
      }
    }
    await watch.assertNone();
  });
});
