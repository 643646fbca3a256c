/**
 * Binds a protocol `Connection` to a Node.js socket (`net.Socket` or `tls.TLSSocket`): the only
 * place where WebSocket bytes meet a real transport.
 *
 * Read side: each chunk goes to `connection.receiveData`, the events come out to the handler,
 * and whatever the connection wants to send in reply (pongs, close replies) is flushed at once.
 * `pauseReading()`/`resumeReading()` let the layer above apply backpressure: a paused socket
 * stops reading, the kernel's receive window fills, and TCP slows the peer down.
 *
 * Write side: `flush()` writes the connection's outgoing buffers under one cork (one `writev`),
 * ends the socket when the connection says so, and reports whether Node's write buffer is over
 * its limit; `drained()` waits until it is not.
 */
import type { Socket } from 'node:net';
import { ReadyState, type Connection, type ConnectionEvent } from '../protocol/connection.js';

export interface TransportHandler {
  /** Events from the connection, in order, after each chunk of input. */
  events(events: ConnectionEvent[]): void;
  /** The peer ended its side of the stream; the connection has seen the EOF. */
  end(): void;
  /** The socket failed (reset, TLS alert...). `closed` follows. */
  error(error: Error): void;
  /** The socket is closed; nothing more will happen. */
  closed(): void;
}

export class Transport {
  readonly socket: Socket;
  readonly connection: Connection;
  #handler: TransportHandler;
  #closed = false;
  #ended = false;
  #drain: Promise<void> | null = null;

  constructor(socket: Socket, connection: Connection, handler: TransportHandler) {
    this.socket = socket;
    this.connection = connection;
    this.#handler = handler;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error) => this.#handler.error(error));
    socket.on('close', () => this.#onClose());
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
    if (events.length > 0) this.#handler.events(events);
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

  /** Closes the socket at once; `reset` sends an RST instead of a FIN (linger 0). */
  destroy(reset = false): void {
    if (this.#closed) return;
    if (reset && typeof this.socket.resetAndDestroy === 'function' && !this.socket.destroyed)
      this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.connection.receiveData(chunk);
    this.dispatch();
  }

  #onEnd(): void {
    this.connection.receiveEof();
    this.dispatch();
    this.#handler.end();
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
      if (events.length > 0) this.#handler.events(events);
    }
    this.#handler.closed();
  }
}
