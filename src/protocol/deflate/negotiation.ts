/**
 * The negotiation of permessage-deflate (RFC 7692 §5, §7.1), as pure functions over parsed
 * `Sec-WebSocket-Extensions` elements: the client's offer, the server's choice among the offers,
 * and the client's check of the server's answer. No compression happens here; the result of a
 * negotiation is a {@link DeflateAgreement} that the compression code is configured from.
 *
 * The four parameters of RFC 7692 §7.1, in the order every element built here lists them:
 *
 * | parameter                    | offer (client → server) | response (server → client) |
 * | ---------------------------- | ----------------------- | -------------------------- |
 * | `server_no_context_takeover` | no value                | no value                   |
 * | `client_no_context_takeover` | no value                | no value                   |
 * | `server_max_window_bits`     | value required          | value required             |
 * | `client_max_window_bits`     | value optional          | value required             |
 *
 * A value is `8`…`15` written exactly so: decimal, no sign, no leading zero (§7.1.2.1, §7.1.2.2).
 * The header parser has already removed any quotes (`server_max_window_bits="10"` is allowed by
 * the extension grammar of RFC 6455 §9.1), so the check is on the unquoted text.
 *
 * The two sides treat a bad element differently, as §7 requires: a server *declines* an offer it
 * cannot accept (it is skipped, and the client may have sent a fallback after it), while a client
 * *fails the connection* on a response it cannot accept (a {@link HandshakeError}).
 */
import { HandshakeError, InvalidArgumentError } from '../errors.js';
import type { ExtensionOffer } from '../handshake/headers.js';

/** The extension's registered name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** LZ77 window sizes, as log2, that RFC 7692 allows. */
export type WindowBits = 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15;

/** What the two sides agreed (RFC 7692 §7.1). */
export interface DeflateAgreement {
  /** The server resets its compression context after each message. */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  readonly clientNoContextTakeover: boolean;
  /** Largest window the server may compress with: the negotiated value, else 15. */
  readonly serverMaxWindowBits: WindowBits;
  /** Largest window the client may compress with: the negotiated value, else 15. */
  readonly clientMaxWindowBits: WindowBits;
  /** The accepted extension as the response states it (one Sec-WebSocket-Extensions element). */
  readonly response: ExtensionOffer;
}

/**
 * One side's negotiation settings; every field optional.
 *
 * As a client's, they say what to offer (see {@link deflateOffer}); as a server's, how far to go
 * beyond what the client asked for (see {@link acceptDeflateOffer}).
 */
export interface DeflateNegotiation {
  /** Client: ask the server to reset its context per message. Server: always do so. */
  readonly serverNoContextTakeover?: boolean;
  /** Client: promise to reset the context per message. Server: require the client to. */
  readonly clientNoContextTakeover?: boolean;
  /** Client: the largest server window to ask for. Server: the largest window it compresses with. */
  readonly serverMaxWindowBits?: WindowBits;
  /**
   * Client: `true` (the default) offers `client_max_window_bits` without a value, a number offers
   * it with that value, `false` leaves it out. Server: a number caps the client's window when the
   * offer allows it; a boolean means nothing.
   */
  readonly clientMaxWindowBits?: WindowBits | boolean;
}

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

/** The window a side may use when nothing limits it: 2^15 = 32,768 bytes (§7.1.2.1, §7.1.2.2). */
const MAX_WINDOW_BITS = 15;

/** The only spellings a window value may have; index + 8 is the value. */
const WINDOW_BITS_TEXT = ['8', '9', '10', '11', '12', '13', '14', '15'];

/** One permessage-deflate element, its parameters read. */
interface DeflateParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: WindowBits | undefined;
  /** `true`: the parameter without a value, which only an offer may have (§7.1.2.2). */
  readonly clientMaxWindowBits: WindowBits | true | undefined;
}

function isWindowBits(value: unknown): value is WindowBits {
  return typeof value === 'number' && Number.isInteger(value) && value >= 8 && value <= 15;
}

function minBits(a: WindowBits, b: WindowBits): WindowBits {
  return a < b ? a : b;
}

/**
 * Reads the parameters of one element, or says what is wrong with them. §7 lists what makes an
 * element unacceptable to either side: a parameter not defined for its direction, a parameter
 * with an invalid value, and a parameter given more than once.
 */
