/**
 * Message-API echo servers on loopback, for tests: each echoes every message as it came (for
 * await, awaited sends) and is closed by `closeAll()` (from the file's `after` hook), with any
 * other server given to `track()`.
 */
import {
  WebSocketServer,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';

export async function echo(connection: WebSocketConnection): Promise<void> {
  try {
    for await (const message of connection) await connection.send(message);
  } catch {
    // closed abnormally: nothing more to echo
  }
}

export class EchoServers {
  readonly #servers: WebSocketServer[] = [];

  async start(options: Partial<ServerOptions> = {}): Promise<WebSocketServer> {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
    this.#servers.push(server);
    server.on('connection', (connection) => void echo(connection));
    return server;
  }

  /** Closes `server` with the others (a server the test set up itself). */
  track(server: WebSocketServer): WebSocketServer {
    this.#servers.push(server);
    return server;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map((server) => server.close()));
  }
}
