/**
 * `--exec CMD`: one program per connection, its stdin and stdout bridged to the connection as
 * websocketd does it.
 *
 * - Each message received is written to the program's stdin, followed by a newline (a binary
 *   message as its bytes). Messages are taken one at a time, as stdin drains: a program that
 *   does not read makes the connection stop reading (the message API's inbox limit).
 * - Each line of its stdout is sent as a text message (binary if the line is not UTF-8). Its
 *   stdout is paused while the connection has more than `HIGH_WATER` bytes still to send, so a
 *   client that does not read stops the program instead of filling the server's memory.
 * - Its stderr goes to the server's stderr, each line prefixed with the connection's number.
 * - Its exit closes the connection: 1000 after exit status 0, 1011 otherwise.
 * - The connection's close ends it: its stdin is closed, then after `graceMs` it gets SIGTERM,
 *   and after as long again SIGKILL. The program runs in a process group of its own (the shell
 *   and whatever it starts), and the signals go to the group.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type http from 'node:http';
import type { Writable } from 'node:stream';
import type { WebSocketConnection } from '../../messages/index.js';
import { LineSplitter } from './lines.js';
import type { ServerLog } from './log.js';

/** Bytes sent and not yet taken by the socket above which the program's stdout is paused. */
const HIGH_WATER = 256 * 1024;
/** ... and below which it is resumed. */
const LOW_WATER = 64 * 1024;
/** Longest stderr line logged whole; longer ones are logged in pieces. */
const MAX_LOG_LINE = 16 * 1024;

/** `WebSocketConnection.readyState` of an open connection (the WHATWG WebSocket's number). */
const OPEN = 1;
const NORMAL_CLOSURE = 1000;
const MESSAGE_TOO_BIG = 1009;
const INTERNAL_ERROR = 1011;
const NEWLINE = Buffer.from('\n');

export interface ExecSettings {
  /** The command line, run by the shell. */
  readonly command: string;
  /** How long a program may take to exit once its connection closed, before each signal. */
  readonly graceMs: number;
  /** The longest line of stdout sent as a message (the server's largest message). */
  readonly maxLineBytes: number;
  readonly log: ServerLog;
}

/** A connection's program. */
export interface RunningProgram {
  /** Resolves once both the program and the connection have ended. Never rejects. */
  readonly finished: Promise<void>;
  /** SIGKILL to the program's process group at once (a forced shutdown). */
  kill(): void;
}

/** Starts the program for `connection` (number `id`) and bridges them. */
export function startProgram(
  connection: WebSocketConnection,
  request: http.IncomingMessage,
  id: number,
  settings: ExecSettings,
): RunningProgram {
  return new ProgramBridge(connection, request, id, settings);
}

class ProgramBridge implements RunningProgram {
  readonly finished: Promise<void>;
  readonly #connection: WebSocketConnection;
  readonly #id: number;
  readonly #settings: ExecSettings;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #stdout: LineSplitter;
  /** Bytes handed to `send()` and not yet taken by the socket. */
  #unsent = 0;
  /** False once the connection can take no more messages: the program's output is dropped. */
  #forwarding = true;
  #exited = false;
  #signalTimer: NodeJS.Timeout | undefined;

