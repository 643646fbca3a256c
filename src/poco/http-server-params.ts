/**
 * POCO's `HTTPServerParams` (with `TCPServerParams`), with POCO's defaults. What Node has no use
 * for (thread counts) is kept and reported, and documented as such.
 */
import { InvalidArgumentException } from './exceptions.js';
import { Timespan } from './timespan.js';

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
  getTimeout(): Timespan {
    return this.#timeout;
  }

  setKeepAlive(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
  }
  getKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Requests per connection; 0 is unlimited (the default). */
  setMaxKeepAliveRequests(max: number): void {
    if (!Number.isInteger(max) || max < 0)
      throw new InvalidArgumentException('Invalid maximum', String(max));
    this.#maxKeepAliveRequests = max;
  }
  getMaxKeepAliveRequests(): number {
    return this.#maxKeepAliveRequests;
  }

  /** How long an idle keep-alive connection waits for its next request (15 s). */
  setKeepAliveTimeout(timeout: Timespan | number): void {
    this.#keepAliveTimeout = Timespan.from(timeout);
  }
  getKeepAliveTimeout(): Timespan {
    return this.#keepAliveTimeout;
  }

  /** Sent as the `Server` header when not empty (empty by default, as in POCO). */
  setSoftwareVersion(version: string): void {
    this.#softwareVersion = version;
  }
  getSoftwareVersion(): string {
    return this.#softwareVersion;
  }

  setServerName(name: string): void {
    this.#serverName = name;
  }
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
  getMaxThreads(): number {
    return this.#maxThreads;
  }

  /** The listen backlog is set on the ServerSocket; kept for POCO compatibility. */
  setMaxQueued(count: number): void {
    this.#maxQueued = count;
  }
  getMaxQueued(): number {
    return this.#maxQueued;
  }

  /** Kept for POCO compatibility; there are no threads to idle. */
  setThreadIdleTime(time: Timespan | number): void {
    this.#threadIdleTime = Timespan.from(time);
  }
  getThreadIdleTime(): Timespan {
    return this.#threadIdleTime;
  }
}
