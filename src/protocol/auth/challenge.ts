/**
 * `WWW-Authenticate` / `Proxy-Authenticate` challenges (RFC 7235 §2.1, §4.1):
 *
 * ```
 * challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * auth-param = token BWS "=" BWS ( token / quoted-string )
 * ```
 * One header value may hold several challenges separated by commas, and a comma also separates
 * the parameters of one challenge: a new challenge starts where a token is followed by white
 * space and something other than `=`. One left-to-right scan; parameters come back as pairs
 * (names lower-cased), never as object keys.
 */

export interface Challenge {
  /** The scheme, as sent (compare case-insensitively). */
  readonly scheme: string;
  /** `[name, value]` pairs; names lower-cased, quoted values unescaped. */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** A token68 credential instead of parameters (rare in challenges). */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

/** Parses every challenge in one header value. Malformed parts end the parse (what came before stays). */
export function parseChallenges(value: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const n = value.length;
  const skipSpace = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TCHAR.test(value[i])) i++;
    return value.slice(start, i);
  };
  const quoted = (): string | null => {
    i++; // opening quote
    let text = '';
    while (i < n) {
      const c = value[i++];
      if (c === '"') return text;
      if (c === '\\' && i < n) text += value[i++];
      else text += c;
    }
    return null;
  };

  for (;;) {
    // Skip empty list elements.
    while (i < n && (value[i] === ',' || value[i] === ' ' || value[i] === '\t')) i++;
    if (i >= n) break;
    const scheme = token();
    if (scheme === '') break;
    const params: Array<[string, string]> = [];
    let token68: string | undefined;
    skipSpace();
    // token68 (RFC 7235 §2.1): one or more token68 characters, then any '=' padding, not
    // followed by '='-param syntax. A bare '=' is none: it ends the parse as malformed.
    const save = i;
    let t68 = '';
    while (i < n && TOKEN68.test(value[i])) t68 += value[i++];
    while (i < n && value[i] === '=') t68 += value[i++];
    skipSpace();
    if (TOKEN68.test(t68[0] ?? '') && (i >= n || value[i] === ',') && !/^[^=]+=[^=]/.test(t68)) {
      token68 = t68;
    } else {
      i = save;
      // auth-params until the next challenge (a token followed by space and not '=').
      for (;;) {
        skipSpace();
        const paramStart = i;
        const name = token();
        if (name === '') break;
        skipSpace();
        if (value[i] !== '=') {
          i = paramStart; // the next challenge's scheme
          break;
        }
        i++;
        skipSpace();
        let paramValue: string | null;
        if (value[i] === '"') paramValue = quoted();
        else {
          paramValue = token();
          if (paramValue === '') paramValue = null;
        }
        if (paramValue === null) return challenges;
        params.push([name.toLowerCase(), paramValue]);
        skipSpace();
        if (value[i] === ',') {
          i++;
          continue;
        }
        break;
      }
    }
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
  }
  return challenges;
}

/** The value of a challenge's parameter, or undefined. */
export function challengeParam(challenge: Challenge, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return challenge.params.find(([n]) => n === wanted)?.[1];
}
