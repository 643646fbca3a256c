/** `wsnet connect`: not written yet. */
import { CliError, ExitCode } from './exit-codes.js';

export function runConnect(argv: readonly string[]): Promise<number> {
  return Promise.reject(
    new CliError(`'connect' is not implemented yet (${argv.length} arguments)`, ExitCode.USAGE),
  );
}
