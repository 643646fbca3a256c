/**
 * Clients side by side: wsnet's POCO client (HTTPClientSession + WebSocket.connect, then a
 * sendFrame/receiveFrame loop) against ws's client (send / 'message'), both driving the same
 * echo server (ws's, in its own process), alternately, round by round.
 */
import { fork } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import WebSocketClient from 'ws';
import {
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  Timespan,
  WebSocket,
} from '../src/poco/index.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

interface LoopClient {
  /** Runs lock-step round trips until `until` (performance.now() ms); resolves the count. */
  run(until: number): Promise<number>;
  close(): void;
}

async function wsnetClient(port: number, payload: Buffer): Promise<LoopClient> {
  const session = new HTTPClientSession('127.0.0.1', port);
  const ws = await WebSocket.connect(
    session,
    new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1),
    new HTTPResponse(),
  );
  ws.setReceiveTimeout(new Timespan(0));
  return {
    async run(until) {
      let count = 0;
      while (performance.now() < until) {
        await ws.sendFrame(payload, payload.length, WebSocket.FRAME_BINARY);
        await ws.receiveFrame();
        count++;
      }
      return count;
    },
    close: () => ws.close(),
  };
}

async function wsClient(port: number, payload: Buffer): Promise<LoopClient> {
  const ws = new WebSocketClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    run(until) {
      return new Promise((resolve) => {
        let count = 0;
        const onMessage = () => {
          count++;
          if (performance.now() < until) ws.send(payload);
          else {
            ws.off('message', onMessage);
            resolve(count);
          }
        };
        ws.on('message', onMessage);
        ws.send(payload);
      });
    },
    close: () => ws.close(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function clientSuite(): Promise<void> {
  const script = fileURLToPath(new URL('./echo/server-process.js', import.meta.url));
  const child = fork(script, ['ws'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m: { ready: number }) => resolve(m.ready)),
  );
  try {
    const rows: string[][] = [];
    for (const [connections, size] of [
      [1, 32],
      [1, 1024],
      [64, 32],
      [64, 1024],
    ] as const) {
      const payload = Buffer.alloc(size, 0x61);
      const clients = {
        wsnet: await Promise.all(
          Array.from({ length: connections }, () => wsnetClient(port, payload)),
        ),
        ws: await Promise.all(Array.from({ length: connections }, () => wsClient(port, payload))),
      };
      const samples: Record<'wsnet' | 'ws', number[]> = { wsnet: [], ws: [] };
      for (let round = 0; round <= ROUNDS; round++) {
        const order = round % 2 === 0 ? (['wsnet', 'ws'] as const) : (['ws', 'wsnet'] as const);
        for (const name of order) {
          const start = performance.now();
          const until = start + (round === 0 ? 200 : ROW_MS); // round 0 warms up
          const counts = await Promise.all(clients[name].map((client) => client.run(until)));
          const rate = (counts.reduce((a, b) => a + b, 0) * 1000) / (performance.now() - start);
          if (round > 0) samples[name].push(rate);
        }
      }
      for (const list of Object.values(clients)) for (const client of list) client.close();
      const wsnet = median(samples.wsnet);
      const ws = median(samples.ws);
      const label = `${connections} connection${connections === 1 ? '' : 's'}, ${size === 32 ? '32 B' : '1 KiB'}`;
      rows.push([
        label,
        `${(wsnet / 1000).toFixed(1)} k msg/s`,
        `${(ws / 1000).toFixed(1)} k msg/s`,
        `${(wsnet / ws).toFixed(2)}x`,
      ]);
    }
    const header = ['workload', 'wsnet client', 'ws client', 'wsnet/ws'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    console.log(
      `\nClients, lock-step round trips against ws's echo server (median of ${ROUNDS} rounds of ${ROW_MS} ms)\n`,
    );
    console.log(line(header));
    console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
    for (const row of rows) console.log(line(row));
  } finally {
    child.kill();
  }
}
