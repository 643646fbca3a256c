/**
 * POCO's `HTTPMessage`, `HTTPRequest` and `HTTPResponse`: the head of an HTTP message as a
 * header collection with typed accessors. Parsing is not done here (node:http's llhttp does it);
 * `write()` gives the head's text for the places where wsnet writes a head itself.
 */
import { InvalidArgumentException, NotAuthenticatedException } from './exceptions.js';
import { MessageHeader } from './name-value-collection.js';

/**
 * POCO's `Poco::Net::HTTPMessage`: the version and header fields common to requests and responses,
 * with typed accessors for the headers HTTP itself interprets (`Content-Length`, `Content-Type`,
 * `Transfer-Encoding`, `Connection`). Header names are case-insensitive (see
 * {@link MessageHeader}).
 */
export class HTTPMessage extends MessageHeader {
  /** The version string of HTTP/1.0 (POCO's default for a new message). */
  static readonly HTTP_1_0 = 'HTTP/1.0';
  /** The version string of HTTP/1.1. */
  static readonly HTTP_1_1 = 'HTTP/1.1';
  /** `identity`: no transfer coding (setting it removes `Transfer-Encoding`). */
  static readonly IDENTITY_TRANSFER_ENCODING = 'identity';
  /** `chunked`: the body is sent in chunks, without a length known in advance. */
  static readonly CHUNKED_TRANSFER_ENCODING = 'chunked';
  /** -1: what {@link HTTPMessage.getContentLength} returns when there is no `Content-Length`. */
  static readonly UNKNOWN_CONTENT_LENGTH = -1;
  /**
   * The empty string: what {@link HTTPMessage.getContentType} returns when there is no
   * `Content-Type`.
   */
  static readonly UNKNOWN_CONTENT_TYPE = '';
  /** The `Content-Length` header's name. */
  static readonly CONTENT_LENGTH = 'Content-Length';
  /** The `Content-Type` header's name. */
  static readonly CONTENT_TYPE = 'Content-Type';
  /** The `Transfer-Encoding` header's name. */
  static readonly TRANSFER_ENCODING = 'Transfer-Encoding';
  /** The `Connection` header's name. */
  static readonly CONNECTION = 'Connection';
  /** The `Connection` value that keeps the connection open (`Keep-Alive`). */
  static readonly CONNECTION_KEEP_ALIVE = 'Keep-Alive';
  /** The `Connection` value that closes the connection after this message (`Close`). */
  static readonly CONNECTION_CLOSE = 'Close';
  /** The empty string, as POCO's `HTTPMessage::EMPTY`. */
  static readonly EMPTY = '';

  #version: string;

  /**
   * A message with no header fields.
   *
   * @param version - the HTTP version string, `HTTP/1.0` by default (as in POCO).
   */
  constructor(version: string = HTTPMessage.HTTP_1_0) {
    super();
    this.#version = version;
  }

  /** Sets the HTTP version string (`HTTP/1.0` or `HTTP/1.1`). */
  setVersion(version: string): void {
    this.#version = version;
  }

  /** The HTTP version string. */
  getVersion(): string {
    return this.#version;
  }

  /**
   * Sets `Content-Length`; `UNKNOWN_CONTENT_LENGTH` (-1) removes it.
   *
   * @throws {@link InvalidArgumentException} when the length is neither -1 nor a non-negative safe
   * integer.
   */
  setContentLength(length: number): void {
    if (length === HTTPMessage.UNKNOWN_CONTENT_LENGTH) this.erase(HTTPMessage.CONTENT_LENGTH);
    else if (Number.isSafeInteger(length) && length >= 0)
      this.set(HTTPMessage.CONTENT_LENGTH, String(length));
    else throw new InvalidArgumentException('Invalid content length', String(length));
  }

  /**
   * The same as {@link HTTPMessage.setContentLength} (POCO's 64-bit variant; a JavaScript number
   * holds any safe integer).
   *
   * @throws {@link InvalidArgumentException} when the length is neither -1 nor a non-negative safe
   * integer.
   */
  setContentLength64(length: number): void {
    this.setContentLength(length);
  }

