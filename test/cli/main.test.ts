// `wsnet` itself: help, version, unknown commands, and the exit status of each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/paths.js';

describe('wsnet', () => {
  it('with no command prints the usage and exits 2', async () => {
    const result = await runCli([]);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /^Usage: wsnet <command>/);
    for (const command of ['connect', 'serve', 'bench'])
      assert.match(result.stdout, new RegExp(`\\n  ${command} `));
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Exit status: 0 clean end/);
  });

  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(
      readFileSync(path.join(projectRoot, 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    const result = await runCli(['--version']);
    assert.deepEqual([result.code, result.stdout], [0, `${version}\n`]);
  });

  it('an unknown command is a usage error that names it', async () => {
    const result = await runCli(['conect', 'ws://127.0.0.1:1/']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command 'conect'/);
    assert.equal(result.stdout, '');
  });
});
