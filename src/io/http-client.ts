/**
 * The client side of HTTP/1.1 for WebSocket handshakes and plain requests, on node:http:
 * llhttp parses every response, wsnet writes nothing by hand but the CONNECT of a proxy tunnel.
 *
 * `openConnection` makes the transport: TCP or TLS, directly or through an HTTP proxy's CONNECT
 * tunnel, within a connect timeout or until an abort signal. `HttpConnection` sends requests over
 * one kept-alive connection (a private `http.Agent` with one socket), so that a 401 is retried on
 * the same connection as POCO does, and hands over the socket and the bytes read past the head
 * when the server switches protocols. `sendAnsweringChallenge` is the 401 loop of both clients.
 */
import { type Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { basicAuthorization } from '../protocol/auth/basic.js';
import { digestAuthorization } from '../protocol/auth/digest.js';
import { selectChallenge } from '../protocol/auth/select.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ProxySettings extends Endpoint {
  /** The `Proxy-Authorization` value sent with the first CONNECT (preemptive Basic), if any. */
  readonly authorization?: string;
  /**
   * Credentials that answer a 407 once, with Basic or Digest (whichever the proxy's
   * `Proxy-Authenticate` asks for first); a second 407 is the answer.
   */
  readonly credentials?: { readonly username: string; readonly password: string };
  /**
   * An `https://` proxy: the connection to the proxy itself is TLS, with these options (the CA
   * to trust, `rejectUnauthorized`); the tunnel runs inside it, and a wss:// target's TLS inside
   * the tunnel.
   */
  readonly tls?: tls.ConnectionOptions;
}

export interface TransportOptions {
  readonly target: Endpoint;
  /** TLS options: wss / https when present. */
  readonly tls?: tls.ConnectionOptions;
  /** Tunnel through this HTTP proxy with CONNECT. */
  readonly proxy?: ProxySettings;
  /**
   * Or (never with `proxy`) the connection to `target` opened another way: a SOCKS5 tunnel
   * (src/io/socks.ts). It gets `signal`, and closes what it made if that aborts.
   */
  readonly tunnel?: (signal: Cancellation | undefined) => Promise<net.Socket>;
  /** 0: no limit. */
  readonly timeoutMs: number;
  /** Gives up (destroying whatever was half made) when this aborts, with its reason. */
  readonly signal?: Cancellation;
}

/**
 * What the waits here need of an `AbortSignal` (which has all of it): whether and why it
 * aborted, and an 'abort' listener.
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: Error;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A {@link Cancellation} for one handshake's deadline, without an `AbortController`: one with its
 * signal took 15-18 µs to make here (about 2 % of a loopback connect + close, in the profile),
 * paid for a deadline that rarely fires; a set of listeners costs next to nothing. Listeners
 * are called once, on the first `abort()`.
 */
export class Deadline implements Cancellation {
  #aborted = false;
  #reason: Error | undefined;
  readonly #listeners = new Set<() => void>();

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): Error {
    return this.#reason!;
  }

  /** Aborts with `reason` (the first call only), calling every listener once. */
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason!;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.#aborted) this.#listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.delete(listener);
  }
}

