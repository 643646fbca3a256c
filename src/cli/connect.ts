/**
 * `wsnet connect URL`: a WebSocket client for people (interactive, on a terminal) and for
 * scripts (line by line in a pipe, or --execute). This module parses the command line, opens
 * the connection and picks the mode; each mode is a module of its own under connect/, and
 * failures become exit statuses and hints in failures.ts, shared with `wsnet bench`.
 */
import { connect, type WebSocketConnection } from '../messages/index.js';
import { ExitCode } from './exit-codes.js';
import { explainFailure } from './failures.js';
import { runInteractive } from './connect/interactive.js';
import {
  CONNECT_USAGE,
  parseConnectArguments,
  withCertificateAuthorities,
} from './connect/options.js';
import { runPipe } from './connect/pipe.js';

export async function runConnect(argv: readonly string[]): Promise<number> {
  const plan = parseConnectArguments(argv);
  if (plan === 'help') {
    process.stdout.write(CONNECT_USAGE);
    return ExitCode.OK;
  }
  const options = await withCertificateAuthorities(plan);
  let connection: WebSocketConnection;
  try {
    connection = await connect(plan.url, options);
  } catch (error) {
    throw explainFailure(error, { url: plan.url, proxy: plan.proxy }) ?? error;
  }
  // Interactive only when a person is at both ends of the terminal, and nothing asked for
  // output made for programs (--execute, --json).
  const interactive =
    plan.execute.length === 0 &&
    !plan.json &&
    process.stdin.isTTY === true &&
    process.stdout.isTTY === true;
  if (interactive)
    return runInteractive(
      connection,
      { input: process.stdin, output: process.stdout },
      { url: withoutPassword(plan.url), binaryFormat: plan.binaryFormat },
    );
  const stopOnSignals = closeOnSignals(connection);
  try {
    return await runPipe(
      connection,
      { input: process.stdin, output: process.stdout, errors: process.stderr },
      {
        execute: plan.execute,
        waitMs: plan.waitMs,
        json: plan.json,
        binaryFormat: plan.binaryFormat,
      },
    );
  } finally {
    stopOnSignals();
  }
}

/**
 * In a pipe, Ctrl-C (SIGINT) or SIGTERM ends the session with a closing handshake, as on a
 * terminal: 1000 for the user's Ctrl-C, 1001 (going away) for SIGTERM; the session then ends as
 * any close does (the close reported, its exit status). A second signal drops the connection.
 * Returns the function that removes the handlers.
 */
function closeOnSignals(connection: WebSocketConnection): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) connection.terminate();
    else void connection.close(signal === 'SIGINT' ? 1000 : 1001, 'interrupted');
    signalled = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** The URL to show on the screen: a password given in it is not. */
function withoutPassword(url: URL): string {
  if (url.password === '') return url.href;
  const shown = new URL(url.href);
  shown.password = '***';
  return shown.href;
}
