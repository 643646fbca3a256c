// wsnet's WHATWG WebSocket against undici's (npm undici 7, the code of Node 22's global
// WebSocket): the same scenario list, against wsnet's and ws's servers, must record the same
// events, states and exceptions, except for the differences listed here (and in README.md).
import { describe } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import { compareOnEachServer } from './compare.js';
import { record } from './record.js';
import type { WebSocketClass } from './scenarios.js';

describe("wsnet's WHATWG WebSocket behaves as undici's", () => {
  compareOnEachServer({
    reference: 'undici',
    record: (env) => record(UndiciWebSocket as unknown as WebSocketClass, env),
  });
});
