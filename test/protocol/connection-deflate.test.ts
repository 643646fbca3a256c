// The connection state machine with permessage-deflate negotiated (RFC 7692 §6, §7.2): RSV1
// rules, inflating within the size limit, text checked once inflated, compression on send.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { Connection, type ConnectionEvent } from '../../src/protocol/connection.js';
import { PerMessageDeflate } from '../../src/protocol/deflate/codec.js';
import type { DeflateAgreement } from '../../src/protocol/deflate/negotiation.js';
import { InvalidArgumentError } from '../../src/protocol/errors.js';
import { hex } from '../helpers/bytes.js';
import { encode, parseFrames } from '../helpers/wire.js';

/** One frame's bytes, masked as a client sends them or not. */
const encodeFrame = (flags: number, payload: Buffer, masked: boolean) =>
  encode({ flags, payload }, masked);

const FIN = 0x80;
const RSV1 = 0x40;
const RSV2 = 0x20;
const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const PING = 0x9;

const AGREED: DeflateAgreement = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  response: { name: 'permessage-deflate', params: [] },
};

function server(maxMessageSize = 1 << 20): Connection {
  return new Connection('server', {
    deflate: new PerMessageDeflate(AGREED, 'server', { threshold: 16 }),
    maxMessageSize,
  });
}

/** What a client sends: `codec` compresses as the peer would. */
function compressed(codec: PerMessageDeflate, data: string | Buffer): Buffer {
  return codec.compressFragment(typeof data === 'string' ? Buffer.from(data) : data, true);
}

function events(connection: Connection, ...frames: Buffer[]): ConnectionEvent[] {
  for (const frame of frames) connection.receiveData(frame);
  return connection.takeEvents();
}

function failure(list: ConnectionEvent[]): [string, number] | undefined {
  const last = list.at(-1);
  return last?.type === 'failure' ? [last.error.reason, last.error.closeCode] : undefined;
}

