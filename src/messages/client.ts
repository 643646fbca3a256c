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
 * layer's 401 loop, shared with POCO's client). The handshake timeout ends everything: once it
 * expires nothing more is sent, and every socket the attempt opened is closed.
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
import { openSocksTunnel, parseSocksUrl } from '../io/socks.js';
import { basicAuthorization } from '../protocol/auth/basic.js';
import { digestAuthorization } from '../protocol/auth/digest.js';
import { selectChallenge } from '../protocol/auth/select.js';
import { HandshakeError, InvalidArgumentError } from '../protocol/errors.js';
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
   * tunnel (for `ws://` and `wss://` alike), with Basic proxy credentials from its user info. Or
   * a SOCKS5 proxy (RFC 1928): `socks5://host:1080` resolves the server's name here and sends
   * its address, `socks5h://` lets the proxy resolve it; user info is RFC 1929's user name and
   * password.
   */
  readonly proxy?: string | URL;
  /** Aborts the handshake: `connect()` rejects with the signal's reason, and nothing is left open. */
  readonly signal?: AbortSignal;
  /** Credentials for a 401 (Basic or Digest); the URL's user info is used if absent. */
  readonly credentials?: Credentials;
  /** Send Basic credentials with the first request instead of waiting for a 401. */
  readonly preemptiveAuth?: boolean;
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

interface Target {
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
  const url = parseUrl(input, 'the WebSocket URL');
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
  return {
    host,
    port,
    secure,
    path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`,
    // §4.1: the port is included unless it is the scheme's default.
    authority: url.port === '' ? url.hostname : `${url.hostname}:${url.port}`,
    credentials,
  };
}

function parseProxy(input: string | URL): ProxySettings {
  const url = parseUrl(input, 'the proxy');
  if (url.protocol !== 'http:')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      'a proxy URL starts with http://, socks5:// or socks5h://',
    );
  const host = hostOf(url);
  const port = url.port === '' ? 80 : Number(url.port);
  if (url.username === '' && url.password === '') return { host, port };
  const authorization = basicAuthorization(
    decodeUserInfo(url.username),
    decodeUserInfo(url.password),
  );
  return { host, port, authorization };
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
 * answered wrongly (`reason` names the rule, `status` is the HTTP status).
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
  const socks =
    options.proxy === undefined ? undefined : parseSocksUrl(parseUrl(options.proxy, 'the proxy'));
  const proxy =
    options.proxy === undefined || socks !== undefined ? undefined : parseProxy(options.proxy);
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

  // The handshake's deadline: aborting stops the 401 loop and whatever it waits for.
  const deadline = new Deadline();
  // No http.Agent: the connection lives for this handshake (and its 401 retry) only.
  const http = new HttpConnection(
    () =>
      openConnection({
        target: { host: target.host, port: target.port },
        ...(target.secure ? { tls: options.tls ?? {} } : {}),
        ...(proxy === undefined ? {} : { proxy }),
        ...(socks === undefined
          ? {}
          : { tunnel: (signal) => openSocksTunnel(socks, target, { signal }) }),
        timeoutMs: 0, // the handshake's own deadline covers the connection
        signal: deadline,
      }),
    { agent: false },
  );
  options.signal?.throwIfAborted();
  const timer =
    timeoutMs > 0
      ? setTimeout(() => deadline.abort(new TimeoutError('handshake', timeoutMs)), timeoutMs)
      : undefined;
  // The caller's signal ends the handshake as its deadline does (with the signal's reason).
  const onAbort = () => deadline.abort(abortReason(options.signal!));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const responses: Array<Promise<ReceivedResponse>> = [];
  try {
    return await handshake(http, target, options, protocols, compression, extra, credentials, {
      signal: deadline,
      responses,
    });
  } catch (error) {
    deadline.abort(error instanceof Error ? error : new Error(String(error)));
    http.reset();
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
  attempt: { signal: Deadline; responses: Array<Promise<ReceivedResponse>> },
): Promise<WebSocketConnection> {
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
