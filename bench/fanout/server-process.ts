/**
 * A child process that runs one fan-out server for the benchmarks, every connection subscribed
 * to one topic as it connects: `wsnet` (the message API: `connection.subscribe(topic)`, then
 * `server.publish(topic, text)`), `ws` (ws's WebSocketServer; a publish is ws's broadcast idiom,
 * a loop of `client.send(data)` over `wss.clients`) or `socketio` (socket.io's Server, each
 * socket joined to a room; a publish is `io.to(room).emit('m', text)`). With a Redis URL as its
 * second argument, `wsnet` uses wsnet/redis's RedisAdapter and `socketio` @socket.io/redis-adapter
 * on that Redis: a publish then reaches the subscribers of every server sharing it. `ceiling` and
 * `ceiling-corked` are references, not WebSocket servers (see startCeiling).
 *
 * It sends `{ ready: port }`, then answers over IPC:
 * - `{ publish: { count, size } }`: publishes `count` text messages of `size` bytes back to back,
 *   each starting with `t=<process.hrtime.bigint()>;` (CLOCK_MONOTONIC ns, read by the
 *   subscribers for the latency), answers `{ published: count }`;
 * - `{ subscribers: true }`: `{ subscribers: n }`, this server's local subscribers;
 * - `{ settle: true }`: `{ settled: true }` once the adapter's subscriptions are in place (or
 *   `{ settled: <the error's message> }`);
 * - `{ cpu: true }`: `{ cpu: µs }`, its CPU time so far (user + system).
 * It serves until its parent ends it (SIGTERM: it exits at once).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocket, WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { socketIoAdapter, wsnetAdapter, type Settle } from './adapters.js';

/** The topic (wsnet), and the room (socket.io), every subscriber is in. */
const TOPIC = 'bench';
/** socket.io's event name: `42["m","<payload>"]` on the wire, 10 bytes more than the payload. */
const EVENT = 'm';

const kind = process.argv[2];
const redisUrl = process.argv[3];

/** A text payload of `size` bytes: the publish time, then padding. */
function payload(size: number): string {
  const stamp = `t=${process.hrtime.bigint()};`;
  return stamp + 'a'.repeat(Math.max(0, size - stamp.length));
}

interface Contender {
  port: number;
  publish(text: string): void;
  subscribers(): number;
  settle: Settle;
}

async function startWsnet(): Promise<Contender> {
  const adapter = redisUrl === undefined ? undefined : wsnetAdapter(redisUrl);
  const server = await WebSocketServer.listen({
    port: 0,
    host: '127.0.0.1',
    ...(adapter === undefined ? {} : { adapter: adapter.adapter }),
  });
  server.on('connection', (connection) => {
    connection.subscribe(TOPIC);
  });
  return {
    port: server.address().port,
    publish: (text) => server.publish(TOPIC, text),
    subscribers: () => server.subscriberCount(TOPIC),
    settle: adapter?.settle ?? (() => Promise.resolve()),
  };
}

async function startWs(): Promise<Contender> {
  if (redisUrl !== undefined) throw new Error('ws has no Redis adapter');
  const wss = new WsServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    port: (wss.address() as AddressInfo).port,
    // ws's documented broadcast: the data as bytes (encoded once here, ws's best case), sent as
    // text to every open client.
    publish: (text) => {
      const data = Buffer.from(text);
      wss.clients.forEach((client) => {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
      });
    },
    subscribers: () => wss.clients.size,
    settle: () => Promise.resolve(),
  };
}

async function startSocketIo(): Promise<Contender> {
  const httpServer = http.createServer();
  const io = new SocketIoServer(httpServer, { serveClient: false, transports: ['websocket'] });
  const adapter = redisUrl === undefined ? undefined : await socketIoAdapter(redisUrl);
  if (adapter !== undefined) io.adapter(adapter.adapter);
  io.on('connection', (socket) => {
    void socket.join(TOPIC);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    publish: (text) => io.to(TOPIC).emit(EVENT, text),
    subscribers: () => io.of('/').adapter.rooms.get(TOPIC)?.size ?? 0,
    settle: adapter?.settle ?? (() => Promise.resolve()),
  };
}

/** RFC 6455 §1.3: the accept value is base64(SHA-1(key + this GUID)). */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A reference, not a WebSocket server: node:http's upgrade answered with a bare 101, and a
 * publish is one frame made once (a text frame's header and payload in one Buffer) written to
 * every socket: the least any Node server does per subscriber, one `socket.write` each.
 * `corked`: every socket corked for the rest of the turn when a publish starts, so that the
 * publishes of one turn leave in one `writev` per subscriber (what no per-publish write can do).
 */
async function startCeiling(corked: boolean): Promise<Contender> {
  if (redisUrl !== undefined) throw new Error('the ceiling has no Redis adapter');
  const sockets = new Set<Duplex>();
  const server = http.createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    const key = request.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1')
      .update(key + HANDSHAKE_GUID, 'latin1')
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let corkedTurn = false;
  return {
    port: (server.address() as AddressInfo).port,
    publish: (text) => {
      const payload = Buffer.from(text);
      const length = payload.length;
      const header =
        length < 126
          ? Buffer.from([0x81, length])
          : Buffer.from([0x81, 126, length >> 8, length & 0xff]);
      const frame = Buffer.concat([header, payload]);
      if (corked && !corkedTurn) {
        corkedTurn = true;
        for (const socket of sockets) socket.cork();
        process.nextTick(() => {
          corkedTurn = false;
          for (const socket of sockets) socket.uncork();
        });
      }
      for (const socket of sockets) socket.write(frame);
    },
    subscribers: () => sockets.size,
    settle: () => Promise.resolve(),
  };
}

const starters: Record<string, (() => Promise<Contender>) | undefined> = {
  wsnet: startWsnet,
  ws: startWs,
  socketio: startSocketIo,
  ceiling: () => startCeiling(false),
  'ceiling-corked': () => startCeiling(true),
};
const starter = starters[kind ?? ''];
if (starter === undefined) {
  console.error(`unknown server ${String(kind)}; choose from ${Object.keys(starters).join(', ')}`);
  process.exit(2);
}
const contender = await starter();

interface Command {
  publish?: { count: number; size: number };
  subscribers?: true;
  settle?: true;
  cpu?: true;
}

process.on('message', (command: Command) => {
  if (command.publish !== undefined) {
    const { count, size } = command.publish;
    for (let i = 0; i < count; i++) contender.publish(payload(size));
    process.send?.({ published: count });
  } else if (command.subscribers === true) {
    process.send?.({ subscribers: contender.subscribers() });
  } else if (command.settle === true) {
    void contender.settle().then(
      () => process.send?.({ settled: true }),
      (error: Error) => process.send?.({ settled: error.message }),
    );
  } else if (command.cpu === true) {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
});
// A subscriber process that goes away is of no concern to the server.
process.on('unhandledRejection', () => undefined);
process.on('SIGTERM', () => process.exit(0));
process.send?.({ ready: contender.port });
