/**
 * Header access shared by the handshake checks.
 *
 * The checks read headers through a {@link HeaderLookup}, so that they work on what `node:http`
 * gives (`IncomingMessage.headers`, lower-case keys), on raw `[name, value]` pairs, and on the
 * POCO facade's `NameValueCollection`, without depending on any of them.
 */

/** Returns the value of a header by its lower-case name; repeated fields joined by ", ". */
export type HeaderLookup = (lowerCaseName: string) => string | undefined;

/** What headers may be given as. */
export type HeaderSource =
  | HeaderLookup
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** A {@link HeaderLookup} over any {@link HeaderSource}; names are matched case-insensitively. */
export function headerLookup(source: HeaderSource): HeaderLookup {
  if (typeof source === 'function') return source;
  if (Array.isArray(source)) {
    // Pairs in an array (a response's headers): scanned on each call, as `rawHeaderLookup`
    // does, rather than copied into a map that a handshake's few lookups would not repay.
    // Every repeat joined: a response's fields have no first-only rule of node:http's to follow.
    return flatLookup((source as ReadonlyArray<readonly [string, string]>).flat(), null);
  }
  if (Symbol.iterator in source) {
    const map = new Map<string, string>();
    for (const [name, value] of source as Iterable<readonly [string, string]>) {
      const key = name.toLowerCase();
      const previous = map.get(key);
      map.set(key, previous === undefined ? value : `${previous}, ${value}`);
    }
    return (name) => map.get(name);
  }
  const record = source;
  const byLowerCase = new Map<string, string>();
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined) continue;
    byLowerCase.set(key.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  return (name) => byLowerCase.get(name);
}

/**
 * Fields of which node:http keeps the first occurrence only (`IncomingMessage.headers` drops
 * the repeats); every other field's repeats are joined with ", ".
 */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * A {@link HeaderLookup} straight over node:http's `rawHeaders` (name, value, name, value...):
 * the values `IncomingMessage.headers` would give for the fields a handshake reads, without
 * building that object (node:http builds it on first access, lower-casing every name) or a map
 * of every field. Each call scans the list: a handshake asks for a handful of fields, and
 * node:http bounds how many a request may have.
 */
export function rawHeaderLookup(raw: readonly string[]): HeaderLookup {
  return flatLookup(raw, FIRST_ONLY);
}

/**
 * A lookup scanning a flat list of fields (name, value, name, value...) on each call: repeats
 * joined with ", ", except the fields of `firstOnly`, of which the first is the value.
 */
function flatLookup(raw: readonly string[], firstOnly: ReadonlySet<string> | null): HeaderLookup {
  return (name) => {
    let value: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const field = raw[i];
      if (field.length !== name.length || field.toLowerCase() !== name) continue;
      if (value === undefined) {
        value = raw[i + 1];
        if (firstOnly?.has(name) === true) return value;
      } else {
        value = `${value}, ${raw[i + 1]}`;
      }
    }
    return value;
  };
}
