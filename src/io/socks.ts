/**
 * A SOCKS5 client on node:net: RFC 1928 (the greeting, the method the proxy selects, CONNECT with
 * an IPv4, IPv6 or domain-name address) and RFC 1929 (user name and password).
 *
 * `openSocksTunnel` resolves with a socket whose bytes are the target's, as an HTTP proxy's
 * CONNECT tunnel does; TLS for wss:// then runs over it. `socks5://` resolves the target's name
 * here (node:dns) and sends the address; `socks5h://` sends the name and lets the proxy resolve
 * it (curl's and python's naming). Every byte the proxy sends is checked, and read against an
 * exact count: a reply is a few hundred bytes at most, and anything the proxy sends before its
 * reply is due is an error, so a proxy never makes this side buffer more than one read.
 */
import { Buffer } from 'node:buffer';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { InvalidArgumentError } from '../protocol/errors.js';
import { ConnectError, boundedSocket, type Cancellation, type Endpoint } from './http-client.js';

/** A SOCKS5 proxy, as a `socks5://` or `socks5h://` URL names it. */
export interface SocksProxy extends Endpoint {
  /** Where the target's name is resolved: here (`socks5://`) or by the proxy (`socks5h://`). */
  readonly resolve: 'local' | 'proxy';
  /** RFC 1929 credentials, from the URL's user info. */
  readonly credentials?: { readonly username: string; readonly password: string };
}

/** The port of a SOCKS proxy URL without one (IANA's, and curl's default). */
export const SOCKS_DEFAULT_PORT = 1080;

const VERSION = 0x05;
const AUTH_VERSION = 0x01; // RFC 1929's sub-negotiation version
const METHOD_NONE = 0x00;
const METHOD_PASSWORD = 0x02;
const METHOD_REFUSED = 0xff;
const COMMAND_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 §6's reply codes, in words. */
const REPLIES: Record<number, string> = {
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused by destination',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

/** Which part of the exchange failed. */
export type SocksStage = 'greeting' | 'authentication' | 'connect';

/**
 * The SOCKS5 proxy refused, failed or broke the protocol. A `ConnectError` of kind
 * `proxy-refused` (the message API's `NetworkError` 'proxy'), with the proxy's reply code when it
 * sent one.
 */
export class SocksError extends ConnectError {
  constructor(
    readonly stage: SocksStage,
    message: string,
    /** RFC 1928's REP (CONNECT), or RFC 1929's STATUS (authentication), when the proxy sent one. */
    readonly reply?: number,
  ) {
    super('proxy-refused', `SOCKS5 proxy: ${message}`);
  }
}

/** The `socks5://` / `socks5h://` URL as a {@link SocksProxy}; undefined for any other scheme. */
export function parseSocksUrl(url: URL): SocksProxy | undefined {
  const scheme = url.protocol;
  if (scheme === 'socks4:' || scheme === 'socks4a:' || scheme === 'socks:')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `${scheme}// proxies are not supported: use socks5:// or socks5h://`,
    );
  if (scheme !== 'socks5:' && scheme !== 'socks5h:') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new InvalidArgumentError('INVALID_OPTION', 'the proxy URL names no host');
  const port = url.port === '' ? SOCKS_DEFAULT_PORT : Number(url.port);
  const resolve = scheme === 'socks5h:' ? 'proxy' : 'local';
  if (url.username === '' && url.password === '') return { host, port, resolve };
  const credentials = { username: decode(url.username), password: decode(url.password) };
  // RFC 1929: ULEN is 1 to 255 bytes, PLEN at most 255 (an empty password is sent as PLEN 0,
  // as curl does for `socks5://user@host`).
  const user = Buffer.byteLength(credentials.username);
  if (user < 1 || user > 255 || Buffer.byteLength(credentials.password) > 255)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      'a SOCKS5 user name is 1 to 255 bytes and a password at most 255 (RFC 1929)',
    );
  return { host, port, resolve, credentials };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentError('INVALID_OPTION', 'invalid percent-encoding in the proxy URL');
  }
}

