/**
 * wsnet's two servers as the fault suite sees them: an echo server whose every connection's end
 * is recorded (the message API's close status; the POCO handler's exception or clean end) and
 * whose open connections can be counted, so that a test can tell how each fault ended and that
 * nothing was left open.
 */
import { WebSocketServer, type ServerOptions } from '../../src/messages/index.js';
import { WebSocketException } from '../../src/poco/index.js';
import { startEchoServer, testCertificate } from '../helpers/poco-server.js';
import { echo } from '../helpers/echo-servers.js';
import { Signal } from '../helpers/wait.js';

export type ServerKind = 'messages' | 'poco';
export const SERVER_KINDS: readonly ServerKind[] = ['messages', 'poco'];
export const SERVER_NAMES: Readonly<Record<ServerKind, string>> = {
  messages: 'message API WebSocketServer',
  poco: 'POCO HTTPServer + WebSocket(request, response)',
};

/**
 * How a connection ended. Message API: `close` with the status of its 'close' event. POCO: the
 * echo loop's end, `clean` (EOF between frames, or after a CLOSE) or the exception it threw.
 */
export type End =
  | { readonly kind: 'close'; readonly code: number; readonly wasClean: boolean }
  | { readonly kind: 'clean' }
  | { readonly kind: 'exception'; readonly name: string; readonly code: number | undefined };

export function describeEnd(end: End): string {
  if (end.kind === 'close') return `close ${end.code}${end.wasClean ? ' clean' : ''}`;
  if (end.kind === 'clean') return 'clean end';
  return `${end.name}${end.code === undefined ? '' : ` ${end.code}`}`;
}

export interface FaultTarget {
  readonly kind: ServerKind;
  readonly port: number;
  /** Connections opened (upgraded) since the start. */
  readonly opened: () => number;
  /** Connections still open (POCO: TCP connections, HTTP ones included). */
  readonly open: () => number;
  /** Every connection's end, in order. */
  readonly ends: End[];
  /** Errors the server itself emitted (none expected). */
  readonly serverErrors: unknown[];
  /** The next end not taken yet, within `timeoutMs`. */
  nextEnd(timeoutMs?: number): Promise<End>;
  /** Ends recorded and not taken yet. */
  untaken(): End[];
  stop(): Promise<void>;
}

/** `secure`: wss, with test/helpers/poco-server.ts's `testCertificate()` (the clients' CA). */
export async function startFaultTarget(
  kind: ServerKind,
  options: Partial<ServerOptions> & { secure?: boolean } = {},
): Promise<FaultTarget> {
  const { secure = false, ...settings } = options;
  const ends: End[] = [];
  const serverErrors: unknown[] = [];
  const changed = new Signal();
  let taken = 0;
  let opened = 0;
  const record = (end: End) => {
    ends.push(end);
    changed.notify();
  };
  const common = {
    ends,
    serverErrors,
    async nextEnd(timeoutMs = 5000): Promise<End> {
      const deadline = Date.now() + timeoutMs;
      while (ends.length <= taken)
        if (!(await changed.until(deadline)))
          throw new Error(`no connection ended within ${timeoutMs} ms`);
      return ends[taken++];
    },
    untaken: () => ends.slice(taken),
    opened: () => opened,
  };
  if (kind === 'messages') {
    const certificate = testCertificate();
    const server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      ...(secure ? { tls: { key: certificate.key, cert: certificate.cert } } : {}),
      ...settings,
    });
    server.on('error', (error) => serverErrors.push(error));
    server.on('handlerError', (error) => serverErrors.push(error));
    server.on('connection', (connection) => {
      opened++;
      connection.on('error', () => undefined); // optional: the close status says it all
      connection.on('close', (code, _reason, wasClean) =>
        record({ kind: 'close', code, wasClean }),
      );
      void echo(connection);
    });
    return {
      ...common,
      kind,
      port: server.address().port,
      open: () => server.clients.size,
      stop: () => server.close(),
    };
  }
  const running = await startEchoServer({
    secure,
    onWebSocket: () => opened++,
    onEnd: (error) => {
      if (error === null) record({ kind: 'clean' });
      else
        record({
          kind: 'exception',
          name: (error as Error).constructor.name,
          code: error instanceof WebSocketException ? error.code() : undefined,
        });
    },
  });
  running.server.setErrorHandler((error: unknown) => serverErrors.push(error));
  return {
    ...common,
    kind,
    port: running.port,
    open: () => running.server.currentConnections(),
    stop: () => {
      running.stop();
      return Promise.resolve();
    },
  };
}
