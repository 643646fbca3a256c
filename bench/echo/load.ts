/**
 * The load generator: raw TCP clients that speak just enough WebSocket to drive an echo server
 * (handshake, pre-masked frames, a frame reader for the echoes), so that the client side costs
 * little and costs the same for every server measured.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { createKey } from '../../src/protocol/handshake/keys.js';
import { fixedMask } from '../../src/protocol/mask.js';

/**
 * Connects and sends an upgrade request by hand (with `Sec-WebSocket-Extensions: extensions`
 * if given); resolves with the socket, the 101's head and the bytes that came after it.
 */
export async function rawUpgrade(
  port: number,
  extensions: string | null = null,
): Promise<{ socket: net.Socket; head: string; rest: Buffer }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${createKey()}\r\n` +
      (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
      '\r\n',
  );
  const { head, rest } = await new Promise<{ head: string; rest: Buffer }>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const text = buffered.subarray(0, end).toString('latin1');
      if (!text.slice(0, 12).includes(' 101'))
        reject(new Error(`handshake refused: ${text.split('\r\n')[0]}`));
      else resolve({ head: text, rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed during the handshake')));
  });
  return { socket, head, rest };
}

export class LoadConnection {
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  #pendingLength = -1;
  #onMessage: () => void = () => undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  static async open(port: number): Promise<LoadConnection> {
    const { socket, rest } = await rawUpgrade(port);
    const connection = new LoadConnection(socket);
    socket.on('data', (chunk: Buffer) => connection.#receive(chunk));
    socket.on('error', () => undefined);
    if (rest.length > 0) connection.#receive(rest);
    return connection;
  }

  /** Each echoed message calls `listener`. */
  onMessage(listener: () => void): void {
    this.#onMessage = listener;
  }

  send(frame: Buffer): void {
    this.#socket.write(frame);
  }

  close(): void {
    this.#socket.destroy();
  }

  /**
   * Counts the echoed frames. The payload is skipped, never unmasked or checked, and a header
   * with the mask bit set reads like any other (the reader takes the 4-byte key with the
   * header): so the ceiling's echoes, the client's own masked frames, count like a server's.
   */
  #receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    for (;;) {
      if (this.#pendingLength < 0) {
        const header = this.#reader.readHeader();
        if (header === null) return;
        this.#pendingLength = header.length;
      }
      if (this.#reader.readPayload(this.#pendingLength) === null) return;
      this.#pendingLength = -1;
      this.#onMessage();
    }
  }
}

/**
 * `size` bytes of valid UTF-8 text, about a sixth of them in 2-, 3- and 4-byte sequences, so
 * that no all-ASCII fast path (a decoder's, a validator's) flatters whoever handles it. Ends
 * on a code point boundary (ASCII pads the last few bytes).
 */
export function utf8Payload(size: number): Buffer {
  const pattern = Buffer.from('The quick brown fox jumps over the lazy dog, é € 😀 ', 'utf8');
  const out = Buffer.alloc(size, 0x61);
  // Whole patterns only: a cut one could split a code point.
  for (let at = 0; at + pattern.length <= size; at += pattern.length) out.set(pattern, at);
  return out;
}

/**
 * A message as a client sends it, masked once up front: binary or text (`text`), of `payload`
 * (`ascii`: `a` repeated; `utf8`: {@link utf8Payload}, with non-ASCII in it).
 */
export function clientFrame(
  size: number,
  text = false,
  payloadKind: 'ascii' | 'utf8' = text ? 'utf8' : 'ascii',
): Buffer {
  const payload = payloadKind === 'utf8' ? utf8Payload(size) : Buffer.alloc(size, 0x61);
  return Buffer.concat(
    encodeFrame(text ? 0x81 : 0x82, payload, fixedMask([0x11, 0x22, 0x33, 0x44])),
  );
}

/** Told when the counted window starts and when it ends (with the messages counted in it). */
export interface WindowProbe {
  start(): void;
  /** `generatorShare`: the generator's CPU share of one core, when it measured it itself. */
  end(messages: number, generatorShare?: number): void;
}

/** The warm-up before a counted window of `ms`, unless told: a quarter of it, at most 300 ms. */
export const defaultWarmupMs = (ms: number): number => Math.min(300, ms / 4);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The counted window of a load that counts echoes into `counter.count`: `warmupMs` of warm-up
 * (not counted), then `ms` counted, with the probe around the counted part.
 */
export async function countWindow(
  counter: { count: number },
  ms: number,
  warmupMs: number,
  probe?: WindowProbe,
): Promise<{ measured: number; perSecond: number }> {
  await sleep(warmupMs);
  counter.count = 0;
  probe?.start();
  const start = performance.now();
  await sleep(ms);
  const elapsed = performance.now() - start;
  const measured = counter.count;
  probe?.end(measured);
  return { measured, perSecond: (measured * 1000) / elapsed };
}

/**
 * Runs `connections` echo loops for `ms` milliseconds, each keeping `inFlight` messages
 * outstanding (1 = lock-step: send, wait for the echo, send again). Returns messages per second.
 */
export async function runEchoLoad(
  connections: LoadConnection[],
  frame: Buffer,
  ms: number,
  inFlight = 1,
  options: {
    probe?: WindowProbe;
    /** Unmeasured echoing before the window (default: a quarter of `ms`, at most 300 ms). */
    warmupMs?: number;
  } = {},
): Promise<number> {
  const { probe, warmupMs = defaultWarmupMs(ms) } = options;
  const counter = { count: 0 };
  let running = true;
  let outstanding = 0;
  for (const connection of connections) {
    connection.onMessage(() => {
      counter.count++;
      outstanding--;
      if (running) {
        connection.send(frame);
        outstanding++;
      }
    });
  }
  for (const connection of connections)
    for (let i = 0; i < inFlight; i++) {
      connection.send(frame);
      outstanding++;
    }
  const { perSecond } = await countWindow(counter, ms, warmupMs, probe);
  running = false;
  // Let the messages still in flight come back, so the next run starts from a quiet server
  // (a 16 MiB echo can take longer than the 100 ms that do for small ones; 5 s at most).
  await sleep(100);
  for (let waited = 0; outstanding > 0 && waited < 5000; waited += 20) await sleep(20);
  for (const connection of connections) connection.onMessage(() => undefined);
  return perSecond;
}

/** RFC 6455 §1.3's example key: every handshake of the load sends the same valid key. */
const HANDSHAKE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** A handshake (with its close) that takes longer than this has failed. */
const HANDSHAKE_TIMEOUT_MS = 5000;
/** A masked close frame with status 1000, as a client sends it. */
const CLOSE_FRAME = Buffer.concat(
  encodeFrame(0x88, Buffer.from([0x03, 0xe8]), fixedMask([0x11, 0x22, 0x33, 0x44])),
);

/**
 * One handshake of the handshake load: connect, send the upgrade request (built once per port),
 * read the 101's head, send a close frame, read the server's close frame (its first frame
 * after the 101: the ceiling's is the client's own, echoed), then drop the TCP connection.
 * Resolves true once the server's close frame arrived; false if the server refused or closed
 * before it (counted apart, never as a handshake).
 */
function handshakeOnce(port: number, request: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let buffered: Buffer | null = null;
    let headEnd = -1;
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
      if (headEnd < 0) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        // "HTTP/1.1 101": byte 9 is the status's first digit.
        if (buffered[9] !== 0x31 || buffered[10] !== 0x30 || buffered[11] !== 0x31) {
          finish(false);
          return;
        }
        headEnd = end + 4;
        socket.write(CLOSE_FRAME);
      }
      // The close frame: 2 header bytes, a mask key if masked, a payload of at most 125 bytes.
      const frame = buffered.length - headEnd;
      if (frame < 2) return;
      const second = buffered[headEnd + 1];
      if (frame >= 2 + (second & 0x80 ? 4 : 0) + (second & 0x7f)) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => resolve(false)); // no-op once settled
    // Bounded: a server that stops answering fails the handshake instead of holding its loop.
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => finish(false));
  });
}

/**
 * Runs `inFlight` loops of {@link handshakeOnce} against `port` for `ms` milliseconds (after a
 * warm-up); resolves handshakes per second and how many failed in the counted window.
 */
export async function runHandshakeLoad(
  port: number,
  ms: number,
  inFlight: number,
  options: { probe?: WindowProbe; warmupMs?: number } = {},
): Promise<{ perSecond: number; failed: number }> {
  const { probe, warmupMs = defaultWarmupMs(ms) } = options;
  const request = Buffer.from(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${HANDSHAKE_KEY}\r\n\r\n`,
    'latin1',
  );
  const counter = { count: 0 };
  let failed = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      if (await handshakeOnce(port, request)) counter.count++;
      else failed++;
    }
  };
  const loops = Array.from({ length: inFlight }, loop);
  const { perSecond } = await countWindow(counter, ms, warmupMs, {
    start: () => {
      failed = 0;
      probe?.start();
    },
    end: (count) => probe?.end(count),
  });
  const failedInWindow = failed;
  running = false;
  // Bounded: each loop ends with its handshake in progress, which a live server answers at once.
  await Promise.race([Promise.all(loops), sleep(5000)]);
  return { perSecond, failed: failedInWindow };
}
