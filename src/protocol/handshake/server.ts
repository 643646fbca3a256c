/**
 * The server's side of the opening handshake (RFC 6455 §4.2), as pure functions: check a request,
 * then build the 101 response's headers or a rejection. Sending is the I/O layer's job.
 *
 * Two policies:
 * - `'poco'`: exactly POCO's `WebSocket::accept` (Net/src/WebSocket.cpp), in its order:
 *   `Connection` has the token `upgrade` and `Upgrade` is `websocket` (the whole value,
 *   case-insensitively) → error 1; `Sec-WebSocket-Version` present → 2, and `"13"` → 3;
 *   `Sec-WebSocket-Key` not blank → 4. Method, HTTP version, Host and the key's format are not
 *   checked.
 * - `'rfc'`: every MUST of RFC 6455 §4.2.1 as well: GET, HTTP/1.1 or later, a Host, `Upgrade`
 *   holding the token `websocket`, a key that is the base64 of 16 bytes, and well-formed
 *   `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` lists.
 */
import { WEBSOCKET_VERSION } from '../constants.js';
import { HandshakeError } from '../errors.js';
import {
  HeaderSyntaxError,
  hasToken,
  parseExtensionList,
  parseProtocolList,
  type ExtensionOffer,
} from './headers.js';
import { computeAccept, isValidKey } from './keys.js';
import { headerLookup, type HeaderSource } from './header-lookup.js';

/**
 * Which checks run: `rfc` (RFC 6455 §4.2.1 and §4.1, every rule) or `poco` (POCO's checks and
 * messages, as the POCO facade needs them).
 */
export type HandshakePolicy = 'poco' | 'rfc';

/** The parts of an upgrade request that {@link checkUpgradeRequest} reads. */
export interface UpgradeRequest {
  /** The request method, e.g. `GET`. */
  readonly method: string;
  /** The HTTP version without the `HTTP/` prefix, e.g. `1.1`. */
  readonly httpVersion: string;
  /** The header fields, as a lookup function or a record (see {@link headerLookup}). */
  readonly headers: HeaderSource;
}

/** What an acceptable upgrade request asks for. */
export interface AcceptedUpgrade {
  /** The client's `Sec-WebSocket-Key`. */
  readonly key: string;
  /** The `Sec-WebSocket-Accept` value to answer with. */
  readonly accept: string;
  /** Subprotocols offered, in the client's order of preference (empty if none). */
  readonly protocols: string[];
  /** Extensions offered, in order (empty if none). */
  readonly extensions: ExtensionOffer[];
}

/** What {@link checkUpgradeRequest} returns: the accepted upgrade, or the refusal. */
export type UpgradeCheck =
  | ({
      /** The request is an acceptable upgrade. */
      readonly ok: true;
    } & AcceptedUpgrade)
  | {
      /** The request is refused. */
      readonly ok: false;
      /** The rule it broke (answer with {@link rejectionResponse}). */
      readonly error: HandshakeError;
    };

function isHttp11OrLater(version: string): boolean {
  if (version === '1.1') return true; // nearly every request: no split, no array
  const [major, minor] = version.split('.').map(Number);
  return major !== undefined && minor !== undefined && (major > 1 || (major === 1 && minor >= 1));
}

/** Checks an upgrade request. Never throws: a refusal comes back as `{ ok: false, error }`. */
export function checkUpgradeRequest(
  request: UpgradeRequest,
  policy: HandshakePolicy = 'rfc',
): UpgradeCheck {
  const get = headerLookup(request.headers);
  const refuse = (error: HandshakeError): UpgradeCheck => ({ ok: false, error });
  const rfc = policy === 'rfc';

  if (rfc && request.method !== 'GET')
    return refuse(new HandshakeError('METHOD_NOT_GET', request.method));
  if (rfc && !isHttp11OrLater(request.httpVersion))
    return refuse(new HandshakeError('HTTP_VERSION', `HTTP/${request.httpVersion}`));

  const upgrade = get('upgrade') ?? '';
  const upgradeOk = rfc ? hasToken(upgrade, 'websocket') : upgrade.toLowerCase() === 'websocket';
  if (!hasToken(get('connection'), 'upgrade') || !upgradeOk)
    return refuse(new HandshakeError('NO_HANDSHAKE'));
  if (rfc && (get('host') ?? '').trim() === '') return refuse(new HandshakeError('NO_HOST'));

  const version = (get('sec-websocket-version') ?? '').trim();
  if (version === '') return refuse(new HandshakeError('NO_VERSION'));
  if (version !== WEBSOCKET_VERSION)
    return refuse(new HandshakeError('UNSUPPORTED_VERSION', version));

  const key = (get('sec-websocket-key') ?? '').trim();
  if (key === '') return refuse(new HandshakeError('NO_KEY'));
  if (rfc && !isValidKey(key)) return refuse(new HandshakeError('INVALID_KEY', key));

  let protocols: string[] = [];
  let extensions: ExtensionOffer[] = [];
  if (rfc) {
    try {
      const protocolHeader = get('sec-websocket-protocol');
      if (protocolHeader !== undefined) protocols = parseProtocolList(protocolHeader);
      const extensionHeader = get('sec-websocket-extensions');
      if (extensionHeader !== undefined) extensions = parseExtensionList(extensionHeader);
    } catch (error) {
      if (error instanceof HeaderSyntaxError)
        return refuse(new HandshakeError('INVALID_HEADER', error.message));
      throw error;
    }
  }
  return { ok: true, key, accept: computeAccept(key), protocols, extensions };
}

/** The status and headers to refuse a handshake with (RFC 6455 §4.2.2, §4.4). */
export function rejectionResponse(error: HandshakeError): {
  /** The HTTP status: 400. */
  status: number;
  /** `Sec-WebSocket-Version: 13` when the version was the problem (§4.4), else none. */
  headers: Array<[string, string]>;
} {
  // §4.4: a server that does not speak the requested version says which one it does speak.
  const versionProblem = error.reason === 'NO_VERSION' || error.reason === 'UNSUPPORTED_VERSION';
  return {
    status: 400,
    headers: versionProblem ? [['Sec-WebSocket-Version', WEBSOCKET_VERSION]] : [],
  };
}

/** The headers of a 101 response accepting `key`, optionally with a subprotocol and extensions. */
export function acceptResponseHeaders(
  accept: string,
  options: { protocol?: string; extensions?: string } = {},
): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  if (options.protocol !== undefined) headers.push(['Sec-WebSocket-Protocol', options.protocol]);
  if (options.extensions !== undefined)
    headers.push(['Sec-WebSocket-Extensions', options.extensions]);
  return headers;
}
