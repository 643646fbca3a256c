// The API reference builds with zero warnings (issue 10): TypeDoc, with the project's typedoc.json
// (every exported symbol documented, every link resolved, nothing referenced that is not
// exported), run as `npm run docs` runs it, into a temporary directory. A fixture with an
// undocumented export shows that a warning is caught: the check is not satisfied by output it
// fails to read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from '../helpers/paths.js';

const typedocBin = path.join(projectRoot, 'node_modules/typedoc/bin/typedoc');
const config = path.join(projectRoot, 'typedoc.json');
/**
 * TypeDoc takes about 10 s of CPU on this project (longer on a loaded machine); a run that hangs
 * fails the test instead of holding up the suite.
 */
const TIMEOUT_MS = 180_000;

interface Run {
  code: number | null;
  output: string;
  warnings: string[];
  errors: string[];
}

/**
 * Runs TypeDoc with an options file (the project's typedoc.json) and `args` on top. Warnings are not turned into
 * errors here, so that a failing run lists every warning instead of stopping at the first phase
 * that had one; the test asserts that there are none.
 */
function typedoc(options: string, cwd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [typedocBin, '--options', options, '--treatWarningsAsErrors', 'false', ...args],
      {
        cwd,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        timeout: TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && error.killed) {
          reject(new Error(`typedoc did not finish within ${TIMEOUT_MS} ms\n${stdout}${stderr}`));
          return;
        }
        const output = `${stdout}${stderr}`;
        const lines = output.split('\n');
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          output,
          // The summary line ("Found 0 errors and N warnings") is not a warning of its own.
          warnings: lines.filter((l) => l.includes('[warning]') && !/Found \d+ errors/.test(l)),
          errors: lines.filter((l) => l.includes('[error]') && !/Found \d+ errors/.test(l)),
        });
      },
    );
  });
}

/** The declaration file of a package.json `exports` target, whatever its nesting of conditions. */
function typesOf(target: unknown): string | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (condition === 'types' && typeof value === 'string') return value;
    const nested = typesOf(value);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

const scratch = await mkdtemp(path.join(tmpdir(), 'wsnet-typedoc-'));
after(() => rm(scratch, { recursive: true, force: true }));

// The two TypeDoc runs are independent: side by side, the suite waits for the longer one only.
describe('API docs (TypeDoc)', { concurrency: true }, () => {
  it('the configuration validates everything and fails the build on any warning', () => {
    const options = JSON.parse(readFileSync(config, 'utf8')) as {
      entryPoints: string[];
      treatWarningsAsErrors: boolean;
      excludePrivate: boolean;
      excludeInternal: boolean;
      validation: Record<string, boolean>;
    };
    assert.equal(options.treatWarningsAsErrors, true);
    assert.equal(options.excludePrivate, true);
    assert.equal(options.excludeInternal, true);
    assert.deepEqual(options.validation, {
      notExported: true,
      invalidLink: true,
      notDocumented: true,
    });
    // Every subpath the package exports (but package.json itself) is an entry point.
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const exported = Object.entries(pkg.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, target]) => {
        const types = typesOf(target);
        assert.ok(types !== undefined, `package.json exports ${subpath} without types`);
        return types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
      })
      .sort();
    assert.deepEqual([...options.entryPoints].sort(), exported);
  });

  it('builds the API site with zero warnings and zero errors', async () => {
    const out = path.join(scratch, 'api');
    const run = await typedoc(config, projectRoot, ['--out', out]);
    assert.deepEqual(
      { warnings: run.warnings, errors: run.errors },
      { warnings: [], errors: [] },
      `TypeDoc reported problems:\n${run.output}`,
    );
    assert.equal(run.code, 0, run.output);
    assert.ok(existsSync(path.join(out, 'index.html')), `no site generated:\n${run.output}`);
    for (const module of ['wsnet', 'wsnet_protocol', 'wsnet_messages', 'wsnet_redis'])
      assert.ok(existsSync(path.join(out, 'modules', `${module}.html`)), `no page for ${module}`);
  });

  it('reports an undocumented export (the check above can fail)', async () => {
    // The project's settings on a one-file fixture (its own entry point and tsconfig: TypeDoc
    // reads the tsconfig named in the options file, so the fixture needs an options file too).
    const fixture = path.join(scratch, 'fixture');
    await mkdir(fixture, { recursive: true });
    await writeFile(
      path.join(fixture, 'index.ts'),
      '/**\n * A fixture.\n *\n * @module fixture\n */\n/** Documented. */\n' +
        'export const documented = 1;\nexport function undocumented(): number {\n  return 2;\n}\n',
    );
    await writeFile(
      path.join(fixture, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', lib: ['ES2022'] },
        files: ['index.ts'],
      }),
    );
    const settings = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    delete settings.intentionallyNotExported; // names of the project's files
    await writeFile(
      path.join(fixture, 'typedoc.json'),
      JSON.stringify({
        ...settings,
        name: 'fixture',
        entryPoints: ['index.ts'],
        tsconfig: 'tsconfig.json',
        readme: 'none',
        out: 'api',
      }),
    );
    const run = await typedoc(path.join(fixture, 'typedoc.json'), fixture, []);
    assert.ok(
      run.warnings.some((w) => w.includes('undocumented') && w.includes('does not have any')),
      `expected a warning about the undocumented export:\n${run.output}`,
    );
    assert.ok(!run.warnings.some((w) => /\bdocumented \(/.test(w)), run.output);
  });
});
