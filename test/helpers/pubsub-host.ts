/**
 * A PubSubHost that stands for a server in the adapter tests (test/redis/): it records what its
 * adapter delivers and reports, and lets a test wait, with a deadline, for a count of either.
 */
import type { PubSubHost } from '../../src/redis/index.js';
import { waitFor } from './wait.js';

export interface Delivered {
  readonly topic: string;
  readonly text: string;
  readonly payload: Buffer;
  readonly binary: boolean;
  readonly compress: boolean | undefined;
}

export class RecordingHost implements PubSubHost {
  readonly delivered: Delivered[] = [];
  readonly errors: Error[] = [];
  /** Called on each delivery (a test that makes deliver throw sets it). */
  onDeliver: ((message: Delivered) => void) | undefined;

  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void {
    // A copy: the adapter's buffer is a view of the message Redis sent.
    const message = {
      topic,
      payload: Buffer.from(payload),
      text: payload.toString('utf8'),
      binary,
      compress,
    };
    this.delivered.push(message);
    this.onDeliver?.(message);
  }

  reportError(error: Error): void {
    this.errors.push(error);
  }

  texts(topic?: string): string[] {
    return this.delivered
      .filter((m) => topic === undefined || m.topic === topic)
      .map((m) => m.text);
  }

  /** Errors of a RedisAdapterError kind. */
  errorsOf(kind: string): Error[] {
    return this.errors.filter((e) => (e as { kind?: string }).kind === kind);
  }

  async waitForDelivered(count: number, ms = 10_000, what = `${count} deliveries`): Promise<void> {
    await waitFor(() => this.delivered.length >= count, ms, what);
  }

  async waitForError(kind: string, ms = 10_000): Promise<Error> {
    await waitFor(() => this.errorsOf(kind).length > 0, ms, `a '${kind}' error report`);
    return this.errorsOf(kind)[0];
  }
}
