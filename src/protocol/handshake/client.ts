/**
 * The client's side of the opening handshake (RFC 6455 §4.1), as pure functions: the request's
 * WebSocket headers, and the check of the server's response.
 *
 * Two policies, as on the server side:
 * - `'poco'`: POCO's `WebSocket::connect` and `completeHandshake` (Net/src/WebSocket.cpp):
 *   401 → error 6, 200 → 1 "does not understand", another non-101 → 1 "Cannot upgrade", then
 *   `Connection` equal to `Upgrade` as a whole value → 1, `Upgrade` equal to `websocket` → 1,
 *   `Sec-WebSocket-Accept` exactly right → 5. The 401 retry with credentials is the caller's.
 * - `'rfc'`: `Connection` only has to *contain* the token `upgrade` (RFC 6455 §4.1 step 3 of the
 *   response checks), and the server may select only a subprotocol and extensions that were
 *   offered (steps 5 and 6).
 */
import { WEBSOCKET_VERSION } from '../constants.js';
import { HandshakeError } from '../errors.js';
import {
  HeaderSyntaxError,
  formatProtocolList,
  hasToken,
  isToken,
  parseExtensionList,
  type ExtensionOffer,
} from './headers.js';
import { computeAccept } from './keys.js';
import { headerLookup, type HeaderSource } from './header-lookup.js';
import type { HandshakePolicy } from './server.js';

/** The WebSocket headers of an upgrade request, in POCO's order. */
export function upgradeRequestHeaders(
  key: string,
  options: { protocols?: readonly string[]; extensions?: string } = {},
): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', WEBSOCKET_VERSION],
    ['Sec-WebSocket-Key', key],
  ];
  if (options.protocols !== undefined && options.protocols.length > 0)
    headers.push(['Sec-WebSocket-Protocol', formatProtocolList(options.protocols)]);
  if (options.extensions !== undefined)
    headers.push(['Sec-WebSocket-Extensions', options.extensions]);
  return headers;
}

/** The parts of a response that {@link checkUpgradeResponse} reads. */
export interface UpgradeResponse {
  /** The HTTP status (101 to accept). */
  readonly status: number;
  /** The reason phrase, e.g. `Not Found`. */
  readonly reason: string;
  /** The header fields, as a lookup function or a record (see {@link headerLookup}). */
  readonly headers: HeaderSource;
}

/** What the server agreed to. */
export interface CompletedUpgrade {
  /** The selected subprotocol, if any. */
  readonly protocol: string | undefined;
  /** The extensions in use, in the server's order. */
  readonly extensions: ExtensionOffer[];
}

/**
 * What {@link checkUpgradeResponse} returns: what the server agreed to, or why the handshake
 * failed.
 */
export type ResponseCheck =
  | ({
      /** The server accepted the upgrade. */
      readonly ok: true;
    } & CompletedUpgrade)
  | {
      /** The handshake failed. */
      readonly ok: false;
      /** The rule the response broke, with its HTTP status. */
      readonly error: HandshakeError;
    };

/** What the upgrade request offered, against which the response is checked. */
export interface ClientOffer {
  /** Subprotocols the request offered (RFC policy: the server must pick one of them or none). */
  readonly protocols?: readonly string[];
  /** Extension names the request offered (RFC policy: the server must not use others). */
  readonly extensions?: readonly string[];
}

/** Checks the response to an upgrade request sent with `key`. Never throws. */
export function checkUpgradeResponse(
  response: UpgradeResponse,
  key: string,
  policy: HandshakePolicy = 'rfc',
  offer: ClientOffer = {},
): ResponseCheck {
  const refuse = (error: HandshakeError): ResponseCheck => ({ ok: false, error });
  if (response.status !== 101) {
    if (response.status === 401) return refuse(new HandshakeError('UNAUTHORIZED'));
    if (response.status === 200) return refuse(new HandshakeError('NOT_UNDERSTOOD'));
    return refuse(new HandshakeError('CANNOT_UPGRADE', response.reason));
  }
  const get = headerLookup(response.headers);
  const rfc = policy === 'rfc';

  const connection = get('connection') ?? '';
  const connectionOk = rfc
    ? hasToken(connection, 'upgrade')
    : connection.trim().toLowerCase() === 'upgrade';
  if (!connectionOk) return refuse(new HandshakeError('NO_CONNECTION_UPGRADE'));
  if ((get('upgrade') ?? '').trim().toLowerCase() !== 'websocket')
    return refuse(new HandshakeError('NO_UPGRADE_WEBSOCKET'));
  if ((get('sec-websocket-accept') ?? '').trim() !== computeAccept(key))
    return refuse(new HandshakeError('INVALID_ACCEPT'));

  const protocolHeader = get('sec-websocket-protocol');
  const protocol = protocolHeader?.trim();
  let extensions: ExtensionOffer[] = [];
  if (rfc) {
    if (
      protocol !== undefined &&
      (!isToken(protocol) || !(offer.protocols ?? []).includes(protocol))
    )
      return refuse(new HandshakeError('UNEXPECTED_SUBPROTOCOL', protocol));
    const extensionHeader = get('sec-websocket-extensions');
    if (extensionHeader !== undefined) {
      try {
        extensions = parseExtensionList(extensionHeader);
      } catch (error) {
        if (error instanceof HeaderSyntaxError)
          return refuse(new HandshakeError('INVALID_HEADER', error.message));
        throw error;
      }
      const offered = offer.extensions ?? [];
      const unexpected = extensions.find((extension) => !offered.includes(extension.name));
      if (unexpected !== undefined)
        return refuse(new HandshakeError('UNEXPECTED_EXTENSION', unexpected.name));
    }
  }
  return { ok: true, protocol: protocol === '' ? undefined : protocol, extensions };
}
