/**
 * The WHATWG `WebSocket` (HTML Living Standard, "WebSockets"), on wsnet's message API: the
 * interface browsers and Node 22's global `WebSocket` (undici's) have, so that code written for
 * them runs unchanged, plus an optional third constructor argument with wsnet's `connect()`
 * options (headers, an HTTP proxy, TLS, credentials, permessage-deflate, limits, heartbeat).
 *
 * The protocol work (handshake, framing, UTF-8 checks, the closing handshake, pings) is the
 * message API's `connect()` and `WebSocketConnection`; this class only translates: its states,
 * exceptions and events are the standard's, checked against undici's and Chromium's by
 * test/whatwg/. The differences that are on purpose are listed in README.md ("The
 * browser-compatible client").
 */
import { Blob } from 'node:buffer';
import {
  SendQueueFullError,
  connect,
  type ConnectOptions,
  type WebSocketConnection,
} from '../messages/index.js';
import { CloseEvent, ErrorEvent } from './events.js';

/** The options of the third, Node-only, constructor argument: wsnet's `connect()` options. */
export type WebSocketOptions = Omit<ConnectOptions, 'protocols'>;

/** What `binaryType` may be: how binary messages are delivered. */
export type BinaryType = 'blob' | 'arraybuffer';

/** What `send()` takes. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

/** The longest close reason, in UTF-8 bytes: a control frame's 125 bytes minus the code. */
const MAX_REASON_BYTES = 123;

/** An RFC 7230 token's characters (the rule for a `Sec-WebSocket-Protocol` value). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The event handler attributes, each an event type. */
type HandlerType = 'open' | 'message' | 'error' | 'close';

/** The standard's "get a URL record": parse, map http(s) to ws(s), refuse fragments. */
function urlRecord(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new DOMException(`${JSON.stringify(input)} is not a URL`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new DOMException(
      `a WebSocket URL is ws:, wss:, http: or https:, not ${url.protocol}`,
      'SyntaxError',
    );
  // An empty fragment ('#' alone) is a fragment too, though URL.hash reports it as ''.
  if (url.hash !== '' || url.href.endsWith('#'))
    throw new DOMException('a WebSocket URL has no #fragment', 'SyntaxError');
  return url;
}

/** The `protocols` argument as a list: a string is one protocol, a sequence is converted. */
function protocolList(protocols: string | Iterable<string> | undefined): string[] {
  if (protocols === undefined) return [];
  const list =
    typeof protocols === 'string' ? [protocols] : Array.from(protocols, (p) => String(p));
  // Subprotocol names are compared without case, as browsers do (undici too).
  if (new Set(list.map((p) => p.toLowerCase())).size !== list.length)
    throw new DOMException('a subprotocol is offered twice', 'SyntaxError');
  const invalid = list.find((p) => !TOKEN.test(p));
  if (invalid !== undefined)
    throw new DOMException(
      `subprotocol ${JSON.stringify(invalid)} is not an HTTP token`,
      'SyntaxError',
    );
  return list;
}

/** WebIDL's `[Clamp] unsigned short`: to a number, clamped, rounded half to even. */
function clampUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 0xffff);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

/** The bytes of a message to send, copied (as browsers do: later writes to it do not count). */
function bytesOf(data: ArrayBufferLike | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(data))
    return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return Buffer.from(new Uint8Array(data));
}

function isArrayBufferLike(value: unknown): value is ArrayBufferLike {
  return (
    value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
  );
}

/**
 * A WebSocket client with the WHATWG interface, on wsnet's message API.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'wsnet/whatwg';
 *
 * const socket = new WebSocket('wss://example.com/chat', ['chat.v1'], {
 *   headers: { Authorization: 'Bearer ...' },
 *   proxy: 'http://proxy.internal:3128',
 * });
 * socket.binaryType = 'arraybuffer';
 * socket.onopen = () => socket.send('hello');
 * socket.onmessage = (event) => console.log(event.data);
 * socket.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
 * ```
 */
export class WebSocket extends EventTarget {
  /** The connection is being opened. */
  static readonly CONNECTING = CONNECTING;
  /** The connection is open: messages can be sent. */
  static readonly OPEN = OPEN;
  /** The closing handshake has started. */
  static readonly CLOSING = CLOSING;
  /** The connection is closed (or could not be opened). */
  static readonly CLOSED = CLOSED;

