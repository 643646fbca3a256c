/**
 * POCO's `ServerSocket` and `SecureServerSocket`, and NetSSL's `Context`.
 *
 * In POCO the constructor binds and listens, so `ss.address().port()` is known before an
 * `HTTPServer` starts on it. Node binds asynchronously, hence `await ServerSocket.create(...)`;
 * connections that arrive before the server starts wait, as they would in the kernel's backlog.
 */
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import { disposeSymbol } from '../io/disposal.js';
import { Listener } from '../io/listener.js';
import { InvalidArgumentException, netExceptionFrom } from './exceptions.js';
import { SERVED_BY_HTTP_SERVER } from './internal.js';
import { SocketAddress } from './socket-address.js';

/** NetSSL's `Context`: certificates, keys and how peers are verified. */
export class Context {
  /** A server's context (certificate and key required). */
  static readonly TLS_SERVER_USE = 0;
  /** A client's context. */
  static readonly TLS_CLIENT_USE = 1;
  /** Do not verify the peer (a client accepts any server certificate). */
  static readonly VERIFY_NONE = 0;
  /** Verify the peer if it presents a certificate (servers); always (clients). */
  static readonly VERIFY_RELAXED = 1;
  /** Verify the peer, which must present a certificate. */
  static readonly VERIFY_STRICT = 2;
  /** Like `VERIFY_RELAXED` (POCO verifies once per session; Node.js per connection). */
  static readonly VERIFY_ONCE = 3;

  /** `Context.TLS_SERVER_USE` or `Context.TLS_CLIENT_USE`. */
  readonly usage: number;
  /**
   * How peers are verified: `VERIFY_NONE`, `VERIFY_RELAXED` (the default), `VERIFY_STRICT` or
   * `VERIFY_ONCE`.
   */
  readonly verificationMode: number;
  readonly #options: tls.SecureContextOptions;

  /**
   * @param usage `Context.TLS_SERVER_USE` or `Context.TLS_CLIENT_USE`
   * @param options PEM text (`privateKey`, `certificate`, `ca`) or files (`privateKeyFile`,
   *   `certificateFile`, `caLocation`), as POCO's Context takes file names.
   *
   * @throws {@link InvalidArgumentException} when `usage` is neither `TLS_SERVER_USE` nor
   * `TLS_CLIENT_USE`.
   * @throws `Error` (Node.js's, with `code` `ENOENT`...) when a named file cannot be read.
   */
  constructor(
    usage: number,
    options: {
      privateKey?: string | Buffer;
      certificate?: string | Buffer;
      ca?: string | Buffer | Array<string | Buffer>;
      privateKeyFile?: string;
      certificateFile?: string;
      caLocation?: string;
      verificationMode?: number;
      cipherList?: string;
    } = {},
  ) {
    if (usage !== Context.TLS_SERVER_USE && usage !== Context.TLS_CLIENT_USE)
      throw new InvalidArgumentException('Invalid Context usage', String(usage));
    this.usage = usage;
    this.verificationMode = options.verificationMode ?? Context.VERIFY_RELAXED;
    const read = (file: string | undefined) =>
      file === undefined ? undefined : readFileSync(file);
    const key = options.privateKey ?? read(options.privateKeyFile);
    const cert = options.certificate ?? read(options.certificateFile);
    const ca = options.ca ?? read(options.caLocation);
    this.#options = {
      ...(key === undefined ? {} : { key }),
      ...(cert === undefined ? {} : { cert }),
      ...(ca === undefined ? {} : { ca }),
      ...(options.cipherList === undefined ? {} : { ciphers: options.cipherList }),
    };
  }

  /** The options for `tls.createServer` / `tls.connect`. */
  tlsOptions(): tls.TlsOptions & tls.ConnectionOptions {
    const verify = this.verificationMode !== Context.VERIFY_NONE;
    return this.usage === Context.TLS_SERVER_USE
      ? {
          ...this.#options,
          requestCert: verify,
          rejectUnauthorized: this.verificationMode === Context.VERIFY_STRICT,
        }
      : { ...this.#options, rejectUnauthorized: verify };
  }
}

function toAddress(address: SocketAddress | number): SocketAddress {
  return typeof address === 'number' ? new SocketAddress(address) : address;
}

