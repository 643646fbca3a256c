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
