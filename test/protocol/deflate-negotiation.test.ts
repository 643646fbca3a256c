// permessage-deflate negotiation (RFC 7692 §5, §7.1): the client's offer, the server's choice,
// the client's check of the answer. Headers go through the real parser and formatter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PERMESSAGE_DEFLATE,
  acceptDeflateOffer,
  checkDeflateNegotiation,
  checkDeflateResponse,
  deflateOffer,
  type DeflateAgreement,
  type DeflateNegotiation,
  type WindowBits,
} from '../../src/protocol/deflate/negotiation.js';
import { HandshakeError, InvalidArgumentError } from '../../src/protocol/errors.js';
import {
  HeaderSyntaxError,
  formatExtensionList,
  parseExtensionList,
  type ExtensionOffer,
} from '../../src/protocol/handshake/headers.js';

type Values = Omit<DeflateAgreement, 'response'>;

/** An agreement's negotiated values, without the response element. */
function values(agreement: DeflateAgreement | null): Values | null {
  if (agreement === null) return null;
  const { serverNoContextTakeover, clientNoContextTakeover } = agreement;
  const { serverMaxWindowBits, clientMaxWindowBits } = agreement;
  return {
    serverNoContextTakeover,
    clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

function agreed(
  serverNoContextTakeover: boolean,
  clientNoContextTakeover: boolean,
  serverMaxWindowBits: WindowBits,
  clientMaxWindowBits: WindowBits,
): Values {
  return {
    serverNoContextTakeover,
    clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

/** The server's `Sec-WebSocket-Extensions` answer to a request's header, or null (declined). */
function serverAnswer(request: string, settings?: DeflateNegotiation): string | null {
  const agreement = acceptDeflateOffer(parseExtensionList(request), settings);
  return agreement === null ? null : formatExtensionList([agreement.response]);
}

function offerHeader(settings?: DeflateNegotiation): string {
  return formatExtensionList([deflateOffer(settings)]);
}

function clientCheck(response: string, settings?: DeflateNegotiation): DeflateAgreement | null {
  return checkDeflateResponse(parseExtensionList(response), settings);
}

/** The client fails the connection on `response`, with exactly `detail`. */
function assertRefused(response: string, settings: DeflateNegotiation, detail: string): void {
  assert.throws(
    () => clientCheck(response, settings),
    (error: unknown) => {
      assert.ok(error instanceof HandshakeError, String(error));
      assert.equal(error.reason, 'INVALID_EXTENSION_RESPONSE');
      assert.equal(error.arg, detail);
      return true;
    },
    response,
  );
}

function assertInvalidOption(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.equal(error.reason, 'INVALID_OPTION');
    assert.equal(error.message, message);
    return true;
  });
}

const CHROMIUM = 'permessage-deflate; client_max_window_bits';
const FIREFOX = 'permessage-deflate';
const PYTHON_WEBSOCKETS =
  'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12';
const RFC_FALLBACK =
  'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits';

/** Parameters that make an element invalid in either direction, each after `permessage-deflate; `. */
const INVALID_PARAMS = [
  'server_max_window_bits=08',
  'server_max_window_bits=16',
  'server_max_window_bits=7',
  'server_max_window_bits=-9',
  'server_max_window_bits=+9',
  'server_max_window_bits=9.0',
  'server_max_window_bits=0x9',
  'server_max_window_bits=010',
  'server_max_window_bits',
  'client_max_window_bits=08',
  'client_max_window_bits=16',
  'client_max_window_bits=7',
  'client_max_window_bits=-10',
  'server_no_context_takeover=1',
  'client_no_context_takeover=true',
  'server_no_context_takeover; server_no_context_takeover',
  'client_no_context_takeover; client_no_context_takeover',
  'server_max_window_bits=10; server_max_window_bits=10',
  'client_max_window_bits; client_max_window_bits=10',
  'client_max_window_bits=10; client_max_window_bits=10',
  'x_unknown',
  'mux=1',
  'Server_Max_Window_Bits=10',
  '__proto__',
];

describe('RFC 7692 §7.1: the client offer (deflateOffer)', () => {
  it('by default offers client_max_window_bits without a value, as Chromium and ws do', () => {
    assert.equal(offerHeader(), CHROMIUM);
    assert.equal(offerHeader({}), CHROMIUM);
    assert.equal(offerHeader({ clientMaxWindowBits: true }), CHROMIUM);
    assert.deepEqual(deflateOffer(), {
      name: PERMESSAGE_DEFLATE,
      params: [['client_max_window_bits', null]],
    });
  });

  it('clientMaxWindowBits: false offers the bare extension, as Firefox does', () => {
    assert.equal(offerHeader({ clientMaxWindowBits: false }), FIREFOX);
    assert.deepEqual(deflateOffer({ clientMaxWindowBits: false }).params, []);
  });

  it("numbers are offered as values: python-websockets' offer", () => {
    assert.equal(
      offerHeader({ serverMaxWindowBits: 12, clientMaxWindowBits: 12 }),
      PYTHON_WEBSOCKETS,
    );
  });

  it('every parameter, in the order server/client no_context_takeover, server/client window', () => {
    assert.equal(
      offerHeader({
        clientMaxWindowBits: 9,
        serverMaxWindowBits: 10,
        clientNoContextTakeover: true,
        serverNoContextTakeover: true,
      }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    );
    assert.equal(
      offerHeader({ serverNoContextTakeover: false, clientNoContextTakeover: false }),
      CHROMIUM,
    );
    assert.equal(
      offerHeader({ clientNoContextTakeover: true, clientMaxWindowBits: false }),
      'permessage-deflate; client_no_context_takeover',
    );
    assert.equal(
      offerHeader({ serverMaxWindowBits: 8, clientMaxWindowBits: 15 }),
      'permessage-deflate; server_max_window_bits=8; client_max_window_bits=15',
    );
  });
});

describe('RFC 7692 §5, §7: the server picks an offer (acceptDeflateOffer)', () => {
  it('the examples of RFC 7692 §7.1: the bare offer, and an offer with a fallback', () => {
    assert.equal(serverAnswer('permessage-deflate'), 'permessage-deflate');
    // The first, preferred offer is acceptable, so it wins.
    assert.equal(serverAnswer(RFC_FALLBACK), 'permessage-deflate; server_max_window_bits=10');
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(RFC_FALLBACK))),
      agreed(false, false, 10, 15),
    );
    // A first offer the server must decline leaves the fallback.
    assert.equal(
      serverAnswer(
        'permessage-deflate; client_max_window_bits; server_max_window_bits=010, permessage-deflate; client_max_window_bits',
      ),
      'permessage-deflate',
    );
  });

  it("Chromium's, Firefox's and python-websockets' offers with default settings", () => {
    assert.equal(serverAnswer(CHROMIUM), 'permessage-deflate');
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(CHROMIUM))),
      agreed(false, false, 15, 15),
    );
    assert.equal(serverAnswer(FIREFOX), 'permessage-deflate');
    assert.equal(serverAnswer(PYTHON_WEBSOCKETS), PYTHON_WEBSOCKETS);
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(PYTHON_WEBSOCKETS))),
      agreed(false, false, 12, 12),
    );
  });

  it('the response element is { name, params } and the agreement matches it', () => {
    const agreement = acceptDeflateOffer(parseExtensionList(PYTHON_WEBSOCKETS), {
      serverNoContextTakeover: true,
      serverMaxWindowBits: 10,
    });
    assert.deepEqual(agreement, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
      response: {
        name: 'permessage-deflate',
        params: [
          ['server_no_context_takeover', null],
          ['server_max_window_bits', '10'],
          ['client_max_window_bits', '12'],
        ],
      },
    });
  });

  it('server_no_context_takeover: honoured when offered, added when the settings want it', () => {
    const offered = 'permessage-deflate; server_no_context_takeover';
    assert.equal(serverAnswer(offered), offered);
    assert.equal(serverAnswer(offered, { serverNoContextTakeover: false }), offered);
    assert.equal(serverAnswer(FIREFOX, { serverNoContextTakeover: true }), offered);
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(offered))),
      agreed(true, false, 15, 15),
    );
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(FIREFOX), { serverNoContextTakeover: true })),
      agreed(true, false, 15, 15),
    );
  });

  it("client_no_context_takeover: from the settings, and the offer's hint echoed to make it binding", () => {
    const offered = 'permessage-deflate; client_no_context_takeover';
    assert.equal(serverAnswer(offered), offered);
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(offered))),
      agreed(false, true, 15, 15),
    );
    assert.equal(serverAnswer(offered, { clientNoContextTakeover: true }), offered);
    assert.equal(serverAnswer(FIREFOX, { clientNoContextTakeover: true }), offered);
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(FIREFOX), { clientNoContextTakeover: true })),
      agreed(false, true, 15, 15),
    );
  });

  it('server_max_window_bits: answered with min(offer, settings); never when not offered', () => {
    const offer10 = 'permessage-deflate; server_max_window_bits=10';
    assert.equal(serverAnswer(offer10), offer10);
    assert.equal(serverAnswer(offer10, { serverMaxWindowBits: 12 }), offer10);
    assert.equal(serverAnswer(offer10, { serverMaxWindowBits: 10 }), offer10);
    assert.equal(
      serverAnswer(offer10, { serverMaxWindowBits: 9 }),
      'permessage-deflate; server_max_window_bits=9',
    );
    assert.equal(
      serverAnswer('permessage-deflate; server_max_window_bits=8'),
      'permessage-deflate; server_max_window_bits=8',
    );
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(offer10), { serverMaxWindowBits: 9 })),
      agreed(false, false, 9, 15),
    );
    // Not offered: not in the response, and the agreement's bound is the default.
    assert.equal(serverAnswer(FIREFOX, { serverMaxWindowBits: 9 }), 'permessage-deflate');
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(FIREFOX), { serverMaxWindowBits: 9 })),
      agreed(false, false, 15, 15),
    );
  });

  it('client_max_window_bits: only when offered (RFC 7692 §7.1.2.2), every combination', () => {
    const cases: Array<[string, DeflateNegotiation['clientMaxWindowBits'], string, WindowBits]> = [
      // Not offered: never in the response, whatever the settings.
      [FIREFOX, undefined, 'permessage-deflate', 15],
      [FIREFOX, true, 'permessage-deflate', 15],
      [FIREFOX, 10, 'permessage-deflate', 15],
      // Offered without a value: a limit only from a number in the settings.
      [CHROMIUM, undefined, 'permessage-deflate', 15],
      [CHROMIUM, true, 'permessage-deflate', 15],
      [CHROMIUM, false, 'permessage-deflate', 15],
      [CHROMIUM, 10, 'permessage-deflate; client_max_window_bits=10', 10],
      [CHROMIUM, 15, 'permessage-deflate; client_max_window_bits=15', 15],
      // Offered with a value: echoed, or lowered by the settings.
      [
        'permessage-deflate; client_max_window_bits=12',
        undefined,
        'permessage-deflate; client_max_window_bits=12',
        12,
      ],
      [
        'permessage-deflate; client_max_window_bits=12',
        true,
        'permessage-deflate; client_max_window_bits=12',
        12,
      ],
      [
        'permessage-deflate; client_max_window_bits=12',
        false,
        'permessage-deflate; client_max_window_bits=12',
        12,
      ],
      [
        'permessage-deflate; client_max_window_bits=12',
        14,
        'permessage-deflate; client_max_window_bits=12',
        12,
      ],
      [
        'permessage-deflate; client_max_window_bits=12',
        9,
        'permessage-deflate; client_max_window_bits=9',
        9,
      ],
      [
        'permessage-deflate; client_max_window_bits=8',
        8,
        'permessage-deflate; client_max_window_bits=8',
        8,
      ],
    ];
    for (const [request, clientMaxWindowBits, answer, bits] of cases) {
      const settings = { clientMaxWindowBits };
      const label = `${request} with ${String(clientMaxWindowBits)}`;
      assert.equal(serverAnswer(request, settings), answer, label);
      assert.equal(
        acceptDeflateOffer(parseExtensionList(request), settings)?.clientMaxWindowBits,
        bits,
        label,
      );
    }
  });

  it('writes the response parameters in one order, whatever the order of the offer', () => {
    assert.equal(
      serverAnswer(
        'permessage-deflate; client_max_window_bits=10; server_max_window_bits=11; client_no_context_takeover; server_no_context_takeover',
        { clientNoContextTakeover: true },
      ),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10',
    );
  });

  it('reads quoted values as the plain ones', () => {
    assert.equal(
      serverAnswer('permessage-deflate; server_max_window_bits="10"; client_max_window_bits="9"'),
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9',
    );
  });

  it('declines every invalid offer, and accepts the valid fallback after it', () => {
    for (const bad of INVALID_PARAMS) {
      const request = `permessage-deflate; ${bad}`;
      assert.equal(acceptDeflateOffer(parseExtensionList(request)), null, request);
      assert.equal(serverAnswer(`${request}, ${CHROMIUM}`), 'permessage-deflate', request);
    }
  });

  it('an empty value cannot come from the parser; built by hand, it is declined', () => {
    assert.throws(
      () => parseExtensionList('permessage-deflate; server_max_window_bits=""'),
      HeaderSyntaxError,
    );
    for (const name of ['server_max_window_bits', 'client_max_window_bits']) {
      const offer: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params: [[name, '']] };
      assert.equal(acceptDeflateOffer([offer]), null, name);
    }
  });

  it('ignores other extensions, including near-names, and finds none in their lists', () => {
    assert.equal(
      serverAnswer(`x-webkit-deflate-frame, foo; server_max_window_bits=99, ${CHROMIUM}, bar`),
      'permessage-deflate',
    );
    assert.equal(serverAnswer('x-webkit-deflate-frame; no_context_takeover'), null);
    assert.equal(serverAnswer('deflate-frame, permessage-foo'), null);
    assert.equal(serverAnswer('Permessage-Deflate'), null);
    assert.equal(acceptDeflateOffer([]), null);
  });

  it('Autobahn-style lists of several offers: the first acceptable one wins', () => {
    const offers =
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, ' +
      'permessage-deflate; client_no_context_takeover; client_max_window_bits, ' +
      'permessage-deflate';
    assert.equal(
      serverAnswer(offers),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9',
    );
    assert.deepEqual(
      values(acceptDeflateOffer(parseExtensionList(offers))),
      agreed(true, true, 9, 15),
    );
    assert.equal(
      serverAnswer(offers, { clientNoContextTakeover: true, clientMaxWindowBits: 10 }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10',
    );
    // The first two declined (a bad value, an unknown parameter): the third is taken.
    assert.equal(
      serverAnswer(
        'permessage-deflate; server_max_window_bits=16, permessage-deflate; x=1, permessage-deflate; server_no_context_takeover',
      ),
      'permessage-deflate; server_no_context_takeover',
    );
    assert.equal(
      serverAnswer('permessage-deflate; server_max_window_bits=16, permessage-deflate; x=1'),
      null,
    );
  });
});

