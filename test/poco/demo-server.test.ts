// The `npm start` sample server: the page it serves, and the echo endpoint the page talks to.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import WebSocketClient from 'ws';
import { startWebSocketServer } from '../../examples/websocket-server.js';
import { RawClient } from '../helpers/raw-client.js';

describe('the WebSocketServer sample (npm start)', () => {
  it('serves the page and echoes over /ws; refuses a bad handshake with 400', async () => {
    const lines: string[] = [];
    const server = await startWebSocketServer(0, '127.0.0.1', (line) => lines.push(line));
    const port = server.port();
    try {
      const page = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
      assert.match(page, /new WebSocket\(/);
      assert.match(page, /\/ws'\)/);

      const ws = new WebSocketClient(`ws://127.0.0.1:${port}/ws`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const echoes: string[] = [];
      const gotAll = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer, binary: boolean) => {
          echoes.push(binary ? `binary ${data.length}` : data.toString());
          if (echoes.length === 3) resolve();
        }),
      );
      ws.send('Hello, world!');
      ws.send('');
      ws.send(Buffer.alloc(16, 1));
      await gotAll;
      assert.deepEqual(echoes, ['Hello, world!', '', 'binary 16']);
      const closed = new Promise<[number, string]>((resolve) =>
        ws.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
      );
      ws.close(1000, 'bye');
      assert.deepEqual(await closed, [1000, 'bye']);

      const client = await RawClient.connect(port);
      client.write(
        'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: x\r\n\r\n',
      );
      const head = await client.readHead();
      assert.equal(head.status, 400);
      assert.ok(head.headers.some(([n, v]) => n === 'Sec-WebSocket-Version' && v === '13'));
      client.destroy();
      assert.ok(lines.some((line) => line.startsWith('WebSocket connection established')));
      assert.ok(lines.includes('Frame received (length=13, flags=0x81).'));
    } finally {
      server.stopAll(true);
    }
  });
});
