/**
 * Writing on a socket that node:http has handed over with an upgrade request: the 101 that
 * accepts a WebSocket handshake, or the answer that refuses it. Both servers (the message API's
 * and POCO's `HTTPServer`) write through here, so that both:
 * - check every header name and value before anything is written (a value with CR or LF would
 *   put a second header line on the wire; node:http refuses it on an ordinary response too);
 * - keep the socket's errors from crashing the process for as long as the socket lives (a client
 *   that resets the connection after its refusal is an ordinary event);
 * - answer in request order: node:http hands an upgrade over even while the response to an
 *   earlier request on the same connection (pipelined) is still being written;
 * - bound how long a refused client that never reads can hold its socket.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type { Socket } from 'node:net';
import { guardSocket } from './guard.js';

/** Header names and values, in order, repeats allowed. */
export type HeaderList = Iterable<readonly [string, string]>;

/** How long a refused client may take to read its answer before its socket is dropped. */
export const REFUSAL_LINGER_MS = 10_000;

/**
 * A response head, with every header checked first (node:http's own checks): throws node's
 * `TypeError` (`ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`) for a bad name or value, so that
 * nothing is written for it.
 */
export function formatHead(
  status: number,
  reason: string,
  headers: HeaderList,
  version = 'HTTP/1.1',
): string {
  let head = `${version} ${status} ${reason}\r\n`;
  for (const [name, value] of headers) {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  if (/[\r\n]/.test(reason))
    throw new TypeError(`invalid character in the reason phrase ${JSON.stringify(reason)}`);
  return `${head}\r\n`;
}

/** The reason phrase of a status (node:http's table), e.g. `Switching Protocols`. */
export function reasonPhrase(status: number): string {
  return http.STATUS_CODES[status] ?? 'Unknown';
}

/** The 101's head up to its accept value: the same bytes in every accepted handshake. */
const SWITCHING_PROTOCOLS =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: ';

/**
 * Writes the 101 that accepts a WebSocket handshake: RFC 6455 §4.2.2's head, with the
 * subprotocol and extensions when given (checked as any header value is, first; the accept value
 * is base64, which needs no check). One string from a constant prefix, written as latin1: no
 * header list to walk and check, no UTF-8 encoding.
 */
export function writeAcceptance(
  socket: Socket,
  accept: string,
  options: { readonly protocol?: string; readonly extensions?: string } = {},
): void {
  let head = `${SWITCHING_PROTOCOLS}${accept}\r\n`;
  if (options.protocol !== undefined) {
    http.validateHeaderValue('Sec-WebSocket-Protocol', options.protocol);
    head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  }
  if (options.extensions !== undefined) {
    http.validateHeaderValue('Sec-WebSocket-Extensions', options.extensions);
    head += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  socket.write(`${head}\r\n`, 'latin1');
}

export interface Refusal {
  readonly status: number;
  readonly headers?: HeaderList;
  /** The body, plain text; the status's reason phrase by default. */
  readonly body?: string;
}

/**
 * Refuses a handshake: writes the answer and ends the connection (`Connection: close`). A status
 * outside 400-599 is answered as 500; a header that cannot be written makes the answer a bare
 * 500 (and the header is not written).
 */
export function writeRefusal(socket: Socket, refusal: Refusal): void {
  guardSocket(socket);
  if (socket.destroyed) return;
  const status =
    Number.isInteger(refusal.status) && refusal.status >= 400 && refusal.status <= 599
      ? refusal.status
      : 500;
  const body = Buffer.from(refusal.body ?? `${reasonPhrase(status)}\n`, 'utf8');
  let head: string;
  try {
    head = formatHead(status, reasonPhrase(status), [
      ...(refusal.headers ?? []),
      ['Connection', 'close'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.length)],
    ]);
  } catch {
    endWithin(
      socket,
      formatHead(500, reasonPhrase(500), [
        ['Connection', 'close'],
        ['Content-Length', '0'],
      ]),
    );
    return;
  }
  endWithin(socket, Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/**
 * Writes `data` and ends the connection; a peer that does not take it within
 * {@link REFUSAL_LINGER_MS} (it never reads) is dropped rather than left holding the socket.
 */
export function endWithin(socket: Socket, data: string | Buffer): void {
  guardSocket(socket);
  if (socket.destroyed) return;
  socket.end(data);
  const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * node:http's response on a connection (`socket._httpMessage`), if any: node:http detaches it
 * when it emits 'finish' and then attaches the next pipelined one, so one that is still attached
 * has not finished (even if its bytes have all left: 'finish' comes after).
 */
function responseInProgress(socket: Socket): http.ServerResponse | null {
  const message = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  return message ?? null;
}

/**
 * Resolves once the responses to the requests that came before an upgrade request on the same
 * connection are written (HTTP/1.1 answers in request order, RFC 9112 §9.3.2); undefined when
 * there are none, the common case, so that the caller can go on synchronously.
 */
export function earlierResponses(socket: Socket): Promise<void> | undefined {
  if (responseInProgress(socket) === null) return undefined;
  return (async () => {
    for (let response = responseInProgress(socket); response !== null;) {
      await new Promise<void>((resolve) => {
        response!.once('finish', resolve);
        response!.once('close', resolve);
      });
      response = socket.destroyed ? null : responseInProgress(socket);
    }
    // node:http arms its keep-alive timer when a response ends; the socket is no longer its.
    if (!socket.destroyed) socket.setTimeout(0);
  })();
}