describe('RFC 7692 §7: the client checks the answer (checkDeflateResponse)', () => {
  it('no permessage-deflate element: declined, which is fine', () => {
    assert.equal(checkDeflateResponse([]), null);
    assert.equal(clientCheck('x-foo; a=1'), null);
  });

  it('two permessage-deflate elements fail the connection', () => {
    assertRefused(
      'permessage-deflate, permessage-deflate; server_no_context_takeover',
      {},
      '2 permessage-deflate elements; a server accepts at most one offer (RFC 7692 §5)',
    );
  });

  it("answers to Chromium's default offer", () => {
    assert.deepEqual(values(clientCheck('permessage-deflate')), agreed(false, false, 15, 15));
    assert.deepEqual(
      values(clientCheck('permessage-deflate; client_max_window_bits=10')),
      agreed(false, false, 15, 10),
    );
    assert.deepEqual(
      values(
        clientCheck(
          'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
        ),
      ),
      agreed(true, true, 9, 8),
    );
  });

  it('the agreement keeps the response element as the server wrote it', () => {
    const extensions = parseExtensionList(
      'x-foo, permessage-deflate; client_max_window_bits="10"; server_no_context_takeover',
    );
    const agreement = checkDeflateResponse(extensions);
    assert.deepEqual(agreement, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
      response: {
        name: 'permessage-deflate',
        params: [
          ['client_max_window_bits', '10'],
          ['server_no_context_takeover', null],
        ],
      },
    });
    assert.equal(agreement?.response, extensions[1]);
  });

  it('syntax: unknown, repeated, valueless and misvalued parameters fail the connection', () => {
    const cases: Array<[string, string]> = [
      ['x_unknown', 'unknown parameter "x_unknown"'],
      ['Server_No_Context_Takeover', 'unknown parameter "Server_No_Context_Takeover"'],
      ['client_max_window_bits', 'client_max_window_bits needs a value'],
      ['server_max_window_bits', 'server_max_window_bits needs a value'],
      ['server_no_context_takeover=1', 'server_no_context_takeover takes no value, but has "1"'],
      ['client_no_context_takeover="x"', 'client_no_context_takeover takes no value, but has "x"'],
      [
        'client_no_context_takeover; client_no_context_takeover',
        'client_no_context_takeover is given more than once',
      ],
      [
        'server_max_window_bits=10; server_max_window_bits=9',
        'server_max_window_bits is given more than once',
      ],
      [
        'server_max_window_bits=08',
        'server_max_window_bits="08" is not an integer from 8 to 15 without a sign or leading zeros',
      ],
      [
        'client_max_window_bits=16',
        'client_max_window_bits="16" is not an integer from 8 to 15 without a sign or leading zeros',
      ],
      [
        'client_max_window_bits=7',
        'client_max_window_bits="7" is not an integer from 8 to 15 without a sign or leading zeros',
      ],
      [
        'server_max_window_bits=-8',
        'server_max_window_bits="-8" is not an integer from 8 to 15 without a sign or leading zeros',
      ],
    ];
    for (const [params, detail] of cases)
      assertRefused(`permessage-deflate; ${params}`, { serverMaxWindowBits: 15 }, detail);
    // An empty value, built by hand (the parser rejects `=""`).
    assert.throws(
      () =>
        checkDeflateResponse([
          { name: PERMESSAGE_DEFLATE, params: [['client_max_window_bits', '']] },
        ]),
      (error: unknown) =>
        error instanceof HandshakeError &&
        error.arg ===
          'client_max_window_bits="" is not an integer from 8 to 15 without a sign or leading zeros',
    );
  });

  it('server_no_context_takeover: required when offered (§7.1.1.1), allowed when not', () => {
    assertRefused(
      'permessage-deflate',
      { serverNoContextTakeover: true },
      'server_no_context_takeover was offered but the response lacks it (RFC 7692 §7.1.1.1)',
    );
    assert.deepEqual(
      values(
        clientCheck('permessage-deflate; server_no_context_takeover', {
          serverNoContextTakeover: true,
        }),
      ),
      agreed(true, false, 15, 15),
    );
    assert.deepEqual(
      values(clientCheck('permessage-deflate; server_no_context_takeover')),
      agreed(true, false, 15, 15),
    );
  });

  it('server_max_window_bits: required and no larger when offered (§7.1.2.1)', () => {
    const settings = { serverMaxWindowBits: 10 } as const;
    assertRefused(
      'permessage-deflate',
      settings,
      'server_max_window_bits=10 was offered but the response lacks it (RFC 7692 §7.1.2.1)',
    );
    assertRefused(
      'permessage-deflate; server_max_window_bits=12',
      settings,
      'server_max_window_bits=12 exceeds the 10 offered (RFC 7692 §7.1.2.1)',
    );
    assertRefused(
      'permessage-deflate; server_max_window_bits=11',
      settings,
      'server_max_window_bits=11 exceeds the 10 offered (RFC 7692 §7.1.2.1)',
    );
    assert.equal(
      clientCheck('permessage-deflate; server_max_window_bits=10', settings)?.serverMaxWindowBits,
      10,
    );
    assert.equal(
      clientCheck('permessage-deflate; server_max_window_bits=8', settings)?.serverMaxWindowBits,
      8,
    );
  });

  it('server_max_window_bits not offered: a valid one is accepted (§7.1.2.1 "MAY include")', () => {
    // ws, Boost.Beast and python-websockets servers configured with a window announce it even
    // to offers without the parameter.
    assert.deepEqual(
      values(clientCheck('permessage-deflate; server_max_window_bits=11')),
      agreed(false, false, 11, 15),
    );
    assert.deepEqual(
      values(
        clientCheck('permessage-deflate; server_max_window_bits=15', {
          clientMaxWindowBits: false,
        }),
      ),
      agreed(false, false, 15, 15),
    );
  });

  it('client_max_window_bits: only if offered, no larger than the offered value (§7.1.2.2)', () => {
    assertRefused(
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: false },
      'client_max_window_bits=10 was not offered (RFC 7692 §7.1.2.2)',
    );
    assertRefused(
      'permessage-deflate; client_max_window_bits=13',
      { clientMaxWindowBits: 12 },
      'client_max_window_bits=13 exceeds the 12 offered (RFC 7692 §7.1.2.2)',
    );
    assert.equal(
      clientCheck('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 12 })
        ?.clientMaxWindowBits,
      12,
    );
    assert.equal(
      clientCheck('permessage-deflate; client_max_window_bits=8', { clientMaxWindowBits: 12 })
        ?.clientMaxWindowBits,
      8,
    );
    assert.equal(
      clientCheck('permessage-deflate; client_max_window_bits=15', { clientMaxWindowBits: true })
        ?.clientMaxWindowBits,
      15,
    );
  });

  it("the offer's promises hold when the response does not repeat them (§7.1.1.2, §7.1.2.2)", () => {
    // The client offered to stay within 2^12 bytes; a server may size its inflater on that.
    assert.deepEqual(
      values(clientCheck('permessage-deflate', { clientMaxWindowBits: 12 })),
      agreed(false, false, 15, 12),
    );
    // The client said it will not take over its context.
    assert.deepEqual(
      values(clientCheck('permessage-deflate', { clientNoContextTakeover: true })),
      agreed(false, true, 15, 15),
    );
    // client_no_context_takeover in a response is always allowed.
    assert.deepEqual(
      values(
        clientCheck('permessage-deflate; client_no_context_takeover', {
          clientMaxWindowBits: false,
        }),
      ),
      agreed(false, true, 15, 15),
    );
  });

  it("python-websockets' offer and its usual answers", () => {
    const settings = { serverMaxWindowBits: 12, clientMaxWindowBits: 12 } as const;
    assert.equal(offerHeader(settings), PYTHON_WEBSOCKETS);
    assert.deepEqual(
      values(clientCheck(PYTHON_WEBSOCKETS, settings)),
      agreed(false, false, 12, 12),
    );
    assert.deepEqual(
      values(
        clientCheck(
          'permessage-deflate; server_max_window_bits=9; client_max_window_bits=10',
          settings,
        ),
      ),
      agreed(false, false, 9, 10),
    );
    assertRefused(
      'permessage-deflate; client_max_window_bits=12',
      settings,
      'server_max_window_bits=12 was offered but the response lacks it (RFC 7692 §7.1.2.1)',
    );
  });

  it('every invalid element of the server-side list is refused on the client side too', () => {
    for (const bad of INVALID_PARAMS) {
      assert.throws(
        () => clientCheck(`permessage-deflate; ${bad}`, { serverMaxWindowBits: 15 }),
        (error: unknown) =>
          error instanceof HandshakeError && error.reason === 'INVALID_EXTENSION_RESPONSE',
        bad,
      );
    }
  });
});

