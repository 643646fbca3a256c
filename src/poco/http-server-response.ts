/**
 * POCO's `HTTPServerResponse`: an `HTTPResponse` that a handler fills in and sends once.
 * The header fields start as POCO's `HTTPServerConnection` sets them (Date, Connection and, if
 * configured, Server), which is why POCO's 101 lists Connection second.
 */
import { readFile } from 'node:fs/promises';
import { AssertionViolationException, FileNotFoundException } from './exceptions.js';
import { HTTPMessage, HTTPResponse } from './http-message.js';
import { SEND_HEAD_ONLY } from './internal.js';
import type { ResponseBody, ResponseWriter } from './response-writer.js';

let cachedSecond = -1;
let cachedDate = '';

/**
 * The `Date` header's value for now, formatted once per second (as node:http does): the format
 * has a resolution of one second, and one string serves every response of that second, where a
 * `new Date().toUTCString()` per response was 1 % of a POCO handshake's CPU and a string of its own
 * on every held connection.
 */
function httpDateNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

/**
 * POCO's `HTTPServerResponse`: the response an {@link HTTPRequestHandler} fills in and sends once,
 * with `send()` (then writes the body), `sendBuffer()`, `sendFile()`, `redirect()` or
 * `requireAuthentication()`. A handler that returns without sending it gets it sent as it stands
 * (an empty body). Its header fields start with `Date`, `Connection` and, if configured, `Server`.
 */
export class HTTPServerResponse extends HTTPResponse {
  readonly #writer: ResponseWriter;
  #sent = false;
  #body: ResponseBody | null = null;

  /**
   * @internal created by HTTPServer for each request (a factory in front of a private
   * constructor: the published declarations show no public constructor).
   */
  static create(
    writer: ResponseWriter,
    version: string,
    keepAlive: boolean,
    softwareVersion: string,
  ): HTTPServerResponse {
    return new HTTPServerResponse(writer, version, keepAlive, softwareVersion);
  }

  private constructor(
    writer: ResponseWriter,
    version: string,
    keepAlive: boolean,
    softwareVersion: string,
  ) {
    super(version, HTTPResponse.HTTP_OK);
    this.#writer = writer;
    this.set(HTTPResponse.DATE, httpDateNow());
    this.setKeepAlive(keepAlive);
    if (softwareVersion !== '') this.set('Server', softwareVersion);
  }

  /** True once the head is sent. */
  sent(): boolean {
    return this.#sent;
  }

  /**
   * Sends the head and returns the body stream (POCO's `std::ostream& send()`). Set
   * `Content-Length` first, or chunked encoding; the server ends the body when the handler
   * returns if the handler did not. A second call is an `AssertionViolationException`.
   */
  send(): ResponseBody {
    this.#assertNotSent();
    const chunked = this.getChunkedTransferEncoding();
    const contentLength = this.getContentLength();
    // HTTP/1.1 without a length: POCO sends what it is given; make the body delimited.
    if (
      contentLength < 0 &&
      !chunked &&
      this.getVersion() === HTTPMessage.HTTP_1_1 &&
      this.getStatus() >= 200
    )
      this.setChunkedTransferEncoding(true);
    this.#body = this.#writer.writeHead({
      version: this.getVersion(),
      status: this.getStatus(),
      reason: this.getReason(),
      fields: [...this],
      contentLength: this.getContentLength(),
      chunked: this.getChunkedTransferEncoding(),
      keepAlive: this.getKeepAlive(),
    }); // throws, writing nothing, for a header that cannot be written (CR or LF in a value)
    this.#sent = true;
    return this.#body;
  }

  /**
   * Sends the whole response with `buffer` as its body (sets Content-Length).
   *
   * @throws {@link AssertionViolationException} when the response was already sent.
   */
  sendBuffer(buffer: string | Uint8Array): void {
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer, 'utf8') : buffer;
    this.setContentLength(bytes.length);
    this.setChunkedTransferEncoding(false);
    this.send().end(bytes);
  }

  /**
   * Sends a file as the body; `FileNotFoundException` if it cannot be read.
   *
   * @throws {@link FileNotFoundException} (a rejection) when the file cannot be read.
   * @throws {@link AssertionViolationException} when the response was already sent.
   */
  async sendFile(path: string, mediaType: string): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new FileNotFoundException(path, undefined, 0, { cause: error });
    }
    this.setContentType(mediaType);
    this.sendBuffer(bytes);
  }

  /**
   * Sends a redirect to `uri` (302 Found by default) with an empty body.
   *
   * @throws {@link AssertionViolationException} when the response was already sent.
   * @throws {@link InvalidArgumentException} when `status` is not from 100 to 999.
   */
  redirect(uri: string, status: number = HTTPResponse.HTTP_FOUND): void {
    this.setStatusAndReason(status);
    this.set(HTTPResponse.LOCATION, uri);
    this.sendBuffer('');
  }

  /**
   * Sends 401 with `WWW-Authenticate: Basic realm="<realm>"` and an empty body.
   *
   * @throws {@link AssertionViolationException} when the response was already sent.
   */
  requireAuthentication(realm: string): void {
    this.setStatusAndReason(HTTPResponse.HTTP_UNAUTHORIZED);
    this.set(HTTPResponse.WWW_AUTHENTICATE, `Basic realm="${realm.replace(/(["\\])/g, '\\$1')}"`);
    this.sendBuffer('');
  }

  /** Sends `100 Continue`, for a request that expects it. */
  sendContinue(): void {
    this.#writer.writeContinue();
  }

  /** @internal the server ends what the handler left open. */
  finish(): void {
    if (!this.#sent) this.sendBuffer('');
    else this.#body?.end();
  }

  /** @internal sends POCO's bare error response and closes the connection. */
  sendErrorAndClose(status: number): void {
    this.#sent = true;
    this.#writer.abort(
      `${this.getVersion()} ${status} ${HTTPResponse.getReasonForStatus(status)}\r\nConnection: Close\r\n\r\n`,
    );
  }

  /** @internal the 101 of a WebSocket handshake: the head alone. */
  [SEND_HEAD_ONLY](): void {
    this.#assertNotSent();
    this.send();
    this.compact(); // its fields are kept as long as the WebSocket's handler runs
  }

  #assertNotSent(): void {
    if (this.#sent) throw new AssertionViolationException('The response has already been sent');
  }
}
