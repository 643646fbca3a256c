// The connection state machine, rule by rule, named after the RFC 6455 section each test checks.
// Bytes in as hex, events and bytes out asserted exactly.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  Connection,
  POCO_POLICY,
  ReadyState,
  type ConnectionEvent,
  type ConnectionOptions,
} from '../../src/protocol/connection.js';
import {
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  type ProtocolErrorReason,
} from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { hex, outgoing, toHex } from '../helpers/bytes.js';

const RFC_KEY = [0x37, 0xfa, 0x21, 0x3d];

function server(options: ConnectionOptions = {}): Connection {
  return new Connection('server', options);
}

function client(options: ConnectionOptions = {}): Connection {
  return new Connection('client', { mask: fixedMask(RFC_KEY), ...options });
}

/** A frame as a client sends it (masked), for feeding a server. */
function fromClient(flags: number, payload: string | Uint8Array = ''): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(encodeFrame(flags, bytes, fixedMask([1, 2, 3, 4])));
}

/** A frame as a server sends it (unmasked), for feeding a client. */
function fromServer(flags: number, payload: string | Uint8Array = ''): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(encodeFrame(flags, bytes, null));
}

/** Events in a compact, comparable form. */
function summary(events: ConnectionEvent[]): unknown[] {
  return events.map((event) => {
    switch (event.type) {
      case 'message':
        return [
          event.binary ? 'binary' : 'text',
          event.binary ? toHex(event.data) : event.data.toString(),
        ];
      case 'frame':
        return ['frame', event.flags, toHex(event.payload)];
      case 'ping':
      case 'pong':
        return [event.type, event.data.toString()];
      case 'close':
        return ['close', event.code, event.reason];
      case 'failure':
        return ['failure', event.error.reason, event.error.closeCode];
    }
  });
}

function receive(connection: Connection, ...chunks: Buffer[]): unknown[] {
  for (const chunk of chunks) connection.receiveData(chunk);
  return summary(connection.takeEvents());
}

function assertFailed(
  connection: Connection,
  reason: ProtocolErrorReason,
  closeCode: number,
): void {
  const error = connection.failure;
  assert.ok(error instanceof ProtocolError, 'the connection failed');
  assert.equal(error.reason, reason);
  assert.equal(error.closeCode, closeCode);
}

