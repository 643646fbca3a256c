/**
 * What the POCO facade's classes share with each other and not with users: the way a
 * `WebSocket` constructed in a handler reaches the connection behind its `HTTPServerRequest`
 * (POCO does it with a `static_cast` to `HTTPServerRequestImpl`). Not exported from the package.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { HTTPServerParams } from './http-server-params.js';

/** A WebSocket body as the server holds it: POCO's reference count. */
export interface Retainable {
  retain(): void;
  release(): void;
}

/**
 * One holder's reference to a WebSocket body: what one C++ `WebSocket` object (or the handler's
 * local one) owns. Taken when made; dropped at most once, as a destructor runs once. The body
 * closes when its last reference is dropped.
 */
export class Reference {
  #body: Retainable | null;

  constructor(body: Retainable) {
    body.retain();
    this.#body = body;
  }

  release(): void {
    const body = this.#body;
    if (body === null) return;
    this.#body = null;
    body.release();
  }
}

const EMPTY = Buffer.alloc(0);

/** The server-side facts of one request, and the WebSockets made from it. */
export class RequestScope {
  /**
   * For an upgrade request, the bytes node:http read past the head (POCO's `drainBuffer`),
   * until a WebSocket takes them; null for an ordinary request, whose socket node:http still
   * parses.
   */
  upgradeHead: Buffer | null;
  /** The WebSockets made from this request; the server holds a reference to each. */
  adopted: Reference[] | null = null;

  constructor(
    readonly socket: Socket,
    upgradeHead: Buffer | null,
    readonly params: HTTPServerParams,
  ) {
    this.upgradeHead = upgradeHead;
  }

  get upgrade(): boolean {
    return this.upgradeHead !== null;
  }

  /**
   * A WebSocket took the connection over (with the early bytes). The server holds one reference
   * to it until the handler settles: the reference a C++ handler's local `WebSocket` holds.
   */
  adopt(impl: Retainable): Reference {
    const reference = new Reference(impl);
    // Made with its one element (most requests make one WebSocket): `[]` and a push would leave
    // room for 16, kept for the connection's life.
    if (this.adopted === null) this.adopted = [reference];
    else this.adopted.push(reference);
    this.upgradeHead = EMPTY; // the WebSocket has them now; let the read buffer go
    return reference;
  }

  /**
   * The handler settled: drop the references its WebSockets held (the last one closes), those
   * it disposed of already excepted.
   */
  releaseAll(): void {
    const adopted = this.adopted;
    if (adopted === null) return;
    for (const reference of adopted) reference.release();
  }
}

export const REQUEST_SCOPE: unique symbol = Symbol('wsnet.requestScope');

/** Sends the response head for a status without a body (a 101), once. */
export const SEND_HEAD_ONLY: unique symbol = Symbol('wsnet.sendHeadOnly');

/**
 * An `HTTPServer` serves on a `ServerSocket`: in POCO it holds a copy of it, so disposing of the
 * application's `ServerSocket` object does not close the listening socket under the server.
 */
export const SERVED_BY_HTTP_SERVER: unique symbol = Symbol('wsnet.servedByHttpServer');
