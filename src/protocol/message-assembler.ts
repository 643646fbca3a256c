/**
 * Reassembles a fragmented message (RFC 6455 §5.4) into one buffer.
 *
 * The common case, a message in one frame, costs nothing: the payload view is passed through.
 * From the second non-empty fragment on, fragments are copied into a buffer that doubles as it
 * grows (amortised O(n), at most twice the message in memory). A list of fragments would be
 * cheaper to fill but costs an object per fragment, and a peer can send millions of tiny ones.
 * Empty fragments cost nothing at all.
 */
import { Buffer } from 'node:buffer';

const EMPTY = Buffer.alloc(0);
const MIN_CAPACITY = 1024;

export class MessageAssembler {
  /** The only fragment so far (zero-copy), until a second one arrives. */
  private single: Buffer = EMPTY;
  private buffer: Buffer | null = null;
  private length = 0;

  /** @param maxSize the capacity never grows past this (the caller enforces the limit itself). */
  constructor(private readonly maxSize: number) {}

  /** Bytes collected so far. */
  get size(): number {
    return this.length;
  }

  append(fragment: Buffer): void {
    const n = fragment.length;
    if (n === 0) return;
    if (this.length === 0) {
      this.single = fragment;
      this.length = n;
      return;
    }
    const needed = this.length + n;
    if (this.buffer === null || this.buffer.length < needed) {
      const doubled = Math.max(needed, MIN_CAPACITY, 2 * (this.buffer?.length ?? this.length));
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(doubled, this.maxSize)));
      if (this.buffer === null) grown.set(this.single, 0);
      else grown.set(this.buffer.subarray(0, this.length), 0);
      this.buffer = grown;
      this.single = EMPTY;
    }
    this.buffer.set(fragment, this.length);
    this.length = needed;
  }

  /** The whole message; the assembler is empty afterwards. */
  take(): Buffer {
    const message = this.buffer === null ? this.single : this.buffer.subarray(0, this.length);
    this.single = EMPTY;
    this.buffer = null;
    this.length = 0;
    return message;
  }
}
