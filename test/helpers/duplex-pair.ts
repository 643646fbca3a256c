/**
 * Two in-memory streams wired to each other, like the two ends of a TCP connection: what one
 * writes, the other reads. With real backpressure: a write is acknowledged only once the other
 * side's read buffer has room, so a reader that stops reading makes the writer's buffer fill
 * (`writableNeedDrain`) exactly as a full TCP window would. `end()` is a FIN: the other side
 * reads to its end, then (not half-open, as sockets from `node:net` by default) ends too.
 * `destroy()` is a close: what was already written can still be read on the other side, then it
 * sees its end, as with a socket that closed after its data reached the peer's kernel.
 */
import { Duplex } from 'node:stream';

class End extends Duplex {
  peer!: End;
  /** The peer's write waiting for this side's read buffer to have room. */
  #blockedWrite: (() => void) | null = null;

  constructor(highWaterMark: number) {
    super({ highWaterMark, allowHalfOpen: false });
  }

  override _read(): void {
    const resume = this.#blockedWrite;
    this.#blockedWrite = null;
    resume?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.peer.destroyed) {
      callback();
      return;
    }
    if (this.peer.push(chunk)) callback();
    else this.peer.#blockedWrite = callback;
  }

  override _final(callback: () => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    const peer = this.peer;
    if (!peer.destroyed && !peer.readableEnded) peer.push(null);
    // A write of the peer waiting for room here will never get it: release it.
    this._read();
    callback(error);
  }
}

export function duplexPair(highWaterMark = 16 * 1024): [Duplex, Duplex] {
  const a = new End(highWaterMark);
  const b = new End(highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
