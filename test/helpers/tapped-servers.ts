/**
 * wsnet message servers with permessage-deflate on 127.0.0.1, each behind a frame tap
 * (frame-tap.ts), for the compression interop tests. None echoes by itself: the test takes each
 * connection from the queue and echoes in the form it checks.
 */
import { WebSocketServer, type PerMessageDeflateOptions } from '../../src/index.js';
import { EchoServers } from './echo-servers.js';
import { startFrameTap, type FrameTap } from './frame-tap.js';
import { ConnectionQueue } from './interop.js';

export interface TappedServer {
  readonly server: WebSocketServer;
  readonly tap: FrameTap;
  readonly connections: ConnectionQueue;
}

export class TappedServers {
  /** Only for closing the servers: they are tracked, not started, there. */
  readonly #servers = new EchoServers();
  readonly #taps: FrameTap[] = [];
  readonly #shared = new Map<string, Promise<TappedServer>>();

  async start(deflate: true | PerMessageDeflateOptions): Promise<TappedServer> {
    const server = this.#servers.track(
      await WebSocketServer.listen({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate }),
    );
    const connections = new ConnectionQueue(server);
    const tap = await startFrameTap(server.address().port);
    this.#taps.push(tap);
    return { server, tap, connections };
  }

  /** A server started with these options on first use, and the same one after that. */
  shared(deflate: PerMessageDeflateOptions): Promise<TappedServer> {
    const key = JSON.stringify(deflate);
    let found = this.#shared.get(key);
    if (found === undefined) {
      found = this.start(deflate);
      this.#shared.set(key, found);
    }
    return found;
  }

  /** The steps of the file's tearDown(): the servers, then the taps. */
  closing(): Array<readonly [string, () => Promise<void>]> {
    return [
      ['closing the servers', () => this.#servers.closeAll()],
      [
        'closing the taps',
        async () => {
          for (const tap of this.#taps.splice(0)) await tap.close();
        },
      ],
    ];
  }
}
