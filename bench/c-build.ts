/**
 * The benchmarks' C programs (bench/echo/load-generator.c, bench/fanout/subscriber.c), compiled
 * on demand: once per source version, into the system's temp directory (a build product, never
 * in the repository), named by a hash of the source and of the headers they share (bench/c/).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The programs' shared headers (bench/c/ws-bench.h): a directory of bench/, passed to `cc -I`. */
const INCLUDE_DIRECTORY = 'c';

/**
 * The benchmarks' source tree, bench/, that holds `relative`: beside build/ when this runs
 * compiled from build/bench/ (the .c and .h files are not copied into build/), or this file's own
 * directory.
 */
function sourceTree(relative: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', '..', 'bench'), here];
  const found = candidates.find((candidate) => fs.existsSync(path.join(candidate, relative)));
  if (found === undefined) throw new Error(`bench/${relative} not found near ${here}`);
  return found;
}

/**
 * The binary of `bench/<relative>` (a C file), compiled with `cc -O2 -I bench/c` if this version
 * of it and of the shared headers has not been yet; `name` prefixes the binary's file name.
 * Throws without a C compiler.
 */
export function compiledBenchProgram(relative: string, name: string): string {
  const tree = sourceTree(relative);
  const source = path.join(tree, relative);
  // The headers of the same tree as the source.
  const includes = path.join(tree, INCLUDE_DIRECTORY);
  const headers = fs
    .readdirSync(includes)
    .filter((file) => file.endsWith('.h'))
    .sort();
  const hash = createHash('sha256').update(fs.readFileSync(source));
  // Each header by name and contents: renaming, editing, adding or removing one recompiles.
  for (const header of headers) {
    hash.update(`\0${header}\0`).update(fs.readFileSync(path.join(includes, header)));
  }
  const digest = hash.digest('hex').slice(0, 16);
  const binary = path.join(os.tmpdir(), `${name}-${digest}`);
  if (!fs.existsSync(binary)) {
    // Built beside its final name and renamed: a concurrent run never executes half a file.
    const partial = `${binary}.${process.pid}`;
    execFileSync('cc', ['-O2', '-I', includes, '-o', partial, source], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    fs.renameSync(partial, binary);
  }
  return binary;
}
