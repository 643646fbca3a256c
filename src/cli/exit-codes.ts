/**
 * The exit status of every `wsnet` command: scripts tell how a run ended from the number alone.
 * Chosen so that 0 is only ever a clean end, 2 is what shells and getopt use for bad usage, and
 * the rest name the phase that failed.
 */
export const ExitCode = {
  /** The run ended as asked: a clean close (1000/1001 or the peer's normal close), `--wait` elapsed. */
  OK: 0,
  /** The connection ended abnormally after it opened: a close code other than 1000/1001, or 1006. */
  ABNORMAL_CLOSE: 1,
  /** Bad command line: unknown option, missing or malformed argument. */
  USAGE: 2,
  /** The server answered the handshake but refused it (HTTP status other than 101, bad response). */
  HANDSHAKE_REFUSED: 3,
  /** The server could not be reached: DNS, connection refused or reset, TLS failure, proxy failure. */
  NETWORK: 4,
  /** The handshake (or another deadline the user set) ran out. */
  TIMEOUT: 5,
  /** A local failure that is not the network's: a file that cannot be read, a port in use. */
  LOCAL: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the command reports in one line (plus a hint) and ends with `code`, without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
    /** What the user can do about it, printed on its own line after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
