/**
 * The wsnet side of the echo tests of the compression interop files: taking messages with
 * `for await` or from 'message' events, echoing them, and comparing large messages without
 * printing them.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Message, WebSocketConnection } from '../../src/index.js';
import { within } from './wait.js';

/** The two ways an application takes messages. */
export const FORMS = ['for await', 'events'] as const;
export type Form = (typeof FORMS)[number];

/** The next message of a wsnet connection, taken with `for await` or from 'message' events. */
export function receiver(
  connection: WebSocketConnection,
  form: Form,
  ms = 30_000,
): () => Promise<Message> {
  if (form === 'for await') {
    const iterator = connection[Symbol.asyncIterator]();
    return () =>
      within(
        iterator.next().then((result) => {
          if (result.done === true) throw new Error('the connection closed');
          return result.value;
        }),
        ms,
        'next message (for await)',
      );
  }
  const arrived: Message[] = [];
  const waiting: Array<{ resolve: (message: Message) => void; reject: (error: Error) => void }> =
    [];
  let closed: Error | undefined;
  connection.on('message', (data) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter.resolve(data);
    else arrived.push(data);
  });
  connection.on('close', (code, reason) => {
    closed = new Error(`the connection closed (${code} ${reason})`);
    for (const waiter of waiting.splice(0)) waiter.reject(closed);
  });
  return () =>
    within(
      arrived.length > 0
        ? Promise.resolve(arrived.shift()!)
        : closed !== undefined
          ? Promise.reject(closed)
          : new Promise<Message>((resolve, reject) => waiting.push({ resolve, reject })),
      ms,
      "next message ('message' event)",
    );
}

/** Takes `count` messages on a wsnet connection and sends each back as it came. */
export async function echoMessages(
  connection: WebSocketConnection,
  count: number,
  form: Form,
): Promise<Message[]> {
  const next = receiver(connection, form);
  const received: Message[] = [];
  while (received.length < count) {
    const message = await next();
    received.push(message);
    await within(connection.send(message), 30_000, 'echo send');
  }
  return received;
}

export const byteLength = (payload: string | Uint8Array) =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;

/** Asserts that a wsnet message is the payload, without printing megabytes when it is not. */
export function assertMessage(actual: Message, payload: string | Buffer, what: string): void {
  assert.equal(typeof actual, typeof payload, `${what}: type`);
  assert.equal(byteLength(actual), byteLength(payload), `${what}: length`);
  if (typeof payload === 'string') assert.ok(actual === payload, `${what}: the text`);
  else assert.ok((actual as Buffer).equals(payload), `${what}: the bytes`);
}
