/**
 * Reconnecting, opt-in: `reconnecting(url, options)` is an async iterable of connections, one
 * after another, as python-websockets' `async for websocket in connect(...)`:
 *
 * ```ts
 * for await (const connection of reconnecting('wss://example.com/feed')) {
 *   connection.on('message', (data) => console.log(data));
 *   await connection.closed; // then the loop asks for the next connection
 * }
 * ```
 *
 * Each attempt but the first waits: exponential backoff (initial delay, factor, maximum) with
 * jitter, reset once a connection opens. Errors that retrying cannot fix end the iteration (they
 * are thrown): a refused handshake (4xx but 408 and 429, a redirect not followed, a wrong
 * answer), a connection closed with 1003 or 1008, a bad URL or option, credentials a proxy
 * refused, a certificate that does not verify. Every attempt, failure and close is an event. It
 * is pulled: nothing is attempted until the consumer asks for a connection, and nothing is left
 * behind once it stops (`close()`, `break`, the signal, or an error): no timer, no socket.
 */
import { EventEmitter } from 'node:events';
import { untilAborted } from '../io/http-client.js';
import { SocksError } from '../io/socks.js';
import { ConnectionClosedError, HandshakeError, InvalidArgumentError } from '../protocol/errors.js';
import { connect, type ConnectOptions } from './client.js';
import type { CloseStatus, WebSocketConnection } from './connection.js';
import { NetworkError, TimeoutError } from './errors.js';

/** The delays between attempts: `initialDelay × factor^n`, at most `maxDelay`, with jitter. */
export interface BackoffOptions {
  /** The delay before the first retry, in ms. Default 1000. */
  readonly initialDelay?: number;
  /** How much each delay grows over the one before (≥ 1). Default 2. */
  readonly factor?: number;
  /** The longest delay, in ms. Default 30 000. */
  readonly maxDelay?: number;
  /**
   * How much of each delay is random, from 0 (none: exactly the computed delay) to 1 (a delay
   * anywhere from 0 to the computed one, "full jitter"). Default 0.5: from half the delay to
   * all of it, so clients cut off together do not all come back at once.
   */
  readonly jitter?: number;
}

/** The options of {@link reconnecting}: each attempt's {@link ConnectOptions}, and the retry policy. */
export interface ReconnectOptions extends ConnectOptions {
  /** The delays between attempts. */
  readonly backoff?: BackoffOptions;
  /**
   * How many attempts in a row may fail before the iteration gives up (throwing the last
   * error); a connection that opens starts the count again. Default `Infinity`: forever.
   */
  readonly maxAttempts?: number;
  /**
   * Whether to try again after `error`: a failed attempt's, or a `ConnectionClosedError` for a
   * connection that closed. Default {@link isRetryable}.
   */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** Stops everything (the wait, the attempt under way, the open connection) when it aborts. */
  readonly signal?: AbortSignal;
}

/** Why the iteration ended (the `stop` event). */
export type StopReason =
  /** `close()`, or the consumer left the loop (`break`, `return`, a throw). */
  | 'closed'
  /** The signal aborted; the iteration threw its reason. */
  | 'aborted'
  /** An error retrying cannot fix; the iteration threw it. */
  | 'permanent'
  /** `maxAttempts` attempts in a row failed; the iteration threw the last error. */
  | 'exhausted';

/** An attempt: its number and the wait before it. */
export interface AttemptInfo {
  /** The attempt's number: 1 for the first ever, counting on across connections. */
  readonly attempt: number;
  /** How long it waited before starting, in ms (0 for the first). */
  readonly delay: number;
}

/** What comes after a failed attempt or a closed connection. */
export interface RetryInfo {
  /** The number of the attempt that failed, or whose connection closed. */
  readonly attempt: number;
  /** The wait before the next attempt, in ms; undefined when there is none. */
  readonly delay: number | undefined;
}

/** The events of {@link Reconnecting}. */
export interface ReconnectingEvents {
  /** An attempt starts, after its wait. */
  attempt: [info: AttemptInfo];
  /** The attempt connected. */
  open: [connection: WebSocketConnection, info: AttemptInfo];
  /** The attempt failed with `error`; `info.delay` is undefined when no attempt follows. */
  failure: [error: unknown, info: RetryInfo];
  /** The connection an attempt made closed; `info.delay` as for `failure`. */
  close: [status: CloseStatus, info: RetryInfo];
  /** The iteration ended, for good; `error` is what it threw, if it threw. */
  stop: [reason: StopReason, error: unknown];
}

/** The close codes after which a connection is not made again: 1003 and 1008 (RFC 6455 §7.4.1). */
const PERMANENT_CLOSE_CODES = new Set([1003, 1008]);

/** Node's codes for a certificate that does not verify (a retry meets the same certificate). */
const CERTIFICATE_FAILURE =
  /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME_MISMATCH|LEAF_SIGNATURE/;

/** A refusal that may pass: 408 (timeout), 429 (too many requests) and 5xx. */
function transientStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 408 || status === 429 || status >= 500);
}

