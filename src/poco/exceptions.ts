/**
 * POCO's exception classes (Foundation/Exception.h, Net/NetException.h, Net/WebSocket.h), with
 * POCO's names, messages, codes and hierarchy, so that `instanceof NetException` and
 * `instanceof IOException` behave as `catch (Poco::Net::NetException&)` does in C++.
 *
 * POCO's `name()` and `message()` are the `name` and `message` properties: JavaScript's `Error`
 * owns those names. So `String(e)` and a stack trace read exactly as POCO's `displayText()`:
 * `WebSocket Exception: Payload too big`. `code()`, `displayText()` and `className()` are the
 * POCO methods of the same names.
 */

/**
 * POCO's `Poco::Exception`, the root of the facade's exception tree. `name` is POCO's `name()` (the
 * class's human-readable name), `message` its `message()`; `String(e)` is `displayText()`.
 *
 * @example
 * ```ts
 * import { PocoException, WebSocketException } from 'wsnet';
 *
 * function describe(e: unknown): string {
 *   if (e instanceof WebSocketException) return `WebSocket error ${e.code()}: ${e.message}`;
 *   if (e instanceof PocoException) return e.displayText();
 *   return String(e);
 * }
 * ```
 */
export class PocoException extends Error {
  /** POCO's `name()`: the human-readable name of the exception class. */
  static readonly pocoName: string = 'Exception';
  readonly #code: number;

  /**
   * `new X(message)`, `new X(message, code)` or `new X(message, arg, code)`: as in POCO, an
   * `arg` is appended to the message after ": ".
   */
  constructor(message = '', argOrCode?: string | number, code = 0, options?: ErrorOptions) {
    const arg = typeof argOrCode === 'string' ? argOrCode : undefined;
    super(
      arg === undefined || arg === '' ? message : message === '' ? arg : `${message}: ${arg}`,
      options,
    );
    this.#code = typeof argOrCode === 'number' ? argOrCode : code;
  }

  /** POCO's `name()`: the class's human-readable name (e.g. `WebSocket Exception`). */
  override get name(): string {
    return (this.constructor as typeof PocoException).pocoName;
  }

  /** The error code (POCO's `code()`): `WebSocket::ErrorCodes` for a WebSocketException. */
  code(): number {
    return this.#code;
  }

  /** `name: message`, or the name alone when there is no message. */
  displayText(): string {
    return this.message === '' ? this.name : `${this.name}: ${this.message}`;
  }

  /** The class name, as C++'s `className()` gives it (e.g. `Poco::Net::WebSocketException`). */
  className(): string {
    return this.constructor.name;
  }

  /** The same as {@link PocoException.displayText}. */
  override toString(): string {
    return this.displayText();
  }
}

// --- Logic errors: the caller's mistakes ---

/** POCO's `LogicException`: the base of errors that are the caller's mistakes. */
export class LogicException extends PocoException {
  static override readonly pocoName: string = 'Logic exception';
}
/** POCO's `AssertionViolationException`: an internal check failed. */
export class AssertionViolationException extends LogicException {
  static override readonly pocoName: string = 'Assertion violation';
}
/** POCO's `InvalidArgumentException`: an argument out of range or of the wrong form. */
export class InvalidArgumentException extends LogicException {
  static override readonly pocoName: string = 'Invalid argument';
}
/**
 * POCO's `NotImplementedException`: a POCO call that has no equivalent on Node.js (e.g.
 * `setReuseAddress` on a connected socket).
 */
export class NotImplementedException extends LogicException {
  static override readonly pocoName: string = 'Not implemented';
}
/** POCO's `InvalidAccessException`: a call on an object in a state that does not allow it. */
export class InvalidAccessException extends LogicException {
  static override readonly pocoName: string = 'Invalid access';
}
/** POCO's `IllegalStateException`: a call in the wrong state (e.g. a response sent twice). */
export class IllegalStateException extends LogicException {
  static override readonly pocoName: string = 'Illegal state';
}

// --- Runtime errors ---

/** POCO's `RuntimeException`: the base of errors that come from the environment. */
export class RuntimeException extends PocoException {
  static override readonly pocoName: string = 'Runtime exception';
}
/**
 * POCO's `TimeoutException`: a receive, send, connect or response timed out. Its code is 11
 * (EAGAIN), as POCO's is on Linux.
 */
export class TimeoutException extends RuntimeException {
  static override readonly pocoName: string = 'Timeout';
}
/** POCO's `IOException`: the base of I/O errors. */
export class IOException extends RuntimeException {
  static override readonly pocoName: string = 'I/O error';
}
/**
 * POCO's `NotFoundException`: e.g. {@link NameValueCollection.get} of a missing name without a
 * default.
 */
export class NotFoundException extends RuntimeException {
  static override readonly pocoName: string = 'Not found';
}
/** POCO's `FileNotFoundException`: a file (e.g. a certificate) that does not exist. */
export class FileNotFoundException extends IOException {
  static override readonly pocoName: string = 'File not found';
}

// --- Net ---

/**
 * POCO's `Poco::Net::NetException`: the base of network errors; a Node.js socket error with no more
 * specific class.
 */
