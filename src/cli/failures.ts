/**
 * How a connection attempt or a connection ended, as an exit status and a hint: one table for
 * every command that connects (`connect`, `bench`), so that the same failure ends the same way
 * and says the same thing whichever command met it. `failureLabel` names a failure in a few
 * words, for `wsnet bench` to count the connections that failed by why.
 */
import {
  HandshakeError,
  InvalidArgumentError,
  NetworkError,
  TimeoutError,
} from '../messages/index.js';
import { CliError, ExitCode } from './exit-codes.js';
import { endpointOf } from './url.js';

/** What the failure hints need to know about the attempt. */
export interface AttemptContext {
  /** The WebSocket URL that was connected to. */
  readonly url: URL;
  /** The proxy's URL, if the connection went through one. */
  readonly proxy?: string | undefined;
}

/** Close codes that end a run cleanly: normal closure, going away, and a close frame without a code. */
const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

/** The exit status of a connection that closed with `code`: 0 for a normal close, else 1. */
export function closeExitCode(code: number): ExitCode {
  return CLEAN_CLOSE_CODES.has(code) ? ExitCode.OK : ExitCode.ABNORMAL_CLOSE;
}

/**
 * The `CliError` that reports `error`, thrown by `connect()` for `context`; `undefined` when it
 * is none of the failures a user can meet (then it is a bug, to be reported with its stack).
 */
export function explainFailure(error: unknown, context: AttemptContext): CliError | undefined {
  if (error instanceof CliError) return error;
  if (!(error instanceof Error)) return undefined;
  const endpoint = endpointOf(context.url);
  if (error instanceof TimeoutError)
    return new CliError(
      `no WebSocket handshake with ${endpoint} within ${error.timeoutMs} ms`,
      ExitCode.TIMEOUT,
      'the server took the connection but did not answer the upgrade: is it a WebSocket server, ' +
        'on this port? If it is only slow, give it longer with --handshake-timeout',
    );
  if (error instanceof NetworkError) return networkFailure(error, endpoint, context);
  if (error instanceof HandshakeError) return handshakeFailure(error, endpoint, context.url);
  if (error instanceof InvalidArgumentError)
    return new CliError(error.message, ExitCode.USAGE, '(--help for every option)');
  return undefined;
}

/**
 * A short, stable label for `error`, thrown by `connect()`: what `wsnet bench` counts failed
 * connections by ("HTTP 403", "ECONNREFUSED", "handshake timeout", "TLS
 * DEPTH_ZERO_SELF_SIGNED_CERT"...). The same cases as `explainFailure`, in a few words.
 */
export function failureLabel(error: unknown): string {
  if (error instanceof TimeoutError) return 'handshake timeout';
  if (error instanceof HandshakeError)
    return error.status === undefined || error.status === 101
      ? 'bad handshake response'
      : `HTTP ${error.status}`;
  if (error instanceof InvalidArgumentError) return 'invalid argument';
  if (error instanceof NetworkError) {
    const { code } = rootCause(error);
    switch (networkKind(error, code)) {
      case 'network':
        return code ?? 'network error';
      case 'tls':
        return code === undefined ? 'TLS error' : `TLS ${code}`;
      case 'proxy':
        return error.status === undefined ? 'proxy error' : `proxy HTTP ${error.status}`;
      case 'http':
        return 'bad HTTP response';
    }
  }
  if (error instanceof Error) return rootCause(error).code ?? error.name;
  return 'error';
}

function handshakeFailure(error: HandshakeError, endpoint: string, url: URL): CliError {
  const { status } = error;
  const refused = (message: string, hint: string) =>
    new CliError(
      `${endpoint} refused the WebSocket handshake${status === undefined ? '' : ` with HTTP ${status}`}: ${message}`,
      ExitCode.HANDSHAKE_REFUSED,
      hint,
    );
  switch (status) {
    case 401:
      return refused(
        error.message,
        'the server wants credentials: give them with --auth USER:PASSWORD (Basic or Digest)',
      );
    case 403:
      return refused(
        error.message,
        'the server does not let this client in: check --origin, --header, --auth and the path',
      );
    case 404:
      return refused(error.message, `nothing is served at '${url.pathname}': check the URL's path`);
    case 200:
      return refused(
        error.message,
        'an HTTP server answered, not a WebSocket endpoint: check the URL path and port',
      );
    case 503:
      return refused(error.message, 'the server is unavailable or full: try again later');
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
      return refused(
        error.message,
        error.reason === 'CANNOT_UPGRADE'
          ? 'the server moved the endpoint: follow redirects with --location (-L), or connect to the new URL'
          : 'the redirect was not followed: check the URL (or raise --max-redirects)',
      );
    case 101:
    case undefined:
      // Accepted, but the 101 breaks a rule (the accept key, a subprotocol not offered...).
      return new CliError(
        `${endpoint} answered the WebSocket handshake wrongly: ${error.message}`,
        ExitCode.HANDSHAKE_REFUSED,
        'the server is not a conforming WebSocket server (RFC 6455 §4.2.2)',
      );
    default:
      return refused(error.message, 'the server answered with an HTTP status other than 101');
  }
}

