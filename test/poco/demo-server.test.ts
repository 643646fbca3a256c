// The `npm start` sample server: the page it serves, and the echo endpoint the page talks to.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocketClient from 'ws';
import { startWebSocketServer } from '../../examples/websocket-server.js';
import { CliProcess } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { within, refusesConnections } from '../helpers/wait.js';
import { FIN, OP_CLOSE, OP_TEXT } from '../helpers/wire.js';

/** The compiled demo, as `npm start` runs it. */
const demo = fileURLToPath(new URL('../../examples/websocket-server.js', import.meta.url));

/** Starts the demo on a free port; resolves once it listens, with its port. */
async function startDemo(): Promise<{ child: CliProcess; port: number }> {
  const child = new CliProcess(['--port', '0'], { script: demo });
  try {
    const [, port] = await child.waitFor(/open http:\/\/127\.0\.0\.1:(\d+)\//);
    return { child, port: Number(port) };
  } catch (error) {
    child.kill();
    throw error;
  }
}

describe('the WebSocketServer sample (npm start)', () => {
  it('serves the page and echoes over /ws; refuses a bad handshake with 400', async () => {
    const lines: string[] = [];
    const { server } = await startWebSocketServer(0, '127.0.0.1', (line) => lines.push(line));
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

  describe('as `npm start` runs it: a termination request stops it with status 0', () => {
    it('SIGTERM: open WebSockets get a 1001 close, then the server stops and the process exits 0', async () => {
      const { child, port } = await startDemo();
      try {
        const ws = new WebSocketClient(`ws://127.0.0.1:${port}/ws`);
        await within(
          new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)),
          5000,
          'the WebSocket handshake',
        );
        const echo = new Promise<string>((resolve) =>
          ws.once('message', (data: Buffer) => resolve(data.toString())),
        );
        ws.send('before the signal');
        assert.equal(await within(echo, 5000, 'the echo'), 'before the signal');
        const closed = new Promise<[number, string]>((resolve) =>
          ws.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
        );

        child.kill('SIGTERM');
        // The server's close frame: 1001, the code for "a server going down" (RFC 6455 §7.4.1).
        // ws answers it; the handler then ends and the server closes TCP (§7.1.1).
        assert.deepEqual(await within(closed, 5000, 'the close'), [1001, 'server shutting down']);
        const exit = await child.exit();
        assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
        assert.match(exit.stdout, /^SIGTERM: shutting down\.$/m);
        assert.ok(await refusesConnections(port), 'the port still accepts connections');
      } finally {
        child.kill();
      }
    });

    it('a peer that never answers the close is cut off, and the process still exits 0', async () => {
      const { child, port } = await startDemo();
      try {
        const { client } = await RawClient.open(port, '/ws');
        client.sendFrame(FIN | OP_TEXT, 'hi');
        assert.equal((await client.readFrame()).payload.toString(), 'hi');
        child.kill('SIGTERM');
        const close = await client.readFrame();
        assert.equal(close.flags, FIN | OP_CLOSE);
        assert.equal(close.payload.readUInt16BE(0), 1001);
        // No answer from this peer: after the shutdown's grace period the server drops TCP.
        await client.closed(10_000);
        const exit = await child.exit();
        assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
      } finally {
        child.kill();
      }
    });

    for (const signal of ['SIGINT', 'SIGQUIT'] as const)
      it(`${signal} (as POCO's waitForTerminationRequest) stops it too, with status 0`, async () => {
        const { child, port } = await startDemo();
        try {
          child.kill(signal);
          const exit = await child.exit();
          assert.deepEqual([exit.code, exit.signal], [0, null], exit.stderr);
          assert.match(exit.stdout, new RegExp(`^${signal}: shutting down\\.$`, 'm'));
          assert.ok(await refusesConnections(port), 'the port still accepts connections');
        } finally {
          child.kill();
        }
      });

    it('an invalid port is a usage error (EXIT_USAGE, 64)', async () => {
      const child = new CliProcess(['--port', 'x'], { script: demo });
      const exit = await child.exit();
      assert.equal(exit.code, 64);
      assert.match(exit.stderr, /invalid port: x/);
    });
  });
});
