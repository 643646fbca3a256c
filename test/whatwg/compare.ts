/**
 * The checks that compare wsnet's recording of the scenario list with another implementation's
 * (undici's, Chromium's), as tests of the `describe` they are called in.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  INTENDED_DIFFERENCES,
  applyDifferences,
  findBlock,
  type Reference,
  type ServerKind,
} from './differences.js';
import type { Recording } from './record.js';

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
