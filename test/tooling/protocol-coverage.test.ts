// src/protocol/ is held at 100 % branch coverage (python-websockets' bar), by its own unit tests
// in test/protocol/ alone: this runs them under Node's coverage with tools/coverage-table.js,
// whose threshold (COVERAGE_PROTOCOL_MIN_BRANCH) defaults to 100, and fails on any branch no test
// takes. `npm run coverage:protocol` prints the same table over more suites, and src/io/ too.
//
// Node 20's coverage cannot read builds with source maps ("Could not report code coverage"), and
// build/ has them, so the compiled JavaScript is copied to a temporary directory without its
// sourceMappingURL comments (milliseconds; compiling again would take far longer).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

/** Copies the .js files under `from` to `to`, without their source map comments. */
function copyJavaScript(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyJavaScript(source, target);
    else if (entry.name.endsWith('.js'))
      writeFileSync(
        target,
        readFileSync(source, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, ''),
      );
  }
}

describe('src/protocol/ branch coverage', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsnet-coverage-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is 100 % under test/protocol/ alone', () => {
    const build = path.join(projectRoot, 'build');
    copyJavaScript(path.join(build, 'src'), path.join(dir, 'build', 'src'));
    for (const sub of ['protocol', 'helpers'])
      copyJavaScript(path.join(build, 'test', sub), path.join(dir, 'build', 'test', sub));
    // "type": "module" for the copies; node_modules for fast-check; src/ for the table's lines.
    copyFileSync(path.join(projectRoot, 'package.json'), path.join(dir, 'package.json'));
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    symlinkSync(path.join(projectRoot, 'src'), path.join(dir, 'src'), 'dir');
    const testDir = path.join(dir, 'build', 'test', 'protocol');
    const tests = readdirSync(testDir)
      .filter((name) => name.endsWith('.test.js'))
      .sort()
      .map((name) => path.join('build', 'test', 'protocol', name));
    assert.ok(tests.length >= 10, `only ${tests.length} test files in test/protocol/`);

    const env = { ...process.env };
    delete env.COVERAGE_PROTOCOL_MIN_BRANCH; // the default (100) is what is checked
    delete env.NODE_V8_COVERAGE; // this run's coverage is its own
    delete env.NODE_TEST_CONTEXT; // set for this file's process: it would make the child skip its files
    const run = spawnSync(
      process.execPath,
      [
        '--test',
        '--experimental-test-coverage',
        '--test-reporter',
        path.join(projectRoot, 'tools', 'coverage-table.js'),
        '--test-reporter-destination',
        'stdout',
        ...tests,
      ],
      { cwd: dir, env, encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.equal(run.error, undefined, `the coverage run did not finish: ${String(run.error)}`);
    const table = run.stdout;
    const summary = /^src\/protocol\/\*\* \(all\) +\| +[\d.]+ \| +([\d.]+) \| (\d+)\/(\d+)/m.exec(
      table,
    );
    assert.ok(summary, `no src/protocol summary in the output:\n${table}\n${run.stderr}`);
    assert.equal(
      summary[2],
      summary[3],
      `branches of src/protocol/ no test in test/protocol/ takes (module | lines % | branches % | lines):\n${table}`,
    );
    assert.equal(summary[1], '100.00');
    assert.equal(run.status, 0, `the coverage run failed:\n${table}\n${run.stderr.slice(-4000)}`);
  });
});
