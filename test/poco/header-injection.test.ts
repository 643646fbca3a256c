// Header values holding CR or LF never reach the wire as a second header line: not from a POCO
// handler's HTTPServerResponse before `new WebSocket(request, response)`, not from the message
// server's `accept` hook.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import { WebSocketServer, type Rejection } from '../../src/messages/index.js';
import {
  WebSocket,
  type HTTPRequestHandlerFactory,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { startServer } from '../helpers/poco-server.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';

const INJECTION = 'a\r\nX-Injected: 1';

/**
 * Everything the server sends for one upgrade request: the first head, and whatever follows
 * until the server closes the connection (or 1 s passes: a kept-alive refusal stays open).
 */
async function answerTo(port: number): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    client.write(upgradeRequest('/ws', port, 'dGhlIHNhbXBsZSBub25jZQ=='));
    const head = await client.readHead();
    await client.closed(1000).catch(() => undefined);
    const rest = client.pending > 0 ? await client.readBytes(client.pending) : Buffer.alloc(0);
    return head.raw + rest.toString('latin1');
  } finally {
    client.destroy();
  }
}

describe('POCO WebSocket(request, response): CR/LF in a header set by the handler', () => {
  // Finding 14 (issue 8): the value went out verbatim, as a second header line.
  for (const [name, afterRefusal] of [
    ['rethrows', 'rethrow'],
    ['answers 400 with the header still set', 'answer 400'],
  ] as const) {
    it(`the constructor throws and no X-Injected line reaches the wire (the handler ${name})`, async () => {
      let thrown: unknown;
      let constructed = false;
      const factory: HTTPRequestHandlerFactory = {
        createRequestHandler: () => ({
          handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
            response.set('X-Test', INJECTION);
            try {
              new WebSocket(request, response);
              constructed = true;
            } catch (error) {
              thrown = error;
              if (afterRefusal === 'rethrow') throw error;
              response.setStatusAndReason(400);
              response.setContentLength(0);
              response.send();
            }
          },
        }),
      };
      const server = await startServer(factory);
      server.server.setErrorHandler(() => undefined);
      let wire: string;
      try {
        wire = await answerTo(server.port);
      } finally {
        server.stop();
      }
      assert.doesNotMatch(wire, /(^|\n)X-Injected:/im, `on the wire: ${JSON.stringify(wire)}`);
      assert.equal(constructed, false, 'new WebSocket(request, response) threw');
      assert.ok(thrown instanceof Error);
    });
  }
});

describe('WebSocketServer accept hook: CR/LF in a Rejection header', () => {
  const servers: WebSocketServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  // Finding 14 (issue 8), guard: the message server's refusal writer validates header values.
  for (const [form, rejection] of [
    ['object', { status: 400, headers: { 'X-Test': INJECTION } }],
    ['array, LF only', { status: 401, headers: [['X-Test', 'a\nX-Injected: 1']] }],
  ] as Array<[string, Rejection]>) {
    it(`a Rejection header value with CR/LF (${form}) puts no X-Injected line on the wire`, async () => {
      const server = await WebSocketServer.listen({
        port: 0,
        host: '127.0.0.1',
        accept: () => rejection,
      });
      servers.push(server);
      const wire = await answerTo(server.address().port);
      assert.doesNotMatch(wire, /(^|\n)X-Injected:/im, `on the wire: ${JSON.stringify(wire)}`);
    });
  }
});
