// send() with every kind of binary view, over loopback, in both directions (server to client,
// client to server): a frame carries exactly the view's own bytes (byteLength from byteOffset),
// whatever the element size, and nothing else reaches the peer. maxQueuedBytes counts bytes.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import {
  SendQueueFullError,
  WebSocketServer,
  connect,
  type Message,
  type ConnectionSettings,
  type WebSocketConnection,
} from '../../src/messages/index.js';

const servers: WebSocketServer[] = [];
const clients: WebSocketConnection[] = [];
after(async () => {
  for (const client of clients) client.terminate();
  await Promise.all(servers.map((server) => server.close()));
});

/** A server and a client connected over loopback: `sender` sends, `receiver` receives. */
async function connectedPair(
  direction: 'server to client' | 'client to server',
  settings: ConnectionSettings = {},
): Promise<{ sender: WebSocketConnection; receiver: WebSocketConnection }> {
  const server = await WebSocketServer.listen({
    port: 0,
    host: '127.0.0.1',
    ...(direction === 'server to client' ? settings : {}),
  });
  servers.push(server);
  const accepted = new Promise<WebSocketConnection>((resolve) =>
    server.once('connection', resolve),
  );
  const client = await connect(server.url, direction === 'client to server' ? settings : {});
  clients.push(client);
  const serverSide = await accepted;
  return direction === 'server to client'
    ? { sender: serverSide, receiver: client }
    : { sender: client, receiver: serverSide };
}

/** The next message, or an error after `ms`; null if the connection ended first. */
async function nextMessage(connection: WebSocketConnection, ms = 3000): Promise<Message | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
  });
  try {
    const result = await Promise.race([connection[Symbol.asyncIterator]().next(), timeout]);
    return result.done === true ? null : result.value;
  } catch {
    return null; // closed abnormally: the list of messages ends here
  } finally {
    clearTimeout(timer);
  }
}

/** Every message up to the sentinel 'end' (at most 10, for 5 s): what the peer received. */
async function messagesUntilEnd(connection: WebSocketConnection): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + 5000;
  while (messages.length < 10 && Date.now() < deadline) {
    const message = await nextMessage(connection, Math.max(1, deadline - Date.now()));
    if (message === null) break;
    messages.push(message);
    if (message === 'end') break;
  }
  return messages;
}

const describeMessage = (m: Message) =>
  typeof m === 'string' ? `text(${m.length})` : `binary(${m.length})`;

/** The bytes a view covers, as a Buffer (its own window of its ArrayBuffer). */
const bytesOf = (view: ArrayBufferView) =>
  Buffer.from(view.buffer, view.byteOffset, view.byteLength);

/**
 * Sends `view`, then the sentinel 'end': the peer must receive exactly one binary message with
 * the view's bytes, then 'end' (no frame injected, nothing truncated), on an open connection.
 */
async function assertSentExactly(
  sender: WebSocketConnection,
  receiver: WebSocketConnection,
  view: ArrayBufferView,
): Promise<void> {
  const expected = Buffer.from(bytesOf(view)); // a copy, taken before anything is sent
  await sender.send(view);
  await sender.send('end');
  const messages = await messagesUntilEnd(receiver);
  assert.deepEqual(
    messages.map(describeMessage),
    [`binary(${expected.length})`, 'text(3)'],
    'one binary message of byteLength bytes, then the sentinel',
  );
  assert.ok(Buffer.isBuffer(messages[0]));
  assert.ok(messages[0].equals(expected), 'the payload is the view’s own bytes');
  assert.equal(messages[1], 'end');
  assert.equal(receiver.readyState, 1, 'the connection is still OPEN');
}

/**
 * A `ctor` array of `elements` elements whose first `elements` bytes are 0x42 and whose bytes
 * past that are an unmasked text frame ('A's) and a close frame (1000): what a sender that put
 * the element count in the header would inject into the stream.
 */
function craftedArray<T extends ArrayBufferView>(
  ctor: new (buffer: ArrayBuffer) => T,
  bytesPerElement: number,
  elements: number,
): T {
  const total = elements * bytesPerElement;
  const bytes = Buffer.alloc(total, 0x42);
  const rest = total - elements;
  const textLength = rest - 4 - 4; // 4 bytes of text header (16-bit length), 4 of close frame
  assert.ok(textLength >= 126 && textLength < 65536);
  let at = elements;
  bytes[at++] = 0x81;
  bytes[at++] = 126;
  bytes.writeUInt16BE(textLength, at);
  at += 2;
  bytes.fill(0x41, at, at + textLength);
  at += textLength;
  bytes.set([0x88, 0x02, 0x03, 0xe8], at);
  const buffer = new ArrayBuffer(total);
  new Uint8Array(buffer).set(bytes);
  return new ctor(buffer);
}

