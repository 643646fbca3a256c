/**
 * A WebSocket connection at the message level: what most applications want instead of frames.
 *
 * ```ts
 * for await (const message of connection) {      // string for text, Buffer for binary
 *   await connection.send(message);              // resolves once the socket took it
 * }
 * ```
 * or with events: `connection.on('message', (data, isBinary) => ...)`.
 *
 * Strict by default (the protocol core's RFC_POLICY): every RFC 6455 rule is enforced on what
 * arrives, pings are answered, fragments are reassembled and text is validated as it arrives,
 * the closing handshake is run with a timeout and TCP is closed in the RFC's order (the server
 * first), and nothing invalid is ever sent.
 *
 * Backpressure both ways: `send()` resolves when the socket has taken the message, and waits
 * (in order) while the socket's buffer is full, up to `maxQueuedBytes`; a consumer that iterates
 * slowly makes the socket stop reading once `maxQueuedMessages` are waiting.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Transport, type TransportHandler } from '../io/transport.js';
import { isValidWireCloseCode } from '../protocol/close.js';
import { Connection, ReadyState, type ConnectionEvent, type Role } from '../protocol/connection.js';
import { WS_NORMAL_CLOSE, WS_UNEXPECTED_CONDITION } from '../protocol/constants.js';
import {
  ConnectionClosedError,
  InvalidArgumentError,
  type ProtocolError,
} from '../protocol/errors.js';
import { SendQueueFullError, TimeoutError } from './errors.js';

export interface ConnectionSettings {
  /** Largest message accepted; a larger one fails the connection with 1009. Default 64 MiB. */
  readonly maxMessageSize?: number;
  /** How long the closing handshake may take before the TCP connection is dropped. Default 5 s. */
  readonly closeTimeout?: number;
  /**
   * Ping every `interval` ms; if no pong comes within `timeout` ms, the peer is taken for dead
   * and the connection is failed with 1011. Off by default.
   */
  readonly heartbeat?: { readonly interval: number; readonly timeout: number };
  /** Close (1001) a connection that received nothing for this many ms. Off by default. */
  readonly idleTimeout?: number;
  /** Bytes `send()` may queue while the socket is congested before it rejects. Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /** Messages an async iterator may have waiting before the socket stops reading. Default 16. */
  readonly maxQueuedMessages?: number;
}

export interface CloseStatus {
  readonly code: number;
  readonly reason: string;
  /** True if both close frames were exchanged and TCP closed after them. */
  readonly wasClean: boolean;
}

/** What the handshake settled, for the connection to report. */
export interface HandshakeOutcome {
  readonly protocol: string;
  readonly extensions: string;
  /** Bytes read past the HTTP head: the first frames. */
  readonly head: Buffer;
}

export type Message = string | Buffer;

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT = 5000;
const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED_MESSAGES = 16;

/** A send waiting for the socket to drain. */
interface QueuedSend {
  readonly bytes: number;
  readonly perform: () => void;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface PendingPing {
  readonly payload: Buffer;
  readonly sentAt: number;
  readonly resolve: (rtt: number) => void;
  readonly reject: (error: Error) => void;
}

export interface WebSocketConnectionEvents {
  message: [data: Message, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: string, wasClean: boolean];
  error: [error: Error];
}

export class WebSocketConnection
  extends EventEmitter<WebSocketConnectionEvents>
  implements AsyncIterable<Message>, TransportHandler
{
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;

  readonly role: Role;
  /** The subprotocol the handshake selected ('' for none). */
  readonly protocol: string;
  /** The extensions in use ('' for none). */
  readonly extensions: string;
  readonly remoteAddress: string;
  readonly remotePort: number;

  readonly #core: Connection;
  readonly #transport: Transport<Duplex>;
  readonly #socket: Duplex;
  readonly #closeTimeout: number;
  readonly #maxQueuedBytes: number;
  readonly #maxQueuedMessages: number;

  #closedStatus: CloseStatus | undefined;
  #closed: Promise<CloseStatus> | undefined;
  #resolveClosed: ((status: CloseStatus) => void) | undefined;
  #failure: ProtocolError | Error | undefined;
  /** The close frame this side failed the connection with (RFC 6455 §7.1.7), if it did. */
  #failedWith: { code: number; reason: string } | undefined;

  #sendQueue: QueuedSend[] = [];
  #queuedBytes = 0;
  #draining = false;
  #streaming: Promise<void> | null = null;

  #pings: PendingPing[] = [];
  #closeTimer: NodeJS.Timeout | undefined;
  #heartbeat: { interval: number; timeout: number } | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeatDeadline: NodeJS.Timeout | undefined;
  #idleTimeout: number;
  #idleTimer: NodeJS.Timeout | undefined;

  // Async iteration: messages waiting for `next()`, and a `next()` waiting for a message.
  #iterating = false;
  #inbox: Message[] = [];
  #waitingNext: {
    resolve: (result: IteratorResult<Message>) => void;
    reject: (error: Error) => void;
  } | null = null;
  #readingPaused = false;