describe('RFC 6455 §5.7 examples, received', () => {
  it('a single-frame masked text message, at a server', () => {
    const s = server();
    assert.deepEqual(receive(s, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')), [['text', 'Hello']]);
    assert.equal(outgoing(s).length, 0);
  });

  it('a fragmented unmasked text message, at a client', () => {
    const c = client();
    assert.deepEqual(receive(c, hex('01 03 48 65 6c'), hex('80 02 6c 6f')), [['text', 'Hello']]);
  });

  it('an unmasked ping, answered by a masked pong with the same payload', () => {
    const c = client();
    assert.deepEqual(receive(c, hex('89 05 48 65 6c 6c 6f')), [['ping', 'Hello']]);
    assert.equal(toHex(outgoing(c)), '8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('256 bytes and 64 KiB binary messages in single unmasked frames', () => {
    const c = client();
    const small = Buffer.alloc(256, 0x5a);
    const large = Buffer.alloc(65536, 0xa5);
    c.receiveData(
      Buffer.concat([hex('82 7e 01 00'), small, hex('82 7f 00 00 00 00 00 01 00 00'), large]),
    );
    const events = c.takeEvents();
    assert.equal(events.length, 2);
    assert.ok(events[0]?.type === 'message' && events[0].data.equals(small));
    assert.ok(events[1]?.type === 'message' && events[1].data.equals(large));
  });
});

describe('RFC 6455 §5.1: masking by role', () => {
  it('a server fails an unmasked frame with 1002, closes and ends the TCP connection', () => {
    const s = server();
    assert.deepEqual(receive(s, fromServer(0x81, 'hi')), [['failure', 'UNMASKED_FRAME', 1002]]);
    assert.equal(toHex(outgoing(s)), '88 02 03 ea');
    assert.equal(s.state, ReadyState.CLOSING);
    assert.equal(s.outputEnded, true, 'the server closes TCP at once (§7.1.7)');
    assert.deepEqual(
      receive(s, fromClient(0x81, 'ignored')),
      [],
      'nothing is processed after a failure',
    );
  });

  it('a client fails a masked frame with 1002, and waits for the server to close TCP', () => {
    const c = client();
    assert.deepEqual(receive(c, fromClient(0x81, 'hi')), [['failure', 'MASKED_FRAME', 1002]]);
    assert.equal(toHex(outgoing(c)), '88 82 37 fa 21 3d 34 10');
    assert.equal(c.outputEnded, false);
    assert.equal(c.closeExpected(), true);
  });

  it('requireMasking: false accepts both', () => {
    assert.deepEqual(receive(server({ requireMasking: false }), fromServer(0x81, 'a')), [
      ['text', 'a'],
    ]);
    assert.deepEqual(receive(client({ requireMasking: false }), fromClient(0x81, 'b')), [
      ['text', 'b'],
    ]);
  });

  it('a client masks every frame with a fresh key from its generator', () => {
    let n = 0;
    const c = new Connection('client', {
      mask: (target, offset) => {
        target.set([n, n, n, n], offset);
        n++;
      },
    });
    c.sendText('a');
    c.sendText('a');
    assert.equal(toHex(outgoing(c)), '81 81 00 00 00 00 61 81 81 01 01 01 01 60');
  });

  it('a server never masks', () => {
    const s = server();
    s.sendText('Hello');
    assert.equal(toHex(outgoing(s)), '81 05 48 65 6c 6c 6f');
  });
});

describe('RFC 6455 §5.2: reserved bits, reserved opcodes, lengths', () => {
  for (const [bit, name] of [
    [0x40, 'RSV1'],
    [0x20, 'RSV2'],
    [0x10, 'RSV3'],
  ] as const) {
    it(`${name} without a negotiated extension fails with 1002`, () => {
      const s = server();
      receive(s, fromClient(0x81 | bit, 'x'));
      assertFailed(s, 'RESERVED_BITS', 1002);
    });
  }

  it('an RSV bit an extension owns is accepted', () => {
    assert.deepEqual(receive(server({ allowedRsvBits: 0x40 }), fromClient(0xc2, 'z')), [
      ['binary', '7a'],
    ]);
  });

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`reserved opcode ${opcode} fails with 1002`, () => {
      const s = server();
      receive(s, fromClient(0x80 | opcode));
      assertFailed(s, 'RESERVED_OPCODE', 1002);
    });
  }

  it('a 64-bit length with its top bit set fails with 1002, before any payload', () => {
    const s = server();
    receive(s, hex('82 ff 80 00 00 00 00 00 00 00 01 02 03 04'));
    assertFailed(s, 'LENGTH_MSB_SET', 1002);
  });
});

describe('RFC 6455 §5.4: fragmentation', () => {
  it('reassembles text and binary messages, and passes empty fragments over', () => {
    const s = server();
    assert.deepEqual(
      receive(
        s,
        fromClient(0x01, 'frag'),
        fromClient(0x00, ''),
        fromClient(0x00, 'men'),
        fromClient(0x80, 'ted'),
      ),
      [['text', 'fragmented']],
    );
    assert.deepEqual(receive(s, fromClient(0x02, hex('01')), fromClient(0x80, hex('02 03'))), [
      ['binary', '01 02 03'],
    ]);
    assert.deepEqual(receive(s, fromClient(0x01), fromClient(0x80)), [['text', '']]);
  });

  it('control frames may come between fragments (Autobahn 5.6)', () => {
    const s = server();
    assert.deepEqual(
      receive(
        s,
        fromClient(0x01, 'fragment1'),
        fromClient(0x89, 'ping'),
        fromClient(0x80, 'fragment2'),
      ),
      [
        ['ping', 'ping'],
        ['text', 'fragment1fragment2'],
      ],
    );
    assert.equal(toHex(outgoing(s)), '8a 04 70 69 6e 67');
  });

  it('a continuation frame without a message to continue fails with 1002', () => {
    const s = server();
    receive(s, fromClient(0x80, 'orphan'));
    assertFailed(s, 'UNEXPECTED_CONTINUATION', 1002);
  });

  it('a new data frame inside a fragmented message fails with 1002', () => {
    const s = server();
    receive(s, fromClient(0x01, 'one'), fromClient(0x81, 'two'));
    assertFailed(s, 'EXPECTED_CONTINUATION', 1002);
  });

  it('a large fragmented message is reassembled byte for byte', () => {
    const s = server();
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i, i));
    const frames = parts.map((part, i) =>
      fromClient(i === 0 ? 0x02 : i === parts.length - 1 ? 0x80 : 0x00, part),
    );
    const events = (s.receiveData(Buffer.concat(frames)), s.takeEvents());
    assert.equal(events.length, 1);
    assert.ok(events[0]?.type === 'message' && events[0].data.equals(Buffer.concat(parts)));
  });
});

describe('RFC 6455 §5.5: control frames', () => {
  it('a control frame over 125 bytes fails with 1002, judged on its header alone', () => {
    const s = server();
    receive(s, hex('89 fe 00 7e 01 02 03 04'));
    assertFailed(s, 'CONTROL_FRAME_TOO_LONG', 1002);
  });

  it('a fragmented control frame fails with 1002', () => {
    const s = server();
    receive(s, fromClient(0x09, 'x'));
    assertFailed(s, 'FRAGMENTED_CONTROL_FRAME', 1002);
  });

  it('a control frame of exactly 125 bytes is fine', () => {
    const s = server();
    const payload = 'p'.repeat(125);
    assert.deepEqual(receive(s, fromClient(0x89, payload)), [['ping', payload]]);
  });
});

