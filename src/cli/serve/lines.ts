/**
 * Splits a byte stream (a program's stdout or stderr) into lines, holding at most `maxBytes` of
 * an unfinished line: what a program writes without a newline cannot grow the server's memory.
 */
import { Buffer } from 'node:buffer';

/** What to do with a line that grows past the limit. */
export type Overlong =
  /** Hand it out in pieces of `maxBytes` (a log line: better cut than lost). */
  | 'split'
  /** Stop splitting and set `overflowed` (a message: it may not be cut without the peer knowing). */
  | 'stop';

export class LineSplitter {
  /** With 'stop': a line grew past `maxBytes`; nothing more is split. */
  overflowed = false;
  /** The unfinished line's chunks (not yet concatenated: most lines end in the chunk they start). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(
    readonly maxBytes: number,
    readonly overlong: Overlong,
  ) {}

  /**
   * The lines that `chunk` completes, without their `\n` (nor a `\r` before it: CRLF programs
   * are read as their authors mean them). With 'stop', those before an overlong line only.
   */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      if (!this.#take(chunk.subarray(start, newline), lines)) return lines;
      lines.push(withoutCarriageReturn(this.#drain()));
      start = newline + 1;
    }
    // A copy: the few bytes of an unfinished line should not keep the whole chunk alive.
    if (start < chunk.length) this.#take(Buffer.from(chunk.subarray(start)), lines);
    return lines;
  }

  /** The last line if the stream ended without a newline (undefined if it ended with one). */
  end(): Buffer | undefined {
    if (this.#pendingBytes === 0 || this.overflowed) return undefined;
    return withoutCarriageReturn(this.#drain());
  }

  /** Adds `part` (no newline in it) to the unfinished line, keeping it within `maxBytes`. */
  #take(part: Buffer, lines: Buffer[]): boolean {
    if (this.overflowed) return false;
    while (this.#pendingBytes + part.length > this.maxBytes) {
      if (this.overlong === 'stop') {
        this.overflowed = true;
        this.#pending = [];
        this.#pendingBytes = 0;
        return false;
      }
      const room = this.maxBytes - this.#pendingBytes;
      this.#pending.push(part.subarray(0, room));
      this.#pendingBytes += room;
      lines.push(this.#drain());
      part = part.subarray(room);
    }
    if (part.length > 0) {
      this.#pending.push(part);
      this.#pendingBytes += part.length;
    }
    return true;
  }

  #drain(): Buffer {
    const line =
      this.#pending.length === 1
        ? this.#pending[0]
        : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return line ?? Buffer.alloc(0);
  }
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line;
}
