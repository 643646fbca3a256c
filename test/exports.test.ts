// The public surface, pinned: a name added or removed here is an API change, made on purpose.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as root from '../src/index.js';
import * as protocol from '../src/protocol/index.js';

describe('public exports', () => {
  it('wsnet', () => {
    assert.deepEqual(Object.keys(root).sort(), [
      'Connection',
      'ConnectionClosedError',
      'ErrorCodes',
      'FrameFlags',
      'FrameOpcodes',
      'HandshakeError',
      'InvalidArgumentError',
      'InvalidStateError',
      'Mode',
      'POCO_POLICY',
      'ProtocolError',
      'RFC_POLICY',
      'ReadyState',
      'SendFlags',
      'StatusCodes',
      'WEBSOCKET_VERSION',
      'WebSocketError',
      'computeAccept',
      'createKey',
    ]);
  });

  it('wsnet/protocol: the whole core', () => {
    const constants = Object.keys(protocol).filter((name) =>
      /^(WS_|FRAME_|MAX_|RSV_|WEBSOCKET_)/.test(name),
    );
    assert.equal(constants.length, 43, 'every POCO constant on its own');
    assert.deepEqual(
      Object.keys(protocol)
        .filter((name) => !constants.includes(name))
        .sort(),
      [
        'Connection',
        'ConnectionClosedError',
        'ErrorCodes',
        'FrameFlags',
        'FrameHeader',
        'FrameOpcodes',
        'FrameReader',
        'HandshakeError',
        'HeaderSyntaxError',
        'InvalidArgumentError',
        'InvalidStateError',
        'Mode',
        'POCO_POLICY',
        'ProtocolError',
        'RFC_POLICY',
        'ReadyState',
        'SendFlags',
        'StatusCodes',
        'Utf8Validator',
        'WebSocketError',
        'acceptResponseHeaders',
        'applyMask',
        'checkUpgradeRequest',
        'checkUpgradeResponse',
        'computeAccept',
        'createKey',
        'encodeClosePayload',
        'encodeFrame',
        'encodeRawClosePayload',
        'fixedMask',
        'formatExtensionList',
        'formatProtocolList',
        'formatTokenList',
        'hasToken',
        'headerLength',
        'headerLookup',
        'isControlOpcode',
        'isKnownOpcode',
        'isToken',
        'isValidKey',
        'isValidUtf8',
        'isValidWireCloseCode',
        'maskInto',
        'parseClosePayload',
        'parseExtensionList',
        'parseProtocolList',
        'parseTokenList',
        'randomMask',
        'rejectionResponse',
        'upgradeRequestHeaders',
        'writeHeader',
      ],
    );
  });

  it('every root export is the same object as in wsnet/protocol', () => {
    for (const [name, value] of Object.entries(root))
      assert.equal(value, (protocol as Record<string, unknown>)[name], name);
  });
});
