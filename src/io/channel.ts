/**
 * The I/O channel of one WebSocket connection: a protocol `Connection` on a socket
 * (`net.Socket`, `tls.TLSSocket`, or any `Duplex` in tests). Both facades hold one; neither
 * touches the socket's events or flushes the core itself.
 *
 * It owns:
 * - one path for every incoming byte: the bytes read past the HTTP head (given to the
 *   constructor, fed by `start()`) and every later read go through the same `#receive`, and the
 *   core's events come out to the handler in order;
 * - one place that writes: each `send*()` here queues frames in the core and flushes them
 *   (writes, the end of output when the core says so, the close timer when the core expects the
 *   close), and after a read that brought several messages, the replies are batched into one
 *   `writev` per socket buffer's worth (16 KiB by default);
 * - flow control both ways: reading stops for as long as any reason to stop holds (a full
 *   inbox, a frame too large to read ahead, a receive side shut down) and the peer is slowed
 *   down by TCP; when the socket stops taking bytes, the core is told (automatic pongs then
 *   wait, bounded) and `drained()` waits for it to take them again;
 * - the timers: the close timer (armed whenever the core says the close is expected; it drops
 *   TCP when the peer takes too long) and the idle timer (any byte received counts);
 * - the close outcome stays the core's (`connection.closeStatus`); the channel only reports
 *   that the socket closed.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Connection, ConnectionEvent } from '../protocol/connection.js';
import type { BinaryData } from '../protocol/frame.js';
import { withFlag } from '../protocol/bit-flags.js';
import { unguardSocket } from './guard.js';
import { overBudget } from './turn-budget.js';

/** Why reading is stopped; reading goes on only when none holds. */
export const ReadPause = {
  /** The received items waiting for the application are over their byte budget. */
  INBOX_FULL: 1,
  /** A frame announced more bytes than may be read ahead of the application (POCO facade). */
  LARGE_FRAME: 2,
  /** The application shut the receive side down. */
  SHUT_DOWN: 4,
  /** A read waits for a later turn of the event loop (see `turn-budget.ts`). */
  BACKLOG: 8,
} as const;

/** Stopping and resuming reads, for one reason at a time. */
export interface ReadFlow {
  pauseReading(reason: number): void;
  resumeReading(reason: number): void;
}

/**
 * What a channel tells the facade that holds it. Notifications only: the state they announce is
 * the channel's (`ended`, `error`, `closed`, `congested`) or the core's, read from there.
 */
export interface ChannelHandler {
  /** Events from the core, in order: after each read, and for the bytes given to the constructor. */
  onChannelEvents(events: ConnectionEvent[]): void;
  /** The socket closed: nothing more happens, and the core's `closeStatus` is final. */
  onChannelClosed(): void;
  /** The peer ended its side of the stream (`ended`); the core has seen the EOF. */
  onChannelEnd?(): void;
  /** The socket failed (`error`: reset, TLS alert...); `onChannelClosed` follows. */
  onChannelError?(): void;
  /** The socket takes bytes again after it was congested. */
  onChannelDrain?(): void;
  /** Nothing was received for `idleTimeout` ms. */
  onChannelIdle?(): void;
  /**
   * After each read, whatever it brought: the header of a large frame alone makes no event, yet
   * the POCO facade decides on it whether to read the payload.
   */
  onChannelRead?(): void;
  /**
   * Before each read reaches the core: how many bytes it brought. The POCO facade counts them
   * for `available()` (raw bytes received and not yet received as frames, as POCO's counts).
   */
  onChannelBytes?(byteLength: number): void;
}

