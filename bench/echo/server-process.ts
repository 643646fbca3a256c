/**
 * A child process that runs one echo server for the benchmarks: `wsnet` (the POCO facade:
 * HTTPServer + WebSocket, echoing each frame), `messages` (the message API's WebSocketServer,
 * echoing each 'message' event), `messages-iter` (the same, echoing with `for await`),
 * `messages-bytes` (the same with `decodeText: false`: text echoed as bytes, as ws does), `ws`
 * (a WebSocketServer echoing each message), `ceiling` (not a WebSocket server: a raw TCP echo
 * behind a real 101, the most any Node server can do here) or `http-ceiling` (the same behind
 * node:http's parser and 'upgrade' event: the most any server on node:http can do).
 * It prints `ready <port>` and serves until its parent kills it; asked `rss` over IPC, it
 * collects garbage and answers its resident set size; asked `cpu`, its CPU time so far.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
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

/**
 * The message API, as an application would write it: with events, or with an async iterator;
 * `bytes`: with `decodeText: false`, echoing as ws does (`send(data, { binary: isBinary })`),
 * text as its UTF-8 bytes, never a string.
 */
async function startMessages(iterate: boolean, bytes = false): Promise<number> {
  const server = await MessageServer.listen({
    port: 0,
    host: '127.0.0.1',
    ...(bytes ? { decodeText: false } : {}),
  });
  server.on('connection', (connection) => {
    if (bytes) {
      connection.on('message', (data, isBinary) => {
        void connection.send(data, { binary: isBinary });
      });
    } else if (iterate) {
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

/** RFC 6455 §1.3: the accept value is base64(SHA-1(key + this GUID)). */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A request head longer than this is not the load generator's: drop the connection. */
const MAX_HEAD = 16384;

/**
 * The ceiling: a `node:net` server that answers the upgrade with a real 101 (its
 * Sec-WebSocket-Accept computed from the request's key, the head parsed only as far as that
 * needs: it is a benchmark reference, not a server) and from then on writes back every byte it
 * receives, unchanged — the client's masked frames, which the load generator reads like any
 * other frames. No parsing, no unmasking, no framing, no allocation per message beyond what
 * `net.Socket` does: what the generator measures against it is the most any Node server can do
 * on this machine, with this generator.
 */
async function startCeiling(): Promise<number> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined); // a load client that goes away is no concern
    let head: Buffer | null = null;
    const onHead = (chunk: Buffer) => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD) socket.destroy();
        return;
      }
      socket.off('data', onHead);
      const request = head.subarray(0, end).toString('latin1');
      const key = /\r\nsec-websocket-key:([^\r\n]*)/i.exec(request)?.[1]?.trim();
      if (key === undefined || key.length === 0) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const accept = createHash('sha1')
        .update(key + HANDSHAKE_GUID, 'latin1')
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      // Frames that came with the head are echoed like the rest.
      if (head.length > end + 4) socket.write(head.subarray(end + 4));
      head = null;
      // Every chunk written back as it came, paused while the kernel's send buffer is full.
      socket.pipe(socket);
    };
    socket.on('data', onHead);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

/**
 * The ceiling of a server built on node:http, for the handshake row: node:http parses the
 * request (llhttp, the header objects, the 'upgrade' event, as for ws's and wsnet's servers),
 * then the handler does only what the ceiling does: compute the accept value, write the 101,
 * and echo every byte back. What it costs over the `ceiling` is node:http's share of a
 * handshake, which no server on node:http can avoid.
 */
async function startHttpCeiling(): Promise<number> {
  const server = http.createServer((_request, response) => {
    response.writeHead(426).end();
  });
  server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const key = request.headers['sec-websocket-key'];
    if (typeof key !== 'string' || key.length === 0) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(key + HANDSHAKE_GUID, 'latin1')
      .digest('base64');
    socket.setNoDelay(true);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

// `void connection.send(data)` above rejects when a load client goes away with a send pending:
// of no interest here, and not a reason to crash the server.
process.on('unhandledRejection', () => undefined);

const starters: Record<string, (() => Promise<number>) | undefined> = {
  wsnet: startWsnet,
  messages: () => startMessages(false),
  'messages-iter': () => startMessages(true),
  'messages-bytes': () => startMessages(false, true),
  ws: startWs,
  ceiling: startCeiling,
  'http-ceiling': startHttpCeiling,
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
