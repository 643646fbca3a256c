/**
 * POCO's `WebSocketImpl`: the body that every `WebSocket` copy shares (POCO's handle/body
 * pattern; copies compare equal because they hold the same impl).
 *
 * It drives one protocol `Connection` under `POCO_POLICY` (every frame handed over as it is,
 * nothing answered, only the per-frame size limit) through one I/O `Channel`, and gives it
 * POCO's blocking-call semantics as promises:
 * - received frames wait in an inbox bounded in bytes (the receive buffer size, each frame's
 *   overhead counted); a full inbox stops reading (backpressure, so a client that floods a slow
 *   handler is slowed down by TCP, not buffered without bound);
 * - a frame larger than the receive buffer is not read ahead of the application: its payload is
 *   read only once a `receiveFrame` can take it, and a `receiveFrame` whose buffer is too small
 *   is refused on the header, as POCO refuses it, without reading the payload;
 * - `receiveFrame` takes the frame at the head of the queue, or waits for one, up to the
 *   receive timeout, keeping a partly received frame across a timeout (no desync, unlike POCO);
 * - `sendFrame` resolves once the socket has taken the frame, or after the write buffer drained
 *   when it is over the send buffer size; in non-blocking mode it says -1 instead of waiting.
 *
 * Where POCO has defects, this does not (each is listed in the README): no busy loop on a
 * partial header at EOF, no lost frame after "insufficient buffer", no crash on a non-blocking
 * retry, and `poll()` sees bytes that are already buffered.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { Channel, ReadPause } from '../io/channel.js';
import { Inbox } from '../io/inbox.js';
import { Connection, POCO_POLICY, type ConnectionEvent } from '../protocol/connection.js';
import type { ProtocolError } from '../protocol/errors.js';
import type { BinaryData, Frame } from '../protocol/frame.js';
import { WS_ERR_INCOMPLETE_FRAME, WS_ERR_PAYLOAD_TOO_BIG } from './constants.js';
import {
  EAGAIN,
  EPIPE,
  AssertionViolationException,
  ConnectionResetException,
  InvalidArgumentException,
  IOException,
  InvalidSocketException,
  NetException,
  TimeoutException,
  WebSocketException,
  netExceptionFrom,
  rejection,
  type PocoException,
} from './exceptions.js';
import { PocoBuffer } from './poco-buffer.js';
import { SocketAddress } from './socket-address.js';
import { Timespan } from './timespan.js';

export interface WebSocketImplOptions {
  /** Bytes that arrived after the HTTP head (POCO's `drainBuffer`). */
  readonly initialBytes?: Uint8Array;
  /** The default receive timeout (server: `HTTPServerParams.getTimeout()`; client: 60 s). */
  readonly receiveTimeout: Timespan;
  /** The default send timeout (server: none; client: 60 s). */
  readonly sendTimeout: Timespan;
}

/** Where a received payload goes: a caller's buffer, a PocoBuffer, or back to the caller (null). */
export type ReceiveTarget = Uint8Array | PocoBuffer | null;

/** What a receive resolves to; `payload` only when the target was null. */
export interface ReceiveResult {
  n: number;
  flags: number;
  payload?: Buffer;
}

/**
 * A pending wait: a receive (with its target) or a poll. One plain object per wait, no closures:
 * an idle connection keeps one of these for as long as its handler waits.
 */
interface Waiter {
  readonly receive: boolean;
  /** When the wait gives up, in `performance.now()` milliseconds (Infinity: never). */
  readonly deadline: number;
  readonly target: ReceiveTarget;
  readonly limit: number;
  readonly resolve: (value: ReceiveResult & boolean) => void;
  readonly reject: (error: Error) => void;
}

const EMPTY: Buffer = Buffer.alloc(0);
/** The shared empty waiter list (never pushed to: `#keepWaiting` replaces it). */
const NO_WAITERS: Waiter[] = [];

/** A receive's result; with the payload (EMPTY for none) when the caller asked for it. */
function result(
  target: ReceiveTarget,
  n: number,
  flags: number,
  payload: Buffer = EMPTY,
): ReceiveResult {
  return target === null ? { n, flags, payload } : { n, flags };
}

/** Default limit of the receive queue: large enough for POCO's tests' 256 KB frames in flight. */
const DEFAULT_RECEIVE_BUFFER = 1 << 20;

