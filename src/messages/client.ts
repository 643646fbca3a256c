/**
 * The client side of the message API: `connect(url, options)` runs the opening handshake
 * (RFC 6455 §4.1) and resolves with an OPEN `WebSocketConnection`.
 *
 * ```ts
 * const connection = await connect('wss://user:secret@example.com/chat', { protocols: ['chat'] });
 * ```
 *
 * The transport (TCP, TLS, an HTTP proxy's CONNECT tunnel) and the HTTP exchange come from the
 * I/O layer that the POCO facade's `HTTPClientSession` uses too; the response is checked with
 * the RFC policy (the accept key, the subprotocol and extensions against the offer). A 401 is
 * answered once with Basic or Digest credentials taken from the URL or the options (the I/O
 * layer's 401 loop, shared with POCO's client). Redirects are followed when asked
 * (`followRedirects`), hop by hop, each on a connection of its own, credentials kept to the first
 * origin; the proxy is the option's or, with `proxy: 'env'`, the environment's for each hop's URL
 * (src/io/proxy-env.ts). The handshake timeout ends everything: once it expires nothing more is
 * sent, and every socket the attempt opened is closed.
 */
import type tls from 'node:tls';
import {
  ConnectError,
  Deadline,
  HttpConnection,
  ResponseError,
  openConnection,
  sendAnsweringChallenge,
  type ProxySettings,
  type ReceivedResponse,
} from '../io/http-client.js';
import { guardSocket } from '../io/guard.js';
import { proxyFromEnvironment } from '../io/proxy-env.js';
import { openSocksTunnel, parseSocksUrl, type SocksProxy } from '../io/socks.js';
import { basicAuthorization } from '../protocol/auth/basic.js';
import { digestAuthorization } from '../protocol/auth/digest.js';
import { selectChallenge } from '../protocol/auth/select.js';
import {
  HandshakeError,
  InvalidArgumentError,
  type HandshakeErrorReason,
} from '../protocol/errors.js';
import { checkUpgradeResponse, upgradeRequestHeaders } from '../protocol/handshake/client.js';
import { isToken } from '../protocol/handshake/headers.js';
import { createKey } from '../protocol/handshake/keys.js';
import { Connection } from '../protocol/connection.js';
import { CloseCode } from '../protocol/constants.js';
import { PERMESSAGE_DEFLATE } from '../protocol/deflate/negotiation.js';
import type { Socket } from 'node:net';
import {
  offerCompression,
  resolveDeflateOption,
  type CompressionAcceptance,
  type CompressionOffer,
} from './compression.js';
import { WebSocketConnection, checkSettings, type ConnectionSettings } from './connection.js';
import { NetworkError, TimeoutError } from './errors.js';

/** A user name and password for a server's 401 (answered with Basic or Digest). */
export interface Credentials {
  /** The user name. */
  readonly username: string;
  /** The password. */
  readonly password: string;
}

/**
 * The options of {@link connect}: the handshake's (subprotocols, headers, proxy, TLS, credentials,
 * deadline) and the connection's {@link ConnectionSettings}.
 */
