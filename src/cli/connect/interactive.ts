/**
 * `wsnet connect` on a terminal: a readline prompt (line editing, history) to type messages and
 * commands into, and every event shown above it as it happens, marked and timed:
 * `< 12:00:01.123 hello` received, `> 12:00:01.120 hello` sent, `! ...` about the connection.
 * Ctrl-C closes normally (1000); a second Ctrl-C drops the connection.
 */
import { readFile } from 'node:fs/promises';
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  moveCursor,
  type Interface,
} from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Message, WebSocketConnection } from '../../messages/index.js';
import { closeExitCode } from '../failures.js';
import { COMMAND_HELP, parseCommand, type Command } from './commands.js';
import { clockTime, describeClose, printable, screenMessage, type BinaryFormat } from './format.js';

export interface TerminalStreams {
  readonly input: Readable;
  readonly output: Writable & { readonly columns?: number };
}

export interface InteractiveSettings {
  /** The URL connected to, for the greeting. */
  readonly url: string;
  readonly binaryFormat: BinaryFormat;
}

const PROMPT = '> ';

/** Runs the session until the connection is closed; resolves with the exit status. */
export function runInteractive(
  connection: WebSocketConnection,
  streams: TerminalStreams,
  settings: InteractiveSettings,
): Promise<number> {
  return new InteractiveSession(connection, streams, settings).run();
}

class InteractiveSession {
  readonly #connection: WebSocketConnection;
  readonly #output: TerminalStreams['output'];
  readonly #settings: InteractiveSettings;
  readonly #lines: Interface;
  /** Our close was asked for (Ctrl-C, /close, /quit, Ctrl-D): the next Ctrl-C drops the connection. */
  #closing = false;
  /**
   * The prompt is gone: the connection closed, or the input ended (Ctrl-D). From then on lines
   * are only written: `prompt()` would resume reading a closed interface's input, and an input
   * being read keeps the process alive.
   */
  #ended = false;
  /** Typed lines are handled one after the other (a /file read must not be overtaken). */
  #handling: Promise<void> = Promise.resolve();

