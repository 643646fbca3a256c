/**
 * The comparison of wsnet's recording of the scenario list with another implementation's
 * (undici's, Chromium's): against wsnet's and ws's scenario servers, each recorded once, then
 * checked as tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from '../../src/whatwg/index.js';
import {
  INTENDED_DIFFERENCES,
  applyDifferences,
  findBlock,
  type Reference,
  type ServerKind,
} from './differences.js';
import { record, type Recording } from './record.js';
import type { ScenarioEnvironment, WebSocketClass } from './scenarios.js';
import {
  refusedUrl,
  wsScenarioServer,
  wsnetScenarioServer,
  type ScenarioServer,
} from './servers.js';

const NAMES: Readonly<Record<Reference, string>> = { undici: 'undici', chromium: 'Chromium' };

/**
 * Three tests: neither recording has a failed scenario; wsnet records the same lines in each
 * scenario but for the intended differences; each intended difference is still recorded by the
 * other implementation (a stale one fails, so the list cannot outlive a fix).
 */
export function itRecordsTheSameAs(
  reference: Reference,
  server: ServerKind,
  recordings: () => { readonly wsnet: Recording; readonly theirs: Recording },
): void {
  const name = NAMES[reference];

  it(`records the same scenarios as ${name}, none of them failed`, () => {
    const { wsnet, theirs } = recordings();
    assert.deepEqual(Object.keys(wsnet), Object.keys(theirs));
    for (const [scenario, lines] of [...Object.entries(wsnet), ...Object.entries(theirs)])
      assert.ok(
        !lines.some((line) => line.startsWith('FAILED')),
        `${scenario}: ${lines.join('\n')}`,
      );
  });

  it('records the same lines in each scenario, but for the intended differences', () => {
    const { wsnet, theirs } = recordings();
    const expected = Object.fromEntries(
      Object.entries(theirs).map(([scenario, lines]) => [
        scenario,
        applyDifferences(scenario, lines, reference, server),
      ]),
    );
    assert.deepEqual(wsnet, expected);
  });

  it(`each intended difference from ${name} is still there (none is stale)`, () => {
    const { theirs } = recordings();
    for (const difference of INTENDED_DIFFERENCES.filter(
      (d) => d.from.includes(reference) && (d.server ?? server) === server,
    ))
      assert.ok(
        findBlock(theirs[difference.scenario], difference.theirs) !== -1,
        `${name} no longer records ${JSON.stringify(difference.theirs)} in '${difference.scenario}'`,
      );
  });
}

/** What a comparison needs of the other implementation: its recording, and its own set-up. */
export interface OtherImplementation {
  readonly reference: Reference;
  /** Records the scenario list against one server. */
  record(env: ScenarioEnvironment): Promise<Recording>;
  /** Starts what it needs (a browser), after the servers have started. */
  readonly start?: () => Promise<void>;
  /**
   * Ends it, given the steps that close the servers (a browser closes before the servers it is
   * connected to); by default the steps are run in order.
   */
  readonly stop?: (closeServers: ReadonlyArray<readonly [string, () => unknown]>) => Promise<void>;
}

/**
 * Against wsnet's scenario server, then ws's: wsnet's class and `other` each record the scenario
 * list, and {@link itRecordsTheSameAs} compares them.
 */
export function compareOnEachServer(other: OtherImplementation): void {
  const servers: ScenarioServer[] = [];
  let refused: string;
  before(async () => {
    servers.push(await wsnetScenarioServer(), await wsScenarioServer());
    refused = await refusedUrl();
    await other.start?.();
  });
  after(async () => {
    const steps = servers.map(
      (server) => [`closing ${server.name}`, () => server.close()] as const,
    );
    if (other.stop !== undefined) await other.stop(steps);
    else for (const [, close] of steps) await close();
  });

  for (const [serverIndex, server] of [
    [0, 'wsnet'],
    [1, 'ws'],
  ] as const) {
    describe(serverIndex === 0 ? "against wsnet's server" : "against ws's server", () => {
      let wsnet: Recording;
      let theirs: Recording;
      before(async () => {
        const env = { base: servers[serverIndex].base, refused };
        wsnet = await record(WebSocket as unknown as WebSocketClass, env);
        theirs = await other.record(env);
      });

      itRecordsTheSameAs(other.reference, server, () => ({ wsnet, theirs }));
    });
  }
}