export interface ConnectOptions extends ConnectionSettings {
  /** Subprotocols to offer, in order of preference; the server picks one or none. */
  readonly protocols?: readonly string[];
  /** Extra request headers (not the WebSocket ones, which the handshake sets). */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** The `Origin` header, as a browser would send it. */
  readonly origin?: string;
  /** How long the whole handshake may take (connect, proxy, TLS, HTTP, 401 retry). Default 30 s. */
  readonly handshakeTimeout?: number;
  /** TLS options for `wss://` (CA, client certificate, `rejectUnauthorized`...). */
  readonly tls?: tls.ConnectionOptions;
  /**
   * An HTTP proxy, e.g. `http://user:secret@proxy:3128`: the connection goes through a CONNECT
   * tunnel (for `ws://` and `wss://` alike); a 407 is answered once with the user info as Basic
   * or Digest credentials. `https://proxy:443`: the same over TLS to the proxy, whose certificate
   * is checked as the server's (with `tls.ca` and `tls.rejectUnauthorized`). Or a SOCKS5 proxy
   * (RFC 1928): `socks5://host:1080` resolves the server's name here and sends its address,
   * `socks5h://` lets the proxy resolve it; user info is RFC 1929's user name and password. `'env'`: the proxy the environment names for each URL
   * (`https_proxy`/`HTTPS_PROXY` for wss, `http_proxy`/`HTTP_PROXY` for ws, `all_proxy`/
   * `ALL_PROXY` otherwise, none for a host in `no_proxy`/`NO_PROXY`). `false`: no proxy.
   * Default: none, or `'env'` when Node's own switch `NODE_USE_ENV_PROXY=1` is set.
   */
  readonly proxy?: string | URL | false;
  /** Aborts the handshake: `connect()` rejects with the signal's reason, and nothing is left open. */
  readonly signal?: AbortSignal;
  /** Credentials for a 401 (Basic or Digest); the URL's user info is used if absent. */
  readonly credentials?: Credentials;
  /**
   * Send Basic credentials with the first request instead of waiting for a 401 (and the
   * proxy's with the first CONNECT instead of waiting for a 407).
   */
  readonly preemptiveAuth?: boolean;
  /**
   * Follow a 301, 302, 303, 307 or 308 answer to the handshake to its `Location`. Default
   * `false`, as browsers, undici and ws: a redirect is then a `HandshakeError` naming it.
   */
  readonly followRedirects?: boolean;
  /** How many redirects to follow at most (with `followRedirects`). Default 10. */
  readonly maxRedirects?: number;
  /** Largest response head accepted. Default 16 KiB. */
  readonly maxHeaderSize?: number;
}

/** The WebSocket headers the handshake owns: an application may not set them. */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;
const DEFAULT_MAX_REDIRECTS = 10;
/** The statuses that redirect a GET to `Location` (RFC 9110 §15.4): 300, 304, 305 do not. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials: sent to the first URL's origin only. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie']);

interface Target {
  /** The URL as connected to: ws: or wss:, without user info (`connection.url`). */
  readonly href: string;
  /** Scheme (ws or wss), host and port: where credentials may go. */
  readonly origin: string;
  /** The parsed URL, for a relative `Location` and the environment's proxy. */
  readonly url: URL;
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** Origin-form request target: path and query. */
  readonly path: string;
  /** The `Host` header. */
  readonly authority: string;
  readonly credentials: Credentials | undefined;
}

function decodeUserInfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentError('INVALID_OPTION', `invalid percent-encoding in URL user info`);
  }
}

function parseUrl(input: string | URL, what: string): URL {
  try {
    return typeof input === 'string' ? new URL(input) : input;
  } catch {
    throw new InvalidArgumentError('INVALID_OPTION', `${what} is not a URL: ${String(input)}`);
  }
}

/** The host to connect to: an IPv6 literal without its brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function parseTarget(input: string | URL): Target {
  return targetOf(parseUrl(input, 'the WebSocket URL'));
}

function targetOf(url: URL): Target {
  const scheme = url.protocol;
  if (scheme !== 'ws:' && scheme !== 'wss:' && scheme !== 'http:' && scheme !== 'https:')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `a WebSocket URL starts with ws:// or wss://, not ${scheme}//`,
    );
  // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
  if (url.hash !== '')
    throw new InvalidArgumentError('INVALID_OPTION', 'a WebSocket URL has no #fragment');
  const secure = scheme === 'wss:' || scheme === 'https:';
  const host = hostOf(url);
  if (host === '') throw new InvalidArgumentError('INVALID_OPTION', 'the URL names no host');
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const credentials =
    url.username === '' && url.password === ''
      ? undefined
      : { username: decodeUserInfo(url.username), password: decodeUserInfo(url.password) };
  const authority = url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
  const path = `${url.pathname === '' ? '/' : url.pathname}${url.search}`;
  return {
    href: `${secure ? 'wss' : 'ws'}://${authority}${path}`,
    origin: `${secure ? 'wss' : 'ws'}://${url.hostname}:${port}`,
    url,
    host,
    port,
    secure,
    path,
    // §4.1: the port is included unless it is the scheme's default.
    authority,
    credentials,
  };
}

/** How a proxy URL is read: whether Basic goes first, and what TLS trusts for an https:// one. */
interface ProxyReading {
  /** Send the user info as Basic with the first CONNECT instead of waiting for a 407. */
  readonly preemptive: boolean;
  /** An https:// proxy's certificate is checked as the server's (`tls.ca`, `rejectUnauthorized`). */
  readonly trust: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
}

