/**
 * The server child of the hold and soak runs: `node server-process.js <kind> <heartbeatMs>`, kind
 * `messages` (wsnet's message API), `messages-deflate` (the same, accepting permessage-deflate),
 * `poco` (the POCO facade: an HTTPServer whose handler makes a `WebSocket` and loops
 * receiveFrame/sendFrame, as bench/echo/server-process.ts's `wsnet`), `ws` or `ws-deflate` (ws 8's
 * WebSocketServer, for comparison in the hold run). Each echoes every message. wsnet's message
 * server runs with its heartbeat (ping every `heartbeatMs`, a pong due within as long), the way a
 * long-lived server should; ws and POCO have none built in, so they ping every connection from
 * one interval timer (ws's README's heartbeat; for POCO, a ping frame sent with `sendFrame`, each
 * pong seen by the handler's receive loop). A `heartbeatMs` of 0: no heartbeat on any.
 *
 * It prints nothing; over IPC it sends `{ ready: port }`, then answers `{ sample: true }` with a
 * `Sample` (after two full garbage collections, so that heap figures are live data) and ends
 * itself on `{ exit: true }`. It counts how its connections closed and what errors they
 * reported, so that the parent can tell injected faults from anything else.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import {
  HTTPServer,
  HTTPServerParams,
  ServerSocket,
  SocketAddress,
  Timespan,
  WebSocket,
  type HTTPRequestHandler,
} from '../../src/poco/index.js';

const kind = process.argv[2] ?? '';
const heartbeatMs = Number(process.argv[3] ?? 5000);

export interface Sample {
  /** Milliseconds since the server started. */
  at: number;
  rss: number;
  heapUsed: number;
  /** The V8 heap committed (what of it is in RSS): used plus free space and fragmentation. */
  heapTotal: number;
  /** Of `heapTotal`, the young generation's (sized by recent allocation, not by live data). */
  newSpace: number;
  /**
   * Resident bytes of the C heap (glibc's `[heap]` mapping, /proc/self/smaps; 0 elsewhere): what
   * the sockets, libuv handles and ArrayBuffer contents allocate, with its free holes.
   */
  mallocHeap: number;
  /** External memory, ArrayBuffers included (zlib's and sockets' native memory is in RSS only). */
  external: number;
  /**
   * The server's active handles: `process.getActiveResourcesInfo()` without the pipes to the
   * harness (stdio and IPC, which come and go with the harness's own traffic): sockets, timers,
   * pending shutdowns, the listening socket.
   */
  handles: number;
  /** The active resources by type (`TCPSocketWrap: 2, Timeout: 1`…). */
  resources: Record<string, number>;
  /** Connections open now. */
  connections: number;
  /** Connections accepted so far. */
  accepted: number;
  /** How the closed connections closed: close code → count (1006: no close frame). */
  closeCodes: Record<string, number>;
  /** Errors the connections reported: `name: code` (or message) → count. */
  errors: Record<string, number>;
  /** Errors nobody expects: handler errors, server errors, uncaught exceptions, rejections. */
  unexpected: string[];
  /** Echo sends that the connection refused (it had closed under the message). */
  refusedSends: number;
  /** Heartbeat pings answered with a pong (ws: counted by the interval). */
  pongs: number;
}

const closeCodes: Record<string, number> = {};
const errors: Record<string, number> = {};
const unexpected: string[] = [];
let accepted = 0;
let refusedSends = 0;
let pongs = 0;
const started = performance.now();
const count = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1;
};
const note = (what: string, error: unknown) => {
  if (unexpected.length < 50) unexpected.push(`${what}: ${String(error)}`);
};
process.on('uncaughtException', (error) => note('uncaughtException', error));
process.on('unhandledRejection', (error) => note('unhandledRejection', error));

function errorKey(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return `${error.name}: ${typeof code === 'string' ? code : error.message}`;
}

async function startWsnet(deflate: boolean): Promise<{ port: number; open: () => number }> {
  const server = await WebSocketServer.listen({
    port: 0,
    host: '127.0.0.1',
    heartbeat: heartbeatMs === 0 ? false : { interval: heartbeatMs, timeout: heartbeatMs },
    perMessageDeflate: deflate,
  });
  server.on('error', (error) => note('server error', error));
  server.on('handlerError', (error) => note('handlerError', error));
  server.on('rejection', (status) => note('rejection', status));
  server.on('connection', (connection) => {
    accepted++;
    connection.on('message', (data) => {
      connection.send(data).catch(() => refusedSends++);
    });
    connection.on('pong', () => pongs++);
    connection.on('error', (error) => count(errors, errorKey(error)));
    connection.on('close', (code) => count(closeCodes, String(code)));
  });
  return { port: server.address().port, open: () => server.clients.size };
}