/** How many bodies were made: each takes the next number as its ordinal. */
let implsMade = 0;

/** How long `close()` lets the kernel deliver what was written, unless `setLinger` says. */
const DEFAULT_LINGER_MS = 10_000;

// A ChannelHandler, checked where the channel is made (`new Channel(…, this, …)`): not named in
// `implements`, which the published .d.ts would keep while its internal members are stripped.
/**
 * POCO's `WebSocketImpl`: the body that every copy of a {@link WebSocket} shares (copies compare
 * equal because they hold the same impl; {@link WebSocket.impl} returns it). Use the
 * {@link WebSocket} methods: they are the same calls with POCO's argument forms.
 *
 * It drives one protocol {@link Connection} under {@link POCO_POLICY} and gives it POCO's
 * blocking-call semantics as promises: received frames wait in a queue bounded by the receive
 * buffer size (a full queue stops reading), a frame larger than that is not read ahead of a
 * `receiveFrame` that can take it, and a partly received frame survives a receive timeout.
 */
export class WebSocketImpl {
  readonly #socket: Socket;
  readonly #connection: Connection;
  readonly #channel: Channel;
  readonly #mustMask: boolean;
  // Addresses as strings and numbers; SocketAddress objects are made when asked for.
  readonly #localHost: string;
  readonly #localPort: number;
  readonly #peerHost: string;
  readonly #peerPort: number;

  /** Received frames not yet taken, as the connection reported them. */
  readonly #frames: Inbox<Frame>;
  /**
   * Raw bytes read from the socket and not yet taken by a receive, frame headers and masks
   * included, as they came (POCO's `available()`): counted up as each read arrives, down by a
   * frame's bytes on the wire when a receive takes it.
   */
  #unreceivedBytes = 0;
  /** This body's place in the order of bodies made (POCO orders sockets by impl pointer). */
  readonly #ordinal: number;
  /**
   * Bytes arrived since a non-blocking receive last said -1: what POCO's `poll` sees as bytes in
   * the kernel. Part of a frame that a receive has already looked at does not make the socket
   * readable again, or a poll-then-receive loop would spin until the frame is complete.
   */
  #unseenBytes = false;
  /** Why receiving can go no further once the queue is empty (POCO rethrows it each time). */
  #receiveError: PocoException | undefined;
  /** POCO's exception for the channel's socket error, made once. */
  #socketError: PocoException | undefined;
  #closed = false;
  #receiveShutdown = false;
  /** The send side was shut down here (shutdownSend, shutdown): a send is EPIPE, as in POCO. */
  #sendShutdown = false;
  /** Pending waits, oldest first (an empty array holds no backing store). */
  #waiters: Waiter[] = NO_WAITERS;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #lastFlags = 0;

  /** Timeouts in microseconds (0: none), as POCO keeps them. */
  #receiveTimeout: number;
  #sendTimeout: number;
  #blocking = true;
  #pendingSendLength: number | null = null;
  #sendBufferSize: number;
  #noDelay = true;
  #keepAlive = false;
  #lingerOn = false;
  #lingerSeconds = 0;
  #references = 0;

