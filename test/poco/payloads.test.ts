// The POCO facade's sendFrame(view, n) and sendBytes(view, n) with any binary view: `n` counts
// bytes (default byteLength), the frame carries exactly those bytes of the view's own window,
// and nothing else reaches the wire. Server side read by a RawClient, client side by a
// message-API server.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { WebSocketServer, type Message } from '../../src/messages/index.js';
import {
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  WebSocket,
  type HTTPRequestHandlerFactory,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { startServer } from '../helpers/poco-server.js';
import { RawClient, type RawFrame } from '../helpers/raw-client.js';

const FIN_BINARY = 0x82;
const FIN_TEXT = 0x81;

/** The bytes a view covers (its own window of its ArrayBuffer), copied. */
const bytesOf = (view: ArrayBufferView) =>
  Buffer.from(Buffer.from(view.buffer, view.byteOffset, view.byteLength));

/**
 * Runs `script` with the server-side WebSocket of one connection, then sends the text frame
 * 'end', and returns the frames a raw client read up to it (at most 10, for 5 s) and what the
 * script threw, if anything.
 */
async function framesSentBy(
  script: (ws: WebSocket) => Promise<void>,
): Promise<{ frames: RawFrame[]; error: unknown }> {
  let error: unknown;
  const factory: HTTPRequestHandlerFactory = {
    createRequestHandler: () => ({
      async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
        const ws = new WebSocket(request, response);
        try {
          await script(ws);
        } catch (e) {
          error = e;
        }
        await ws.sendFrame('end', 3, WebSocket.FRAME_TEXT);
        // Keep the connection until the client leaves.
        const buffer = new Uint8Array(1024);
        while ((await ws.receiveFrame(buffer).catch(() => ({ n: 0 }))).n > 0);
      },
    }),
  };
  const server = await startServer(factory);
  const { client } = await RawClient.open(server.port);
  const frames: RawFrame[] = [];
  const deadline = Date.now() + 5000;
  try {
    while (frames.length < 10) {
      const frame = await client.readFrame(Math.max(1, deadline - Date.now()));
      frames.push(frame);
      if (frame.flags === FIN_TEXT && frame.payload.toString() === 'end') break;
    }
  } catch {
    // the stream broke (garbage, or the end of the connection): the list ends here
  } finally {
    client.destroy();
    server.stop();
  }
  return { frames, error };
}

const describeFrame = (f: RawFrame) =>
  `0x${f.flags.toString(16)} ${f.payload.length}${f.masked ? ' masked' : ''}`;

/** Asserts that exactly `expected` (flags and bytes) arrived, then 'end', and nothing failed. */
function assertFrames(
  outcome: { frames: RawFrame[]; error: unknown },
  expected: Array<{ flags: number; bytes: Buffer }>,
): void {
  assert.equal(outcome.error, undefined, `the sends did not throw: ${String(outcome.error)}`);
  assert.deepEqual(outcome.frames.map(describeFrame), [
    ...expected.map(({ flags, bytes }) => `0x${flags.toString(16)} ${bytes.length}`),
    '0x81 3',
  ]);
  expected.forEach(({ bytes }, i) =>
    assert.ok(outcome.frames[i].payload.equals(bytes), `frame ${i}: the view's own bytes`),
  );
}

/**
 * A Uint16Array of `elements` elements whose bytes past the first `elements` are an unmasked
 * text frame and a close frame: what a header with the element count would inject.
 */
function craftedUint16Array(elements: number): Uint16Array {
  const total = elements * 2;
  const bytes = new Uint8Array(total).fill(0x42);
  const textLength = total - elements - 8;
  let at = elements;
  bytes.set([0x81, 126, textLength >> 8, textLength & 0xff], at);
  at += 4;
  bytes.fill(0x41, at, at + textLength);
  at += textLength;
  bytes.set([0x88, 0x02, 0x03, 0xe8], at);
  return new Uint16Array(bytes.buffer);
}

