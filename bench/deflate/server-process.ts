/**
 * A child process that runs one echo server with permessage-deflate for the deflate suite:
 * `node server-process.js <wsnet|ws> <profile>`, the profile being one of bench/deflate/
 * workload.ts's settings, given to each server in its own terms:
 * - wsnet: the message API's `WebSocketServer.listen({ perMessageDeflate, maxMessageSize })`,
 *   echoing from 'message' events;
 * - ws: `new WebSocketServer({ perMessageDeflate, maxPayload })`, echoing each message.
 * Both limit a message to 16 MiB. It sends `{ ready: port }` and serves until its parent kills it;
 * over IPC it answers `mem` (after collecting garbage: RSS, heap, external memory, peak RSS, and
 * for wsnet its compression accounting), `cpu` (CPU time so far, all threads: ws's zlib work
 * runs on libuv's thread pool and is counted too) and `loop` (the longest event-loop delay since
 * the last `loop`, ms: how late a timer could fire).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer as WsServer, type PerMessageDeflateOptions } from 'ws';
import {
  WebSocketServer,
  type PerMessageDeflateOptions as WsnetDeflateOptions,
} from '../../src/index.js';
import { MAX_MESSAGE, PROFILES, type ProfileName } from './workload.js';

const [kind, profileName] = process.argv.slice(2);
const profile = PROFILES[profileName as ProfileName] as (typeof PROFILES)[ProfileName] | undefined;

/** Reports how much this process holds for compression; set by the wsnet server. */
let compression: () => { held: number; charged: number } = () => ({ held: 0, charged: 0 });
let connections: () => number = () => 0;

async function startWsnet(name: ProfileName): Promise<number> {
  // wsnet's defaults are `true`; ws's defaults spelled out (and a compression budget that
  // 10,000 connections of 64 KiB of histories each fit in: the default 256 MiB would accept only
  // the first 4,096 with compression).
  const perMessageDeflate: true | WsnetDeflateOptions =
    name === 'wsnet-defaults'
      ? true
      : {
          serverMaxWindowBits: 15,
          clientMaxWindowBits: 15,
          memLevel: 8,
          level: 6,
          threshold: 1024,
        };
  const server = await WebSocketServer.listen({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate,
    maxMessageSize: MAX_MESSAGE,
    ...(name === 'ws-defaults' ? { maxCompressionMemory: 1024 * 1024 * 1024 } : {}),
  });
  server.on('connection', (connection) => {
    connection.on('message', (data) => {
      void connection.send(data);
    });
  });
  compression = () => {
    let held = 0;
    for (const connection of server.clients) held += connection.compressionMemory;
    return { held, charged: server.compressionMemory };
  };
  connections = () => server.clients.size;
  return server.address().port;
}

async function startWs(name: ProfileName): Promise<number> {
  // ws's defaults are `true`; wsnet's spelled out.
  const perMessageDeflate: true | PerMessageDeflateOptions =
    name === 'ws-defaults'
      ? true
      : {
          serverMaxWindowBits: 12,
          clientMaxWindowBits: 12,
          zlibDeflateOptions: { level: 6, memLevel: 5 },
          threshold: 1024,
        };
  const server = new WsServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate,
    maxPayload: MAX_MESSAGE,
  });
  server.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => undefined);
  });
  await new Promise((resolve) => server.once('listening', resolve));
  connections = () => server.clients.size;
  return (server.address() as { port: number }).port;
}

// `void connection.send(data)` rejects when a load client goes away with a send pending.
process.on('unhandledRejection', () => undefined);

if (profile === undefined || (kind !== 'wsnet' && kind !== 'ws')) {
  console.error(`usage: server-process.js <wsnet|ws> <${Object.keys(PROFILES).join('|')}>`);
  process.exit(2);
}
const port = kind === 'wsnet' ? await startWsnet(profile.name) : await startWs(profile.name);

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  /** V8 heap committed (used or not). */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Peak RSS since the process started, bytes. */
  maxRss: number;
  /** wsnet: bytes its connections hold for compression, and bytes charged to its budget. */
  compressionHeld: number;
  compressionCharged: number;
  connections: number;
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.on('message', (message) => {
  if (message === 'loop') {
    process.send?.({ loop: loopDelay.max / 1e6 });
    loopDelay.reset();
    return;
  }
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
    return;
  }
  if (message !== 'mem') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  const { held, charged } = compression();
  const report: MemoryReport = {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    maxRss: process.resourceUsage().maxRSS * 1024,
    compressionHeld: held,
    compressionCharged: charged,
    connections: connections(),
  };
  process.send?.({ mem: report });
});
process.send?.({ ready: port });
process.on('SIGTERM', () => process.exit(0));
