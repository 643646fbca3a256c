/**
 * The grammars of the handshake's header fields: `Connection` and `Upgrade` token lists
 * (RFC 7230 §3.2.6, §7 "#rule"), `Sec-WebSocket-Protocol` (RFC 6455 §11.3.4) and
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 *
 * ```
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-param = token [ "=" (token | quoted-string) ]
 *     ; a quoted-string value, once unescaped, must itself be a token
 * ```
 *
 * Every parser here is a single left-to-right scan with no regular expression that can
 * backtrack, so a hostile header costs time linear in its length (ws's CVE-2021-32640 was a
 * `Sec-WebSocket-Protocol` of spaces that took a regex quadratic time). Parameters come back as
 * arrays of pairs, never as object keys, so names like `__proto__` are just names (ws's
 * GHSA-5v72-xg48-5rpm).
 */
import { WebSocketError } from '../errors.js';

/** A header value that does not follow its grammar. */
export class HeaderSyntaxError extends WebSocketError {
  /**
   * @param header - the header's name.
   * @param position - where in its value the grammar broke (0-based).
   * @param detail - what was expected there.
   */
  constructor(
    readonly header: string,
    readonly position: number,
    detail: string,
  ) {
    super(`invalid ${header} header at character ${position}: ${detail}`);
  }
}

/** tchar of RFC 7230 §3.2.6, as a lookup table over ASCII. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TOKEN_CHAR[c.charCodeAt(0)] = 1;

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHAR[code] === 1;
}

/** True if `text` is a non-empty RFC 7230 token. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** A cursor over one header value. */
class Scanner {
  pos = 0;

  constructor(
    private readonly header: string,
    readonly text: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  /** Skips optional white space (SP / HTAB). */
  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09) return;
      this.pos++;
    }
  }

  /** Consumes `char` if it is next (after white space); true if it did. */
  accept(char: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== char) return false;
    this.pos++;
    return true;
  }

  token(what: string): string {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.text.length && isTokenChar(this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) throw this.error(`expected ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** A quoted-string (RFC 7230 §3.2.6), unescaped; the cursor is on the opening quote. */
  quotedString(): string {
    this.pos++; // the opening quote
    let value = '';
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x22) return value;
      if (c === 0x5c) {
        if (this.pos >= this.text.length) break;
        value += this.text[this.pos++];
      } else {
        value += String.fromCharCode(c);
      }
    }
    throw this.error('unterminated quoted string');
  }

  /** After a list element: a comma (true), the end (false), or an error. */
  listSeparator(): boolean {
    this.skipSpace();
    if (this.done) return false;
    if (this.text[this.pos] === ',') {
      this.pos++;
      return true;
    }
    throw this.error("expected ',' or the end of the value");
  }

  /** Skips empty list elements (RFC 7230 §7: "a recipient MUST accept empty list elements"). */
  skipEmptyElements(): void {
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== ',') return;
      this.pos++;
    }
  }

  error(detail: string): HeaderSyntaxError {
    return new HeaderSyntaxError(this.header, this.pos, detail);
  }
}

/** Parses a `#token` list such as `Connection: keep-alive, Upgrade`. Empty elements are skipped. */
export function parseTokenList(value: string, header = 'token list'): string[] {
  const scanner = new Scanner(header, value);
  const tokens: string[] = [];
  scanner.skipEmptyElements();
  while (!scanner.done) {
    tokens.push(scanner.token('a token'));
    if (!scanner.listSeparator()) break;
    scanner.skipEmptyElements();
  }
  return tokens;
}

/**
 * True if the comma-separated `value` holds `token`, compared case-insensitively. Lenient, like
 * POCO's `MessageHeader::hasToken`: elements are trimmed, never rejected.
 */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  // The usual value is the token alone (`Upgrade: websocket`): no split, no array.
  if (value.length === wanted.length && value.toLowerCase() === wanted) return true;
  for (const element of value.split(',')) if (element.trim().toLowerCase() === wanted) return true;
  return false;
}

/**
 * A comma-separated list of tokens (RFC 7230 §7), e.g. for `Sec-WebSocket-Protocol`.
 *
 * @throws `TypeError` when an element is not a token.
 */
export function formatTokenList(tokens: readonly string[]): string {
  for (const token of tokens)
    if (!isToken(token)) throw new TypeError(`not a token: ${JSON.stringify(token)}`);
  return tokens.join(', ');
}

/** Parses `Sec-WebSocket-Protocol`: a non-empty list of tokens (RFC 6455 §4.1, §11.3.4). */
export function parseProtocolList(value: string): string[] {
  const protocols = parseTokenList(value, 'Sec-WebSocket-Protocol');
  if (protocols.length === 0)
    throw new HeaderSyntaxError('Sec-WebSocket-Protocol', 0, 'empty list');
  return protocols;
}

/**
 * A `Sec-WebSocket-Protocol` value from subprotocol names ({@link formatTokenList}).
 *
 * @throws `TypeError` when a name is not a token.
 */
export const formatProtocolList = formatTokenList;

/** One extension of a `Sec-WebSocket-Extensions` list, with its parameters in order. */
export interface ExtensionOffer {
  /** The extension's name, e.g. `permessage-deflate`. */
  readonly name: string;
  /** `[name, value]`; the value is null for a parameter without `=value`. */
  readonly params: ReadonlyArray<readonly [string, string | null]>;
}

/** Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1). */
export function parseExtensionList(value: string): ExtensionOffer[] {
  const header = 'Sec-WebSocket-Extensions';
  const scanner = new Scanner(header, value);
  const extensions: ExtensionOffer[] = [];
  scanner.skipEmptyElements();
  while (!scanner.done) {
    const name = scanner.token('an extension name');
    const params: Array<[string, string | null]> = [];
    while (scanner.accept(';')) {
      const paramName = scanner.token('a parameter name');
      let paramValue: string | null = null;
      if (scanner.accept('=')) {
        scanner.skipSpace();
        if (scanner.peek() === 0x22) {
          const start = scanner.pos;
          paramValue = scanner.quotedString();
          if (!isToken(paramValue))
            throw new HeaderSyntaxError(header, start, 'a quoted parameter value must be a token');
        } else {
          paramValue = scanner.token('a parameter value');
        }
      }
      params.push([paramName, paramValue]);
    }
    extensions.push({ name, params });
    if (!scanner.listSeparator()) break;
    scanner.skipEmptyElements();
  }
  if (extensions.length === 0) throw new HeaderSyntaxError(header, 0, 'empty list');
  return extensions;
}

/** Formats a `Sec-WebSocket-Extensions` value; parameter values are written as tokens. */
export function formatExtensionList(extensions: readonly ExtensionOffer[]): string {
  return extensions
    .map(({ name, params }) => {
      if (!isToken(name)) throw new TypeError(`not a token: ${JSON.stringify(name)}`);
      const parts = [name];
      for (const [paramName, paramValue] of params) {
        if (!isToken(paramName)) throw new TypeError(`not a token: ${JSON.stringify(paramName)}`);
        if (paramValue === null) parts.push(paramName);
        else if (isToken(paramValue)) parts.push(`${paramName}=${paramValue}`);
        else
          throw new TypeError(
            `extension parameter value is not a token: ${JSON.stringify(paramValue)}`,
          );
      }
      return parts.join('; ');
    })
    .join(', ');
}
