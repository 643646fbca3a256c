/**
 * Clients side by side, all driving the same echo server (ws's, in its own process),
 * alternately, round by round:
 * - `client`: wsnet's POCO client (HTTPClientSession + WebSocket.connect, then a
 *   sendFrame/receiveFrame loop) against ws's client (send / 'message');
 * - `messages-client`: wsnet's message API (`connect(url)`, then send / 'message', and send /
 *   `for await`) against ws's client.
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
import { connect } from '../src/index.js';
import { utf8Payload } from './echo/load.js';

const ROW_MS = Number(process.env['BENCH_ECHO_MS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** 16 MiB rows: two rounds do (each round trip moves 32 MiB). */
const LARGE_ROUNDS = Math.min(ROUNDS, 2);
/** A run that gets no echo for this long past its end gives up (the server died, say). */
const GRACE_MS = 5000;

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

/**
 * A lock-step loop driven by events: `send` the payload, and again on each echo until `until`.
 * Bounded: it also ends `GRACE_MS` after `until` if the echoes stop.
 */
function eventLoop(
  send: () => void,
  listen: (onMessage: () => void) => void,
  unlisten: (onMessage: () => void) => void,
  until: number,
): Promise<number> {
  return new Promise((resolve) => {
    let count = 0;
    const finish = () => {
      clearTimeout(timer);
      unlisten(onMessage);
      resolve(count);
    };
    const onMessage = () => {
      count++;
      if (performance.now() < until) send();
      else finish();
    };
    const timer = setTimeout(finish, until - performance.now() + GRACE_MS);
    listen(onMessage);
    send();
  });
}

async function wsClient(port: number, payload: Buffer, text: boolean): Promise<LoopClient> {
  const ws = new WebSocketClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    run: (until) =>
      eventLoop(
        () => ws.send(payload, { binary: !text }),
        (onMessage) => ws.on('message', onMessage),
        (onMessage) => ws.off('message', onMessage),
        until,
      ),
    close: () => ws.close(),
  };
}

/** The message API with events, as ws is used: `send()` again from each 'message'. */
async function messagesClient(port: number, payload: Buffer, text: boolean): Promise<LoopClient> {
  const connection = await connect(`ws://127.0.0.1:${port}/`);
  return {
    run: (until) =>
      eventLoop(
        () => void connection.send(payload, { binary: !text }).catch(() => undefined),
        (onMessage) => connection.on('message', onMessage),
        (onMessage) => connection.off('message', onMessage),
        until,
      ),
    close: () => void connection.close(),
  };
}

/** The message API with `decodeText: false`, as ws is used: text arrives as a Buffer. */
async function messagesBytesClient(
  port: number,
  payload: Buffer,
  text: boolean,
): Promise<LoopClient> {
  const connection = await connect(`ws://127.0.0.1:${port}/`, { decodeText: false });
  return {
    run: (until) =>
      eventLoop(
        () => void connection.send(payload, { binary: !text }).catch(() => undefined),
        (onMessage) => connection.on('message', onMessage),
        (onMessage) => connection.off('message', onMessage),
        until,
      ),
    close: () => void connection.close(),
  };
}

