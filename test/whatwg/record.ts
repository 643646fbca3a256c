/**
 * Runs the scenario list (scenarios.ts) with a WebSocket class against a server and records
 * each scenario's lines; a scenario that fails (a wait timed out) records the failure as its
 * last line, so that the comparison shows where it stopped.
 */
import { scenarioLibrary, type ScenarioEnvironment, type WebSocketClass } from './scenarios.js';

export type Recording = Record<string, string[]>;

export async function record(
  WebSocket: WebSocketClass,
  env: ScenarioEnvironment,
): Promise<Recording> {
  const recording: Recording = {};
  for (const [name, scenario] of Object.entries(scenarioLibrary())) {
    const lines: string[] = [];
    try {
      await scenario(WebSocket, env, (line) => lines.push(line));
    } catch (error) {
      lines.push(`FAILED: ${(error as Error).message}`);
    }
    recording[name] = lines;
  }
  return recording;
}
