/**
 * The messages `wsnet bench` sends and how their echoes are checked. Every message is distinct:
 * its first bytes name the message's sequence number on its connection and the connection's
 * index (hexadecimal digits, least significant first, so that a message shorter than the
 * 16-byte identifier keeps the digits that change), and the rest is a fixed ASCII pattern. An
 * echo counts only if it is byte for byte the message it answers, of the same type (text or
 * binary): a server that echoes a stale message, another connection's message, or garbles one
 * is caught.
 *
 * Each connection owns one buffer per message in flight (`--pipeline`), written in place for
 * every message: nothing is allocated per message here. A buffer is rewritten only after its
 * echo came back, which also proves the message API has put it on the wire (it does not copy a
 * message that waits for a congested socket).
 */
import { Buffer } from 'node:buffer';

/** Bytes of the identifier: 10 hex digits of sequence number, 6 of connection index. */
export const ID_BYTES = 16;
const SEQUENCE_DIGITS = 10;
const CONNECTION_DIGITS = 6;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** The filler: printable ASCII (valid text), and compressible as real payloads tend to be. */
const PATTERN = Buffer.from('wsnet-bench:abcdefghijklmnopqrstuvwxyz0123456789|', 'latin1');

/** Writes `value`'s hex digits, least significant first, into `digits` bytes at `offset`, as fit. */
function writeDigits(buffer: Buffer, offset: number, digits: number, value: number): void {
  const end = Math.min(offset + digits, buffer.length);
  let rest = value;
  for (let i = offset; i < end; i++) {
    buffer[i] = HEX[rest % 16];
    rest = Math.floor(rest / 16);
  }
}

/** The `pipeline` message buffers of one connection, and a scratch buffer to check text echoes. */
export class PayloadSlots {
  readonly #slots: Buffer[];
  /** A text echo is encoded here to be compared: `size + 4` bytes, to see one that is longer. */
  readonly #scratch: Buffer;

  constructor(
    readonly size: number,
    pipeline: number,
    connectionIndex: number,
  ) {
    const template = Buffer.alloc(size);
    for (let i = 0; i < size; i += PATTERN.length) PATTERN.copy(template, i);
    writeDigits(template, SEQUENCE_DIGITS, CONNECTION_DIGITS, connectionIndex);
    this.#slots = Array.from({ length: pipeline }, () => Buffer.from(template));
    this.#scratch = Buffer.alloc(size + 4);
  }

  /** The message with sequence number `sequence`, written into its slot (`sequence % pipeline`). */
  message(sequence: number): Buffer {
    const slot = this.#slots[sequence % this.#slots.length];
    writeDigits(slot, 0, SEQUENCE_DIGITS, sequence);
    return slot;
  }

  /** True if `echo` is exactly the message `sequence` (still in its slot), of the type sent. */
  matches(sequence: number, echo: string | Buffer, binary: boolean): boolean {
    const sent = this.#slots[sequence % this.#slots.length];
    if (typeof echo !== 'string') return binary && echo.equals(sent);
    if (binary || echo.length !== this.size) return false;
    // Same number of UTF-16 units; any non-ASCII character would encode to more bytes than that.
    const written = this.#scratch.write(echo, 0, 'utf8');
    return written === this.size && this.#scratch.compare(sent, 0, this.size, 0, this.size) === 0;
  }
}