/** The SOCKS5 replies about the network (RFC 1928 §6: 1, 3, 4, 5, 6), not about this client. */
const TRANSIENT_SOCKS_REPLIES = new Set([0x01, 0x03, 0x04, 0x05, 0x06]);

/**
 * The default retry policy of {@link reconnecting}: true for what may pass (no route, a refused
 * or reset TCP connection, a timeout, a malformed or missing HTTP answer, a handshake refused
 * with 408, 429 or 5xx, a SOCKS5 reply about the network, a connection that closed with any
 * code but 1003 and 1008); false for what a retry meets again (a bad URL or option, any other
 * refusal or wrong answer to the handshake, a proxy that refused the tunnel or the credentials,
 * a certificate that does not verify, a close with 1003 or 1008) and for anything unknown.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ConnectionClosedError) return !PERMANENT_CLOSE_CODES.has(error.code);
  if (error instanceof TimeoutError) return true;
  if (error instanceof HandshakeError) return transientStatus(error.status);
  if (error instanceof NetworkError) {
    switch (error.kind) {
      case 'network':
      case 'http':
        return true;
      case 'tls': {
        const code = (error.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
        return !(typeof code === 'string' && CERTIFICATE_FAILURE.test(code));
      }
      case 'proxy':
        if (error.cause instanceof SocksError)
          return error.cause.stage === 'connect' && error.cause.reply !== undefined
            ? TRANSIENT_SOCKS_REPLIES.has(error.cause.reply)
            : false;
        return transientStatus(error.status);
    }
  }
  return false;
}

function checkOptions(options: ReconnectOptions): Required<BackoffOptions> {
  const backoff = {
    initialDelay: options.backoff?.initialDelay ?? 1000,
    factor: options.backoff?.factor ?? 2,
    maxDelay: options.backoff?.maxDelay ?? 30_000,
    jitter: options.backoff?.jitter ?? 0.5,
  };
  const fail = (what: string) => {
    throw new InvalidArgumentError('INVALID_OPTION', `reconnecting(): ${what}`);
  };
  if (!(Number.isFinite(backoff.initialDelay) && backoff.initialDelay >= 0))
    fail('backoff.initialDelay is a number of ms ≥ 0');
  if (!(Number.isFinite(backoff.factor) && backoff.factor >= 1))
    fail('backoff.factor is a number ≥ 1');
  if (!(Number.isFinite(backoff.maxDelay) && backoff.maxDelay >= backoff.initialDelay))
    fail('backoff.maxDelay is a number of ms ≥ initialDelay');
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) fail('backoff.jitter is from 0 to 1');
  const max = options.maxAttempts ?? Infinity;
  if (!(max === Infinity || (Number.isInteger(max) && max >= 1)))
    fail('maxAttempts is an integer ≥ 1, or Infinity');
  if (options.shouldRetry !== undefined && typeof options.shouldRetry !== 'function')
    fail('shouldRetry is a function');
  return backoff;
}

/** Why the wait or the attempt under way stopped: `close()`, or the user's signal. */
class Stopped extends Error {
  constructor(readonly by: 'close' | 'signal') {
    super(`reconnecting stopped by ${by}`);
  }
}

/**
 * The connections of {@link reconnecting}, one after another: an async iterable (for one
 * consumer), and an `EventEmitter` of {@link ReconnectingEvents}.
 */
