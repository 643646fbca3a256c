/** `wsnet serve`: not written yet. */
import { CliError, ExitCode } from './exit-codes.js';

export function runServe(argv: readonly string[]): Promise<number> {
  return Promise.reject(
    new CliError(`'serve' is not implemented yet (${argv.length} arguments)`, ExitCode.USAGE),
  );
}