  /** The connection is being opened. */
  declare readonly CONNECTING: typeof CONNECTING;
  /** The connection is open: messages can be sent. */
  declare readonly OPEN: typeof OPEN;
  /** The closing handshake has started. */
  declare readonly CLOSING: typeof CLOSING;
  /** The connection is closed (or could not be opened). */
  declare readonly CLOSED: typeof CLOSED;

  readonly #url: URL;
  #state: ReadyState = CONNECTING;
  #connection: WebSocketConnection | undefined;
  #binaryType: BinaryType = 'blob';
  #bufferedAmount = 0;
  #protocol = '';
  #extensions = '';
  /** close() was called while connecting: the handshake's outcome is dropped. */
  #abandoned = false;
  /** Aborts the handshake when close() comes before it ends. */
  #abandon: AbortController | undefined;
  /**
   * A send could not be queued (the message API's maxQueuedBytes): the standard's "full", and the
   * error event's error. What else fails the connection is the message API's `failure`.
   */
  #full: SendQueueFullError | undefined;
  /** The open event is being dispatched: readyState is OPEN whatever the peer has sent. */
  #opening = false;
  /** Sends wait behind a Blob being read, so that messages go out in the order of send(). */
  #blobsReading = 0;
  #sendChain: Promise<void> = Promise.resolve();
  readonly #handlers = new Map<HandlerType, ((this: WebSocket, event: Event) => unknown) | null>();
  readonly #handlerListeners = new Map<HandlerType, (event: Event) => void>();

  /**
   * Opens a connection (in the background: listen for `open`, `error` and `close`).
   *
   * @param url - a `ws:`, `wss:`, `http:` or `https:` URL, without a fragment.
   * @param protocols - a subprotocol or a list of them, offered in order of preference.
   * @param options - Node only: wsnet's `connect()` options (headers, proxy, tls, credentials,
   * perMessageDeflate, limits, heartbeat, handshakeTimeout...). A browser has no such argument.
   * @throws `DOMException` `SyntaxError` for a URL that does not parse, another scheme, a
   * fragment, or a subprotocol that is not a token or is given twice.
   */
  constructor(
    url: string | URL,
    protocols?: string | Iterable<string>,
    options?: WebSocketOptions,
  ) {
    super();
    this.#url = urlRecord(String(url));
    const offered = protocolList(protocols);
    // close() while connecting stops the handshake (and whatever it has open) through this.
    const abandon = new AbortController();
    this.#abandon = abandon;
    const signal =
      options?.signal === undefined
        ? abandon.signal
        : AbortSignal.any([options.signal, abandon.signal]);
    const settings: ConnectOptions = { ...options, protocols: offered, signal };
    // connect() is async: anything it refuses (an option included) arrives as a rejection,
    // which fails the connection as the standard says (error, then close 1006).
    connect(this.#url, settings).then(
      (connection) => this.#opened(connection),
      (error: unknown) => this.#failedToOpen(error),
    );
  }

