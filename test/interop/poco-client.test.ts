// Interop: the wsnet POCO client (HTTPClientSession + WebSocket.connect) against two other
// servers: the npm `ws` WebSocketServer and python-websockets (Debian's python3-websockets,
// started here as a child process on a free port).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  PocoBuffer,
  WebSocket,
} from '../../src/poco/index.js';
import { echoServerPort, PYTHON_ECHO_SERVER, spawnPython } from '../helpers/python-websockets.js';

interface Peer {
  name: string;
  start(): Promise<number>;
  stop(): void;
}

const peers: Peer[] = [
  (() => {
    let server: WebSocketServer | undefined;
    return {
      name: 'ws (npm)',
      async start() {
        server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
        server.on('connection', (ws) =>
          ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
        );
        await once(server, 'listening');
        return (server.address() as AddressInfo).port;
      },
      stop: () => server?.close(),
    };
  })(),
  (() => {
    let child: ChildProcess | undefined;
    return {
      name: 'python-websockets (Debian python3-websockets)',
      start() {
        child = spawnPython(PYTHON_ECHO_SERVER);
        return echoServerPort(child);
      },
      stop: () => child?.kill(),
    };
  })(),
];

for (const peer of peers) {
  describe(`interop: wsnet POCO client → ${peer.name} server`, () => {
    let port = 0;
    before(async () => {
      port = await peer.start();
    });
    after(() => peer.stop());

    async function open(): Promise<WebSocket> {
      const session = new HTTPClientSession('127.0.0.1', port);
      return WebSocket.connect(
        session,
        new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1),
        new HTTPResponse(),
      );
    }

    it('text and binary messages of 0 B to 1 MiB come back intact', async () => {
      const ws = await open();
      for (const size of [0, 1, 125, 126, 65535, 65536, 1 << 20]) {
        const bytes = Buffer.alloc(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 7) & 0xff;
        await ws.sendFrame(bytes, size, WebSocket.FRAME_BINARY);
        const buffer = new PocoBuffer(0);
        const frame = await ws.receiveFrame(buffer);
        assert.equal(frame.flags, WebSocket.FRAME_BINARY, `binary ${size}`);
        assert.ok(buffer.begin().equals(bytes), `binary ${size}`);
        const text = 'ü'.repeat(size >> 1);
        await ws.sendFrame(text);
        const echoed = await ws.receiveFrame();
        assert.equal(echoed.flags, WebSocket.FRAME_TEXT);
        assert.equal(echoed.payload.toString(), text);
      }
      ws.close();
    });

    it('a fragmented message sent frame by frame is echoed whole', async () => {
      const ws = await open();
      await ws.sendFrame('Hel', 3, WebSocket.FRAME_OP_TEXT);
      await ws.sendFrame('lo, ', 4, WebSocket.FRAME_OP_CONT);
      await ws.sendFrame('world', 5, WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_CONT);
      const parts: string[] = [];
      let frame;
      do {
        frame = await ws.receiveFrame();
        parts.push(frame.payload.toString());
      } while ((frame.flags & WebSocket.FRAME_FLAG_FIN) === 0);
      assert.equal(parts.join(''), 'Hello, world');
      ws.close();
    });

    it('a ping is answered with a pong (the server does PONGs, POCO does not)', async () => {
      const ws = await open();
      await ws.sendFrame('are you there', 13, WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_PING);
      const frame = await ws.receiveFrame();
      assert.equal(frame.flags, WebSocket.FRAME_FLAG_FIN | WebSocket.FRAME_OP_PONG);
      assert.equal(frame.payload.toString(), 'are you there');
      ws.close();
    });

    it('shutdown(1001, "bye"): the server answers with a close frame, then ends the connection', async () => {
      const ws = await open();
      assert.equal(await ws.shutdown(1001, 'bye'), 5);
      const frame = await ws.receiveFrame();
      assert.equal(frame.flags & WebSocket.FRAME_OP_BITMASK, WebSocket.FRAME_OP_CLOSE);
      assert.equal(frame.payload.readUInt16BE(0), 1001);
      assert.deepEqual(
        await ws.receiveFrame(new Uint8Array(8)),
        { n: 0, flags: 0 },
        'then end of stream',
      );
      ws.close();
    });
  });
}
