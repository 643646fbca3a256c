// wsnet's WHATWG WebSocket against undici's (npm undici 7, the code of Node 22's global
// WebSocket): the same scenario list, against wsnet's and ws's servers, must record the same
// events, states and exceptions, except for the differences listed here (and in README.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import { WebSocket } from '../../src/whatwg/index.js';
import { record, type Recording } from './record.js';
import type { WebSocketClass } from './scenarios.js';
import {
  refusedUrl,
  wsScenarioServer,
  wsnetScenarioServer,
  type ScenarioServer,
} from './servers.js';
import { INTENDED_DIFFERENCES, applyDifferences, findBlock } from './differences.js';

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

      it('records the same scenarios, none of them failed', () => {
        assert.deepEqual(Object.keys(wsnet), Object.keys(undici));
        for (const [name, lines] of [...Object.entries(wsnet), ...Object.entries(undici)])
          assert.ok(
            !lines.some((line) => line.startsWith('FAILED')),
            `${name}: ${lines.join('\n')}`,
          );
      });

      it('records the same lines in each scenario, but for the intended differences', () => {
        const expected = Object.fromEntries(
          Object.entries(undici).map(([name, lines]) => [
            name,
            applyDifferences(name, lines, 'undici', server),
          ]),
        );
        assert.deepEqual(wsnet, expected);
      });

      it('each intended difference from undici is still there (none is stale)', () => {
        for (const difference of INTENDED_DIFFERENCES.filter(
          (d) => d.from.includes('undici') && (d.server ?? server) === server,
        ))
          assert.ok(
            findBlock(undici[difference.scenario], difference.theirs) !== -1,
            `undici no longer records ${JSON.stringify(difference.theirs)} in '${difference.scenario}'`,
          );
      });
    });
  }
});