  /** @internal made by the server or by `connect()` once the handshake succeeded. */
  constructor(
    socket: Duplex,
    role: Role,
    outcome: HandshakeOutcome,
    settings: ConnectionSettings = {},
  ) {
    super();
    this.role = role;
    this.protocol = outcome.protocol;
    this.extensions = outcome.extensions;
    const peer = socket as Partial<Socket>;
    this.remoteAddress = peer.remoteAddress ?? '';
    this.remotePort = peer.remotePort ?? 0;
    this.#socket = socket;
    this.#closeTimeout = settings.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.#maxQueuedBytes = settings.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#maxQueuedMessages = settings.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    this.#heartbeat = settings.heartbeat;
    this.#idleTimeout = settings.idleTimeout ?? 0;
    const maxMessageSize = settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    // No frame can be larger than the largest message: the limit is checked on each header.
    // closeOnError off: on a violation the core stops reading, and this layer sends the close
    // frame a turn of the event loop later (see onTransportEvents).
    this.#core = new Connection(role, {
      maxMessageSize,
      maxFrameSize: maxMessageSize,
      closeOnError: false,
    });
    this.#transport = new Transport(socket, this.#core, this);
    peer.setNoDelay?.(true);
    if (outcome.head.length > 0) {
      // The first frames are delivered after the caller has had a chance to add listeners.
      const head = outcome.head;
      queueMicrotask(() => {
        if (this.#transport.closed) return;
        this.#core.receiveData(head);
        this.#transport.dispatch();
        this.#afterInput();
      });
    }
    socket.resume();
    this.#scheduleHeartbeat();
    this.#touchIdle();
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (the WHATWG WebSocket's numbers). */
  get readyState(): ReadyState {
    return this.#closedStatus !== undefined ? ReadyState.CLOSED : this.#core.state;
  }

  /** Bytes accepted by `send()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#queuedBytes + this.#socket.writableLength;
  }

  /** Resolves when the connection is CLOSED, with how it closed. Never rejects. */
  get closed(): Promise<CloseStatus> {
    if (this.#closedStatus !== undefined) return Promise.resolve(this.#closedStatus);
    this.#closed ??= new Promise((resolve) => (this.#resolveClosed = resolve));
    return this.#closed;
  }

  // --- Sending ---

  /**
   * Sends a message: a string as text, bytes as binary (or as text with `{ binary: false }`,
   * when they are UTF-8). Resolves when the socket has taken it; while the socket's buffer is
   * full it waits, in order. Rejects with `ConnectionClosedError` once the connection is
   * closing, `SendQueueFullError` past `maxQueuedBytes`.
   */
  send(data: string | Uint8Array | ArrayBuffer, options: { binary?: boolean } = {}): Promise<void> {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const binary = options.binary ?? typeof bytes !== 'string';
    const perform = binary
      ? () => this.#core.sendBinary(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
      : () => this.#core.sendText(bytes);
    const size = typeof bytes === 'string' ? bytes.length : bytes.byteLength;
    if (this.#streaming !== null) {
      // A fragmented message is being sent: this one goes after it.
      const streaming = this.#streaming;
      return streaming.then(
        () => this.#enqueue(size, perform),
        () => this.#enqueue(size, perform),
      );
    }
    return this.#enqueue(size, perform);
  }

  /**
   * Sends one message in fragments, as `source` yields them (a stream, a generator, an array):
   * each fragment goes out as it comes, with backpressure. Other `send()` calls wait for the
   * message to end. Text fragments may split a character; the whole must be UTF-8.
   */
  async sendStream(
    source: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
    options: { binary?: boolean } = {},
  ): Promise<void> {
    let release!: () => void;
    const previous = this.#streaming;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.#streaming = done;
    if (previous !== null) await previous.catch(() => undefined);
    let first = true;
    try {
      let pending: string | Uint8Array | undefined;
      const binary = options.binary;
      const emit = async (fragment: string | Uint8Array, fin: boolean) => {
        const isFirst = first;
        first = false;
        const size = typeof fragment === 'string' ? fragment.length : fragment.byteLength;
        await this.#enqueue(size, () => {
          if (!isFirst) this.#core.sendContinuation(fragment, fin);
          else if (binary ?? typeof fragment !== 'string')
            this.#core.sendBinary(
              typeof fragment === 'string' ? Buffer.from(fragment, 'utf8') : fragment,
              fin,
            );
          else this.#core.sendText(fragment, fin);
        });
      };
      // One fragment behind, so that the last one can carry FIN.
      for await (const fragment of source) {
        if (pending !== undefined) await emit(pending, false);
        pending = fragment;
      }
      await emit(pending ?? Buffer.alloc(0), true);
    } catch (error) {
      // A message cannot be taken back once a fragment of it is out: the only way to keep the
      // peer from reading a truncated message as whole is to end the connection.
      if (!first && this.#core.closeSent === undefined && this.readyState === ReadyState.OPEN)
        void this.close(WS_UNEXPECTED_CONDITION, 'message stream failed');
      throw error;
    } finally {
      if (this.#streaming === done) this.#streaming = null;
      release();
    }
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when its pong arrives.
   * Without `data`, a random 8-byte payload tells the pongs apart.
   */
  ping(data?: string | Uint8Array): Promise<number> {
    const payload =
      data === undefined
        ? randomBytes(8)
        : typeof data === 'string'
          ? Buffer.from(data, 'utf8')
          : Buffer.from(data);
    return new Promise<number>((resolve, reject) => {
      this.#sendControl(() => {
        this.#core.sendPing(payload);
        this.#pings.push({ payload, sentAt: performance.now(), resolve, reject });
      }).catch(reject);
    });
  }

  /** Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data: string | Uint8Array = Buffer.alloc(0)): Promise<void> {
    return this.#sendControl(() => this.#core.sendPong(data));
  }

  /**
   * Starts the closing handshake (after the messages already queued) and resolves when the
   * connection is CLOSED. If the peer does not answer within `closeTimeout`, TCP is dropped.
   * A code that may not be sent (1005, 1006, 1015...) or a reason over 123 bytes is refused.
   */
  close(code: number = WS_NORMAL_CLOSE, reason = ''): Promise<CloseStatus> {
    // Our close frame is out already (or the connection is closed): wait for the end.
    if (!this.#canSend()) return this.closed;
    if (Buffer.byteLength(reason) > 123 || !isValidWireCloseCode(code))
      return Promise.reject(
        new InvalidArgumentError('INVALID_CLOSE_CODE', `close(${code}, ...) cannot be sent`),
      );
    this.#enqueue(0, () => {
      if (this.#core.closeSent === undefined && this.#core.state !== ReadyState.CLOSED)
        this.#core.sendClose(code, reason);
    }).catch(() => undefined);
    this.#armCloseTimer();
    return this.closed;
  }

  /** Drops the TCP connection at once, without a closing handshake (status 1006). */
  terminate(): void {
    this.#transport.destroy(true);
  }

  // --- Receiving: async iteration ---

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#iterating = false;
        this.#inbox = [];
        this.#updateFlow();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<Message>> {
    const message = this.#inbox.shift();
    if (message !== undefined) {
      this.#updateFlow();
      return Promise.resolve({ done: false, value: message });
    }
    if (this.#closedStatus !== undefined) return this.#endOfIteration();
    return new Promise((resolve, reject) => (this.#waitingNext = { resolve, reject }));
  }

  /** A normal close ends the iteration; an abnormal one throws. */
  #endOfIteration(): Promise<IteratorResult<Message>> {
    const status = this.#closedStatus!;
    if (status.code === 1000 || status.code === 1001 || status.code === 1005)
      return Promise.resolve({ done: true, value: undefined });
    return Promise.reject(this.#closedError());
  }

  // --- Transport events ---

  /** @internal TransportHandler */
  onTransportEvents(events: ConnectionEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'message': {
          const data: Message = event.binary ? event.data : event.data.toString('utf8');
          // Messages nobody listens to wait for an iterator (up to maxQueuedMessages, then the
          // socket stops reading): a message that arrives before `for await` starts is not lost.
          const listened = this.emit('message', data, event.binary);
          if (this.#iterating || !listened) this.#deliver(data);
          break;
        }
        case 'ping':
          this.emit('ping', event.data);
          break;
        case 'pong':
          this.#settlePings(event.data);
          this.emit('pong', event.data);
          break;
        case 'failure':
          this.#failure = event.error;
          this.#failedWith ??= { code: event.error.closeCode, reason: '' };
          // Messages that arrived before the violation, in the same read, were just delivered:
          // replies the application sends to them at once still go out, then the close frame.
          setImmediate(() => {
            if (this.#closedStatus !== undefined) return;
            this.#core.closeAfterFailure();
            this.#transport.flush();
            this.#armCloseTimer();
          });
          if (this.listenerCount('error') > 0) this.emit('error', event.error);
          break;
        case 'close':
        case 'frame':
          break;
      }
    }
    this.#afterInput();
  }

  /** @internal TransportHandler */
  onTransportEnd(): void {
    this.#afterInput();
  }

  /** @internal TransportHandler */
  onTransportError(error: Error): void {
    this.#failure ??= error;
  }

  /** @internal TransportHandler */
  onTransportClosed(): void {
    let status = this.#core.closeStatus ?? { code: 1006, reason: '', wasClean: false };
    // A side that failed the connection ignores what follows, the peer's close reply included:
    // its status is the code it failed with (as the peer's is), not a bare 1006.
    if (status.code === 1006 && this.#failedWith !== undefined)
      status = { ...this.#failedWith, wasClean: false };
    this.#closedStatus = status;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#heartbeatDeadline);
    clearTimeout(this.#idleTimer);
    const closedError = this.#closedError();
    for (const queued of this.#sendQueue) queued.reject(closedError);
    this.#sendQueue = [];
    this.#queuedBytes = 0;
    for (const ping of this.#pings) ping.reject(closedError);
    this.#pings = [];
    const waiting = this.#waitingNext;
    this.#waitingNext = null;
    if (waiting !== null) this.#endOfIteration().then(waiting.resolve, waiting.reject);
    this.#resolveClosed?.(status);
    this.emit('close', status.code, status.reason, status.wasClean);
  }

  // --- Internals ---

  /**
   * Sends a ping or pong at once, ahead of queued messages: control frames may go between
   * messages (RFC 6455 §5.4), and a heartbeat must not wait behind a large send.
   */
  #sendControl(perform: () => void): Promise<void> {
    if (!this.#canSend()) return Promise.reject(this.#closedError());
    return this.#sendNow(perform);
  }

  /** Runs `perform` (which queues frames in the core) now, or after the queue drains. */
  #enqueue(bytes: number, perform: () => void): Promise<void> {
    if (!this.#canSend()) return Promise.reject(this.#closedError());
    if (this.#sendQueue.length === 0 && !this.#draining) return this.#sendNow(perform);
    if (this.#queuedBytes + bytes > this.#maxQueuedBytes && bytes > 0)
      return Promise.reject(
        new SendQueueFullError(this.#queuedBytes + bytes, this.#maxQueuedBytes),
      );
    return new Promise((resolve, reject) => {
      this.#sendQueue.push({ bytes, perform, resolve, reject });
      this.#queuedBytes += bytes;
    });
  }

  /** False once our close frame is out or the connection is closed: nothing may be sent. */
  #canSend(): boolean {
    return (
      this.#closedStatus === undefined &&
      this.#core.closeSent === undefined &&
      this.#core.state !== ReadyState.CLOSED
    );
  }

  /** Queues the frames in the core and writes them; waits for a drain if the socket is full. */
  #sendNow(perform: () => void): Promise<void> {
    try {
      perform();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (!this.#transport.flush()) this.#waitForDrain();
    return Promise.resolve();
  }

  #waitForDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#transport.drained().then(
      () => {
        this.#draining = false;
        this.#runQueue();
      },
      () => {
        this.#draining = false; // the socket closed; onTransportClosed rejects the queue
      },
    );
  }

  #runQueue(): void {
    while (this.#sendQueue.length > 0) {
      const next = this.#sendQueue.shift()!;
      this.#queuedBytes -= next.bytes;
      try {
        next.perform();
        next.resolve();
      } catch (error) {
        next.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (!this.#transport.flush()) {
        this.#waitForDrain();
        return;
      }
    }
  }

  #closedError(): ConnectionClosedError {
    const status = this.#closedStatus ?? this.#core.closeStatus;
    if (status !== undefined)
      return new ConnectionClosedError(status.code, status.reason, status.wasClean, {
        cause: this.#failure,
      });
    const received = this.#core.closeReceived;
    return new ConnectionClosedError(received?.code ?? 1006, received?.reason ?? '', false, {
      cause: this.#failure,
    });
  }

  #afterInput(): void {
    this.#touchIdle();
    if (this.#core.closeExpected()) this.#armCloseTimer();
  }

  /** Drops TCP if the closing handshake (or the peer's TCP close) takes longer than allowed. */
  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#closedStatus !== undefined) return;
    this.#closeTimer = setTimeout(() => this.#transport.destroy(), this.#closeTimeout);
  }

  #settlePings(data: Buffer): void {
    // RFC 6455 §5.5.3: a pong answers the ping with the same data, and the ones before it.
    const index = this.#pings.findIndex((ping) => ping.payload.equals(data));
    if (index === -1) return;
    const now = performance.now();
    const answered = this.#pings.splice(0, index + 1);
    for (const ping of answered) ping.resolve(now - ping.sentAt);
  }

  #deliver(message: Message): void {
    const waiting = this.#waitingNext;
    if (waiting !== null) {
      this.#waitingNext = null;
      waiting.resolve({ done: false, value: message });
      return;
    }
    this.#inbox.push(message);
    this.#updateFlow();
  }

  /** Pauses reading while the iterator's inbox is full; resumes at a quarter of it. */
  #updateFlow(): void {
    if (!this.#readingPaused && this.#inbox.length >= this.#maxQueuedMessages) {
      this.#readingPaused = true;
      this.#transport.pauseReading();
    } else if (this.#readingPaused && this.#inbox.length <= this.#maxQueuedMessages / 4) {
      this.#readingPaused = false;
      this.#transport.resumeReading();
    }
  }

  #scheduleHeartbeat(): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined) return;
    this.#heartbeatTimer = setTimeout(() => {
      if (this.readyState !== ReadyState.OPEN) return;
      const deadline = setTimeout(() => {
        // No pong: the peer (or the path to it) is dead. Fail with 1011, then drop TCP.
        if (this.readyState !== ReadyState.OPEN) return;
        this.#failure = new TimeoutError('ping', heartbeat.timeout);
        this.#failedWith = { code: WS_UNEXPECTED_CONDITION, reason: 'keepalive ping timeout' };
        this.#core.fail(WS_UNEXPECTED_CONDITION, 'keepalive ping timeout');
        this.#transport.flush();
        this.#armCloseTimer();
      }, heartbeat.timeout);
      this.#heartbeatDeadline = deadline;
      this.ping().then(
        () => {
          clearTimeout(deadline);
          this.#scheduleHeartbeat();
        },
        () => clearTimeout(deadline),
      );
    }, heartbeat.interval);
  }

  #touchIdle(): void {
    if (this.#idleTimeout <= 0 || this.#closedStatus !== undefined) return;
    if (this.#idleTimer === undefined) {
      this.#idleTimer = setTimeout(() => {
        if (this.readyState === ReadyState.OPEN) void this.close(1001, 'idle timeout');
      }, this.#idleTimeout);
    } else {
      this.#idleTimer.refresh();
    }
  }
}
