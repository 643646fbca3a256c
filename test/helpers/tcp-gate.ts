/**
 * A TCP forwarder on 127.0.0.1 that a test opens and shuts: while open it relays each connection
 * to the target port; while shut it resets every connection it accepts (the peer sees a server
 * that drops it), and shutting cuts the connections relayed so far. For tests that need one
 * client to reach a server later than another (a reconnect made to happen in a chosen order).
 */
import net from 'node:net';

export class TcpGate {
  readonly #server: net.Server;
  readonly #targetPort: number;
  readonly #sockets = new Set<net.Socket>();
  #open = true;

  private constructor(server: net.Server, targetPort: number) {
    this.#server = server;
    this.#targetPort = targetPort;
    server.on('connection', (client) => this.#relay(client));
  }

  static async start(targetPort: number): Promise<TcpGate> {
    const server = net.createServer();
    const gate = new TcpGate(server, targetPort);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return gate;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  #relay(client: net.Socket): void {
    if (!this.#open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: this.#targetPort });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        to.destroy();
      });
      from.pipe(to);
    }
  }

  open(): void {
    this.#open = true;
  }

  /** Refuses new connections and cuts the current ones. */
  shut(): void {
    this.#open = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.shut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
