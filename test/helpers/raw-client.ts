/**
 * A WebSocket client written at the socket level, for testing servers byte by byte: it writes
 * exactly the request and frames it is told to, and reads the raw response and frames. Every
 * wait has a deadline, so a test against a server that hangs fails instead of hanging.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { createKey } from '../../src/protocol/handshake/keys.js';
import { fixedMask, randomMask, type MaskGenerator } from '../../src/protocol/mask.js';

export const DEFAULT_WAIT_MS = 5000;

export interface HttpHead {
  statusLine: string;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** The head exactly as received, CRLFs included. */
  raw: string;
}

export interface RawFrame {
  flags: number;
  masked: boolean;
  payload: Buffer;
}

export class RawClient {
  readonly socket: net.Socket;
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #closed = false;
  #wake: Array<() => void> = [];
  #reader: FrameReader | null = null;
  mask: MaskGenerator = randomMask;
  /** The first socket error (e.g. ECONNRESET), if any. */
  error: NodeJS.ErrnoException | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error ??= error;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#ended = true;
      this.#notify();
    });
  }

  static async connect(
    port: number,
    options: { host?: string; tls?: tls.ConnectionOptions } = {},
  ): Promise<RawClient> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s =
        options.tls === undefined
          ? net.connect({ host, port }, () => resolve(s))
          : tls.connect({ host, port, ...options.tls }, () => resolve(s));
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  /**
   * Takes over a socket that a test server accepted (and did the handshake on by hand): the same
   * byte-level reading and writing, from the server's side.
   */
  static wrap(socket: net.Socket): RawClient {
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  /** Connects and performs a WebSocket handshake; the 101's head and the client's key. */
  static async open(
    port: number,
    path = '/ws',
    options: { tls?: tls.ConnectionOptions; headers?: Array<[string, string]> } = {},
  ): Promise<{ client: RawClient; head: HttpHead; key: string }> {
    const client = await RawClient.connect(
      port,
      options.tls === undefined ? {} : { tls: options.tls },
    );
    const key = createKey();
    client.write(upgradeRequest(path, port, key, options.headers ?? []));
    const head = await client.readHead();
    if (head.status !== 101) throw new Error(`handshake refused: ${head.statusLine}`);
    return { client, head, key };
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends one frame, masked unless `masked` is false (with `mask` for a fixed key). */
  sendFrame(
    flags: number,
    payload: string | Uint8Array = '',
    masked: boolean | number[] = true,
  ): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const mask = masked === false ? null : Array.isArray(masked) ? fixedMask(masked) : this.mask;
    for (const buffer of encodeFrame(flags, bytes, mask)) this.socket.write(buffer);
  }

  /** Reads an HTTP response head (through the empty line). */
  async readHead(timeoutMs = DEFAULT_WAIT_MS): Promise<HttpHead> {
    const end = await this.#waitFor(
      () => this.#peek().indexOf('\r\n\r\n'),
      timeoutMs,
      'an HTTP head',
    );
    const raw = this.#take(end + 4).toString('latin1');
    const [statusLine = '', ...lines] = raw.slice(0, -4).split('\r\n');
    const match = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(statusLine);
    if (match === null) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    return { statusLine, status: Number(match[1]), reason: match[2] ?? '', headers, raw };
  }

  /** Reads exactly `n` bytes. */
  async readBytes(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
    await this.#waitFor(() => (this.#length >= n ? n : -1), timeoutMs, `${n} bytes`);
    return this.#take(n);
  }

  /** Reads one whole frame. */
  async readFrame(timeoutMs = DEFAULT_WAIT_MS): Promise<RawFrame> {
    this.#reader ??= new FrameReader();
    const reader = this.#reader;
    const deadline = Date.now() + timeoutMs;
    let header: { flags: number; masked: boolean; length: number; mask: Uint8Array } | null = null;
    for (;;) {
      if (this.#length > 0) reader.push(this.#take(this.#length));
      if (header === null) {
        const h = reader.readHeader();
        if (h !== null)
          header = {
            flags: h.flags,
            masked: h.masked,
            length: h.length,
            mask: Uint8Array.from(h.mask),
          };
      }
      if (header !== null) {
        const payload = reader.readPayload(header.length, header.masked ? header.mask : null);
        if (payload !== null)
          return { flags: header.flags, masked: header.masked, payload: Buffer.from(payload) };
      }
      if (this.#ended) throw new Error('the connection ended before a whole frame arrived');
      await this.#waitUntil(deadline, 'a frame');
    }
  }

  /** Everything until the server closes the connection. */
  async readToEnd(timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
    await this.#waitFor(() => (this.#ended ? 0 : -1), timeoutMs, 'the end of the connection');
    return this.#take(this.#length);
  }

  /** Resolves once the connection is closed (by either side). */
  async closed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.#waitFor(() => (this.#closed ? 0 : -1), timeoutMs, 'the connection to close', false);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not read yet. */
  get pending(): number {
    return this.#length;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Sends an RST. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  #peek(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const all = this.#peek();
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return taken;
  }

  async #waitFor(
    probe: () => number,
    timeoutMs: number,
    what: string,
    endIsFatal = true,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = probe();
      if (at >= 0) return at;
      if (this.#ended && endIsFatal) {
        const last = probe();
        if (last >= 0) return last;
        throw new Error(
          `the connection ended while waiting for ${what}; received ${JSON.stringify(this.#peek().toString('latin1').slice(0, 200))}`,
        );
      }
      await this.#waitUntil(deadline, what);
    }
  }

  #waitUntil(deadline: number, what: string): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new Error(`timed out waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = this.#wake.filter((w) => w !== wake);
        reject(new Error(`timed out waiting for ${what}`));
      }, remaining);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#wake.push(wake);
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }
}

/** An upgrade request as POCO's client writes it (HTTP/1.1). */
export function upgradeRequest(
  path: string,
  port: number,
  key: string,
  extra: Array<[string, string]> = [],
  version = 'HTTP/1.1',
): string {
  const lines = [
    `GET ${path} ${version}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${key}`,
    `Host: 127.0.0.1:${port}`,
    ...extra.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