  /** The `Content-Length`, or -1 if there is none. */
  getContentLength(): number {
    const value = this.get(HTTPMessage.CONTENT_LENGTH, '');
    if (value === '') return HTTPMessage.UNKNOWN_CONTENT_LENGTH;
    const length = Number(value);
    return Number.isSafeInteger(length) && length >= 0
      ? length
      : HTTPMessage.UNKNOWN_CONTENT_LENGTH;
  }

  /** The same as {@link HTTPMessage.getContentLength} (POCO's 64-bit variant). */
  getContentLength64(): number {
    return this.getContentLength();
  }

  /** Whether the message has a `Content-Length` header. */
  hasContentLength(): boolean {
    return this.has(HTTPMessage.CONTENT_LENGTH);
  }

  /** Sets `Transfer-Encoding`; `identity` (any case) removes the header. */
  setTransferEncoding(encoding: string): void {
    if (encoding.toLowerCase() === HTTPMessage.IDENTITY_TRANSFER_ENCODING)
      this.erase(HTTPMessage.TRANSFER_ENCODING);
    else this.set(HTTPMessage.TRANSFER_ENCODING, encoding);
  }

  /** The `Transfer-Encoding`, or `identity` when there is none. */
  getTransferEncoding(): string {
    return this.get(HTTPMessage.TRANSFER_ENCODING, HTTPMessage.IDENTITY_TRANSFER_ENCODING);
  }

  /** Sets `Transfer-Encoding: chunked`, or removes the header when `chunked` is false. */
  setChunkedTransferEncoding(chunked: boolean): void {
    this.setTransferEncoding(
      chunked ? HTTPMessage.CHUNKED_TRANSFER_ENCODING : HTTPMessage.IDENTITY_TRANSFER_ENCODING,
    );
  }

  /** Whether `Transfer-Encoding` lists `chunked`. */
  getChunkedTransferEncoding(): boolean {
    return this.hasToken(HTTPMessage.TRANSFER_ENCODING, HTTPMessage.CHUNKED_TRANSFER_ENCODING);
  }

  /** Sets `Content-Type`; the empty string removes it. */
  setContentType(mediaType: string): void {
    if (mediaType === '') this.erase(HTTPMessage.CONTENT_TYPE);
    else this.set(HTTPMessage.CONTENT_TYPE, mediaType);
  }

  /** The `Content-Type`, or the empty string when there is none. */
  getContentType(): string {
    return this.get(HTTPMessage.CONTENT_TYPE, HTTPMessage.UNKNOWN_CONTENT_TYPE);
  }

  /** Sets `Connection: Keep-Alive` or `Connection: Close`. */
  setKeepAlive(keepAlive: boolean): void {
    this.set(
      HTTPMessage.CONNECTION,
      keepAlive ? HTTPMessage.CONNECTION_KEEP_ALIVE : HTTPMessage.CONNECTION_CLOSE,
    );
  }

  /** From `Connection` if present (anything but `close`), else true for HTTP/1.1. */
  getKeepAlive(): boolean {
    const connection = this.get(HTTPMessage.CONNECTION, '');
    if (connection !== '')
      return connection.toLowerCase() !== HTTPMessage.CONNECTION_CLOSE.toLowerCase();
    return this.#version === HTTPMessage.HTTP_1_1;
  }

  /** The header fields as wire text, each line ending in CRLF. */
  protected writeFields(): string {
    let text = '';
    for (const [name, value] of this) text += `${name}: ${value}\r\n`;
    return text;
  }
}

/**
 * POCO's `Poco::Net::HTTPRequest`: a request's method, URI and version on top of the header fields
 * of {@link HTTPMessage}. On the client side it is what {@link HTTPClientSession.sendRequest} and
 * {@link WebSocket.connect} send; on the server side {@link HTTPServerRequest} extends it.
 *
 * @example
 * ```ts
 * import { HTTPMessage, HTTPRequest } from 'wsnet';
 *
 * const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/chat', HTTPMessage.HTTP_1_1);
 * request.set('Origin', 'https://app.example');
 * request.setCredentials('Bearer', 'token');
 * ```
 */
