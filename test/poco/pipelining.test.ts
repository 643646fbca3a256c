// HTTP/1.1 pipelining before an upgrade, on the POCO HTTPServer: a plain request and an upgrade
// request in one write get their answers in request order, even when the handler of the plain
// request answers later than the WebSocket handler runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HTTPRequestHandlerFactory } from '../../src/poco/index.js';
import { WebSocketRequestHandler, startServer } from '../helpers/poco-server.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** '/' answers "page" after `delayMs`; '/ws' is the echo WebSocket handler. */
function pageThenSocket(delayMs: number): HTTPRequestHandlerFactory {
  return {
    createRequestHandler(request) {
      if (request.getURI() === '/ws') return new WebSocketRequestHandler();
      return {
        async handleRequest(_request, response) {
          if (delayMs > 0) await sleep(delayMs);
          response.setContentType('text/plain');
          response.sendBuffer('page');
        },
      };
    },
  };
}

function contentLength(head: { headers: Array<[string, string]> }): number {
  const value = head.headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
  return value === undefined ? -1 : Number(value);
}

async function assertAnsweredInOrder(delayMs: number): Promise<void> {
  const server = await startServer(pageThenSocket(delayMs));
  const port = server.port;
  const client = await RawClient.connect(port);
  try {
    client.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n` +
        upgradeRequest('/ws', port, 'dGhlIHNhbXBsZSBub25jZQ=='),
    );
    const first = await client.readHead();
    assert.equal(first.status, 200, `the first answer is the plain request's: ${first.raw}`);
    assert.equal(contentLength(first), 4);
    assert.equal((await client.readBytes(4)).toString(), 'page');
    const second = await client.readHead();
    assert.equal(second.status, 101, `the second answer is the upgrade's: ${second.raw}`);
    client.sendFrame(0x81, 'after the pipeline');
    const frame = await client.readFrame();
    assert.equal(frame.flags, 0x81, 'the first bytes after the 101 are the echo frame');
    assert.equal(frame.payload.toString(), 'after the pipeline');
    await sleep(50);
    assert.equal(client.pending, 0, 'nothing but frames after the 101');
  } finally {
    client.destroy();
    server.stop();
  }
}

describe('HTTPServer: pipelined requests before an upgrade', () => {
  // Finding 10 (issue 8): the 101 went out before the earlier request's response.
  it('GET / answered after 50 ms, pipelined with an upgrade: the 200 first, then the 101, then frames that echo', async () => {
    await assertAnsweredInOrder(50);
  });

  // Finding 10 (issue 8): the same when the plain request is answered at once.
  it('GET / answered at once, pipelined with an upgrade: the 200 first, then the 101, then frames that echo', async () => {
    await assertAnsweredInOrder(0);
  });
});
