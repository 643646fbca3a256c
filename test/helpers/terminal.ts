/**
 * The `wsnet` command line on a real pseudo-terminal: a tmux server of the test's own (its own
 * socket and configuration in a temporary directory) runs the compiled bin in a pane, keys are
 * typed into it, and the screen is read back. The pane stays after the program exits, and its
 * shell writes the exit status to a file. Every wait has a deadline; `stop()` ends this tmux server, and only it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cliBin } from './cli.js';
import { delay } from './wait.js';

const run = promisify(execFile);

/** Is tmux installed? (The terminal tests are skipped, saying so, when it is not.) */
export async function hasTmux(): Promise<boolean> {
  try {
    await run('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

/** The exit status in `file`, if it was written yet. */
function readStatus(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export class Terminal {
  readonly #directory: string;
  readonly #socket: string;
  readonly #statusFile: string;

  private constructor(directory: string) {
    this.#directory = directory;
    this.#socket = path.join(directory, 'tmux.sock');
    this.#statusFile = path.join(directory, 'status');
  }

  /** Starts `wsnet args` in a new terminal of `columns` x `rows`. */
  static async start(
    args: readonly string[],
    { columns = 120, rows = 40 }: { columns?: number; rows?: number } = {},
  ): Promise<Terminal> {
    const directory = mkdtempSync(path.join(tmpdir(), 'wsnet-tty-'));
    const config = path.join(directory, 'tmux.conf');
    // remain-on-exit keeps the pane (its screen and exit status) after the program ends.
    writeFileSync(config, 'set -g remain-on-exit on\nset -g history-limit 5000\n');
    const terminal = new Terminal(directory);
    // The shell writes the exit status to a file (whole: written to a temporary name, then
    // renamed), and the pane stays (remain-on-exit) to be read.
    const status = terminal.#statusFile;
    const command =
      `${[process.execPath, cliBin, ...args].map(shellQuote).join(' ')}; ` +
      `echo $? > ${shellQuote(`${status}.tmp`)} && mv ${shellQuote(`${status}.tmp`)} ${shellQuote(status)}`;
    await terminal.#tmux(
      ['-f', config, 'new-session', '-d', '-x', String(columns), '-y', String(rows), command],
      { NO_COLOR: '1' },
    );
    return terminal;
  }

  /** Types `text` literally (no key names). */
  async type(text: string): Promise<void> {
    await this.#tmux(['send-keys', '-l', text]);
  }

  /** Presses keys by tmux's names: 'Enter', 'C-c', 'C-d'. */
  async press(...keys: string[]): Promise<void> {
    await this.#tmux(['send-keys', ...keys]);
  }

  /** The visible screen and its scroll-back, as text. */
  async screen(): Promise<string> {
    const { stdout } = await this.#tmux(['capture-pane', '-p', '-J', '-S', '-']);
    return stdout;
  }

  /** Waits until the screen matches `pattern`; fails with the screen after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      const match = screen.match(pattern);
      if (match !== null) return match;
      if (Date.now() > deadline)
        throw new Error(`no ${pattern} on the terminal within ${timeoutMs} ms:\n${screen}`);
      await delay(25);
    }
  }

  /** The program's exit status once it has ended; fails with the screen after `timeoutMs`. */
  async exitCode(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Written by the pane's shell when wsnet ends: tmux's own #{pane_dead_status} is not
      // relied on (under load it was seen leaving the process unreaped, with no status).
      const status = readStatus(this.#statusFile);
      if (status !== undefined) return status;
      if (Date.now() > deadline)
        throw new Error(`wsnet still ran after ${timeoutMs} ms:\n${await this.screen()}`);
      await delay(25);
    }
  }

  /** Ends this terminal's tmux server (and the program, if it still runs) and its files. */
  async stop(): Promise<void> {
    try {
      await this.#tmux(['kill-server']);
    } catch {
      // already gone
    }
    rmSync(this.#directory, { recursive: true, force: true });
  }

  #tmux(args: readonly string[], env: Record<string, string> = {}) {
    return run('tmux', ['-S', this.#socket, ...args], {
      env: { ...process.env, TMUX: '', ...env },
      timeout: 10_000,
    });
  }
}
