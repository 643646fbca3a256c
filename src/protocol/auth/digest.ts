/**
 * HTTP Digest authentication (RFC 7616), the client's arithmetic: from a challenge and the
 * credentials, the `Authorization` value. Algorithms MD5, SHA-256 and SHA-512-256, each also in
 * its "-sess" variant; `qop=auth` (with `nc` and `cnonce`), or no qop (RFC 2069 compatibility).
 * `auth-int` is not offered: a WebSocket upgrade has no body to protect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { challengeParam, type Challenge } from './challenge.js';

const HASHES = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' } as const;
export type DigestAlgorithm = keyof typeof HASHES | `${keyof typeof HASHES}-sess`;

/** What a Digest challenge asks for. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** True if the server offered `qop=auth`. */
  readonly qopAuth: boolean;
  readonly userhash: boolean;
}

/** Reads a Digest challenge; undefined if it lacks a nonce or names an algorithm we cannot do. */
export function parseDigestChallenge(challenge: Challenge): DigestChallenge | undefined {
  const nonce = challengeParam(challenge, 'nonce');
  if (nonce === undefined) return undefined;
  const named = (challengeParam(challenge, 'algorithm') ?? 'MD5').toUpperCase();
  const base = named.endsWith('-SESS') ? named.slice(0, -5) : named;
  if (!(base in HASHES)) return undefined;
  const algorithm = (named.endsWith('-SESS') ? `${base}-sess` : base) as DigestAlgorithm;
  const qop = challengeParam(challenge, 'qop');
  return {
    realm: challengeParam(challenge, 'realm') ?? '',
    nonce,
    opaque: challengeParam(challenge, 'opaque'),
    algorithm,
    qopAuth:
      qop !== undefined && qop.split(',').some((option) => option.trim().toLowerCase() === 'auth'),
    userhash: (challengeParam(challenge, 'userhash') ?? '').toLowerCase() === 'true',
  };
}

export interface DigestRequest {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  /** The nonce count: 1 for the first request with this nonce, then 2, 3... */
  readonly nonceCount: number;
  /** The client nonce; random by default (injectable for tests). */
  readonly cnonce?: string;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  const base = algorithm.replace(/-sess$/, '') as keyof typeof HASHES;
  return createHash(HASHES[base]).update(text, 'utf8').digest('hex');
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** A fresh client nonce: 16 random bytes, hex. */
export function createCnonce(): string {
  return randomBytes(16).toString('hex');
}

/** The `Authorization` value answering `challenge` (RFC 7616 §3.4). */
export function digestAuthorization(challenge: DigestChallenge, request: DigestRequest): string {
  const { algorithm, realm, nonce } = challenge;
  const cnonce = request.cnonce ?? createCnonce();
  const nc = request.nonceCount.toString(16).padStart(8, '0');
  let ha1 = hash(algorithm, `${request.username}:${realm}:${request.password}`);
  if (algorithm.endsWith('-sess')) ha1 = hash(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = hash(algorithm, `${request.method}:${request.uri}`);
  const response = challenge.qopAuth
    ? hash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : hash(algorithm, `${ha1}:${nonce}:${ha2}`);
  const username = challenge.userhash
    ? hash(algorithm, `${request.username}:${realm}`)
    : request.username;
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${algorithm}`,
    `response=${quote(response)}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.qopAuth) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  if (challenge.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