/** Why a connection could not be made, for the layer above to name in its own terms. */
export class ConnectError extends Error {
  constructor(
    readonly kind: 'timeout' | 'proxy-refused' | 'network' | 'tls',
    message: string,
    readonly status?: number,
    readonly reason?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A host for the TLS `servername` extension: never an IP literal (RFC 6066 §3). */
function serverName(host: string): string | undefined {
  return net.isIP(host) === 0 ? host : undefined;
}

/** TLS `options` for a connection to `host`, with its server name unless they give one. */
function withServerName(host: string, options: tls.ConnectionOptions): tls.ConnectionOptions {
  const name = serverName(host);
  return name === undefined ? options : { servername: name, ...options };
}

/** What a proxy answered to one CONNECT: the tunnel, or a refusal with its head. */
type TunnelAnswer =
  | { readonly open: true; readonly socket: net.Socket }
  | {
      readonly open: false;
      readonly status: number;
      readonly reason: string;
      readonly headers: Array<[string, string]>;
    };

function authorityOf(target: Endpoint): string {
  return net.isIP(target.host) === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
}

/** Sends one CONNECT for `authority` to `proxy`, with `authorization` if given. */
function requestTunnel(
  proxy: ProxySettings,
  authority: string,
  authorization: string | undefined,
  attempt: Attempt,
): Promise<TunnelAnswer> {
  const headers: Array<[string, string]> = [['Host', authority]];
  if (authorization !== undefined) headers.push(['Proxy-Authorization', authorization]);
  return new Promise((resolve, reject) => {
    const settings: http.RequestOptions = {
      host: proxy.host,
      port: proxy.port,
      method: 'CONNECT',
      path: authority,
      headers: headers.flat(),
      setHost: false,
      agent: false,
    };
    const request =
      proxy.tls === undefined
        ? http.request(settings)
        : https.request({ ...settings, ...withServerName(proxy.host, proxy.tls) });
    // An https:// proxy: between TCP's connect and TLS's, a failure is TLS's (a certificate
    // not trusted, a proxy that does not speak TLS), and is named so.
    let tlsHandshaking = false;
    request.once('socket', (socket: net.Socket) => {
      attempt.socket = socket;
      if (proxy.tls === undefined) return;
      socket.once('connect', () => (tlsHandshaking = true));
      socket.once('secureConnect', () => (tlsHandshaking = false));
    });
    // node:http ends HTTP on a connection at any answer to a CONNECT (llhttp hands over what
    // follows the head), a refusal too: its body is not read, and the connection is closed.
    request.once('connect', (response: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        resolve({
          open: false,
          status: response.statusCode ?? 0,
          reason: response.statusMessage ?? '',
          headers: toHeaderPairs(response.rawHeaders),
        });
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve({ open: true, socket });
    });
    request.once('response', (response: http.IncomingMessage) => {
      // A proxy that answers CONNECT without switching (e.g. 407 with a body).
      response.resume();
      resolve({
        open: false,
        status: response.statusCode ?? 0,
        reason: response.statusMessage ?? '',
        headers: toHeaderPairs(response.rawHeaders),
      });
    });
    // A proxy whose answer is not HTTP, or who closes without one, failed the way a server
    // does (`malformed`, `no-response`: NetworkError 'http', POCO's MessageException and
    // NoMessageException); only what the socket itself reports (refused, reset) is 'network'.
    request.once('error', (error) =>
      reject(
        tlsHandshaking
          ? tlsFailure(error, `TLS with the proxy failed: ${error.message}`)
          : (responseFailure(error, 'the proxy') ?? networkFailure(error)),
      ),
    );
    request.end();
  });
}

/**
 * The `Proxy-Authorization` that answers a 407's challenge with `credentials` (the 401 code's
 * challenge selection and arithmetic; Digest's URI is the CONNECT's authority), or why none can.
 */
function answerProxyChallenge(
  refusal: TunnelAnswer & { open: false },
  credentials: NonNullable<ProxySettings['credentials']>,
  authority: string,
): { authorization: string } | { why: string } {
  const { usable, offered } = selectChallenge(
    refusal.headers
      .filter(([name]) => name.toLowerCase() === 'proxy-authenticate')
      .map(([, value]) => value),
  );
  if (usable === undefined)
    return {
      why:
        offered.length === 0
          ? 'no Proxy-Authenticate challenge'
          : `it asks for ${offered.join(', ')}; only Basic and Digest are answered`,
    };
  return {
    authorization:
      usable.scheme === 'basic'
        ? basicAuthorization(credentials.username, credentials.password)
        : digestAuthorization(usable.digest, {
            username: credentials.username,
            password: credentials.password,
            method: 'CONNECT',
            uri: authority,
            nonceCount: 1,
          }),
  };
}

function tunnelRefused(refusal: TunnelAnswer & { open: false }, detail = ''): ConnectError {
  return new ConnectError(
    'proxy-refused',
    `proxy refused the tunnel: ${refusal.status} ${refusal.reason}${detail}`,
    refusal.status,
    refusal.reason,
  );
}

/**
 * Opens a CONNECT tunnel to `target` through `proxy`; resolves the tunnel's socket. A 407 is
 * answered once when `proxy.credentials` can (on a new connection: node:http closed the first,
 * see `requestTunnel`; Basic and Digest credentials are not bound to a connection, RFC 7235
 * §2.1). The same answer as the one refused (preemptive Basic) is not sent twice.
 */
async function tunnel(
  proxy: ProxySettings,
  target: Endpoint,
  attempt: Attempt,
): Promise<net.Socket> {
  const authority = authorityOf(target);
  const first = await requestTunnel(proxy, authority, proxy.authorization, attempt);
  if (first.open) return first.socket;
  if (first.status !== 407) throw tunnelRefused(first);
  if (proxy.credentials === undefined)
    throw tunnelRefused(first, ' (the proxy wants credentials: none were given)');
  const answer = answerProxyChallenge(first, proxy.credentials, authority);
  if ('why' in answer) throw tunnelRefused(first, ` (cannot answer its challenge: ${answer.why})`);
  if (answer.authorization === proxy.authorization)
    throw tunnelRefused(first, ' (the proxy refused the credentials)');
  const second = await requestTunnel(proxy, authority, answer.authorization, attempt);
  if (second.open) return second.socket;
  throw tunnelRefused(second, second.status === 407 ? ' (the proxy refused the credentials)' : '');
}

/** The socket being set up, so that a timeout can destroy it wherever it is. */
interface Attempt {
  socket: net.Socket | undefined;
}

function connectTcp(target: Endpoint, attempt: Attempt): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    attempt.socket = socket;
    const onError = (error: Error) =>
      reject(new ConnectError('network', error.message, undefined, undefined, { cause: error }));
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

function startTls(
  target: Endpoint,
  options: tls.ConnectionOptions,
  attempt: Attempt,
  socket?: net.Socket,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      ...(socket === undefined ? { host: target.host, port: target.port } : { socket }),
      ...withServerName(target.host, options),
    });
    attempt.socket = secure;
    const onError = (error: Error) => {
      secure.destroy();
      reject(tlsFailure(error));
    };
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
    secure.once('error', onError);
  });
}

