// The public surface, pinned: a name added or removed here is an API change, made on purpose.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as root from '../src/index.js';
import * as messages from '../src/messages/index.js';
import * as protocol from '../src/protocol/index.js';
import * as redis from '../src/redis/index.js';
import * as whatwg from '../src/whatwg/index.js';

describe('public exports', () => {
  it('wsnet', () => {
    assert.deepEqual(Object.keys(root).sort(), [
      'AssertionViolationException',
      'CloseCode',
      'Connection',
      'ConnectionAbortedException',
      'ConnectionClosedError',
      'ConnectionRefusedException',
      'ConnectionResetException',
      'Context',
      'ErrorCodes',
      'FileNotFoundException',
      'FrameFlags',
      'FrameOpcodes',
      'HTTPClientSession',
      'HTTPCredentials',
      'HTTPException',
      'HTTPMessage',
      'HTTPRequest',
      'HTTPResponse',
      'HTTPSClientSession',
      'HTTPServer',
      'HTTPServerParams',
      'HTTPServerRequest',
      'HTTPServerResponse',
      'HandshakeError',
      'HostNotFoundException',
      'IOException',
      'IllegalStateException',
      'InvalidAccessException',
      'InvalidAddressException',
      'InvalidArgumentError',
      'InvalidArgumentException',
      'InvalidSocketException',
      'InvalidStateError',
      'LogicException',
      'MessageException',
      'MessageHeader',
      'Mode',
      'NameValueCollection',
      'NetException',
      'NetworkError',
      'NoMessageException',
      'NotAuthenticatedException',
      'NotFoundException',
      'NotImplementedException',
      'POCO_POLICY',
      'PocoBuffer',
      'PocoException',
      'ProtocolError',
      'RFC_POLICY',
      'ReadyState',
      'Reconnecting',
      'RuntimeException',
      'SSLException',
      'SecureServerSocket',
      'SendFlags',
      'SendQueueFullError',
      'ServerApplication',
      'ServerSocket',
      'ServiceNotFoundException',
      'SocketAddress',
      'StatusCodes',
      'TimeoutError',
      'TimeoutException',
      'Timespan',
      'WEBSOCKET_VERSION',
      'WebSocket',
      'WebSocketConnection',
      'WebSocketError',
      'WebSocketException',
      'WebSocketImpl',
      'WebSocketServer',
      'computeAccept',
      'connect',
      'createKey',
      'isRetryable',
      'isText',
      'reconnecting',
      'waitForTerminationRequest',
    ]);
  });

  it('wsnet/protocol: the whole core', () => {
    const constants = Object.keys(protocol).filter((name) =>
      /^(WS_|FRAME_|MAX_|RSV_|WEBSOCKET_)/.test(name),
    );
    assert.equal(constants.length, 17, 'the numbers of RFC 6455, each on its own');
    assert.deepEqual(
      Object.keys(protocol)
        .filter((name) => !constants.includes(name))
        .sort(),
      [
        'CloseCode',
        'Connection',
        'ConnectionClosedError',
        'FrameHeader',
        'FrameReader',
        'HandshakeError',
        'HeaderSyntaxError',
        'InvalidArgumentError',
        'InvalidStateError',
        'PERMESSAGE_DEFLATE',
        'POCO_POLICY',
        'PerMessageDeflate',
        'ProtocolError',
        'RFC_POLICY',
        'ReadyState',
        'Utf8Validator',
        'WebSocketError',
        'acceptDeflateOffer',
        'acceptResponseHeaders',
        'applyMask',
        'checkDeflateNegotiation',
        'checkDeflateResponse',
        'checkUpgradeRequest',
        'checkUpgradeResponse',
        'computeAccept',
        'createKey',
        'deflateOffer',
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
        'toBuffer',
        'upgradeRequestHeaders',
        'writeHeader',
      ],
    );
  });

  it('wsnet/messages: the message API, also in the root', () => {
    assert.deepEqual(Object.keys(messages).sort(), [
      'ConnectionClosedError',
      'HandshakeError',
      'InvalidArgumentError',
      'NetworkError',
      'ProtocolError',
      'Reconnecting',
      'SendQueueFullError',
      'TimeoutError',
      'WebSocketConnection',
      'WebSocketError',
      'WebSocketServer',
      'connect',
      'isRetryable',
      'isText',
      'reconnecting',
    ]);
    for (const [name, value] of Object.entries(messages))
      assert.equal((root as Record<string, unknown>)[name], value, name);
  });

  it('wsnet/redis: the Redis adapter, not in the root (its peer dependency is optional)', () => {
    assert.deepEqual(Object.keys(redis).sort(), ['RedisAdapter', 'RedisAdapterError']);
    for (const name of Object.keys(redis)) assert.ok(!(name in root), name);
  });

  it('wsnet/whatwg: the WHATWG-compatible client, not in the root (POCO has a WebSocket there)', () => {
    assert.deepEqual(Object.keys(whatwg).sort(), ['CloseEvent', 'ErrorEvent', 'WebSocket']);
    assert.notEqual((root as Record<string, unknown>).WebSocket, whatwg.WebSocket);
    assert.ok(!('CloseEvent' in root) && !('ErrorEvent' in root));
  });

  it('every root export from the core is the same object as in wsnet/protocol', () => {
    for (const [name, value] of Object.entries(root))
      if (name in protocol) assert.equal(value, (protocol as Record<string, unknown>)[name], name);
  });
});
