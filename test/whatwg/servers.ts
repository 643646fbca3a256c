/**
 * The servers the scenarios (scenarios.ts) run against, on loopback: wsnet's WebSocketServer
 * and ws's, each with the same two paths: /echo echoes every message as it came (text as text,
 * binary as binary) and picks the first offered of the subprotocols 'chat' and 'superchat';
 * /close closes at once with 4001 and a reason.
 */
import net from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/messages/index.js';
import { echo } from '../helpers/echo-servers.js';

/** The close the /close path sends. */
export const SERVER_CLOSE = { code: 4001, reason: 'going away now' } as const;

const PROTOCOLS = ['chat', 'superchat'];

export interface ScenarioServer {
  readonly name: string;
  /** `ws://127.0.0.1:port` */
  readonly base: string;
  close(): Promise<void>;
}

export async function wsnetScenarioServer(): Promise<ScenarioServer> {
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', protocols: PROTOCOLS });
  server.on('connection', (connection, request) => {
    if (request.url === '/close') void connection.close(SERVER_CLOSE.code, SERVER_CLOSE.reason);
    else void echo(connection);
  });
  return {
    name: "wsnet's WebSocketServer",
    base: `ws://127.0.0.1:${server.address().port}`,
    close: () => server.close(),
  };
}

export async function wsScenarioServer(): Promise<ScenarioServer> {
  const server = new WsServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (offered) => [...offered].find((p) => PROTOCOLS.includes(p)) ?? false,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('connection', (socket, request) => {
    if (request.url === '/close') {
      socket.close(SERVER_CLOSE.code, SERVER_CLOSE.reason);
      return;
    }
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    name: "ws's WebSocketServer",
    base: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** A `ws://` URL on a loopback port where nothing listens (it was listened on, then closed). */
export async function refusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `ws://127.0.0.1:${port}/`;
}