/**
 * Opens the transport described by `options`; on a timeout or an abort, whatever was half made
 * is closed.
 */
export async function openConnection(options: TransportOptions): Promise<net.Socket> {
  const attempt: Attempt = { socket: undefined };
  const connecting = (async () => {
    let raw: net.Socket | undefined;
    if (options.proxy !== undefined) {
      raw = await tunnel(options.proxy, options.target, attempt);
      attempt.socket = raw;
    } else if (options.tunnel !== undefined) {
      raw = await options.tunnel(options.signal);
      attempt.socket = raw;
    } else if (options.tls === undefined) {
      raw = await connectTcp(options.target, attempt);
    }
    if (options.tls === undefined) return raw!;
    return startTls(options.target, options.tls, attempt, raw);
  })();
  const socket = await boundedSocket(connecting, {
    timeoutMs: options.timeoutMs,
    timeoutMessage: `no connection within ${options.timeoutMs} ms`,
    signal: options.signal,
    halfMade: () => attempt.socket,
  });
  socket.setNoDelay(true);
  return socket;
}

/** How long {@link boundedSocket} waits, and what it closes when it gives up. */
export interface SocketBounds {
  /** 0: no limit of its own (a deadline elsewhere covers it); else a ConnectError 'timeout'. */
  readonly timeoutMs: number;
  readonly timeoutMessage: string;
  /** Gives up when this aborts, with its reason. */
  readonly signal: Cancellation | undefined;
  /** The socket being set up, if one is open yet: closed when the wait gives up. */
  readonly halfMade: () => net.Socket | undefined;
}

/**
 * Waits for `making`, a socket being set up (a connection, a tunnel, TLS), within `bounds`. On a
 * timeout, an abort or a failure, the socket half made is closed, and one that `making` completes
 * anyway later (a tunnel answered late) is closed then: nothing is left open.
 */
