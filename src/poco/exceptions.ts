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

  override toString(): string {
    return this.displayText();
  }
}

// --- Logic errors: the caller's mistakes ---

export class LogicException extends PocoException {
  static override readonly pocoName: string = 'Logic exception';
}
export class AssertionViolationException extends LogicException {
  static override readonly pocoName: string = 'Assertion violation';
}
export class InvalidArgumentException extends LogicException {
  static override readonly pocoName: string = 'Invalid argument';
}
export class NotImplementedException extends LogicException {
  static override readonly pocoName: string = 'Not implemented';
}
export class InvalidAccessException extends LogicException {
  static override readonly pocoName: string = 'Invalid access';
}
export class IllegalStateException extends LogicException {
  static override readonly pocoName: string = 'Illegal state';
}

// --- Runtime errors ---

export class RuntimeException extends PocoException {
  static override readonly pocoName: string = 'Runtime exception';
}
export class TimeoutException extends RuntimeException {
  static override readonly pocoName: string = 'Timeout';
}
export class IOException extends RuntimeException {
  static override readonly pocoName: string = 'I/O error';
}
export class NotFoundException extends RuntimeException {
  static override readonly pocoName: string = 'Not found';
}
export class FileNotFoundException extends IOException {
  static override readonly pocoName: string = 'File not found';
}

// --- Net ---

export class NetException extends IOException {
  static override readonly pocoName: string = 'Net Exception';
}
export class InvalidAddressException extends NetException {
  static override readonly pocoName: string = 'Invalid address';
}
export class InvalidSocketException extends NetException {
  static override readonly pocoName: string = 'Invalid socket';
}
export class ServiceNotFoundException extends NetException {
  static override readonly pocoName: string = 'Service not found';
}
export class ConnectionAbortedException extends NetException {
  static override readonly pocoName: string = 'Software caused connection abort';
}
export class ConnectionResetException extends NetException {
  static override readonly pocoName: string = 'Connection reset by peer';
}
export class ConnectionRefusedException extends NetException {
  static override readonly pocoName: string = 'Connection refused';
}
export class HostNotFoundException extends NetException {
  static override readonly pocoName: string = 'Host not found';
}
export class SSLException extends NetException {
  static override readonly pocoName: string = 'SSL Exception';
}
export class HTTPException extends NetException {
  static override readonly pocoName: string = 'HTTP Exception';
}
export class NotAuthenticatedException extends HTTPException {
  static override readonly pocoName: string = 'No authentication information found';
}
export class NoMessageException extends NetException {
  static override readonly pocoName: string = 'No message received';
}
export class MessageException extends NetException {
  static override readonly pocoName: string = 'Malformed message';
}
/** POCO's `TimeoutException` carries the errno of the timed-out call: EAGAIN. */
export const EAGAIN = 11;

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
