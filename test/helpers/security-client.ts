/**
 * Helpers for the client half of the peer-failure suite (test/security/client-*.test.ts): a
 * hostile server's 101, and each of wsnet's two clients (the message API's `connect` and the
 * POCO facade's `WebSocket.connect` over `HTTPClientSession`) driven to an {@link Outcome} that a
 * test can compare, plus a watch on unhandled rejections and uncaught exceptions.
 */
import { connect, type ConnectOptions } from '../../src/messages/index.js';
import {
  HTTPClientSession,
  HTTPMessage,
  HTTPRequest,
  HTTPResponse,
  PocoException,
  WebSocket,
  type HTTPCredentials,
} from '../../src/poco/index.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import type { FrameServer } from './frame-server.js';
import type { RawClient } from './raw-client.js';
import { header, type ReceivedRequest } from './scripted-server.js';

/** A 101 that accepts `request` (the right Sec-WebSocket-Accept), with `extra` header lines. */
export function switching(request: ReceivedRequest, extra = ''): string {
  const accept = computeAccept(header(request, 'Sec-WebSocket-Key') ?? '');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;
}

/** How a connect attempt ended: connected (then closed by the helper), or the error it threw. */
export interface Outcome {
  /** 'connected', or the error's class name. */
  readonly name: string;
  /** POCO's `code()`; the message API's `reason` (HandshakeError) or `kind` (NetworkError). */
  readonly code?: number | string;
  readonly message: string;
  readonly error?: unknown;
}

function describeError(error: unknown): Outcome {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error), error };
  const fields = error as Error & { reason?: unknown; kind?: unknown };
  const code =
    error instanceof PocoException
      ? error.code()
      : typeof fields.reason === 'string'
        ? fields.reason
        : typeof fields.kind === 'string'
          ? fields.kind
          : undefined;
  return {
    name: error.constructor.name,
    message: error.message,
    error,
    ...(code === undefined ? {} : { code }),
  };
}

/** `connect(url, options)` of the message API; a connection that opens is dropped at once. */
export async function messageOutcome(url: string, options: ConnectOptions = {}): Promise<Outcome> {
  try {
    const connection = await connect(url, options);
    connection.terminate();
    return { name: 'connected', message: '' };
  } catch (error) {
    return describeError(error);
  }
}

/** A POCO session to 127.0.0.1:`port` with all three timeouts at `timeoutMs`. */
export function pocoSession(port: number, timeoutMs = 5000): HTTPClientSession {
  const session = new HTTPClientSession('127.0.0.1', port);
  session.setTimeout(timeoutMs * 1000); // microseconds, as POCO's Timespan
  return session;
}

/** POCO's `WebSocket.connect` over `session`; a socket that opens is closed at once. */
export async function pocoOutcome(
  session: HTTPClientSession,
  credentials?: HTTPCredentials,
): Promise<Outcome> {
  try {
    const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
    const ws = await WebSocket.connect(session, request, new HTTPResponse(), credentials);
    ws.close();
    return { name: 'connected', message: '' };
  } catch (error) {
    return describeError(error);
  }
}

/** A POCO client connected to `server`, and the server's byte-level end of it. */
export async function pocoClient(server: FrameServer): Promise<{ ws: WebSocket; peer: RawClient }> {
  const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/', HTTPMessage.HTTP_1_1);
  const ws = await WebSocket.connect(pocoSession(server.port), request, new HTTPResponse());
  return { ws, peer: await server.next() };
}

/**
 * Records every unhandled rejection and uncaught exception while installed: a hostile peer must
 * produce neither. `assertNone()` waits one macrotask first, so that a rejection left behind by
 * the last step has had its chance to surface.
 */
export class EscapeWatch {
  readonly escaped: unknown[] = [];
  readonly #onEscape = (error: unknown) => {
    this.escaped.push(error);
  };

  install(): void {
    process.on('unhandledRejection', this.#onEscape);
    process.on('uncaughtException', this.#onEscape);
  }

  uninstall(): void {
    process.off('unhandledRejection', this.#onEscape);
    process.off('uncaughtException', this.#onEscape);
  }

  async assertNone(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.escaped.length > 0)
      throw new Error(
        `escaped: ${this.escaped.map((e) => (e instanceof Error ? e.stack : String(e))).join('; ')}`,
      );
  }
}
