/**
 * A child process that runs one echo server for the benchmarks: `wsnet` (the POCO facade:
 * HTTPServer + WebSocket, echoing each frame), `messages` (the message API's WebSocketServer,
 * echoing each 'message' event), `messages-iter` (the same, echoing with `for await`) or `ws`
 * (a WebSocketServer echoing each message).
 * It prints `ready <port>` and serves until its parent kills it; asked `rss` over IPC, it
 * collects garbage and answers its resident set size; asked `cpu`, its CPU time so far.
 */
import { WebSocketServer } from 'ws';
import { WebSocketServer as MessageServer } from '../../src/index.js';
import {
  HTTPServer,
  HTTPServerParams,
  ServerSocket,
  SocketAddress,
  Timespan,
  WebSocket,
  type HTTPRequestHandler,
} from '../../src/poco/index.js';

const impl = process.argv[2];

async function startWsnet(): Promise<number> {
  const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0), 4096);
  // One stateless handler serves every request (a POCO factory may hand out the same one).
  const handler: HTTPRequestHandler = {
    async handleRequest(request, response) {
      const ws = new WebSocket(request, response);
      ws.setReceiveTimeout(new Timespan(0));
      for (;;) {
        // receiveFrame() without a buffer hands the payload over without a copy.
        const { n, flags, payload } = await ws.receiveFrame();
        if (n === 0 && flags === 0) return;
        await ws.sendFrame(payload, n, flags);
        if ((flags & 0x0f) === 0x08) return;
      }
    },
  };
  const server = new HTTPServer(
    { createRequestHandler: () => handler },
    socket,
    new HTTPServerParams(),
  );
  server.start();
  return socket.address().port();
}

async function startWs(): Promise<number> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    backlog: 4096,
    maxPayload: 1 << 30,
  });
  server.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as { port: number }).port;
}

/** The message API, as an application would write it: with events, or with an async iterator. */
async function startMessages(iterate: boolean): Promise<number> {
  const server = await MessageServer.listen({ port: 0, host: '127.0.0.1' });
  server.on('connection', (connection) => {
    if (iterate) {
      void (async () => {
        for await (const message of connection) await connection.send(message);
      })().catch(() => undefined); // a load client that goes away ends the loop
    } else {
      connection.on('message', (data) => {
        void connection.send(data);
      });
    }
  });
  return server.address().port;
}

// `void connection.send(data)` above rejects when a load client goes away with a send pending:
// of no interest here, and not a reason to crash the server.
process.on('unhandledRejection', () => undefined);

const starters: Record<string, (() => Promise<number>) | undefined> = {
  wsnet: startWsnet,
  messages: () => startMessages(false),
  'messages-iter': () => startMessages(true),
  ws: startWs,
};
const port = (await starters[impl ?? '']?.()) ?? -1;
if (port < 0) {
  console.error(`unknown server ${String(impl)}`);
  process.exit(2);
}
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
    return;
  }
  if (message !== 'rss') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  process.send?.({ rss: usage.rss, heap: usage.heapUsed + usage.external });
});
process.send?.({ ready: port });
// Exit cleanly when told to, so that --cpu-prof and the like can write their output.
process.on('SIGTERM', () => process.exit(0));
