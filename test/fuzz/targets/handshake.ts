/**
 * Fuzz target: the opening handshake checks (src/protocol/handshake/). The input is an HTTP head
 * as text (latin1): a start line, then `name: value` lines. The start line is read both as a
 * request (`METHOD target HTTP/x.y`, for checkUpgradeRequest) and as a response
 * (`HTTP/x.y status reason`, for checkUpgradeResponse), under both policies.
 *
 * Invariant: neither check throws; a refusal is a HandshakeError whose reason is a server rule
 * (request) or a client rule (response); an accepted request has a key, the accept value of that
 * key and (RFC policy) a valid key and token subprotocols; an accepted response (RFC policy)
 * selected only what was offered.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { HandshakeError, type HandshakeErrorReason } from '../../../src/protocol/errors.js';
import { checkUpgradeResponse } from '../../../src/protocol/handshake/client.js';
import { isToken } from '../../../src/protocol/handshake/headers.js';
import { computeAccept, isValidKey } from '../../../src/protocol/handshake/keys.js';
import { checkUpgradeRequest } from '../../../src/protocol/handshake/server.js';
import type { FuzzTarget } from '../harness.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const OFFER = { protocols: ['chat', 'superchat'], extensions: ['permessage-deflate'] };

const REQUEST_RULES = new Set<HandshakeErrorReason>([
  'NO_HANDSHAKE',
  'NO_VERSION',
  'UNSUPPORTED_VERSION',
  'NO_KEY',
  'METHOD_NOT_GET',
  'HTTP_VERSION',
  'NO_HOST',
  'INVALID_KEY',
  'INVALID_HEADER',
]);
const RESPONSE_RULES = new Set<HandshakeErrorReason>([
  'UNAUTHORIZED',
  'NOT_UNDERSTOOD',
  'CANNOT_UPGRADE',
  'NO_CONNECTION_UPGRADE',
  'NO_UPGRADE_WEBSOCKET',
  'INVALID_ACCEPT',
  'UNEXPECTED_SUBPROTOCOL',
  'UNEXPECTED_EXTENSION',
  'INVALID_HEADER',
]);

function parseHead(text: string) {
  const lines = text.split(/\r?\n/);
  const start = (lines[0] ?? '').split(' ');
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { start, headers };
}

function check(input: Buffer): void {
  const { start, headers } = parseHead(input.toString('latin1'));
  for (const policy of ['rfc', 'poco'] as const) {
    const request = checkUpgradeRequest(
      { method: start[0] ?? '', httpVersion: (start[2] ?? '').replace(/^HTTP\//, ''), headers },
      policy,
    );
    if (request.ok) {
      assert.notEqual(request.key, '');
      assert.equal(request.accept, computeAccept(request.key));
      if (policy === 'rfc') {
        assert.ok(isValidKey(request.key), `accepted key ${request.key}`);
        for (const protocol of request.protocols) assert.ok(isToken(protocol), protocol);
        for (const extension of request.extensions) assert.ok(isToken(extension.name));
      }
    } else {
      assert.ok(request.error instanceof HandshakeError);
      assert.ok(REQUEST_RULES.has(request.error.reason), request.error.reason);
    }

    const status = Number(start[1]);
    const response = checkUpgradeResponse(
      { status: Number.isInteger(status) ? status : 0, reason: start.slice(2).join(' '), headers },
      KEY,
      policy,
      OFFER,
    );
    if (response.ok) {
      assert.equal(status, 101);
      if (policy === 'rfc') {
        if (response.protocol !== undefined)
          assert.ok(OFFER.protocols.includes(response.protocol), response.protocol);
        for (const extension of response.extensions)
          assert.ok(OFFER.extensions.includes(extension.name), extension.name);
      }
    } else {
      assert.ok(response.error instanceof HandshakeError);
      assert.ok(RESPONSE_RULES.has(response.error.reason), response.error.reason);
    }
  }
}

const headerName = fc.constantFrom(
  'Host',
  'Upgrade',
  'Connection',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Version',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'Sec-WebSocket-Accept',
  'upgrade',
  'X-A',
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'websocket',
    'WebSocket',
    'Upgrade',
    'keep-alive, Upgrade',
    'upgrade,',
    '13',
    '8',
    ' 13 ',
    KEY,
    computeAccept(KEY),
    'chat',
    'chat, superchat',
    'x y',
    '',
    ',,,',
    'permessage-deflate',
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; server_max_window_bits=8',
    'foo; a="b\\"c", bar',
    '"unterminated',
    'localhost',
    'AAAAAAAAAAAAAAAAAAAAAA==',
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }),
);

const head = fc
  .tuple(
    fc.constantFrom(
      'GET / HTTP/1.1',
      'POST / HTTP/1.1',
      'GET / HTTP/1.0',
      'GET / HTTP/2.0',
      'HTTP/1.1 101 Switching Protocols',
      'HTTP/1.1 401 Unauthorized',
      'HTTP/1.1 200 OK',
      'HTTP/1.1 301',
      'GET /',
      '',
    ),
    fc.array(fc.tuple(headerName, headerValue), { maxLength: 10 }),
  )
  .map(([line, fields]) =>
    Buffer.from([line, ...fields.map(([n, v]) => `${n}: ${v}`), '', ''].join('\r\n'), 'latin1'),
  );

export const handshakeTarget: FuzzTarget = { name: 'handshake', generate: head, check };
