/**
 * How much synchronous work received data may cost in one turn of the event loop.
 *
 * Why. permessage-deflate inflates and compresses on the main thread (src/protocol/deflate/
 * codec.ts): a 64 KiB read of small compressed messages costs milliseconds, and libuv hands
 * over the reads of every ready socket in one poll phase. With a thousand busy connections
 * that phase took seconds, during which no timer ran (heartbeats, close and idle timeouts) and
 * no new connection was accepted. Channels that do such work ask `overBudget()` before they
 * process a read; once the turn has used its budget they keep the read and process it in a later
 * turn (the socket paused meanwhile), so timers and other I/O get their turn in between.
 *
 * A turn here starts with the first budgeted work after the previous one ended, and ends when
 * the immediate it schedules runs (the check phase: after the poll phase's reads and their
 * microtasks). Work done by the application in microtasks after a read is counted too, since
 * the clock is read at the next read.
 */

/** The synchronous work per turn after which budgeted reads wait for the next turn. */
export const TURN_BUDGET_MS = 10;

let turnStart = -1;

function endTurn(): void {
  turnStart = -1;
}

/** True once this turn of the event loop has spent its budget: work should wait for the next. */
export function overBudget(): boolean {
  const now = performance.now();
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(endTurn);
    return false;
  }
  return now - turnStart > TURN_BUDGET_MS;
}
