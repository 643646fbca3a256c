/**
 * POCO's `Poco::Util::ServerApplication`, the part a server's `main()` uses: run the
 * application, wait for a termination request, shut down, return an exit status.
 *
 * ```ts
 * class EchoServer extends ServerApplication {
 *   protected async main(): Promise<number> {
 *     const server = new HTTPServer(factory, await ServerSocket.create(9980));
 *     server.start();
 *     await this.waitForTerminationRequest(); // SIGINT, SIGQUIT or SIGTERM
 *     server.stopAll(true);
 *     return ServerApplication.EXIT_OK;
 *   }
 * }
 * process.exitCode = await new EchoServer().run(); // POCO_SERVER_MAIN
 * ```
 *
 * Not copied from POCO: daemon and Windows-service mode, configuration, options and logging
 * subsystems, and the `POCO_ENABLE_DEBUGGER` variable (which lets SIGINT through to a native
 * debugger: no use to Node's inspector).
 */

/**
 * What requests termination: on POSIX the signals POCO's `waitForTerminationRequest` waits for
 * with `sigwait` (SIGINT, SIGQUIT, SIGTERM); on Windows the console events POCO's
 * `ConsoleCtrlHandler` takes (Ctrl+C, Ctrl+Break, closing the console), as Node names them.
 */
export const TERMINATION_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGBREAK', 'SIGHUP']
    : ['SIGINT', 'SIGQUIT', 'SIGTERM'];

/** The longest delay a Node timer takes: the timer that keeps the process waiting never fires. */
const FOREVER_MS = 2 ** 31 - 1;

/**
 * Resolves with the first termination signal (`TERMINATION_SIGNALS`) that arrives, as POCO's
 * `ServerApplication::waitForTerminationRequest()` returns once one does. While it waits, those
 * signals do not end the process, and the process stays up even if nothing else keeps it
 * running (Node's signal listeners alone would let it exit). Once settled, its listeners are
 * removed: a second Ctrl+C during a shutdown that hangs ends the process as Node's default
 * does. Each call waits for a signal of its own; calls waiting together all get the same one.
 * With `signal`, aborting stops the wait (it rejects with the signal's reason).
 */
export function waitForTerminationRequest(
  options: { readonly signal?: AbortSignal } = {},
): Promise<NodeJS.Signals> {
  const abort = options.signal;
  if (abort?.aborted === true) return Promise.reject(abort.reason as Error);
  return new Promise<NodeJS.Signals>((resolve, reject) => {
    const keepAlive = setInterval(() => undefined, FOREVER_MS);
    const finish = () => {
      clearInterval(keepAlive);
      for (const name of TERMINATION_SIGNALS) process.off(name, onSignal);
      abort?.removeEventListener('abort', onAbort);
    };
    const onSignal = (received: NodeJS.Signals) => {
      finish();
      resolve(received);
    };
    const onAbort = () => {
      finish();
      reject(abort!.reason as Error);
    };
    for (const name of TERMINATION_SIGNALS) process.on(name, onSignal);
    abort?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The base class of a server program (POCO's `ServerApplication`, from `Application`). */
export abstract class ServerApplication {
  // Application::ExitCode: the exit statuses of sysexits.h.
  /** Successful termination (sysexits.h `EX_OK`). */
  static readonly EXIT_OK = 0;
  /** Command line usage error (sysexits.h `EX_USAGE`). */
  static readonly EXIT_USAGE = 64;
  /** Data format error (sysexits.h `EX_DATAERR`). */
  static readonly EXIT_DATAERR = 65;
  /** Cannot open input (sysexits.h `EX_NOINPUT`). */
  static readonly EXIT_NOINPUT = 66;
  /** Addressee unknown (sysexits.h `EX_NOUSER`). */
  static readonly EXIT_NOUSER = 67;
  /** Host name unknown (sysexits.h `EX_NOHOST`). */
  static readonly EXIT_NOHOST = 68;
  /** Service unavailable (sysexits.h `EX_UNAVAILABLE`). */
  static readonly EXIT_UNAVAILABLE = 69;
  /** Internal software error (an error escaping `main`) (sysexits.h `EX_SOFTWARE`). */
  static readonly EXIT_SOFTWARE = 70;
  /** System error (e.g. cannot fork) (sysexits.h `EX_OSERR`). */
  static readonly EXIT_OSERR = 71;
  /** Critical OS file missing (sysexits.h `EX_OSFILE`). */
  static readonly EXIT_OSFILE = 72;
  /** Can't create (user) output file (sysexits.h `EX_CANTCREAT`). */
  static readonly EXIT_CANTCREAT = 73;
  /** Input/output error (sysexits.h `EX_IOERR`). */
  static readonly EXIT_IOERR = 74;
  /** Temporary failure; the user is invited to retry (sysexits.h `EX_TEMPFAIL`). */
  static readonly EXIT_TEMPFAIL = 75;
  /** Remote error in protocol (sysexits.h `EX_PROTOCOL`). */
  static readonly EXIT_PROTOCOL = 76;
  /** Permission denied (sysexits.h `EX_NOPERM`). */
  static readonly EXIT_NOPERM = 77;
  /** Configuration error (sysexits.h `EX_CONFIG`). */
  static readonly EXIT_CONFIG = 78;

  /** The application's work (POCO's `main(args)`): resolves with the exit status. */
  protected abstract main(args: readonly string[]): number | Promise<number>;

  /**
   * Runs `main` with `args` (the command line's arguments by default) and resolves with its
   * exit status. An error escaping `main` is written to stderr and gives `EXIT_SOFTWARE`, as
   * POCO's `Application::run()` logs it and returns that. It never rejects: set
   * `process.exitCode` from it.
   */
  async run(args: readonly string[] = process.argv.slice(2)): Promise<number> {
    try {
      return await this.main(args);
    } catch (error) {
      console.error(error);
      return ServerApplication.EXIT_SOFTWARE;
    }
  }

  /** See the function `waitForTerminationRequest`: POCO's protected member. */
  protected waitForTerminationRequest(
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<NodeJS.Signals> {
    return waitForTerminationRequest(options);
  }

  /**
   * Requests termination as POCO's static `terminate()` does on POSIX: this process sends itself
   * SIGTERM, which a waiting `waitForTerminationRequest` receives. Without a waiter, SIGTERM
   * ends the process (Node's default, as the signal's in C++).
   */
  static terminate(): void {
    process.kill(process.pid, 'SIGTERM');
  }
}