  /** The URL, as parsed (http: and https: given are ws: and wss: here). */
  get url(): string {
    return this.#url.href;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    // The message API knows first when the peer has started the closing handshake.
    if (this.#state === OPEN && !this.#opening && this.#connection !== undefined)
      return Math.max(OPEN, Math.min(this.#connection.readyState, CLOSING));
    return this.#state;
  }

  /**
   * Bytes given to send() and not yet handed to the socket. Sends after the closing handshake
   * has started add to it and are never sent, as the standard says.
   */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** The extensions the server accepted ('' before open, or for none). */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol the server chose ('' before open, or for none). */
  get protocol(): string {
    return this.#protocol;
  }

  /** How binary messages are delivered: `'blob'` (the default) or `'arraybuffer'`. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  /** Other values are ignored, as an invalid WebIDL enumeration value is. */
  set binaryType(value: BinaryType) {
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  /** Listener of `open`. */
  get onopen(): ((this: WebSocket, event: Event) => unknown) | null {
    return this.#handlers.get('open') ?? null;
  }
  /** Sets (or, with null, removes) the listener of `open`; it keeps its place if replaced. */
  set onopen(handler: ((this: WebSocket, event: Event) => unknown) | null) {
    this.#setHandler('open', handler);
  }

  /** Listener of `message` (a `MessageEvent`: `data` is a string, a Blob or an ArrayBuffer). */
  get onmessage(): ((this: WebSocket, event: MessageEvent) => unknown) | null {
    return this.#handlers.get('message') ?? null;
  }
  /** Sets (or, with null, removes) the listener of `message`; it keeps its place if replaced. */
  set onmessage(handler: ((this: WebSocket, event: MessageEvent) => unknown) | null) {
    this.#setHandler('message', handler as ((this: WebSocket, event: Event) => unknown) | null);
  }

  /**
   * Listener of `error` (an {@link ErrorEvent}: `close` follows). Its `error` is wsnet's error
   * (in a browser, the event has no details).
   */
  get onerror(): ((this: WebSocket, event: ErrorEvent) => unknown) | null {
    return this.#handlers.get('error') ?? null;
  }
  /** Sets (or, with null, removes) the listener of `error`; it keeps its place if replaced. */
  set onerror(handler: ((this: WebSocket, event: ErrorEvent) => unknown) | null) {
    this.#setHandler('error', handler as ((this: WebSocket, event: Event) => unknown) | null);
  }

  /** Listener of `close` (a {@link CloseEvent}). */
  get onclose(): ((this: WebSocket, event: CloseEvent) => unknown) | null {
    return this.#handlers.get('close') ?? null;
  }
  /** Sets (or, with null, removes) the listener of `close`; it keeps its place if replaced. */
  set onclose(handler: ((this: WebSocket, event: CloseEvent) => unknown) | null) {
    this.#setHandler('close', handler as ((this: WebSocket, event: Event) => unknown) | null);
  }

  /**
   * Sends a message: a string as text, bytes and Blobs as binary.
   *
   * @throws `DOMException` `InvalidStateError` while CONNECTING. Once the closing handshake
   * has started nothing is thrown and nothing is sent, but `bufferedAmount` grows (the standard's
   * way of showing that the data went nowhere).
   */
  send(data: WebSocketData): void {
    if (this.#state === CONNECTING)
      throw new DOMException('send() before the connection is open', 'InvalidStateError');
    let size: number;
    let message: string | Buffer | Blob;
    if (typeof data === 'string') {
      message = data;
      size = Buffer.byteLength(data);
    } else if (data instanceof Blob) {
      message = data;
      size = data.size;
    } else if (ArrayBuffer.isView(data) || isArrayBufferLike(data)) {
      message = bytesOf(data);
      size = message.length;
    } else {
      // WebIDL's union conversion: anything else becomes a string.
      message = String(data);
      size = Buffer.byteLength(message);
    }
    this.#bufferedAmount += size;
    const connection = this.#connection;
    if (this.readyState !== OPEN || connection === undefined) return;
    if (message instanceof Blob) {
      const blob = message;
      this.#blobsReading++;
      this.#sendChain = this.#sendChain.then(async () => {
        const bytes = Buffer.from(await blob.arrayBuffer());
        this.#blobsReading--;
        this.#transmit(connection, bytes, size);
      });
    } else if (this.#blobsReading > 0) {
      const text = message;
      this.#sendChain = this.#sendChain.then(() => this.#transmit(connection, text, size));
    } else {
      this.#transmit(connection, message, size);
    }
  }

  /**
   * Starts the closing handshake (or, while CONNECTING, fails the connection: `error`, then
   * `close` with 1006). Does nothing once CLOSING or CLOSED.
   *
   * @param code - 1000, or 3000 to 4999 (applications' codes). Without it, the close frame has
   * no code (the server sees 1005), or 1000 if there is a reason.
   * @param reason - at most 123 bytes of UTF-8.
   * @throws `DOMException` `InvalidAccessError` for another code, `SyntaxError` for a longer
   * reason.
   */
  close(code?: number, reason?: string): void {
    const status = code === undefined ? undefined : clampUnsignedShort(code);
    const text = reason === undefined ? '' : String(reason);
    if (status !== undefined && status !== 1000 && !(status >= 3000 && status <= 4999))
      throw new DOMException(
        `close(${status}): the code must be 1000 or 3000 to 4999`,
        'InvalidAccessError',
      );
    if (Buffer.byteLength(text) > MAX_REASON_BYTES)
      throw new DOMException(
        `close(): the reason is longer than ${MAX_REASON_BYTES} bytes of UTF-8`,
        'SyntaxError',
      );
    const state = this.readyState;
    if (state === CLOSING || state === CLOSED) return;
    if (state === CONNECTING) {
      this.#abandoned = true;
      this.#abandon?.abort(new DOMException('close() before the connection opened', 'AbortError'));
      this.#state = CLOSING;
      // The events come in a task of their own, as the standard queues them.
      setImmediate(() => this.#closed(1006, '', false));
      return;
    }
    this.#state = CLOSING;
    // Without a code: a close frame without one (the message API's 1005), as browsers send;
    // a reason without a code is sent with 1000, as the standard says.
    const sent = status ?? (text === '' ? 1005 : 1000);
    this.#connection?.close(sent, text).catch(() => {
      // The arguments were checked above; a close that can no longer be sent ends in 'close'.
    });
  }

  #transmit(connection: WebSocketConnection, data: string | Buffer, size: number): void {
    connection.send(data, { binary: typeof data !== 'string' }).then(
      () => {
        this.#bufferedAmount -= size;
      },
      (error: unknown) => {
        // A message refused for the queue's bound is the standard's "full": the connection is
        // closed (error, then close 1006). Refused because the connection closed meanwhile: it
        // stays counted, as any send after close.
        if (error instanceof SendQueueFullError && this.#full === undefined) {
          this.#full = error;
          connection.terminate();
        }
      },
    );
  }

  #opened(connection: WebSocketConnection): void {
    if (this.#abandoned) {
      connection.terminate();
      return;
    }
    this.#connection = connection;
    this.#protocol = connection.protocol;
    this.#extensions = connection.extensions;
    this.#state = OPEN;
    // The open event first, while readyState is still OPEN: a close frame that came with the
    // handshake response (already parsed by the message API) is processed after it, as a
    // browser processes it in a later task. Messages wait in the connection's inbox meanwhile.
    this.#opening = true;
    try {
      this.dispatchEvent(new Event('open'));
    } finally {
      this.#opening = false;
    }
    connection.on('message', (data, isBinary) => this.#received(data, isBinary));
    // Failures end in 'close'; the standard's error event is fired there, carrying the
    // connection's `failure` (kept even when it came before these listeners, with the 101).
    connection.on('close', (code, reason, wasClean) => this.#closed(code, reason, wasClean));
  }

  #failedToOpen(error: unknown): void {
    if (this.#abandoned) return;
    this.#closed(1006, '', false, error);
  }

  #received(data: string | Buffer, isBinary: boolean): void {
    if (this.#state !== OPEN) return;
    let payload: string | Blob | ArrayBuffer;
    if (!isBinary) payload = typeof data === 'string' ? data : data.toString('utf8');
    else {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      payload = this.#binaryType === 'blob' ? new Blob([bytes]) : new Uint8Array(bytes).buffer;
    }
    this.dispatchEvent(new MessageEvent('message', { data: payload, origin: this.#url.origin }));
  }

  #closed(code: number, reason: string, wasClean: boolean, cause?: unknown): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    // The standard fires error first when the connection was failed (no close frame came, or
    // wsnet failed it: a protocol error, invalid UTF-8, a message over the limit, a heartbeat
    // unanswered...) or closed because it was full.
    const failure = cause ?? this.#full ?? this.#connection?.failure;
    const failed =
      code === 1006 || this.#full !== undefined || (failure !== undefined && !wasClean);
    if (!failed) {
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
      return;
    }
    const message = failure instanceof Error ? failure.message : '';
    this.dispatchEvent(new ErrorEvent('error', { error: failure, message }));
    // A failed connection closes with 1006 whatever close frame went out or came back, as in
    // browsers and undici (they drop TCP at once; the message API waits for the server's
    // answer): the code wsnet sent (1002, 1007, 1009...) is the error's `closeCode`.
    this.dispatchEvent(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
  }

  #setHandler(type: HandlerType, handler: ((this: WebSocket, event: Event) => unknown) | null) {
    const value = typeof handler === 'function' ? handler : null;
    this.#handlers.set(type, value);
    const listener = this.#handlerListeners.get(type);
    if (value === null) {
      if (listener !== undefined) {
        this.removeEventListener(type, listener);
        this.#handlerListeners.delete(type);
      }
      return;
    }
    // Registered once, where it was first set: a new handler keeps the old one's place.
    if (listener === undefined) {
      const call = (event: Event) => {
        const current = this.#handlers.get(type);
        if (current) current.call(this, event);
      };
      this.#handlerListeners.set(type, call);
      this.addEventListener(type, call);
    }
  }
}

for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
] as const)
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