export class HTTPRequest extends HTTPMessage {
  /** The `GET` method. */
  static readonly HTTP_GET = 'GET';
  /** The `HEAD` method. */
  static readonly HTTP_HEAD = 'HEAD';
  /** The `PUT` method. */
  static readonly HTTP_PUT = 'PUT';
  /** The `POST` method. */
  static readonly HTTP_POST = 'POST';
  /** The `OPTIONS` method. */
  static readonly HTTP_OPTIONS = 'OPTIONS';
  /** The `DELETE` method. */
  static readonly HTTP_DELETE = 'DELETE';
  /** The `TRACE` method. */
  static readonly HTTP_TRACE = 'TRACE';
  /** The `CONNECT` method. */
  static readonly HTTP_CONNECT = 'CONNECT';
  /** The `PATCH` method. */
  static readonly HTTP_PATCH = 'PATCH';
  /** The `Host` header's name. */
  static readonly HOST = 'Host';
  /** The `Cookie` header's name. */
  static readonly COOKIE = 'Cookie';
  /** The `Authorization` header's name. */
  static readonly AUTHORIZATION = 'Authorization';
  /** The `Proxy-Authorization` header's name. */
  static readonly PROXY_AUTHORIZATION = 'Proxy-Authorization';
  /** The `Upgrade` header's name. */
  static readonly UPGRADE = 'Upgrade';
  /** The `Expect` header's name. */
  static readonly EXPECT = 'Expect';

  #method: string;
  #uri: string;

  /**
   * `new HTTPRequest()`, `new HTTPRequest(version)`, `new HTTPRequest(method, uri)` or
   * `new HTTPRequest(method, uri, version)`. As in POCO, the default version is HTTP/1.0.
   */
  constructor(methodOrVersion?: string, uri?: string, version: string = HTTPMessage.HTTP_1_0) {
    const onlyVersion =
      methodOrVersion !== undefined && uri === undefined && methodOrVersion.startsWith('HTTP/');
    super(onlyVersion ? methodOrVersion : version);
    this.#method =
      onlyVersion || methodOrVersion === undefined ? HTTPRequest.HTTP_GET : methodOrVersion;
    this.#uri = uri ?? '/';
  }

  /** Sets the request method (`GET`, `POST`...). */
  setMethod(method: string): void {
    this.#method = method;
  }
  /** The request method. */
  getMethod(): string {
    return this.#method;
  }
  /** Sets the request target (`/path?query`, or an absolute URI through a proxy). */
  setURI(uri: string): void {
    this.#uri = uri;
  }
  /** The request target. */
  getURI(): string {
    return this.#uri;
  }

  /** Sets `Host`, with the port unless it is 80 (POCO leaves the default HTTP port out). */
  setHost(host: string, port?: number): void {
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.set(
      HTTPRequest.HOST,
      port === undefined || port === 80 ? bracketed : `${bracketed}:${port}`,
    );
  }
  /** The `Host` header, or the empty string when there is none. */
  getHost(): string {
    return this.get(HTTPRequest.HOST, '');
  }

  /** Sets `Expect: 100-continue`, or removes `Expect` when `expect` is false. */
  setExpectContinue(expect: boolean): void {
    if (expect) this.set(HTTPRequest.EXPECT, '100-continue');
    else this.erase(HTTPRequest.EXPECT);
  }
  /** Whether the request has `Expect: 100-continue`. */
  getExpectContinue(): boolean {
    return this.get(HTTPRequest.EXPECT, '').toLowerCase() === '100-continue';
  }

