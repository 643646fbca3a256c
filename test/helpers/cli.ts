/**
 * The `wsnet` command line as tests meet it: the compiled bin (build/src/cli/bin.js) started as a
 * child process with `process.execPath`, its stdin a pipe, its stdout and stderr collected.
 * Every wait has a deadline; `kill()` ends the child by its handle, and only it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Signal } from './wait.js';

/** The compiled entry point the package's `bin` names (in build/, as the tests see it). */
export const cliBin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment variables (merged over the test runner's). */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** The program to run instead of this Node (e.g. another Node version's binary). */
  node?: string;
  /** The script to run instead of the wsnet bin (e.g. a compiled example). */
  script?: string;
  /**
   * A whole command to run instead of Node and a script (e.g. `['npx', '--offline', 'wsnet']`);
   * it runs as the leader of a process group of its own, and `kill` signals the whole group, so
   * that what a launcher such as npx starts ends with it.
   */
  command?: readonly string[];
}

/** A running `wsnet` process. */
export class CliProcess {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  #exit: Promise<CliExit>;
  #exited = false;
  /** Whether the child leads a process group of its own (signals go to the group). */
  readonly #group: boolean;
  /** Woken by every message, output or exit. */
  readonly #changed = new Signal();

  constructor(args: readonly string[], options: CliOptions = {}) {
    const [file, ...prefix] = options.command ?? [
      options.node ?? process.execPath,
      options.script ?? cliBin,
    ];
    this.#group = options.command !== undefined;
    this.process = spawn(file, [...prefix, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: this.#group,
    });
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.#changed.notify();
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#changed.notify();
    });
    // A child that exits before reading its stdin makes writes fail with EPIPE: not the test's
    // failure, which is whatever the exit status and output say.
    this.process.stdin!.on('error', () => {});
    this.#exit = new Promise((resolve) => {
      this.process.on('close', (code, signal) => {
        this.#exited = true;
        this.#changed.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Writes to the child's stdin. */
  write(text: string | Uint8Array): void {
    this.process.stdin!.write(text);
  }

  /** Closes the child's stdin (end of input). */
  endInput(): void {
    this.process.stdin!.end();
  }

  /**
   * Waits until `pattern` matches the collected stdout (or stderr, with `stream`), and returns the
   * match; fails with both outputs once `timeoutMs` passes or the child exits without it.
   */
  async waitFor(
    pattern: RegExp,
    {
      stream = 'stdout',
      timeoutMs = 10_000,
    }: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {},
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = (stream === 'stdout' ? this.stdout : this.stderr).match(pattern);
      if (match !== null) return match;
      if (this.#exited || !(await this.#changed.until(deadline)))
        throw new Error(
          `${this.#exited ? 'wsnet exited' : `no match within ${timeoutMs} ms`} before ${pattern} on ${stream}\n` +
            `stdout: ${JSON.stringify(this.stdout)}\nstderr: ${JSON.stringify(this.stderr)}`,
        );
    }
  }

  /** How the child ended; kills it (SIGKILL) and fails if it still runs after `timeoutMs`. */
  async exit(timeoutMs = 10_000): Promise<CliExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
    });
    const result = await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);
    if (result !== undefined) return result;
    this.kill();
    const killed = await this.#exit;
    throw new Error(
      `wsnet still ran after ${timeoutMs} ms (killed)\nstdout: ${JSON.stringify(killed.stdout)}\nstderr: ${JSON.stringify(killed.stderr)}`,
    );
  }

  /** Sends `signal` (default SIGKILL) to the child if it still runs. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exited || this.process.exitCode !== null) return;
    if (this.#group && this.process.pid !== undefined) process.kill(-this.process.pid, signal);
    else this.process.kill(signal);
  }
}

/** Runs `wsnet args` to its end with `input` on stdin (closed after it); fails after `timeoutMs`. */
export async function runCli(
  args: readonly string[],
  {
    input = '',
    timeoutMs = 15_000,
    ...options
  }: CliOptions & { input?: string; timeoutMs?: number } = {},
): Promise<CliExit> {
  const cli = new CliProcess(args, options);
  cli.write(input);
  cli.endInput();
  return cli.exit(timeoutMs);
}
