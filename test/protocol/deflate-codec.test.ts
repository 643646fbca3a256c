// The permessage-deflate codec against RFC 7692 §7.2.3's byte-exact examples, and against a
// streaming inflater: what it sends must be a valid continuation of one DEFLATE stream.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { PerMessageDeflate } from '../../src/protocol/deflate/codec.js';
import type { DeflateAgreement, WindowBits } from '../../src/protocol/deflate/negotiation.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';

function agreement(overrides: Partial<DeflateAgreement> = {}): DeflateAgreement {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    response: { name: 'permessage-deflate', params: [] },
    ...overrides,
  };
}

const hex = (text: string) => Buffer.from(text.replace(/ /g, ''), 'hex');
const HELLO = Buffer.from('Hello');

function rejectsWith(action: () => unknown, reason: string, closeCode: number): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.reason, reason);
    assert.equal(error.closeCode, closeCode);
    return true;
  });
}

// "Hello" does not get smaller compressed (7 bytes): `compressMessage` would send it as it is, so
// the examples use the path that always compresses (a message's fragments, here one).
describe('PerMessageDeflate: RFC 7692 §7.2.3 examples', () => {
  it('compresses "Hello" as 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00 (§7.2.3.1)', () => {
    const codec = new PerMessageDeflate(agreement(), 'server', { windowBits: 15 });
    assert.deepEqual(codec.compressFragment(HELLO, true), hex('f2 48 cd c9 c9 07 00'));
  });

  it('with context takeover, the second "Hello" refers back: 0xf2 0x00 0x11 0x00 0x00 (§7.2.3.2)', () => {
    const codec = new PerMessageDeflate(agreement(), 'server', { windowBits: 15 });
    codec.compressFragment(HELLO, true);
    assert.deepEqual(codec.compressFragment(HELLO, true), hex('f2 00 11 00 00'));
  });

  it('without context takeover, each "Hello" is compressed alone', () => {
    const codec = new PerMessageDeflate(agreement({ serverNoContextTakeover: true }), 'server', {
      windowBits: 15,
    });
    assert.deepEqual(codec.compressFragment(HELLO, true), hex('f2 48 cd c9 c9 07 00'));
    assert.deepEqual(codec.compressFragment(HELLO, true), hex('f2 48 cd c9 c9 07 00'));
    assert.equal(codec.memory, 0);
  });

  it('the client side honours client_no_context_takeover, not server_no_context_takeover', () => {
    const codec = new PerMessageDeflate(agreement({ clientNoContextTakeover: true }), 'client', {
      windowBits: 15,
    });
    codec.compressFragment(HELLO, true);
    assert.deepEqual(codec.compressFragment(HELLO, true), hex('f2 48 cd c9 c9 07 00'));
  });

  it('inflates "Hello" in one frame and in two fragments (§7.2.3.1)', () => {
    const codec = new PerMessageDeflate(agreement(), 'client');
    assert.equal(codec.decompress(hex('f2 48 cd c9 c9 07 00'), 1000).toString(), 'Hello');
    const other = new PerMessageDeflate(agreement(), 'client');
    const fragments = [hex('f2 48 cd'), hex('c9 c9 07 00')];
    assert.equal(other.decompress(Buffer.concat(fragments), 1000).toString(), 'Hello');
  });

  it('inflates the second "Hello" against the history (§7.2.3.2)', () => {
    const codec = new PerMessageDeflate(agreement(), 'client');
    codec.decompress(hex('f2 48 cd c9 c9 07 00'), 1000);
    assert.equal(codec.decompress(hex('f2 00 11 00 00'), 1000).toString(), 'Hello');
  });

  it('inflates a stored block (§7.2.3.3), a BFINAL block (§7.2.3.4), two blocks (§7.2.3.5)', () => {
    const codec = new PerMessageDeflate(agreement(), 'client');
    assert.equal(codec.decompress(hex('00 05 00 fa ff 48 65 6c 6c 6f'), 100).toString(), 'Hello');
    assert.equal(codec.decompress(hex('f3 48 cd c9 c9 07 00'), 100).toString(), 'Hello');
    assert.equal(
      codec.decompress(hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'), 100).toString(),
      'Hello',
    );
  });

  it('the empty message: 0x00 (§7.2.3.6), and an empty payload, inflate to nothing', () => {
    const codec = new PerMessageDeflate(agreement(), 'client');
    assert.equal(codec.decompress(hex('00'), 100).length, 0);
    assert.equal(codec.decompress(Buffer.alloc(0), 100).length, 0);
  });

  it('a fragmented message compresses fragment by fragment into one valid stream', () => {
    const sender = new PerMessageDeflate(agreement(), 'server');
    const receiver = new PerMessageDeflate(agreement(), 'client');
    const parts = [
      sender.compressFragment(Buffer.from('Hello, '), false),
      sender.compressFragment(Buffer.from('Hello, '), false),
      sender.compressFragment(Buffer.alloc(0), false),
      sender.compressFragment(Buffer.from('world'), true),
    ];
    // Every fragment but the last ends on a sync flush; the last has it removed.
    for (const part of parts.slice(0, -1)) assert.deepEqual(part.subarray(-4), hex('00 00 ff ff'));
    assert.equal(receiver.decompress(Buffer.concat(parts), 1000).toString(), 'Hello, Hello, world');
  });
});

describe('PerMessageDeflate: limits and errors', () => {
  it('stops inflating past maxSize: 64 MiB of zeros in ~64 KiB gets MESSAGE_TOO_BIG (1009)', () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < 100 * 1024);
    const codec = new PerMessageDeflate(agreement(), 'server');
    rejectsWith(() => codec.decompress(bomb, 1024 * 1024), 'MESSAGE_TOO_BIG', 1009);
  });

  it('a message of exactly maxSize bytes passes; one byte more does not', () => {
    const data = Buffer.alloc(5000, 7);
    const compressed = new PerMessageDeflate(agreement(), 'client').compressMessage(data)!;
    const exact = new PerMessageDeflate(agreement(), 'server');
    assert.equal(exact.decompress(compressed, 5000).length, 5000);
    const under = new PerMessageDeflate(agreement(), 'server');
    rejectsWith(() => under.decompress(compressed, 4999), 'MESSAGE_TOO_BIG', 1009);
  });

  it('a small message inflated into a large output chunk does not keep the chunk alive', () => {
    // Incompressible bytes: the input is as long as the output, and zlib's output chunk (four
    // times the input) is far larger than the message.
    const data = pseudoRandomBytes(3000);
    const wire = new PerMessageDeflate(agreement(), 'client').compressFragment(data, true);
    assert.ok(wire.length >= data.length);
    const inflated = new PerMessageDeflate(agreement(), 'server').decompress(wire, 1 << 20);
    assert.ok(inflated.equals(data));
    assert.ok(
      inflated.buffer.byteLength <= Math.max(Buffer.poolSize, 2 * inflated.length + 4096),
      `${inflated.buffer.byteLength} bytes held for ${inflated.length}`,
    );
  });

  it('maxSize 0 lets only the empty message through', () => {
    // zlib takes no output limit of 0, so the codec asks it for at most 1 byte and checks after.
    const codec = new PerMessageDeflate(agreement(), 'server');
    assert.equal(codec.decompress(hex('00'), 0).length, 0);
    rejectsWith(() => codec.decompress(hex('f2 48 cd c9 c9 07 00'), 0), 'MESSAGE_TOO_BIG', 1009);
    rejectsWith(() => codec.decompress(hex('4a 04 00'), 0), 'MESSAGE_TOO_BIG', 1009);
  });

  it('data that is not DEFLATE gets INVALID_COMPRESSED_DATA (1007)', () => {
    const codec = new PerMessageDeflate(agreement(), 'server');
    rejectsWith(() => codec.decompress(hex('ff ff ff'), 1000), 'INVALID_COMPRESSED_DATA', 1007);
  });

  it('a reference before the history is invalid data, not a crash', () => {
    // The second "Hello" of §7.2.3.2 without the first in the history.
    const codec = new PerMessageDeflate(agreement(), 'server');
    rejectsWith(
      () => codec.decompress(hex('f2 00 11 00 00'), 1000),
      'INVALID_COMPRESSED_DATA',
      1007,
    );
  });

  it('a message that does not get smaller is left uncompressed, and out of the history', () => {
    const codec = new PerMessageDeflate(agreement(), 'server');
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151 + 17) % 256));
    assert.equal(codec.compressMessage(Buffer.from('x')), null);
    assert.equal(codec.memory, 0);
    assert.equal(codec.compressMessage(random), null);
    // "Hello" is still compressed as if first: nothing entered the history.
    assert.deepEqual(codec.compressMessage(HELLO.subarray(0, 5)), null); // 5 bytes do not shrink
    const long = Buffer.from('Hello '.repeat(20));
    const first = codec.compressMessage(long)!;
    const fresh = new PerMessageDeflate(agreement(), 'server').compressMessage(long)!;
    assert.deepEqual(first, fresh);
  });

  it('an 8-bit window cannot be honoured by zlib: that side never compresses, but inflates', () => {
    const codec = new PerMessageDeflate(agreement({ serverMaxWindowBits: 8 }), 'server');
    assert.equal(codec.canCompress, false);
    assert.equal(codec.wantsToCompress(1 << 20), false);
    assert.equal(codec.decompress(hex('f2 48 cd c9 c9 07 00'), 100).toString(), 'Hello');
    assert.equal(codec.memory, 256, 'only the received history is held (its first 256-byte block)');
    const client = new PerMessageDeflate(agreement({ serverMaxWindowBits: 8 }), 'client');
    assert.equal(client.canCompress, true);
    assert.equal(client.receiveWindowBits, 9); // zlib-based peers that agreed on 8 use 9
  });

  it('holds at most one window per direction, and nothing without context takeover', () => {
    const codec = new PerMessageDeflate(agreement({ clientMaxWindowBits: 12 }), 'server', {
      windowBits: 12,
    });
    assert.equal(codec.maxMemory, 4096 + 4096);
    const big = Buffer.from('abcdefgh'.repeat(100_000));
    const compressed = new PerMessageDeflate(agreement(), 'client', {
      windowBits: 12,
    }).compressMessage(big)!;
    codec.decompress(compressed, big.length);
    codec.compressMessage(big);
    assert.equal(codec.memory, 8192);
    const none = new PerMessageDeflate(
      agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
      'server',
    );
    assert.equal(none.maxMemory, 0);
    none.compressMessage(big);
    none.decompress(none.compressMessage(big)!, big.length);
    assert.equal(none.memory, 0);
  });
});

