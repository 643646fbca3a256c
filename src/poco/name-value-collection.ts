/**
 * POCO's `NameValueCollection` and `MessageHeader`: an ordered list of name/value pairs whose
 * names compare case-insensitively, as HTTP header fields do. Order is kept because it is what
 * goes on the wire (POCO's 101 response has Date, Connection, the handler's headers, Upgrade,
 * Sec-WebSocket-Accept, in that order).
 */
import { NotFoundException } from './exceptions.js';

/**
 * POCO's `Poco::Net::NameValueCollection`: an ordered list of name/value pairs whose names compare
 * case-insensitively. Iterating yields `[name, value]` pairs in insertion order.
 */
export class NameValueCollection implements Iterable<[string, string]> {
  /** Names and values, alternating: one array per collection, not one per pair. */
  #items: string[] = [];

  /** Replaces the value of the first pair named `name`, in place; appends if there is none. */
  set(name: string, value: string): void {
    const at = this.#find(name);
    if (at === -1) this.#items.push(name, value);
    else this.#items[at + 1] = value;
  }

  /**
   * @internal Lets the list's spare room go, for a collection kept as long as a connection: the
   * request and response of a WebSocket handshake live as long as their handler (the room left by
   * appending pair by pair was 70-90 bytes of each idle POCO connection's heap).
   */
  compact(): void {
    this.#items = this.#items.slice();
  }

  /** Appends a pair, even if the name is already there. */
  add(name: string, value: string): void {
    this.#items.push(name, value);
  }

  /**
   * The value of the first pair named `name`. Without a default, a missing name throws
   * `NotFoundException`, as in POCO.
   */
  get(name: string, defaultValue?: string): string {
    const at = this.#find(name);
    if (at !== -1) return this.#items[at + 1];
    if (defaultValue !== undefined) return defaultValue;
    throw new NotFoundException(name);
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    const values: string[] = [];
    for (let i = 0; i < this.#items.length; i += 2)
      if (this.#items[i].toLowerCase() === wanted) values.push(this.#items[i + 1]);
    return values;
  }

  /** Whether a pair named `name` exists (compared case-insensitively). */
  has(name: string): boolean {
    return this.#find(name) !== -1;
  }

  /** Removes every pair named `name`. */
  erase(name: string): void {
    const wanted = name.toLowerCase();
    const kept: string[] = [];
    for (let i = 0; i < this.#items.length; i += 2)
      if (this.#items[i].toLowerCase() !== wanted) kept.push(this.#items[i], this.#items[i + 1]);
    this.#items = kept;
  }

  /** Removes every pair. */
  clear(): void {
    this.#items = [];
  }

  /** The number of pairs. */
  size(): number {
    return this.#items.length / 2;
  }

  /** Whether the collection has no pairs. */
  empty(): boolean {
    return this.#items.length === 0;
  }

  /** The `[name, value]` pairs, in order. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.#items.length; i += 2) yield [this.#items[i], this.#items[i + 1]];
  }

  /** Index of the first pair named `name` in `#items`, or -1. */
  #find(name: string): number {
    const items = this.#items;
    // Exact spelling first (the common case), then case-insensitively.
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return i;
    const wanted = name.toLowerCase();
    for (let i = 0; i < items.length; i += 2) if (items[i].toLowerCase() === wanted) return i;
    return -1;
  }
}

/** POCO's `MessageHeader`: a header collection with HTTP's list helpers. */
export class MessageHeader extends NameValueCollection {
  /**
   * True if the first field named `fieldName` holds `token` as one of its comma-separated
   * elements, compared case-insensitively (POCO GH #110: `Connection: keep-alive, Upgrade`).
   */
  hasToken(fieldName: string, token: string): boolean {
    const value = this.get(fieldName, '');
    const wanted = token.toLowerCase();
    return MessageHeader.splitElements(value).some((element) => element.toLowerCase() === wanted);
  }

  /** Splits a comma-separated list, trimming elements and dropping empty ones (quotes respected). */
  static splitElements(value: string, ignoreEmpty = true): string[] {
    const elements: string[] = [];
    let current = '';
    let quoted = false;
    for (const char of value) {
      if (char === '"') quoted = !quoted;
      if (char === ',' && !quoted) {
        elements.push(current.trim());
        current = '';
      } else {
        current += char;
      }
    }
    elements.push(current.trim());
    return ignoreEmpty ? elements.filter((element) => element !== '') : elements;
  }

  /** Quotes `value` if it contains characters that are not allowed in a token. */
  static quote(value: string): string {
    return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/.test(value) && value !== ''
      ? value
      : `"${value.replace(/(["\\])/g, '\\$1')}"`;
  }
}
