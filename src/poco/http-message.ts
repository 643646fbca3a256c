/**
 * POCO's `HTTPMessage`, `HTTPRequest` and `HTTPResponse`: the head of an HTTP message as a
 * header collection with typed accessors. Parsing is not done here (node:http's llhttp does it);
 * `write()` gives the head's text for the places where wsnet writes a head itself.
 */
import { InvalidArgumentException, NotAuthenticatedException } from './exceptions.js';
import { MessageHeader } from './name-value-collection.js';

export class HTTPMessage extends MessageHeader {
  static readonly HTTP_1_0 = 'HTTP/1.0';
  static readonly HTTP_1_1 = 'HTTP/1.1';
  static readonly IDENTITY_TRANSFER_ENCODING = 'identity';
  static readonly CHUNKED_TRANSFER_ENCODING = 'chunked';
  static readonly UNKNOWN_CONTENT_LENGTH = -1;
  static readonly UNKNOWN_CONTENT_TYPE = '';
  static readonly CONTENT_LENGTH = 'Content-Length';
  static readonly CONTENT_TYPE = 'Content-Type';
  static readonly TRANSFER_ENCODING = 'Transfer-Encoding';
  static readonly CONNECTION = 'Connection';
  static readonly CONNECTION_KEEP_ALIVE = 'Keep-Alive';
  static readonly CONNECTION_CLOSE = 'Close';
  static readonly EMPTY = '';

  #version: string;

  constructor(version: string = HTTPMessage.HTTP_1_0) {
    super();
    this.#version = version;
  }

  setVersion(version: string): void {
    this.#version = version;
  }

  getVersion(): string {
    return this.#version;
  }

  /** Sets `Content-Length`; `UNKNOWN_CONTENT_LENGTH` (-1) removes it. */
  setContentLength(length: number): void {
    if (length === HTTPMessage.UNKNOWN_CONTENT_LENGTH) this.erase(HTTPMessage.CONTENT_LENGTH);
    else if (Number.isSafeInteger(length) && length >= 0)
      this.set(HTTPMessage.CONTENT_LENGTH, String(length));
    else throw new InvalidArgumentException('Invalid content length', String(length));
  }

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

  getContentLength64(): number {
    return this.getContentLength();
  }

  hasContentLength(): boolean {
    return this.has(HTTPMessage.CONTENT_LENGTH);
  }

  setTransferEncoding(encoding: string): void {
    if (encoding.toLowerCase() === HTTPMessage.IDENTITY_TRANSFER_ENCODING)
      this.erase(HTTPMessage.TRANSFER_ENCODING);
    else this.set(HTTPMessage.TRANSFER_ENCODING, encoding);
  }

  getTransferEncoding(): string {
    return this.get(HTTPMessage.TRANSFER_ENCODING, HTTPMessage.IDENTITY_TRANSFER_ENCODING);
  }

  setChunkedTransferEncoding(chunked: boolean): void {
    this.setTransferEncoding(
      chunked ? HTTPMessage.CHUNKED_TRANSFER_ENCODING : HTTPMessage.IDENTITY_TRANSFER_ENCODING,
    );
  }

  getChunkedTransferEncoding(): boolean {
    return this.hasToken(HTTPMessage.TRANSFER_ENCODING, HTTPMessage.CHUNKED_TRANSFER_ENCODING);
  }

  setContentType(mediaType: string): void {
    if (mediaType === '') this.erase(HTTPMessage.CONTENT_TYPE);
    else this.set(HTTPMessage.CONTENT_TYPE, mediaType);
  }

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

export class HTTPRequest extends HTTPMessage {
  static readonly HTTP_GET = 'GET';
  static readonly HTTP_HEAD = 'HEAD';
  static readonly HTTP_PUT = 'PUT';
  static readonly HTTP_POST = 'POST';
  static readonly HTTP_OPTIONS = 'OPTIONS';
  static readonly HTTP_DELETE = 'DELETE';
  static readonly HTTP_TRACE = 'TRACE';
  static readonly HTTP_CONNECT = 'CONNECT';
  static readonly HTTP_PATCH = 'PATCH';
  static readonly HOST = 'Host';
  static readonly COOKIE = 'Cookie';
  static readonly AUTHORIZATION = 'Authorization';
  static readonly PROXY_AUTHORIZATION = 'Proxy-Authorization';
  static readonly UPGRADE = 'Upgrade';
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

  setMethod(method: string): void {
    this.#method = method;
  }
  getMethod(): string {
    return this.#method;
  }
  setURI(uri: string): void {
    this.#uri = uri;
  }
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
  getHost(): string {
    return this.get(HTTPRequest.HOST, '');
  }

