/**
 * What a failed `connect()` means for `wsnet bench`: a short reason to count failures by, and the
 * exit status and hint when it is the first connection (the server cannot be benchmarked at all).
 *
 * `wsnet connect` needs the same mapping; this one is kept here until the two are merged into
 * one module of src/cli/. The message API's public entry exports `NetworkError` and
 * `TimeoutError`; a `HandshakeError` (from the protocol core) is recognised by its name and its
 * `status`, the fields the package documents.
 */
import { NetworkError, TimeoutError } from '../../messages/index.js';
import { CliError, ExitCode } from '../exit-codes.js';

export interface ConnectFailure {
  /** A short, stable label to count failures by ("HTTP 403", "ECONNREFUSED", "timeout"...). */
  readonly reason: string;
  /** The exit status if no connection could be opened. */
  readonly code: ExitCode;
  /** The full message. */
  readonly message: string;
}

/** The errno code (ECONNREFUSED...) somewhere in an error's cause chain. */
function errnoCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    e = e.cause;
  }
  return undefined;
}

export function classifyConnectFailure(error: unknown): ConnectFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TimeoutError)
    return { reason: 'handshake timeout', code: ExitCode.TIMEOUT, message };
  if (error instanceof NetworkError) {
    if (error.kind === 'http')
      return { reason: 'bad HTTP response', code: ExitCode.HANDSHAKE_REFUSED, message };
    const code = errnoCode(error);
    return {
      reason: error.kind === 'network' ? (code ?? 'network error') : `${error.kind} error`,
      code: ExitCode.NETWORK,
      message,
    };
  }
  if (error instanceof Error && error.name === 'HandshakeError') {
    const status = (error as Error & { status?: number }).status;
    const refused = status !== undefined && status !== 101;
    return {
      reason: refused ? `HTTP ${status}` : 'handshake refused',
      code: ExitCode.HANDSHAKE_REFUSED,
      message: refused ? `HTTP ${status}: ${message}` : message,
    };
  }
  if (error instanceof Error && error.name === 'InvalidArgumentError')
    return { reason: 'invalid argument', code: ExitCode.USAGE, message };
  const code = errnoCode(error);
  return { reason: code ?? 'error', code: ExitCode.NETWORK, message };
}

/** The error that ends the run when its first connection cannot be opened, with what to do. */
export function firstConnectionError(url: string, failure: ConnectFailure): CliError {
  let hint: string | undefined;
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the URL as given
  }
  switch (failure.code) {
    case ExitCode.HANDSHAKE_REFUSED:
      hint =
        'the server answered but refused the WebSocket upgrade: check the path, and whether it ' +
        'wants --header (authentication), --origin or --protocol';
      break;
    case ExitCode.NETWORK:
      hint = /^wss:/i.test(url)
        ? `is a server listening at ${host}? For a self-signed certificate: --ca FILE or --insecure`
        : `is a server listening at ${host}?`;
      break;
    case ExitCode.TIMEOUT:
      hint = `${host} did not complete the handshake in time: is it the right port? --handshake-timeout to wait longer`;
      break;
  }
  return new CliError(`cannot connect to ${url}: ${failure.message}`, failure.code, hint);
}