export class NetException extends IOException {
  static override readonly pocoName: string = 'Net Exception';
}
/**
 * POCO's `InvalidAddressException`: an address that cannot be bound or parsed (EADDRINUSE,
 * EADDRNOTAVAIL).
 */
export class InvalidAddressException extends NetException {
  static override readonly pocoName: string = 'Invalid address';
}
/** POCO's `InvalidSocketException`: a call on a socket that is closed or was never connected. */
export class InvalidSocketException extends NetException {
  static override readonly pocoName: string = 'Invalid socket';
}
/** POCO's `ServiceNotFoundException`: a service name that does not resolve to a port. */
export class ServiceNotFoundException extends NetException {
  static override readonly pocoName: string = 'Service not found';
}
/** POCO's `ConnectionAbortedException`: the connection was aborted (ECONNABORTED). */
export class ConnectionAbortedException extends NetException {
  static override readonly pocoName: string = 'Software caused connection abort';
}
/** POCO's `ConnectionResetException`: the peer reset the connection (ECONNRESET, EPIPE). */
export class ConnectionResetException extends NetException {
  static override readonly pocoName: string = 'Connection reset by peer';
}
/** POCO's `ConnectionRefusedException`: nothing listens at the address (ECONNREFUSED). */
export class ConnectionRefusedException extends NetException {
  static override readonly pocoName: string = 'Connection refused';
}
/** POCO's `HostNotFoundException`: the host name does not resolve (ENOTFOUND, EAI_AGAIN). */
export class HostNotFoundException extends NetException {
  static override readonly pocoName: string = 'Host not found';
}
/** POCO's `Poco::Net::SSLException`: TLS failed (handshake, certificate). */
export class SSLException extends NetException {
  static override readonly pocoName: string = 'SSL Exception';
}
/** POCO's `HTTPException`: an HTTP-level failure (e.g. a proxy that refused the CONNECT). */
export class HTTPException extends NetException {
  static override readonly pocoName: string = 'HTTP Exception';
}
/**
 * POCO's `NotAuthenticatedException`: no credentials where some were needed (e.g.
 * {@link HTTPRequest.getCredentials} without an `Authorization` header).
 */
export class NotAuthenticatedException extends HTTPException {
  static override readonly pocoName: string = 'No authentication information found';
}
/** POCO's `NoMessageException`: the server closed the connection before sending a response. */
export class NoMessageException extends NetException {
  static override readonly pocoName: string = 'No message received';
}
/** POCO's `MessageException`: a malformed HTTP message (not HTTP, or a head over 16 KiB). */
export class MessageException extends NetException {
  static override readonly pocoName: string = 'Malformed message';
}
/** POCO's `TimeoutException` carries the errno of the timed-out call: EAGAIN. */
export const EAGAIN = 11;
/**
 * The errno of a send on a socket shut down for sending: POCO's `IOException("Broken pipe")`
 * carries it.
 */
export const EPIPE = 32;

/**
 * POCO's `Poco::Net::WebSocketException`. Its {@link PocoException.code | code()} is one of
 * {@link ErrorCodes} (also static on {@link WebSocket}): 1-4 for an upgrade request the server
 * refuses; 1, 5 and 6 for a response the client refuses (not a valid 101, a wrong accept value,
 * no authorization); 10 for a frame larger than the buffer or the payload limit; 11 for a
 * connection that ended mid-frame.
 *
 * @example
 * ```ts
 * import { WebSocket, WebSocketException } from 'wsnet';
 *
 * async function receiveOrExplain(ws: WebSocket, buffer: Uint8Array): Promise<number> {
 *   try {
 *     return (await ws.receiveFrame(buffer)).n;
 *   } catch (e) {
 *     if (e instanceof WebSocketException && e.code() === WebSocket.WS_ERR_PAYLOAD_TOO_BIG)
 *       console.error(e.message); // "Insufficient buffer for payload size N": the frame waits
 *     throw e;
 *   }
 * }
 * ```
 */
export class WebSocketException extends NetException {
  static override readonly pocoName: string = 'WebSocket Exception';
}

/**
 * The POCO exception for a Node.js socket error: what POCO's `SocketImpl::error()` throws for the
 * same errno.
 */
export function netExceptionFrom(error: unknown): PocoException {
  if (error instanceof PocoException) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectionResetException('', undefined, 0, options);
    case 'ECONNABORTED':
      return new ConnectionAbortedException('', undefined, 0, options);
    case 'ECONNREFUSED':
      return new ConnectionRefusedException(message, undefined, 0, options);
    case 'ETIMEDOUT':
      return new TimeoutException(message, undefined, 0, options);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new HostNotFoundException(message, undefined, 0, options);
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return new InvalidAddressException(message, undefined, 0, options);
    default:
      return typeof code === 'string' && code.startsWith('ERR_SSL')
        ? new SSLException(message, undefined, 0, options)
        : new NetException(message, undefined, 0, options);
  }
}

/** A rejected promise for something caught: errors as they are, anything else wrapped. */
export function rejection(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}
