// Headless Chromium runs the scenario list (the same function's source, as page code) against
// wsnet's and ws's scenario servers; wsnet's WHATWG WebSocket, run by Node against the same
// servers, must record the same lines but for the intended differences (differences.ts).
import { after, before, describe } from 'node:test';
import { ChromiumPage, fromPage, testPage } from '../helpers/chromium.js';
import { WebSocket } from '../../src/whatwg/index.js';
import { itRecordsTheSameAs } from './compare.js';
import { record, type Recording } from './record.js';
import { scenarioLibrary, type WebSocketClass } from './scenarios.js';
import {
  refusedUrl,
  wsScenarioServer,
  wsnetScenarioServer,
  type ScenarioServer,
} from './servers.js';

/** The page: the scenario library's own source, and a runner that returns a scenario's lines. */
const PAGE_SCRIPT = `
const scenarioLibrary = ${scenarioLibrary.toString()};
window.runScenario = async (name, env) => {
  const lines = [];
  try {
    await scenarioLibrary()[name](WebSocket, env, (line) => lines.push(line));
  } catch (error) {
    lines.push('FAILED: ' + error.message);
  }
  return lines;
};
`;

describe("Chromium and wsnet's WHATWG WebSocket record the same scenarios", () => {
  const browser = new ChromiumPage(testPage('wsnet/whatwg scenarios', PAGE_SCRIPT));
  const servers: ScenarioServer[] = [];
  let refused: string;
  before(async () => {
    servers.push(await wsnetScenarioServer(), await wsScenarioServer());
    refused = await refusedUrl();
    await browser.listen();
    await browser.open();
  });
  after(() =>
    browser.close(servers.map((server) => [`closing ${server.name}`, () => server.close()])),
  );

  for (const [serverIndex, server] of [
    [0, 'wsnet'],
    [1, 'ws'],
  ] as const) {
    describe(serverIndex === 0 ? "against wsnet's server" : "against ws's server", () => {
      let wsnet: Recording;
      const chromium: Recording = {};
      before(async () => {
        const env = { base: servers[serverIndex].base, refused };
        wsnet = await record(WebSocket as unknown as WebSocketClass, env);
        for (const name of Object.keys(scenarioLibrary()))
          chromium[name] = await fromPage(
            browser.page.evaluate(
              ([scenario, environment]) =>
                (
                  globalThis as unknown as {
                    runScenario(name: string, env: unknown): Promise<string[]>;
                  }
                ).runScenario(scenario, environment),
              [name, env] as const,
            ),
          );
      });

      itRecordsTheSameAs('chromium', server, () => ({ wsnet, theirs: chromium }));
    });
  }
});