  setExpectContinue(expect: boolean): void {
    if (expect) this.set(HTTPRequest.EXPECT, '100-continue');
    else this.erase(HTTPRequest.EXPECT);
  }
  getExpectContinue(): boolean {
    return this.get(HTTPRequest.EXPECT, '').toLowerCase() === '100-continue';
  }

  hasCredentials(): boolean {
    return this.has(HTTPRequest.AUTHORIZATION);
  }
  /** `[scheme, authInfo]` of `Authorization`; throws `NotAuthenticatedException` without one. */
  getCredentials(): [string, string] {
    return this.#credentials(HTTPRequest.AUTHORIZATION);
  }
  setCredentials(scheme: string, authInfo: string): void {
    this.set(HTTPRequest.AUTHORIZATION, `${scheme} ${authInfo}`);
  }
  removeCredentials(): void {
    this.erase(HTTPRequest.AUTHORIZATION);
  }
  hasProxyCredentials(): boolean {
    return this.has(HTTPRequest.PROXY_AUTHORIZATION);
  }
  getProxyCredentials(): [string, string] {
    return this.#credentials(HTTPRequest.PROXY_AUTHORIZATION);
  }
  setProxyCredentials(scheme: string, authInfo: string): void {
    this.set(HTTPRequest.PROXY_AUTHORIZATION, `${scheme} ${authInfo}`);
  }
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

export class HTTPResponse extends HTTPMessage {
  static readonly HTTP_CONTINUE = 100;
  static readonly HTTP_SWITCHING_PROTOCOLS = 101;
  static readonly HTTP_OK = 200;
  static readonly HTTP_CREATED = 201;
  static readonly HTTP_ACCEPTED = 202;
  static readonly HTTP_NO_CONTENT = 204;
  static readonly HTTP_MOVED_PERMANENTLY = 301;
  static readonly HTTP_FOUND = 302;
  static readonly HTTP_SEE_OTHER = 303;
  static readonly HTTP_NOT_MODIFIED = 304;
  static readonly HTTP_TEMPORARY_REDIRECT = 307;
  static readonly HTTP_PERMANENT_REDIRECT = 308;
  static readonly HTTP_BAD_REQUEST = 400;
  static readonly HTTP_UNAUTHORIZED = 401;
  static readonly HTTP_FORBIDDEN = 403;
  static readonly HTTP_NOT_FOUND = 404;
  static readonly HTTP_METHOD_NOT_ALLOWED = 405;
  static readonly HTTP_PROXY_AUTHENTICATION_REQUIRED = 407;
  static readonly HTTP_REQUEST_TIMEOUT = 408;
  static readonly HTTP_UPGRADE_REQUIRED = 426;
  static readonly HTTP_INTERNAL_SERVER_ERROR = 500;
  static readonly HTTP_NOT_IMPLEMENTED = 501;
  static readonly HTTP_BAD_GATEWAY = 502;
  static readonly HTTP_SERVICE_UNAVAILABLE = 503;
  static readonly HTTP_VERSION_NOT_SUPPORTED = 505;
  static readonly DATE = 'Date';
  static readonly SET_COOKIE = 'Set-Cookie';
  static readonly WWW_AUTHENTICATE = 'WWW-Authenticate';
  static readonly PROXY_AUTHENTICATE = 'Proxy-Authenticate';
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

  setStatus(status: number | string): void {
    const code = typeof status === 'string' ? Number(status) : status;
    if (!Number.isInteger(code) || code < 100 || code > 999)
      throw new InvalidArgumentException('Invalid HTTP status', String(status));
    this.#status = code;
  }
  getStatus(): number {
    return this.#status;
  }
  setReason(reason: string): void {
    this.#reason = reason;
  }
  getReason(): string {
    return this.#reason;
  }
  /** Sets the status and, unless given, POCO's reason phrase for it. */
  setStatusAndReason(status: number, reason?: string): void {
    this.setStatus(status);
    this.#reason = reason ?? HTTPResponse.getReasonForStatus(status);
  }

  setDate(date: Date): void {
    this.set(HTTPResponse.DATE, date.toUTCString());
  }
  getDate(): Date {
    return new Date(this.get(HTTPResponse.DATE));
  }

  /** The status line and header fields, ending with the empty line. */
  write(): string {
    return `${this.getVersion()} ${this.#status} ${this.#reason}\r\n${this.writeFields()}\r\n`;
  }
}
