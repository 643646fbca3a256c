/**
 * What the server does with each connection's messages: `--echo` and `--broadcast` (`--exec`
 * is in exec.ts). Each handler resolves once its connection is closed and never rejects.
 */
import {
  SendQueueFullError,
  type WebSocketConnection,
  type WebSocketServer,
} from '../../messages/index.js';
import type { ServerLog } from './log.js';

/** `WebSocketConnection.readyState` of an open connection. */
const OPEN = 1;
/** "Try Again Later": the close of a broadcast client that reads too slowly. */
const TRY_AGAIN_LATER = 1013;

/**
 * Sends each message back to its sender, text as text and binary as binary. One at a time: a
 * client that does not read its echoes stops being read (the inbox limit), so memory stays
 * bounded.
 */
export async function echo(connection: WebSocketConnection): Promise<void> {
  try {
    for await (const message of connection) await connection.send(message);
  } catch {
    // The connection closed abnormally, or while an echo was waiting: the log says how.
  }
  await connection.closed;
}

export interface BroadcastSettings {
  /** Leave the sender out of its own message's recipients. */
  readonly excludeSender: boolean;
  readonly log: ServerLog;
}

/**
 * Sends each message of `connection` to every open client of `server` (the sender too, unless
 * `excludeSender`), in the order they arrive. Nobody waits for a slow client: one whose send
 * queue is full (`maxQueuedBytes`) is closed with 1013, so a client that stops reading costs a
 * bounded amount of memory and holds up nobody.
 */
export async function broadcast(
  connection: WebSocketConnection,
  server: WebSocketServer,
  settings: BroadcastSettings,
): Promise<void> {
  connection.on('message', (data, isBinary) => {
    for (const client of server.clients) {
      if (client.readyState !== OPEN || (settings.excludeSender && client === connection)) continue;
      client.send(data, { binary: isBinary }).catch((error: unknown) => {
        if (!(error instanceof SendQueueFullError) || client.readyState !== OPEN) return;
        settings.log.connection(
          settings.log.idOf(client),
          `reads too slowly for the broadcast (${error.message}): closing with 1013`,
        );
        void client.close(TRY_AGAIN_LATER, 'reading too slowly');
      });
    }
  });
  await connection.closed;
}
