/**
 * A SOCKS5 server (RFC 1928, with RFC 1929 user name and password) on node:net, started inside a
 * test. It relays CONNECT tunnels to their targets and records what each client asked (the
 * methods offered, the credentials, the address type, host and port), so that a test can tell
 * socks5 (an address) from socks5h (a name). It can refuse every CONNECT with a given reply
 * code, or misbehave at a chosen point.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';

export interface SocksRequest {
  /** The methods the client's greeting offered. */
  readonly methods: number[];
  /** RFC 1929's user name and password, when the client sent them. */
  readonly username?: string;
  readonly password?: string;
  /** The CONNECT's address type and destination, when the client got that far. */
  readonly addressType?: 'ipv4' | 'ipv6' | 'domain';
  readonly host?: string;
  readonly port?: number;
}

/** How the server misbehaves (instead of answering properly). */
export type SocksMisbehaviour =
  /** Answers the greeting with an HTTP response. */
  | 'http-answer'
  /** Closes the connection after one byte of the greeting's reply. */
  | 'close-mid-greeting'
  /** Closes the connection after the first two bytes of a successful CONNECT reply. */
  | 'close-mid-reply'
  /** Answers the CONNECT with a reserved byte that is not 0. */
  | 'bad-reserved'
  /** Answers the CONNECT with address type 0x09. */
  | 'bad-address-type'
  /** Sends the method selection and then more bytes, unasked. */
  | 'extra-bytes'
  /** Never answers the greeting. */
  | 'silent';

export interface SocksServerOptions {
  /** Require these credentials (method 0x02); otherwise no authentication (0x00). */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Answer every CONNECT with this reply code (1-8) instead of connecting. */
  readonly refuse?: number;
  readonly misbehave?: SocksMisbehaviour;
}

export interface SocksServer {
  readonly port: number;
  readonly requests: SocksRequest[];
  stop(): void;
}

/** Reads exact byte counts from a socket (the test's side: a proxy's parser). */
function reader(socket: net.Socket) {
  let buffered = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiting?.();
  });
  socket.on('close', () => {
    ended = true;
    waiting?.();
  });
  return {
    async read(count: number): Promise<Buffer> {
      while (buffered.length < count) {
        if (ended) throw new Error('client closed');
        await new Promise<void>((resolve) => (waiting = resolve));
        waiting = undefined;
      }
      const bytes = buffered.subarray(0, count);
      buffered = buffered.subarray(count);
      return bytes;
    },
    rest(): Buffer {
      socket.removeAllListeners('data');
      return buffered;
    },
  };
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

const SUCCESS_REPLY = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]);

export async function startSocksServer(options: SocksServerOptions = {}): Promise<SocksServer> {
  const requests: SocksRequest[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };

  async function serve(client: net.Socket): Promise<void> {
    const input = reader(client);
    const [version, count] = await input.read(2);
    if (version !== 5) return void client.destroy();
    const methods = [...(await input.read(count))];
    const request: { -readonly [K in keyof SocksRequest]: SocksRequest[K] } = { methods };
    requests.push(request);
    switch (options.misbehave) {
      case 'http-answer':
        return void client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      case 'close-mid-greeting':
        return void client.end(Buffer.from([5]));
      case 'silent':
        return;
      case 'extra-bytes':
        return void client.write(Buffer.from([5, 0, 5, 0, 0]));
      default:
    }
    const wanted = options.credentials === undefined ? 0x00 : 0x02;
    if (!methods.includes(wanted)) return void client.end(Buffer.from([5, 0xff]));
    client.write(Buffer.from([5, wanted]));
    if (options.credentials !== undefined) {
      const [authVersion, userLength] = await input.read(2);
      if (authVersion !== 1) return void client.destroy();
      request.username = (await input.read(userLength)).toString();
      const [passLength] = await input.read(1);
      request.password = (await input.read(passLength)).toString();
      const ok =
        request.username === options.credentials.username &&
        request.password === options.credentials.password;
      if (!ok) return void client.end(Buffer.from([1, 1]));
      client.write(Buffer.from([1, 0]));
    }
    const [, command, reserved, atyp] = await input.read(4);
    if (command !== 1 || reserved !== 0)
      return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
    if (atyp === 1) {
      request.addressType = 'ipv4';
      request.host = [...(await input.read(4))].join('.');
    } else if (atyp === 4) {
      request.addressType = 'ipv6';
      request.host = ipv6Text(await input.read(16));
    } else if (atyp === 3) {
      request.addressType = 'domain';
      const [length] = await input.read(1);
      request.host = (await input.read(length)).toString();
    } else return void client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
    request.port = (await input.read(2)).readUInt16BE(0);
    if (options.refuse !== undefined)
      return void client.end(Buffer.from([5, options.refuse, 0, 1, 0, 0, 0, 0, 0, 0]));
    switch (options.misbehave) {
      case 'close-mid-reply':
        return void client.end(SUCCESS_REPLY.subarray(0, 2));
      case 'bad-reserved':
        return void client.end(Buffer.from([5, 0, 1, 1, 127, 0, 0, 1, 0, 0]));
      case 'bad-address-type':
        return void client.end(Buffer.from([5, 0, 0, 9, 127, 0, 0, 1, 0, 0]));
      default:
    }
    const upstream = net.connect({ host: request.host, port: request.port });
    track(upstream);
    upstream.once('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
    upstream.once('connect', () => {
      client.write(SUCCESS_REPLY);
      const early = input.rest();
      if (early.length > 0) upstream.write(early);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  }

  const server = net.createServer((client) => {
    track(client);
    serve(client).catch(() => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
