#!/usr/bin/env node
/** The package's `bin`: runs `wsnet` with the process's arguments and exits with its status. */
import { main, reportFailure } from './main.js';

// process.exitCode rather than process.exit(): output still buffered in a pipe is flushed first.
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => (process.exitCode = reportFailure(error)),
);
