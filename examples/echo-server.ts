/**
 * A message-API echo server: every message comes back as it came (text as text, binary as
 * binary). What the conformance harness (Autobahn's fuzzingclient) and the benchmarks test.
 *
 *   node build/examples/echo-server.js [--port 9001] [--host 127.0.0.1]
 */
import { WebSocketServer, type WebSocketConnection } from '../src/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

async function echo(connection: WebSocketConnection): Promise<void> {
  try {
    for await (const message of connection) await connection.send(message);
  } catch {
    // The peer broke the protocol or vanished: the connection is closed, nothing to do.
  }
}

export async function startEchoServer(port: number, host = '127.0.0.1'): Promise<WebSocketServer> {
  const server = await WebSocketServer.listen({
    port,
    host,
    maxMessageSize: 64 * 1024 * 1024,
    // Accept permessage-deflate from clients that offer it (the conformance cases 12.x, 13.x).
    perMessageDeflate: true,
  });
  server.on('connection', (connection) => void echo(connection));
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startEchoServer(
    Number(argument('port', process.env.PORT ?? '9001')),
    argument('host', '127.0.0.1'),
  );
  console.log(`wsnet echo server on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
