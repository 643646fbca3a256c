/**
 * How an `HTTPServerResponse` reaches the wire. Two ways, because node:http hands a server two
 * kinds of requests: ordinary ones come with a `ServerResponse`, upgrade requests come with the
 * bare socket (node:http's parser has let go of it), on which the response head is written by
 * the I/O layer's upgrade writer (headers checked as node:http checks them): a 101 for a
 * WebSocket, or the 400 a handler sends when the handshake is refused.
 */
import { Buffer } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatHead } from '../io/upgrade.js';

/** The body of a response, once its head is sent: POCO's `std::ostream& send()`. */
export interface ResponseBody {
  /** Writes body bytes; false means the socket's buffer is full (wait for it to drain). */
  write(data: string | Uint8Array): boolean;
  /** Ends the body (and the response). */
  end(data?: string | Uint8Array): void;
}

/** The head of a response the handler filled in, ready to be written. */
export interface OutgoingHead {
  version: string;
  status: number;
  reason: string;
  fields: Array<[string, string]>;
  /** The declared Content-Length, or -1. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
}

export interface ResponseWriter {
  /** Writes the head and returns the body stream. */
  writeHead(head: OutgoingHead): ResponseBody;
  /** Writes `100 Continue`. */
  writeContinue(): void;
  /**
   * Writes `bytes` straight to the connection and closes it: POCO's `sendErrorResponse` (a 500
   * with `Connection: Close`, no Date, no Content-Length).
   */
  abort(bytes: string): void;
  /** Resolves when the response is completely written (its body ended). */
  readonly finished: Promise<void>;
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** A response written through node:http's `ServerResponse`. */
export class NodeResponseWriter implements ResponseWriter {
  readonly finished: Promise<void>;

  constructor(private readonly res: ServerResponse) {
    this.finished = new Promise((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
  }

  writeHead(head: OutgoingHead): ResponseBody {
    const flat: string[] = [];
    for (const [name, value] of head.fields) flat.push(name, value);
    this.res.writeHead(head.status, head.reason, flat);
    if (head.status < 200 || head.status === 204 || head.status === 304) {
      this.res.end();
    }
    return {
      write: (data) => (this.res.writableEnded ? false : this.res.write(toBytes(data))),
      end: (data) => {
        if (!this.res.writableEnded) this.res.end(data === undefined ? undefined : toBytes(data));
      },
    };
  }

  writeContinue(): void {
    this.res.writeContinue();
  }

  abort(bytes: string): void {
    const socket = this.res.socket;
    if (socket === null || socket.destroyed) return;
    socket.end(bytes);
    socket.destroySoon();
  }
}

/** The body of a response that has none: writes are refused, `end` does nothing. */
const NO_BODY: ResponseBody = { write: () => false, end: () => undefined };

/** A response written by hand on a socket that node:http has handed over (an upgrade request). */
export class SocketResponseWriter implements ResponseWriter {
  #done = false;
  #finished: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  /** True if the response ends with a close of the connection (its length was not known). */
  closeAfter = false;

  constructor(private readonly socket: Socket) {}

  /**
   * Made when first asked for: after a 101 nobody asks, and an idle WebSocket should not carry
   * a promise and a listener for the rest of its life.
   */
  get finished(): Promise<void> {
    if (this.#finished === undefined) {
      if (this.#done || this.socket.destroyed) this.#finished = Promise.resolve();
      else {
        this.#finished = new Promise((resolve) => {
          this.#resolve = resolve;
          this.socket.once('close', resolve);
        });
      }
    }
    return this.#finished;
  }

  #finish(): void {
    this.#done = true;
    this.#resolve?.();
  }

  /** Throws (node:http's `TypeError`) for a header that cannot be written; nothing is written then. */
  writeHead(head: OutgoingHead): ResponseBody {
    this.socket.write(formatHead(head.status, head.reason, head.fields, head.version));
    const socket = this.socket;
    // Headers only: informational responses (101 included), 204, 304.
    if (head.status < 200 || head.status === 204 || head.status === 304) {
      this.#finish();
      return NO_BODY;
    }
    const chunked = head.chunked && head.contentLength < 0;
    // Without a length or chunking, the body ends when the connection does.
    this.closeAfter = !chunked && (head.contentLength < 0 || !head.keepAlive);
    let ended = false;
    return {
      write: (data) => {
        const bytes = toBytes(data);
        if (ended || bytes.length === 0) return !ended;
        if (!chunked) return socket.write(bytes);
        socket.cork();
        socket.write(`${bytes.length.toString(16)}\r\n`);
        socket.write(bytes);
        const ok = socket.write('\r\n');
        socket.uncork();
        return ok;
      },
      end: (data) => {
        if (ended) return;
        if (data !== undefined && toBytes(data).length > 0) {
          const bytes = toBytes(data);
          if (chunked) socket.write(`${bytes.length.toString(16)}\r\n`);
          socket.write(bytes);
          if (chunked) socket.write('\r\n');
        }
        ended = true;
        if (chunked) socket.write('0\r\n\r\n');
        if (this.closeAfter) socket.end();
        this.#finish();
      },
    };
  }

  writeContinue(): void {
    this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  abort(bytes: string): void {
    this.closeAfter = true;
    if (!this.socket.destroyed) {
      this.socket.end(bytes);
      this.socket.destroySoon();
    }
    this.#finish();
  }
}
