/**
 * Binds a protocol `Connection` to a Node.js socket (`net.Socket` or `tls.TLSSocket`): the only
 * place where WebSocket bytes meet a real transport.
 *
 * Read side: each chunk goes to `connection.receiveData`, the events come out to the handler,
 * and whatever the connection wants to send in reply (pongs, close replies) is flushed at once.
 * `pauseReading()`/`resumeReading()` let the layer above apply backpressure: a paused socket
 * stops reading, the kernel's receive window fills, and TCP slows the peer down.
 *
 * Write side: `flush()` writes the connection's outgoing buffers, ends the socket when the
 * connection says so, and reports whether Node's write buffer is over its limit; `drained()`
 * waits until it is not. After a read that brought several messages, writes are corked until
 * the end of the event loop's turn, so that the replies leave in one `writev`.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadyState, type Connection, type ConnectionEvent } from '../protocol/connection.js';

/** How long a closed socket may take to deliver what was written before it is dropped. */
export const CLOSE_LINGER_MS = 10_000;

/** What a transport reports to the layer above (implemented by it, without closures). */
export interface TransportHandler {
  /** Events from the connection, in order, after each chunk of input. */
  onTransportEvents(events: ConnectionEvent[]): void;
  /** The peer ended its side of the stream; the connection has seen the EOF. */
  onTransportEnd(): void;
  /** The socket failed (reset, TLS alert...). `onTransportClosed` follows. */
  onTransportError(error: Error): void;
  /** The socket is closed; nothing more will happen. */
  onTransportClosed(): void;
}

/** Where a socket keeps its transport, so that one set of listener functions serves all. */
const TRANSPORT = Symbol('wsnet.transport');
type TransportSocket = Duplex & { [TRANSPORT]?: Transport<Duplex> };

/**
 * `S` is a `net.Socket` (or `tls.TLSSocket`) in real use; any `Duplex` works, which is how the
 * message API is tested over an in-memory pair.
 */
export class Transport<S extends Duplex = Socket> {
  readonly socket: S;
  readonly connection: Connection;
  #handler: TransportHandler;
  #closed = false;
  #ended = false;
  #drain: Promise<void> | null = null;
  #corked = false;

  // The socket's listeners are shared functions that find their transport on the socket: four
  // closures per connection would be a few hundred bytes each of thousands of idle connections.
  static #data(this: TransportSocket, chunk: Buffer): void {
    this[TRANSPORT]!.#onData(chunk);
  }
  static #end(this: TransportSocket): void {
    this[TRANSPORT]!.#onEnd();
  }
  static #error(this: TransportSocket, error: Error): void {
    this[TRANSPORT]!.#handler.onTransportError(error);
  }
  static #close(this: TransportSocket): void {
    this[TRANSPORT]!.#onClose();
  }
  static #uncork(transport: Transport<Duplex>): void {
    transport.#corked = false;
    if (!transport.socket.destroyed) transport.socket.uncork();
  }

  constructor(socket: S, connection: Connection, handler: TransportHandler) {
    this.socket = socket;
    this.connection = connection;
    this.#handler = handler;
    (socket as TransportSocket)[TRANSPORT] = this;
    socket.on('data', Transport.#data);
    socket.on('end', Transport.#end);
    socket.on('error', Transport.#error);
    socket.on('close', Transport.#close);
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Delivers the events the connection already holds (e.g. from bytes that arrived with the
   * handshake) and writes what it has to send.
   */
  dispatch(): void {
    const events = this.connection.takeEvents();
    if (events.length > 0) this.#handler.onTransportEvents(events);
    this.flush();
  }

  /**
   * Writes the connection's outgoing bytes and, if the connection says so, ends the socket's
   * write side. Returns false if Node's write buffer is over its high-water mark.
   */
  flush(): boolean {
    const socket = this.socket;
    const outgoing = this.connection.takeOutgoing();
    if (outgoing.length > 0 && !this.#closed && socket.writable) {
      if (outgoing.length === 1) {
        socket.write(outgoing[0]);
      } else {
        socket.cork();
        for (const buffer of outgoing) socket.write(buffer);
        socket.uncork();
      }
    }
    if (this.connection.outputEnded && !this.#ended) this.endOutput();
    return !socket.writableNeedDrain;
  }

  /** Ends the write side (TCP FIN, or TLS close_notify then FIN). */
  endOutput(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#closed) this.socket.end();
  }

  /** Resolves once Node's write buffer has drained; rejects if the socket closes first. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        this.#drain = null;
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('the socket closed before its write buffer drained'));
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
    return this.#drain;
  }

  /** Stops reading from the socket (backpressure towards the peer). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.#closed) this.socket.resume();
  }

  /**
   * Closes the connection. What was written already still goes out (as the kernel sends what a
   * closed socket had queued), then FIN; if the peer will not take it within
   * {@link CLOSE_LINGER_MS}, the socket is dropped. `reset` drops everything and sends an RST
   * (POCO's linger 0).
   */
  destroy(reset = false): void {
    if (this.#closed) return;
    const socket = this.socket;
    if (reset) {
      const resettable = socket as Partial<Pick<Socket, 'resetAndDestroy'>>;
      if (typeof resettable.resetAndDestroy === 'function' && !socket.destroyed)
        resettable.resetAndDestroy.call(socket);
      else socket.destroy();
      return;
    }
    if (this.#corked) Transport.#uncork(this); // batched writes go to the kernel now
    if (socket.writableLength === 0 || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.pause();
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end(() => socket.destroy());
  }

  /**
   * Holds writes until the end of this turn of the event loop, then sends them in one `writev`:
   * a read that brings 16 pipelined messages gets its 16 echoes in one system call, not 16.
   */
  #batchWrites(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    setImmediate(Transport.#uncork, this);
  }

  #onData(chunk: Buffer): void {
    this.connection.receiveData(chunk);
    const events = this.connection.takeEvents();
    // A read that brought several messages will get several replies, from the application's
    // code in later microtasks: batch them. A read with one message (the lock-step case) gets
    // its reply written at once, without the detour.
    if (events.length > 1) this.#batchWrites();
    if (events.length > 0) this.#handler.onTransportEvents(events);
    this.flush();
  }

  #onEnd(): void {
    this.connection.receiveEof();
    this.dispatch();
    this.#handler.onTransportEnd();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A socket can close without an orderly end (reset, destroy): the connection sees an EOF
    // either way, so that its state is CLOSED and a frame cut short is reported.
    if (!this.#ended && this.connection.state !== ReadyState.CLOSED) {
      this.connection.receiveEof();
      const events = this.connection.takeEvents();
      this.connection.takeOutgoing();
      if (events.length > 0) this.#handler.onTransportEvents(events);
    }
    this.#handler.onTransportClosed();
  }
}
