/**
 * The package as its users get it: `npm pack` of the built dist/ into a temporary directory, and
 * fresh projects with the tarball installed (offline: wsnet has no runtime dependencies). For
 * test/package/ and for tests that run `npx wsnet …` from an installed tarball. Every command
 * runs with a deadline and is killed (by its handle) when it passes.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from './paths.js';

/** The Node binaries the package is tested on: this one (Node 20) and the `node22`/`node24` dev dependencies. */
export const nodeBinaries: ReadonlyArray<{ name: string; path: string }> = [
  { name: `node ${process.version}`, path: process.execPath },
  { name: 'node22', path: path.join(projectRoot, 'node_modules/node22/bin/node') },
  { name: 'node24', path: path.join(projectRoot, 'node_modules/node24/bin/node') },
];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` to its end and returns its exit status and output (a non-zero status is a
 * result, not an exception); fails if it still runs after `timeoutMs` (it is then killed).
 */
export function run(
  file: string,
  args: readonly string[],
  {
    cwd = projectRoot,
    timeoutMs = 60_000,
    env,
  }: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd,
        env: { ...process.env, NO_COLOR: '1', ...env },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && error.killed)
          reject(
            new Error(
              `${file} ${args.join(' ')} still ran after ${timeoutMs} ms (killed)\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
        else if (error !== null && typeof error.code !== 'number')
          reject(new Error(`${file} could not start: ${error.message}`));
        else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Fails with what to do when `result` is not a zero exit. */
export function assertSucceeded(result: RunResult, what: string): void {
  if (result.code !== 0)
    throw new Error(
      `${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
}

/** The newest modification time under `dir` (files only), in ms. */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile())
      newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  return newest;
}

/** A file in the tarball, as `npm pack --json` lists it (`path` without the `package/` prefix). */
export interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

export interface PackedTarball {
  path: string;
  files: PackedFile[];
}

/**
 * Packs the project into `destination` and returns the tarball's path. It packs dist/ as
 * `npm run build` left it (`npm test` builds first), without running the prepack build: several
 * test files may pack at once, and a build would delete dist/ under the others. A dist/ older
 * than src/ is refused rather than tested.
 */
export async function packTarball(destination: string): Promise<PackedTarball> {
  const [source, built] = await Promise.all([
    newestMtime(path.join(projectRoot, 'src')),
    newestMtime(path.join(projectRoot, 'dist')).catch(() => 0),
  ]);
  if (built < source)
    throw new Error('dist/ is missing or older than src/: run `npm run build` first');
  const result = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
    { timeoutMs: 120_000 },
  );
  assertSucceeded(result, 'npm pack');
  const [{ filename, files }] = JSON.parse(result.stdout) as [
    { filename: string; files: PackedFile[] },
  ];
  return { path: path.join(destination, filename), files };
}

/**
 * Makes a project in `dir` (`type` in its package.json) and installs the tarball into it with
 * npm, offline and without scripts, as a user would (`npm install ./wsnet-x.y.z.tgz`).
 */
export async function installTarball(
  tarball: string,
  dir: string,
  type: 'commonjs' | 'module',
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${type}`, version: '1.0.0', private: true, type }, null, 2),
  );
  const result = await run(
    'npm',
    ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'],
    { cwd: dir, timeoutMs: 120_000 },
  );
  assertSucceeded(result, 'npm install <tarball>');
}
