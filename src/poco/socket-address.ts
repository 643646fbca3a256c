/**
 * POCO's `SocketAddress`: an IP address and a port. Host names are not resolved here (Node
 * resolves them when connecting); `host()` returns what was given.
 */
import { isIP } from 'node:net';
import { InvalidArgumentException } from './exceptions.js';

/**
 * POCO's `SocketAddress`: an IP address (or host name, resolved when connecting) and a port.
 *
 * @example
 * ```ts
 * import { SocketAddress } from 'wsnet';
 *
 * const any = new SocketAddress(8080); // 0.0.0.0:8080
 * const local = new SocketAddress('127.0.0.1', 8080);
 * const v6 = new SocketAddress('[::1]:8080');
 * console.log(String(local), v6.host(), any.port());
 * ```
 */
export class SocketAddress {
  /** {@link SocketAddress.family}'s value for IPv4 (and host names). */
  static readonly IPv4 = 1;
  /** {@link SocketAddress.family}'s value for an IPv6 literal. */
  static readonly IPv6 = 2;

  readonly #host: string;
  readonly #port: number;

  /**
   * `new SocketAddress(port)` (the IPv4 wildcard address), `new SocketAddress(host, port)`, or
   * `new SocketAddress("host:port")` / `"[v6]:port"`.
   *
   * @throws {@link InvalidArgumentException} when a `host:port` string has no port, or the port is
   * not an integer from 0 to 65535.
   */
  constructor(hostOrPortOrAddress: string | number = 0, port?: number) {
    let host: string;
    let portNumber: number;
    if (typeof hostOrPortOrAddress === 'number') {
      host = '0.0.0.0';
      portNumber = hostOrPortOrAddress;
    } else if (port !== undefined) {
      host = hostOrPortOrAddress;
      portNumber = port;
    } else {
      const match =
        /^\[([^\]]+)\]:(\d+)$/.exec(hostOrPortOrAddress) ??
        /^([^:]+):(\d+)$/.exec(hostOrPortOrAddress);
      if (match === null)
        throw new InvalidArgumentException('Missing port number', hostOrPortOrAddress);
      host = match[1]!;
      portNumber = Number(match[2]);
    }
    if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535)
      throw new InvalidArgumentException('Invalid port number', String(portNumber));
    this.#host = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    this.#port = portNumber;
  }

  /** The host as given (brackets of an IPv6 literal removed). */
  host(): string {
    return this.#host;
  }

  /** The port. */
  port(): number {
    return this.#port;
  }

  /** `SocketAddress.IPv6` for an IPv6 literal, else `SocketAddress.IPv4`. */
  family(): number {
    return isIP(this.#host) === 6 ? SocketAddress.IPv6 : SocketAddress.IPv4;
  }

  /** `host:port`, with IPv6 hosts in brackets. */
  toString(): string {
    return this.family() === SocketAddress.IPv6
      ? `[${this.#host}]:${this.#port}`
      : `${this.#host}:${this.#port}`;
  }

  /** Whether both the host and the port are the same. */
  equals(other: SocketAddress): boolean {
    return this.#host === other.host() && this.#port === other.port();
  }
}