/** The 16 bytes of an IPv6 literal (which `net.isIPv6` accepted), `::` and a dotted tail included. */
export function ipv6Bytes(address: string): Buffer {
  let text = address;
  const groups: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (dotted !== null) {
    const octets = dotted[1].split('.').map(Number);
    tail = [(octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]];
    text = text.slice(0, -dotted[1].length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const before = parse(head);
  const after = [...(rest === undefined ? [] : parse(rest)), ...tail];
  const missing = 8 - before.length - after.length;
  if (rest === undefined) groups.push(...before, ...tail);
  else groups.push(...before, ...new Array<number>(missing).fill(0), ...after);
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

/** DST.ADDR with its ATYP: an address literal as such, a name as a domain (at most 255 bytes). */
function destination(host: string): Buffer {
  const family = net.isIP(host);
  if (family === 4) return Buffer.from([ATYP_IPV4, ...host.split('.').map(Number)]);
  if (family === 6) return Buffer.concat([Buffer.from([ATYP_IPV6]), ipv6Bytes(host)]);
  const name = Buffer.from(host);
  if (name.length > 255)
    throw new SocksError(
      'connect',
      `a host name of ${name.length} bytes cannot be sent (at most 255, RFC 1928 §5)`,
    );
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
}

/**
 * Reads exact byte counts from a socket that is being set up, in paused mode (`'readable'` and
 * `read()`). While a read waits, what the socket holds is moved here; otherwise it waits in the
 * socket's own buffer (bounded by its high-water mark: past it, the socket stops reading), so a
 * proxy never makes this side hold more than that. Bytes sent out of turn are seen by
 * `expectNothingMore`; bytes past the last reply go back to the socket for the tunnel's user.
 */
class ExactReader {
  #buffered: Buffer = Buffer.alloc(0);
  #want:
    { count: number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;
  readonly #socket: net.Socket;
  readonly #stage: () => SocksStage;

  constructor(socket: net.Socket, stage: () => SocksStage) {
    this.#socket = socket;
    this.#stage = stage;
    socket.on('readable', this.#deliver);
    // 'end' comes once everything was read: a read that waits takes all there is, so it comes.
    socket.once('end', this.#onEnd);
    socket.once('close', this.#onEnd);
  }

  #onEnd = (): void => {
    this.#failure ??= new SocksError(
      this.#stage(),
      `the proxy closed the connection during the ${this.#stage()} (${this.#buffered.length} of ${this.#want?.count ?? 0} bytes of a reply received)`,
    );
    const want = this.#want;
    this.#want = undefined;
    want?.reject(this.#failure);
  };

  #deliver = (): void => {
    const want = this.#want;
    if (want === undefined) return;
    let chunk: Buffer | null;
    while (this.#buffered.length < want.count && (chunk = this.#socket.read() as Buffer | null))
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    if (this.#buffered.length < want.count) return;
    const bytes = this.#buffered.subarray(0, want.count);
    this.#buffered = this.#buffered.subarray(want.count);
    this.#want = undefined;
    want.resolve(bytes);
  };

  /** Exactly `count` bytes (at most 255 here, so a proxy bounds nothing but its own reply). */
  read(count: number): Promise<Buffer> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#want = { count, resolve, reject };
      this.#deliver();
    });
  }

  /** Fails if the proxy sent more than was read: it may not speak before its turn. */
  expectNothingMore(): void {
    const extra = this.#buffered.length + this.#socket.readableLength;
    if (extra > 0)
      throw new SocksError(
        this.#stage(),
        `the proxy sent ${extra} bytes more than its ${this.#stage()} reply`,
      );
  }

  /**
   * Stops reading: what came past the last reply is the target's and goes back to the socket,
   * which starts flowing again when its next user listens for 'data' (no 'readable' listener is
   * left, and it was never paused).
   */
  release(): void {
    this.#socket.off('readable', this.#deliver);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    if (this.#buffered.length > 0) this.#socket.unshift(this.#buffered);
    this.#buffered = Buffer.alloc(0);
  }
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** The proxy's socket, connected (errors: ConnectError 'network', naming the proxy). */
function connectToProxy(proxy: SocksProxy, onSocket: (socket: net.Socket) => void) {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    onSocket(socket);
    const onError = (error: Error) =>
      reject(
        new ConnectError(
          'network',
          `cannot reach the SOCKS5 proxy at ${proxy.host}:${proxy.port}: ${error.message}`,
          undefined,
          undefined,
          { cause: error },
        ),
      );
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** The address to send: the name itself (socks5h), or what node:dns resolves it to (socks5). */
async function addressToSend(proxy: SocksProxy, host: string): Promise<string> {
  if (proxy.resolve === 'proxy' || net.isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (error) {
    throw new ConnectError(
      'network',
      `cannot resolve ${host}: ${(error as Error).message}`,
      undefined,
      undefined,
      { cause: error },
    );
  }
}

export interface SocksTunnelOptions {
  /** Gives up (closing the proxy's socket) when this aborts, with its reason. */
  readonly signal?: Cancellation;
  /**
   * How long resolving, connecting to the proxy and its replies may take (0 or absent: no limit
   * of its own, as when a handshake deadline covers it); a ConnectError 'timeout' then.
   */
  readonly timeoutMs?: number;
}

/**
 * A tunnel to `target` through the SOCKS5 `proxy`: resolves with the socket, whose bytes from now
 * on are the target's (the first ones, if the proxy sent them with its reply, included). On any
 * failure the proxy's socket is closed.
 */
export async function openSocksTunnel(
  proxy: SocksProxy,
  target: Endpoint,
  options: SocksTunnelOptions = {},
): Promise<net.Socket> {
  let socket: net.Socket | undefined;
  const limit = options.timeoutMs ?? 0;
  const exchange = (async () => {
    const address = await addressToSend(proxy, target.host);
    const dst = destination(address); // before connecting: a name too long is never sent
    const connected = await connectToProxy(proxy, (made) => (socket = made));
    return negotiate(connected, proxy, dst, target.port);
  })();
  return boundedSocket(exchange, {
    timeoutMs: limit,
    timeoutMessage: `SOCKS5 proxy: no tunnel within ${limit} ms`,
    signal: options.signal,
    halfMade: () => socket,
  });
}

async function negotiate(
  socket: net.Socket,
  proxy: SocksProxy,
  dst: Buffer,
  port: number,
): Promise<net.Socket> {
  let stage: SocksStage = 'greeting';
  // The socket's own errors (a reset) end the read under way; the reader reports a close.
  const onError = () => undefined;
  socket.on('error', onError);
  const reader = new ExactReader(socket, () => stage);
  try {
    // RFC 1928 §3: VER, NMETHODS, METHODS. With credentials both are offered (curl does too): a
    // proxy that needs none may say so.
    const methods =
      proxy.credentials === undefined ? [METHOD_NONE] : [METHOD_NONE, METHOD_PASSWORD];
    socket.write(Buffer.from([VERSION, methods.length, ...methods]));
    const [version, method] = await reader.read(2);
    if (version !== VERSION)
      throw new SocksError(
        'greeting',
        `not a SOCKS5 proxy: its reply starts with ${hex(version)}, not 0x05`,
      );
    reader.expectNothingMore();
    if (method === METHOD_REFUSED)
      throw new SocksError(
        'greeting',
        proxy.credentials === undefined
          ? 'authentication failed: the proxy accepts no connection without credentials (give user:password in the proxy URL)'
          : 'authentication failed: the proxy accepts none of the methods offered (none, username/password)',
        method,
      );
    if (!methods.includes(method))
      throw new SocksError(
        'greeting',
        `the proxy chose method ${hex(method)}, which was not offered`,
      );
    if (method === METHOD_PASSWORD) {
      stage = 'authentication';
      const { username, password } = proxy.credentials!;
      const user = Buffer.from(username);
      const pass = Buffer.from(password);
      socket.write(
        Buffer.concat([
          Buffer.from([AUTH_VERSION, user.length]),
          user,
          Buffer.from([pass.length]),
          pass,
        ]),
      );
      const [authVersion, status] = await reader.read(2);
      if (authVersion !== AUTH_VERSION)
        throw new SocksError(
          'authentication',
          `invalid authentication reply: version ${hex(authVersion)}, not 0x01 (RFC 1929)`,
        );
      if (status !== 0x00)
        throw new SocksError(
          'authentication',
          `authentication failed: the proxy refused the user name and password (status ${hex(status)})`,
          status,
        );
      reader.expectNothingMore();
    }
    stage = 'connect';
    const request = Buffer.alloc(3 + dst.length + 2);
    request.set([VERSION, COMMAND_CONNECT, 0x00]);
    dst.copy(request, 3);
    request.writeUInt16BE(port, 3 + dst.length);
    socket.write(request);
    // RFC 1928 §6: VER, REP, RSV, ATYP, BND.ADDR, BND.PORT. VER and REP first: a proxy that
    // refuses may close right after them.
    const [replyVersion, reply] = await reader.read(2);
    if (replyVersion !== VERSION)
      throw new SocksError('connect', `invalid reply: version ${hex(replyVersion)}, not 0x05`);
    if (reply !== 0x00)
      throw new SocksError(
        'connect',
        `${REPLIES[reply] ?? `unassigned reply code ${hex(reply)}`} (reply ${hex(reply)})`,
        reply,
      );
    const [reserved, atyp] = await reader.read(2);
    if (reserved !== 0x00)
      throw new SocksError('connect', `invalid reply: reserved byte ${hex(reserved)}, not 0x00`);
    // BND.ADDR is read (to find where the tunnel's bytes start) and not used: a CONNECT's bound
    // address tells a client nothing it needs.
    if (atyp === ATYP_IPV4) await reader.read(4);
    else if (atyp === ATYP_IPV6) await reader.read(16);
    else if (atyp === ATYP_DOMAIN) {
      const [length] = await reader.read(1);
      if (length > 0) await reader.read(length);
    } else throw new SocksError('connect', `invalid reply: address type ${hex(atyp)}`);
    await reader.read(2); // BND.PORT
    reader.release();
    socket.off('error', onError);
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
