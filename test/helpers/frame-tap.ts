/**
 * A loopback TCP relay in front of a WebSocket server that reads the frame headers going by in
 * both directions: what the interop tests of permessage-deflate use to see what really crossed
 * the wire (RSV1, opcodes, fragments, payload sizes) between two implementations neither of
 * which is the test's. Its reader is independent of the library's, as test/helpers/wire.ts's.
 *
 * Each TCP connection is recorded. Both directions start in HTTP: the bytes up to the end of
 * the request (or response) head are kept as text; after a request head with
 * `Upgrade: websocket`, and after a `101` response head, frames follow and their headers are
 * read, their payloads only counted. A connection that stays HTTP (a page, a favicon) is only
 * relayed. A frame is recorded as soon as its header has gone by, before any byte of its
 * payload is passed on: once an endpoint has received a message, its frames are all recorded.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { within } from './wait.js';
import { OP_CONT } from './wire.js';

export interface TappedFrame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly rsv2: boolean;
  readonly rsv3: boolean;
  readonly opcode: number;
  readonly masked: boolean;
  /** The payload's length on the wire (compressed, if it is). */
  readonly length: number;
}

/** A data message as it crossed the wire: its frames, from the first to the one with FIN. */
export interface TappedMessage {
  /** wire.ts's OP_TEXT or OP_BINARY: the first frame's opcode. */
  readonly opcode: number;
  /** RSV1 of the first frame: the message is compressed (RFC 7692 §6). */
  readonly compressed: boolean;
  /** How many frames carried it. */
  readonly frames: number;
  /** Payload bytes on the wire, all frames together. */
  readonly wireBytes: number;
  /** Some continuation frame had RSV1, RSV2 or RSV3 set (RFC 7692 §6.1 forbids RSV1 there). */
  readonly rsvOnContinuation: boolean;
  /** The message is complete (its FIN frame went by). */
  readonly complete: boolean;
}

export class TappedDirection {
  /** The HTTP head (request or response) up to and without the blank line. */
  head = '';
  /** Every byte that went this way, head included. */
  bytes = 0;
  readonly frames: TappedFrame[] = [];

  #mode: 'head' | 'frames' | 'plain' = 'head';
  #headBytes: Buffer = Buffer.alloc(0);
  /** Header bytes of a frame not yet complete. */
  #pending: Buffer = Buffer.alloc(0);
  /** Payload bytes still to skip. */
  #skip = 0;

  constructor(private readonly isUpgrade: (head: string) => boolean) {}

  /** The data messages, in order (control frames left out). */
  messages(): TappedMessage[] {
    const messages: TappedMessage[] = [];
    let current: {
      opcode: number;
      compressed: boolean;
      frames: number;
      wireBytes: number;
      rsvOnContinuation: boolean;
    } | null = null;
    for (const frame of this.frames) {
      if (frame.opcode >= 0x8) continue;
      if (frame.opcode !== OP_CONT || current === null) {
        if (current !== null) messages.push({ ...current, complete: false });
        current = {
          opcode: frame.opcode,
          compressed: frame.rsv1,
          frames: 0,
          wireBytes: 0,
          rsvOnContinuation: false,
        };
      } else if (frame.rsv1 || frame.rsv2 || frame.rsv3) {
        current.rsvOnContinuation = true;
      }
      current.frames += 1;
      current.wireBytes += frame.length;
      if (frame.fin) {
        messages.push({ ...current, complete: true });
        current = null;
      }
    }
    if (current !== null) messages.push({ ...current, complete: false });
    return messages;
  }

  /** Reads a chunk that is being relayed. */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let offset = 0;
    if (this.#mode === 'head') {
      this.#headBytes = Buffer.concat([this.#headBytes, chunk]);
      const end = this.#headBytes.indexOf('\r\n\r\n');
      if (end === -1) {
        if (this.#headBytes.length > 64 * 1024) this.#mode = 'plain';
        return;
      }
      this.head = this.#headBytes.subarray(0, end).toString('latin1');
      // What of this chunk came after the head.
      offset = chunk.length - (this.#headBytes.length - (end + 4));
      this.#headBytes = Buffer.alloc(0);
      this.#mode = this.isUpgrade(this.head) ? 'frames' : 'plain';
    }
    if (this.#mode !== 'frames') return;
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - offset);
        this.#skip -= n;
        offset += n;
        continue;
      }
      const had = this.#pending.length;
      const take = Math.min(14 - had, chunk.length - offset);
      const header = Buffer.concat([this.#pending, chunk.subarray(offset, offset + take)]);
      const size = headerSize(header);
      if (size === undefined || header.length < size) {
        this.#pending = header;
        offset += take;
        continue;
      }
      this.#pending = Buffer.alloc(0);
      offset += size - had;
      const frame = readHeader(header);
      this.frames.push(frame);
      this.#skip = frame.length;
    }
  }
}

/** The header's length, once its first two bytes are there. */
function headerSize(header: Buffer): number | undefined {
  if (header.length < 2) return undefined;
  const len7 = header[1] & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  return 2 + extended + ((header[1] & 0x80) !== 0 ? 4 : 0);
}

function readHeader(header: Buffer): TappedFrame {
  const len7 = header[1] & 0x7f;
  const length =
    len7 === 126 ? header.readUInt16BE(2) : len7 === 127 ? Number(header.readBigUInt64BE(2)) : len7;
  return {
    fin: (header[0] & 0x80) !== 0,
    rsv1: (header[0] & 0x40) !== 0,
    rsv2: (header[0] & 0x20) !== 0,
    rsv3: (header[0] & 0x10) !== 0,
    opcode: header[0] & 0x0f,
    masked: (header[1] & 0x80) !== 0,
    length,
  };
}

export interface TappedConnection {
  /** Client to server: the request head, then the client's frames. */
  readonly toServer: TappedDirection;
  /** Server to client: the response head, then the server's frames. */
  readonly toClient: TappedDirection;
}

export interface FrameTap {
  readonly port: number;
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  /** Every connection relayed, in the order they were accepted. */
  readonly connections: TappedConnection[];
  /** The connections that were upgraded to WebSocket, in order. */
  webSockets(): TappedConnection[];
  /** Stops listening and destroys the connections still open. */
  close(): Promise<void>;
}

const isUpgradeRequest = (head: string) => /^upgrade:[ \t]*websocket[ \t]*$/im.test(head);
const isSwitchingProtocols = (head: string) => /^HTTP\/1\.1 101 /.test(head);

/** Starts a relay on 127.0.0.1 (a free port) to `127.0.0.1:targetPort`. */
export async function startFrameTap(targetPort: number): Promise<FrameTap> {
  const connections: TappedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
  };
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const tapped: TappedConnection = {
      toServer: new TappedDirection(isUpgradeRequest),
      toClient: new TappedDirection(isSwitchingProtocols),
    };
    connections.push(tapped);
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    track(client);
    track(upstream);
    relay(client, upstream, tapped.toServer);
    relay(upstream, client, tapped.toClient);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    webSockets: () => connections.filter((c) => c.toClient.head.startsWith('HTTP/1.1 101 ')),
    close: () =>
      within(
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
        5000,
        'closing the frame tap',
      ),
  };
}

/** Relays `from` to `to`, reading what goes by, with backpressure and half-closes passed on. */
function relay(from: net.Socket, to: net.Socket, direction: TappedDirection): void {
  from.on('data', (chunk: Buffer) => {
    direction.push(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  // Closed without its end (destroyed, reset): the other side is dropped too.
  from.on('close', () => {
    if (!from.readableEnded) to.destroy();
  });
}
