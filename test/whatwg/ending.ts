/**
 * How a WHATWG WebSocket's life went, as the tests of test/whatwg/ read it: its events in order
 * ('open', 'message DATA', 'error', 'close CODE'), the error event, and the close event.
 */
import type { CloseEvent, ErrorEvent, WebSocket } from '../../src/whatwg/index.js';
import { within } from '../helpers/wait.js';

export interface Ending {
  readonly events: string[];
  readonly error: ErrorEvent | undefined;
  /** `readyState` while the error event was dispatched (the standard: CLOSED). */
  readonly readyStateAtError: number | undefined;
  readonly close: CloseEvent;
}

/** Resolves with the socket's events once it closes (within `timeoutMs`). */
export function ending(socket: WebSocket, onOpen?: () => void, timeoutMs = 5000): Promise<Ending> {
  const events: string[] = [];
  let error: ErrorEvent | undefined;
  let readyStateAtError: number | undefined;
  return within(
    new Promise((resolve) => {
      socket.onopen = () => {
        events.push('open');
        onOpen?.();
      };
      socket.onmessage = (event) => events.push(`message ${String(event.data)}`);
      socket.onerror = (event) => {
        events.push('error');
        error = event;
        readyStateAtError = socket.readyState;
      };
      socket.onclose = (event) => {
        events.push(`close ${event.code}`);
        resolve({ events, error, readyStateAtError, close: event });
      };
    }),
    timeoutMs,
    'the close event',
  );
}
