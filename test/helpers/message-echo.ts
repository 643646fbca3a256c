/**
 * The wsnet side of the echo tests of the compression interop files: taking messages with
 * `for await` or from 'message' events, echoing them, sending them to be echoed, and comparing
 * large messages without printing them.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Message, WebSocketConnection } from '../../src/index.js';
import type { Accepted, ConnectionQueue } from './interop.js';
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

/**
 * The server side of an exchange whose client sends `payloads`, takes their echoes and closes:
 * takes the next connection, echoes each message (taken in `form`), and checks what it received
 * and that the close was clean (1000).
 */
export async function echoUntilClosed(
  connections: ConnectionQueue,
  payloads: ReadonlyArray<string | Buffer>,
  form: Form,
): Promise<Accepted & { memory: number }> {
  const { connection, request } = await connections.next();
  const received = await echoMessages(connection, payloads.length, form);
  // Before the close, which may let the histories go.
  const memory = connection.compressionMemory;
  const status = await within(connection.closed, 10_000, 'close');
  received.forEach((message, i) =>
    assertMessage(message, payloads[i], `the server received message ${i}`),
  );
  assert.deepEqual(status, { code: 1000, reason: '', wasClean: true });
  return { connection, request, memory };
}

/**
 * How a test sends messages to be echoed: each after the echo of the one before, or all at once
 * (the echoes taken afterwards).
 */
export type Pace = 'one at a time' | 'all at once';

/** Sends `payloads` from a wsnet connection to an echoing peer and checks each echo. */
export async function sendAndCheckEchoes(
  connection: WebSocketConnection,
  payloads: ReadonlyArray<string | Buffer>,
  form: Form,
  pace: Pace,
): Promise<void> {
  const next = receiver(connection, form);
  if (pace === 'one at a time') {
    for (const [i, payload] of payloads.entries()) {
      await within(connection.send(payload), 30_000, 'send');
      assertMessage(await next(), payload, `echo ${i}`);
    }
    return;
  }
  const sent = payloads.map((payload) => connection.send(payload));
  for (const [i, payload] of payloads.entries()) assertMessage(await next(), payload, `echo ${i}`);
  await within(Promise.all(sent), 10_000, 'the sends');
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
