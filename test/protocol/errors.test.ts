// The error tree: categories, the reason of each, the close code or POCO code it carries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConnectionClosedError,
  HandshakeError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  WebSocketError,
} from '../../src/protocol/errors.js';

describe('errors', () => {
  it('ProtocolError: reason, close code, message with the RFC section, and an optional cause', () => {
    const error = new ProtocolError('RESERVED_OPCODE', 'first byte 0x83');
    assert.ok(error instanceof WebSocketError && error instanceof Error);
    assert.equal(error.name, 'ProtocolError');
    assert.equal(error.closeCode, 1002);
    assert.equal(error.message, 'reserved opcode (RFC 6455 §5.2): first byte 0x83');
    const cause = new Error('bug');
    const internal = new ProtocolError('INTERNAL_ERROR', undefined, { cause });
    assert.equal(internal.closeCode, 1011);
    assert.equal(internal.cause, cause);
    assert.equal(new ProtocolError('INVALID_UTF8').closeCode, 1007);
    assert.equal(new ProtocolError('MESSAGE_TOO_BIG').closeCode, 1009);
    assert.equal(new ProtocolError('INCOMPLETE_FRAME').closeCode, 1006);
  });

  it('HandshakeError: the rule (reason) in RFC 6455 terms, the offending value, the status; no POCO code', () => {
    const error = new HandshakeError('UNSUPPORTED_VERSION', '8');
    assert.equal(error.name, 'HandshakeError');
    assert.equal(error.reason, 'UNSUPPORTED_VERSION');
    assert.equal(error.arg, '8');
    assert.equal(error.status, undefined);
    assert.equal(
      error.message,
      'unsupported Sec-WebSocket-Version; only 13 is (RFC 6455 §4.2.1, §4.4): 8',
    );
    assert.equal(
      new HandshakeError('NO_KEY').message,
      'Sec-WebSocket-Key is missing (RFC 6455 §4.2.1)',
    );
    assert.equal(new HandshakeError('CANNOT_UPGRADE', 'Not Found', { status: 404 }).status, 404);
    // The error that made the handshake fail stays reachable as `cause`; none is set otherwise.
    const cause = new Error('socket hang up');
    assert.equal(new HandshakeError('CANNOT_UPGRADE', undefined, { cause }).cause, cause);
    assert.equal('cause' in error, false);
    assert.equal('code' in error, false);
    assert.equal('pocoMessage' in error, false);
  });

  it('local misuse: InvalidStateError and InvalidArgumentError', () => {
    const state = new InvalidStateError('CLOSE_SENT', 'closed');
    const argument = new InvalidArgumentError('INVALID_CLOSE_CODE', 'bad code');
    assert.equal(state.name, 'InvalidStateError');
    assert.equal(argument.name, 'InvalidArgumentError');
    assert.equal(state.reason, 'CLOSE_SENT');
    assert.equal(argument.reason, 'INVALID_CLOSE_CODE');
  });

  it('ConnectionClosedError: code, reason, wasClean', () => {
    const error = new ConnectionClosedError(1001, 'going away', true);
    assert.equal(error.name, 'ConnectionClosedError');
    assert.equal(error.message, 'connection closed: 1001 going away');
    assert.equal(new ConnectionClosedError(1006, '', false).message, 'connection closed: 1006');
  });
});
