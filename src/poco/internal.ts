/**
 * What the POCO facade's classes share with each other and not with users: the way a
 * `WebSocket` constructed in a handler reaches the connection behind its `HTTPServerRequest`
 * (POCO does it with a `static_cast` to `HTTPServerRequestImpl`). Not exported from the package.
 */
import type { Socket } from 'node:net';
import type { HTTPServerParams } from './http-server-params.js';

/** The server-side facts of one request. */
export interface Exchange {
  readonly socket: Socket;
  /**
   * For an upgrade request, the bytes node:http read past the head (POCO's `drainBuffer`);
   * null for an ordinary request, whose socket node:http still parses.
   */
  readonly upgradeHead: Buffer | null;
  readonly params: HTTPServerParams;
  /**
   * A WebSocket took the connection over. The server holds one reference to it until the
   * handler settles, the reference that a C++ handler's local `WebSocket` holds.
   */
  adopt(impl: { retain(): void; release(): void }): void;
}

export const EXCHANGE: unique symbol = Symbol('wsnet.exchange');

/** Sends the response head for a status without a body (a 101), once. */
export const SEND_HEAD_ONLY: unique symbol = Symbol('wsnet.sendHeadOnly');
