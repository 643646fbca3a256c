// Interop: the npm `ws` client against the wsnet POCO server (an echo handler that sends every
// frame back as it came, close frames included, as POCO's samples do).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import WebSocketClient from 'ws';
import { PocoBuffer, WebSocket, type HTTPRequestHandlerFactory } from '../../src/poco/index.js';
import { startServer, type RunningServer } from '../helpers/poco-server.js';

/** Echoes every frame, empty ones included, until the peer's CLOSE (echoed) or EOF. */
const echoAll: HTTPRequestHandlerFactory = {
  createRequestHandler: () => ({
    async handleRequest(request, response) {
      const ws = new WebSocket(request, response);
      for (;;) {
        const buffer = new PocoBuffer(0);
        const { n, flags } = await ws.receiveFrame(buffer);
        if (n === 0 && flags === 0) return;
        await ws.sendFrame(buffer.begin(), n, flags);
        if ((flags & WebSocket.FRAME_OP_BITMASK) === WebSocket.FRAME_OP_CLOSE) return;
      }
    },
  }),
};

function connect(port: number): Promise<WebSocketClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocketClient): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocketClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code: number, reason: Buffer) =>
      resolve({ code, reason: reason.toString() }),
    ),
  );
}

describe('interop: npm ws client → wsnet POCO server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(echoAll);
  });
  after(() => server.stop());

  for (const size of [0, 1, 125, 126, 65535, 65536, 16 * 1024 * 1024]) {
    it(`binary and text messages of ${size} bytes`, async () => {
      const ws = await connect(server.port);
      const binary = Buffer.alloc(size);
      for (let i = 0; i < size; i++) binary[i] = (i * 31) & 0xff;
      ws.send(binary);
      const echoed = await nextMessage(ws);
      assert.equal(echoed.isBinary, true);
      assert.ok(echoed.data.equals(binary));
      const text = 'é'.repeat(size >> 1) + (size % 2 === 1 ? 'x' : '');
      ws.send(text);
      const echoedText = await nextMessage(ws);
      assert.equal(echoedText.isBinary, false);
      assert.equal(echoedText.data.toString(), text);
      ws.close();
      await closed(ws);
    });
  }

  for (const [code, reason] of [
    [1000, ''],
    [1001, 'going away'],
    [4000, 'application code'],
    [3000, 'κόσμε'],
  ] as const) {
    it(`a close with ${code} comes back as ws sees it: ${code} ${JSON.stringify(reason)}`, async () => {
      const ws = await connect(server.port);
      const result = closed(ws);
      ws.close(code, reason);
      assert.deepEqual(await result, { code, reason });
    });
  }

  it('ws pings are echoed back as pings (POCO answers nothing; the echo handler sends the frame back)', async () => {
    const ws = await connect(server.port);
    const ping = new Promise<Buffer>((resolve) => ws.once('ping', resolve));
    ws.ping('hello');
    assert.equal((await ping).toString(), 'hello');
    ws.close();
    await closed(ws);
  });
});
