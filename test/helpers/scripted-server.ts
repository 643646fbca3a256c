/**
 * A server that answers each HTTP request with what a test script says, byte for byte, and
 * records what it received and on which connection: for testing a client's handshake flows.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';

export interface ReceivedRequest {
  /** Which TCP connection (0, 1, ...) it came on. */
  connection: number;
  requestLine: string;
  headers: Array<[string, string]>;
  /** The head as received. */
  raw: string;
}

export function header(request: ReceivedRequest, name: string): string | undefined {
  return request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/**
 * What to send back: bytes (and keep the connection), bytes then close, nothing at all (hang), or
 * a reset (close).
 */
export type Reply =
  string | Buffer | { send: string | Buffer; close: true } | { hang: true } | { close: true };

export interface ScriptedServer {
  port: number;
  requests: ReceivedRequest[];
  /** Sockets, for tests that write more after a reply. */
  sockets: net.Socket[];
  stop(): void;
}

export async function startScriptedServer(
  script: (request: ReceivedRequest, index: number) => Reply,
): Promise<ScriptedServer> {
  const requests: ReceivedRequest[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const connection = sockets.length;
    sockets.push(socket);
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const raw = buffered.subarray(0, end + 4).toString('latin1');
        buffered = buffered.subarray(end + 4);
        const [requestLine = '', ...lines] = raw.slice(0, -4).split('\r\n');
        const headers = lines.map((line): [string, string] => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon), line.slice(colon + 1).trim()];
        });
        const request = { connection, requestLine, headers, raw };
        requests.push(request);
        const reply = script(request, requests.length - 1);
        if (typeof reply === 'string' || Buffer.isBuffer(reply)) {
          socket.write(reply);
          continue;
        }
        if ('hang' in reply) continue;
        if ('send' in reply) {
          socket.end(reply.send);
          return;
        }
        socket.destroy();
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    sockets,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