describe('Connection with permessage-deflate: receiving', () => {
  it('inflates a compressed text message (RSV1 on its frame)', () => {
    const peer = new PerMessageDeflate(AGREED, 'client');
    const list = events(server(), encodeFrame(FIN | RSV1 | TEXT, compressed(peer, 'Hello'), true));
    assert.equal(list.length, 1);
    assert.equal(list[0].type, 'message');
    assert.equal(list[0].type === 'message' && list[0].data.toString(), 'Hello');
  });

  it('inflates a fragmented compressed message with a ping between its fragments', () => {
    const peer = new PerMessageDeflate(AGREED, 'client');
    const body = Buffer.from('permessage-deflate '.repeat(50));
    const first = peer.compressFragment(body.subarray(0, 300), false);
    const last = peer.compressFragment(body.subarray(300), true);
    const list = events(
      server(),
      encodeFrame(RSV1 | BINARY, first, true),
      encodeFrame(FIN | PING, Buffer.from('p'), true),
      encodeFrame(FIN | CONT, last, true),
    );
    assert.deepEqual(
      list.map((event) => event.type),
      ['ping', 'message'],
    );
    assert.deepEqual(list[1].type === 'message' && list[1].data, body);
  });

  it('keeps uncompressed messages uncompressed, between compressed ones', () => {
    const peer = new PerMessageDeflate(AGREED, 'client');
    const connection = server();
    const list = events(
      connection,
      encodeFrame(FIN | RSV1 | TEXT, compressed(peer, 'one one one'), true),
      encodeFrame(FIN | TEXT, Buffer.from('two'), true),
      encodeFrame(FIN | RSV1 | TEXT, compressed(peer, 'one one one'), true),
    );
    assert.deepEqual(
      list.map((event) => event.type === 'message' && event.data.toString()),
      ['one one one', 'two', 'one one one'],
    );
  });

  it('RSV1 on a control frame fails with 1002 (RFC 7692 §6)', () => {
    const list = events(server(), encodeFrame(FIN | RSV1 | PING, Buffer.alloc(0), true));
    assert.deepEqual(failure(list), ['COMPRESSED_CONTROL_FRAME', 1002]);
  });

  it('RSV1 on a continuation frame fails with 1002 (RFC 7692 §6)', () => {
    const peer = new PerMessageDeflate(AGREED, 'client');
    const list = events(
      server(),
      encodeFrame(RSV1 | TEXT, peer.compressFragment(Buffer.from('ab'), false), true),
      encodeFrame(FIN | RSV1 | CONT, peer.compressFragment(Buffer.from('cd'), true), true),
    );
    assert.deepEqual(failure(list), ['COMPRESSED_CONTINUATION', 1002]);
  });

  it('RSV2 stays reserved with permessage-deflate; RSV1 without it is reserved too', () => {
    assert.deepEqual(
      failure(events(server(), encodeFrame(FIN | RSV2 | TEXT, Buffer.from('x'), true))),
      ['RESERVED_BITS', 1002],
    );
    const plain = new Connection('server');
    plain.receiveData(encodeFrame(FIN | RSV1 | TEXT, Buffer.from('x'), true));
    assert.deepEqual(failure(plain.takeEvents()), ['RESERVED_BITS', 1002]);
  });

  it('compressed text that is not UTF-8 once inflated fails with 1007', () => {
    const peer = new PerMessageDeflate(AGREED, 'client');
    const list = events(
      server(),
      encodeFrame(FIN | RSV1 | TEXT, compressed(peer, hex('48 c3 28')), true),
    );
    assert.deepEqual(failure(list), ['INVALID_UTF8', 1007]);
  });

  it('a message that inflates past maxMessageSize fails with 1009 while inflating', () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(16 * 1024 * 1024), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const payload = bomb.subarray(0, bomb.length - 4);
    const connection = server(64 * 1024);
    const list = events(connection, encodeFrame(FIN | RSV1 | BINARY, payload, true));
    assert.deepEqual(failure(list), ['MESSAGE_TOO_BIG', 1009]);
    assert.equal(connection.closeStatus.code, 1009);
  });

  it('a long fragmented bomb of small compressed fragments fails with 1009 too', () => {
    const zeros = zlib.deflateRawSync(Buffer.alloc(8 * 1024 * 1024), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const connection = server(64 * 1024);
    const frames = [encodeFrame(RSV1 | BINARY, zeros.subarray(0, 100), true)];
    for (let at = 100; at < zeros.length - 100; at += 100)
      frames.push(encodeFrame(CONT, zeros.subarray(at, at + 100), true));
    frames.push(
      encodeFrame(FIN | CONT, zeros.subarray(zeros.length - 100, zeros.length - 4), true),
    );
    const list = events(connection, ...frames);
    assert.deepEqual(failure(list), ['MESSAGE_TOO_BIG', 1009]);
  });

  it('compressed bytes past the limit on the wire fail on the header, before inflating', () => {
    const connection = server(1000);
    const list = events(connection, encodeFrame(RSV1 | BINARY, Buffer.alloc(5000), true));
    assert.deepEqual(failure(list), ['MESSAGE_TOO_BIG', 1009]);
  });

  it('data that is not DEFLATE fails with 1007', () => {
    const list = events(server(), encodeFrame(FIN | RSV1 | BINARY, hex('ff ff ff'), true));
    assert.deepEqual(failure(list), ['INVALID_COMPRESSED_DATA', 1007]);
  });

  it('an error of ours while receiving (not a ProtocolError) fails with 1011, its cause kept', () => {
    // The connection's guard against its own bugs: a codec that throws what no input should
    // make it throw stands in for one. The peer gets 1011 and no detail.
    const codec = new PerMessageDeflate(AGREED, 'server');
    const bug = new TypeError('not a real inflate error');
    codec.decompress = () => {
      throw bug;
    };
    const connection = new Connection('server', { deflate: codec });
    const peer = new PerMessageDeflate(AGREED, 'client');
    const list = events(
      connection,
      encodeFrame(FIN | RSV1 | TEXT, compressed(peer, 'Hello'), true),
      encodeFrame(FIN | TEXT, Buffer.from('ignored'), true),
    );
    assert.deepEqual(failure(list), ['INTERNAL_ERROR', 1011]);
    assert.equal(list.length, 1, 'nothing is read after the failure');
    assert.equal(connection.failure?.cause, bug);
    assert.equal(Buffer.concat(connection.takeOutgoing()).toString('hex'), '880203f3');
  });

  it('is refused with a frame-level (POCO) policy', () => {
    assert.throws(
      () =>
        new Connection('server', {
          reassemble: false,
          deflate: new PerMessageDeflate(AGREED, 'server'),
        }),
      InvalidArgumentError,
    );
  });
});