export async function boundedSocket(
  making: Promise<net.Socket>,
  bounds: SocketBounds,
): Promise<net.Socket> {
  let timer: NodeJS.Timeout | undefined;
  // Without a limit (the message API's connect has a deadline of its own): no race to run.
  const bounded =
    bounds.timeoutMs <= 0
      ? making
      : Promise.race([
          making,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new ConnectError('timeout', bounds.timeoutMessage)),
              bounds.timeoutMs,
            );
          }),
        ]);
  try {
    return await untilAborted(bounded, bounds.signal);
  } catch (error) {
    bounds.halfMade()?.destroy();
    making.then(
      (late) => late.destroy(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The head of a response, as node:http parsed it. */
export interface ReceivedHead {
  readonly status: number;
  readonly reason: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  readonly version: string;
  /** Header names and values in the order received, repeats included. */
  readonly headers: Array<[string, string]>;
}

/** A response: an ordinary one with its body, or a 101 with the socket it hands over. */
export type ReceivedResponse =
  | (ReceivedHead & { readonly kind: 'response'; readonly body: Readable })
  | (ReceivedHead & {
      readonly kind: 'upgrade';
      readonly socket: net.Socket;
      readonly head: Buffer;
    });

export interface RequestOptions {
  readonly method: string;
  /** Origin-form (`/path?q`) or, for a proxy, absolute-form. */
  readonly path: string;
  /**
   * Sent in this order, exactly (no Host unless given); node:http adds `Connection: keep-alive`
   * only when no `Connection` is given (an upgrade request gives one).
   */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** How long the response head may take (0: no limit). */
  readonly responseTimeoutMs: number;
  /** Largest response head accepted (node:http's default is 16 KiB). */
  readonly maxHeaderSize?: number;
}

/** A request in flight: write its body, then await its response. */
export interface PendingRequest {
  readonly body: http.ClientRequest;
  readonly response: Promise<ReceivedResponse>;
}

/** Why a request got no usable response, for the layer above to name in its own terms. */
export class ResponseError extends Error {
  constructor(
    readonly kind: 'timeout' | 'malformed' | 'no-response' | 'network',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * node:http's error for a response that is not HTTP (llhttp's `HPE_*`) or that never came (the
 * peer closed first: "socket hang up"), as a ResponseError; undefined for any other error.
 */
function responseFailure(
  error: NodeJS.ErrnoException,
  peer = 'the server',
): ResponseError | undefined {
  // Not every error has a string code: an abort's reason may be a DOMException (code 20).
  const code = typeof error.code === 'string' ? error.code : '';
  if (code.startsWith('HPE_'))
    return new ResponseError('malformed', error.message, { cause: error });
  if (code === 'ECONNRESET' && error.message === 'socket hang up')
    return new ResponseError(
      'no-response',
      `${peer} closed the connection without a complete response`,
      { cause: error },
    );
  return undefined;
}

function networkFailure(error: Error): ConnectError {
  return new ConnectError('network', error.message, undefined, undefined, { cause: error });
}

/** A TLS handshake that failed (the server's, or an https:// proxy's). */
function tlsFailure(error: Error, message = error.message): ConnectError {
  return new ConnectError('tls', message, undefined, undefined, { cause: error });
}

function toHeaderPairs(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

/**
 * HTTP requests over one kept-alive connection, opened on demand by `connect`. After a response
 * whose body has been read to the end, the next request reuses the connection (if the server
 * kept it open); `reset()` drops it.
 *
 * Two ways to keep it, same behaviour for a handshake:
 * - an `http.Agent` with one socket (the default: POCO's `HTTPClientSession`, which lives long
 *   and may sit idle between requests: the agent unrefs an idle socket, drops one the server
 *   closed, and queues a request made while another is under way);
 * - `{ agent: false }`: no agent, the connection handed to node:http directly, and kept by hand
 *   between a response and the next request (the message API's `connect`, whose connection
 *   lives for one handshake and its 401 retry). An agent per handshake cost about 50 µs of CPU
 *   per connect (its construction, `addRequest`, `createSocket`, the server-name work), a fifth
 *   of what a connect's HTTP part costs; ws's client has none either.
 */
export class HttpConnection {
  readonly #agent: http.Agent | undefined;
  readonly #connect: () => Promise<net.Socket>;
  /** Without an agent: the socket of the request under way, until it is handed over or freed. */
  #active: net.Socket | null = null;
  /** Without an agent: the kept-alive socket between a response and the next request. */
  #idle: net.Socket | null = null;

  constructor(connect: () => Promise<net.Socket>, options: { agent?: boolean } = {}) {
    this.#connect = connect;
    if (options.agent === false) return;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    // node:http asks the agent for a socket; ours comes from `connect` (TCP, TLS, tunnel...).
    (this.#agent as unknown as { createConnection: unknown }).createConnection = (
      _options: unknown,
      callback: (error: Error | null, socket?: net.Socket) => void,
    ) => {
      connect().then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error),
      );
      return undefined;
    };
  }

  /**
   * Without an agent, node:http's `createConnection` option: the kept-alive socket if the server
   * has not closed it, else a new connection from `connect`.
   */
  #createConnection = (
    _options: unknown,
    callback: (error: Error | null, socket?: net.Socket) => void,
  ): net.Socket | undefined => {
    const idle = this.#idle;
    this.#idle = null;
    if (idle !== null && !idle.destroyed && idle.writable) {
      idle.ref();
      this.#adopt(idle);
      return idle; // node:http takes a socket returned at once as it takes the callback's
    }
    idle?.destroy();
    this.#connect().then(
      (socket) => {
        this.#adopt(socket);
        // node:http frees a kept-alive socket with a 'free' event, for an agent to pick up.
        socket.on('free', () => this.#free(socket));
        callback(null, socket);
      },
      (error: Error) => callback(error),
    );
    return undefined;
  };

  #adopt(socket: net.Socket): void {
    this.#active = socket;
  }

  /** The response was read to its end and the server keeps the connection: keep it, unref'd. */
  #free(socket: net.Socket): void {
    if (this.#active === socket) this.#active = null;
    if (socket.destroyed) return;
    this.#idle?.destroy();
    this.#idle = socket;
    socket.unref(); // an idle socket does not hold the process open, as an agent's does not
  }

  request(options: RequestOptions): PendingRequest {
    const request = http.request({
      ...(this.#agent === undefined
        ? {
            createConnection: this.#createConnection as http.RequestOptions['createConnection'],
          }
        : { agent: this.#agent }),
      method: options.method,
      path: options.path,
      headers: options.headers.flat(),
      setHost: false,
      ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }),
    });
    if (this.#agent === undefined)
      // node:http plans `Connection: close` for a request without an agent, and so ends the
      // socket after the response; this one keeps it, as a keep-alive agent's requests do (the
      // response's own `Connection: close` still ends it). The head is already formatted: the
      // headers came as an array, and an upgrade request names its own `Connection`.
      (request as http.ClientRequest & { shouldKeepAlive: boolean }).shouldKeepAlive = true;
    const response = new Promise<ReceivedResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = () => clearTimeout(timer);
      if (options.responseTimeoutMs > 0) {
        timer = setTimeout(() => {
          reject(
            new ResponseError('timeout', `no response within ${options.responseTimeoutMs} ms`),
          );
          request.destroy();
        }, options.responseTimeoutMs);
      }
      request.once('response', (message: http.IncomingMessage) => {
        settle();
        resolve({
          kind: 'response',
          status: message.statusCode ?? 0,
          reason: message.statusMessage ?? '',
          version: `HTTP/${message.httpVersion}`,
          headers: toHeaderPairs(message.rawHeaders),
          body: message,
        });
      });
      request.once('upgrade', (message: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        settle();
        if (this.#active === socket) this.#active = null; // the caller's now, not ours to reset
        resolve({
          kind: 'upgrade',
          status: message.statusCode ?? 0,
          reason: message.statusMessage ?? '',
          version: `HTTP/${message.httpVersion}`,
          headers: toHeaderPairs(message.rawHeaders),
          socket,
          head,
        });
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        settle();
        // A ConnectError or, from a proxy's answer, a ResponseError: from `connect`, as it is.
        if (error instanceof ConnectError || error instanceof ResponseError) reject(error);
        else
          reject(
            responseFailure(error) ?? new ResponseError('network', error.message, { cause: error }),
          );
      });
    });
    // The request's own errors are the response promise's; keep Node from reporting them twice.
    response.catch(() => undefined);
    return { body: request, response };
  }

  /** Drops the kept-alive connection (the next request opens a new one). */
  reset(): void {
    if (this.#agent !== undefined) {
      this.#agent.destroy();
      return;
    }
    this.#active?.destroy();
    this.#idle?.destroy();
    this.#active = this.#idle = null;
  }
}

/**
 * Settles as `promise` does, or rejects with the signal's reason as soon as it aborts (without
 * a signal: `promise` itself).
 */
export function untilAborted<T>(promise: Promise<T>, signal: Cancellation | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** One request of a handshake that the server may challenge with a 401. */
export interface ChallengedRequest<R extends { readonly status: number }> {
  /** Sends the request (with the credentials the last `answer` set, if any); resolves its response. */
  send(): Promise<R>;
  /**
   * Prepares the retry of a 401: sets the credentials that answer its challenge and reads the
   * refused response to its end (so that the retry can use the same connection, as POCO's
   * does). False: no retry (no credentials, or no challenge they can answer).
   */
  answer(response: R): Promise<boolean>;
}

/**
 * The 401 loop of both clients: sends the request and, if the server challenges it and the
 * credentials can answer, once more (one retry, as POCO's `WebSocket`: a second 401 is the
 * answer). Once `signal` aborts (the handshake's deadline), the step under way rejects with its
 * reason and nothing more is sent: no retry, no credentials, no second connection.
 */
export async function sendAnsweringChallenge<R extends { readonly status: number }>(
  request: ChallengedRequest<R>,
  signal?: Cancellation,
): Promise<R> {
  signal?.throwIfAborted();
  const response = await untilAborted(request.send(), signal);
  if (response.status !== 401 || !(await untilAborted(request.answer(response), signal)))
    return response;
  signal?.throwIfAborted();
  return untilAborted(request.send(), signal);
}

export type { Readable };
