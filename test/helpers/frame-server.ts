/**
 * A WebSocket server written at the socket level, for testing clients byte by byte: it answers
 * the opening handshake by hand (RFC 6455 §4.2.2) and then hands the socket to the test as a
 * {@link RawClient}, which sends whatever frames the test writes and reads the client's frames.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { DEFAULT_WAIT_MS, RawClient } from './raw-client.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface FrameServer {
  readonly port: number;
  readonly url: string;
  /** The next connection whose handshake was answered, as a byte-level peer. */
  next(timeoutMs?: number): Promise<RawClient>;
  /** Closes the listener and every connection it accepted. */
  stop(): Promise<void>;
}

/** `extensions`: a `Sec-WebSocket-Extensions` value the 101 carries (e.g. `permessage-deflate`). */
export async function startFrameServer(
  options: { extensions?: string } = {},
): Promise<FrameServer> {
  const sockets = new Set<net.Socket>();
  const ready: RawClient[] = [];
  const waiting: Array<(peer: RawClient) => void> = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const request = head.subarray(0, end).toString('latin1');
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(request)?.[1];
      // A client must wait for the 101 before it sends frames (§4.1): nothing may follow the head.
      if (key === undefined || head.length > end + 4) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        return;
      }
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n` +
          (options.extensions === undefined
            ? ''
            : `Sec-WebSocket-Extensions: ${options.extensions}\r\n`) +
          '\r\n',
      );
      // Synchronously, in the same turn: no 'data' event can fall between the two listeners.
      const peer = RawClient.wrap(socket);
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(peer);
      else ready.push(peer);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    next(timeoutMs = DEFAULT_WAIT_MS) {
      const peer = ready.shift();
      if (peer !== undefined) return Promise.resolve(peer);
      return new Promise<RawClient>((resolve, reject) => {
        const deliver = (p: RawClient) => {
          clearTimeout(timer);
          resolve(p);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(deliver), 1);
          reject(new Error('timed out waiting for a client to connect'));
        }, timeoutMs);
        waiting.push(deliver);
      });
    },
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
