/**
 * The events a WHATWG WebSocket fires that Node 20 has no global class for. `Event` and
 * `MessageEvent` are Node's own globals; `CloseEvent` became a global only in Node 23, so it is
 * defined here, with the HTML Living Standard's attributes (code, reason, wasClean).
 */

/** What a {@link CloseEvent} is made from (the standard's `CloseEventInit`). */
export interface CloseEventInit {
  /** Whether the event bubbles (a WebSocket's never does). */
  readonly bubbles?: boolean;
  /** Whether the event can be cancelled (a WebSocket's never can). */
  readonly cancelable?: boolean;
  /** Whether the event crosses shadow roots (meaningless in Node). */
  readonly composed?: boolean;
  /** The close code: the peer's, or 1006 when the connection ended without a close frame. */
  readonly code?: number;
  /** The close reason, as the peer sent it ('' when none). */
  readonly reason?: string;
  /** True when the closing handshake completed and the TCP connection then ended. */
  readonly wasClean?: boolean;
}

/** The `close` event of a WebSocket: how the connection ended. */
export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;

  /**
   * @param type - the event's type, `'close'` when a WebSocket fires it.
   * @param init - the code, reason and wasClean to report (0, '' and false when absent).
   */
  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
    this.#wasClean = init.wasClean ?? false;
  }

  /** The close code: the peer's, or 1006 when the connection ended without a close frame. */
  get code(): number {
    return this.#code;
  }

  /** The close reason ('' when none). */
  get reason(): string {
    return this.#reason;
  }

  /** True when the closing handshake completed before the TCP connection ended. */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

/** What an {@link ErrorEvent} is made from. */
export interface ErrorEventInit {
  /** Whether the event bubbles (a WebSocket's never does). */
  readonly bubbles?: boolean;
  /** Whether the event can be cancelled (a WebSocket's never can). */
  readonly cancelable?: boolean;
  /** What went wrong, in words. */
  readonly message?: string;
  /** The error that failed the connection. */
  readonly error?: unknown;
}

/**
 * The `error` event of a WebSocket. A browser's carries no details (the page may not learn why
 * a connection failed); in Node, undici's carries an `error`, and so does this one: wsnet's own
 * error (`HandshakeError` with the HTTP status, `NetworkError`, `TimeoutError`,
 * `InvalidArgumentError` for a bad option, `ProtocolError`), or undefined when the connection
 * was failed by `close()` while connecting.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;

  /**
   * @param type - the event's type, `'error'` when a WebSocket fires it.
   * @param init - the message and the error.
   */
  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message ?? '';
    this.#error = init.error;
  }

  /** What went wrong, in words ('' when nothing is known). */
  get message(): string {
    return this.#message;
  }

  /** The error that failed the connection, if one did. */
  get error(): unknown {
    return this.#error;
  }
}
