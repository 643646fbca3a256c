/**
 * POCO's `Buffer<char>`: a growable byte buffer with a size and a capacity. `receiveFrame(buffer)`
 * appends a frame's payload after its current `size()`, as POCO's overload does (so start from
 * `new PocoBuffer(0)`, or `resize(0)` before reusing one).
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentException } from './exceptions.js';

/**
 * POCO's `Buffer<char>`: a growable byte buffer with a size and a capacity.
 * {@link WebSocket.receiveFrame} appends a frame's payload after its current size, as POCO's
 * overload does, without a length limit other than the maximum payload size.
 *
 * @example
 * ```ts
 * import { PocoBuffer, type WebSocket } from 'wsnet';
 *
 * async function receiveMessage(ws: WebSocket): Promise<string> {
 *   const buffer = new PocoBuffer(0);
 *   let frame;
 *   do frame = await ws.receiveFrame(buffer); // each frame appended after the last
 *   while (frame.n > 0 && (frame.flags & 0x80) === 0); // until FIN
 *   return buffer.begin().toString('utf8');
 * }
 * ```
 */
export class PocoBuffer {
  #storage: Buffer;
  #size: number;

  /**
   * A buffer of `size` bytes (zero-filled), with that capacity.
   *
   * @throws {@link InvalidArgumentException} when `size` is not a non-negative safe integer.
   */
  constructor(size = 0) {
    PocoBuffer.#check(size);
    this.#storage = Buffer.alloc(size);
    this.#size = size;
  }

  /** The size in bytes. */
  size(): number {
    return this.#size;
  }

  /** Size in bytes (POCO's `sizeBytes()`; the same as `size()` for `char`). */
  sizeBytes(): number {
    return this.#size;
  }

  /** The capacity in bytes (what the buffer holds before it grows). */
  capacity(): number {
    return this.#storage.length;
  }

  /** Whether the size is 0. */
  empty(): boolean {
    return this.#size === 0;
  }

  /** The bytes `[0, size())`, as a view (valid until the buffer grows). */
  begin(): Buffer {
    return this.#storage.subarray(0, this.#size);
  }

  /** Same as `begin()`. */
  data(): Buffer {
    return this.begin();
  }

  /**
   * Changes the size; `preserveContent` keeps the bytes that stay. New bytes are zero.
   *
   * @throws {@link InvalidArgumentException} when `newSize` is not a non-negative safe integer.
   */
  resize(newSize: number, preserveContent = true): void {
    PocoBuffer.#check(newSize);
    if (newSize > this.#storage.length) this.#grow(newSize, preserveContent);
    if (newSize > this.#size) this.#storage.fill(0, preserveContent ? this.#size : 0, newSize);
    this.#size = newSize;
  }

  /**
   * Changes the capacity (never below the size).
   *
   * @throws {@link InvalidArgumentException} when `newCapacity` is not a non-negative safe integer.
   */
  setCapacity(newCapacity: number, preserveContent = true): void {
    PocoBuffer.#check(newCapacity);
    if (newCapacity < this.#size) this.#size = newCapacity;
    const storage = Buffer.alloc(newCapacity);
    if (preserveContent) this.#storage.copy(storage, 0, 0, this.#size);
    this.#storage = storage;
  }

  /** Appends bytes after `size()`, growing as needed. */
  append(bytes: Uint8Array): void {
    const end = this.#size + bytes.length;
    if (end > this.#storage.length) this.#grow(Math.max(end, this.#storage.length * 2), true);
    this.#storage.set(bytes, this.#size);
    this.#size = end;
  }

  /** Sets the size to 0 (the capacity stays). */
  clear(): void {
    this.#size = 0;
  }

  /** New storage; bytes past the kept content are not initialised (callers fill or overwrite). */
  #grow(capacity: number, preserveContent: boolean): void {
    const storage = Buffer.allocUnsafe(capacity);
    if (preserveContent) this.#storage.copy(storage, 0, 0, this.#size);
    this.#storage = storage;
  }

  static #check(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new InvalidArgumentException('Invalid buffer size', String(size));
  }
}
