/**
 * The benchmarks' C programs (bench/echo/load-generator.c, bench/fanout/subscriber.c), compiled
 * on demand: once per source version, into the system's temp directory (a build product, never
 * in the repository), named by a hash of the source.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The benchmarks' source tree: bench/ beside build/bench/ (the build keeps the tree), or here. */
function sourcePath(relative: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', '..', 'bench', relative), path.join(here, relative)];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (found === undefined) throw new Error(`bench/${relative} not found near ${here}`);
  return found;
}

/**
 * The binary of `bench/<relative>` (a C file), compiled with `cc -O2` if this version of it has
 * not been yet; `name` prefixes the binary's file name. Throws without a C compiler.
 */
export function compiledBenchProgram(relative: string, name: string): string {
  const source = sourcePath(relative);
  const digest = createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 16);
  const binary = path.join(os.tmpdir(), `${name}-${digest}`);
  if (!fs.existsSync(binary)) {
    // Built beside its final name and renamed: a concurrent run never executes half a file.
    const partial = `${binary}.${process.pid}`;
    execFileSync('cc', ['-O2', '-o', partial, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    fs.renameSync(partial, binary);
  }
  return binary;
}
