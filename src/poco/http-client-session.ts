/**
 * POCO's `HTTPClientSession` and `HTTPSClientSession`: one HTTP connection to one server (kept
 * alive between requests), optionally through an HTTP proxy, on node:http.
 *
 * ```ts
 * const session = new HTTPClientSession('example.com', 80);
 * const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1);
 * session.sendRequest(request).end();
 * const response = new HTTPResponse();
 * const body = await session.receiveResponse(response); // a Readable
 * ```
 *
 * Every request goes out as HTTP/1.1 (node:http's version), whatever `request.getVersion()`
 * says. Through a proxy, plain requests use the absolute-form URI, as POCO's do; WebSocket
 * handshakes and every HTTPS request go through a CONNECT tunnel.
 */
import type { Buffer } from 'node:buffer';
import type net from 'node:net';
import { Readable } from 'node:stream';
import type tls from 'node:tls';
import {
  ConnectError,
  HttpConnection,
  ResponseError,
  openConnection,
  type ProxySettings,
  type ReceivedResponse,
} from '../io/http-client.js';
import { disposeSymbol } from '../io/disposal.js';
import { basicAuthorization } from '../protocol/auth/basic.js';
import {
  AssertionViolationException,
  ConnectionRefusedException,
  HTTPException,
  IllegalStateException,
  MessageException,
  NoMessageException,
  SSLException,
  TimeoutException,
  netExceptionFrom,
  type PocoException,
} from './exceptions.js';
import { HTTPMessage, HTTPRequest, type HTTPResponse } from './http-message.js';
import { Context } from './server-socket.js';
import { SocketAddress } from './socket-address.js';
import { Timespan } from './timespan.js';

/** What `sendRequest` returns: the request body (POCO's `std::ostream&`). */
export interface RequestStream {
  /** Writes body bytes; false means the socket's buffer is full. */
  write(data: string | Uint8Array): boolean;
  /** Ends the request (a request without a body needs no call: `receiveResponse` ends it). */
  end(data?: string | Uint8Array): void;
}

/** The socket a 101 handed over, and the bytes read past its head. */
export interface Upgrade {
  readonly socket: net.Socket;
  readonly head: Buffer;
}

/**
 * POCO's `HTTPClientSession`: one HTTP connection to one server, kept alive between requests,
 * optionally through an HTTP proxy, on node:http. It serves ordinary requests
 * (`sendRequest`/`receiveResponse`) and is what {@link WebSocket.connect} upgrades. Every request
 * goes out as HTTP/1.1. Through a proxy, plain requests use the absolute-form URI; WebSocket
 * handshakes and HTTPS go through a CONNECT tunnel.
 *
 * @example
 * ```ts
 * import { HTTPClientSession, HTTPMessage, HTTPRequest, HTTPResponse } from 'wsnet';
 *
 * const session = new HTTPClientSession('127.0.0.1', 8080);
 * session.setTimeout(10_000_000); // microseconds: 10 s to connect, send and receive
 * const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/status', HTTPMessage.HTTP_1_1);
 * session.sendRequest(request);
 * const response = new HTTPResponse();
 * const body = await session.receiveResponse(response); // a Readable
 * let text = '';
 * for await (const chunk of body) text += String(chunk);
 * console.log(response.getStatus(), text);
 * ```
 */
export class HTTPClientSession {
  /** The default HTTP port, 80. */
  static readonly HTTP_PORT = 80;