export interface ChannelOptions {
  /** Bytes read past the HTTP head: the first frames, if the peer sent them at once. */
  readonly head?: Uint8Array;
  /** How long the closing handshake may take before TCP is dropped, ms (0: no limit). */
  readonly closeTimeout?: number;
  /** Report a connection that received no byte for this many ms (0: never). */
  readonly idleTimeout?: number;
  /**
   * After the peer broke the protocol, send the failure's close frame one turn of the event loop
   * later, so that replies the application makes at once to the messages that came before the
   * violation still go out first (the core must run with `closeOnError: false`).
   */
  readonly deferFailureClose?: boolean;
  /**
   * Reads are costly to process (permessage-deflate): once a turn of the event loop has spent
   * its budget, a read waits for a later turn, with the socket paused (see `turn-budget.ts`).
   */
  readonly budgeted?: boolean;
}

/** Where a socket keeps its channel, so that one set of listener functions serves all. */
const CHANNEL = Symbol('wsnet.channel');
type ChannelSocket = Duplex & { [CHANNEL]?: Channel<Duplex> };

/**
 * The most a write batch (see `Channel.batchWrites`) holds before it goes out: one read's worth
 * (a socket reads up to 64 KiB at a time), so that the echoes of a read full of pipelined
 * messages leave in one `writev`. It was the socket's high-water mark (16 KiB): a 40 KiB read
 * of 1 KiB messages then took three writes, and 10 connections with 32 messages in flight
 * echoed 1.5-1.8x fewer messages per second (bench: `messages`, the C load generator).
 */
const BATCH_LIMIT = 64 * 1024;
/** The bits of a {@link Channel}'s `#flags`. */
const ChannelFlag = {
  DEFER_FAILURE_CLOSE: 1,
  BUDGETED: 2,
  END_AFTER_BACKLOG: 4,
  STARTED: 8,
  CLOSED: 16,
  PEER_ENDED: 32,
  ENDED: 64,
  CORKED: 128,
  CONGESTED: 256,
} as const;

interface DrainWait {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class Channel<S extends Duplex = Socket> implements ReadFlow {
  readonly socket: S;
  readonly connection: Connection;
  readonly #handler: ChannelHandler;
  #head: Uint8Array | undefined;
  readonly #closeTimeout: number;
  readonly #idleTimeout: number;
  /** Reads kept for a later turn, oldest first (budgeted channels only). */
  #backlog: Uint8Array[] | null = null;
  /**
   * The boolean state, one bit each (`ChannelFlag`): nine fields of their own were 64 bytes of
   * each idle connection's heap (bench/README.md, issue 12). Read and written through the
   * accessors below, as fields would be.
   */
  #flags = 0;
  /** The first error of the socket. */
  #error: Error | undefined;
  /** The reasons reading is stopped for (`ReadPause` bits). */
  #paused = 0;
  #drain: DrainWait | null = null;
  #closeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  get #deferFailureClose(): boolean {
    return (this.#flags & ChannelFlag.DEFER_FAILURE_CLOSE) !== 0;
  }
  set #deferFailureClose(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.DEFER_FAILURE_CLOSE, on);
  }

