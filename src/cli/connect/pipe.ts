/**
 * `wsnet connect` in a pipe: each line of the input goes out as a text message (or the
 * --execute messages do), each message received is written to the output on a line of its
 * own, and the close (code, reason) goes to the error stream. Nothing is dropped either way:
 * input is paused while the socket is congested, and messages wait in the connection's inbox
 * (which stops reading the socket when full) while the output is.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  ConnectionClosedError,
  type CloseStatus,
  type WebSocketConnection,
} from '../../messages/index.js';
import { closeExitCode } from '../failures.js';
import {
  closeRecord,
  describeClose,
  messageRecord,
  plainMessage,
  type BinaryFormat,
} from './format.js';

export interface PipeStreams {
  readonly input: Readable;
  readonly output: Writable;
  readonly errors: Writable;
}

export interface PipeSettings {
  /** Messages to send instead of reading the input. */
  readonly execute: readonly string[];
  /** How long to wait for messages once everything was sent, before closing. */
  readonly waitMs: number;
  readonly json: boolean;
  readonly binaryFormat: BinaryFormat;
}

/** Lines read ahead of the socket at most; reading pauses beyond, and resumes below a quarter. */
const MAX_LINES_IN_FLIGHT = 256;

/** Runs the session to the close; resolves with the exit status. */
export async function runPipe(
  connection: WebSocketConnection,
  streams: PipeStreams,
  settings: PipeSettings,
): Promise<number> {
  const printing = printMessages(connection, streams.output, settings);
  const sending =
    settings.execute.length > 0
      ? sendAll(connection, settings.execute)
      : sendLines(connection, streams.input);
  // The sends end (the input ended, or a send failed because the connection closed) or the
  // server closes first.
  const allSent = await Promise.race([
    sending.then(
      () => true,
      (error: Error) => {
        // A send refused for another reason than the close: said, and the session ends.
        if (!(error instanceof ConnectionClosedError)) {
          streams.errors.write(`wsnet: cannot send: ${error.message}\n`);
          void connection.close(1011, 'send failed');
        }
        return false;
      },
    ),
    connection.closed.then(() => false),
  ]);
  if (allSent) {
    await waitForClose(connection, settings.waitMs);
    void connection.close(1000);
  }
  const status = await connection.closed;
  await printing;
  report(status, streams, settings.json);
  return closeExitCode(status.code);
}

function report(status: CloseStatus, streams: PipeStreams, json: boolean): void {
  if (json && streams.output.writable) streams.output.write(`${closeRecord(status, new Date())}\n`);
  streams.errors.write(`${describeClose(status)}\n`);
}

/** Resolves after `ms`, or sooner if the connection closes. */
async function waitForClose(connection: WebSocketConnection, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connection.closed,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

async function sendAll(
  connection: WebSocketConnection,
  messages: readonly string[],
): Promise<void> {
  for (const message of messages) await connection.send(message);
}

/**
 * Sends each line of `input` as a text message, in order; resolves once the input ended and
 * the socket took every line, rejects if a send fails (the connection closed). Stops reading
 * the input when the connection closes, so that an open stdin does not keep the process alive.
 */
function sendLines(connection: WebSocketConnection, input: Readable): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  let inFlight = 0;
  let paused = false;
  let ended = false;
  let last: Promise<void> = Promise.resolve();
  const stop = () => {
    lines.close();
    input.destroy();
  };
  void connection.closed.then(stop);
  return new Promise<void>((resolve, reject) => {
    const settleIfDone = () => {
      if (ended && inFlight === 0) last.then(resolve, reject);
    };
    lines.on('line', (line) => {
      inFlight++;
      // send() keeps the order of its calls; each resolves once the socket took its message.
      last = connection.send(line);
      last.then(
        () => {
          inFlight--;
          if (paused && inFlight < MAX_LINES_IN_FLIGHT / 4) {
            paused = false;
            lines.resume();
          }
          settleIfDone();
        },
        (error: unknown) => {
          stop();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
      if (!paused && inFlight >= MAX_LINES_IN_FLIGHT) {
        paused = true;
        lines.pause();
      }
    });
    lines.on('close', () => {
      ended = true;
      settleIfDone();
    });
  });
}

/**
 * Writes each message to `output` until the connection closes, waiting for the output to drain
 * when it is full. If the output goes away (`| head -1`), the connection is closed (1001).
 */
async function printMessages(
  connection: WebSocketConnection,
  output: Writable,
  settings: PipeSettings,
): Promise<void> {
  let broken = false;
  output.on('error', () => {
    broken = true;
    void connection.close(1001, 'output closed');
  });
  try {
    for await (const message of connection) {
      if (broken) continue; // nowhere to write; take the rest so the close can complete
      const line = settings.json
        ? messageRecord(message, settings.binaryFormat, new Date())
        : plainMessage(message, settings.binaryFormat);
      if (!output.write(`${line}\n`)) await drained(output);
    }
  } catch {
    // An abnormal close ends the iteration with its error: the close status reports it.
  }
}

/** Resolves when `stream` can take more, or can take nothing ever again. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