function readParams(
  params: ExtensionOffer['params'],
  direction: 'offer' | 'response',
): DeflateParams | string {
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverMaxWindowBits: WindowBits | undefined;
  let clientMaxWindowBits: WindowBits | true | undefined;
  const seen = new Set<string>();
  for (const [name, value] of params) {
    // Names are matched exactly, as the extension name is by the handshake code: RFC 7692
    // defines them in lower case and gives no case-insensitive reading.
    if (
      name !== SERVER_NO_CONTEXT_TAKEOVER &&
      name !== CLIENT_NO_CONTEXT_TAKEOVER &&
      name !== SERVER_MAX_WINDOW_BITS &&
      name !== CLIENT_MAX_WINDOW_BITS
    )
      return `unknown parameter ${JSON.stringify(name)}`;
    if (seen.has(name)) return `${name} is given more than once`;
    seen.add(name);
    if (name === SERVER_NO_CONTEXT_TAKEOVER || name === CLIENT_NO_CONTEXT_TAKEOVER) {
      // §7.1.1.1, §7.1.1.2: "This extension parameter has no value."
      if (value !== null) return `${name} takes no value, but has ${JSON.stringify(value)}`;
      if (name === SERVER_NO_CONTEXT_TAKEOVER) serverNoContextTakeover = true;
      else clientNoContextTakeover = true;
      continue;
    }
    if (value === null) {
      // §7.1.2.2: only an offer's client_max_window_bits may come without a value (it then says
      // only that the client understands the parameter in a response).
      if (name === CLIENT_MAX_WINDOW_BITS && direction === 'offer') {
        clientMaxWindowBits = true;
        continue;
      }
      return `${name} needs a value`;
    }
    const index = WINDOW_BITS_TEXT.indexOf(value);
    if (index === -1)
      return `${name}=${JSON.stringify(value)} is not an integer from 8 to 15 without a sign or leading zeros`;
    const bits = (index + 8) as WindowBits;
    if (name === SERVER_MAX_WINDOW_BITS) serverMaxWindowBits = bits;
    else clientMaxWindowBits = bits;
  }
  return {
    serverNoContextTakeover,
    clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

/** The parameters of an element, in the one order this module writes them. */
function writeParams(p: DeflateParams): Array<[string, string | null]> {
  const params: Array<[string, string | null]> = [];
  if (p.serverNoContextTakeover) params.push([SERVER_NO_CONTEXT_TAKEOVER, null]);
  if (p.clientNoContextTakeover) params.push([CLIENT_NO_CONTEXT_TAKEOVER, null]);
  if (p.serverMaxWindowBits !== undefined)
    params.push([SERVER_MAX_WINDOW_BITS, String(p.serverMaxWindowBits)]);
  if (p.clientMaxWindowBits !== undefined)
    params.push([
      CLIENT_MAX_WINDOW_BITS,
      p.clientMaxWindowBits === true ? null : String(p.clientMaxWindowBits),
    ]);
  return params;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Checks a side's settings, so that a bad option fails where it is given rather than as a
 * malformed header later. Every rule holds for both roles; `clientMaxWindowBits` may be a boolean
 * for either, although only a client's offer gives the boolean a meaning. The role is taken so
 * that callers state it, and so that a role-specific rule can be added without a new signature.
 */
export function checkDeflateNegotiation(
  settings: DeflateNegotiation,
  _role: 'client' | 'server',
): void {
  for (const name of ['serverNoContextTakeover', 'clientNoContextTakeover'] as const) {
    const value: unknown = settings[name];
    if (value !== undefined && typeof value !== 'boolean')
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        `perMessageDeflate.${name} must be a boolean, not ${describe(value)}`,
      );
  }
  const server: unknown = settings.serverMaxWindowBits;
  if (server !== undefined && !isWindowBits(server))
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `perMessageDeflate.serverMaxWindowBits must be an integer from 8 to 15, not ${describe(server)}`,
    );
  const client: unknown = settings.clientMaxWindowBits;
  if (client !== undefined && typeof client !== 'boolean' && !isWindowBits(client))
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `perMessageDeflate.clientMaxWindowBits must be a boolean or an integer from 8 to 15, not ${describe(client)}`,
    );
}

