// The fast part of the suite under Node 22 and 24 (the `node22`/`node24` dev dependencies; this
// run's Node, 20, runs everything): the protocol core, the I/O layer, the POCO facade, the message
// API and the public names. Left out, and run under 22 and 24 by hand before a release (all of it
// passed there when this was written): the memory and crash tests that measure child processes
// (messages/limits, peer-crash, deflate-limits, poco/limits: 10-25 s each, mostly waiting out
// their deadlines), test/conformance (950 cases, minutes), test/interop (Chromium and Python
// peers, whose versions do not change with Node's), test/property (fast-check, minutes) and
// test/cli, test/tooling and test/package (this file among them).
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertSucceeded, nodeBinaries, run } from '../helpers/package.js';
import { projectRoot } from '../helpers/paths.js';

const FAST_DIRECTORIES = ['protocol', 'io', 'poco', 'messages'];
const SLOW_FILES = new Set([
  'messages/limits.test.js',
  'messages/peer-crash.test.js',
  'messages/deflate-limits.test.js',
  'poco/limits.test.js',
]);
// 56-72 s per version on a 2-vCPU VM running other work (load ~15); the bound leaves room.
const SUITE_TIMEOUT = 300_000;

const compiledTests = path.join(projectRoot, 'build/test');

async function fastTestFiles(): Promise<string[]> {
  const files = [path.join(compiledTests, 'exports.test.js')];
  for (const directory of FAST_DIRECTORIES)
    for (const name of (await readdir(path.join(compiledTests, directory))).sort())
      if (name.endsWith('.test.js') && !SLOW_FILES.has(`${directory}/${name}`))
        files.push(path.join(compiledTests, directory, name));
  return files;
}

/** The totals a TAP report ends with (`# pass 12`...). */
function tapTotals(report: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [, name, count] of report.matchAll(
    /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm,
  ))
    totals[name] = Number(count);
  return totals;
}

describe('the fast part of the suite on other Node versions', () => {
  for (const node of nodeBinaries.filter((binary) => binary.path !== process.execPath))
    it(`passes on ${node.name}`, { timeout: SUITE_TIMEOUT + 30_000 }, async () => {
      const version = await run(node.path, ['--version']);
      assertSucceeded(version, `${node.name} --version`);
      assert.match(version.stdout, new RegExp(`^v${node.name.replace('node', '')}\\.`));

      const files = await fastTestFiles();
      assert.ok(files.length >= 30, `${files.length} test files`);
      const result = await run(
        node.path,
        ['--test', '--test-reporter=tap', '--test-concurrency=1', ...files],
        // Without the runner's own variable, the child reports to its terminal (TAP on stdout),
        // not to this runner over its private channel.
        { timeoutMs: SUITE_TIMEOUT, env: { NODE_TEST_CONTEXT: undefined } },
      );
      const totals = tapTotals(result.stdout);
      const failures = [...result.stdout.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(
        { fail: totals.fail, cancelled: totals.cancelled, failures },
        { fail: 0, cancelled: 0, failures: [] },
        result.stderr,
      );
      assert.ok(totals.pass > 500, `${totals.pass} passed`);
      assert.equal(totals.pass + (totals.skipped ?? 0) + (totals.todo ?? 0), totals.tests);
      assert.equal(result.code, 0);
    });
});