/**
 * An HTTP proxy's settings (`http://`, or `https://` for TLS to the proxy): its user info answers
 * a 407 (sent with the first CONNECT as Basic only if `preemptive`). `what` names it in errors
 * (the option, or an environment variable).
 */
function parseProxy(input: string | URL, reading: ProxyReading, what: string): ProxySettings {
  const url = parseUrl(input, what);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `${what}: a proxy URL starts with http://, https://, socks5:// or socks5h://, not ${url.protocol}//`,
    );
  const host = hostOf(url);
  const secure = url.protocol === 'https:';
  const port = url.port !== '' ? Number(url.port) : secure ? 443 : 80;
  const endpoint = { host, port, ...(secure ? { tls: reading.trust } : {}) };
  if (url.username === '' && url.password === '') return endpoint;
  const credentials = {
    username: decodeUserInfo(url.username),
    password: decodeUserInfo(url.password),
  };
  return {
    ...endpoint,
    credentials,
    ...(reading.preemptive
      ? { authorization: basicAuthorization(credentials.username, credentials.password) }
      : {}),
  };
}

/** How each hop finds its proxy: none, the option's, or the environment's for its URL. */
type ProxyChoice = (target: Target) => ChosenProxy | undefined;

/** A hop's proxy: an HTTP proxy (CONNECT) or a SOCKS5 one. */
type ChosenProxy = { readonly http: ProxySettings } | { readonly socks: SocksProxy };

/** The proxy a URL names: SOCKS5 for `socks5:`/`socks5h:`, else HTTP (which parseProxy checks). */
function chooseProxy(input: string | URL, reading: ProxyReading, what = 'the proxy'): ChosenProxy {
  const socks = parseSocksUrl(parseUrl(input, what));
  return socks !== undefined ? { socks } : { http: parseProxy(input, reading, what) };
}

function proxyChoice(options: ConnectOptions): ProxyChoice {
  const { ca, rejectUnauthorized } = options.tls ?? {};
  const reading: ProxyReading = {
    preemptive: options.preemptiveAuth === true,
    trust: {
      ...(ca === undefined ? {} : { ca }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
    },
  };
  const given =
    options.proxy ?? (process.env.NODE_USE_ENV_PROXY === '1' ? ('env' as const) : false);
  if (given === false) return () => undefined;
  if (given !== 'env') {
    const proxy = chooseProxy(given, reading);
    return () => proxy;
  }
  // Read when connect() is called, for each hop's URL (no_proxy may name one and not another).
  const env = { ...process.env };
  return (target) => {
    const found = proxyFromEnvironment(target.url, env);
    return found === undefined
      ? undefined
      : chooseProxy(found.url, reading, `the proxy in ${found.variable}`);
  };
}

function checkMaxRedirects(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_REDIRECTS;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `maxRedirects must be an integer >= 0, not ${String(value)}`,
    );
  return value;
}

/** A redirect the handshake received: where to, from which status. */
interface Redirect {
  readonly status: number;
  readonly location: string | undefined;
}

/**
 * The next hop of a redirect chain, or the HandshakeError that ends it: a Location that is no
 * URL, another scheme, wss to ws, a URL visited already (without cookies or state, the same
 * request gets the same answer: a loop), more than `maxRedirects`.
 */
function nextHop(
  from: Target,
  redirect: Redirect,
  visited: Set<string>,
  maxRedirects: number,
): Target {
  const fail = (reason: HandshakeErrorReason, arg?: string) =>
    new HandshakeError(reason, arg, { status: redirect.status });
  if (redirect.location === undefined) throw fail('INVALID_REDIRECT');
  let url: URL;
  try {
    url = new URL(redirect.location, from.url); // a relative Location: against this URL
  } catch {
    throw fail('INVALID_REDIRECT', redirect.location);
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol))
    throw fail('REDIRECT_SCHEME', url.protocol);
  url.hash = ''; // a fragment means nothing to a WebSocket (RFC 6455 §3)
  url.username = url.password = ''; // credentials come from the caller only
  const next = targetOf(url);
  if (from.secure && !next.secure) throw fail('REDIRECT_DOWNGRADE', `${from.href} → ${next.href}`);
  if (visited.has(next.href)) throw fail('REDIRECT_LOOP', next.href);
  if (visited.size > maxRedirects)
    throw fail('TOO_MANY_REDIRECTS', `${maxRedirects} followed, then ${next.href}`);
  visited.add(next.href);
  return next;
}

