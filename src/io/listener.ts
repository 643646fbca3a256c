/**
 * A bound, listening TCP or TLS server socket that queues the connections it accepts until a
 * consumer takes them: POCO binds in `ServerSocket`'s constructor and accepts once a server
 * starts, so the port is known before anything serves it.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ListenOptions {
  host: string;
  port: number;
  backlog: number;
  /** TLS server options; plain TCP without them. */
  tls?: tls.TlsOptions;
}

export type ConnectionConsumer = (socket: net.Socket) => void;

export class Listener {
  readonly server: net.Server;
  #queue: net.Socket[] = [];
  #consumer: ConnectionConsumer | null = null;
  #closed = false;

  private constructor(server: net.Server) {
    this.server = server;
  }

  /** Binds and listens; resolves once the port is known. */
  static async listen(options: ListenOptions): Promise<Listener> {
    // Half-open connections are the WebSocket layer's to end (a peer's FIN is an event, not an
    // order to close); Nagle is off as on every POCO server socket.
    const common = { allowHalfOpen: true, noDelay: true, pauseOnConnect: false };
    const server =
      options.tls === undefined
        ? net.createServer(common)
        : tls.createServer({ ...common, ...options.tls });
    const listener = new Listener(server);
    const event = options.tls === undefined ? 'connection' : 'secureConnection';
    server.on(event, (socket: net.Socket) => listener.#accept(socket));
    // A failed TLS handshake never reaches the queue; the socket is already gone.
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
        server.off('error', reject);
        // From now on the only errors are failed accepts (EMFILE when the process is out of
        // descriptors: a peer can cause that by opening connections). POCO's TCPServer hands them
        // to its ErrorHandler and keeps accepting; here they must not crash the process either.
        server.on('error', () => undefined);
        resolve();
      });
    });
    return listener;
  }

  /** The bound address. */
  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Sockets accepted and not yet taken. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Hands every queued and future connection to `consumer`. */
  consume(consumer: ConnectionConsumer): void {
    this.#consumer = consumer;
    const queued = this.#queue;
    this.#queue = [];
    for (const socket of queued) {
      if (!socket.destroyed) consumer(socket);
    }
  }

  /** Stops handing connections over; later ones wait in the queue again. */
  pause(): void {
    this.#consumer = null;
  }

  /** Stops listening. Queued connections are closed; taken ones are left alone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer = null;
    this.server.close();
    for (const socket of this.#queue) socket.destroy();
    this.#queue = [];
  }

  get closed(): boolean {
    return this.#closed;
  }

  #accept(socket: net.Socket): void {
    if (this.#consumer !== null) {
      this.#consumer(socket);
      return;
    }
    socket.on('error', () => undefined); // a reset while queued must not crash the process
    this.#queue.push(socket);
    socket.once('close', () => {
      const index = this.#queue.indexOf(socket);
      if (index !== -1) this.#queue.splice(index, 1);
    });
  }
}
