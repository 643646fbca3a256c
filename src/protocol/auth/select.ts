/**
 * Which challenge a client answers: the first Basic or usable Digest challenge among the
 * `WWW-Authenticate` (or `Proxy-Authenticate`) header values, in the order the server sent them.
 * Shared by the POCO facade's `HTTPCredentials` and the message API's `connect()`.
 */
import { parseChallenges, type Challenge } from './challenge.js';
import { parseDigestChallenge, type DigestChallenge } from './digest.js';

/** A challenge we can answer, and with what. */
export type UsableChallenge =
  { readonly scheme: 'basic' } | { readonly scheme: 'digest'; readonly digest: DigestChallenge };

export interface ChallengeSelection {
  /** The first challenge we can answer, if any. */
  readonly usable: UsableChallenge | undefined;
  /** Every scheme offered, as sent, for an error message when none is usable. */
  readonly offered: string[];
}

function usable(challenge: Challenge): UsableChallenge | undefined {
  const scheme = challenge.scheme.toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme === 'digest') {
    const digest = parseDigestChallenge(challenge);
    return digest === undefined ? undefined : { scheme: 'digest', digest };
  }
  return undefined;
}

export function selectChallenge(headerValues: readonly string[]): ChallengeSelection {
  const offered: string[] = [];
  for (const value of headerValues) {
    for (const challenge of parseChallenges(value)) {
      offered.push(challenge.scheme);
      const answer = usable(challenge);
      if (answer !== undefined) return { usable: answer, offered };
    }
  }
  return { usable: undefined, offered };
}
