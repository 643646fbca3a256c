/**
 * POCO's `HTTPCredentials`: a user name and password that answer a server's 401 challenge with
 * Basic (RFC 7617) or Digest (RFC 7616: MD5, SHA-256, SHA-512-256 and their -sess variants,
 * qop=auth), whichever the first usable `WWW-Authenticate` challenge asks for.
 *
 * NTLM is not offered: it needs three legs, and POCO's WebSocket retries once, so it cannot
 * complete there either.
 */
import { basicAuthorization } from '../protocol/auth/basic.js';
import { digestAuthorization, type DigestChallenge } from '../protocol/auth/digest.js';
import { selectChallenge } from '../protocol/auth/select.js';
import { InvalidArgumentException, NotAuthenticatedException } from './exceptions.js';
import { HTTPRequest, type HTTPResponse } from './http-message.js';

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentException('Invalid percent-encoding in user info', text);
  }
}

/**
 * POCO's `HTTPCredentials`: a user name and password that answer a server's 401 challenge with
 * Basic (RFC 7617) or Digest (RFC 7616: MD5, SHA-256, SHA-512-256 and their -sess variants,
 * qop=auth), whichever the first usable `WWW-Authenticate` challenge asks for. NTLM is not offered.
 * Give them to {@link WebSocket.connect}.
 *
 * @example
 * ```ts
 * import { HTTPCredentials } from 'wsnet';
 *
 * const credentials = HTTPCredentials.fromURI('ws://user:secret@example.com/chat');
 * console.log(credentials.getUsername()); // 'user'
 * ```
 */
export class HTTPCredentials {
  #username: string;
  #password: string;
  /** The Digest challenge being answered, and how many requests answered it. */
  #digest: DigestChallenge | undefined;
  #nonceCount = 0;
  #proxyDigest: DigestChallenge | undefined;
  #proxyNonceCount = 0;

  /**
   * @param username - the user name (empty: none).
   * @param password - the password.
   */
  constructor(username = '', password = '') {
    this.#username = username;
    this.#password = password;
  }

  /**
   * From URI user info, `user:password` (percent-encoded, as in a URI).
   *
   * @throws {@link InvalidArgumentException} when the percent-encoding is invalid.
   */
  static fromUserInfo(userInfo: string): HTTPCredentials {
    const colon = userInfo.indexOf(':');
    return colon === -1
      ? new HTTPCredentials(decode(userInfo), '')
      : new HTTPCredentials(decode(userInfo.slice(0, colon)), decode(userInfo.slice(colon + 1)));
  }

  /**
   * From the user info of a URI such as `ws://user:secret@host/path`.
   *
   * @throws {@link InvalidArgumentException} when `uri` is not a valid URI or its percent-encoding
   * is invalid.
   */
  static fromURI(uri: string | URL): HTTPCredentials {
    let url: URL;
    try {
      url = typeof uri === 'string' ? new URL(uri) : uri;
    } catch {
      throw new InvalidArgumentException('Invalid URI', String(uri));
    }
    return new HTTPCredentials(decode(url.username), decode(url.password));
  }

  /** Sets the user name. */
  setUsername(username: string): void {
    this.#username = username;
  }
  /** The user name. */
  getUsername(): string {
    return this.#username;
  }
  /** Sets the password. */
  setPassword(password: string): void {
    this.#password = password;
  }
  /** The password. */
  getPassword(): string {
    return this.#password;
  }

  /** True if both the user name and the password are empty (POCO then does not authenticate). */
  empty(): boolean {
    return this.#username === '' && this.#password === '';
  }

  /** Empties the user name and password and forgets the Digest challenges. */
  clear(): void {
    this.#username = '';
    this.#password = '';
    this.#digest = undefined;
    this.#proxyDigest = undefined;
  }

