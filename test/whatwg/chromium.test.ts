// Headless Chromium runs the scenario list (the same function's source, as page code) against
// wsnet's and ws's scenario servers; wsnet's WHATWG WebSocket, run by Node against the same
// servers, must record the same lines but for the intended differences (differences.ts).
import { describe } from 'node:test';
import { ChromiumPage, fromPage, testPage } from '../helpers/chromium.js';
import { compareOnEachServer } from './compare.js';
import type { Recording } from './record.js';
import { scenarioLibrary } from './scenarios.js';

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
  compareOnEachServer({
    reference: 'chromium',
    start: async () => {
      await browser.listen();
      await browser.open();
    },
    stop: (closeServers) => browser.close(closeServers),
    record: async (env) => {
      const chromium: Recording = {};
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
      return chromium;
    },
  });
});
