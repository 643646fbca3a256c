/** `wsnet bench`: not written yet. */
import { CliError, ExitCode } from './exit-codes.js';

export function runBench(argv: readonly string[]): Promise<number> {
  return Promise.reject(
    new CliError(`'bench' is not implemented yet (${argv.length} arguments)`, ExitCode.USAGE),
  );
}