  /**
   * Answers the first usable `WWW-Authenticate` challenge of `response` on `request` (sets
   * `Authorization`). Throws `NotAuthenticatedException` if no challenge is Basic or Digest.
   */
  authenticate(request: HTTPRequest, response: HTTPResponse): void {
    const answer = this.#answer(request, response.getAll('WWW-Authenticate'), false);
    request.set(HTTPRequest.AUTHORIZATION, answer);
  }

  /** Re-answers the last Digest challenge for a new request (next nonce count). */
  updateAuthInfo(request: HTTPRequest): void {
    if (this.#digest === undefined) {
      if (request.hasCredentials())
        request.set(HTTPRequest.AUTHORIZATION, basicAuthorization(this.#username, this.#password));
      return;
    }
    request.set(
      HTTPRequest.AUTHORIZATION,
      this.#digestFor(request, this.#digest, ++this.#nonceCount),
    );
  }

  /** Like `authenticate`, for a proxy's 407 (`Proxy-Authenticate` → `Proxy-Authorization`). */
  proxyAuthenticate(request: HTTPRequest, response: HTTPResponse): void {
    const answer = this.#answer(request, response.getAll('Proxy-Authenticate'), true);
    request.set(HTTPRequest.PROXY_AUTHORIZATION, answer);
  }

  /** Re-answers the last Digest challenge of a proxy for a new request (next nonce count). */
  updateProxyAuthInfo(request: HTTPRequest): void {
    if (this.#proxyDigest === undefined) return;
    request.set(
      HTTPRequest.PROXY_AUTHORIZATION,
      this.#digestFor(request, this.#proxyDigest, ++this.#proxyNonceCount),
    );
  }

  /** Whether an `Authorization` value uses the Basic scheme. */
  static isBasicCredentials(header: string): boolean {
    return /^basic(\s|$)/i.test(header.trim());
  }

  /** Whether an `Authorization` value uses the Digest scheme. */
  static isDigestCredentials(header: string): boolean {
    return /^digest(\s|$)/i.test(header.trim());
  }

  /** Whether an `Authorization` value uses the NTLM scheme. */
  static isNTLMCredentials(header: string): boolean {
    return /^ntlm(\s|$)/i.test(header.trim());
  }

  /** Whether `request` has Basic credentials in `Authorization`. */
  static hasBasicCredentials(request: HTTPRequest): boolean {
    return (
      request.hasCredentials() &&
      HTTPCredentials.isBasicCredentials(request.get(HTTPRequest.AUTHORIZATION))
    );
  }

  /** Whether `request` has Digest credentials in `Authorization`. */
  static hasDigestCredentials(request: HTTPRequest): boolean {
    return (
      request.hasCredentials() &&
      HTTPCredentials.isDigestCredentials(request.get(HTTPRequest.AUTHORIZATION))
    );
  }

  #answer(request: HTTPRequest, headers: string[], proxy: boolean): string {
    const { usable, offered } = selectChallenge(headers);
    if (usable === undefined)
      throw new NotAuthenticatedException(
        offered.length === 0
          ? `no ${proxy ? 'Proxy' : 'WWW'}-Authenticate challenge`
          : `no supported authentication scheme offered (${offered.join(', ')}); Basic and Digest are`,
      );
    if (usable.scheme === 'basic') {
      if (proxy) this.#proxyDigest = undefined;
      else this.#digest = undefined;
      return basicAuthorization(this.#username, this.#password);
    }
    if (proxy) {
      this.#proxyDigest = usable.digest;
      this.#proxyNonceCount = 1;
    } else {
      this.#digest = usable.digest;
      this.#nonceCount = 1;
    }
    return this.#digestFor(request, usable.digest, 1);
  }

  #digestFor(request: HTTPRequest, challenge: DigestChallenge, nonceCount: number): string {
    return digestAuthorization(challenge, {
      username: this.#username,
      password: this.#password,
      method: request.getMethod(),
      uri: request.getURI(),
      nonceCount,
    });
  }
}
