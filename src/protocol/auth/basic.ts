/**
 * HTTP Basic authentication (RFC 7617): `Basic base64(user-id ":" password)`, UTF-8 encoded.
 */
import { Buffer } from 'node:buffer';

/** The `Authorization` (or `Proxy-Authorization`) value for Basic credentials. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** Decodes a Basic credential (the part after `Basic `), or undefined if it is malformed. */
export function parseBasicCredentials(
  credentials: string,
): { username: string; password: string } | undefined {
  const decoded = Buffer.from(credentials.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
