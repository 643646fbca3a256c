/**
 * A socket's errors must never crash the process, whoever owns the socket at the moment: an
 * HTTP server between requests, a refusal on its way out, a WebSocket's channel. Node throws an
 * 'error' that has no listener; this keeps one on every socket from the moment it is accepted
 * until a channel takes over with its own.
 */
import type { Duplex } from 'node:stream';

function ignoreSocketError(): void {
  // The socket's owner learns of the failure from 'close'; an 'error' must not crash the process.
}

/**
 * Keeps the socket's errors (ECONNRESET after a refusal, a reset mid-handshake...) from
 * crashing the process for as long as it lives, whoever owns it. Once per socket, with one
 * shared listener: refusals repeated on a kept-alive connection add nothing.
 */
export function guardSocket(socket: Duplex): void {
  if (!socket.listeners('error').includes(ignoreSocketError)) socket.on('error', ignoreSocketError);
}

/**
 * The socket's new owner handles its errors itself (a WebSocket's channel, whose listener is
 * already on): the guard goes, so that a socket keeps one 'error' listener, not two.
 */
export function unguardSocket(socket: Duplex): void {
  socket.off('error', ignoreSocketError);
}
