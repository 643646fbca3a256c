/**
 * What the interop tests of permessage-deflate check on the wire (through a frame tap,
 * frame-tap.ts): which messages crossed compressed and in how many frames, that compression
 * made them smaller, and from the sizes, whether a sender took its context over and how large
 * a window it compressed with.
 */
import assert from 'node:assert/strict';
import { foundRepeat, WINDOW_BITS } from './compressible.js';
import type { TappedMessage } from './frame-tap.js';
import { byteLength } from './message-echo.js';
import { OP_BINARY, OP_TEXT } from './wire.js';

/** wsnet's default threshold: shorter messages go uncompressed. */
export const THRESHOLD = 1024;

type Payload = string | Uint8Array;

/**
 * Which messages a sender compressed: all of them (ws with `threshold: 0`, Chromium,
 * python-websockets), none, those of at least wsnet's default threshold, or one flag a message.
 */
export type Compressed = 'all' | 'none' | 'from threshold' | readonly boolean[];

/**
 * Asserts that the messages on the wire are `payloads` as sent: the same type, RSV1 as
 * `compressed` says, whole, RSV1-3 clear on continuation frames (RFC 7692 §6.1), and in one frame
 * each unless `frames` says otherwise ('any': the sender may fragment, as Chromium does).
 */
export function assertWire(
  messages: readonly TappedMessage[],
  payloads: readonly Payload[],
  compressed: Compressed,
  { frames = 1 }: { frames?: number | 'any' } = {},
): void {
  const flags = payloads.map((payload, i) =>
    compressed === 'all'
      ? true
      : compressed === 'none'
        ? false
        : compressed === 'from threshold'
          ? byteLength(payload) >= THRESHOLD
          : compressed[i],
  );
  assert.deepEqual(
    messages.map((m) => ({
      opcode: m.opcode,
      compressed: m.compressed,
      frames: frames === 'any' ? 'any' : m.frames,
      rsvOnContinuation: m.rsvOnContinuation,
      complete: m.complete,
    })),
    payloads.map((payload, i) => ({
      opcode: typeof payload === 'string' ? OP_TEXT : OP_BINARY,
      compressed: flags[i],
      frames,
      rsvOnContinuation: false,
      complete: true,
    })),
  );
}

/** Compressible payloads of wsnet's threshold and more cross in well under their size. */
export function assertShrunk(messages: readonly TappedMessage[], payloads: readonly Payload[]) {
  payloads.forEach((payload, i) => {
    const size = byteLength(payload);
    if (size >= THRESHOLD)
      assert.ok(
        messages[i].wireBytes < 0.7 * size,
        `message ${i} (${size} bytes) took ${messages[i].wireBytes} bytes on the wire`,
      );
  });
}

/**
 * The same message sent several times: without context takeover each is compressed alone, to
 * the same size; with it, the later ones refer back to the first and take a few bytes (under
 * 1/`shrink` of the first). `firstOver`: what the first must take, to make the ratio mean
 * something.
 */
export function assertTakeover(
  messages: readonly TappedMessage[],
  takeover: boolean,
  who: string,
  { firstOver = 500, shrink = 10 }: { firstOver?: number; shrink?: number } = {},
) {
  assert.ok(messages.length >= 3, `${who}: ${messages.length} messages`);
  const [first, ...later] = messages.map((m) => m.wireBytes);
  assert.ok(first > firstOver, `${who}: the first message took ${first} bytes`);
  if (takeover)
    assert.ok(
      later.every((bytes) => bytes * shrink < first),
      `${who} should take over its context: ${first}, then ${later.join(', ')} bytes`,
    );
  else
    assert.deepEqual(
      later,
      later.map(() => first),
      `${who} should reset its context: ${first}, then ${later.join(', ')} bytes`,
    );
}

/**
 * `payloads` are windowPayloads() (compressible.ts): each crossed compressed, and from its
 * size, its compressor found exactly the repeats within a window of `bits`.
 */
export function assertWindow(
  messages: readonly TappedMessage[],
  payloads: readonly string[],
  bits: number,
  who: string,
) {
  assertWire(messages, payloads, 'all');
  assert.deepEqual(
    payloads.map((payload, i) => foundRepeat(payload, messages[i].wireBytes)),
    WINDOW_BITS.map((k) => k <= bits),
    `${who} compresses with a window of ${bits} bits`,
  );
}
