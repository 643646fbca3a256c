// HTTP/1.1 pipelining before an upgrade, on a standalone WebSocketServer: a plain request and an
// upgrade request in one write get their answers in request order (the 426, then the 101), and
// the WebSocket stream after the 101 carries frames only.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebSocketServer } from '../../src/messages/index.js';
import { FRAME_FLAG_FIN, FRAME_OP_TEXT } from '../../src/protocol/constants.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';

const FRAME_TEXT = FRAME_FLAG_FIN | FRAME_OP_TEXT;

const servers: WebSocketServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

function contentLength(head: { headers: Array<[string, string]> }): number {
  const value = head.headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
  return value === undefined ? -1 : Number(value);
}

/** An echo server; its port. */
async function echoServer(): Promise<number> {
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  server.on('connection', (connection) => {
    void (async () => {
      try {
        for await (const message of connection) await connection.send(message);
      } catch {
        // closed abnormally
      }
    })();
  });
  return server.address().port;
}

/**
 * Writes `plain` GET requests and an upgrade request in one write, then expects, in this order:
 * a whole 426 for each GET, the 101, and a WebSocket stream that echoes a frame and holds
 * nothing else.
 */
async function assertAnsweredInOrder(port: number, plain: number): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    client.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`.repeat(plain) +
        upgradeRequest('/', port, 'dGhlIHNhbXBsZSBub25jZQ=='),
    );
    for (let i = 0; i < plain; i++) {
      const head = await client.readHead();
      assert.equal(head.status, 426, `answer ${i + 1} is plain request ${i + 1}'s: ${head.raw}`);
      const length = contentLength(head);
      assert.ok(length > 0, 'the 426 has a Content-Length');
      assert.match((await client.readBytes(length)).toString(), /WebSocket endpoint/);
    }
    const upgrade = await client.readHead();
    assert.equal(upgrade.status, 101, `the last answer is the upgrade's: ${upgrade.raw}`);
    client.sendFrame(FRAME_TEXT, 'after the pipeline');
    const frame = await client.readFrame();
    assert.equal(frame.flags, FRAME_TEXT, 'the first bytes after the 101 are the echo frame');
    assert.equal(frame.payload.toString(), 'after the pipeline');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.pending, 0, 'nothing but frames after the 101');
  } finally {
    client.destroy();
  }
}

describe('WebSocketServer: pipelined requests before an upgrade', () => {
  // Finding 10 (issue 8): the second 426 went out after the 101, into the WebSocket stream.
  it('two GET / and an upgrade request in one write: 426, 426, then the 101, then frames that echo', async () => {
    await assertAnsweredInOrder(await echoServer(), 2);
  });

  // Finding 10 (issue 8): the same with one earlier request (node:http writes it at once).
  it('one GET / and an upgrade request in one write: the 426, then the 101, then frames that echo', async () => {
    await assertAnsweredInOrder(await echoServer(), 1);
  });
});
