/**
 * A socket of the npm `ws` package (client or server side) whose messages, pings, pongs and
 * close are recorded from its creation, so that none is missed between an action and the wait
 * for its effect: for the interop tests against `ws`.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type WsClient from 'ws';
import type { RawData } from 'ws';
import { within } from './wait.js';

export interface WsMessage {
  data: Buffer;
  isBinary: boolean;
}

export class RecordedWs {
  readonly messages: WsMessage[] = [];
  readonly pings: string[] = [];
  readonly pongs: string[] = [];
  close: { code: number; reason: string } | undefined;
  readonly #changed = new Set<() => void>();

  /** `ms`: how long each wait may take unless told otherwise. */
  constructor(
    readonly ws: WsClient,
    private readonly ms = 30_000,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.messages.push({ data: toBuffer(data), isBinary });
      this.#notify();
    });
    ws.on('ping', (data: Buffer) => {
      this.pings.push(data.toString());
      this.#notify();
    });
    ws.on('pong', (data: Buffer) => {
      this.pongs.push(data.toString());
      this.#notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.close = { code, reason: reason.toString() };
      this.#notify();
    });
    // An error is followed by 'close', which the tests wait for; without a listener it would
    // be thrown.
    ws.on('error', () => undefined);
  }

  #notify(): void {
    for (const check of [...this.#changed]) check();
  }

  /**
   * Resolves once `test()` gives a value (checked now and after every event); rejects once the
   * socket closed without it (so a test fails at once rather than at the deadline), or after `ms`.
   */
  until<T>(what: string, test: () => T | undefined, ms = this.ms): Promise<T> {
    let check!: () => void;
    const waiting = new Promise<T>((resolve, reject) => {
      check = () => {
        const value = test();
        if (value === undefined) {
          if (this.close !== undefined)
            reject(new Error(`${what}: the ws socket closed (${JSON.stringify(this.close)})`));
          return;
        }
        this.#changed.delete(check);
        resolve(value);
      };
    });
    this.#changed.add(check);
    check();
    return within(waiting, ms, what).finally(() => this.#changed.delete(check));
  }

  nextMessage(ms?: number): Promise<WsMessage> {
    return this.until('ws message', () => this.messages.shift(), ms);
  }

  /** The next `count` messages. */
  take(count: number, ms?: number): Promise<WsMessage[]> {
    return this.until(
      'ws messages',
      () => (this.messages.length >= count ? this.messages.splice(0, count) : undefined),
      ms,
    );
  }

  closed(ms?: number): Promise<{ code: number; reason: string }> {
    return this.until('ws close', () => this.close, ms);
  }
}

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Asserts that a message ws received is the payload, without printing megabytes when not. */
export function assertWsMessage(actual: WsMessage, payload: string | Buffer, what: string): void {
  assert.equal(actual.isBinary, typeof payload !== 'string', `${what}: type`);
  const expected = typeof payload === 'string' ? Buffer.from(payload) : payload;
  assert.equal(actual.data.length, expected.length, `${what}: length`);
  assert.ok(actual.data.equals(expected), `${what}: the bytes`);
}
