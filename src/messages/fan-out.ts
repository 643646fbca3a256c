/**
 * A published message, framed once for every subscriber.
 *
 * Text is encoded to UTF-8 once (or checked once, when it comes as bytes), and the frame is
 * encoded once by the protocol core's encoder, unmasked (a server's): the same buffers are then
 * written to every subscriber's socket. With permessage-deflate, what a connection receives
 * depends on what it negotiated:
 * - a connection that does not compress (not negotiated, `compress: false`, below its threshold,
 *   or an 8-bit window) gets the plain frame;
 * - a connection whose server side has no context takeover compresses each message alone, so
 *   one compressed frame serves every such connection with the same window (a message
 *   compressed with a window of W bits inflates with any window of at least W; the key also
 *   holds zlib's level and memLevel, which are the server's): compressed once per distinct key;
 * - a connection with context takeover compresses against its own history, which no other
 *   connection shares: it gets the message through its own compressor, as `send()` would
 *   (`frameFor` says so with null), which costs a compression per such subscriber.
 * Frames are made when the first subscriber needs them: a topic nobody subscribes to costs no
 * encoding.
 */
import type { Buffer } from 'node:buffer';
import {
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_OP_BINARY,
  FRAME_OP_TEXT,
} from '../protocol/constants.js';
import type { PerMessageDeflate } from '../protocol/deflate/codec.js';
import { encodeFrame } from '../protocol/frame.js';

/**
 * What a server does with a subscriber that cannot take a published message now (its socket is
 * congested, or messages wait before it):
 * - `'queue'` (default): the message waits in the connection's send queue, within
 *   `maxQueuedBytes`; past it, this subscriber misses this message (`slowSubscriber` event,
 *   action `'skipped'`);
 * - `'skip'`: the message is never queued: the subscriber misses it (`slowSubscriber`, action
 *   `'skipped'`), e.g. for state that the next message replaces;
 * - `'close'`: as `'queue'`, but a subscriber that would exceed `maxQueuedBytes` is closed with
 *   1008 (`slowSubscriber`, action `'closed'`).
 */
export type SlowSubscriberPolicy = 'queue' | 'skip' | 'close';

/** What happened to a subscriber that could not take a published message. */
export type SlowSubscriberAction = 'skipped' | 'closed';

/** How a published message reached one connection (for the server; not exported by the package). */
export const Delivery = {
  /** Written to the socket, or queued behind what the connection sends already. */
  SENT: 0,
  /** The connection is closing or closed: nothing was done. */
  NOT_OPEN: 1,
  /** The slow-subscriber policy skipped it. */
  SKIPPED: 2,
  /** The slow-subscriber policy closed it (1008). */
  CLOSED: 3,
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** @internal A message being published: its payload, and its frames once made. */
export class Publication {
  /** The message's bytes (text: its UTF-8, valid). */
  readonly payload: Buffer;
  readonly binary: boolean;
  /** `send()`'s `compress`: false never, true always, undefined from the threshold. */
  readonly compress: boolean | undefined;
  #plain: readonly Buffer[] | undefined;
  /** Compressed frames by the codec's sharing key (the plain frame if it did not get smaller). */
  #compressed: Map<number, readonly Buffer[]> | undefined;

  constructor(payload: Buffer, binary: boolean, compress: boolean | undefined) {
    this.payload = payload;
    this.binary = binary;
    this.compress = compress;
  }

  get #opcode(): number {
    return this.binary ? FRAME_OP_BINARY : FRAME_OP_TEXT;
  }

  /** The uncompressed frame. */
  get plain(): readonly Buffer[] {
    return (this.#plain ??= encodeFrame(FRAME_FLAG_FIN | this.#opcode, this.payload, null));
  }

  /**
   * The frame for a connection with this permessage-deflate codec (null: none negotiated), or
   * null when the connection must compress the message with its own context (`send()`'s path).
   */
  frameFor(deflate: PerMessageDeflate | null): readonly Buffer[] | null {
    if (
      deflate === null ||
      this.compress === false ||
      !deflate.canCompress ||
      !(this.compress ?? deflate.wantsToCompress(this.payload.length))
    )
      return this.plain;
    const key = deflate.sharingKey;
    if (key === undefined) return null;
    const compressed = (this.#compressed ??= new Map<number, readonly Buffer[]>());
    let frame = compressed.get(key);
    if (frame === undefined) {
      const bytes = deflate.compressAlone(this.payload);
      frame =
        bytes === null
          ? this.plain
          : encodeFrame(FRAME_FLAG_FIN | FRAME_FLAG_RSV1 | this.#opcode, bytes, null);
      compressed.set(key, frame);
    }
    return frame;
  }
}

/** Bytes of a frame on the wire: what a queued one counts against `maxQueuedBytes`. */
export function frameBytes(frame: readonly Buffer[]): number {
  let bytes = 0;
  for (const buffer of frame) bytes += buffer.length;
  return bytes;
}