describe('POCO WebSocket (server side): sendFrame and sendBytes of binary views', () => {
  // Finding 7 (issue 8): the header carried the element count; the rest became frames.
  it('sendFrame(new Float32Array(4096)) without n sends one frame of byteLength (16384) bytes, the same bytes', async () => {
    const floats = new Float32Array(4096).map((_, i) => i * 0.75 - 333);
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendFrame(floats, undefined, WebSocket.FRAME_BINARY);
    });
    assertFrames(outcome, [{ flags: FIN_BINARY, bytes: bytesOf(floats) }]);
  });

  // Finding 7 (issue 8): n counts bytes, not elements.
  it('sendFrame(typedArray, n) sends the first n bytes: n = byteLength, and n = 5 inside a Uint16Array of 3', async () => {
    const floats = new Float32Array(4096).map((_, i) => -i);
    const words = Uint16Array.of(0x1234, 0xabcd, 0x5678);
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendFrame(floats, floats.byteLength, WebSocket.FRAME_BINARY);
      await ws.sendFrame(words, 5, WebSocket.FRAME_BINARY);
      await ws.sendFrame(words, 4, WebSocket.FRAME_BINARY);
    });
    assertFrames(outcome, [
      { flags: FIN_BINARY, bytes: bytesOf(floats) },
      { flags: FIN_BINARY, bytes: bytesOf(words).subarray(0, 5) },
      { flags: FIN_BINARY, bytes: bytesOf(words).subarray(0, 4) },
    ]);
  });

  // Finding 7 (issue 8): small multi-byte arrays were truncated to one byte per element.
  it('sendBytes(Uint16Array.of(0x1234, 0xabcd)) sends 4 bytes in a binary frame; sendBytes(u32, 6) sends 6', async () => {
    const small = Uint16Array.of(0x1234, 0xabcd);
    const u32 = Uint32Array.of(0xdeadbeef, 0x01020304);
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendBytes(small);
      await ws.sendBytes(u32, 6);
    });
    assertFrames(outcome, [
      { flags: FIN_BINARY, bytes: bytesOf(small) },
      { flags: FIN_BINARY, bytes: bytesOf(u32).subarray(0, 6) },
    ]);
  });

  // Finding 7 (issue 8): bytes past the element count must not reach the peer as frames.
  it('a Uint16Array whose bytes past its element count look like a text and a close frame is sent as payload only', async () => {
    const crafted = craftedUint16Array(4096);
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendFrame(crafted, undefined, WebSocket.FRAME_BINARY);
      await ws.sendBytes(crafted);
    });
    assertFrames(outcome, [
      { flags: FIN_BINARY, bytes: bytesOf(crafted) },
      { flags: FIN_BINARY, bytes: bytesOf(crafted) },
    ]);
  });

  // Finding 7 (issue 8): a DataView has no length; its window is byteOffset..byteLength.
  it('a DataView with a byteOffset: sendFrame sends its window, sendFrame(view, 4) and sendBytes(view, 4) its first 4 bytes', async () => {
    const buffer = new ArrayBuffer(32);
    new Uint8Array(buffer).forEach((_, i, all) => (all[i] = i));
    const view = new DataView(buffer, 3, 10);
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendFrame(view, undefined, WebSocket.FRAME_BINARY);
      await ws.sendFrame(view, 4, WebSocket.FRAME_BINARY);
      await ws.sendBytes(view, 4);
    });
    assertFrames(outcome, [
      { flags: FIN_BINARY, bytes: Buffer.from([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) },
      { flags: FIN_BINARY, bytes: Buffer.from([3, 4, 5, 6]) },
      { flags: FIN_BINARY, bytes: Buffer.from([3, 4, 5, 6]) },
    ]);
  });

  // Finding 7 (issue 8): a subarray's byteOffset is respected and n counts its bytes.
  it('a Uint32Array subarray with a byteOffset, and an ArrayBuffer, send exactly their bytes', async () => {
    const words = new Uint32Array(32).map((_, i) => 0x01010101 * (i + 1));
    const window = words.subarray(3, 7); // byteOffset 12, byteLength 16
    const arrayBuffer = Uint8Array.of(9, 8, 7, 6, 5).buffer;
    const outcome = await framesSentBy(async (ws) => {
      await ws.sendFrame(window, undefined, WebSocket.FRAME_BINARY);
      await ws.sendBytes(window, 10);
      await ws.sendBytes(arrayBuffer);
    });
    assertFrames(outcome, [
      { flags: FIN_BINARY, bytes: bytesOf(window) },
      { flags: FIN_BINARY, bytes: bytesOf(window).subarray(0, 10) },
      { flags: FIN_BINARY, bytes: Buffer.from([9, 8, 7, 6, 5]) },
    ]);
  });
});

describe('POCO WebSocket (client side): sendFrame and sendBytes of binary views', () => {
  const servers: WebSocketServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  // Finding 7 (issue 8): the client (masked) side truncated multi-byte elements.
  it('a client sends typed arrays and a DataView as their bytes: a message-API server receives exactly them', async () => {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    const received = new Promise<Message[]>((resolve) => {
      server.once('connection', (connection) => {
        void (async () => {
          const messages: Message[] = [];
          try {
            for await (const message of connection) {
              messages.push(message);
              if (message === 'end' || messages.length >= 10) break;
            }
          } catch {
            // the connection failed: the list ends here
          }
          resolve(messages);
        })();
      });
    });
    const session = new HTTPClientSession('127.0.0.1', server.address().port);
    const ws = await WebSocket.connect(
      session,
      new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1),
      new HTTPResponse(),
    );
    const floats = new Float32Array(4096).map((_, i) => i / 7);
    const words = Uint16Array.of(0x1234, 0xabcd, 0x5678);
    const buffer = new ArrayBuffer(16);
    new Uint8Array(buffer).forEach((_, i, all) => (all[i] = 100 + i));
    const view = new DataView(buffer, 5, 6);
    let error: unknown;
    try {
      await ws.sendFrame(floats, undefined, WebSocket.FRAME_BINARY);
      await ws.sendFrame(words, 5, WebSocket.FRAME_BINARY);
      await ws.sendBytes(view);
    } catch (e) {
      error = e;
    }
    await ws.sendFrame('end', 3, WebSocket.FRAME_TEXT);
    let timer: NodeJS.Timeout | undefined;
    const messages = await Promise.race([
      received,
      new Promise<Message[]>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the server did not get "end" in 5 s')), 5000);
      }),
    ]).finally(() => clearTimeout(timer));
    ws.close();
    assert.equal(error, undefined, `the sends did not throw: ${String(error)}`);
    const expected = [
      bytesOf(floats),
      bytesOf(words).subarray(0, 5),
      Buffer.from([105, 106, 107, 108, 109, 110]),
    ];
    assert.deepEqual(
      messages.map((m) => (typeof m === 'string' ? `text ${m}` : `binary ${m.length}`)),
      [...expected.map((bytes) => `binary ${bytes.length}`), 'text end'],
    );
    expected.forEach((bytes, i) =>
      assert.ok((messages[i] as Buffer).equals(bytes), `message ${i}: the view's own bytes`),
    );
  });
});
