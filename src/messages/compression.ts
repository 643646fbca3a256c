/**
 * permessage-deflate for the message API (RFC 7692): the `perMessageDeflate` option, its
 * defaults, and the negotiation of each role on top of the protocol core's negotiation and codec.
 *
 * The defaults come from measurements (README, "Compression"). A client offers compression (as
 * browsers, ws and python-websockets do); a server accepts it only when asked to
 * (`perMessageDeflate: true`), as ws's does: compressing costs CPU on every message (tens of
 * microseconds per KiB), which a server should choose to spend. Either side compresses with a
 * 4 KiB window (12 bits) and memLevel 5, and a server asks clients that allow it to compress
 * with a 4 KiB window too. With the core's codec a connection holds nothing but its LZ77
 * histories between messages, so an idle compressed connection costs 2^bits bytes per direction
 * (none without context takeover), and a server can cap the total with `maxCompressionMemory`.
 */
import { DEFAULT_DEFLATE_SETTINGS, PerMessageDeflate } from '../protocol/deflate/codec.js';
import {
  acceptDeflateOffer,
  checkDeflateNegotiation,
  checkDeflateResponse,
  deflateOffer,
  type DeflateAgreement,
  type WindowBits,
} from '../protocol/deflate/negotiation.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { formatExtensionList, type ExtensionOffer } from '../protocol/handshake/headers.js';

/** The `perMessageDeflate` option's object form; every field is optional. */
export interface PerMessageDeflateOptions {
  /**
   * Server: always reset the compression context between messages (and say so). Client: ask the
   * server to. Costs compression ratio, saves the server's send history.
   */
  readonly serverNoContextTakeover?: boolean;
  /** Server: ask clients to reset their context between messages. Client: do so, and say so. */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Server: the window it compresses with (default 12), stated in the response when the client
   * offered `server_max_window_bits`. Client: ask the server for at most this window.
   */
  readonly serverMaxWindowBits?: WindowBits;
  /**
   * Server: ask clients that offer `client_max_window_bits` for at most this window (default
   * 12): the server then keeps 2^12 bytes of history per connection instead of 2^15. Client:
   * `true` (default) offers `client_max_window_bits` without a value, a number offers it with
   * that value and is the window the client compresses with (default 12), `false` omits it.
   */
  readonly clientMaxWindowBits?: WindowBits | boolean;
  /** zlib compression level, 0 to 9 (default 6). */
  readonly level?: number;
  /** zlib memLevel, 1 to 9 (default 5): the compressor's hash table size. */
  readonly memLevel?: number;
  /** Messages shorter than this many bytes go uncompressed (default 1024). */
  readonly threshold?: number;
}

/** `false` off, `true` the defaults, an object for the defaults with some fields changed. */
export type PerMessageDeflateOption = boolean | PerMessageDeflateOptions;

/** The window this side compresses with unless told otherwise. */
const DEFAULT_WINDOW_BITS: WindowBits = 12;
const DEFAULT_MEM_LEVEL = 5;

/** permessage-deflate as negotiated: the codec, and the extension as the 101 response states it. */
export interface CompressionAcceptance {
  /** The `Sec-WebSocket-Extensions` value of the 101 response. */
  readonly header: string;
  readonly codec: PerMessageDeflate;
}

export interface CompressionOffer {
  /** The `Sec-WebSocket-Extensions` value of the request. */
  readonly header: string;
  /** Checks the response's extensions; null if the server declined. Throws `HandshakeError`. */
  accept(extensions: readonly ExtensionOffer[]): CompressionAcceptance | null;
}

/** The extension as it was agreed, and its codec. */
function accepted(agreement: DeflateAgreement, codec: PerMessageDeflate): CompressionAcceptance {
  return { header: formatExtensionList([agreement.response]), codec };
}

function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max))
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
}

/**
 * The options with their defaults, or null when compression is off. Throws
 * `InvalidArgumentError` for a value that cannot mean anything.
 */
export function resolveDeflateOption(
  option: PerMessageDeflateOption | undefined,
  role: 'client' | 'server',
): PerMessageDeflateOptions | null {
  if (option === false || (option === undefined && role === 'server')) return null;
  if (option !== undefined && option !== true && (typeof option !== 'object' || option === null))
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      'perMessageDeflate must be true, false or an object of options',
    );
  const given = typeof option === 'object' ? option : {};
  checkDeflateNegotiation(given, role);
  checkInteger('level', given.level, -1, 9);
  checkInteger('memLevel', given.memLevel, 1, 9);
  checkInteger('threshold', given.threshold, 0, Number.MAX_SAFE_INTEGER);
  const defaults: PerMessageDeflateOptions =
    role === 'server'
      ? { serverMaxWindowBits: DEFAULT_WINDOW_BITS, clientMaxWindowBits: DEFAULT_WINDOW_BITS }
      : { clientMaxWindowBits: true };
  return { ...defaults, ...given };
}

function codecSettings(options: PerMessageDeflateOptions, role: 'client' | 'server') {
  const own = role === 'server' ? options.serverMaxWindowBits : options.clientMaxWindowBits;
  return {
    level: options.level ?? DEFAULT_DEFLATE_SETTINGS.level,
    memLevel: options.memLevel ?? DEFAULT_MEM_LEVEL,
    windowBits: typeof own === 'number' ? own : DEFAULT_WINDOW_BITS,
    threshold: options.threshold ?? DEFAULT_DEFLATE_SETTINGS.threshold,
  };
}

/** Server: accepts the first acceptable permessage-deflate offer, or none (null). */
export function acceptCompression(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions,
): CompressionAcceptance | null {
  const agreement = acceptDeflateOffer(offers, options);
  if (agreement === null) return null;
  return accepted(
    agreement,
    new PerMessageDeflate(agreement, 'server', codecSettings(options, 'server')),
  );
}

/** Client: the offer to send, and the check of the server's answer. */
export function offerCompression(options: PerMessageDeflateOptions): CompressionOffer {
  return {
    header: formatExtensionList([deflateOffer(options)]),
    accept(extensions) {
      const agreement = checkDeflateResponse(extensions, options); // throws HandshakeError
      if (agreement === null) return null;
      return accepted(
        agreement,
        new PerMessageDeflate(agreement, 'client', codecSettings(options, 'client')),
      );
    },
  };
}

/**
 * A server's budget for the memory its connections may hold for compression. A connection is
 * charged the most its codec can hold (`maxMemory`) when it is accepted; past the budget, new
 * connections are accepted without compression rather than refused.
 */
export class CompressionBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Charges `bytes` if they fit; false if they do not. */
  reserve(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
  }
}