async function startWs(deflate: boolean): Promise<{ port: number; open: () => number }> {
  const server = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
  const alive = new WeakMap<WsSocket, boolean>();
  server.on('connection', (ws) => {
    accepted++;
    alive.set(ws, true);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('pong', () => {
      pongs++;
      alive.set(ws, true);
    });
    ws.on('error', (error) => count(errors, errorKey(error)));
    ws.on('close', (code) => count(closeCodes, String(code)));
  });
  // ws's README heartbeat: ping everyone each interval, terminate who did not pong since the last.
  // (None with a heartbeat of 0: the hold's `--heartbeat off`.)
  const timer =
    heartbeatMs === 0
      ? undefined
      : setInterval(() => {
          for (const ws of server.clients) {
            if (alive.get(ws) === false) {
              ws.terminate();
              continue;
            }
            alive.set(ws, false);
            ws.ping();
          }
        }, heartbeatMs);
  server.on('close', () => clearInterval(timer));
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as { port: number }).port,
    open: () => server.clients.size,
  };
}

/**
 * The POCO facade's echo server: one stateless handler whose `WebSocket` echoes every data frame
 * until the peer's close frame (answered, as POCO applications do) or the end of the stream. Ping
 * frames get their pong (POCO hands control frames to the application); pongs are counted. The
 * heartbeat is the application's, as ws's: one interval that pings every open WebSocket and
 * shuts down those that did not pong since the last round.
 */
async function startPoco(): Promise<{ port: number; open: () => number }> {
  const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0), 4096);
  const alive = new Map<WebSocket, boolean>();
  const OP = WebSocket.FRAME_OP_BITMASK;
  const handler: HTTPRequestHandler = {
    async handleRequest(request, response) {
      const ws = new WebSocket(request, response);
      accepted++;
      alive.set(ws, true);
      ws.setReceiveTimeout(new Timespan(0));
      let code = 1006;
      try {
        for (;;) {
          const { n, flags, payload } = await ws.receiveFrame();
          if (n === 0 && flags === 0) break;
          const op = flags & OP;
          if (op === WebSocket.FRAME_OP_PONG) {
            pongs++;
            alive.set(ws, true);
          } else if (op === WebSocket.FRAME_OP_PING) {
            await ws.sendFrame(payload, n, WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_PONG);
          } else if (op === WebSocket.FRAME_OP_CLOSE) {
            code = n >= 2 ? payload.readUInt16BE(0) : 1005;
            await ws.sendFrame(payload, n, flags);
            break;
          } else {
            await ws.sendFrame(payload, n, flags);
          }
        }
      } catch (error) {
        count(errors, errorKey(error as Error));
      } finally {
        alive.delete(ws);
        count(closeCodes, String(code));
      }
    },
  };
  const server = new HTTPServer(
    { createRequestHandler: () => handler },
    socket,
    new HTTPServerParams(),
  );
  server.setErrorHandler((error) => note('handlerError', error));
  server.start();
  if (heartbeatMs !== 0)
    setInterval(() => {
      for (const [ws, answered] of alive) {
        if (!answered) {
          void ws.shutdown().catch(() => undefined);
          continue;
        }
        alive.set(ws, false);
        ws.sendFrame('', 0, WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_PING).catch(
          () => undefined,
        );
      }
    }, heartbeatMs).unref();
  return { port: socket.address().port(), open: () => alive.size };
}

const starters: Record<string, () => Promise<{ port: number; open: () => number }>> = {
  messages: () => startWsnet(false),
  'messages-deflate': () => startWsnet(true),
  poco: startPoco,
  ws: () => startWs(false),
  'ws-deflate': () => startWs(true),
};
const start = starters[kind];
if (start === undefined) {
  console.error(`unknown server kind ${kind}; choose from ${Object.keys(starters).join(', ')}`);
  process.exit(2);
}
const { port, open } = await start();

/** The resident size of the `[heap]` mapping (Linux), bytes. */
function mallocHeapRss(): number {
  try {
    const smaps = readFileSync('/proc/self/smaps', 'latin1');
    const at = smaps.indexOf(' [heap]\n');
    if (at < 0) return 0;
    const rss = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at, at + 400));
    return rss === null ? 0 : Number(rss[1]) * 1024;
  } catch {
    return 0;
  }
}

function sample(): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const memory = process.memoryUsage();
  const active = process.getActiveResourcesInfo();
  const resources: Record<string, number> = {};
  for (const type of active) count(resources, type);
  return {
    at: performance.now() - started,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    newSpace:
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0,
    mallocHeap: mallocHeapRss(),
    external: memory.external,
    handles: active.filter((type) => type !== 'PipeWrap' && type !== 'TTYWrap').length,
    resources,
    connections: open(),
    accepted,
    closeCodes: { ...closeCodes },
    errors: { ...errors },
    unexpected: [...unexpected],
    refusedSends,
    pongs,
  };
}

process.on('message', (message: { sample?: boolean; exit?: boolean; snapshot?: string }) => {
  if (message.sample === true) process.send?.({ sample: sample() });
  // A heap snapshot of the server at rest (for profiling the memory per connection).
  if (typeof message.snapshot === 'string')
    process.send?.({ snapshot: writeHeapSnapshot(message.snapshot) });
  if (message.exit === true) process.exit(0);
});
// The parent going away (or ending this process by its PID) ends the server too.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: port });