  constructor(
    connection: WebSocketConnection,
    streams: TerminalStreams,
    settings: InteractiveSettings,
  ) {
    this.#connection = connection;
    this.#output = streams.output;
    this.#settings = settings;
    this.#lines = createInterface({
      input: streams.input,
      output: streams.output,
      prompt: PROMPT,
      terminal: true,
      historySize: 1000,
    });
  }

  async run(): Promise<number> {
    const connection = this.#connection;
    const negotiated = [
      connection.protocol === '' ? '' : `subprotocol ${connection.protocol}`,
      connection.extensions === '' ? '' : `extensions ${connection.extensions}`,
    ].filter((part) => part !== '');
    this.#show(
      `! connected to ${this.#settings.url}${negotiated.length > 0 ? ` (${negotiated.join(', ')})` : ''}`,
    );
    this.#show('! /help lists the commands; Ctrl-C closes the connection');
    connection.on('message', (message: Message) =>
      this.#show(`< ${now()} ${screenMessage(message, this.#settings.binaryFormat)}`),
    );
    this.#lines.on('line', (line: string) => {
      const command = parseCommand(line);
      // The line entered is still right above the cursor: replaced at once by what it sends.
      const echo = this.#echoOf(command);
      if (echo !== undefined) this.#replaceTyped(line, echo);
      this.#handling = this.#handling.then(() => this.#handle(command));
    });
    this.#lines.on('SIGINT', () => this.#interrupt());
    // Ctrl-D (or the end of the input): as /quit.
    this.#lines.on('close', () => {
      if (this.#ended) return;
      this.#ended = true;
      if (!this.#closing) this.#close(1000, '');
    });
    this.#lines.prompt();
    const status = await connection.closed;
    // The prompt goes: nothing can be sent any more.
    if (!this.#ended) this.#clearPrompt();
    this.#ended = true;
    this.#show(`! ${now()} ${describeClose(status)}`);
    this.#lines.close();
    return closeExitCode(status.code);
  }

  /** The timed line that shows what `command` sends, if it sends something at once. */
  #echoOf(command: Command): string | undefined {
    switch (command.kind) {
      case 'text':
        return `> ${now()} ${printable(command.text)}`;
      case 'binary':
        return `> ${now()} ${screenMessage(command.bytes, this.#settings.binaryFormat)}`;
      case 'ping':
        return `> ${now()} ping${command.data === undefined ? '' : ` ${printable(command.data)}`}`;
      default:
        return undefined;
    }
  }

  async #handle(command: Command): Promise<void> {
    try {
      await this.#run(command);
    } catch (error) {
      this.#show(`! ${(error as Error).message}`);
    }
    if (!this.#ended) this.#lines.prompt();
  }

  async #run(command: Command): Promise<void> {
    const connection = this.#connection;
    switch (command.kind) {
      case 'nothing':
        return;
      case 'help':
        for (const helpLine of COMMAND_HELP.split('\n')) this.#show(helpLine);
        return;
      case 'invalid':
        this.#show(`! ${command.message}`);
        return;
      case 'quit':
        this.#close(1000, '');
        return;
      case 'close':
        this.#close(command.code, command.reason);
        return;
      case 'text':
        return connection.send(command.text);
      case 'binary':
        return connection.send(command.bytes);
      case 'file': {
        let bytes: Buffer;
        try {
          bytes = await readFile(command.path);
        } catch (error) {
          this.#show(`! cannot read ${command.path}: ${(error as Error).message}`);
          return;
        }
        this.#show(`> ${now()} [binary, ${bytes.length} bytes from ${printable(command.path)}]`);
        return connection.send(bytes);
      }
      case 'ping': {
        // Not awaited: a pong that never comes must not hold up what is typed next.
        connection.ping(command.data).then(
          (rtt) => this.#show(`< ${now()} pong after ${rtt.toFixed(3)} ms`),
          (error: Error) => this.#show(`! ping: ${error.message}`),
        );
        return;
      }
    }
  }

  /** Starts the closing handshake; the session ends when the connection is closed. */
  #close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#show(
      `! ${now()} closing with ${code}${reason === '' ? '' : ` ${JSON.stringify(reason)}`}...`,
    );
    this.#connection.close(code, reason).catch((error: Error) => {
      this.#closing = false;
      this.#show(`! cannot close that way: ${error.message}`);
    });
  }

  /** Ctrl-C: the first closes normally, the second drops the connection. */
  #interrupt(): void {
    if (!this.#closing) {
      this.#close(1000, '');
      this.#show('! Ctrl-C again drops the connection without waiting');
      return;
    }
    this.#show(`! ${now()} dropping the connection`);
    this.#connection.terminate();
  }

  /** Writes a line above the prompt, and redraws the prompt with what was being typed. */
  #show(line: string): void {
    const output = this.#output;
    if (this.#ended) {
      output.write(`${line}\n`);
      return;
    }
    this.#clearPrompt();
    output.write(`${line}\n`);
    this.#lines.prompt(true);
  }

  /** Erases the prompt and what is being typed after it (which may wrap over several rows). */
  #clearPrompt(): void {
    const { rows } = this.#lines.getCursorPos();
    moveCursor(this.#output, 0, -rows);
    cursorTo(this.#output, 0);
    clearScreenDown(this.#output);
  }

  /**
   * Replaces the line just entered (still on the screen above the cursor, the prompt before it)
   * with what was sent, timed.
   */
  #replaceTyped(typed: string, line: string): void {
    const columns = this.#output.columns ?? 80;
    const rows = Math.max(1, Math.ceil((PROMPT.length + typed.length) / columns));
    moveCursor(this.#output, 0, -rows);
    cursorTo(this.#output, 0);
    clearScreenDown(this.#output);
    this.#output.write(`${line}\n`);
  }
}

function now(): string {
  return clockTime(new Date());
}
