/**
 * POCO's `WebSocketImpl`: the body that every `WebSocket` copy shares (POCO's handle/body
 * pattern; copies compare equal because they hold the same impl).
 *
 * It drives one protocol `Connection` under `POCO_POLICY` (every frame handed over as it is,
 * nothing answered, only the per-frame size limit) through one `Transport`, and gives it POCO's
 * blocking-call semantics as promises:
 * - received frames wait in a queue; a full queue pauses the socket (backpressure, so a client
 *   that floods a slow handler is slowed down by TCP, not buffered without bound);
 * - `receiveFrame` takes the frame at the head of the queue, or waits for one, up to the
 *   receive timeout, keeping a partly received frame across a timeout (no desync, unlike POCO);
 * - `sendFrame` resolves once the socket has taken the frame, or after the write buffer drained
 *   when it is over the send buffer size; in non-blocking mode it says -1 instead of waiting.
 *
 * Where POCO has defects, this does not (each is listed in the README): no busy loop on a
 * partial header at EOF, no lost frame after "insufficient buffer", no crash on a non-blocking
 * retry, and `poll()` sees bytes that are already buffered.
 */
import type { Socket } from 'node:net';
import { Transport } from '../io/transport.js';
import { Connection, POCO_POLICY, type ConnectionEvent } from '../protocol/connection.js';
import type { ProtocolError } from '../protocol/errors.js';
import { headerLength } from '../protocol/frame.js';
import { WS_ERR_INCOMPLETE_FRAME, WS_ERR_PAYLOAD_TOO_BIG } from '../protocol/constants.js';
import {
  AssertionViolationException,
  ConnectionResetException,
  InvalidArgumentException,
  InvalidSocketException,
  NetException,
  TimeoutException,
  WebSocketException,
  netExceptionFrom,
  type PocoException,
} from './exceptions.js';
import { SocketAddress } from './socket-address.js';
import { type Timespan } from './timespan.js';

/** POCO's `TimeoutException` carries the errno of the timed-out call: EAGAIN. */
const EAGAIN = 11;

/** A received frame waiting to be taken. */
interface QueuedFrame {
  readonly flags: number;
  readonly payload: Buffer;
  /** Bytes it took on the wire (header included): what `available()` counts. */
  readonly wireLength: number;
}

export interface WebSocketImplOptions {
  /** Bytes that arrived after the HTTP head (POCO's `drainBuffer`). */
  readonly initialBytes?: Uint8Array;
  /** The default receive timeout (server: `HTTPServerParams.getTimeout()`; client: 60 s). */
  readonly receiveTimeout: Timespan;
  /** The default send timeout (server: none; client: 60 s). */
  readonly sendTimeout: Timespan;
}

/** A wait that `#wake()` ends; `deadline` in `performance.now()` milliseconds (Infinity: none). */
type Waiter = () => void;

/** Default limit of the receive queue: large enough for POCO's tests' 256 KB frames in flight. */
const DEFAULT_RECEIVE_BUFFER = 1 << 20;

export class WebSocketImpl {
  readonly #socket: Socket;
  readonly #connection: Connection;
  readonly #transport: Transport;
  readonly #mustMask: boolean;
  readonly #local: SocketAddress;
  readonly #peer: SocketAddress;

  readonly #frames: QueuedFrame[] = [];
  #queuedBytes = 0;
  #readingPaused = false;
  #eof = false;
  /** Why receiving can go no further once the queue is empty (POCO rethrows it each time). */
  #receiveError: PocoException | undefined;
  /** The socket error, if the socket failed (for `poll(SELECT_ERROR)`). */
  #socketError: PocoException | undefined;
  #closed = false;
  #receiveShutdown = false;
  #waiters: Waiter[] = [];
  #lastFlags = 0;

  #receiveTimeout: Timespan;
  #sendTimeout: Timespan;
  #blocking = true;
  #pendingSendLength: number | null = null;
  #sendBufferSize: number;
  #receiveBufferSize = DEFAULT_RECEIVE_BUFFER;
  #noDelay = true;
  #keepAlive = false;
  #linger = { on: false, seconds: 0 };
  #references = 0;