  /**
   * A WebSocket body over an upgraded socket (made by `new WebSocket(request, response)` and
   * `WebSocket.connect`).
   *
   * @param socket - the socket after the opening handshake.
   * @param mustMaskPayload - true on the client side.
   * @param options - the bytes that came after the HTTP head, and the default timeouts.
   */
  constructor(socket: Socket, mustMaskPayload: boolean, options: WebSocketImplOptions) {
    this.#socket = socket;
    this.#ordinal = ++implsMade;
    this.#mustMask = mustMaskPayload;
    this.#receiveTimeout = options.receiveTimeout.totalMicroseconds();
    this.#sendTimeout = options.sendTimeout.totalMicroseconds();
    this.#sendBufferSize = socket.writableHighWaterMark;
    this.#localHost = socket.localAddress ?? '0.0.0.0';
    this.#localPort = socket.localPort ?? 0;
    this.#peerHost = socket.remoteAddress ?? '0.0.0.0';
    this.#peerPort = socket.remotePort ?? 0;
    this.#connection = new Connection(mustMaskPayload ? 'client' : 'server', POCO_POLICY);
    this.#channel = new Channel(socket, this.#connection, this, {
      ...(options.initialBytes === undefined ? {} : { head: options.initialBytes }),
    });
    this.#frames = new Inbox(this.#channel, DEFAULT_RECEIVE_BUFFER);
    socket.setNoDelay(true); // POCO >= 1.15 sets TCP_NODELAY on every WebSocket
    this.#channel.start();
  }

  // --- References (POCO's reference-counted impl) ---

  /**
   * @internal How two bodies order (negative, 0, positive): by when they were made, the stable
   * order that stands in for POCO's comparison of impl pointers.
   */
  static compare(a: WebSocketImpl, b: WebSocketImpl): number {
    return a.#ordinal - b.#ordinal;
  }

  /** Takes a reference (a copy of the {@link WebSocket}). */
  retain(): void {
    this.#references++;
  }

  /** Drops a reference; the last one closes the socket, as destroying the last copy does. */
  release(): void {
    if (this.#references > 0) this.#references--;
    if (this.#references === 0) this.close();
  }

  // --- Frames ---

  /** Whether frames sent are masked (the client side). */
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
   *
   * Not an `async` function on purpose: the common case (the socket takes the frame at once)
   * resolves without a detour through an extra promise.
   *
   * @throws the errors of {@link WebSocket.sendFrame}.
   */
  sendBytes(payload: BinaryData, flags: number): Promise<number> {
    try {
      this.#assertOpen();
      const length = payload.byteLength;
      if (this.#pendingSendLength !== null) return Promise.resolve(this.#retryPendingSend(length));
      // POCO's send on a socket shut down for sending: EPIPE, "Broken pipe".
      if (this.#sendShutdown) throw new IOException('Broken pipe', EPIPE);
      if (this.#socket.destroyed || !this.#socket.writable)
        throw this.#socketException() ?? new ConnectionResetException();
      this.#channel.sendFrame((flags === 0 ? 0x82 : flags) & 0xff, payload);
      if (!this.#wouldBlock()) return Promise.resolve(length);
      if (!this.#blocking) {
        this.#pendingSendLength = length;
        return Promise.resolve(-1);
      }
      return this.#waitForDrain().then(() => length);
    } catch (error) {
      return rejection(error);
    }
  }

  /**
   * Receives one frame into `target` (a buffer of which `limit` bytes may be used, a PocoBuffer
   * to append to, or null to get the payload back without a copy). A frame over `limit` throws
   * "insufficient buffer" and stays queued. Resolves `{ n: 0, flags: 0 }` at end of stream,
   * `{ n: -1 }` in non-blocking mode when no whole frame is there; at once when a frame is queued.
   *
   * @throws the errors of {@link WebSocket.receiveFrame}.
   */
  receive(target: ReceiveTarget, limit: number): Promise<ReceiveResult> {
    try {
      this.#assertOpen();
      const result = this.#tryReceive(target, limit);
      if (result !== null) return Promise.resolve(result);
    } catch (error) {
      return rejection(error);
    }
    const deadline =
      this.#receiveTimeout > 0 ? performance.now() + this.#receiveTimeout / 1000 : Infinity;
    const received = new Promise<ReceiveResult>((resolve, reject) => {
      this.#addWaiter({ receive: true, deadline, target, limit, resolve, reject });
    });
    this.#updateLargeFrameFlow(); // a frame too large to read ahead may be this one's
    return received;
  }

  /** What `receive` resolves to now, or null if it has to wait. */
  #tryReceive(target: ReceiveTarget, limit: number): ReceiveResult | null {
    // A receive pending when close() or shutdownReceive() was called ends as end of stream.
    if (this.#closed || this.#receiveShutdown) return result(target, 0, 0);
    const frame = this.#frames.peek();
    if (frame === undefined && target !== null && !(target instanceof PocoBuffer)) {
      // POCO reads the header first and refuses a frame larger than the buffer without
      // reading its payload: so does this, on the header of the frame under way.
      const incoming = this.#connection.incomingFrameLength;
      if (incoming > limit)
        throw new WebSocketException(
          `Insufficient buffer for payload size ${incoming}`,
          WS_ERR_PAYLOAD_TOO_BIG,
        );
    }
    if (frame !== undefined) {
      const payload = frame.payload;
      // A frame read ahead of the application (the bytes that came with the handshake are read
      // when the WebSocket is made, before the handler's setMaxPayloadSize) is held to the limit
      // of the moment it is received, as POCO holds it (POCO reads a frame only in receiveFrame).
      // It stays queued: each receive says the same, unless the limit is raised. Found by the
      // poco-client fuzz target.
      if (payload.length > this.#connection.maxFrameSize)
        throw new WebSocketException('Payload too big', WS_ERR_PAYLOAD_TOO_BIG);
      if (target instanceof PocoBuffer) {
        target.append(payload);
      } else if (target !== null) {
        if (payload.length > limit)
          // The frame stays queued: a call with a larger buffer gets it (POCO loses it).
          throw new WebSocketException(
            `Insufficient buffer for payload size ${payload.length}`,
            WS_ERR_PAYLOAD_TOO_BIG,
          );
        target.set(payload, 0);
      }
      this.#frames.shift();
      this.#unreceivedBytes -= frame.wireLength;
      this.#lastFlags = frame.flags;
      return result(target, payload.length, frame.flags, payload);
    }
    const failure = this.#receiveFailure();
    if (failure !== undefined) throw failure;
    if (this.#channel.ended) return result(target, 0, 0);
    if (!this.#blocking) {
      this.#unseenBytes = false; // what is buffered was looked at: no whole frame yet
      return result(target, -1, 0);
    }
    return null;
  }

  /**
   * The largest frame payload accepted.
   *
   * @throws {@link AssertionViolationException} when `size` is not a positive integer.
   */
  setMaxPayloadSize(size: number): void {
    if (!Number.isInteger(size) || size <= 0)
      throw new AssertionViolationException('maxPayloadSize > 0', String(size));
    this.#connection.maxFrameSize = size;
  }

  /** The largest frame payload accepted. */
  getMaxPayloadSize(): number {
    return this.#connection.maxFrameSize;
  }

  // --- Socket functions ---

  /**
   * Raw bytes received and not yet taken by a receive, frame headers and masks included, as they
   * came on the wire (POCO: its read-ahead buffer plus the kernel's FIONREAD). The bytes of a
   * frame under way count, its header too; Node's socket buffer counts as the kernel's does.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  available(): number {
    this.#assertOpen();
    return this.#unreceivedBytes + this.#socket.readableLength;
  }

  /**
   * Waits up to `timeout` for the socket to become readable / writable / failed.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  async poll(timeout: Timespan, mode: number): Promise<boolean> {
    this.#assertOpen();
    const deadline = performance.now() + timeout.totalMicroseconds() / 1000;
    for (;;) {
      if (this.ready(mode)) return true;
      // A drain wakes the waits too (onChannelDrain): SELECT_WRITE needs nothing more.
      if (!(await this.#waitUntil(deadline))) return this.ready(mode);
    }
  }

  /**
   * @internal Whether the conditions of `mode` (SELECT_READ 1, SELECT_WRITE 2, SELECT_ERROR 4)
   * hold now: what `poll` and `WebSocket.select` wait for.
   */
  ready(mode: number): boolean {
    const readable =
      this.#frames.length > 0 ||
      (this.#unseenBytes && this.#connection.bufferedBytes > 0) ||
      this.#channel.ended ||
      this.#receiveFailure() !== undefined ||
      this.#closed;
    const writable = !this.#wouldBlock() || this.#closed;
    return (
      ((mode & 1) !== 0 && readable) ||
      ((mode & 2) !== 0 && writable) ||
      ((mode & 4) !== 0 && this.#channel.error !== undefined)
    );
  }

  /**
   * The local address.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  address(): SocketAddress {
    this.#assertOpen();
    return new SocketAddress(this.#localHost, this.#localPort);
  }

  /**
   * The peer's address.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  peerAddress(): SocketAddress {
    this.#assertOpen();
    return new SocketAddress(this.#peerHost, this.#peerPort);
  }

  /** Whether the connection runs over TLS. */
  secure(): boolean {
    return 'encrypted' in this.#socket;
  }

  /** The socket's file descriptor where Node exposes it (informational), else -1. */
  sockfd(): number {
    const handle = (this.#socket as unknown as { _handle?: { fd?: number } })._handle;
    return typeof handle?.fd === 'number' ? handle.fd : -1;
  }

  /** See {@link WebSocket.setBlocking}. */
  setBlocking(blocking: boolean): void {
    this.#assertOpen();
    this.#blocking = blocking;
  }

  /** Whether the socket is in blocking mode (after `close()` too: POCO's is a plain flag). */
  getBlocking(): boolean {
    return this.#blocking;
  }

  /** See {@link WebSocket.setReceiveTimeout}. */
  setReceiveTimeout(timeout: Timespan): void {
    this.#assertOpen();
    this.#receiveTimeout = timeout.totalMicroseconds();
  }

  /** The receive timeout (0: none). */
  getReceiveTimeout(): Timespan {
    this.#assertOpen();
    return new Timespan(this.#receiveTimeout);
  }

  /** See {@link WebSocket.setSendTimeout}. */
  setSendTimeout(timeout: Timespan): void {
    this.#assertOpen();
    this.#sendTimeout = timeout.totalMicroseconds();
  }

  /** The send timeout (0: none). */
  getSendTimeout(): Timespan {
    this.#assertOpen();
    return new Timespan(this.#sendTimeout);
  }

  /**
   * Sets TCP_NODELAY.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setNoDelay(flag: boolean): void {
    this.#assertOpen();
    this.#socket.setNoDelay(flag);
    this.#noDelay = flag;
  }

  /** Whether TCP_NODELAY is set. */
  getNoDelay(): boolean {
    this.#assertOpen();
    return this.#noDelay;
  }

  /**
   * Sets TCP keep-alive.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  setKeepAlive(flag: boolean): void {
    this.#assertOpen();
    this.#socket.setKeepAlive(flag);
    this.#keepAlive = flag;
  }

  /** Whether TCP keep-alive is set. */
  getKeepAlive(): boolean {
    this.#assertOpen();
    return this.#keepAlive;
  }

  /**
   * With `on` and 0 seconds, `close()` resets the connection (RST) instead of closing it.
   *
   * @throws {@link InvalidArgumentException} when `seconds` is not a non-negative integer.
   */
  setLinger(on: boolean, seconds: number): void {
    this.#assertOpen();
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new InvalidArgumentException('Invalid linger time', String(seconds));
    this.#lingerOn = on;
    this.#lingerSeconds = seconds;
  }

  /** The linger setting. */
  getLinger(): {
    /** Whether lingering is on. */
    on: boolean;
    /** How long `close()` lets written data reach the peer (0 with `on`: a reset). */
    seconds: number;
  } {
    this.#assertOpen();
    return { on: this.#lingerOn, seconds: this.#lingerSeconds };
  }

  /**
   * How many bytes may wait in the send buffer before `sendFrame` waits (blocking) or says -1
   * (non-blocking). Node cannot size a connected TCP socket's kernel buffer (SO_SNDBUF), so this
   * sizes the user-space buffer in front of it; Node's own high-water mark is the floor.
   *
   * @throws {@link InvalidArgumentException} when `size` is not a positive integer.
   */
  setSendBufferSize(size: number): void {
    this.#assertOpen();
    if (!Number.isInteger(size) || size <= 0)
      throw new InvalidArgumentException('Invalid buffer size', String(size));
    this.#sendBufferSize = size;
  }

  /** The send buffer size in bytes. */
  getSendBufferSize(): number {
    this.#assertOpen();
    return this.#sendBufferSize;
  }

  /**
   * How many bytes of received frames may wait to be taken before the socket stops reading
   * (SO_RCVBUF's role; Node cannot size the kernel buffer of a connected TCP socket).
   *
   * @throws {@link InvalidArgumentException} when `size` is not a positive integer.
   */
  setReceiveBufferSize(size: number): void {
    this.#assertOpen();
    if (!Number.isInteger(size) || size <= 0)
      throw new InvalidArgumentException('Invalid buffer size', String(size));
    this.#frames.highWaterMark = size;
    this.#updateLargeFrameFlow();
  }

  /** The receive buffer size in bytes. */
  getReceiveBufferSize(): number {
    this.#assertOpen();
    return this.#frames.highWaterMark;
  }

  /**
   * TCP half-close of the receive side: frames are no longer read; receiveFrame returns 0.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdownReceive(): void {
    this.#assertOpen();
    this.#receiveShutdown = true;
    this.#channel.pauseReading(ReadPause.SHUT_DOWN);
    this.#wake();
  }

  /**
   * TCP half-close of the send side (FIN, no close frame).
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdownSend(): number {
    this.#assertOpen();
    this.#sendShutdown = true;
    this.#channel.endOutput();
    return 0;
  }

  /**
   * TCP shutdown of both directions (POCO's `StreamSocket::shutdown()`): a FIN, no close frame;
   * no more frames are read (`receiveFrame` resolves 0), and a send fails with "Broken pipe".
   * Returns 0.
   *
   * @throws {@link InvalidSocketException} after `close()`.
   */
  shutdown(): number {
    this.#assertOpen();
    this.shutdownReceive();
    return this.shutdownSend();
  }

  /** Closes the TCP connection without a close frame (POCO's `close()`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#lingerOn && this.#lingerSeconds === 0) this.#channel.terminate();
    else this.#channel.close(this.#lingerOn ? this.#lingerSeconds * 1000 : DEFAULT_LINGER_MS);
    this.#wake();
    clearTimeout(this.#timer);
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this.#closed;
  }

  // --- Internals ---

  #assertOpen(): void {
    if (this.#closed) throw new InvalidSocketException('Socket is closed');
  }

  #wouldBlock(): boolean {
    return this.#channel.backlogOver(this.#sendBufferSize);
  }

  #retryPendingSend(length: number): number {
    if (length !== this.#pendingSendLength)
      throw new InvalidArgumentException('Pending send buffer length mismatch');
    if (this.#wouldBlock()) return -1;
    this.#pendingSendLength = null;
    return length;
  }

  async #waitForDrain(): Promise<void> {
    const timeout = this.#sendTimeout;
    const drained = this.#channel.drained().catch(() => {
      throw this.#socketException() ?? new ConnectionResetException();
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

  /**
   * @internal Waits for something to happen here (what wakes a poll: a read, the end, an error, a
   * drain, a close) until `deadline`, a `performance.now()` time: `changed` resolves true then,
   * false when the deadline passes or on `cancel()`, which also lets go of the wait at once.
   * For `WebSocket.select`, which waits on several sockets and cancels the rest when one wakes.
   */
  watch(deadline: number): { changed: Promise<boolean>; cancel: () => void } {
    let waiter: Waiter | undefined;
    const changed = new Promise<boolean>((resolve, reject) => {
      waiter = { receive: false, deadline, target: null, limit: 0, resolve, reject };
    });
    if (deadline - performance.now() <= 0) {
      waiter!.resolve(false as ReceiveResult & boolean);
      return { changed, cancel: () => undefined };
    }
    this.#addWaiter(waiter!);
    const cancel = (): void => {
      const index = this.#waiters.indexOf(waiter!);
      if (index === -1) return; // it woke already
      this.#waiters.splice(index, 1);
      if (this.#waiters.length === 0) this.#waiters = NO_WAITERS;
      // No wait left with a deadline: the timer would only hold the process up.
      if (!this.#waiters.some((w) => w.deadline !== Infinity)) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      waiter!.resolve(false as ReceiveResult & boolean);
    };
    return { changed, cancel };
  }

  /** Waits for something to happen; false if `deadline` (a `performance.now()` time) came first. */
  #waitUntil(deadline: number): Promise<boolean> {
    if (deadline - performance.now() <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.#addWaiter({
        receive: false,
        deadline,
        target: null,
        limit: 0,
        resolve: resolve,
        reject,
      });
    });
  }

  /**
   * Queues a wait. One timer per connection serves every wait: most end long before their
   * deadline, so it is armed for the nearest one and re-armed only when it fires.
   */
  #addWaiter(waiter: Waiter): void {
    this.#keepWaiting(waiter);
    if (waiter.deadline !== Infinity) this.#armTimer(waiter.deadline - performance.now());
  }

  /**
   * Makes sure the timer fires no later than `delay` ms from now. A timer that is due sooner is
   * left alone: when it fires, `#expire` re-arms it for the waits still pending.
   */
  #armTimer(delay: number): void {
    const now = performance.now();
    if (this.#timer !== undefined && this.#timerDue > now && this.#timerDue <= now + delay) return;
    clearTimeout(this.#timer);
    const ms = Math.max(1, Math.ceil(delay));
    this.#timerDue = now + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#expire();
    }, ms);
  }

  /** Ends the waits whose deadline has passed; re-arms for the nearest one left. */
  #expire(): void {
    const now = performance.now();
    let next = Infinity;
    const waiting: Waiter[] = [];
    for (const waiter of this.#waiters) {
      // Within a millisecond counts as reached: timers have millisecond granularity.
      if (waiter.deadline - now < 1) {
        if (waiter.receive) waiter.reject(new TimeoutException('', EAGAIN));
        else waiter.resolve(false as ReceiveResult & boolean);
      } else {
        waiting.push(waiter);
        next = Math.min(next, waiter.deadline);
      }
    }
    this.#waiters = waiting.length === 0 ? NO_WAITERS : waiting;
    if (next !== Infinity) this.#armTimer(next - now);
  }

  #keepWaiting(waiter: Waiter): void {
    if (this.#waiters === NO_WAITERS) this.#waiters = [waiter];
    else this.#waiters.push(waiter);
  }

  /**
   * Something happened: every wait looks again, in the order they began. With `receivesOnly`
   * (a read brought part of a frame, no whole one), polls keep waiting: nothing new can be
   * received yet, and waking them would make a poll-then-receive loop spin.
   */
  #wake(receivesOnly = false): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = NO_WAITERS;
    for (const waiter of waiters) {
      if (!waiter.receive) {
        if (receivesOnly) this.#keepWaiting(waiter);
        else waiter.resolve(true as ReceiveResult & boolean);
        continue;
      }
      try {
        const result = this.#tryReceive(waiter.target, waiter.limit);
        if (result === null) this.#keepWaiting(waiter);
        else waiter.resolve(result as ReceiveResult & boolean);
      } catch (error) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** @internal ChannelHandler */
  onChannelEvents(events: ConnectionEvent[]): void {
    for (const event of events) {
      if (event.type === 'frame') {
        this.#frames.push(event, event.payload.length);
      } else if (event.type === 'failure') {
        this.#receiveError ??= pocoReceiveError(event.error);
      }
    }
    this.#wake();
  }

  /**
   * @internal ChannelHandler: a frame's header may have come alone. A receive waiting with a
   * buffer too small for it is refused now, on the header, as POCO refuses it.
   */
  onChannelRead(): void {
    this.#unseenBytes = true;
    if (this.#connection.incomingFrameLength >= 0) this.#wake(true);
    this.#updateLargeFrameFlow();
  }

  /** @internal ChannelHandler: a read's bytes, before the connection parses them. */
  onChannelBytes(byteLength: number): void {
    this.#unreceivedBytes += byteLength;
  }

  /** @internal ChannelHandler */
  onChannelEnd(): void {
    this.#wake();
  }

  /** @internal ChannelHandler */
  onChannelError(): void {
    this.#wake();
  }

  /** POCO's exception for the socket's error, if it failed (the same object each time). */
  #socketException(): PocoException | undefined {
    const error = this.#channel.error;
    if (error === undefined) return undefined;
    return (this.#socketError ??= netExceptionFrom(error));
  }

  /**
   * Why receiving can go no further once the queue is empty: the peer broke the framing, or the
   * socket failed (a reset mid-frame, or before the peer's data was all read, is an error, as
   * recv's is). The first of them, the same object each time: POCO rethrows it.
   */
  #receiveFailure(): PocoException | undefined {
    return (this.#receiveError ??= this.#socketException());
  }

  /** @internal ChannelHandler */
  onChannelDrain(): void {
    this.#wake(); // polls waiting for SELECT_WRITE
  }

  /** @internal ChannelHandler */
  onChannelClosed(): void {
    this.#wake();
    clearTimeout(this.#timer);
  }

  /**
   * Reads the payload of the frame under way only if it fits the receive buffer, or a waiting
   * `receiveFrame` can take it (its buffer is large enough, or it has none: a PocoBuffer or
   * none at all); otherwise reading stops on its header, and a peer that announces 2 GiB makes
   * this side hold nothing of them.
   */
  #updateLargeFrameFlow(): void {
    const incoming = this.#connection.incomingFrameLength;
    const readAhead =
      incoming <= this.#frames.highWaterMark ||
      (this.#frames.length === 0 && this.#waiters.some((w) => w.receive && accepts(w, incoming)));
    if (readAhead) this.#channel.resumeReading(ReadPause.LARGE_FRAME);
    else this.#channel.pauseReading(ReadPause.LARGE_FRAME);
  }
}

/** True if a waiting receive can take a payload of `length` bytes. */
function accepts(waiter: Waiter, length: number): boolean {
  return waiter.target === null || waiter.target instanceof PocoBuffer || waiter.limit >= length;
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