  #host: string;
  #port: number;
  #proxyHost = '';
  #proxyPort = 80;
  #proxyUsername = '';
  #proxyPassword = '';
  #connectTimeout = new Timespan(30, 0);
  #sendTimeout = new Timespan(60, 0);
  #receiveTimeout = new Timespan(60, 0);
  #keepAlive = false;
  #keepAliveTimeout = new Timespan(8, 0);
  #maxResponseHeadSize = 16 * 1024;
  /** Tunnel through the proxy even for plain HTTP (WebSocket handshakes). */
  #tunnel = false;
  #connection: HttpConnection | null = null;
  #pending: {
    body: RequestStream & { writableEnded: boolean };
    response: Promise<ReceivedResponse>;
  } | null = null;
  #upgrade: Upgrade | null = null;

  /**
   * `new HTTPClientSession(host, port = 80)` or `new HTTPClientSession(address)`. The connection
   * is made when the first request is sent.
   */
  constructor(host: string | SocketAddress = '', port: number = HTTPClientSession.HTTP_PORT) {
    if (host instanceof SocketAddress) {
      this.#host = host.host();
      this.#port = host.port();
    } else {
      this.#host = host;
      this.#port = port;
    }
  }

  /**
   * Sets the server's host.
   *
   * @throws {@link AssertionViolationException} when the session is already connected.
   */
  setHost(host: string): void {
    this.#assertNotConnected();
    this.#host = host;
  }
  /** The server's host. */
  getHost(): string {
    return this.#host;
  }
  /**
   * Sets the server's port.
   *
   * @throws {@link AssertionViolationException} when the session is already connected.
   */
  setPort(port: number): void {
    this.#assertNotConnected();
    this.#port = port;
  }
  /** The server's port. */
  getPort(): number {
    return this.#port;
  }

  /**
   * Sends requests through the HTTP proxy at `host:port`.
   *
   * @throws {@link AssertionViolationException} when the session is already connected.
   */
  setProxy(host: string, port = 80): void {
    this.#assertNotConnected();
    this.#proxyHost = host;
    this.#proxyPort = port;
  }
  /**
   * Sets the proxy's host (empty: no proxy).
   *
   * @throws {@link AssertionViolationException} when the session is already connected.
   */
  setProxyHost(host: string): void {
    this.setProxy(host, this.#proxyPort);
  }
  /**
   * Sets the proxy's port.
   *
   * @throws {@link AssertionViolationException} when the session is already connected.
   */
  setProxyPort(port: number): void {
    this.setProxy(this.#proxyHost, port);
  }
  /** The proxy's host (empty: no proxy). */
  getProxyHost(): string {
    return this.#proxyHost;
  }
  /** The proxy's port. */
  getProxyPort(): number {
    return this.#proxyPort;
  }
  /**
   * Credentials for the proxy: sent as Basic with each request to it (the CONNECT of a tunnel
   * included); a tunnel's 407 with a Digest challenge is answered once with Digest. Without them
   * no `Proxy-Authorization` is sent.
   */
  setProxyCredentials(username: string, password: string): void {
    this.#proxyUsername = username;
    this.#proxyPassword = password;
  }
  /** Sets the proxy's user name (Basic). */
  setProxyUsername(username: string): void {
    this.#proxyUsername = username;
  }
  /** The proxy's user name. */
  getProxyUsername(): string {
    return this.#proxyUsername;
  }
  /** Sets the proxy's password (Basic). */
  setProxyPassword(password: string): void {
    this.#proxyPassword = password;
  }
  /** The proxy's password. */
  getProxyPassword(): string {
    return this.#proxyPassword;
  }

  /**
   * `setTimeout(timeout)` sets the connect, send and receive timeouts; `setTimeout(connect, send,
   * receive)` each. Microseconds or Timespans; POCO's defaults are 30 s, 60 s and 60 s.
   */
  setTimeout(
    timeout: Timespan | number,
    send?: Timespan | number,
    receive?: Timespan | number,
  ): void {
    const connect = Timespan.from(timeout);
    this.#connectTimeout = connect;
    this.#sendTimeout = send === undefined ? connect : Timespan.from(send);
    this.#receiveTimeout = receive === undefined ? connect : Timespan.from(receive);
  }
  /** The receive timeout (POCO's `getTimeout()`). */
  getTimeout(): Timespan {
    return this.#receiveTimeout;
  }
  /** How long connecting (and a proxy's tunnel) may take. */
  getConnectTimeout(): Timespan {
    return this.#connectTimeout;
  }
  /** The send timeout (also a WebSocket's, after `WebSocket.connect`). */
  getSendTimeout(): Timespan {
    return this.#sendTimeout;
  }
  /**
   * How long a response may take (also a WebSocket's receive timeout, after `WebSocket.connect`).
   */
  getReceiveTimeout(): Timespan {
    return this.#receiveTimeout;
  }

  /** Whether requests ask to keep the connection alive (`Connection: Keep-Alive`). */
  setKeepAlive(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
  }
  /** Whether requests ask to keep the connection alive. */
  getKeepAlive(): boolean {
    return this.#keepAlive;
  }
  /**
   * How long an idle kept-alive connection is kept (a Timespan or microseconds; 8 s by default).
   */
  setKeepAliveTimeout(timeout: Timespan | number): void {
    this.#keepAliveTimeout = Timespan.from(timeout);
  }
  /** How long an idle kept-alive connection is kept. */
  getKeepAliveTimeout(): Timespan {
    return this.#keepAliveTimeout;
  }

  /** The largest response head accepted (16 KiB); a larger one is a `MessageException`. */
  setMaxResponseHeadSize(size: number): void {
    this.#maxResponseHeadSize = size;
  }

  /** Whether the session uses TLS (false here). */
  secure(): boolean {
    return false;
  }

  /**
   * Sends `request`'s head (adding `Host` and, unless set, `Connection` from `getKeepAlive()`),
   * and returns the body stream. The response is read by `receiveResponse`.
   *
   * @throws {@link IllegalStateException} when the response to the previous request was not read.
   */
  sendRequest(request: HTTPRequest): RequestStream {
    if (this.#pending !== null)
      throw new IllegalStateException('receiveResponse() must be called before the next request');
    if (!request.has(HTTPRequest.HOST) && this.#host !== '')
      request.setHost(this.#host, this.#defaultPort() === this.#port ? undefined : this.#port);
    if (!request.has(HTTPMessage.CONNECTION)) request.setKeepAlive(this.#keepAlive);
    const viaProxy = this.#proxyHost !== '' && !this.secure() && !this.#tunnel;
    const headers: Array<[string, string]> = [...request];
    if (viaProxy && this.#proxyUsername !== '' && !request.hasProxyCredentials())
      headers.push([
        HTTPRequest.PROXY_AUTHORIZATION,
        basicAuthorization(this.#proxyUsername, this.#proxyPassword),
      ]);
    const path = viaProxy ? `http://${request.getHost()}${request.getURI()}` : request.getURI();
    const { body, response } = this.#http().request({
      method: request.getMethod(),
      path,
      headers,
      responseTimeoutMs:
        this.#receiveTimeout.totalMilliseconds() + this.#connectTimeout.totalMilliseconds(),
      maxHeaderSize: this.#maxResponseHeadSize,
    });
    this.#pending = { body, response };
    body.flushHeaders();
    return body;
  }

  /**
   * Reads the response to the last request into `response` (status, reason, version, headers in
   * the order received) and returns its body. After a 101, the body is empty and the connection
   * belongs to whoever takes it (a WebSocket).
   *
   * @throws {@link IllegalStateException} when no request was sent.
   * @throws {@link ConnectionRefusedException}, {@link HostNotFoundException},
   * {@link SSLException}, {@link TimeoutException} (connecting, or no response in time),
   * {@link HTTPException} (the proxy refused the tunnel), {@link MessageException} (not HTTP, or a
   * head over the limit), {@link NoMessageException} (the server closed without answering), or
   * another {@link NetException}, all as rejections.
   */
  async receiveResponse(response: HTTPResponse): Promise<Readable> {
    const pending = this.#pending;
    if (pending === null) throw new IllegalStateException('No request has been sent');
    this.#pending = null;
    if (!pending.body.writableEnded) pending.body.end();
    let received: ReceivedResponse;
    try {
      received = await pending.response;
    } catch (error) {
      throw this.#exception(error);
    }
    response.clear();
    response.setVersion(received.version);
    response.setStatus(received.status);
    response.setReason(received.reason);
    for (const [name, value] of received.headers) response.add(name, value);
    if (received.kind === 'upgrade') {
      this.#upgrade = { socket: received.socket, head: received.head };
      return Readable.from([]);
    }
    return received.body;
  }

  /** Closes the connection; the next request opens a new one. */
  reset(): void {
    this.#connection?.reset();
    this.#connection = null;
    this.#pending = null;
    this.#upgrade?.socket.destroy();
    this.#upgrade = null;
  }

  /**
   * `using session = new HTTPClientSession(...)`: what POCO's destructor does when the block
   * ends, `reset()`: the connection (kept alive or not) closes. A WebSocket made over the session
   * took its connection already and stays open. Never throws.
   */
  [disposeSymbol](): void {
    this.reset();
  }

  /** @internal the connection a 101 handed over (POCO's `detachSocket`). */
  detachUpgrade(): Upgrade {
    const upgrade = this.#upgrade;
    if (upgrade === null) throw new IllegalStateException('The server did not switch protocols');
    this.#upgrade = null;
    return upgrade;
  }

  /** @internal POCO's `proxyTunnel()`: from now on, reach the server through CONNECT. */
  useProxyTunnel(): void {
    if (this.#proxyHost === '' || this.#tunnel) return;
    this.reset();
    this.#tunnel = true;
  }

  /** TLS options (HTTPS only). */
  protected tlsOptions(): tls.ConnectionOptions | undefined {
    return undefined;
  }

  #defaultPort(): number {
    return this.secure() ? HTTPSClientSession.HTTPS_PORT : HTTPClientSession.HTTP_PORT;
  }

  #http(): HttpConnection {
    if (this.#connection !== null) return this.#connection;
    const tlsOptions = this.tlsOptions();
    const useProxy = this.#proxyHost !== '';
    const tunnel = useProxy && (tlsOptions !== undefined || this.#tunnel);
    const proxy: ProxySettings | undefined = tunnel
      ? {
          host: this.#proxyHost,
          port: this.#proxyPort,
          // POCO sends Basic with the CONNECT (its default proxy auth method); a proxy that
          // answers 407 with a Digest challenge gets one retry with Digest (POCO's
          // PROXY_AUTH_HTTP_DIGEST, chosen here by the challenge instead of a setting).
          ...(this.#proxyUsername === ''
            ? {}
            : {
                authorization: basicAuthorization(this.#proxyUsername, this.#proxyPassword),
                credentials: { username: this.#proxyUsername, password: this.#proxyPassword },
              }),
        }
      : undefined;
    // Plain HTTP through a proxy without a tunnel: talk to the proxy itself.
    const target =
      useProxy && !tunnel
        ? { host: this.#proxyHost, port: this.#proxyPort }
        : { host: this.#host, port: this.#port };
    const timeoutMs = this.#connectTimeout.totalMilliseconds();
    this.#connection = new HttpConnection(() =>
      openConnection({
        target,
        timeoutMs,
        ...(tlsOptions === undefined ? {} : { tls: tlsOptions }),
        ...(proxy === undefined ? {} : { proxy }),
      }),
    );
    return this.#connection;
  }

  #assertNotConnected(): void {
    if (this.#connection !== null)
      throw new AssertionViolationException('The session is already connected');
  }

  /** The POCO exception for a failed received. */
  #exception(error: unknown): PocoException {
    if (error instanceof ConnectError) {
      switch (error.kind) {
        case 'timeout':
          return new TimeoutException(
            `Connection to ${this.#host}:${this.#port} timed out`,
            undefined,
            0,
            { cause: error },
          );
        case 'proxy-refused':
          return new HTTPException(
            'Cannot establish proxy connection',
            `${error.status} ${error.reason}`,
            0,
            { cause: error },
          );
        case 'tls':
          return new SSLException(error.message, undefined, 0, { cause: error });
        default: {
          const cause = (error as { cause?: unknown }).cause;
          const mapped = netExceptionFrom(cause ?? error);
          return mapped instanceof ConnectionRefusedException
            ? new ConnectionRefusedException(`${this.#host}:${this.#port}`, undefined, 0, {
                cause: error,
              })
            : mapped;
        }
      }
    }
    if (error instanceof ResponseError) {
      switch (error.kind) {
        case 'timeout':
          return new TimeoutException('No response received', undefined, 0, { cause: error });
        case 'malformed':
          return new MessageException('Malformed message', error.message, 0, { cause: error });
        case 'no-response':
          return new NoMessageException('', undefined, 0, { cause: error });
        default:
          return netExceptionFrom((error as { cause?: unknown }).cause ?? error);
      }
    }
    return netExceptionFrom(error);
  }
}

/**
 * POCO's `HTTPSClientSession`: an {@link HTTPClientSession} over TLS. The server's certificate is
 * verified by default (the system's CAs, or the {@link Context}'s `ca`); `Context.VERIFY_NONE`
 * turns that off.
 *
 * @example
 * ```ts
 * import { Context, HTTPSClientSession } from 'wsnet';
 *
 * declare const caPem: string; // the CA that signed the server's certificate
 * const context = new Context(Context.TLS_CLIENT_USE, { ca: caPem });
 * const session = new HTTPSClientSession('example.com', 443, context);
 * ```
 */
export class HTTPSClientSession extends HTTPClientSession {
  /** The default HTTPS port, 443. */
  static readonly HTTPS_PORT = 443;

  readonly #context: Context;

  /**
   * An HTTPS session. Without a `Context`, the server's certificate is verified against the
   * system's CAs (Node's defaults); a client `Context` can give a CA, a client certificate, or
   * `VERIFY_NONE`.
   */
  constructor(
    host: string | SocketAddress = '',
    port: number = HTTPSClientSession.HTTPS_PORT,
    context?: Context,
  ) {
    super(host, port);
    this.#context = context ?? new Context(Context.TLS_CLIENT_USE);
  }

  override secure(): boolean {
    return true;
  }

  /** The TLS context. */
  context(): Context {
    return this.#context;
  }

  protected override tlsOptions(): tls.ConnectionOptions {
    return this.#context.tlsOptions();
  }
}