describe('PerMessageDeflate: equivalent to one streaming DEFLATE context (fast-check)', () => {
  const windowBits = fc.constantFrom<WindowBits>(9, 10, 12, 15);
  const text = fc.oneof(
    fc.string({ maxLength: 3000 }),
    fc.constantFrom('{"id":1,"name":"abc"}', 'Hello', ''),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 400 }))
      .map(([chunk, count]) => chunk.repeat(count)),
  );
  const message = fc.tuple(
    text.map((value) => Buffer.from(value)),
    fc.array(fc.nat(), { maxLength: 4 }), // where to cut it into fragments
  );

  it('round-trips every message, fragmented or not, under every parameter combination', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        windowBits,
        windowBits,
        windowBits,
        fc.array(message, { minLength: 1, maxLength: 12 }),
        (serverReset, clientReset, serverBits, clientBits, ownBits, messages) => {
          const agreed = agreement({
            serverNoContextTakeover: serverReset,
            clientNoContextTakeover: clientReset,
            serverMaxWindowBits: serverBits,
            clientMaxWindowBits: clientBits,
          });
          const server = new PerMessageDeflate(agreed, 'server', { windowBits: ownBits });
          const client = new PerMessageDeflate(agreed, 'client', { windowBits: ownBits });
          // The whole compressed stream the server sends, for a streaming inflater to check.
          const stream: Buffer[] = [];
          for (const [data, cuts] of messages) {
            const bounds = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort(
              (a, b) => a - b,
            );
            let wire: Buffer;
            if (bounds.length === 0) {
              wire = server.compressMessage(data) ?? server.compressFragment(data, true);
            } else {
              const pieces: Buffer[] = [];
              let start = 0;
              for (const bound of bounds) {
                pieces.push(server.compressFragment(data.subarray(start, bound), false));
                start = bound;
              }
              pieces.push(server.compressFragment(data.subarray(start), true));
              wire = Buffer.concat(pieces);
            }
            assert.deepEqual(client.decompress(wire, data.length), data);
            stream.push(wire, hex('00 00 ff ff'));
            if (serverReset) {
              const alone = zlib.inflateRawSync(Buffer.concat(stream.splice(0)), {
                windowBits: Math.max(serverBits, 9),
                finishFlush: zlib.constants.Z_SYNC_FLUSH,
              });
              assert.deepEqual(alone, data);
            }
          }
          if (!serverReset && messages.length > 0) {
            // With context takeover, all messages are one DEFLATE stream within the agreed window.
            const all = zlib.inflateRawSync(Buffer.concat(stream), {
              windowBits: Math.max(serverBits, 9),
              finishFlush: zlib.constants.Z_SYNC_FLUSH,
            });
            assert.deepEqual(all, Buffer.concat(messages.map(([data]) => data)));
          }
        },
      ),
      { numRuns: 300, seed: 7692 },
    );
  });
});