/**
 * Server: picks the offer to accept from a request's whole `Sec-WebSocket-Extensions` list and
 * builds the response element for it; `null` if there is none to accept (the connection then
 * goes on uncompressed).
 *
 * Elements of other extensions are ignored. The permessage-deflate offers are taken in the
 * client's order of preference (§5); one that breaks a rule of §7 is declined, never an error,
 * since the client may have sent a simpler fallback after it. The first valid offer is accepted:
 * every valid offer is acceptable, because the server can honour every parameter (§7.1).
 *
 * The response:
 * - `server_no_context_takeover` if the offer asks for it (accepting means honouring it,
 *   §7.1.1.1) or the settings want it (a server may always add it, §7.1.1.1).
 * - `client_no_context_takeover` if the settings want it (a server may always add it,
 *   §7.1.1.2) or the offer has it: the offer's is only a hint, which §7.1.1.2 lets the server
 *   make binding by echoing it, and then the server keeps no history of the client's messages
 *   (ws's client, for one, keeps the promise only when the response repeats it).
 * - `server_max_window_bits=min(offer, settings)` if the offer has it: accepting means answering
 *   with the same or a smaller value (§7.1.2.1). If the offer does not have it the response
 *   leaves it out too. §7.1.2.1 would allow it, but some clients fail the handshake on a
 *   parameter they did not offer, and a server can compress with a smaller window than the one
 *   it announces without telling anyone.
 * - `client_max_window_bits` only if the offer has it (§7.1.2.2: "MUST NOT" otherwise): the
 *   smaller of the offer's value (15 without one) and the settings' number; the offer's value
 *   echoed when the settings give no number; left out when neither gives a value.
 */
export function acceptDeflateOffer(
  offers: readonly ExtensionOffer[],
  settings: DeflateNegotiation = {},
): DeflateAgreement | null {
  checkDeflateNegotiation(settings, 'server');
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const offered = readParams(offer.params, 'offer');
    if (typeof offered === 'string') continue; // §7: "A server MUST decline ..."

    let serverMaxWindowBits: WindowBits | undefined;
    if (offered.serverMaxWindowBits !== undefined)
      serverMaxWindowBits = minBits(
        offered.serverMaxWindowBits,
        settings.serverMaxWindowBits ?? offered.serverMaxWindowBits,
      );

    let clientMaxWindowBits: WindowBits | undefined;
    if (offered.clientMaxWindowBits !== undefined) {
      const limit = offered.clientMaxWindowBits === true ? 15 : offered.clientMaxWindowBits;
      if (typeof settings.clientMaxWindowBits === 'number')
        clientMaxWindowBits = minBits(limit, settings.clientMaxWindowBits);
      else if (offered.clientMaxWindowBits !== true) clientMaxWindowBits = limit;
    }

    const response: DeflateParams = {
      serverNoContextTakeover:
        offered.serverNoContextTakeover || settings.serverNoContextTakeover === true,
      clientNoContextTakeover:
        offered.clientNoContextTakeover || settings.clientNoContextTakeover === true,
      serverMaxWindowBits,
      clientMaxWindowBits,
    };
    return {
      serverNoContextTakeover: response.serverNoContextTakeover,
      clientNoContextTakeover: response.clientNoContextTakeover,
      serverMaxWindowBits: serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: clientMaxWindowBits ?? MAX_WINDOW_BITS,
      response: { name: PERMESSAGE_DEFLATE, params: writeParams(response) },
    };
  }
  return null;
}

/** What a client with these settings offers, read as {@link readParams} would read it. */
function offerParams(settings: DeflateNegotiation): DeflateParams {
  const { clientMaxWindowBits } = settings;
  return {
    serverNoContextTakeover: settings.serverNoContextTakeover === true,
    clientNoContextTakeover: settings.clientNoContextTakeover === true,
    serverMaxWindowBits: settings.serverMaxWindowBits,
    clientMaxWindowBits:
      clientMaxWindowBits === false
        ? undefined
        : clientMaxWindowBits === undefined || clientMaxWindowBits === true
          ? true
          : clientMaxWindowBits,
  };
}

/**
 * Client: the one permessage-deflate element to offer. By default it is
 * `permessage-deflate; client_max_window_bits`, the offer of Chromium and ws: it lets the server
 * limit the client's window (§7.1.2.2), which a server short of memory may want, and costs nothing
 * when the server does not.
 */
export function deflateOffer(settings: DeflateNegotiation = {}): ExtensionOffer {
  checkDeflateNegotiation(settings, 'client');
  return { name: PERMESSAGE_DEFLATE, params: writeParams(offerParams(settings)) };
}

function invalidResponse(detail: string): HandshakeError {
  return new HandshakeError('INVALID_EXTENSION_RESPONSE', detail);
}