/** The message API with an async iterator: `await send()`, then `await next()`. */
async function messagesIteratorClient(
  port: number,
  payload: Buffer,
  text: boolean,
): Promise<LoopClient> {
  const connection = await connect(`ws://127.0.0.1:${port}/`);
  const messages = connection[Symbol.asyncIterator]();
  return {
    async run(until) {
      // Bounded: if the echoes stop, the connection is dropped, which ends the iteration.
      const guard = setTimeout(() => connection.terminate(), until - performance.now() + GRACE_MS);
      let count = 0;
      try {
        while (performance.now() < until) {
          await connection.send(payload, { binary: !text });
          const next = await messages.next();
          if (next.done === true) break;
          count++;
        }
      } finally {
        clearTimeout(guard);
      }
      return count;
    },
    close: () => void connection.close(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface ClientContender {
  column: string;
  /** `text`: send the payload (UTF-8) as text frames; the echoes come back as text. */
  open: (port: number, payload: Buffer, text: boolean) => Promise<LoopClient>;
  /** Runs only the text workloads (where it differs from the others: binary is the same). */
  textOnly?: boolean;
}

interface ClientWorkload {
  connections: number;
  size: number;
  unit: 'msg/s' | 'MB/s';
  /** Text frames; binary otherwise. */
  text?: boolean;
  /** The payload's bytes: `a` repeated (default), or UTF-8 text with non-ASCII in it. */
  payload?: 'ascii' | 'utf8';
  /** Rounds, when fewer than BENCH_ROUNDS do (large messages). */
  rounds?: number;
}

function sizeLabel(size: number): string {
  return size >= 1 << 20 ? `${size >> 20} MiB` : size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
}

function workloadLabel({ connections, size, text, payload }: ClientWorkload): string {
  const kind = text === true ? ' text' : payload === 'utf8' ? ' binary (UTF-8)' : '';
  return `${connections} connection${connections === 1 ? '' : 's'}, ${sizeLabel(size)}${kind}`;
}

/**
 * BENCH_WORKLOADS=16 MiB (a comma-separated list) runs only the workloads whose label contains
 * one of them: for a quick look at a few rows.
 */
const WORKLOAD_FILTER = (process.env['BENCH_WORKLOADS'] ?? '')
  .split(',')
  .map((part) => part.trim())
  .filter((part) => part.length > 0);

function isSelected(label: string): boolean {
  return WORKLOAD_FILTER.length === 0 || WORKLOAD_FILTER.some((part) => label.includes(part));
}

/** Prints a table: a row per workload, each contender's figure, then each one's ratio to ws. */
function printTable(
  title: string,
  contenders: ReadonlyArray<{ readonly column: string }>,
  rows: ReadonlyArray<{ label: string; values: number[] }>,
  format: (value: number, row: number) => string,
  inverse: boolean,
): void {
  const single = contenders.length === 2;
  const others = contenders.slice(0, -1).map((c) => (single ? 'wsnet' : c.column));
  const header = [
    'workload',
    ...contenders.map((c) => c.column),
    ...others.map((name) => (inverse ? `ws/${name}` : `${name}/ws`)),
  ];
  const cells = rows.map(({ label, values }, index) => {
    const reference = values[values.length - 1];
    return [
      label,
      ...values.map((value) => (Number.isNaN(value) ? 'n/a' : format(value, index))),
      ...values
        .slice(0, -1)
        .map((value) =>
          Number.isNaN(value)
            ? 'n/a'
            : `${(inverse ? reference / value : value / reference).toFixed(2)}x`,
        ),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of cells) console.log(line(row));
}

/**
 * Runs each workload with every contender (the last one is ws, the reference) against one ws
 * echo server, and prints a row per workload with each contender's rate and ratio to ws.
 * `cpu` adds this process's CPU time per round trip (the client's cost; the server is the same).
 */
async function compareClients(
  contenders: readonly ClientContender[],
  workloads: readonly ClientWorkload[],
  options: { cpu: boolean },
): Promise<void> {
  const script = fileURLToPath(new URL('./echo/server-process.js', import.meta.url));
  const child = fork(script, ['ws'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const clients: LoopClient[][] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { ready: number }) => resolve(m.ready));
      child.once('exit', (code) => reject(new Error(`ws server exited with ${code}`)));
    });
    const rows: Array<{ label: string; values: number[] }> = [];
    const cpuRows: Array<{ label: string; values: number[] }> = [];
    const chosen = workloads.filter((w) => isSelected(workloadLabel(w)));
    for (const workload of chosen) {
      const { connections, size, unit } = workload;
      const text = workload.text === true;
      const payload =
        (workload.payload ?? (text ? 'utf8' : 'ascii')) === 'utf8'
          ? utf8Payload(size)
          : Buffer.alloc(size, 0x61);
      const rounds = workload.rounds ?? ROUNDS;
      for (const contender of contenders)
        clients.push(
          contender.textOnly === true && !text
            ? []
            : await Promise.all(
                Array.from({ length: connections }, () => contender.open(port, payload, text)),
              ),
        );
      const samples = contenders.map((): number[] => []);
      const cpuSamples = contenders.map((): number[] => []);
      // A text-only contender sits out the binary rows (its cells say n/a).
      const indices = contenders
        .map((_, index) => index)
        .filter((index) => clients[index].length > 0);
      for (let round = 0; round <= rounds; round++) {
        const order = round % 2 === 0 ? indices : [...indices].reverse();
        for (const index of order) {
          const start = performance.now();
          const cpuStart = process.cpuUsage();
          const until = start + (round === 0 ? 200 : ROW_MS); // round 0 warms up
          const counts = await Promise.all(clients[index].map((client) => client.run(until)));
          const { user, system } = process.cpuUsage(cpuStart);
          const count = counts.reduce((a, b) => a + b, 0);
          const rate = (count * 1000) / (performance.now() - start);
          if (round === 0) continue;
          samples[index].push(unit === 'MB/s' ? (rate * size) / 1e6 : rate);
          if (count > 0) cpuSamples[index].push((user + system) / count);
        }
      }
      for (const list of clients) for (const client of list) client.close();
      clients.length = 0;
      const label = workloadLabel(workload);
      rows.push({ label, values: samples.map(median) });
      cpuRows.push({ label, values: cpuSamples.map(median) });
    }
    printTable(
      `Clients, lock-step round trips against ws's echo server (median of ${ROUNDS} rounds of ${ROW_MS} ms)`,
      contenders,
      rows,
      (value, row) =>
        chosen[row].unit === 'MB/s'
          ? `${value.toFixed(0)} MB/s`
          : `${(value / 1000).toFixed(1)} k msg/s`,
      false,
    );
    if (options.cpu)
      printTable(
        'Clients: client CPU time (user + system) per round trip, same runs',
        contenders,
        cpuRows,
        (value) => `${value.toFixed(value >= 100 ? 0 : 1)} µs/msg`,
        true,
      );
  } finally {
    for (const list of clients) for (const client of list) client.close();
    child.kill();
  }
}

const MESSAGE_RATES: ClientWorkload[] = [
  { connections: 1, size: 32, unit: 'msg/s' },
  { connections: 1, size: 1024, unit: 'msg/s' },
  { connections: 64, size: 32, unit: 'msg/s' },
  { connections: 64, size: 1024, unit: 'msg/s' },
];

export function clientSuite(): Promise<void> {
  return compareClients(
    [
      { column: 'wsnet client', open: wsnetClient },
      { column: 'ws client', open: wsClient },
    ],
    MESSAGE_RATES,
    { cpu: false },
  );
}

export function messagesClientSuite(): Promise<void> {
  return compareClients(
    [
      { column: 'wsnet events', open: messagesClient },
      { column: 'wsnet for-await', open: messagesIteratorClient },
      // Text rows only: decodeText: false, text as a Buffer (as ws's client delivers it).
      { column: 'wsnet bytes', open: messagesBytesClient, textOnly: true },
      { column: 'ws client', open: wsClient },
    ],
    [
      ...MESSAGE_RATES,
      { connections: 1, size: 65536, unit: 'MB/s' },
      { connections: 1, size: 1 << 20, unit: 'MB/s' },
      // Text against binary of the same UTF-8 bytes: where decoding into a string shows.
      { connections: 1, size: 16 << 20, unit: 'MB/s', payload: 'utf8', rounds: LARGE_ROUNDS },
      { connections: 1, size: 16 << 20, unit: 'MB/s', text: true, rounds: LARGE_ROUNDS },
    ],
    { cpu: true },
  );
}

// --- Connects per second (issue 12): connect + close, a separate section for easy merging ---

/** Connects kept in flight by the connects row. */
const CONNECTS_IN_FLIGHT = 10;

/** One client's connect + close against `port`: resolves once the connection is closed. */
type ConnectOnce = (port: number) => Promise<void>;

/** wsnet's message API: `connect()`, then `close()` (resolves once the closing handshake ends). */
async function messagesConnectOnce(port: number): Promise<void> {
  const connection = await connect(`ws://127.0.0.1:${port}/`);
  await connection.close();
}

/**
 * wsnet's POCO client: `WebSocket.connect` over a new session, then POCO's close: `shutdown()`
 * (a close frame), `receiveFrame()` until the server's close frame (bounded by the receive
 * timeout), `close()`.
 */
async function pocoConnectOnce(port: number): Promise<void> {
  const session = new HTTPClientSession('127.0.0.1', port);
  const ws = await WebSocket.connect(
    session,
    new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1),
    new HTTPResponse(),
  );
  try {
    ws.setReceiveTimeout(new Timespan(GRACE_MS * 1000));
    await ws.shutdown();
    for (let frames = 0; frames < 16; frames++) {
      const { n, flags } = await ws.receiveFrame();
      if ((n === 0 && flags === 0) || (flags & 0x0f) === WebSocket.FRAME_OP_CLOSE) break;
    }
  } finally {
    ws.close();
  }
}

/**
 * ws's client: `open`, `close()`, then its 'close' event (closing handshake and TCP done). With
 * its defaults, as `connect()` runs with its own: both offer permessage-deflate, which the ws
 * server (without the option) declines.
 */
function wsConnectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(`ws://127.0.0.1:${port}/`);
    ws.once('open', () => ws.close());
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
}