describe("offer → answer → check, over a grid of both sides' settings", () => {
  const flags = [undefined, true] as const;
  const serverBits = [undefined, 8, 12, 15] as const;
  const clientBits = [undefined, false, true, 9, 15] as const;
  const grid: DeflateNegotiation[] = [];
  for (const serverNoContextTakeover of flags)
    for (const clientNoContextTakeover of flags)
      for (const serverMaxWindowBits of serverBits)
        for (const clientMaxWindowBits of clientBits)
          grid.push({
            serverNoContextTakeover,
            clientNoContextTakeover,
            serverMaxWindowBits,
            clientMaxWindowBits,
          });

  it('the server always accepts, the client accepts the answer, and they agree', () => {
    let pairs = 0;
    for (const client of grid)
      for (const server of grid) {
        const label = JSON.stringify({ client, server });
        const request = offerHeader(client);
        const serverSide = acceptDeflateOffer(parseExtensionList(request), server);
        assert.ok(serverSide !== null, label);
        const response = formatExtensionList([serverSide.response]);
        const clientSide = clientCheck(response, client);
        assert.ok(clientSide !== null, label);
        assert.deepEqual(clientSide.response, serverSide.response, label);
        assert.equal(clientSide.serverNoContextTakeover, serverSide.serverNoContextTakeover, label);
        assert.equal(clientSide.serverMaxWindowBits, serverSide.serverMaxWindowBits, label);
        assert.equal(clientSide.clientMaxWindowBits, serverSide.clientMaxWindowBits, label);
        // The client may bind itself further than the server asked, never less.
        assert.equal(
          clientSide.clientNoContextTakeover,
          serverSide.clientNoContextTakeover || client.clientNoContextTakeover === true,
          label,
        );
        // What each side asked for, it got.
        if (client.serverNoContextTakeover === true) assert.ok(serverSide.serverNoContextTakeover);
        if (server.serverNoContextTakeover === true) assert.ok(serverSide.serverNoContextTakeover);
        if (client.serverMaxWindowBits !== undefined)
          assert.ok(serverSide.serverMaxWindowBits <= client.serverMaxWindowBits, label);
        if (typeof client.clientMaxWindowBits === 'number')
          assert.ok(clientSide.clientMaxWindowBits <= client.clientMaxWindowBits, label);
        pairs++;
      }
    assert.equal(pairs, 80 * 80);
  });
});

