/**
 * Bounded waits for the interop tests: a peer that misbehaves must fail a test, not hang it.
 */
import type { IncomingMessage } from 'node:http';
import type { Message, WebSocketConnection, WebSocketServer } from '../../src/index.js';
import { within } from './wait.js';

export { within };

export interface Accepted {
  readonly connection: WebSocketConnection;
  readonly request: IncomingMessage;
}

/**
 * The connections a server accepts, in order, for the test that expects each one: a test
 * starts the client, then takes the server side with `next()`.
 */
export class ConnectionQueue {
  readonly #arrived: Accepted[] = [];
  readonly #waiting: Array<(accepted: Accepted) => void> = [];

  constructor(server: WebSocketServer) {
    server.on('connection', (connection, request) => {
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) waiter({ connection, request });
      else this.#arrived.push({ connection, request });
    });
  }

  next(ms = 10_000): Promise<Accepted> {
    const arrived = this.#arrived.shift();
    if (arrived !== undefined) return Promise.resolve(arrived);
    let waiter!: (accepted: Accepted) => void;
    const promise = new Promise<Accepted>((resolve) => (waiter = resolve));
    this.#waiting.push(waiter);
    return within(promise, ms, 'server-side connection').catch((error: unknown) => {
      // A connection that arrives after the deadline must not go to the next test.
      const index = this.#waiting.indexOf(waiter);
      if (index !== -1) this.#waiting.splice(index, 1);
      throw error;
    });
  }
}

/** The next message a wsnet connection receives (string for text, Buffer for binary). */
export async function nextMessage(connection: WebSocketConnection, ms = 20_000): Promise<Message> {
  const result = await within(connection[Symbol.asyncIterator]().next(), ms, 'next message');
  if (result.done === true) throw new Error('the connection closed before a message arrived');
  return result.value;
}

/** The next `close` event of a wsnet connection. */
export function closeEvent(
  connection: WebSocketConnection,
  ms = 10_000,
): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return within(
    new Promise((resolve) =>
      connection.once('close', (code, reason, wasClean) => resolve({ code, reason, wasClean })),
    ),
    ms,
    'close event',
  );
}

/**
 * Runs every teardown step, each bounded, even when an earlier one fails; then reports the
 * failures, so that a leak is not hidden behind the first error.
 */
export async function tearDown(
  steps: ReadonlyArray<readonly [what: string, step: () => unknown]>,
  ms = 15_000,
): Promise<void> {
  const errors: unknown[] = [];
  for (const [what, step] of steps) {
    try {
      await within(Promise.resolve().then(step), ms, what);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
}