export class Reconnecting
  extends EventEmitter<ReconnectingEvents>
  implements AsyncIterableIterator<WebSocketConnection>
{
  readonly #url: string | URL;
  readonly #options: ReconnectOptions;
  readonly #backoff: Required<BackoffOptions>;
  readonly #maxAttempts: number;
  readonly #shouldRetry: (error: unknown) => boolean;
  /** Aborted by `close()` or the user's signal: ends the wait and the attempt under way. */
  readonly #stop = new AbortController();
  #current: WebSocketConnection | undefined;
  #attempts = 0;
  /** Failures in a row (a connection that opens resets it). */
  #failures = 0;
  /** The wait before the next attempt (0 for the first). */
  #nextDelay = 0;
  /** Waits since the last connection opened: the backoff's exponent. */
  #retries = 0;
  #finished = false;
  /** The `next()` under way: calls are served one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The user's signal: the wait or attempt under way ends, and so does the open connection. */
  readonly #onSignal = () => {
    this.#stop.abort(new Stopped('signal'));
    void this.#closeCurrent();
  };

  /** @internal use {@link reconnecting}. */
  constructor(url: string | URL, options: ReconnectOptions) {
    super();
    this.#url = url;
    this.#options = options;
    this.#backoff = checkOptions(options);
    this.#maxAttempts = options.maxAttempts ?? Infinity;
    this.#shouldRetry = options.shouldRetry ?? isRetryable;
    if (options.signal?.aborted) this.#stop.abort(new Stopped('signal'));
    else options.signal?.addEventListener('abort', this.#onSignal, { once: true });
  }

  /** The connection last given out, until the next attempt. */
  get connection(): WebSocketConnection | undefined {
    return this.#current;
  }

  /** Itself: `for await (const connection of reconnecting(url))`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next connection. The one given out before is closed first (1000) if it is still open,
   * and the next attempt waits its backoff delay.
   */
  next(): Promise<IteratorResult<WebSocketConnection, undefined>> {
    const result = this.#queue.then(() => this.#next());
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** `break` out of `for await`: as {@link Reconnecting.close}. */
  async return(): Promise<IteratorResult<WebSocketConnection, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /**
   * Stops: the wait or the attempt under way ends, the open connection is closed (1000, bounded
   * by its `closeTimeout`), and the iteration ends. Resolves once all of that is done.
   */
  async close(): Promise<void> {
    if (!this.#stop.signal.aborted) this.#stop.abort(new Stopped('close'));
    await this.#queue;
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await current.close(1000);
    this.#finish('closed', undefined);
  }

  async #next(): Promise<IteratorResult<WebSocketConnection, undefined>> {
    const done = { done: true, value: undefined } as const;
    if (this.#finished) return done;
    try {
      await this.#afterConnection();
      for (;;) {
        const delay = this.#nextDelay;
        if (delay > 0) await this.#wait(delay);
        this.#stop.signal.throwIfAborted();
        const attempt = ++this.#attempts;
        this.emit('attempt', { attempt, delay });
        let connection: WebSocketConnection;
        try {
          connection = await connect(this.#url, { ...this.#options, signal: this.#stop.signal });
        } catch (error) {
          if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
          this.#failures++;
          const retry = this.#failures < this.#maxAttempts && this.#shouldRetry(error);
          this.#nextDelay = retry ? this.#delay() : 0;
          this.emit('failure', error, { attempt, delay: retry ? this.#nextDelay : undefined });
          if (retry) continue;
          this.#finish(this.#failures >= this.#maxAttempts ? 'exhausted' : 'permanent', error);
          throw error;
        }
        this.#failures = 0;
        this.#retries = 0;
        this.#current = connection;
        this.emit('open', connection, { attempt, delay });
        return { done: false, value: connection };
      }
    } catch (error) {
      if (!(error instanceof Stopped)) throw error;
      if (error.by === 'close') {
        this.#finish('closed', undefined);
        return done;
      }
      const reason: unknown = this.#options.signal?.reason;
      this.#finish('aborted', reason);
      await this.#closeCurrent();
      throw reason;
    }
  }

  /** The connection given out before: closed (if it is still open), and judged by its close. */
  async #afterConnection(): Promise<void> {
    const previous = this.#current;
    if (previous === undefined) return;
    const status = await untilAborted(previous.close(1000), this.#stop.signal);
    this.#current = undefined;
    const closed = new ConnectionClosedError(status.code, status.reason, status.wasClean);
    const retry = this.#shouldRetry(closed);
    this.#nextDelay = retry ? this.#delay() : 0;
    this.emit('close', status, {
      attempt: this.#attempts,
      delay: retry ? this.#nextDelay : undefined,
    });
    if (retry) return;
    this.#finish('permanent', closed);
    throw closed;
  }

  async #closeCurrent(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await current.close(1000);
  }

  /** The next backoff delay: initialDelay × factor^retries (at most maxDelay), with jitter. */
  #delay(): number {
    const { initialDelay, factor, maxDelay, jitter } = this.#backoff;
    const base = Math.min(maxDelay, initialDelay * factor ** this.#retries);
    this.#retries++;
    return Math.round(base * (1 - jitter * Math.random()));
  }

  /** Waits `ms`, or until stopped (the timer cleared, rejecting with the stop's reason). */
  #wait(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #finish(reason: StopReason, error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.signal?.removeEventListener('abort', this.#onSignal);
    if (!this.#stop.signal.aborted) this.#stop.abort(new Stopped('close'));
    this.emit('stop', reason, error);
  }
}

/**
 * Connections to `url`, one after another, for `for await`: the first attempt at once, each
 * later one after a backoff delay; the iteration throws an error that retrying cannot fix
 * ({@link isRetryable}) and ends at `close()`, at `break`, or (throwing its reason) when
 * `options.signal` aborts. When the consumer asks for the next connection, the one before is
 * closed (1000) if it is still open. Options: each attempt's {@link ConnectOptions}, and
 * {@link ReconnectOptions}.
 *
 * @throws {@link InvalidArgumentError} (at once) for a bad backoff, `maxAttempts` or `shouldRetry`.
 *
 * @example
 * ```ts
 * import { reconnecting } from 'wsnet';
 *
 * const connections = reconnecting('wss://example.com/feed', {
 *   backoff: { initialDelay: 500, factor: 2, maxDelay: 30_000, jitter: 0.5 },
 * });
 * connections.on('failure', (error, { attempt, delay }) =>
 *   console.log(`attempt ${attempt} failed: ${String(error)}; next in ${delay} ms`),
 * );
 * for await (const connection of connections) {
 *   for await (const message of connection) console.log(message);
 * }
 * ```
 */
export function reconnecting(url: string | URL, options: ReconnectOptions = {}): Reconnecting {
  return new Reconnecting(url, options);
}