  get #budgeted(): boolean {
    return (this.#flags & ChannelFlag.BUDGETED) !== 0;
  }
  set #budgeted(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.BUDGETED, on);
  }

  /** The peer's end of stream came while reads were kept: it follows them. */
  get #endAfterBacklog(): boolean {
    return (this.#flags & ChannelFlag.END_AFTER_BACKLOG) !== 0;
  }
  set #endAfterBacklog(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.END_AFTER_BACKLOG, on);
  }

  get #started(): boolean {
    return (this.#flags & ChannelFlag.STARTED) !== 0;
  }
  set #started(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.STARTED, on);
  }

  get #closed(): boolean {
    return (this.#flags & ChannelFlag.CLOSED) !== 0;
  }
  set #closed(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.CLOSED, on);
  }

  /** The peer's end of stream was read. */
  get #peerEnded(): boolean {
    return (this.#flags & ChannelFlag.PEER_ENDED) !== 0;
  }
  set #peerEnded(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.PEER_ENDED, on);
  }

  /** Our write side was ended. */
  get #ended(): boolean {
    return (this.#flags & ChannelFlag.ENDED) !== 0;
  }
  set #ended(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.ENDED, on);
  }

  get #corked(): boolean {
    return (this.#flags & ChannelFlag.CORKED) !== 0;
  }
  set #corked(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.CORKED, on);
  }

  get #congested(): boolean {
    return (this.#flags & ChannelFlag.CONGESTED) !== 0;
  }
  set #congested(on: boolean) {
    this.#flags = withFlag(this.#flags, ChannelFlag.CONGESTED, on);
  }

  // The socket's listeners are shared functions that find their channel on the socket: a
  // closure each per connection would be a few hundred bytes on every one of thousands of idle
  // connections.
  static #onData(this: ChannelSocket, chunk: Buffer): void {
    const channel = this[CHANNEL]!;
    if (channel.#budgeted && (channel.#backlog !== null || overBudget())) channel.#keep(chunk);
    else channel.#receive(chunk);
  }
  static #onEnd(this: ChannelSocket): void {
    const channel = this[CHANNEL]!;
    if (channel.#backlog !== null) channel.#endAfterBacklog = true;
    else channel.#end();
  }
  static #onError(this: ChannelSocket, error: Error): void {
    const channel = this[CHANNEL]!;
    channel.#error ??= error;
    channel.#handler.onChannelError?.();
    // A TLS socket that fails after its handshake (garbage or a bad record in the stream) only
    // emits 'error': Node leaves it open, and it would never close nor read again, keeping the
    // connection (and its file descriptor) forever. Nothing more can pass on a failed socket:
    // destroy it, so that 'close' follows as it does after a TCP error (test/faults/).
    if (!this.destroyed) this.destroy();
  }
  static #onDrain(this: ChannelSocket): void {
    this[CHANNEL]!.#drained();
  }
  static #onClose(this: ChannelSocket): void {
    this[CHANNEL]!.#close();
  }
  /**
   * Channels whose write batch is open this turn (see `batchWrites`). A channel whose batch
   * ended early (`flush` at BATCH_LIMIT, `close`) and opened again is listed twice: ending a
   * batch that is not open does nothing.
   */
  static #batches: Channel<Duplex>[] = [];
  static #endBatches(): void {
    const batches = Channel.#batches;
    Channel.#batches = [];
    for (const channel of batches) if (channel.#corked) Channel.#uncork(channel);
  }
  static #uncork(channel: Channel<Duplex>): void {
    channel.#corked = false;
    if (!channel.socket.destroyed) channel.socket.uncork();
  }
  static #closeAfterFailure(channel: Channel<Duplex>): void {
    if (channel.#closed) return;
    channel.connection.closeAfterFailure();
    channel.flush();
  }
  static #closeTimedOut(channel: Channel<Duplex>): void {
    channel.#closeTimer = undefined;
    channel.destroy();
  }
  /** Processes one kept read, if this turn has budget left; else waits for the next turn. */
  static #runBacklog(channel: Channel<Duplex>): void {
    const backlog = channel.#backlog;
    if (backlog === null || channel.#closed) return;
    if (overBudget()) {
      setImmediate(Channel.#runBacklog, channel);
      return;
    }
    channel.#receive(backlog.shift()!);
    if (backlog.length > 0) {
      setImmediate(Channel.#runBacklog, channel);
      return;
    }
    channel.#backlog = null;
    channel.resumeReading(ReadPause.BACKLOG);
    if (channel.#endAfterBacklog) {
      channel.#endAfterBacklog = false;
      channel.#end();
    }
  }
  static #idle(channel: Channel<Duplex>): void {
    channel.#idleTimer = undefined;
    if (!channel.#closed) channel.#handler.onChannelIdle?.();
  }

  /** Nothing happens until `start()`: the facade finishes setting itself up first. */
  constructor(
    socket: S,
    connection: Connection,
    handler: ChannelHandler,
    options: ChannelOptions = {},
  ) {
    this.socket = socket;
    this.connection = connection;
    this.#handler = handler;
    this.#head = options.head;
    this.#closeTimeout = options.closeTimeout ?? 0;
    this.#idleTimeout = options.idleTimeout ?? 0;
    this.#deferFailureClose = options.deferFailureClose ?? false;
    this.#budgeted = options.budgeted ?? false;
  }

  /**
   * Feeds the bytes that came with the handshake to the core (their events reach the handler
   * now, synchronously) and starts reading the socket.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const socket = this.socket as ChannelSocket;
    socket[CHANNEL] = this;
    socket.on('data', Channel.#onData);
    socket.on('end', Channel.#onEnd);
    socket.on('error', Channel.#onError);
    socket.on('drain', Channel.#onDrain);
    socket.on('close', Channel.#onClose);
    unguardSocket(socket); // this channel's listener handles the errors from now on
    const head = this.#head;
    this.#head = undefined;
    if (head !== undefined && head.length > 0) this.#receive(head);
    else this.#touchIdle();
    if (socket.destroyed) queueMicrotask(() => this.#close());
    // The 'data' listener set a socket nobody had paused flowing: a reason to stop set before
    // start() must hold from the first byte.
    else if (this.#paused === 0) socket.resume();
    else socket.pause();
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once nothing more can be read: the peer ended its side, or the socket closed. */
  get ended(): boolean {
    return this.#peerEnded || this.#closed;
  }

  /** The first error of the socket (a reset, a TLS alert...), if it failed. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** True while reading is stopped, for whatever reason. */
  get readingPaused(): boolean {
    return this.#paused !== 0;
  }

  /**
   * True while bytes over the socket's high-water mark wait in its write buffer because the
   * kernel did not take them (see {@link backlogOver}).
   */
  get congested(): boolean {
    return this.backlogOver(this.socket.writableHighWaterMark - 1);
  }

  /**
   * True while more than `limit` bytes the kernel did not take wait in the socket's write buffer.
   * Not just `writableNeedDrain`: that stays set until the 'drain' of the next tick even when the
   * kernel took everything at once, and a write the kernel took is no reason to hold the next
   * one. Bytes held by a write batch (see `batchWrites`) do not count either: the kernel has not
   * been offered them yet, and a batch starts only on an empty write buffer, so while it lasts
   * every byte in the buffer is the batch's.
   */
  backlogOver(limit: number): boolean {
    const socket = this.socket;
    return !this.#corked && socket.writableNeedDrain && socket.writableLength > limit;
  }

  // --- Sending: each queues frames in the core and writes them; false if the socket is congested ---

  /** `compress`: see `Connection.sendBinary`. */
  sendText(data: string | BinaryData, fin = true, compress?: boolean): boolean {
    this.connection.sendText(data, fin, compress);
    return this.flush();
  }

  sendBinary(data: BinaryData, fin = true, compress?: boolean): boolean {
    this.connection.sendBinary(data, fin, compress);
    return this.flush();
  }

  sendContinuation(data: string | BinaryData, fin: boolean): boolean {
    this.connection.sendContinuation(data, fin);
    return this.flush();
  }

  sendPing(data?: string | BinaryData): boolean {
    this.connection.sendPing(data);
    return this.flush();
  }

  sendPong(data?: string | BinaryData): boolean {
    this.connection.sendPong(data);
    return this.flush();
  }

  sendClose(code?: number, reason?: string): boolean {
    this.connection.sendClose(code, reason);
    return this.flush();
  }

  /** A whole message encoded already, shared with other connections (see `Connection.sendEncoded`). */
  sendEncoded(frame: readonly Buffer[]): boolean {
    this.connection.sendEncoded(frame);
    return this.flush();
  }

  /** One frame exactly as given (POCO's `sendFrame`). */
  sendFrame(flags: number, payload: BinaryData): boolean {
    this.connection.sendFrame(flags, payload);
    return this.flush();
  }

  /** Fails the connection (RFC 6455 §7.1.7) with `code`; see `Connection.fail`. */
  fail(code: number, reason = ''): void {
    this.connection.fail(code, reason);
    this.flush();
  }

  /**
   * Writes what the core has to send, ends the output if the core says so, and arms the close
   * timer if the core expects the close. Returns false if the socket's buffer is over its mark.
   */
  flush(): boolean {
    const socket = this.socket;
    const core = this.connection;
    const outgoing = core.takeOutgoing();
    if (outgoing.length > 0 && !this.#closed && socket.writable) {
      if (outgoing.length === 1) {
        socket.write(outgoing[0]);
      } else {
        socket.cork();
        for (const buffer of outgoing) socket.write(buffer);
        socket.uncork();
      }
    }
    if (core.outputEnded && !this.#ended) this.endOutput();
    if (core.closeExpected()) this.expectClose();
    // A batch (see batchWrites) of BATCH_LIMIT bytes goes out now, in one writev, and the rest
    // of this turn's replies start the next batch, unless the kernel did not take it all: then
    // the socket is congested, and its stream batches what follows by itself.
    if (this.#corked && socket.writableLength >= BATCH_LIMIT) {
      socket.uncork();
      if (socket.writableLength === 0) socket.cork();
      else this.#corked = false;
    }
    const congested = this.congested;
    if (congested && !this.#congested) {
      this.#congested = true;
      core.setTransportCongested(true);
    }
    return !congested;
  }

  /** Resolves once the socket takes bytes again; rejects if it closes first. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    if (this.#closed)
      return Promise.reject(new Error('the socket closed before its write buffer drained'));
    if (this.#drain === null) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      promise.catch(() => undefined); // a wait nobody awaits any more is not an unhandled rejection
      this.#drain = { promise, resolve, reject };
    }
    return this.#drain.promise;
  }

  // --- Reading ---

  pauseReading(reason: number): void {
    const was = this.#paused;
    this.#paused |= reason;
    if (was === 0 && this.#paused !== 0 && this.#started) this.socket.pause();
  }

  resumeReading(reason: number): void {
    if ((this.#paused & reason) === 0) return;
    this.#paused &= ~reason;
    if (this.#paused === 0 && this.#started && !this.#closed) this.socket.resume();
  }

  // --- Closing ---

  /** Arms the close timer (once), if there is a close timeout: the close is under way. */
  expectClose(): void {
    if (this.#closeTimer !== undefined || this.#closed || this.#closeTimeout <= 0) return;
    this.#closeTimer = setTimeout(Channel.#closeTimedOut, this.#closeTimeout, this);
  }

  /** Ends the write side (TCP FIN, or TLS close_notify then FIN). */
  endOutput(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#closed) this.socket.end();
  }

  /** Drops the connection at once: what is still buffered in user space is not sent. */
  destroy(): void {
    if (!this.#closed) this.socket.destroy();
  }

  /** Drops the connection with a TCP RST, discarding everything (POCO's linger 0). */
  terminate(): void {
    if (this.#closed) return;
    const socket = this.socket as Partial<Pick<Socket, 'resetAndDestroy'>> & Duplex;
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  }

  /**
   * Closes the connection as closing a socket does: what was written still goes out (the kernel
   * sends what a closed socket had queued), then FIN; a peer that does not take it within
   * `lingerMs` is dropped.
   */
  close(lingerMs: number): void {
    if (this.#closed) return;
    const socket = this.socket;
    if (this.#corked) Channel.#uncork(this); // batched writes go out now
    if (socket.writableLength === 0 || !socket.writable) {
      socket.destroy();
      return;
    }
    this.pauseReading(ReadPause.SHUT_DOWN);
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end(() => socket.destroy());
  }

  // --- Internals ---

  /** Keeps a read for a later turn of the event loop; the socket stops reading meanwhile. */
  #keep(chunk: Uint8Array): void {
    if (this.#backlog !== null) {
      this.#backlog.push(chunk); // a read already on its way when the socket was paused
      return;
    }
    this.#backlog = [chunk];
    this.pauseReading(ReadPause.BACKLOG);
    setImmediate(Channel.#runBacklog, this);
  }

  /** The one path of every received byte. */
  #receive(chunk: Uint8Array): void {
    this.#touchIdle();
    this.#handler.onChannelBytes?.(chunk.length);
    const core = this.connection;
    core.receiveData(chunk);
    const events = core.takeEvents();
    // A read that brought several messages will get several replies, from the application's
    // code in later microtasks: batch them. A read with one message (the lock-step case) gets
    // its reply written at once, without the detour.
    if (events.length > 1) this.batchWrites();
    if (events.length > 0) this.#deliver(events);
    this.#handler.onChannelRead?.();
    this.flush();
  }

  #deliver(events: ConnectionEvent[]): void {
    // A failure is the last event of its batch (the core reads nothing after it): one look at
    // the end, not a second pass over every read's events.
    if (this.#deferFailureClose && events[events.length - 1].type === 'failure')
      setImmediate(Channel.#closeAfterFailure, this);
    this.#handler.onChannelEvents(events);
  }

  /**
   * Holds writes until the end of this turn of the event loop, then sends them in one `writev`:
   * a read that brings 16 pipelined messages gets its 16 echoes in one system call, not 16.
   * A batch of BATCH_LIMIT bytes goes out at once (see `flush`). Also for a facade that has
   * several sends to make at once (those a drain released). Nothing to do while the buffer holds
   * bytes: a write is under way, and the socket's stream sends what follows in one `writev` when
   * it completes. Also for a topic's publishes (several in one turn reach a subscriber in one
   * `writev`). One `setImmediate` ends every batch of the turn, not one per connection: a publish
   * to 10,000 subscribers opens 10,000 batches.
   */
  batchWrites(): void {
    if (this.#corked || this.socket.writableLength > 0) return;
    this.#corked = true;
    this.socket.cork();
    if (Channel.#batches.push(this) === 1) setImmediate(Channel.#endBatches);
  }

  #end(): void {
    this.#peerEnded = true;
    this.connection.receiveEof();
    const events = this.connection.takeEvents();
    if (events.length > 0) this.#deliver(events);
    this.flush();
    this.expectClose(); // half closed: the rest of the close is bounded too
    this.#handler.onChannelEnd?.();
  }

  #drained(): void {
    if (this.#congested) {
      this.#congested = false;
      this.connection.setTransportCongested(false); // the pong owed, if any, goes out now
      this.flush();
    }
    const drain = this.#drain;
    this.#drain = null;
    drain?.resolve();
    this.#handler.onChannelDrain?.();
  }

  #close(): void {
    if (this.#closed) return;
    // Reads kept for a later turn came before the close: they are processed first.
    const backlog = this.#backlog;
    this.#backlog = null;
    for (const chunk of backlog ?? []) this.#receive(chunk);
    if (this.#endAfterBacklog) {
      this.#endAfterBacklog = false;
      this.#end();
    }
    this.#closed = true;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#idleTimer);
    const core = this.connection;
    // A socket can close without an orderly end (reset, destroy): the core sees an EOF either
    // way, so that its state is CLOSED and a frame cut short is reported.
    core.receiveEof();
    const events = core.takeEvents();
    core.takeOutgoing();
    if (events.length > 0) this.#handler.onChannelEvents(events);
    const drain = this.#drain;
    this.#drain = null;
    drain?.reject(new Error('the socket closed before its write buffer drained'));
    this.#handler.onChannelClosed();
  }

  #touchIdle(): void {
    if (this.#idleTimeout <= 0 || this.#closed) return;
    if (this.#idleTimer === undefined)
      this.#idleTimer = setTimeout(Channel.#idle, this.#idleTimeout, this);
    else this.#idleTimer.refresh();
  }
}