  constructor(
    connection: WebSocketConnection,
    request: http.IncomingMessage,
    id: number,
    settings: ExecSettings,
  ) {
    this.#connection = connection;
    this.#id = id;
    this.#settings = settings;
    this.#stdout = new LineSplitter(settings.maxLineBytes, 'stop');
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    this.#child = spawn(settings.command, {
      shell: true,
      // Its own process group, so that the signals reach what the shell starts too. (Windows
      // has no process groups: the signal goes to the shell alone there.)
      detached: process.platform !== 'win32',
      stdio: ['pipe', 'pipe', 'pipe'],
      // The CGI variables websocketd sets that say who connected and how.
      env: {
        ...process.env,
        REMOTE_ADDR: connection.remoteAddress,
        REMOTE_PORT: String(connection.remotePort),
        REQUEST_URI: url,
        QUERY_STRING: query === -1 ? '' : url.slice(query + 1),
        ...(connection.protocol === '' ? {} : { WEBSOCKET_PROTOCOL: connection.protocol }),
      },
    });
    const programEnded = new Promise<void>((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.#programEnded(code, signal);
        resolve();
      });
      this.#child.on('error', (error) => {
        // spawn() failed (no shell, no more processes): the program never ran, and 'close'
        // may not come. (A failed kill() is the other 'error', on Windows: the program runs.)
        if (this.#child.pid !== undefined) return;
        this.#failedToStart(error);
        resolve();
      });
    });
    this.#child.stdin.on('error', () => {
      // EPIPE: the program exited (or closed its stdin) before reading everything. Its exit
      // says how the connection ends; what it did not read is of no use to anyone.
    });
    this.#child.stdout.on('data', (chunk: Buffer) => this.#output(chunk));
    this.#child.stdout.once('end', () => {
      const last = this.#stdout.end();
      if (last !== undefined && this.#forwarding) this.#send(last);
    });
    this.#pipeStderr();
    const inputEnded = this.#feedInput().then(() => this.#endProgram());
    this.finished = Promise.all([programEnded, inputEnded, connection.closed]).then(() => {
      clearTimeout(this.#signalTimer);
    });
  }

  /** Messages to stdin, one at a time as stdin drains, until the connection closes. */
  async #feedInput(): Promise<void> {
    const stdin = this.#child.stdin;
    try {
      for await (const message of this.#connection) {
        if (!stdin.writable) continue; // the program is gone: its connection is closing
        stdin.write(message);
        if (!stdin.write(NEWLINE)) await drained(stdin);
      }
    } catch {
      // The connection closed abnormally (1006, 1009...): the log says how; the program ends.
    }
  }

  /** A chunk of stdout: its complete lines go out as messages. */
  #output(chunk: Buffer): void {
    if (!this.#forwarding) return;
    for (const line of this.#stdout.push(chunk)) this.#send(line);
    if (this.#stdout.overflowed) {
      this.#settings.log.connection(
        this.#id,
        `the program wrote a line longer than ${this.#stdout.maxBytes} bytes (--max-message): closing with 1009`,
      );
      this.#stopForwarding();
      void this.#connection.close(MESSAGE_TOO_BIG, 'program output line too long');
      return;
    }
    if (this.#unsent > HIGH_WATER) this.#child.stdout.pause();
  }

  #send(line: Buffer): void {
    this.#unsent += line.length;
    this.#connection.send(line, { binary: !isUtf8(line) }).then(
      () => {
        this.#unsent -= line.length;
        if (this.#unsent <= LOW_WATER) this.#child.stdout.resume();
      },
      () => {
        this.#unsent -= line.length;
        this.#stopForwarding();
      },
    );
  }

  /** From now on stdout is read and dropped: a program blocked writing could not see its EOF. */
  #stopForwarding(): void {
    this.#forwarding = false;
    this.#child.stdout.resume();
  }

  #pipeStderr(): void {
    const lines = new LineSplitter(MAX_LOG_LINE, 'split');
    const log = (line: Buffer) => this.#settings.log.programOutput(this.#id, line.toString());
    this.#child.stderr.on('data', (chunk: Buffer) => lines.push(chunk).forEach(log));
    this.#child.stderr.once('end', () => {
      const last = lines.end();
      if (last !== undefined) log(last);
    });
  }

  /** The connection is closing or closed: the program's input ends, then signals if need be. */
  #endProgram(): void {
    this.#stopForwarding();
    if (this.#exited) return;
    this.#child.stdin.end();
    this.#signalTimer = setTimeout(() => {
      if (this.#exited) return;
      this.#settings.log.connection(
        this.#id,
        `the program still runs ${this.#settings.graceMs} ms after its input ended: SIGTERM`,
      );
      this.#signal('SIGTERM');
      this.#signalTimer = setTimeout(() => {
        if (this.#exited) return;
        this.#settings.log.connection(this.#id, 'the program ignored SIGTERM: SIGKILL');
        this.#signal('SIGKILL');
      }, this.#settings.graceMs);
    }, this.#settings.graceMs);
  }

  kill(): void {
    if (!this.#exited) this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform === 'win32') this.#child.kill(signal);
      else process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  /** The program exited and its output is all read: the connection ends with it. */
  #programEnded(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return; // it never started: #failedToStart said so
    this.#exited = true;
    clearTimeout(this.#signalTimer);
    const how = signal === null ? `exit status ${code}` : `signal ${signal}`;
    if (this.#connection.readyState !== OPEN) {
      this.#settings.log.connection(this.#id, `the program ended (${how})`);
      return;
    }
    this.#settings.log.connection(this.#id, `the program ended (${how}): closing`);
    if (code === 0) void this.#connection.close(NORMAL_CLOSURE, '');
    else void this.#connection.close(INTERNAL_ERROR, `program ended with ${how}`);
  }

  /** spawn() itself failed: there is no program to bridge. */
  #failedToStart(error: Error): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#settings.log.connection(this.#id, `cannot start the program: ${error.message}`);
    this.#stopForwarding();
    void this.#connection.close(INTERNAL_ERROR, 'cannot start the program');
  }
}

/** Resolves once `stream` drains or can no longer be written. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