/**
 * Runs {@link CONNECTS_IN_FLIGHT} loops of `once` until `until` (performance.now() ms); resolves
 * the connects completed. A connect that fails ends its loop (and is reported), one that hangs
 * is cut at `GRACE_MS` past `until`.
 */
async function connectLoops(once: ConnectOnce, port: number, until: number): Promise<number> {
  let count = 0;
  const loop = async () => {
    while (performance.now() < until) {
      await once(port);
      count++;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, until - performance.now() + GRACE_MS);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: CONNECTS_IN_FLIGHT }, loop)), bound]);
  } finally {
    clearTimeout(timer);
  }
  return count;
}

/**
 * Connects per second (connect + close, {@link CONNECTS_IN_FLIGHT} in flight) of each client
 * (the last is ws's, the reference) against one ws server, rounds interleaved, with this
 * process's CPU per connect (the client's cost: the server runs in its own process).
 */
async function compareConnects(
  contenders: ReadonlyArray<{ column: string; once: ConnectOnce }>,
): Promise<void> {
  const script = fileURLToPath(new URL('./echo/server-process.js', import.meta.url));
  const child = fork(script, ['ws'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { ready: number }) => resolve(m.ready));
      child.once('exit', (code) => reject(new Error(`ws server exited with ${code}`)));
    });
    const rates = contenders.map((): number[] => []);
    const costs = contenders.map((): number[] => []);
    const indices = contenders.map((_, index) => index);
    for (let round = 0; round <= ROUNDS; round++) {
      const order = round % 2 === 0 ? indices : [...indices].reverse();
      for (const index of order) {
        const start = performance.now();
        const cpuStart = process.cpuUsage();
        const until = start + (round === 0 ? 300 : ROW_MS); // round 0 warms up
        const count = await connectLoops(contenders[index].once, port, until);
        const { user, system } = process.cpuUsage(cpuStart);
        const rate = (count * 1000) / (performance.now() - start);
        // The server's last closes, out of the next window.
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (round === 0 || count === 0) continue;
        rates[index].push(rate);
        costs[index].push((user + system) / count);
      }
    }
    const label = `connect + close, ${CONNECTS_IN_FLIGHT} in flight`;
    printTable(
      `Clients: connects per second against ws's server (median of ${ROUNDS} rounds of ${ROW_MS} ms)`,
      contenders,
      [{ label, values: rates.map(median) }],
      (value) => `${value.toFixed(0)} conn/s`,
      false,
    );
    printTable(
      'Clients: client CPU time (user + system) per connect + close, same runs',
      contenders,
      [{ label, values: costs.map(median) }],
      (value) => `${value.toFixed(0)} µs/conn`,
      true,
    );
  } finally {
    child.kill();
  }
}

/** `npm run bench -- connects`: connect + close for wsnet's two clients against ws's client. */
export function connectsSuite(): Promise<void> {
  return compareConnects([
    { column: 'wsnet connect()', once: messagesConnectOnce },
    { column: 'wsnet POCO', once: pocoConnectOnce },
    { column: 'ws client', once: wsConnectOnce },
  ]);
}
