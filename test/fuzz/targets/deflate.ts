/**
 * Fuzz target: permessage-deflate (src/protocol/deflate/): negotiation parsing and inflating with
 * a size limit. The input's first byte picks the mode and settings; the rest is
 *
 * - mode 0 (negotiation): a Sec-WebSocket-Extensions value (latin1), parsed, then accepted as a
 *   server (acceptDeflateOffer) and checked as a client's response (checkDeflateResponse);
 * - mode 1 (inflate): messages, each a 2-byte big-endian length and that many bytes of DEFLATE
 *   data, inflated in turn by one codec (so the history carries over) with a limit of
 *   64 << (bits 2-4) bytes.
 *
 * Invariant: parsing throws only HeaderSyntaxError; acceptDeflateOffer never throws and agrees
 * only on window bits 8..15; checkDeflateResponse throws only HandshakeError
 * INVALID_EXTENSION_RESPONSE; decompress throws only ProtocolError MESSAGE_TOO_BIG (1009) or
 * INVALID_COMPRESSED_DATA (1007), returns at most the limit, and the codec's memory stays within
 * its maxMemory.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { PerMessageDeflate } from '../../../src/protocol/deflate/codec.js';
import {
  acceptDeflateOffer,
  checkDeflateResponse,
  type DeflateAgreement,
  type WindowBits,
} from '../../../src/protocol/deflate/negotiation.js';
import { HandshakeError, ProtocolError } from '../../../src/protocol/errors.js';
import { HeaderSyntaxError, parseExtensionList } from '../../../src/protocol/handshake/headers.js';
import type { FuzzTarget } from '../harness.js';

function validAgreement(agreement: DeflateAgreement | null): void {
  if (agreement === null) return;
  for (const bits of [agreement.serverMaxWindowBits, agreement.clientMaxWindowBits])
    assert.ok(Number.isInteger(bits) && bits >= 8 && bits <= 15, `window bits ${bits}`);
  assert.equal(agreement.response.name, 'permessage-deflate');
}

function negotiate(config: number, text: string): void {
  let offers;
  try {
    offers = parseExtensionList(text);
  } catch (error) {
    assert.ok(error instanceof HeaderSyntaxError, `parseExtensionList threw ${String(error)}`);
    return;
  }
  const windowBits = (8 + (config & 7)) as WindowBits;
  const settings = {
    serverNoContextTakeover: (config & 8) !== 0,
    clientNoContextTakeover: (config & 16) !== 0,
    serverMaxWindowBits: windowBits,
    clientMaxWindowBits: (config & 32) !== 0 ? windowBits : true,
  };
  validAgreement(acceptDeflateOffer(offers, settings));
  try {
    validAgreement(checkDeflateResponse(offers, settings));
  } catch (error) {
    assert.ok(error instanceof HandshakeError, `checkDeflateResponse threw ${String(error)}`);
    assert.equal(error.reason, 'INVALID_EXTENSION_RESPONSE');
  }
}

function inflate(config: number, rest: Buffer): void {
  const bits = (8 + (config & 7)) as WindowBits;
  const agreement: DeflateAgreement = {
    serverNoContextTakeover: (config & 8) !== 0,
    clientNoContextTakeover: (config & 8) !== 0,
    serverMaxWindowBits: bits,
    clientMaxWindowBits: bits,
    response: { name: 'permessage-deflate', params: [] },
  };
  const codec = new PerMessageDeflate(agreement, (config & 16) !== 0 ? 'client' : 'server');
  const limit = 64 << ((config >> 2) & 7);
  let at = 0;
  while (at < rest.length) {
    const length = rest.length - at >= 2 ? rest.readUInt16BE(at) : 0;
    const payload = Buffer.from(rest.subarray(at + 2, at + 2 + length));
    at += 2 + length;
    try {
      const output = codec.decompress(payload, limit);
      assert.ok(output.length <= limit, `${output.length} bytes inflated past ${limit}`);
    } catch (error) {
      assert.ok(error instanceof ProtocolError, `decompress threw ${String(error)}`);
      assert.ok(
        error.reason === 'MESSAGE_TOO_BIG' || error.reason === 'INVALID_COMPRESSED_DATA',
        error.reason,
      );
      assert.equal(error.closeCode, error.reason === 'MESSAGE_TOO_BIG' ? 1009 : 1007);
    }
    assert.ok(codec.memory <= codec.maxMemory, `memory ${codec.memory} over ${codec.maxMemory}`);
  }
}

function check(input: Buffer): void {
  if (input.length === 0) return;
  const config = input[0];
  if ((config & 0x80) === 0) negotiate(config, input.subarray(1).toString('latin1'));
  else inflate(config, input.subarray(1));
}

const param = fc.tuple(
  fc.constantFrom(
    'server_no_context_takeover',
    'client_no_context_takeover',
    'server_max_window_bits',
    'client_max_window_bits',
    'x',
  ),
  fc.constantFrom('', '=8', '=15', '=16', '=7', '="10"', '=', '=abc', '=09'),
);
const extensionList = fc
  .array(
    fc.tuple(
      fc.constantFrom('permessage-deflate', 'x-webkit-deflate-frame', 'foo'),
      fc.array(param, { maxLength: 4 }),
    ),
    { maxLength: 3 },
  )
  .map((list) =>
    list.map(([name, ps]) => [name, ...ps.map(([n, v]) => `${n}${v}`)].join('; ')).join(', '),
  );

const negotiation = fc
  .tuple(fc.nat(0x7f), fc.oneof(extensionList, fc.string({ unit: 'binary-ascii', maxLength: 40 })))
  .map(([config, text]) => Buffer.concat([Buffer.from([config]), Buffer.from(text, 'latin1')]));

/** A message: DEFLATE data of some content (compressible or not), possibly corrupted or cut. */
const message = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc
        .tuple(fc.nat(255), fc.integer({ min: 0, max: 100000 }))
        .map(([b, n]) => Buffer.alloc(n, b)),
    ),
    fc.constantFrom(9, 12, 15),
    fc.option(fc.tuple(fc.nat(), fc.nat(255)), { freq: 3 }),
    fc.option(fc.nat(), { freq: 4 }),
  )
  .map(([content, windowBits, corrupt, cut]) => {
    let data = deflateRawSync(content, { windowBits, finishFlush: 2 }).subarray(0, undefined);
    if (data.length >= 4) data = data.subarray(0, data.length - 4); // the sync flush's 00 00 ff ff
    data = Buffer.from(data);
    if (corrupt !== null && data.length > 0) data[corrupt[0] % data.length] = corrupt[1];
    if (cut !== null) data = data.subarray(0, cut % (data.length + 1));
    const header = Buffer.alloc(2);
    header.writeUInt16BE(Math.min(data.length, 65535));
    return Buffer.concat([header, data]);
  });

const inflation = fc
  .tuple(fc.nat(0x7f), fc.array(message, { minLength: 1, maxLength: 3 }))
  .map(([config, messages]) => Buffer.concat([Buffer.from([0x80 | config]), ...messages]));

export const deflateTarget: FuzzTarget = {
  name: 'deflate',
  generate: fc.oneof(negotiation, inflation),
  check,
};