  constructor(socket: Socket, mustMaskPayload: boolean, options: WebSocketImplOptions) {
    this.#socket = socket;
    this.#mustMask = mustMaskPayload;
    this.#receiveTimeout = options.receiveTimeout;
    this.#sendTimeout = options.sendTimeout;
    this.#sendBufferSize = socket.writableHighWaterMark;
    this.#local = new SocketAddress(socket.localAddress ?? '0.0.0.0', socket.localPort ?? 0);
    this.#peer = new SocketAddress(socket.remoteAddress ?? '0.0.0.0', socket.remotePort ?? 0);
    this.#connection = new Connection(mustMaskPayload ? 'client' : 'server', POCO_POLICY);
    this.#transport = new Transport(socket, this.#connection, {
      events: (events) => this.#onEvents(events),
      end: () => this.#onEnd(),
      error: (error) => this.#onSocketError(error),
      closed: () => this.#onClosed(),
    });
    socket.setNoDelay(true); // POCO >= 1.15 sets TCP_NODELAY on every WebSocket
    if (options.initialBytes !== undefined && options.initialBytes.length > 0) {
      this.#connection.receiveData(options.initialBytes);
      this.#transport.dispatch();
    }
    // Data that arrived between the handshake and now sits in the socket's buffer; flow it.
    socket.resume();
  }

  // --- References (POCO's reference-counted impl) ---

  retain(): void {
    this.#references++;
  }

  /** Drops a reference; the last one closes the socket, as destroying the last copy does. */
  release(): void {
    if (this.#references > 0) this.#references--;
    if (this.#references === 0) this.close();
  }

  // --- Frames ---

  mustMaskPayload(): boolean {
    return this.#mustMask;
  }

  /** The first header byte of the last frame received (POCO's `frameFlags()`). */
  frameFlags(): number {
    return this.#lastFlags;
  }

  /**
   * POCO's `sendBytes(buffer, length, flags)`: `flags` 0 sends a binary frame (FIN | BINARY);
   * `sendFrame` ORs in `FRAME_OP_SETRAW`, which keeps 0 as 0 (a non-final continuation frame).
   * The first byte on the wire is the low 8 bits of `flags`, unchecked.
   */
  async sendBytes(payload: Uint8Array, flags: number): Promise<number> {
    this.#assertOpen();
    const length = payload.length;
    if (this.#pendingSendLength !== null) return this.#retryPendingSend(length);
    if (this.#socket.destroyed || !this.#socket.writable)
      throw this.#socketError ?? new ConnectionResetException();
    const firstByte = (flags === 0 ? 0x82 : flags) & 0xff;
    this.#connection.sendFrame(firstByte, payload);
    this.#transport.flush();
    if (!this.#wouldBlock()) return length;
    if (!this.#blocking) {
      this.#pendingSendLength = length;
      return -1;
    }
    await this.#waitForDrain();
    return length;
  }

  /**
   * Receives one frame: the payload goes to `take`, which may refuse it (throwing) without the
   * frame being consumed. Resolves `{ n: 0, flags: 0 }` at end of stream, `{ n: -1 }` in
   * non-blocking mode when no whole frame is there.
   */
  async receive(take: (payload: Buffer) => void): Promise<{ n: number; flags: number }> {
    this.#assertOpen();
    const timeout = this.#receiveTimeout.totalMicroseconds();
    const deadline = timeout > 0 ? performance.now() + timeout / 1000 : Infinity;
    for (;;) {
      const frame = this.#frames[0];
      if (frame !== undefined && !this.#receiveShutdown) {
        take(frame.payload); // may throw "insufficient buffer": the frame stays queued
        this.#frames.shift();
        this.#consumed(frame.wireLength);
        this.#lastFlags = frame.flags;
        return { n: frame.payload.length, flags: frame.flags };
      }
      if (this.#closed || this.#receiveShutdown) return { n: 0, flags: 0 };
      if (this.#receiveError !== undefined) throw this.#receiveError;
      if (this.#eof) return { n: 0, flags: 0 };
      if (!this.#blocking) return { n: -1, flags: 0 };
      if (!(await this.#waitUntil(deadline))) throw new TimeoutException('', EAGAIN);
    }
  }

  setMaxPayloadSize(size: number): void {
    if (!Number.isInteger(size) || size <= 0)
      throw new AssertionViolationException('maxPayloadSize > 0', String(size));
    this.#connection.maxFrameSize = size;
  }

  getMaxPayloadSize(): number {
    return this.#connection.maxFrameSize;
  }

  // --- Socket functions ---

  /** Bytes received and not yet taken, frame headers included (POCO counts raw bytes too). */
  available(): number {
    this.#assertOpen();
    return this.#queuedBytes + this.#connection.bufferedBytes;
  }

  /** Waits up to `timeout` for the socket to become readable / writable / failed. */
  async poll(timeout: Timespan, mode: number): Promise<boolean> {
    this.#assertOpen();
    const deadline = performance.now() + timeout.totalMicroseconds() / 1000;
    for (;;) {
      if (this.#ready(mode)) return true;
      if (!(await this.#waitUntil(deadline, (mode & 2) !== 0))) return this.#ready(mode);
    }
  }

  #ready(mode: number): boolean {
    const readable =
      this.#frames.length > 0 ||
      this.#connection.bufferedBytes > 0 ||
      this.#eof ||
      this.#receiveError !== undefined ||
      this.#closed;
    const writable = !this.#wouldBlock() || this.#closed;
    return (
      ((mode & 1) !== 0 && readable) ||
      ((mode & 2) !== 0 && writable) ||
      ((mode & 4) !== 0 && this.#socketError !== undefined)
    );
  }

  address(): SocketAddress {
    return this.#local;
  }

  peerAddress(): SocketAddress {
    return this.#peer;
  }

  secure(): boolean {
    return 'encrypted' in this.#socket;
  }

  /** The socket's file descriptor where Node exposes it (informational), else -1. */
  sockfd(): number {
    const handle = (this.#socket as unknown as { _handle?: { fd?: number } })._handle;
    return typeof handle?.fd === 'number' ? handle.fd : -1;
  }

  setBlocking(blocking: boolean): void {
    this.#blocking = blocking;
  }

  getBlocking(): boolean {
    return this.#blocking;
  }

  setReceiveTimeout(timeout: Timespan): void {
    this.#receiveTimeout = timeout;
  }

  getReceiveTimeout(): Timespan {
    return this.#receiveTimeout;
  }

  setSendTimeout(timeout: Timespan): void {
    this.#sendTimeout = timeout;
  }

  getSendTimeout(): Timespan {
    return this.#sendTimeout;
  }

  setNoDelay(flag: boolean): void {
    this.#assertOpen();
    this.#socket.setNoDelay(flag);
    this.#noDelay = flag;
  }

  getNoDelay(): boolean {
    return this.#noDelay;
  }

  setKeepAlive(flag: boolean): void {
    this.#assertOpen();
    this.#socket.setKeepAlive(flag);
    this.#keepAlive = flag;
  }

  getKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** With `on` and 0 seconds, `close()` resets the connection (RST) instead of closing it. */
  setLinger(on: boolean, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new InvalidArgumentException('Invalid linger time', String(seconds));
    this.#linger = { on, seconds };
  }

  getLinger(): { on: boolean; seconds: number } {
    return { ...this.#linger };
  }

  /**
   * How many bytes may wait in the send buffer before `sendFrame` waits (blocking) or says -1
   * (non-blocking). Node cannot size a connected TCP socket's kernel buffer (SO_SNDBUF), so this
   * sizes the user-space buffer in front of it; Node's own high-water mark is the floor.
   */
  setSendBufferSize(size: number): void {
    if (!Number.isInteger(size) || size <= 0)
      throw new InvalidArgumentException('Invalid buffer size', String(size));
    this.#sendBufferSize = size;
  }

  getSendBufferSize(): number {
    return this.#sendBufferSize;
  }

  /**
   * How many bytes of received frames may wait to be taken before the socket stops reading
   * (SO_RCVBUF's role; Node cannot size the kernel buffer of a connected TCP socket).
   */
  setReceiveBufferSize(size: number): void {
    if (!Number.isInteger(size) || size <= 0)
      throw new InvalidArgumentException('Invalid buffer size', String(size));
    this.#receiveBufferSize = size;
    this.#updateFlow();
  }

  getReceiveBufferSize(): number {
    return this.#receiveBufferSize;
  }

  /** TCP half-close of the receive side: frames are no longer read; receiveFrame returns 0. */
  shutdownReceive(): void {
    this.#assertOpen();
    this.#receiveShutdown = true;
    this.#transport.pauseReading();
    this.#wake();
  }

  /** TCP half-close of the send side (FIN, no close frame). */
  shutdownSend(): number {
    this.#assertOpen();
    this.#transport.endOutput();
    return 0;
  }

  /** Closes the TCP connection without a close frame (POCO's `close()`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.destroy(this.#linger.on && this.#linger.seconds === 0);
    this.#wake();
  }

  isClosed(): boolean {
    return this.#closed;
  }

  // --- Internals ---

  #assertOpen(): void {
    if (this.#closed) throw new InvalidSocketException('Socket is closed');
  }

  #wouldBlock(): boolean {
    return this.#socket.writableNeedDrain && this.#socket.writableLength > this.#sendBufferSize;
  }

  #retryPendingSend(length: number): number {
    if (length !== this.#pendingSendLength)
      throw new InvalidArgumentException('Pending send buffer length mismatch');
    if (this.#wouldBlock()) return -1;
    this.#pendingSendLength = null;
    return length;
  }

  async #waitForDrain(): Promise<void> {
    const timeout = this.#sendTimeout.totalMicroseconds();
    const drained = this.#transport.drained().catch(() => {
      throw this.#socketError ?? new ConnectionResetException();
    });
    if (timeout <= 0) return drained;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutException('', EAGAIN)), timeout / 1000);
    });
    try {
      await Promise.race([drained, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for something to happen; false if `deadline` came first. */
  #waitUntil(deadline: number, orDrain = false): Promise<boolean> {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(waiter);
      if (remaining !== Infinity) {
        timer = setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index !== -1) this.#waiters.splice(index, 1);
          resolve(false);
        }, Math.ceil(remaining));
      }
      if (orDrain)
        this.#transport.drained().then(
          () => this.#wake(),
          () => this.#wake(),
        );
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  #onEvents(events: ConnectionEvent[]): void {
    const serverSide = !this.#mustMask;
    for (const event of events) {
      if (event.type === 'frame') {
        const length = event.frame.payload.length;
        const wireLength = headerLength(length, serverSide) + length;
        this.#frames.push({ flags: event.frame.flags, payload: event.frame.payload, wireLength });
        this.#queuedBytes += wireLength;
      } else if (event.type === 'failure') {
        this.#receiveError ??= pocoReceiveError(event.error);
      }
    }
    this.#updateFlow();
    this.#wake();
  }

  #onEnd(): void {
    this.#eof = true;
    this.#wake();
  }

  #onSocketError(error: Error): void {
    const exception = netExceptionFrom(error);
    this.#socketError ??= exception;
    // A reset mid-frame, or before the peer's data was all read, is an error, as recv's is.
    this.#receiveError ??= exception;
    this.#wake();
  }

  #onClosed(): void {
    this.#eof = true;
    this.#wake();
  }

  #consumed(wireLength: number): void {
    this.#queuedBytes -= wireLength;
    this.#updateFlow();
  }

  /** Pauses the socket while the queue is over the receive buffer size, resumes below half. */
  #updateFlow(): void {
    if (!this.#readingPaused && this.#queuedBytes > this.#receiveBufferSize) {
      this.#readingPaused = true;
      this.#transport.pauseReading();
    } else if (
      this.#readingPaused &&
      this.#queuedBytes <= this.#receiveBufferSize / 2 &&
      !this.#receiveShutdown
    ) {
      this.#readingPaused = false;
      this.#transport.resumeReading();
    }
  }
}

/** POCO's exception for a receive-side protocol failure. */
function pocoReceiveError(error: ProtocolError): PocoException {
  switch (error.reason) {
    case 'FRAME_TOO_BIG':
    case 'LENGTH_MSB_SET': // POCO: a length of 2^63 is over any maxPayloadSize
      return new WebSocketException('Payload too big', WS_ERR_PAYLOAD_TOO_BIG, 0, { cause: error });
    case 'INCOMPLETE_FRAME':
      return new WebSocketException('Incomplete frame received', WS_ERR_INCOMPLETE_FRAME, 0, {
        cause: error,
      });
    default:
      return new NetException(error.message, undefined, 0, { cause: error });
  }
}