  /** Whether the request has an `Authorization` header. */
  hasCredentials(): boolean {
    return this.has(HTTPRequest.AUTHORIZATION);
  }
  /** `[scheme, authInfo]` of `Authorization`; throws `NotAuthenticatedException` without one. */
  getCredentials(): [string, string] {
    return this.#credentials(HTTPRequest.AUTHORIZATION);
  }
  /** Sets `Authorization: <scheme> <authInfo>`. */
  setCredentials(scheme: string, authInfo: string): void {
    this.set(HTTPRequest.AUTHORIZATION, `${scheme} ${authInfo}`);
  }
  /** Removes the `Authorization` header. */
  removeCredentials(): void {
    this.erase(HTTPRequest.AUTHORIZATION);
  }
  /** Whether the request has a `Proxy-Authorization` header. */
  hasProxyCredentials(): boolean {
    return this.has(HTTPRequest.PROXY_AUTHORIZATION);
  }
  /**
   * `[scheme, authInfo]` of `Proxy-Authorization`.
   *
   * @throws {@link NotAuthenticatedException} when the request has no `Proxy-Authorization`.
   */
  getProxyCredentials(): [string, string] {
    return this.#credentials(HTTPRequest.PROXY_AUTHORIZATION);
  }
  /** Sets `Proxy-Authorization: <scheme> <authInfo>`. */
  setProxyCredentials(scheme: string, authInfo: string): void {
    this.set(HTTPRequest.PROXY_AUTHORIZATION, `${scheme} ${authInfo}`);
  }
  /** Removes the `Proxy-Authorization` header. */
  removeProxyCredentials(): void {
    this.erase(HTTPRequest.PROXY_AUTHORIZATION);
  }

  /** The request line and header fields, ending with the empty line. */
  write(): string {
    return `${this.#method} ${this.#uri} ${this.getVersion()}\r\n${this.writeFields()}\r\n`;
  }

  #credentials(header: string): [string, string] {
    const value = this.get(header, '').trim();
    if (value === '') throw new NotAuthenticatedException('No credentials found');
    const space = value.indexOf(' ');
    return space === -1 ? [value, ''] : [value.slice(0, space), value.slice(space + 1).trim()];
  }
}

/** HTTP status codes with POCO's reason phrases (HTTPResponse.cpp). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/**
 * POCO's `Poco::Net::HTTPResponse`: a response's status and reason phrase on top of the header
 * fields of {@link HTTPMessage}. {@link WebSocket.connect} fills one with the server's answer;
 * {@link HTTPServerResponse} extends it on the server side.
 */
export class HTTPResponse extends HTTPMessage {
  /** 100 Continue. */
  static readonly HTTP_CONTINUE = 100;
  /** 101 Switching Protocols: the status of an accepted WebSocket upgrade. */
  static readonly HTTP_SWITCHING_PROTOCOLS = 101;
  /** 200 OK. */
  static readonly HTTP_OK = 200;
  /** 201 Created. */
  static readonly HTTP_CREATED = 201;
  /** 202 Accepted. */
  static readonly HTTP_ACCEPTED = 202;
  /** 204 No Content. */
  static readonly HTTP_NO_CONTENT = 204;
  /** 301 Moved Permanently. */
  static readonly HTTP_MOVED_PERMANENTLY = 301;
  /** 302 Found. */
  static readonly HTTP_FOUND = 302;
  /** 303 See Other. */
  static readonly HTTP_SEE_OTHER = 303;
  /** 304 Not Modified. */
  static readonly HTTP_NOT_MODIFIED = 304;
  /** 307 Temporary Redirect. */
  static readonly HTTP_TEMPORARY_REDIRECT = 307;
  /** 308 Permanent Redirect. */
  static readonly HTTP_PERMANENT_REDIRECT = 308;
  /** 400 Bad Request. */
  static readonly HTTP_BAD_REQUEST = 400;
  /** 401 Unauthorized. */
  static readonly HTTP_UNAUTHORIZED = 401;
  /** 403 Forbidden. */
  static readonly HTTP_FORBIDDEN = 403;
  /** 404 Not Found. */
  static readonly HTTP_NOT_FOUND = 404;
  /** 405 Method Not Allowed. */
  static readonly HTTP_METHOD_NOT_ALLOWED = 405;
  /** 407 Proxy Authentication Required. */
  static readonly HTTP_PROXY_AUTHENTICATION_REQUIRED = 407;
  /** 408 Request Time-out. */
  static readonly HTTP_REQUEST_TIMEOUT = 408;
  /** 426 Upgrade Required (the answer to a WebSocket version this side does not speak). */
  static readonly HTTP_UPGRADE_REQUIRED = 426;
  /** 500 Internal Server Error. */
  static readonly HTTP_INTERNAL_SERVER_ERROR = 500;
  /** 501 Not Implemented. */
  static readonly HTTP_NOT_IMPLEMENTED = 501;
  /** 502 Bad Gateway. */
  static readonly HTTP_BAD_GATEWAY = 502;
  /** 503 Service Unavailable. */
  static readonly HTTP_SERVICE_UNAVAILABLE = 503;
  /** 505 HTTP Version Not Supported. */
  static readonly HTTP_VERSION_NOT_SUPPORTED = 505;
  /** The `Date` header's name. */
  static readonly DATE = 'Date';
  /** The `Set-Cookie` header's name. */
  static readonly SET_COOKIE = 'Set-Cookie';
  /** The `WWW-Authenticate` header's name. */
  static readonly WWW_AUTHENTICATE = 'WWW-Authenticate';
  /** The `Proxy-Authenticate` header's name. */
  static readonly PROXY_AUTHENTICATE = 'Proxy-Authenticate';
  /** The `Location` header's name. */
  static readonly LOCATION = 'Location';

