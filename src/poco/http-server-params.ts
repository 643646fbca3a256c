/**
 * POCO's `HTTPServerParams` (with `TCPServerParams`), with POCO's defaults. What Node has no use
 * for (thread counts) is kept and reported, and documented as such.
 */
import { InvalidArgumentException } from './exceptions.js';
import { Timespan } from './timespan.js';

/**
 * POCO's `HTTPServerParams` (with `TCPServerParams`): the settings of an {@link HTTPServer}, with
 * POCO's defaults. The thread settings are kept and reported for POCO compatibility but change
 * nothing: Node.js serves every connection from one event loop.
 */
export class HTTPServerParams {
  #timeout = new Timespan(60, 0);
  #keepAlive = true;
  #maxKeepAliveRequests = 0;
  #keepAliveTimeout = new Timespan(15, 0);
  #softwareVersion = '';
  #serverName = '';
  #maxThreads = 0;
  #maxQueued = 64;
  #threadIdleTime = new Timespan(10, 0);

  /**
   * How long a request's head may take to arrive, and the default receive timeout of the
   * WebSockets this server accepts (60 s; POCO's socket receive timeout).
   */
  setTimeout(timeout: Timespan | number): void {
    this.#timeout = Timespan.from(timeout);
  }
  /** The request head timeout and WebSockets' default receive timeout. */
  getTimeout(): Timespan {
    return this.#timeout;
  }

  /** Whether connections are kept alive between requests (default true). */
  setKeepAlive(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
  }
  /** Whether connections are kept alive between requests. */
  getKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /**
   * Requests per connection; 0 is unlimited (the default).
   *
   * @throws {@link InvalidArgumentException} when `max` is not a non-negative integer.
   */
  setMaxKeepAliveRequests(max: number): void {
    if (!Number.isInteger(max) || max < 0)
      throw new InvalidArgumentException('Invalid maximum', String(max));
    this.#maxKeepAliveRequests = max;
  }
  /** Requests per connection (0: unlimited). */
  getMaxKeepAliveRequests(): number {
    return this.#maxKeepAliveRequests;
  }

  /** How long an idle keep-alive connection waits for its next request (15 s). */
  setKeepAliveTimeout(timeout: Timespan | number): void {
    this.#keepAliveTimeout = Timespan.from(timeout);
  }
  /** How long an idle keep-alive connection waits for its next request. */
  getKeepAliveTimeout(): Timespan {
    return this.#keepAliveTimeout;
  }

  /** Sent as the `Server` header when not empty (empty by default, as in POCO). */
  setSoftwareVersion(version: string): void {
    this.#softwareVersion = version;
  }
  /** The `Server` header's value (empty: none). */
  getSoftwareVersion(): string {
    return this.#softwareVersion;
  }

  /** The server's name (POCO's `setServerName`; informational). */
  setServerName(name: string): void {
    this.#serverName = name;
  }
  /** The server's name. */
  getServerName(): string {
    return this.#serverName;
  }

  /**
   * Kept for POCO compatibility. POCO serves each connection on a pool thread, so an open
   * WebSocket holds a thread; Node serves every connection from one event loop, so there is no
   * such limit and this value changes nothing.
   */
  setMaxThreads(count: number): void {
    this.#maxThreads = count;
  }
  /** The value given to `setMaxThreads` (0 by default; unused). */
  getMaxThreads(): number {
    return this.#maxThreads;
  }

  /** The listen backlog is set on the ServerSocket; kept for POCO compatibility. */
  setMaxQueued(count: number): void {
    this.#maxQueued = count;
  }
  /** The value given to `setMaxQueued` (64 by default; unused). */
  getMaxQueued(): number {
    return this.#maxQueued;
  }

  /** Kept for POCO compatibility; there are no threads to idle. */
  setThreadIdleTime(time: Timespan | number): void {
    this.#threadIdleTime = Timespan.from(time);
  }
  /** The value given to `setThreadIdleTime` (10 s by default; unused). */
  getThreadIdleTime(): Timespan {
    return this.#threadIdleTime;
  }
}