describe('Connection with permessage-deflate: sending', () => {
  function sentFrames(connection: Connection) {
    return parseFrames(Buffer.concat(connection.takeOutgoing()));
  }

  it('compresses a message at or over the threshold, and sets RSV1 on it', () => {
    const connection = server();
    connection.sendText('Hello Hello Hello Hello');
    const [frame] = sentFrames(connection);
    assert.equal(frame.flags, FIN | RSV1 | TEXT);
    const peer = new PerMessageDeflate(AGREED, 'client');
    assert.equal(peer.decompress(frame.payload, 100).toString(), 'Hello Hello Hello Hello');
  });

  it('leaves a message under the threshold, or with compress: false, uncompressed', () => {
    const connection = server();
    connection.sendText('short');
    connection.sendBinary(Buffer.alloc(100), true, false);
    assert.deepEqual(
      sentFrames(connection).map((frame) => [frame.flags, frame.payload.length]),
      [
        [FIN | TEXT, 5],
        [FIN | BINARY, 100],
      ],
    );
  });

  it('compress: true compresses below the threshold', () => {
    const connection = server();
    connection.sendBinary(Buffer.alloc(12), true, true);
    assert.equal(sentFrames(connection)[0].flags, FIN | RSV1 | BINARY);
  });

  it('a fragmented message: RSV1 on the first frame only, one stream over the fragments', () => {
    const connection = server();
    connection.sendText('Hello, Hello, ', false, true);
    connection.sendPing('p');
    connection.sendContinuation('Hello, ', false);
    connection.sendContinuation('world', true);
    const frames = sentFrames(connection);
    assert.deepEqual(
      frames.map((frame) => frame.flags),
      [RSV1 | TEXT, FIN | PING, CONT, FIN | CONT],
    );
    const peer = new PerMessageDeflate(AGREED, 'client');
    const body = Buffer.concat([frames[0].payload, frames[2].payload, frames[3].payload]);
    assert.equal(peer.decompress(body, 1000).toString(), 'Hello, Hello, Hello, world');
  });

  it('control frames are never compressed', () => {
    const connection = server();
    connection.sendPing('a'.repeat(100));
    connection.sendClose(1000, 'b'.repeat(100));
    assert.deepEqual(
      sentFrames(connection).map((frame) => frame.flags & RSV1),
      [0, 0],
    );
  });

  it('a client compresses and masks; a server with the same agreement reads it back', () => {
    const agreement = AGREED;
    const client = new Connection('client', {
      deflate: new PerMessageDeflate(agreement, 'client', { threshold: 0 }),
    });
    const peer = server();
    for (const text of ['first message', 'first message', 'ünïcödé '.repeat(30)]) {
      client.sendText(text);
      for (const bytes of client.takeOutgoing()) peer.receiveData(bytes);
    }
    assert.deepEqual(
      peer.takeEvents().map((event) => event.type === 'message' && event.data.toString()),
      ['first message', 'first message', 'ünïcödé '.repeat(30)],
    );
  });
});