  #status: number;
  #reason: string;

  /**
   * `new HTTPResponse()` (200 OK), `new HTTPResponse(status[, reason])` or
   * `new HTTPResponse(version, status[, reason])`.
   */
  constructor(
    statusOrVersion: number | string = HTTPResponse.HTTP_OK,
    statusOrReason?: number | string,
    reason?: string,
  ) {
    const version = typeof statusOrVersion === 'string' ? statusOrVersion : HTTPMessage.HTTP_1_0;
    super(version);
    const status =
      typeof statusOrVersion === 'number'
        ? statusOrVersion
        : typeof statusOrReason === 'number'
          ? statusOrReason
          : HTTPResponse.HTTP_OK;
    const givenReason = typeof statusOrReason === 'string' ? statusOrReason : reason;
    this.#status = status;
    this.#reason = givenReason ?? HTTPResponse.getReasonForStatus(status);
  }

  /** POCO's reason phrase for a status, or `???` for one it does not know. */
  static getReasonForStatus(status: number): string {
    return REASONS[status] ?? '???';
  }

  /**
   * Sets the status code (the reason phrase is left as it is; see
   * {@link HTTPResponse.setStatusAndReason}).
   *
   * @throws {@link InvalidArgumentException} when the status is not an integer from 100 to 999.
   */
  setStatus(status: number | string): void {
    const code = typeof status === 'string' ? Number(status) : status;
    if (!Number.isInteger(code) || code < 100 || code > 999)
      throw new InvalidArgumentException('Invalid HTTP status', String(status));
    this.#status = code;
  }
  /** The status code. */
  getStatus(): number {
    return this.#status;
  }
  /** Sets the reason phrase. */
  setReason(reason: string): void {
    this.#reason = reason;
  }
  /** The reason phrase. */
  getReason(): string {
    return this.#reason;
  }
  /** Sets the status and, unless given, POCO's reason phrase for it. */
  setStatusAndReason(status: number, reason?: string): void {
    this.setStatus(status);
    this.#reason = reason ?? HTTPResponse.getReasonForStatus(status);
  }

  /** Sets the `Date` header (in the RFC 7231 format). */
  setDate(date: Date): void {
    this.set(HTTPResponse.DATE, date.toUTCString());
  }
  /** The `Date` header as a `Date` (an invalid `Date` when there is none or it does not parse). */
  getDate(): Date {
    return new Date(this.get(HTTPResponse.DATE));
  }

  /** The status line and header fields, ending with the empty line. */
  write(): string {
    return `${this.getVersion()} ${this.#status} ${this.#reason}\r\n${this.writeFields()}\r\n`;
  }
}
