// POCO's enums, with POCO's exact names and values (poco-behaviour.md §1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as c from '../../src/poco/constants.js';
import { WebSocket } from '../../src/poco/index.js';
import * as rfc from '../../src/protocol/constants.js';

describe('constants: POCO Poco::Net::WebSocket enums', () => {
  it('FrameFlags', () => {
    assert.deepEqual(c.FrameFlags, {
      FRAME_FLAG_FIN: 0x80,
      FRAME_FLAG_RSV1: 0x40,
      FRAME_FLAG_RSV2: 0x20,
      FRAME_FLAG_RSV3: 0x10,
    });
  });

  it('FrameOpcodes', () => {
    assert.deepEqual(c.FrameOpcodes, {
      FRAME_OP_CONT: 0x00,
      FRAME_OP_TEXT: 0x01,
      FRAME_OP_BINARY: 0x02,
      FRAME_OP_CLOSE: 0x08,
      FRAME_OP_PING: 0x09,
      FRAME_OP_PONG: 0x0a,
      FRAME_OP_BITMASK: 0x0f,
      FRAME_OP_SETRAW: 0x100,
    });
  });

  it('SendFlags', () => {
    assert.deepEqual(c.SendFlags, { FRAME_TEXT: 0x81, FRAME_BINARY: 0x82 });
  });

  it('StatusCodes: 1000-1011 and 1015, no 1012-1014', () => {
    assert.deepEqual(c.StatusCodes, {
      WS_NORMAL_CLOSE: 1000,
      WS_ENDPOINT_GOING_AWAY: 1001,
      WS_PROTOCOL_ERROR: 1002,
      WS_PAYLOAD_NOT_ACCEPTABLE: 1003,
      WS_RESERVED: 1004,
      WS_RESERVED_NO_STATUS_CODE: 1005,
      WS_RESERVED_ABNORMAL_CLOSE: 1006,
      WS_MALFORMED_PAYLOAD: 1007,
      WS_POLICY_VIOLATION: 1008,
      WS_PAYLOAD_TOO_BIG: 1009,
      WS_EXTENSION_REQUIRED: 1010,
      WS_UNEXPECTED_CONDITION: 1011,
      WS_RESERVED_TLS_FAILURE: 1015,
    });
  });

  it('ErrorCodes: 1-6, 10, 11', () => {
    assert.deepEqual(c.ErrorCodes, {
      WS_ERR_NO_HANDSHAKE: 1,
      WS_ERR_HANDSHAKE_NO_VERSION: 2,
      WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION: 3,
      WS_ERR_HANDSHAKE_NO_KEY: 4,
      WS_ERR_HANDSHAKE_ACCEPT: 5,
      WS_ERR_UNAUTHORIZED: 6,
      WS_ERR_PAYLOAD_TOO_BIG: 10,
      WS_ERR_INCOMPLETE_FRAME: 11,
    });
  });

  it('Mode and WEBSOCKET_VERSION', () => {
    assert.deepEqual(c.Mode, { WS_SERVER: 0, WS_CLIENT: 1 });
    assert.equal(c.WEBSOCKET_VERSION, '13');
  });

  it('WebSocket carries every value of every enum as a static, as the C++ class does', () => {
    const statics = WebSocket as unknown as Record<string, unknown>;
    for (const values of [
      c.Mode,
      c.FrameFlags,
      c.FrameOpcodes,
      c.SendFlags,
      c.StatusCodes,
      c.ErrorCodes,
    ])
      for (const [name, value] of Object.entries(values)) assert.equal(statics[name], value, name);
    assert.equal(WebSocket.WEBSOCKET_VERSION, '13');
  });
});

describe('constants: the protocol core speaks RFC 6455', () => {
  it('close codes with the IANA registry names (RFC 6455 §7.4.1), 1012-1014 included', () => {
    assert.deepEqual(rfc.CloseCode, {
      NORMAL_CLOSURE: 1000,
      GOING_AWAY: 1001,
      PROTOCOL_ERROR: 1002,
      UNSUPPORTED_DATA: 1003,
      RESERVED: 1004,
      NO_STATUS_RECEIVED: 1005,
      ABNORMAL_CLOSURE: 1006,
      INVALID_PAYLOAD_DATA: 1007,
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      MANDATORY_EXTENSION: 1010,
      INTERNAL_ERROR: 1011,
      SERVICE_RESTART: 1012,
      TRY_AGAIN_LATER: 1013,
      BAD_GATEWAY: 1014,
      TLS_HANDSHAKE: 1015,
    });
  });

  it("POCO's vocabulary is not the core's: no error codes, Mode or FRAME_OP_SETRAW there", () => {
    for (const name of [
      'ErrorCodes',
      'Mode',
      'FRAME_OP_SETRAW',
      'WS_ERR_NO_HANDSHAKE',
      'WS_SERVER',
    ])
      assert.equal(name in rfc, false, name);
  });

  it('the GUID of RFC 6455 §1.3 and the version of §4.1', () => {
    assert.equal(rfc.WEBSOCKET_VERSION, '13');
    assert.equal(rfc.WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('RFC 6455 §5.2, §5.5: which opcodes are known, which are control frames', () => {
    const known = [];
    const control = [];
    for (let opcode = 0; opcode < 16; opcode++) {
      if (rfc.isKnownOpcode(opcode)) known.push(opcode);
      if (rfc.isControlOpcode(opcode)) control.push(opcode);
    }
    assert.deepEqual(known, [0, 1, 2, 8, 9, 10]);
    assert.deepEqual(control, [8, 9, 10, 11, 12, 13, 14, 15]);
  });
});
