// wsnet's WHATWG WebSocket against undici's (npm undici 7, the code of Node 22's global
// WebSocket): the same scenario list, against wsnet's and ws's servers, must record the same
// events, states and exceptions, except for the differences listed here (and in README.md).
import { after, before, describe } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import { WebSocket } from '../../src/whatwg/index.js';
import { itRecordsTheSameAs } from './compare.js';
import { record, type Recording } from './record.js';
import type { WebSocketClass } from './scenarios.js';
import {
  refusedUrl,
  wsScenarioServer,
  wsnetScenarioServer,
  type ScenarioServer,
} from './servers.js';

describe("wsnet's WHATWG WebSocket behaves as undici's", () => {
  const servers: ScenarioServer[] = [];
  let refused: string;
  before(async () => {
    servers.push(await wsnetScenarioServer(), await wsScenarioServer());
    refused = await refusedUrl();
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  for (const [serverIndex, server] of [
    [0, 'wsnet'],
    [1, 'ws'],
  ] as const) {
    describe(serverIndex === 0 ? "against wsnet's server" : "against ws's server", () => {
      let wsnet: Recording;
      let undici: Recording;
      before(async () => {
        const env = { base: servers[serverIndex].base, refused };
        wsnet = await record(WebSocket as unknown as WebSocketClass, env);
        undici = await record(UndiciWebSocket as unknown as WebSocketClass, env);
      });

      itRecordsTheSameAs('undici', server, () => ({ wsnet, theirs: undici }));
    });
  }
});
