/**
 * The load generator of the permessage-deflate benchmarks: raw TCP clients, like the echo
 * suite's (bench/echo/load.ts), that offer permessage-deflate in the handshake and send
 * pre-compressed, pre-masked frames (bench/deflate/workload.ts). They do not inflate the echoes,
 * only count them (and their bytes), so the client costs little and the same for every server;
 * `verifyEchoes` inflates a sample to check that a server echoes what it was sent.
 */
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import zlib from 'node:zlib';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { countWindow, rawUpgrade, type WindowProbe } from '../echo/load.js';

const RSV1 = 0x40;
const FIN = 0x80;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export class DeflateLoadConnection {
  /** The response's Sec-WebSocket-Extensions ('' if none): what was negotiated. */
  readonly extensions: string;
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  #pendingFlags = -1;
  #pendingLength = 0;
  #messageFlags = -1;
  #fragments: Buffer[] = [];
  #onMessage: (flags: number, payload: Buffer) => void = () => undefined;
  /** The close code the server sent (1005 without one), or undefined before its close frame. */
  closeCode: number | undefined;
  #closeListeners: Array<() => void> = [];
  #ended = false;

  private constructor(socket: net.Socket, extensions: string) {
    this.#socket = socket;
    this.extensions = extensions;
  }

  /** Opens a connection; `offer` is the Sec-WebSocket-Extensions to send, null for none. */
  static async open(port: number, offer: string | null): Promise<DeflateLoadConnection> {
    const { socket, head, rest } = await rawUpgrade(port, offer);
    const line = head
      .split('\r\n')
      .find((l) => l.toLowerCase().startsWith('sec-websocket-extensions:'));
    const connection = new DeflateLoadConnection(
      socket,
      line === undefined ? '' : line.slice(line.indexOf(':') + 1).trim(),
    );
    socket.on('data', (chunk: Buffer) => connection.#receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => connection.#end());
    if (rest.length > 0) connection.#receive(rest);
    return connection;
  }

  /** True if the server accepted permessage-deflate. */
  get compressed(): boolean {
    return this.extensions.startsWith('permessage-deflate');
  }

  /** Bytes read from the socket since it opened (the 101 response included). */
  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  /** Bytes handed to the socket since it opened (the request included). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** Each whole data message calls `listener` with its first frame's flags and its payload. */
  onMessage(listener: (flags: number, payload: Buffer) => void): void {
    this.#onMessage = listener;
  }

  /** Writes; false when the socket's buffer is full (wait for `drained()`). */
  send(frame: Buffer): boolean {
    return this.#socket.write(frame);
  }

  /** Resolves when the socket's buffer has drained, or the socket closed. */
  drained(): Promise<void> {
    if (this.#ended || !this.#socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }

  /** Resolves when the server's close frame came or the socket closed, or after `ms`. */
  whenClosed(ms: number): Promise<void> {
    if (this.closeCode !== undefined || this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#closeListeners.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  close(): void {
    this.#socket.destroy();
  }

  #end(): void {
    this.#ended = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  #receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    for (;;) {
      if (this.#pendingFlags < 0) {
        const header = this.#reader.readHeader();
        if (header === null) return;
        this.#pendingFlags = header.flags;
        this.#pendingLength = header.length;
      }
      const payload = this.#reader.readPayload(this.#pendingLength);
      if (payload === null) return;
      const flags = this.#pendingFlags;
      this.#pendingFlags = -1;
      const opcode = flags & 0x0f;
      if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        for (const listener of this.#closeListeners.splice(0)) listener();
        continue;
      }
      if (opcode >= 0x8) continue; // ping, pong
      if ((flags & FIN) === 0 || this.#messageFlags >= 0) {
        // A fragmented message (the servers measured do not send any): gathered, then reported.
        if (this.#messageFlags < 0) this.#messageFlags = flags;
        this.#fragments.push(Buffer.from(payload));
        if ((flags & FIN) === 0) continue;
        const first = this.#messageFlags;
        const whole = Buffer.concat(this.#fragments);
        this.#messageFlags = -1;
        this.#fragments = [];
        this.#onMessage(first, whole);
        continue;
      }
      this.#onMessage(flags, payload);
    }
  }
}

/** Opens `count` connections, `batch` handshakes at a time. */
export async function openConnections(
  port: number,
  count: number,
  offer: string | null,
  batch = 100,
): Promise<DeflateLoadConnection[]> {
  const connections: DeflateLoadConnection[] = [];
  try {
    for (let i = 0; i < count; i += batch) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, () =>
          DeflateLoadConnection.open(port, offer),
        ),
      );
      connections.push(...opened);
    }
  } catch (error) {
    for (const connection of connections) connection.close();
    throw error;
  }
  return connections;
}

/**
 * Sends `frames` (of `texts`) one at a time on `connection` and checks each echo: inflated with
 * the history of the earlier echoes if it has RSV1, it must equal the text sent. Resolves to the
 * number of echoes that came compressed; throws on a wrong echo or after `ms` without one.
 */
export async function verifyEchoes(
  connection: DeflateLoadConnection,
  frames: readonly Buffer[],
  texts: readonly string[],
  ms = 5000,
): Promise<number> {
  let history = Buffer.alloc(0);
  let compressedEchoes = 0;
  try {
    for (let i = 0; i < frames.length; i++) {
      const { flags, payload } = await new Promise<{ flags: number; payload: Buffer }>(
        (resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no echo')), ms);
          connection.onMessage((f, p) => {
            clearTimeout(timer);
            resolve({ flags: f, payload: Buffer.from(p) });
          });
          connection.send(frames[i]);
        },
      );
      let text = payload;
      if ((flags & RSV1) !== 0) {
        compressedEchoes++;
        text = zlib.inflateRawSync(Buffer.concat([payload, TRAILER]), {
          windowBits: 15,
          ...(history.length > 0 ? { dictionary: history } : {}),
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
        });
        history = Buffer.concat([history, text]).subarray(-32768);
        history = Buffer.from(history);
      }
      if (text.toString() !== texts[i])
        throw new Error(`echo ${i} differs from the message sent (${text.length} bytes)`);
    }
  } finally {
    connection.onMessage(() => undefined);
  }
  return compressedEchoes;
}

export interface LoadResult {
  /** Echoes per second in the counted window. */
  perSecond: number;
  /** Socket bytes read per echo, over the whole run (warm-up and the drain included). */
  bytesInPerMessage: number;
  /** Socket bytes written per message sent, over the whole run. */
  bytesOutPerMessage: number;
  /** False if some echoes had not come back 2 s after the run. */
  complete: boolean;
}

/**
 * Runs `connections` echo loops for `ms` milliseconds, each keeping `inFlight` messages
 * outstanding (1 = lock-step), each connection cycling through `frames` from its own starting
 * point. Bounded: the run ends after `ms` (plus the warm-up and at most 2 s for the echoes
 * still in flight).
 */
export async function runDeflateLoad(
  connections: readonly DeflateLoadConnection[],
  frames: readonly Buffer[],
  ms: number,
  inFlight = 1,
  options: { probe?: WindowProbe; warmupMs?: number } = {},
): Promise<LoadResult> {
  const { probe, warmupMs = Math.min(300, ms / 4) } = options;
  const readStart = connections.map((c) => c.bytesRead);
  const writtenStart = connections.map((c) => c.bytesWritten);
  const counter = { count: 0 };
  let sent = 0;
  let received = 0;
  let running = true;
  const senders = connections.map((connection, index) => {
    let next = (index * 7) % frames.length;
    const sendNext = () => {
      connection.send(frames[next]);
      next = next + 1 === frames.length ? 0 : next + 1;
      sent++;
    };
    connection.onMessage(() => {
      counter.count++;
      received++;
      if (running) sendNext();
    });
    return sendNext;
  });
  for (const sendNext of senders) for (let i = 0; i < inFlight; i++) sendNext();
  const { perSecond } = await countWindow(counter, ms, warmupMs, probe);
  running = false;
  const deadline = performance.now() + 2000;
  while (received < sent && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  for (const connection of connections) connection.onMessage(() => undefined);
  const bytesIn = connections.reduce((sum, c, i) => sum + c.bytesRead - readStart[i], 0);
  const bytesOut = connections.reduce((sum, c, i) => sum + c.bytesWritten - writtenStart[i], 0);
  return {
    perSecond,
    bytesInPerMessage: received > 0 ? bytesIn / received : 0,
    bytesOutPerMessage: sent > 0 ? bytesOut / sent : 0,
    complete: received === sent,
  };
}