function extraHeaders(options: ConnectOptions): Array<[string, string]> {
  const given = options.headers ?? [];
  const pairs = Array.isArray(given)
    ? (given as ReadonlyArray<readonly [string, string]>)
    : Object.entries(given as Record<string, string>);
  const headers: Array<[string, string]> = [];
  for (const [name, value] of pairs) {
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        `the ${name} header is set by the WebSocket handshake; it cannot be given`,
      );
    headers.push([name, value]);
  }
  return headers;
}

function headerValues(response: ReceivedResponse, name: string): string[] {
  return response.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
}

/**
 * Opens a WebSocket connection. Rejects with `HandshakeError` (the server refused or answered
 * wrongly; `status` is the HTTP status), `TimeoutError` (no handshake within
 * `handshakeTimeout`), `NetworkError` (no connection, TLS, proxy, malformed response) or
 * `InvalidArgumentError` (a bad URL or option).
 *
 * @param url - `ws://` or `wss://`, with user info for credentials if wanted
 * (`wss://user:secret@host/path`).
 * @param options - the handshake's options and the connection's settings.
 * @throws {@link HandshakeError} (a rejection, as every error here) when the server refused or
 * answered wrongly (`reason` names the rule, `status` is the HTTP status), a redirect was not
 * followed (`CANNOT_UPGRADE`) or could not be (`REDIRECT_*`, `TOO_MANY_REDIRECTS`).
 * @throws {@link TimeoutError} (`operation: 'handshake'`) when the handshake took longer than
 * `handshakeTimeout`.
 * @throws {@link NetworkError} when no connection could be made (`network`, `tls`, `proxy`) or the
 * response (the server's, or a proxy's to the CONNECT) was not HTTP or did not come (`http`).
 * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) for a bad URL, option or setting.
 *
 * @example
 * ```ts
 * import { HandshakeError, connect } from 'wsnet';
 *
 * try {
 *   const connection = await connect('wss://example.com/chat', {
 *     protocols: ['chat.v2', 'chat.v1'],
 *     headers: { 'X-Trace': '1' },
 *     handshakeTimeout: 10_000,
 *     heartbeat: { interval: 30_000, timeout: 10_000 },
 *   });
 *   console.log(connection.protocol); // the subprotocol the server chose, '' for none
 *   for await (const message of connection) console.log(message);
 * } catch (error) {
 *   if (error instanceof HandshakeError) console.error(error.reason, error.status);
 *   else throw error;
 * }
 * ```
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions = {},
): Promise<WebSocketConnection> {
  checkSettings(options);
  const deflate = resolveDeflateOption(options.perMessageDeflate, 'client');
  const compression = deflate === null ? null : offerCompression(deflate);
  const target = parseTarget(url);
  const protocols = options.protocols ?? [];
  const invalid = protocols.find((protocol) => !isToken(protocol));
  if (invalid !== undefined)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `subprotocol ${JSON.stringify(invalid)} is not an HTTP token (RFC 6455 §4.1)`,
    );
  if (new Set(protocols).size !== protocols.length)
    throw new InvalidArgumentError('INVALID_OPTION', 'subprotocols offered twice');
  const extra = extraHeaders(options);
  const credentials = options.credentials ?? target.credentials;
  const timeoutMs = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const maxRedirects = checkMaxRedirects(options.maxRedirects);
  const follow = options.followRedirects ?? false;
  const proxyFor = proxyChoice(options);
  proxyFor(target); // a proxy that is not a URL fails here, before any connection

  // The handshake's deadline (every hop's): aborting stops the 401 loop and whatever it waits for.
  const deadline = new Deadline();
  options.signal?.throwIfAborted();
  const timer =
    timeoutMs > 0
      ? setTimeout(() => deadline.abort(new TimeoutError('handshake', timeoutMs)), timeoutMs)
      : undefined;
  // The caller's signal ends the handshake as its deadline does (with the signal's reason).
  const onAbort = () => deadline.abort(abortReason(options.signal!));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const responses: Array<Promise<ReceivedResponse>> = [];
  let http: HttpConnection | undefined;
  try {
    const visited = new Set([target.href]);
    for (let hop = target; ;) {
      // Credentials, Authorization and cookies go to the first URL's origin only: a hop to
      // another origin goes without them (as curl and ws do). The loop ends: `nextHop` throws
      // past maxRedirects.
      const trusted = hop.origin === target.origin;
      const proxy = proxyFor(hop);
      // No http.Agent: the connection lives for this hop's handshake (and its 401 retry) only.
      http = new HttpConnection(
        () =>
          openConnection({
            target: { host: hop.host, port: hop.port },
            ...(hop.secure ? { tls: options.tls ?? {} } : {}),
            ...(proxy === undefined ? {} : 'http' in proxy ? { proxy: proxy.http } : {}),
            ...(proxy !== undefined && 'socks' in proxy
              ? { tunnel: (signal) => openSocksTunnel(proxy.socks, hop, { signal }) }
              : {}),
            timeoutMs: 0, // the handshake's own deadline covers the connection
            signal: deadline,
          }),
        { agent: false },
      );
      const outcome = await handshake(
        http,
        hop,
        options,
        protocols,
        compression,
        trusted ? extra : extra.filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())),
        trusted ? credentials : undefined,
        follow,
        { signal: deadline, responses },
      );
      if (outcome instanceof WebSocketConnection) return outcome;
      http.reset(); // the redirect's connection: the next hop opens its own
      deadline.throwIfAborted();
      hop = nextHop(hop, outcome, visited, maxRedirects);
    }
  } catch (error) {
    deadline.abort(error instanceof Error ? error : new Error(String(error)));
    http?.reset();
    // A 101 that arrives after the deadline must not leave an open connection behind.
    for (const late of responses)
      late.then(
        (response) => {
          if (response.kind === 'upgrade') response.socket.destroy();
          else response.body.destroy();
        },
        () => undefined,
      );
    throw translate(error);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

async function handshake(
  http: HttpConnection,
  target: Target,
  options: ConnectOptions,
  protocols: readonly string[],
  compression: CompressionOffer | null,
  extra: Array<[string, string]>,
  credentials: Credentials | undefined,
  follow: boolean,
  attempt: { signal: Deadline; responses: Array<Promise<ReceivedResponse>> },
): Promise<WebSocketConnection | Redirect> {
  const key = createKey();
  let authorization: string | undefined =
    options.preemptiveAuth === true && credentials !== undefined
      ? basicAuthorization(credentials.username, credentials.password)
      : undefined;
  const response = await sendAnsweringChallenge<ReceivedResponse>(
    {
      send: () => {
        const headers: Array<[string, string]> = [
          ['Host', target.authority],
          ...upgradeRequestHeaders(key, {
            protocols,
            ...(compression === null ? {} : { extensions: compression.header }),
          }),
        ];
        if (options.origin !== undefined) headers.push(['Origin', options.origin]);
        if (authorization !== undefined) headers.push(['Authorization', authorization]);
        headers.push(...extra);
        const pending = http.request({
          method: 'GET',
          path: target.path,
          headers,
          responseTimeoutMs: 0,
          maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
        });
        pending.body.end(); // an upgrade request has no body
        attempt.responses.push(pending.response);
        return pending.response;
      },
      answer: async (refused) => {
        if (credentials === undefined || refused.kind !== 'response') return false;
        const { usable } = selectChallenge(headerValues(refused, 'www-authenticate'));
        if (usable === undefined) return false;
        authorization =
          usable.scheme === 'basic'
            ? basicAuthorization(credentials.username, credentials.password)
            : digestAuthorization(usable.digest, {
                username: credentials.username,
                password: credentials.password,
                method: 'GET',
                uri: target.path,
                nonceCount: 1,
              });
        // Read the body to the end so that the retry can reuse the connection.
        refused.body.resume();
        await ended(refused);
        return true;
      },
    },
    attempt.signal,
  );

  const offered = compression === null ? [] : [PERMESSAGE_DEFLATE];
  if (response.kind === 'upgrade') {
    const check = checkUpgradeResponse(response, key, 'rfc', { protocols, extensions: offered });
    if (!check.ok) {
      // An extension the client did not offer: the server thinks the connection is open, and
      // is told why it is not (1010). Any other failure is not a WebSocket to close politely.
      if (check.error.reason === 'UNEXPECTED_EXTENSION') failNegotiation(response.socket);
      else response.socket.destroy();
      throw withStatus(check.error, response.status);
    }
    let deflate: CompressionAcceptance | null;
    try {
      deflate = compression?.accept(check.extensions) ?? null;
    } catch (error) {
      if (error instanceof HandshakeError) failNegotiation(response.socket);
      else response.socket.destroy();
      throw error instanceof HandshakeError ? withStatus(error, response.status) : error;
    }
    return WebSocketConnection.create(
      response.socket,
      'client',
      {
        url: target.href,
        protocol: check.protocol ?? '',
        extensions: deflate?.header ?? '',
        head: response.head,
        ...(deflate === null ? {} : { deflate: deflate.codec }),
      },
      options,
    );
  }
  response.body.resume();
  if (response.status === 101) {
    // node:http gives a 101 without `Connection: upgrade` as an ordinary response.
    throw withStatus(new HandshakeError('NO_CONNECTION_UPGRADE'), 101);
  }
  if (REDIRECT_STATUSES.has(response.status)) {
    const location = headerValues(response, 'location')[0];
    if (follow) return { status: response.status, location };
    throw withStatus(
      new HandshakeError(
        'CANNOT_UPGRADE',
        `${response.reason}, to ${location ?? '(no Location)'}: followRedirects is off`,
      ),
      response.status,
    );
  }
  // 401 (no credentials, or refused twice), 200, 404...
  const check = checkUpgradeResponse(response, key, 'rfc', { protocols, extensions: offered });
  if (!check.ok) throw withStatus(check.error, response.status);
  throw withStatus(new HandshakeError('CANNOT_UPGRADE', response.reason), response.status);
}

/**
 * The server accepted an extension the client did not offer (RFC 6455 §4.1), or
 * permessage-deflate with parameters the offer does not allow (RFC 7692 §7.1): the client fails
 * the connection, which is open on the server's side, with a close frame (1010: the extensions
 * were not negotiated as they must be, RFC 6455 §7.4.1), and closes TCP a moment later if the
 * server does not.
 */
