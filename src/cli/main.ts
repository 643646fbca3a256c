/**
 * `wsnet`: the package's command line. `wsnet connect URL`, `wsnet serve`, `wsnet bench URL`.
 * Each command lives in its own module and is built on the message API only (`../messages/`),
 * exactly as a user of the package would write it.
 */
import { CliError, ExitCode } from './exit-codes.js';

/** A command: parses its own arguments and resolves with the exit status. */
type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  connect: {
    summary: 'connect to a WebSocket server: interactive on a terminal, line-by-line in a pipe',
    load: async () => (await import('./connect.js')).runConnect,
  },
  serve: {
    summary: 'run a WebSocket server: echo, broadcast (chat) or a program per connection',
    load: async () => (await import('./serve.js')).runServe,
  },
  bench: {
    summary: 'load-test any WebSocket server: throughput and latency percentiles',
    load: async () => (await import('./bench.js')).runBench,
  },
};

export const USAGE = `Usage: wsnet <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(9)}${summary}`)
  .join('\n')}

Run 'wsnet <command> --help' for a command's options.
Exit status: 0 clean end, 1 abnormal close, 2 usage, 3 handshake refused, 4 network error,
5 timeout, 6 local failure (file, port).
`;

/** Runs `wsnet` with `argv` (the arguments after the program name); resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${await packageVersion()}\n`);
    return ExitCode.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`wsnet: unknown command '${name}'\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  try {
    return await (
      await command.load()
    )(rest);
  } catch (error) {
    return reportFailure(error);
  }
}

/** Prints a failure as `wsnet: message` (and its hint); anything but a CliError is a bug, so with its stack. */
export function reportFailure(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(
      `wsnet: ${error.message}\n${error.hint === undefined ? '' : `${error.hint}\n`}`,
    );
    return error.code;
  }
  process.stderr.write(
    `wsnet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return ExitCode.LOCAL;
}

/** The version in wsnet's package.json, found upwards from this file (dist/cli/ or build/src/cli/). */
async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (let url = new URL('../', import.meta.url); ; url = new URL('../', url)) {
    try {
      const json = JSON.parse(await readFile(new URL('package.json', url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (json.name === 'wsnet' && typeof json.version === 'string') return json.version;
    } catch {
      // No package.json here (or not ours): keep going up.
    }
    if (url.pathname === '/') return 'unknown';
  }
}
