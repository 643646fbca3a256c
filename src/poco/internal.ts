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
  adopted: Retainable[] | null = null;

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
  adopt(impl: Retainable): void {
    impl.retain();
    (this.adopted ??= []).push(impl);
    this.upgradeHead = EMPTY; // the WebSocket has them now; let the read buffer go
  }

  /** The handler settled: drop the references its WebSockets held (the last one closes). */
  releaseAll(): void {
    const adopted = this.adopted;
    if (adopted === null) return;
    for (const impl of adopted) impl.release();
  }
}

export const REQUEST_SCOPE: unique symbol = Symbol('wsnet.requestScope');

/** Sends the response head for a status without a body (a 101), once. */
export const SEND_HEAD_ONLY: unique symbol = Symbol('wsnet.sendHeadOnly');