describe('RFC 6455 §5.5.1 and §7: the closing handshake', () => {
  it('the peer closes first: a server echoes the code, ends TCP, and reports a clean close', () => {
    const s = server();
    assert.deepEqual(
      receive(s, fromClient(0x88, Buffer.concat([hex('03 e8'), Buffer.from('bye')]))),
      [['close', 1000, 'bye']],
    );
    assert.equal(toHex(outgoing(s)), '88 02 03 e8');
    assert.equal(s.state, ReadyState.CLOSING);
    assert.deepEqual(s.closeSent, { code: 1000, reason: '' }, 'the echo of its code');
    assert.equal(s.outputEnded, true);
    assert.equal(s.closeExpected(), true);
    s.receiveEof();
    assert.equal(s.state, ReadyState.CLOSED);
    assert.deepEqual(s.closeStatus, { code: 1000, reason: 'bye', wasClean: true });
  });

  it('the peer closes first: a client echoes (masked) and leaves closing TCP to the server', () => {
    const c = client();
    assert.deepEqual(receive(c, fromServer(0x88, hex('03 e9'))), [['close', 1001, '']]);
    assert.equal(toHex(outgoing(c)), '88 82 37 fa 21 3d 34 13');
    assert.equal(c.outputEnded, false, 'the client waits for the server to close (§7.1.1)');
    assert.equal(c.closeExpected(), true);
    c.receiveEof();
    assert.equal(c.outputEnded, true, 'and answers its FIN');
    assert.deepEqual(c.closeStatus, { code: 1001, reason: '', wasClean: true });
  });

  it('an empty close frame is answered by an empty one and reported as 1005', () => {
    const s = server();
    assert.deepEqual(receive(s, fromClient(0x88)), [['close', 1005, '']]);
    assert.equal(toHex(outgoing(s)), '88 00');
  });

  it('we close first: data still arrives until the peer answers, then the server ends TCP', () => {
    const s = server();
    s.sendClose(1000, 'done');
    assert.equal(toHex(outgoing(s)), '88 06 03 e8 64 6f 6e 65');
    assert.equal(s.state, ReadyState.CLOSING);
    assert.equal(s.outputEnded, false);
    assert.deepEqual(receive(s, fromClient(0x81, 'late')), [['text', 'late']]);
    assert.deepEqual(receive(s, fromClient(0x88, hex('03 e8'))), [['close', 1000, '']]);
    assert.equal(outgoing(s).length, 0, 'no second close frame');
    assert.deepEqual(s.closeSent, { code: 1000, reason: 'done' }, 'ours, not a second one');
    assert.equal(s.outputEnded, true);
  });

  it("nothing after the peer's close frame is processed", () => {
    const s = server();
    assert.deepEqual(
      receive(s, Buffer.concat([fromClient(0x88), fromClient(0x81, 'after'), fromClient(0x89)])),
      [['close', 1005, '']],
    );
    assert.equal(toHex(outgoing(s)), '88 00', 'no pong for the ping after the close');
  });

  it('after sending a close frame, nothing more may be sent', () => {
    const s = server();
    s.sendClose();
    assert.throws(
      () => s.sendText('x'),
      (e: unknown) => e instanceof InvalidStateError && e.reason === 'CLOSE_SENT',
    );
    assert.throws(() => s.sendPing(), { reason: 'CLOSE_SENT' });
    assert.throws(() => s.sendClose(1000), { reason: 'CLOSE_SENT' });
  });

  it('no pong is sent for a ping that arrives after our close frame', () => {
    const s = server();
    s.sendClose(1000);
    outgoing(s);
    assert.deepEqual(receive(s, fromClient(0x89, 'late ping')), [['ping', 'late ping']]);
    assert.equal(outgoing(s).length, 0);
  });

  it('close codes that may not be sent are refused before anything changes', () => {
    const s = server();
    for (const code of [1005, 1006, 1015, 999, 2000])
      assert.throws(
        () => s.sendClose(code),
        (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_CLOSE_CODE',
      );
    assert.throws(() => s.sendClose(1000, 'r'.repeat(124)), { reason: 'CLOSE_REASON_TOO_LONG' });
    assert.equal(s.state, ReadyState.OPEN);
    assert.equal(outgoing(s).length, 0);
  });

  const invalidCloses: Array<[string, Buffer, ProtocolErrorReason, number]> = [
    ['a 1-byte payload', hex('03'), 'INVALID_CLOSE_PAYLOAD', 1002],
    ['code 1005', hex('03 ed'), 'INVALID_CLOSE_CODE', 1002],
    ['code 999', hex('03 e7'), 'INVALID_CLOSE_CODE', 1002],
    ['code 5000', hex('13 88'), 'INVALID_CLOSE_CODE', 1002],
    ['a reason that is not UTF-8', hex('03 e8 ff'), 'INVALID_CLOSE_REASON', 1007],
  ];
  for (const [what, payload, reason, code] of invalidCloses) {
    it(`a close frame with ${what} fails the connection with ${code}`, () => {
      const s = server();
      const events = receive(s, fromClient(0x88, payload));
      assert.deepEqual(events, [['failure', reason, code]]);
      assert.equal(toHex(outgoing(s)), `88 02 03 ${code === 1002 ? 'ea' : 'ef'}`);
    });
  }

  it('strictFraming off: a received close code that may not be sent is not echoed', () => {
    // Without strictFraming any code is taken as it comes; the reply then has no code.
    for (const [code, sent] of [
      ['03 ee', '88 00'], // 1006
      ['00 00', '88 00'], // 0
      ['03 ed', '88 00'], // 1005 in a payload
      ['0f a0', '88 02 0f a0'], // 4000 is echoed as usual
      ['', '88 00'], // no code: 1005, answered by an empty close frame
    ] as const) {
      const s = server({ strictFraming: false });
      const value = code === '' ? 1005 : hex(code).readUInt16BE(0);
      assert.deepEqual(receive(s, fromClient(0x88, hex(code))), [['close', value, '']], code);
      assert.equal(toHex(outgoing(s)), sent, code);
      assert.equal(s.failure, undefined, code);
      assert.equal(s.outputEnded, true, code);
    }
  });

  it('strictFraming off: a close reason is taken as it comes, even if it is not UTF-8', () => {
    const s = server({ strictFraming: false });
    const payload = Buffer.concat([hex('03 e8'), Buffer.from('bye'), hex('ff')]);
    assert.deepEqual(receive(s, fromClient(0x88, payload)), [['close', 1000, 'bye\ufffd']]);
    assert.equal(toHex(outgoing(s)), '88 02 03 e8');
  });

  it("with autoCloseReply, sendClose after the peer's close frame is CLOSE_SENT (the reply went)", () => {
    const s = server();
    receive(s, fromClient(0x88, hex('03 e8')));
    assert.throws(() => s.sendClose(1000), { reason: 'CLOSE_SENT' });
  });

  it('autoCloseReply: false leaves the answer to the application', () => {
    const s = server({ autoCloseReply: false });
    assert.deepEqual(receive(s, fromClient(0x88, hex('03 e8'))), [['close', 1000, '']]);
    assert.equal(outgoing(s).length, 0);
    assert.equal(s.outputEnded, false);
    s.sendClose(1000);
    assert.equal(toHex(outgoing(s)), '88 02 03 e8');
    assert.equal(s.outputEnded, false, "ending the transport is the application's call too");
  });
});

describe('RFC 6455 §5.5.2, §5.5.3: ping and pong', () => {
  it('a ping is answered by a pong with the same payload', () => {
    const s = server();
    assert.deepEqual(receive(s, fromClient(0x89, 'abc')), [['ping', 'abc']]);
    assert.equal(toHex(outgoing(s)), '8a 03 61 62 63');
  });

  it('autoPong: false leaves pings to the application', () => {
    const s = server({ autoPong: false });
    assert.deepEqual(receive(s, fromClient(0x89, 'abc')), [['ping', 'abc']]);
    assert.equal(outgoing(s).length, 0);
  });

  it('an unsolicited pong is reported and not answered', () => {
    const s = server();
    assert.deepEqual(receive(s, fromClient(0x8a, 'beat')), [['pong', 'beat']]);
    assert.equal(outgoing(s).length, 0);
  });

  it('sendPing and sendPong allow at most 125 bytes', () => {
    const s = server();
    s.sendPing('p'.repeat(125));
    s.sendPong();
    assert.equal(outgoing(s).length, 2 + 125 + 2);
    assert.throws(() => s.sendPing('p'.repeat(126)), { reason: 'CONTROL_PAYLOAD_TOO_LONG' });
    assert.throws(() => s.sendPong(Buffer.alloc(200)), { reason: 'CONTROL_PAYLOAD_TOO_LONG' });
  });
});

describe('RFC 6455 §5.6, §8.1: text must be UTF-8', () => {
  it('an invalid text message fails the connection with 1007', () => {
    const s = server();
    receive(
      s,
      fromClient(0x81, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64')),
    );
    assertFailed(s, 'INVALID_UTF8', 1007);
    assert.equal(toHex(outgoing(s)), '88 02 03 ef');
  });

  it('fails fast: on the fragment that makes the text invalid, before the message ends', () => {
    const s = server();
    assert.deepEqual(receive(s, fromClient(0x01, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90'))), [
      ['failure', 'INVALID_UTF8', 1007],
    ]);
  });

  it('accepts a code point split across fragments', () => {
    const euro = Buffer.from('€');
    const s = server();
    assert.deepEqual(
      receive(
        s,
        fromClient(0x01, euro.subarray(0, 1)),
        fromClient(0x00, euro.subarray(1, 2)),
        fromClient(0x80, euro.subarray(2)),
      ),
      [['text', '€']],
    );
  });

  it('a message that ends inside a code point fails with 1007', () => {
    const s = server();
    receive(s, fromClient(0x01, hex('e2 82')), fromClient(0x80));
    assertFailed(s, 'INVALID_UTF8', 1007);
  });

  it('fails fast inside a frame: the bad byte fails the connection before the frame ends', () => {
    const s = server();
    const valid = Buffer.from('κόσμε');
    const frame = fromClient(0x81, Buffer.concat([valid, hex('ff'), Buffer.alloc(90, 0x61)]));
    // Header (2 + 4 mask bytes) and the valid start of the payload: nothing to say yet.
    const before = 6 + valid.length;
    assert.deepEqual(receive(s, frame.subarray(0, before)), []);
    // Then 0xff, with 90 bytes of the frame still to come.
    assert.deepEqual(receive(s, frame.subarray(before, before + 1)), [
      ['failure', 'INVALID_UTF8', 1007],
    ]);
    assert.equal(toHex(outgoing(s)), '88 02 03 ef');
  });

  it('a frame checked in part while it arrived has only its rest validated, and fails there', () => {
    const s = server();
    const valid = Buffer.from('κόσμε');
    const frame = fromClient(0x81, Buffer.concat([valid, Buffer.alloc(40, 0x62), hex('ff')]));
    assert.deepEqual(receive(s, frame.subarray(0, 6 + valid.length + 10)), []);
    // The rest completes the frame: its last byte is invalid.
    assert.deepEqual(receive(s, frame.subarray(6 + valid.length + 10)), [
      ['failure', 'INVALID_UTF8', 1007],
    ]);
  });

  it('a fragment checked in part hands its UTF-8 state on to the next fragment', () => {
    const s = server();
    const euro = Buffer.from('€');
    // The first fragment ends inside '€' and arrives in two reads (checked in part, then its
    // rest); the continuation finishes the code point.
    const first = fromClient(0x01, Buffer.concat([Buffer.from('κόσμε'), euro.subarray(0, 2)]));
    assert.deepEqual(receive(s, first.subarray(0, 9), first.subarray(9)), []);
    assert.deepEqual(receive(s, fromClient(0x80, euro.subarray(2))), [['text', 'κόσμε€']]);
  });

  it('fails fast inside a large frame before its buffer is made (an eighth has not arrived)', () => {
    const s = server();
    const payload = Buffer.alloc(1 << 20, 0x61);
    payload[10] = 0xff;
    const frame = fromClient(0x81, payload);
    // 14 header bytes (2 + 8 length + 4 mask) and 100 of the 1 MiB: checked in a copy.
    assert.deepEqual(receive(s, frame.subarray(0, 114)), [['failure', 'INVALID_UTF8', 1007]]);
    // The same at a client, reading a server's unmasked frame: 10 header bytes and 100.
    const c = client();
    assert.deepEqual(receive(c, fromServer(0x81, payload).subarray(0, 110)), [
      ['failure', 'INVALID_UTF8', 1007],
    ]);
  });

  it('fails fast inside an unmasked frame too (a client reading a server)', () => {
    const c = client();
    const frame = fromServer(0x81, Buffer.concat([Buffer.from('ok'), hex('c0'), Buffer.alloc(50)]));
    assert.deepEqual(receive(c, frame.subarray(0, 4)), []);
    assert.deepEqual(receive(c, frame.subarray(4, 5)), [['failure', 'INVALID_UTF8', 1007]]);
  });

  it('inside a frame, a code point cut by a read is not mistaken for invalid text', () => {
    const text = 'a€𝄞b'.repeat(20);
    const frame = fromClient(0x81, text);
    for (let cut = 6; cut < frame.length; cut += 1) {
      const s = server();
      // Copies: the connection unmasks what it is given in place.
      assert.deepEqual(
        receive(s, Buffer.from(frame.subarray(0, cut)), Buffer.from(frame.subarray(cut))),
        [['text', text]],
        `cut at ${cut}`,
      );
    }
  });

  it('fails fast inside a continuation frame, carrying on the state of the fragments before', () => {
    const s = server();
    const euro = Buffer.from('€');
    const second = fromClient(
      0x80,
      Buffer.concat([euro.subarray(1, 2), hex('41'), Buffer.alloc(50, 0x62)]),
    );
    receive(s, fromClient(0x01, euro.subarray(0, 1)));
    // 0x82 completes the euro sign: still valid.
    assert.deepEqual(receive(s, second.subarray(0, 7)), []);
    const s2 = server();
    const bad = fromClient(0x80, Buffer.concat([hex('41'), Buffer.alloc(50, 0x62)]));
    receive(s2, fromClient(0x01, euro.subarray(0, 1)));
    // 0x41 cannot continue a code point started in the previous fragment.
    assert.deepEqual(receive(s2, bad.subarray(0, 7)), [['failure', 'INVALID_UTF8', 1007]]);
  });

  it('binary messages are not checked; validateUtf8: false skips text too', () => {
    assert.deepEqual(receive(server(), fromClient(0x82, hex('ff'))), [['binary', 'ff']]);
    assert.equal(receive(server({ validateUtf8: false }), fromClient(0x81, hex('ff'))).length, 1);
  });
});

describe('RFC 6455 §7.1.7: failing the connection', () => {
  it('closeOnError: false stops the input; closeAfterFailure() sends the close later', () => {
    const s = server({ closeOnError: false });
    assert.deepEqual(receive(s, Buffer.concat([fromClient(0x81, 'ok'), fromClient(0x83, 'x')])), [
      ['text', 'ok'],
      ['failure', 'RESERVED_OPCODE', 1002],
    ]);
    assert.equal(s.state, ReadyState.OPEN);
    s.sendText('reply to ok'); // what the application answers first still goes out first
    s.closeAfterFailure();
    assert.equal(s.state, ReadyState.CLOSING);
    assert.equal(toHex(outgoing(s)), `81 0b ${toHex(Buffer.from('reply to ok'))} 88 02 03 ea`);
    assert.equal(s.outputEnded, true);
    s.closeAfterFailure(); // once only
    assert.equal(outgoing(s).length, 0);
  });

  it('fail() sends one close frame, ignores input, and lets the server end TCP', () => {
    const s = server();
    s.fail(1008, 'policy');
    s.fail(1011);
    assert.equal(toHex(outgoing(s)), '88 08 03 f0 70 6f 6c 69 63 79');
    assert.equal(s.outputEnded, true);
    assert.deepEqual(receive(s, fromClient(0x81, 'x')), []);
  });

  it('fail(1006) drops without a close frame; an unsendable code is refused', () => {
    const s = server();
    assert.throws(() => s.fail(1005), { reason: 'INVALID_CLOSE_CODE' });
    s.fail(1006);
    assert.equal(outgoing(s).length, 0);
    assert.equal(s.state, ReadyState.CLOSING);
  });

  it('fail() once the transport has ended records nothing and sends nothing', () => {
    const s = server();
    s.receiveEof();
    outgoing(s);
    s.fail(1008, 'too late');
    assert.equal(outgoing(s).length, 0);
    assert.equal(s.state, ReadyState.CLOSED);
    assert.deepEqual(s.closeStatus, { code: 1006, reason: '', wasClean: false });
    assert.deepEqual(s.takeEvents(), []);
  });

  it('a failure after our close frame sends no second close frame', () => {
    const s = server();
    s.sendClose(1000);
    outgoing(s);
    receive(s, fromServer(0x81, 'unmasked'));
    assertFailed(s, 'UNMASKED_FRAME', 1002);
    assert.equal(outgoing(s).length, 0);
  });
});

describe('size limits', () => {
  it('a frame over maxFrameSize fails with 1009 on its header, before the payload is buffered', () => {
    const s = server({ maxFrameSize: 1000 });
    receive(s, hex('82 ff 00 00 01 00 00 00 00 00 01 02 03 04'));
    assertFailed(s, 'FRAME_TOO_BIG', 1009);
    assert.equal(toHex(outgoing(s)), '88 02 03 f1');
  });

  it('a frame of exactly maxFrameSize is accepted', () => {
    const s = server({ maxFrameSize: 1000 });
    assert.equal(receive(s, fromClient(0x82, Buffer.alloc(1000))).length, 1);
  });

  it('a fragmented message over maxMessageSize fails with 1009 at the fragment that crosses it', () => {
    const s = server({ maxMessageSize: 100 });
    receive(s, fromClient(0x02, Buffer.alloc(60)));
    assert.equal(s.failure, undefined);
    receive(s, hex('80 a9 00 00 00 00'));
    assertFailed(s, 'MESSAGE_TOO_BIG', 1009);
  });

  it('maxFrameSize defaults to maxMessageSize, and can be changed on an open connection', () => {
    const s = server({ maxMessageSize: 500 });
    assert.equal(s.maxMessageSize, 500);
    assert.equal(s.maxFrameSize, 500);
    s.maxFrameSize = 10;
    receive(s, fromClient(0x82, Buffer.alloc(11)));
    assertFailed(s, 'FRAME_TOO_BIG', 1009);
    assert.throws(() => (s.maxFrameSize = -1), { reason: 'INVALID_OPTION' });
    assert.throws(() => server({ maxMessageSize: 1.5 }), { reason: 'INVALID_OPTION' });
  });
});

describe('end of stream', () => {
  it('EOF in the middle of a frame fails with 1006 and sends nothing', () => {
    const s = server();
    receive(s, fromClient(0x81, 'Hello').subarray(0, 5));
    s.receiveEof();
    assert.deepEqual(summary(s.takeEvents()), [['failure', 'INCOMPLETE_FRAME', 1006]]);
    assert.equal(outgoing(s).length, 0);
    assert.equal(s.state, ReadyState.CLOSED);
    assert.deepEqual(s.closeStatus, { code: 1006, reason: '', wasClean: false });
  });

  it('EOF between frames without a closing handshake is an abnormal closure', () => {
    const s = server();
    s.receiveEof();
    assert.deepEqual(s.takeEvents(), []);
    assert.deepEqual(s.closeStatus, { code: 1006, reason: '', wasClean: false });
    assert.equal(s.outputEnded, true);
    assert.throws(() => s.sendText('x'), { reason: 'CONNECTION_CLOSED' });
  });

  it('a second EOF changes nothing', () => {
    const s = server();
    receive(s, fromClient(0x81, 'Hello').subarray(0, 5));
    s.receiveEof();
    assert.deepEqual(summary(s.takeEvents()), [['failure', 'INCOMPLETE_FRAME', 1006]]);
    s.receiveEof();
    assert.deepEqual(s.takeEvents(), [], 'no second failure');
    assert.equal(s.state, ReadyState.CLOSED);
  });

  it('closeStatus reads 1006 while nothing has closed, and settles with the close records', () => {
    const s = server();
    assert.deepEqual(s.closeStatus, { code: 1006, reason: '', wasClean: false });
  });
});

describe("the close outcome is the core's (RFC 6455 §7.1.5, §7.1.7)", () => {
  it("a side that fails reports the code it failed with, not the peer's reply nor 1006", () => {
    const s = server({ closeOnError: false });
    receive(s, fromClient(0x83, 'x'));
    s.closeAfterFailure();
    outgoing(s);
    receive(s, fromClient(0x88, hex('03 ea'))); // the peer's echo: discarded after the failure
    s.receiveEof();
    assert.deepEqual(s.closeStatus, { code: 1002, reason: '', wasClean: false });
  });

  it('fail(code, reason) by this side (e.g. a heartbeat that got no pong) is the outcome', () => {
    const c = client();
    c.fail(1011, 'keepalive ping timeout');
    c.receiveEof();
    assert.deepEqual(c.closeStatus, {
      code: 1011,
      reason: 'keepalive ping timeout',
      wasClean: false,
    });
  });

  it("a failure after the peer's close frame keeps the peer's code", () => {
    const s = server();
    receive(s, fromClient(0x88, hex('03 e9')));
    s.fail(1011);
    s.receiveEof();
    assert.deepEqual(s.closeStatus, { code: 1001, reason: '', wasClean: false });
  });
});

describe('RFC 6455 §5.5.3: automatic pongs while the transport is congested', () => {
  it('only the latest ping is answered, once the transport takes bytes again', () => {
    const s = server();
    s.setTransportCongested(true);
    receive(s, fromClient(0x89, 'one'), fromClient(0x89, 'two'), fromClient(0x89, 'three'));
    assert.equal(outgoing(s).length, 0, 'no pong queued while congested');
    s.setTransportCongested(false);
    assert.equal(toHex(outgoing(s)), `8a 05 ${toHex(Buffer.from('three'))}`);
    s.setTransportCongested(false);
    assert.equal(outgoing(s).length, 0, 'answered once');
  });

  it('a ping flood while congested holds one payload, copied out of the read', () => {
    const s = server();
    s.setTransportCongested(true);
    const pings = Buffer.concat(Array.from({ length: 1000 }, (_, i) => fromClient(0x89, `p${i}`)));
    receive(s, pings);
    pings.fill(0); // the read buffer is reused: the owed pong must not be a view of it
    s.setTransportCongested(false);
    assert.equal(toHex(outgoing(s)), `8a 04 ${toHex(Buffer.from('p999'))}`);
  });

  it('no owed pong after a close frame (§5.5.2, §5.5.1)', () => {
    const s = server();
    s.setTransportCongested(true);
    receive(s, fromClient(0x89, 'late'));
    s.sendClose(1000);
    outgoing(s);
    s.setTransportCongested(false);
    assert.equal(outgoing(s).length, 0);
  });
});

describe('incomingFrameLength: the frame under way, known from its header', () => {
  it('is the announced length while the payload is arriving, -1 otherwise', () => {
    const s = server();
    assert.equal(s.incomingFrameLength, -1);
    const frame = fromClient(0x82, Buffer.alloc(300));
    receive(s, frame.subarray(0, 20));
    assert.equal(s.incomingFrameLength, 300);
    receive(s, frame.subarray(20));
    assert.equal(s.incomingFrameLength, -1);
  });

  it('under POCO_POLICY too: a 2^31 - 1 header alone is enough to know it', () => {
    const s = new Connection('server', { ...POCO_POLICY });
    s.receiveData(hex('82 ff 00 00 00 00 7f ff ff ff 01 02 03 04'));
    assert.equal(s.incomingFrameLength, 2 ** 31 - 1);
    assert.deepEqual(s.takeEvents(), []);
  });
});

describe('bufferedBytes: received and not yet parsed into a frame', () => {
  it('counts a partial frame until it completes', () => {
    const s = server();
    const frame = fromClient(0x81, 'Hello');
    assert.equal(s.bufferedBytes, 0);
    receive(s, frame.subarray(0, 1));
    assert.equal(s.bufferedBytes, 1, 'half a header');
    receive(s, frame.subarray(1, 8));
    assert.equal(s.bufferedBytes, 2, 'the header is read; 2 payload bytes wait');
    assert.deepEqual(receive(s, frame.subarray(8)), [['text', 'Hello']]);
    assert.equal(s.bufferedBytes, 0);
  });
});

describe('bytes that arrived with the handshake', () => {
  it('initialBytes are parsed at once', () => {
    const s = server({
      initialBytes: Buffer.concat([fromClient(0x81, 'early'), fromClient(0x89)]),
    });
    assert.deepEqual(summary(s.takeEvents()), [
      ['text', 'early'],
      ['ping', ''],
    ]);
    assert.equal(toHex(outgoing(s)), '8a 00');
  });
});

describe('zero copy', () => {
  it('a single-frame message is a view of the received chunk', () => {
    const c = client();
    const chunk = fromServer(0x82, Buffer.alloc(2000, 9)); // chunks under 1 KiB are coalesced
    c.receiveData(chunk);
    const [event] = c.takeEvents();
    assert.ok(event?.type === 'message');
    assert.equal(event.data.buffer, chunk.buffer);
  });
});

describe('sending data', () => {
  it('text from a string or from UTF-8 bytes; binary from bytes', () => {
    const s = server();
    s.sendText('é');
    s.sendText(hex('c3 a9'));
    s.sendBinary(hex('00 ff'));
    assert.equal(toHex(outgoing(s)), '81 02 c3 a9 81 02 c3 a9 82 02 00 ff');
  });

  it('text bytes that are not UTF-8 are refused before anything is queued', () => {
    const s = server();
    assert.throws(
      () => s.sendText(hex('ff')),
      (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_UTF8',
    );
    assert.equal(outgoing(s).length, 0);
  });

  it('a fragmented message: first frame, continuations, final frame', () => {
    const s = server();
    s.sendText('a', false);
    s.sendPing();
    s.sendContinuation('b', false);
    s.sendContinuation(hex('63'), true);
    assert.equal(toHex(outgoing(s)), '01 01 61 89 00 00 01 62 80 01 63');
  });

  it('checks fragmented text across fragment boundaries, and a refused fragment can be retried', () => {
    const s = server();
    s.sendText(hex('e2'), false);
    assert.throws(() => s.sendContinuation(hex('41'), true), { reason: 'INVALID_UTF8' });
    s.sendContinuation(hex('82 ac'), true);
    assert.equal(toHex(outgoing(s)), '01 01 e2 80 02 82 ac');
  });

  it('no new message inside a fragmented one, and no continuation outside one', () => {
    const s = server();
    assert.throws(() => s.sendContinuation('x', true), { reason: 'NO_MESSAGE_IN_PROGRESS' });
    s.sendBinary(hex('01'), false);
    assert.throws(
      () => s.sendText('y'),
      (e: unknown) => e instanceof InvalidStateError && e.reason === 'MESSAGE_IN_PROGRESS',
    );
    assert.throws(() => s.sendBinary(hex('02')), { reason: 'MESSAGE_IN_PROGRESS' });
  });
});

describe('POCO policy (poco-behaviour.md §4.1): every frame handed over as it is', () => {
  function poco(role: 'server' | 'client' = 'server'): Connection {
    return new Connection(role, { ...POCO_POLICY, mask: fixedMask(RFC_KEY) });
  }

  it('reproduces the receive table: flags are the whole first byte', () => {
    const s = poco();
    assert.deepEqual(
      receive(
        s,
        fromClient(0x81, 'Hello'),
        fromClient(0x89),
        fromClient(0x89, 'abc'),
        fromClient(0x8a, 'p'),
        fromClient(0x01, 'He'),
        fromClient(0x00, 'll'),
        fromClient(0x80, 'o'),
        fromClient(0xf1, 'rsv'),
        fromClient(0x83, 'op3'),
        fromClient(0x89, Buffer.alloc(126)),
        fromServer(0x81, 'unmasked'),
        fromClient(0x88, hex('03 e8')),
        fromClient(0x81, 'after close'),
      ).map((event) =>
        Array.isArray(event)
          ? [
              event[0],
              event[1],
              (event[2] as string).length ? (event[2] as string).split(' ').length : 0,
            ]
          : event,
      ),
      [
        ['frame', 0x81, 5],
        ['frame', 0x89, 0],
        ['frame', 0x89, 3],
        ['frame', 0x8a, 1],
        ['frame', 0x01, 2],
        ['frame', 0x00, 2],
        ['frame', 0x80, 1],
        ['frame', 0xf1, 3],
        ['frame', 0x83, 3],
        ['frame', 0x89, 126],
        ['frame', 0x81, 8],
        ['frame', 0x88, 2],
        ['frame', 0x81, 11],
      ],
    );
    assert.equal(outgoing(s).length, 0, 'no pong, no close reply');
    assert.equal(s.state, ReadyState.CLOSING);
    assert.deepEqual(s.closeReceived, { code: 1000, reason: '' });
  });

  it('each frame reports the bytes it took on the wire, as the peer encoded its header', () => {
    const s = poco('client');
    // A masked frame from a server (2 + 4 + 5), a non-minimal 16-bit length for 2 bytes (4 + 2),
    // a minimal 16-bit length (4 + 126), an empty ping (2), and a 64-bit length for 1 byte (10 + 1):
    // all in one read, so the lengths cannot come from how the bytes were split.
    s.receiveData(
      Buffer.concat([
        fromClient(0x81, 'hello'),
        hex('82 7e 00 02 61 62'),
        fromServer(0x82, Buffer.alloc(126)),
        fromServer(0x89),
        hex('82 7f 00 00 00 00 00 00 00 01 7a'),
      ]),
    );
    assert.deepEqual(
      s.takeEvents().map((event) => (event.type === 'frame' ? event.wireLength : event.type)),
      [11, 6, 130, 2, 11],
    );
  });

  it('a client accepts masked frames from a server', () => {
    assert.deepEqual(receive(poco('client'), fromClient(0x81, 'masked')), [
      ['frame', 0x81, toHex(Buffer.from('masked'))],
    ]);
  });

  it('max payload 16: 16 bytes pass, 17 fail with FRAME_TOO_BIG and no close frame', () => {
    const s = new Connection('server', { ...POCO_POLICY, maxFrameSize: 16 });
    assert.equal(receive(s, fromClient(0x82, Buffer.alloc(16))).length, 1);
    assert.deepEqual(receive(s, fromClient(0x82, Buffer.alloc(17))), [
      ['failure', 'FRAME_TOO_BIG', 1009],
    ]);
    assert.equal(outgoing(s).length, 0);
  });

  it('sendFrame of a close frame records its code and reason, 1005 when it has no code', () => {
    const empty = poco('client');
    empty.sendFrame(0x88, Buffer.alloc(0));
    assert.deepEqual(empty.closeSent, { code: 1005, reason: '' });
    const withReason = poco('client');
    withReason.sendFrame(0x88, Buffer.concat([hex('0f a0'), Buffer.from('bye')]));
    assert.deepEqual(withReason.closeSent, { code: 4000, reason: 'bye' });
    withReason.sendFrame(0x88, hex('03 e8'));
    assert.deepEqual(withReason.closeSent, { code: 4000, reason: 'bye' }, 'the first one counts');
  });

  it('sendFrame puts any first byte and any payload on the wire, in any state', () => {
    const c = poco('client');
    c.sendFrame(0x88, hex('03 e8'));
    assert.equal(c.state, ReadyState.CLOSING);
    assert.deepEqual(c.closeSent, { code: 1000, reason: '' });
    c.sendFrame(0x09, Buffer.alloc(200)); // a fragmented, oversized ping: POCO does not check
    c.sendFrame(0x00, Buffer.alloc(0));
    const bytes = outgoing(c);
    assert.equal(toHex(bytes.subarray(0, 8)), '88 82 37 fa 21 3d 34 12');
    assert.equal(toHex(bytes.subarray(8, 12)), '09 fe 00 c8');
    assert.equal(toHex(bytes.subarray(bytes.length - 6)), '00 80 37 fa 21 3d');
  });

  it('EOF at a frame boundary is not a failure; EOF mid-frame is INCOMPLETE_FRAME', () => {
    const clean = poco();
    clean.receiveEof();
    assert.deepEqual(clean.takeEvents(), []);
    assert.equal(clean.outputEnded, false, 'POCO leaves the socket to the application');
    const cut = poco();
    cut.receiveData(hex('81'));
    cut.receiveEof();
    assert.deepEqual(summary(cut.takeEvents()), [['failure', 'INCOMPLETE_FRAME', 1006]]);
  });
});

describe('sendEncoded: one encoded frame shared by many server connections', () => {
  it('queues the very buffers it is given, on each connection, in order with other frames', () => {
    const frame = encodeFrame(0x81, Buffer.alloc(300, 0x61), null); // [header, payload]
    const a = server();
    const b = server();
    a.sendText('first');
    a.sendEncoded(frame);
    b.sendEncoded(frame);
    const outA = a.takeOutgoing();
    const outB = b.takeOutgoing();
    assert.deepEqual(outA[0], Buffer.concat([Buffer.from([0x81, 5]), Buffer.from('first')]));
    assert.equal(outA[1], frame[0]);
    assert.equal(outA[2], frame[1]);
    assert.equal(outB[0], frame[0]);
    assert.equal(outB[1], frame[1]);
  });

  it('refuses on a client (its frames are masked), mid-message, after the close frame and once closed', () => {
    const frame = encodeFrame(0x81, Buffer.from('x'), null);
    assert.throws(
      () => client().sendEncoded(frame),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.reason === 'INVALID_FRAME_FLAGS',
    );
    const streaming = server();
    streaming.sendText('part', false);
    assert.throws(
      () => streaming.sendEncoded(frame),
      (error: unknown) =>
        error instanceof InvalidStateError && error.reason === 'MESSAGE_IN_PROGRESS',
    );
    const closing = server();
    closing.sendClose(1000);
    assert.throws(
      () => closing.sendEncoded(frame),
      (error: unknown) => error instanceof InvalidStateError && error.reason === 'CLOSE_SENT',
    );
    const closed = server();
    closed.receiveEof();
    assert.throws(
      () => closed.sendEncoded(frame),
      (error: unknown) =>
        error instanceof InvalidStateError && error.reason === 'CONNECTION_CLOSED',
    );
    for (const connection of [streaming, closing, closed])
      assert.ok(connection.takeOutgoing().every((buffer) => !frame.includes(buffer)));
  });
});
