/**
 * A minimal HTTP proxy on node:http (or node:https: an `https://` proxy), started inside a test:
 * CONNECT tunnels (what WebSocket clients use) and forwarding of absolute-form requests, optionally demanding Basic proxy
 * credentials or refusing every tunnel with a given status, or dropping every tunnel at a chosen
 * point (test/faults/). It records what it was asked.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { parseChallenges, challengeParam } from '../../src/protocol/auth/challenge.js';

export interface Proxy {
  port: number;
  connects: Array<{ target: string; authorization: string | undefined }>;
  forwarded: Array<{ url: string; authorization: string | undefined }>;
  stop(): void;
}

/**
 * Where a tunnel is dropped: before the CONNECT is answered, after the 200 (before a byte of the
 * target's reply is relayed), or once the target's reply head (its 101) and then `bytes` more
 * have been relayed; `how`: with a FIN, or a reset. The target's side is closed too.
 */
export interface TunnelDrop {
  readonly at: 'before-answer' | 'after-200' | 'after-head';
  readonly how: 'end' | 'reset';
  /** For `after-head`: how many bytes after the head reach the client. */
  readonly bytes?: number;
}

function drop(socket: net.Socket, how: TunnelDrop['how']): void {
  if (how === 'end') socket.end();
  else socket.resetAndDestroy();
}

/**
 * Relays what `upstream` sends to `client` until the head (through the empty line) and `bytes`
 * more went through, then drops both.
 */
function relayThenDrop(upstream: net.Socket, client: net.Socket, plan: TunnelDrop): void {
  let seen = Buffer.alloc(0);
  let left = -1; // bytes still to relay once the head is through; -1 until then
  upstream.on('data', (chunk: Buffer) => {
    let relay = chunk;
    if (left < 0) {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end === -1) {
        client.write(chunk);
        return;
      }
      const afterHead = seen.length - (end + 4); // of this chunk, what follows the head
      client.write(chunk.subarray(0, chunk.length - afterHead));
      relay = chunk.subarray(chunk.length - afterHead);
      left = plan.bytes ?? 0;
    }
    const part = relay.subarray(0, left);
    left -= part.length;
    if (part.length > 0) client.write(part);
    if (left === 0) {
      upstream.destroy();
      drop(client, plan.how);
    }
  });
}

/**
 * Credentials a proxy demands of a CONNECT with a 407: Basic, or Digest (MD5, `qop=auth`, a
 * fresh nonce per challenge, checked here with its own arithmetic, not the client's code).
 */
export interface ProxyAuth {
  readonly scheme: 'basic' | 'digest';
  readonly username: string;
  readonly password: string;
  /** Extra challenges offered before ours in the same 407 (e.g. `Negotiate`). */
  readonly alsoOffer?: readonly string[];
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** Whether a `Proxy-Authorization` value answers one of `nonces` with `auth` for `method uri`. */
function digestAccepted(
  value: string | undefined,
  auth: ProxyAuth,
  nonces: ReadonlySet<string>,
  method: string,
): boolean {
  if (value === undefined) return false;
  const [challenge] = parseChallenges(value);
  if (challenge === undefined || challenge.scheme.toLowerCase() !== 'digest') return false;
  const param = (name: string) => challengeParam(challenge, name) ?? '';
  if (param('username') !== auth.username || !nonces.has(param('nonce'))) return false;
  const ha1 = md5(`${auth.username}:${param('realm')}:${auth.password}`);
  const ha2 = md5(`${method}:${param('uri')}`);
  const expected = md5(
    `${ha1}:${param('nonce')}:${param('nc')}:${param('cnonce')}:${param('qop')}:${ha2}`,
  );
  return param('qop') === 'auth' && param('response') === expected;
}

/** A minimal HTTP proxy: CONNECT tunnels, and forwarding of absolute-form requests. */
export async function startProxy(
  options: {
    credentials?: string;
    auth?: ProxyAuth;
    refuse?: number;
    drop?: TunnelDrop;
    /** Serve over TLS (an `https://` proxy) with this certificate and key. */
    tls?: { cert: string | Buffer; key: string | Buffer };
  } = {},
): Promise<Proxy> {
  const connects: Proxy['connects'] = [];
  const forwarded: Proxy['forwarded'] = [];
  const sockets = new Set<net.Socket>();
  const expected =
    options.credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const auth = options.auth;
  const nonces = new Set<string>();
  /** The 407 a CONNECT without acceptable credentials gets from `options.auth`. */
  const challenge = (): string => {
    const offers = [...(auth!.alsoOffer ?? [])];
    if (auth!.scheme === 'basic') offers.push('Basic realm="proxy"');
    else {
      const nonce = randomBytes(8).toString('hex');
      nonces.add(nonce);
      offers.push(`Digest realm="proxy", qop="auth", nonce="${nonce}", algorithm=MD5`);
    }
    return `HTTP/1.1 407 Proxy Authentication Required\r\n${offers
      .map((offer) => `Proxy-Authenticate: ${offer}\r\n`)
      .join('')}Content-Length: 9\r\n\r\nwho goes?`;
  };
  const authAccepted = (req: http.IncomingMessage): boolean => {
    const given = req.headers['proxy-authorization'];
    if (auth === undefined) return true;
    if (auth.scheme === 'basic')
      return (
        given === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      );
    return digestAccepted(given, auth, nonces, req.method ?? '');
  };
  const handler: http.RequestListener = (req, res) => {
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
  };
  const server =
    options.tls === undefined
      ? http.createServer(handler)
      : https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler);
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
    if (!authAccepted(req)) {
      client.end(challenge());
      return;
    }
    if (options.drop?.at === 'before-answer') {
      drop(client, options.drop.how);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const plan = options.drop;
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (plan?.at === 'after-200') {
        upstream.destroy();
        // Once the 200 is written: a reset would otherwise throw it away.
        client.write('', () => drop(client, plan.how));
        return;
      }
      if (head.length > 0) upstream.write(head);
      if (plan?.at === 'after-head') relayThenDrop(upstream, client, plan);
      else upstream.pipe(client);
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
