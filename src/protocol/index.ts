/**
 * The sans-I/O protocol core: RFC 6455 framing, masking, UTF-8, close codes, the opening
 * handshake's checks and the connection state machine. Pure and synchronous: it imports nothing
 * but `node:buffer` and `node:crypto`, so it can be driven by any transport, or by a test. It
 * speaks RFC 6455's vocabulary (`CloseCode.NORMAL_CLOSURE`...); POCO's names for the same values
 * are the POCO facade's, exported from the package root.
 *
 * @module wsnet/protocol
 */
export * from './constants.js';
export {
  ConnectionClosedError,
  HandshakeError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  WebSocketError,
  type FailureCloseCode,
  type HandshakeErrorReason,
  type InvalidArgumentReason,
  type InvalidStateReason,
  type ProtocolErrorReason,
} from './errors.js';
export {
  encodeClosePayload,
  encodeRawClosePayload,
  isValidWireCloseCode,
  parseClosePayload,
  type CloseInfo,
} from './close.js';
export {
  encodeFrame,
  headerLength,
  toBuffer,
  writeHeader,
  type BinaryData,
  type Frame,
} from './frame.js';
export { FrameHeader, FrameReader } from './frame-reader.js';
export { applyMask, fixedMask, maskInto, randomMask, type MaskGenerator } from './mask.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export {
  Connection,
  POCO_POLICY,
  RFC_POLICY,
  ReadyState,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionPolicy,
  type Role,
} from './connection.js';
export { computeAccept, createKey, isValidKey } from './handshake/keys.js';
export {
  HeaderSyntaxError,
  formatExtensionList,
  formatProtocolList,
  formatTokenList,
  hasToken,
  isToken,
  parseExtensionList,
  parseProtocolList,
  parseTokenList,
  type ExtensionOffer,
} from './handshake/headers.js';
export { headerLookup, type HeaderLookup, type HeaderSource } from './handshake/header-lookup.js';
export {
  acceptResponseHeaders,
  checkUpgradeRequest,
  rejectionResponse,
  type AcceptedUpgrade,
  type HandshakePolicy,
  type UpgradeCheck,
  type UpgradeRequest,
} from './handshake/server.js';
export {
  checkUpgradeResponse,
  upgradeRequestHeaders,
  type ClientOffer,
  type CompletedUpgrade,
  type ResponseCheck,
  type UpgradeResponse,
} from './handshake/client.js';
export {
  PERMESSAGE_DEFLATE,
  acceptDeflateOffer,
  checkDeflateNegotiation,
  checkDeflateResponse,
  deflateOffer,
  type DeflateAgreement,
  type DeflateNegotiation,
  type WindowBits,
} from './deflate/negotiation.js';
export { PerMessageDeflate, type DeflateSettings } from './deflate/codec.js';