describe('PerMessageDeflate: one compressed message for many connections', () => {
  const message = Buffer.from('a published message, a published message, a published message');

  it('a side without context takeover has a sharing key; compressAlone is what it would send, its histories untouched', () => {
    const noTakeover = agreement({ serverNoContextTakeover: true, serverMaxWindowBits: 12 });
    const a = new PerMessageDeflate(noTakeover, 'server', { windowBits: 12 });
    const b = new PerMessageDeflate(noTakeover, 'server', { windowBits: 12 });
    assert.notEqual(a.sharingKey, undefined);
    assert.equal(a.sharingKey, b.sharingKey);
    const alone = a.compressAlone(message);
    assert.ok(alone !== null && alone.length < message.length);
    assert.equal(a.memory, 0);
    assert.deepEqual(b.compressMessage(message), alone);
    const inflater = new PerMessageDeflate(noTakeover, 'client', { windowBits: 12 });
    assert.deepEqual(inflater.decompress(alone, 1024), message);
    // Another window, level or memLevel: another key.
    const keys = [
      new PerMessageDeflate(agreement({ serverNoContextTakeover: true }), 'server', {
        windowBits: 10,
      }),
      new PerMessageDeflate(noTakeover, 'server', { windowBits: 12, level: 1 }),
      new PerMessageDeflate(noTakeover, 'server', { windowBits: 12, memLevel: 9 }),
    ].map((codec) => codec.sharingKey);
    assert.equal(new Set([a.sharingKey, ...keys]).size, 4);
  });

  it('no sharing key with context takeover, nor for a side that cannot compress; null when it would not get smaller', () => {
    assert.equal(new PerMessageDeflate(agreement(), 'server').sharingKey, undefined);
    const eightBits = agreement({ serverNoContextTakeover: true, serverMaxWindowBits: 8 });
    assert.equal(new PerMessageDeflate(eightBits, 'server').sharingKey, undefined);
    const codec = new PerMessageDeflate(agreement({ serverNoContextTakeover: true }), 'server');
    assert.equal(codec.compressAlone(Buffer.from('Hi')), null);
  });
});
