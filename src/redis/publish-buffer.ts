/**
 * What a RedisAdapter holds while its publishing connection is down: envelopes in publish order,
 * bounded in bytes. What does not fit is dropped (the newest, so that what is kept stays a prefix
 * of what was published, in order) and counted; the adapter reports the count.
 */
export interface PendingPublish {
  readonly channel: string;
  readonly envelope: Buffer;
}

export class PublishBuffer {
  readonly maxBytes: number;
  #entries: PendingPublish[] = [];
  #bytes = 0;
  #dropped = 0;
  #droppedBytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get length(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Messages dropped since the last takeDropped(). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Keeps `entry` if it fits, true; else counts it as dropped, false. */
  push(entry: PendingPublish): boolean {
    const size = entry.envelope.length;
    if (this.#dropped > 0 || this.#bytes + size > this.maxBytes) {
      // Once one message is dropped, later ones are too: delivering a later message after a gap
      // would hide the gap, and keeping order per publisher means a suffix may go, not a middle.
      this.#dropped++;
      this.#droppedBytes += size;
      return false;
    }
    this.#entries.push(entry);
    this.#bytes += size;
    return true;
  }

  /** Everything kept, in order; the buffer is then empty. */
  takeAll(): PendingPublish[] {
    const entries = this.#entries;
    this.#entries = [];
    this.#bytes = 0;
    return entries;
  }

  /** The drop count and bytes since the last call, which resets them. */
  takeDropped(): { messages: number; bytes: number } {
    const dropped = { messages: this.#dropped, bytes: this.#droppedBytes };
    this.#dropped = 0;
    this.#droppedBytes = 0;
    return dropped;
  }
}