interface RootCause {
  /** The system or OpenSSL error code: ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT... */
  readonly code: string | undefined;
  /** The peer address the system error names, `host:port`. */
  readonly address: string | undefined;
  /** The error's message, or OpenSSL's short reason ('wrong version number') for its long one. */
  readonly message: string;
}

/** The system (or OpenSSL) error at the root of `error`'s causes. */
function rootCause(error: Error): RootCause {
  let cause: unknown = error;
  for (let depth = 0; cause instanceof Error && depth < 8; depth++) {
    const found = cause as Error & {
      code?: unknown;
      address?: unknown;
      port?: unknown;
      reason?: unknown;
    };
    if (typeof found.code === 'string') {
      const host = typeof found.address === 'string' ? found.address : undefined;
      return {
        code: found.code,
        address:
          host === undefined
            ? undefined
            : `${host.includes(':') ? `[${host}]` : host}${typeof found.port === 'number' ? `:${found.port}` : ''}`,
        message:
          typeof found.reason === 'string' && found.code.startsWith('ERR_SSL')
            ? found.reason
            : found.message,
      };
    }
    cause = cause.cause;
  }
  return { code: undefined, address: undefined, message: error.message };
}

/** TLS verification failures: what --ca or --insecure answer. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Failures of the TCP connection itself, whatever was to run over it. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** What failed: a TLS connection that fails before TLS starts (refused...) is a network failure. */
function networkKind(error: NetworkError, code: string | undefined): NetworkError['kind'] {
  return error.kind === 'tls' && code !== undefined && SOCKET_CODES.has(code)
    ? 'network'
    : error.kind;
}

function networkFailure(error: NetworkError, endpoint: string, context: AttemptContext): CliError {
  const { code, address, message } = rootCause(error);
  const fail = (message: string, hint: string) => new CliError(message, ExitCode.NETWORK, hint);
  switch (networkKind(error, code)) {
    case 'tls':
      if (code !== undefined && CERTIFICATE_CODES.has(code))
        return fail(
          `the TLS certificate of ${endpoint} was not accepted: ${error.message}`,
          "trust the server's certificate authority with --ca FILE (PEM), or skip the check with --insecure (-k)",
        );
      return fail(
        `TLS with ${endpoint} failed: ${message}`,
        'is the server speaking TLS on this port? For a server without TLS use ws://',
      );
    case 'proxy':
      if (error.status === 407)
        return fail(
          `the proxy wants credentials: ${error.message}`,
          "give them in the proxy's URL: --proxy http://USER:PASSWORD@HOST:PORT",
        );
      return fail(
        `the proxy did not open a tunnel to ${endpoint}: ${error.message}`,
        `check that the proxy allows CONNECT to ${endpoint}`,
      );
    case 'http':
      // Through a proxy, 'http' may be the proxy's answer to the CONNECT (garbage, or none).
      return fail(
        `${endpoint}${context.proxy !== undefined ? ' (or the proxy)' : ''} did not answer with HTTP: ${error.message}`,
        context.url.protocol === 'ws:'
          ? 'if the server speaks TLS, use wss://; otherwise check the port'
          : 'check the port: is a WebSocket server listening there?',
      );
    case 'network':
      break;
  }
  const where = address ?? endpoint;
  const viaProxy = context.proxy !== undefined ? ' (or the proxy)' : '';
  switch (code) {
    case 'ECONNREFUSED':
      return fail(
        `connection refused by ${where}`,
        `is the server running on ${where}${viaProxy}? Check the host and port`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(
        `cannot resolve the host name: ${error.message}`,
        `check the host name in the URL${context.proxy === undefined ? '' : ' and in --proxy'}, and your DNS`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return fail(
        `${where} closed the connection during the handshake: ${error.message}`,
        context.url.protocol === 'ws:'
          ? 'if the server speaks TLS, use wss://; otherwise check the port'
          : 'check the port: is a WebSocket server listening there?',
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail(
        `${where} cannot be reached: ${error.message}`,
        'check the host, the port and the network between (a firewall?)',
      );
    default:
      return fail(
        `cannot connect to ${endpoint}: ${error.message}`,
        'check the URL and that the server is reachable',
      );
  }
}