function failNegotiation(socket: Socket): void {
  guardSocket(socket); // a reset while the close goes out is expected, not an error to report
  const core = new Connection('client');
  core.sendClose(CloseCode.MANDATORY_EXTENSION, 'extensions not negotiated as offered');
  for (const bytes of core.takeOutgoing()) socket.write(bytes);
  socket.end();
  socket.resume(); // read (and drop) whatever the server still sends, until it closes
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Waits until a response body was read to the end (or the connection closed). */
function ended(response: ReceivedResponse & { kind: 'response' }): Promise<void> {
  if (response.body.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    response.body.once('end', resolve);
    response.body.once('close', resolve);
  });
}

function withStatus(error: HandshakeError, status: number): HandshakeError {
  return new HandshakeError(error.reason, error.arg, { status });
}

function translate(error: unknown): Error {
  if (error instanceof ConnectError) {
    if (error.kind === 'proxy-refused')
      return new NetworkError('proxy', error.message, { status: error.status, cause: error });
    return new NetworkError(error.kind === 'timeout' ? 'network' : error.kind, error.message, {
      cause: error,
    });
  }
  if (error instanceof ResponseError) {
    const kind =
      error.kind === 'malformed' || error.kind === 'no-response'
        ? 'http'
        : isTlsFailure(error.cause)
          ? 'tls' // the TLS stream failed after its handshake (a bad record), as POCO's SSLException
          : 'network';
    return new NetworkError(kind, error.message, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** An error of OpenSSL's (Node's `ERR_SSL_*` codes): the TLS layer failed, not TCP. */
function isTlsFailure(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_SSL_');
}
