// HTTPServer: upgrade requests refused with an ordinary response on one kept-alive connection
// must not pile listeners on the socket (one per request showed as a MaxListenersExceededWarning
// at the 11th).
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { HTTPRequestHandlerFactory } from '../../src/poco/index.js';
import { startServer } from '../helpers/poco-server.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';

/** Refuses every request with 400 and an empty body, keeping the connection alive. */
const refuseAll: HTTPRequestHandlerFactory = {
  createRequestHandler: () => ({
    handleRequest(_request, response) {
      response.setStatusAndReason(400);
      response.setContentLength(0);
      response.send();
    },
  }),
};

describe('HTTPServer: refused upgrades on a kept-alive connection', () => {
  // Finding 13 (issue 8): each refused upgrade added a socket 'error' listener.
  it("15 refused upgrades on one connection: no MaxListenersExceededWarning, and the socket's 'error' listeners do not grow", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    // The server's side of each accepted connection (node:net publishes it when accepting).
    const accepted: Socket[] = [];
    const onAccepted = (message: unknown) => accepted.push((message as { socket: Socket }).socket);
    diagnostics.subscribe('net.server.socket', onAccepted);
    const server = await startServer(refuseAll);
    const client = await RawClient.connect(server.port);
    try {
      const errorListeners: number[] = [];
      for (let i = 0; i < 15; i++) {
        client.write(upgradeRequest('/ws', server.port, 'dGhlIHNhbXBsZSBub25jZQ=='));
        const head = await client.readHead();
        assert.equal(head.status, 400, `request ${i + 1} is refused`);
        const connection = head.headers.find(([name]) => name.toLowerCase() === 'connection');
        assert.notEqual(connection?.[1].toLowerCase(), 'close', 'the connection is kept alive');
        const serverSide = accepted.find((socket) => socket.remotePort === client.socket.localPort);
        assert.ok(serverSide !== undefined, "the server's socket was seen");
        errorListeners.push(serverSide.listenerCount('error'));
      }
      assert.equal(client.ended, false, 'one connection served all 15 requests');
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
      assert.ok(
        errorListeners[14] <= errorListeners[0],
        `'error' listeners after each request: ${errorListeners.join(', ')}`,
      );
    } finally {
      client.destroy();
      server.stop();
      diagnostics.unsubscribe('net.server.socket', onAccepted);
      process.off('warning', onWarning);
    }
  });
});
