/**
 * `wsnet serve` as the tests of test/cli/serve*.test.ts run it: the real CLI on port 0, its URL
 * read from the `listening on` line, and stopped with SIGTERM (then killed, if it hangs) when the
 * test ends.
 */
import type { TestContext } from 'node:test';
import { CliProcess, type CliExit, type CliOptions } from '../helpers/cli.js';

export interface RunningServe {
  readonly cli: CliProcess;
  /** The WebSocket URL it printed, e.g. `ws://127.0.0.1:41234/`. */
  readonly url: string;
  readonly port: number;
  /** The static files' URL it printed (with --static). */
  readonly filesUrl: string | undefined;
  /** SIGTERM, then how it exited (it is killed if it has not within the deadline). */
  stop(): Promise<CliExit>;
}

/** Starts `wsnet serve --port 0 ...args` and waits until it listens; stops it after the test. */
export async function startServe(
  t: TestContext,
  args: readonly string[],
  options: CliOptions = {},
): Promise<RunningServe> {
  const cli = new CliProcess(['serve', '--port', '0', ...args], options);
  // SIGTERM first: killed outright, it would leave the --exec programs behind (each runs in a
  // process group of its own). exit() kills it if it does not end in time.
  t.after(async () => {
    cli.kill('SIGTERM');
    await cli.exit(15_000);
  });
  const [, url, port] = await cli.waitFor(/^listening on (wss?:\/\/[^\s]+?:(\d+)\/\S*)/m);
  const files = /\(files from .* on (https?:\/\/\S+)\)/.exec(cli.stdout);
  return {
    cli,
    url: url,
    port: Number(port),
    filesUrl: files?.[1],
    stop: () => {
      cli.kill('SIGTERM');
      return cli.exit();
    },
  };
}