/**
 * Client: checks the server's answer to {@link deflateOffer}`(settings)`. `extensions` is the
 * response's parsed `Sec-WebSocket-Extensions` list, already checked to name only offered
 * extensions. `null` if the server declined permessage-deflate (no element for it), which is
 * fine: the connection goes on uncompressed.
 *
 * Otherwise the element must be one the offer allows, or the client fails the connection (§7):
 * - exactly one permessage-deflate element: two would both claim RSV1 (§5);
 * - each parameter defined, valid and given once; `client_max_window_bits` with a value;
 * - `server_no_context_takeover` present if offered: the server accepts that parameter only by
 *   echoing it (§7.1.1.1); unasked, it is fine (the server may add it);
 * - `server_max_window_bits` present if offered, and no larger than offered (§7.1.2.1);
 *   unasked, any valid value is fine: "A server MAY include the server_max_window_bits extension
 *   parameter in an extension negotiation response even if the extension negotiation offer being
 *   accepted by the response didn't include" it (§7.1.2.1), and ws, Boost.Beast and
 *   python-websockets servers do so when configured with a window;
 * - `client_max_window_bits` only if offered, and no larger than the offered value (§7.1.2.2);
 * - `client_no_context_takeover`: always allowed (§7.1.1.2).
 *
 * The agreement is the response's values, with two promises of the offer kept: an offered
 * `client_no_context_takeover` holds even if the response leaves it out (§7.1.1.2), and so does an
 * offered `client_max_window_bits=N` (§7.1.2.2: the client "is not going to use an LZ77 sliding
 * window size greater than" N), since a server may size its inflater on either without echoing
 * them.
 */
export function checkDeflateResponse(
  extensions: readonly ExtensionOffer[],
  settings: DeflateNegotiation = {},
): DeflateAgreement | null {
  checkDeflateNegotiation(settings, 'client');
  const accepted = extensions.filter((extension) => extension.name === PERMESSAGE_DEFLATE);
  const element = accepted[0];
  if (element === undefined) return null;
  if (accepted.length > 1)
    throw invalidResponse(
      `${accepted.length} permessage-deflate elements; a server accepts at most one offer (RFC 7692 §5)`,
    );
  const answer = readParams(element.params, 'response');
  if (typeof answer === 'string') throw invalidResponse(answer);
  const offer = offerParams(settings);

  if (offer.serverNoContextTakeover && !answer.serverNoContextTakeover)
    throw invalidResponse(
      `${SERVER_NO_CONTEXT_TAKEOVER} was offered but the response lacks it (RFC 7692 §7.1.1.1)`,
    );

  if (offer.serverMaxWindowBits !== undefined) {
    if (answer.serverMaxWindowBits === undefined)
      throw invalidResponse(
        `${SERVER_MAX_WINDOW_BITS}=${offer.serverMaxWindowBits} was offered but the response lacks it (RFC 7692 §7.1.2.1)`,
      );
    if (answer.serverMaxWindowBits > offer.serverMaxWindowBits)
      throw invalidResponse(
        `${SERVER_MAX_WINDOW_BITS}=${answer.serverMaxWindowBits} exceeds the ${offer.serverMaxWindowBits} offered (RFC 7692 §7.1.2.1)`,
      );
  }

  // readParams gives a response's client_max_window_bits a value or rejects it.
  let clientMaxWindowBits: WindowBits = MAX_WINDOW_BITS;
  if (typeof offer.clientMaxWindowBits === 'number')
    clientMaxWindowBits = offer.clientMaxWindowBits;
  if (typeof answer.clientMaxWindowBits === 'number') {
    if (offer.clientMaxWindowBits === undefined)
      throw invalidResponse(
        `${CLIENT_MAX_WINDOW_BITS}=${answer.clientMaxWindowBits} was not offered (RFC 7692 §7.1.2.2)`,
      );
    if (answer.clientMaxWindowBits > clientMaxWindowBits)
      throw invalidResponse(
        `${CLIENT_MAX_WINDOW_BITS}=${answer.clientMaxWindowBits} exceeds the ${clientMaxWindowBits} offered (RFC 7692 §7.1.2.2)`,
      );
    clientMaxWindowBits = answer.clientMaxWindowBits;
  }

  return {
    serverNoContextTakeover: answer.serverNoContextTakeover,
    clientNoContextTakeover: answer.clientNoContextTakeover || offer.clientNoContextTakeover,
    serverMaxWindowBits: answer.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    clientMaxWindowBits,
    response: element,
  };
}
