// RFC 6455 §5.5.1 (the close frame's payload) and §7.4 (status codes), with the IANA registry.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  encodeClosePayload,
  encodeRawClosePayload,
  isValidWireCloseCode,
  parseClosePayload,
} from '../../src/protocol/close.js';
import { InvalidArgumentError, ProtocolError } from '../../src/protocol/errors.js';
import { hex, toHex } from '../helpers/bytes.js';

describe('RFC 6455 §7.4: close codes on the wire', () => {
  it('valid: 1000-1003, 1007-1011, the IANA-registered 1012-1014, and 3000-4999', () => {
    for (const code of [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
      4999,
    ])
      assert.ok(isValidWireCloseCode(code), String(code));
  });

  it('invalid: < 1000, 1004-1006, 1015, 1016-2999, >= 5000 (Autobahn 7.9.x and 7.13.x)', () => {
    for (const code of [
      0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535, 1000.5, -1000,
    ])
      assert.ok(!isValidWireCloseCode(code), String(code));
  });
});

describe('RFC 6455 §5.5.1: encoding a close payload', () => {
  it('is the big-endian code then the UTF-8 reason', () => {
    assert.equal(toHex(encodeClosePayload(1000)), '03 e8');
    assert.equal(toHex(encodeClosePayload(1001, 'bye')), '03 e9 62 79 65');
    assert.equal(toHex(encodeClosePayload(4000, 'é')), '0f a0 c3 a9');
  });

  it('is empty without a code, and then a reason is an error', () => {
    assert.equal(encodeClosePayload().length, 0);
    assert.throws(() => encodeClosePayload(undefined, 'why'), {
      reason: 'CLOSE_REASON_WITHOUT_CODE',
    });
  });

  it('refuses codes that may not be sent', () => {
    for (const code of [1004, 1005, 1006, 1015, 999, 5000])
      assert.throws(
        () => encodeClosePayload(code),
        (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_CLOSE_CODE',
      );
  });

  it('allows a reason of 123 bytes and refuses 124 (a control frame holds 125)', () => {
    assert.equal(encodeClosePayload(1000, 'x'.repeat(123)).length, 125);
    assert.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), {
      reason: 'CLOSE_REASON_TOO_LONG',
    });
    assert.throws(() => encodeClosePayload(1000, 'é'.repeat(62)), {
      reason: 'CLOSE_REASON_TOO_LONG',
    });
  });

  it('refuses a reason given as bytes that are not UTF-8', () => {
    assert.throws(() => encodeClosePayload(1000, hex('ff')), { reason: 'INVALID_UTF8' });
    assert.equal(toHex(encodeClosePayload(1000, hex('c3 a9'))), '03 e8 c3 a9');
  });

  it('encodeRawClosePayload sends anything, as POCO shutdown() does', () => {
    assert.equal(toHex(encodeRawClosePayload(1005)), '03 ed');
    assert.equal(toHex(encodeRawClosePayload(0, 'x')), '00 00 78');
    assert.equal(encodeRawClosePayload(1000, 'x'.repeat(200)).length, 202);
  });
});

describe('RFC 6455 §5.5.1: parsing a received close payload', () => {
  it('an empty payload means no status code: 1005', () => {
    assert.deepEqual(parseClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
  });

  it('reads the code and the reason', () => {
    assert.deepEqual(parseClosePayload(hex('03 e8')), { code: 1000, reason: '' });
    assert.deepEqual(parseClosePayload(Buffer.concat([hex('0b b8'), Buffer.from('κόσμε')])), {
      code: 3000,
      reason: 'κόσμε',
    });
  });

  const failures: Array<[string, string, string, number]> = [
    ['03', 'INVALID_CLOSE_PAYLOAD', 'a 1-byte payload (Autobahn 7.3.2)', 1002],
    ['03 ed', 'INVALID_CLOSE_CODE', 'code 1005', 1002],
    ['03 ee', 'INVALID_CLOSE_CODE', 'code 1006', 1002],
    ['00 00', 'INVALID_CLOSE_CODE', 'code 0', 1002],
    ['13 88', 'INVALID_CLOSE_CODE', 'code 5000', 1002],
    [
      '03 e8 ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80',
      'INVALID_CLOSE_REASON',
      'a reason that is not UTF-8 (7.5.1)',
      1007,
    ],
  ];
  for (const [bytes, reason, what, closeCode] of failures) {
    it(`refuses ${what} with ${closeCode}`, () => {
      assert.throws(
        () => parseClosePayload(hex(bytes)),
        (e: unknown) =>
          e instanceof ProtocolError && e.reason === reason && e.closeCode === closeCode,
      );
    });
  }

  it('skips the UTF-8 check when asked', () => {
    assert.equal(parseClosePayload(hex('03 e8 ff'), false).code, 1000);
  });
});