for (const direction of ['server to client', 'client to server'] as const) {
  describe(`send() of binary views, ${direction}`, () => {
    // Finding 7 (issue 8): the header carried the element count, not byteLength.
    it('send(new Float32Array(4096)) arrives as one binary message of exactly 16384 bytes, the same bytes', async () => {
      const { sender, receiver } = await connectedPair(direction);
      const floats = new Float32Array(4096);
      for (let i = 0; i < floats.length; i++) floats[i] = i * 1.5 - 1000.25;
      await assertSentExactly(sender, receiver, floats);
    });

    // Finding 7 (issue 8): bytes past the element count reached the peer as frames of their own.
    it('a Uint16Array whose bytes past its element count look like a text and a close frame arrives as payload only', async () => {
      const { sender, receiver } = await connectedPair(direction);
      await assertSentExactly(sender, receiver, craftedArray(Uint16Array, 2, 4096));
    });

    // Finding 7 (issue 8): the same with 8-byte elements.
    it('a Float64Array whose bytes past its element count look like a text and a close frame arrives as payload only', async () => {
      const { sender, receiver } = await connectedPair(direction);
      await assertSentExactly(sender, receiver, craftedArray(Float64Array, 8, 2560));
    });

    // Finding 7 (issue 8): small multi-byte arrays were truncated to one byte per element.
    it('Uint16Array.of(0x1234, 0xabcd) arrives whole: 4 bytes, not one per element', async () => {
      const { sender, receiver } = await connectedPair(direction);
      const small = Uint16Array.of(0x1234, 0xabcd);
      await assertSentExactly(sender, receiver, small);
      const big = Uint32Array.of(0xdeadbeef, 0x01020304, 0xcafebabe);
      await assertSentExactly(sender, receiver, big);
    });

    // Finding 7 (issue 8): send(DataView) failed with "invalid payload length undefined".
    it('send(new DataView(buffer, 3, 10)) sends exactly the 10 bytes of its window', async () => {
      const { sender, receiver } = await connectedPair(direction);
      const buffer = new ArrayBuffer(32);
      new Uint8Array(buffer).forEach((_, i, all) => (all[i] = i));
      const view = new DataView(buffer, 3, 10);
      await assertSentExactly(sender, receiver, view);
      assert.deepEqual([...bytesOf(view)], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    });

    // Finding 7 (issue 8): a subarray's byteOffset and byteLength are the frame's payload.
    it('a subarray view with a byteOffset sends only its window (Uint32Array and Uint8Array)', async () => {
      const { sender, receiver } = await connectedPair(direction);
      const words = new Uint32Array(64);
      words.forEach((_, i, all) => (all[i] = 0x01010101 * (i + 1)));
      const window = words.subarray(3, 7); // byteOffset 12, byteLength 16
      assert.equal(window.byteOffset, 12);
      await assertSentExactly(sender, receiver, window);
      const bytes = new Uint8Array(256).map((_, i) => 255 - i);
      await assertSentExactly(sender, receiver, bytes.subarray(100, 140));
    });

    // Finding 7 (issue 8): maxQueuedBytes counted UTF-16 code units of a string, not bytes.
    it('maxQueuedBytes counts UTF-8 bytes: 400 three-byte characters (1200 bytes) are refused past a 1000-byte limit', async () => {
      const { sender, receiver } = await connectedPair(direction, { maxQueuedBytes: 1000 });
      // 16 MiB cannot all go to the kernel at once: the sends that follow in this turn are queued.
      const big = sender.send(Buffer.alloc(16 << 20, 7));
      const tooLongAscii = sender.send('a'.repeat(1001));
      const tooLongUtf8 = sender.send('€'.repeat(400)); // .length 400, 1200 bytes in UTF-8
      const fits = sender.send('€'.repeat(300)); // 900 bytes
      for (const pending of [big, fits]) pending.catch(() => undefined); // awaited below
      await assert.rejects(tooLongAscii, SendQueueFullError, 'the queue is in force');
      await assert.rejects(
        tooLongUtf8,
        SendQueueFullError,
        '1200 UTF-8 bytes are over the limit though the string’s length is 400',
      );
      await big;
      await fits;
      await sender.send('end');
      const messages = await messagesUntilEnd(receiver);
      assert.deepEqual(messages.map(describeMessage), ['binary(16777216)', 'text(300)', 'text(3)']);
    });
  });
}
