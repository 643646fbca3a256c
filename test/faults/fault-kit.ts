/**
 * What the fault suite (test/faults/) shares: the two faults a TCP peer can inflict (EOF and a
 * reset) after any prefix of the bytes it owes, the frames that are cut, a process-wide count
 * of open TCP sockets (the leak check), a good client's visit (the server still serves) and a
 * server that answers a handshake with only the first bytes of its 101.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import type tls from 'node:tls';
import { NetworkError } from '../../src/messages/index.js';
import { PocoException, WebSocketException } from '../../src/poco/index.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import { RawClient } from '../helpers/raw-client.js';
import { FIN, OP_CLOSE, OP_TEXT, close, cont, encode, readFrame, text } from '../helpers/wire.js';

/** `end`: FIN after the bytes; `reset`: an RST after them. */
export type Fault = 'end' | 'reset';
export const FAULTS: readonly Fault[] = ['end', 'reset'];

/** Writes `bytes` (waiting until the kernel has them), then ends or resets `socket`. */
export async function cutAfter(socket: net.Socket, bytes: Uint8Array, fault: Fault): Promise<void> {
  if (bytes.length > 0) await new Promise<void>((resolve) => socket.write(bytes, () => resolve()));
  if (fault === 'end') socket.end();
  else socket.resetAndDestroy();
}

/** A frame sequence to cut at every byte, and where its frames end (a cut there is between frames). */
export interface CutFrames {
  readonly name: string;
  readonly bytes: Buffer;
  /** Offsets at which a whole frame ends. */
  readonly boundaries: readonly number[];
  readonly isClose: boolean;
}

/**
 * The three frame sequences of the suite, masked (a client's) or not (a server's): a 200-byte
 * text frame (16-bit length), a message in two fragments, and a close frame with a reason.
 */
export function framesToCut(masked: boolean): CutFrames[] {
  const long = encode(text('x'.repeat(200)), masked);
  const first = encode(text('fragmented ', { fin: false }), masked);
  const second = encode(cont('message'), masked);
  const closing = encode(close(1000, 'bye'), masked);
  return [
    { name: 'a 200-byte text frame', bytes: long, boundaries: [long.length], isClose: false },
    {
      name: 'a message in two fragments',
      bytes: Buffer.concat([first, second]),
      boundaries: [first.length, first.length + second.length],
      isClose: false,
    },
    { name: 'a close frame', bytes: closing, boundaries: [closing.length], isClose: true },
  ];
}

/** Open TCP sockets of this process (both ends of a loopback connection count). */
export function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

/** Waits until this process holds no more TCP sockets than `baseline`: nothing leaked. */
export async function noSocketLeft(baseline: number, what: string): Promise<void> {
  await until(() => tcpSockets() <= baseline, `every socket of ${what} to close`);
}

/**
 * Resolves once `condition()` holds, checked every millisecond (the suite runs thousands of
 * faults, each waiting for a socket to close); rejects after `ms`.
 */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * A good client's visit, written at the byte level so that it depends on neither API under test:
 * the handshake, a text message echoed, a clean close (the server closes TCP). Proves that the
 * server still serves after a fault.
 */
export async function goodVisit(
  port: number,
  what: string,
  secure?: tls.ConnectionOptions,
): Promise<void> {
  const { client } = await RawClient.open(port, '/ws', secure === undefined ? {} : { tls: secure });
  try {
    const message = `served after ${what}`;
    client.write(encode(text(message), true));
    const echoed = await readFrame(client, 5000);
    assert.equal(echoed.flags, FIN | OP_TEXT, `the echo's flags after ${what}`);
    assert.equal(echoed.payload.toString(), message, `the echo after ${what}`);
    client.write(encode(close(1000), true));
    const closing = await readFrame(client, 5000);
    assert.equal(closing.flags, FIN | OP_CLOSE, `the close after ${what}`);
    await client.closed(5000);
  } finally {
    client.destroy();
  }
}

/** The 101 a server owes the request `head` (RFC 6455 §4.2.2). */
export function switchingFor(head: string): Buffer {
  const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1] ?? '';
  return Buffer.from(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`,
    'latin1',
  );
}

/** A server whose next answer is the first `cut` bytes of the 101, then `fault`. */
export interface CuttingServer {
  readonly port: number;
  /** Arms the next connection: how much of its 101 it gets, and how it ends. */
  arm(cut: number, fault: Fault): void;
  stop(): Promise<void>;
}

export async function startCuttingServer(): Promise<CuttingServer> {
  let plan: { cut: number; fault: Fault } = { cut: 0, fault: 'end' };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const { cut, fault } = plan;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.resume(); // whatever the client sends next is read and dropped
      const answer = switchingFor(head.subarray(0, end).toString('latin1'));
      void cutAfter(socket, answer.subarray(0, cut), fault);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: (cut, fault) => (plan = { cut, fault }),
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The length of the 101 that {@link startCuttingServer} answers with (its key's accept is 28 characters). */
export const SWITCHING_LENGTH = switchingFor('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==').length;

/**
 * A TCP relay in front of a server, through which a man in the middle can inject bytes: after
 * `inject`, the relay stops forwarding in that direction and writes `bytes` instead (garbage
 * inside a TLS stream). When either side closes, the relay closes the other.
 */
export interface Relay {
  readonly port: number;
  /** Injects into the latest connection, toward its client or its server. */
  inject(toward: 'client' | 'server', bytes: Uint8Array): void;
  stop(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let latest: { client: net.Socket; upstream: net.Socket } | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    latest = { client, upstream };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    inject(toward, bytes) {
      if (latest === undefined) throw new Error('no connection to inject into');
      const { client, upstream } = latest;
      if (toward === 'client') {
        upstream.unpipe(client);
        client.write(bytes);
      } else {
        client.unpipe(upstream);
        upstream.write(bytes);
      }
    },
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Bytes that are no TLS record: plain HTTP, then bytes that are not even that. */
export const GARBAGE = Buffer.concat([
  Buffer.from('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1'),
  Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 151 + 7) & 0xff)),
]);

/** A name for an error, for assertions: its class, and POCO's code or the message API's kind. */
export function errorName(error: unknown): string {
  if (error instanceof NetworkError) return `NetworkError ${error.kind}`;
  if (error instanceof WebSocketException) return `WebSocketException ${error.code()}`;
  if (error instanceof PocoException) return error.constructor.name;
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}