/**
 * POCO's `ServerSocket`: a bound, listening TCP socket for an {@link HTTPServer}. POCO's
 * constructor binds and listens; Node.js binds asynchronously, hence `await ServerSocket.create()`.
 * Connections that arrive before the server starts wait, as in the kernel's backlog.
 *
 * @example
 * ```ts
 * import { ServerSocket, SocketAddress } from 'wsnet';
 *
 * const socket = await ServerSocket.create(new SocketAddress('127.0.0.1', 0));
 * console.log(socket.address().port()); // the port the system picked
 * socket.close();
 * ```
 */
export class ServerSocket {
  /** @internal the listening socket; taken over by HTTPServer. */
  readonly listener: Listener;
  /** An HTTPServer serves on it (and closes it when it stops). */
  #served = false;

  protected constructor(listener: Listener) {
    this.listener = listener;
  }

  /**
   * Binds to `address` (a `SocketAddress`, or a port on all IPv4 interfaces, as POCO's
   * `ServerSocket(port)`) and listens. Port 0 picks a free port.
   *
   * @throws {@link InvalidAddressException} (a rejection) when the address is in use or not local,
   * or another {@link NetException} for the socket's error.
   */
  static async create(address: SocketAddress | number = 0, backlog = 64): Promise<ServerSocket> {
    return new ServerSocket(await ServerSocket.bind(toAddress(address), backlog));
  }

  /** Binds and listens (for subclasses). */
  protected static async bind(
    address: SocketAddress,
    backlog: number,
    tlsOptions?: tls.TlsOptions,
  ): Promise<Listener> {
    try {
      return await Listener.listen({
        host: address.host(),
        port: address.port(),
        backlog,
        ...(tlsOptions === undefined ? {} : { tls: tlsOptions }),
      });
    } catch (error) {
      throw netExceptionFrom(error);
    }
  }

  /** The bound address; its port is known even before a server starts. */
  address(): SocketAddress {
    const info = this.listener.address();
    return new SocketAddress(info.address, info.port);
  }

  /** Stops listening. */
  close(): void {
    this.listener.close();
  }

  /**
   * `using socket = await ServerSocket.create(...)`: what POCO's destructor does when the block
   * ends. The socket stops listening, unless an `HTTPServer` serves on it: the server holds its
   * own reference (a copy, in C++) and closes the socket when it stops. Never throws.
   */
  [disposeSymbol](): void {
    if (!this.#served) this.close();
  }

  /** @internal an HTTPServer took the socket: it is the server's to close from now on. */
  [SERVED_BY_HTTP_SERVER](): void {
    this.#served = true;
  }

  /** Whether connections are TLS (false here). */
  secure(): boolean {
    return false;
  }
}

/**
 * POCO's `SecureServerSocket`: a {@link ServerSocket} over TLS, with a server {@link Context}.
 *
 * @example
 * ```ts
 * import { Context, SecureServerSocket, SocketAddress } from 'wsnet';
 *
 * declare const privateKey: string, certificate: string; // PEM text
 * const context = new Context(Context.TLS_SERVER_USE, { privateKey, certificate });
 * const socket = await SecureServerSocket.createSecure(new SocketAddress('127.0.0.1', 0), context);
 * ```
 */
export class SecureServerSocket extends ServerSocket {
  /**
   * Like `ServerSocket.create`, over TLS with the server `Context`'s certificate and key.
   *
   * @throws {@link InvalidArgumentException} (a rejection) when `context` is not a server context.
   * @throws {@link InvalidAddressException} (a rejection) when the address is in use or not local,
   * or another {@link NetException} (e.g. {@link SSLException}) for the socket's error.
   */
  static async createSecure(
    address: SocketAddress | number,
    context: Context,
    backlog = 64,
  ): Promise<SecureServerSocket> {
    if (context.usage !== Context.TLS_SERVER_USE)
      throw new InvalidArgumentException(
        'SecureServerSocket needs a server Context (TLS_SERVER_USE)',
      );
    return new SecureServerSocket(
      await ServerSocket.bind(toAddress(address), backlog, context.tlsOptions()),
    );
  }

  override secure(): boolean {
    return true;
  }
}
