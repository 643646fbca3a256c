/**
 * A minimal HTTP proxy on node:http, started inside a test: CONNECT tunnels (what WebSocket
 * clients use) and forwarding of absolute-form requests, optionally demanding Basic proxy
 * credentials or refusing every tunnel with a given status. It records what it was asked.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import net from 'node:net';

export interface Proxy {
  port: number;
  connects: Array<{ target: string; authorization: string | undefined }>;
  forwarded: Array<{ url: string; authorization: string | undefined }>;
  stop(): void;
}

/** A minimal HTTP proxy: CONNECT tunnels, and forwarding of absolute-form requests. */
export async function startProxy(
  options: { credentials?: string; refuse?: number } = {},
): Promise<Proxy> {
  const connects: Proxy['connects'] = [];
  const forwarded: Proxy['forwarded'] = [];
  const sockets = new Set<net.Socket>();
  const expected =
    options.credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const server = http.createServer((req, res) => {
    forwarded.push({ url: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      res
        .writeHead(407, { 'Proxy-Authenticate': 'Basic realm="proxy"', 'Content-Length': '0' })
        .end();
      return;
    }
    const url = new URL(req.url ?? '');
    const upstream = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: req.method,
        headers: { host: url.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    client.on('error', () => undefined);
    if (options.refuse !== undefined) {
      client.end(
        `HTTP/1.1 ${options.refuse} ${http.STATUS_CODES[options.refuse]}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    sockets.add(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connects,
    forwarded,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