describe('checkDeflateNegotiation: the settings themselves', () => {
  it('accepts every valid setting in both roles, booleans for clientMaxWindowBits included', () => {
    for (const role of ['client', 'server'] as const) {
      checkDeflateNegotiation({}, role);
      for (const bits of [8, 9, 10, 11, 12, 13, 14, 15] as const)
        checkDeflateNegotiation({ serverMaxWindowBits: bits, clientMaxWindowBits: bits }, role);
      checkDeflateNegotiation(
        {
          serverNoContextTakeover: false,
          clientNoContextTakeover: true,
          clientMaxWindowBits: false,
        },
        role,
      );
      checkDeflateNegotiation({ clientMaxWindowBits: true }, role);
    }
  });

  it('rejects window bits outside 8..15 or not integers, and non-boolean flags', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { serverMaxWindowBits: 16 },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not 16',
      ],
      [
        { serverMaxWindowBits: 7 },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not 7',
      ],
      [
        { serverMaxWindowBits: 9.5 },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not 9.5',
      ],
      [
        { serverMaxWindowBits: '10' },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not "10"',
      ],
      [
        { serverMaxWindowBits: true },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not true',
      ],
      [
        { serverMaxWindowBits: NaN },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not NaN',
      ],
      [
        { serverMaxWindowBits: null },
        'perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not null',
      ],
      [
        { clientMaxWindowBits: 16 },
        'perMessageDeflate.clientMaxWindowBits must be a boolean or an integer from 8 to 15, not 16',
      ],
      [
        { clientMaxWindowBits: 0 },
        'perMessageDeflate.clientMaxWindowBits must be a boolean or an integer from 8 to 15, not 0',
      ],
      [
        { clientMaxWindowBits: 'true' },
        'perMessageDeflate.clientMaxWindowBits must be a boolean or an integer from 8 to 15, not "true"',
      ],
      [
        { serverNoContextTakeover: 'yes' },
        'perMessageDeflate.serverNoContextTakeover must be a boolean, not "yes"',
      ],
      [
        { clientNoContextTakeover: 1 },
        'perMessageDeflate.clientNoContextTakeover must be a boolean, not 1',
      ],
    ];
    for (const [raw, message] of cases) {
      const settings = raw as DeflateNegotiation;
      for (const role of ['client', 'server'] as const)
        assertInvalidOption(() => checkDeflateNegotiation(settings, role), message);
      // The negotiation functions check their settings too, so no bad header is ever written.
      assertInvalidOption(() => deflateOffer(settings), message);
      assertInvalidOption(() => acceptDeflateOffer(parseExtensionList(FIREFOX), settings), message);
      assertInvalidOption(() => checkDeflateResponse([], settings), message);
    }
  });
});
