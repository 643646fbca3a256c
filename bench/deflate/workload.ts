/**
 * What the permessage-deflate benchmarks send: the settings compared (one set at wsnet's
 * defaults, one at ws's), JSON-like text messages, and the client's compressed frames.
 *
 * The messages are realistic for an application protocol: JSON objects whose keys repeat and
 * whose values (ids, names, prices, timestamps, words) come from a seeded pseudo-random
 * generator, so every message is different and compresses about as JSON does (2-4x), not like
 * repeated constant bytes. The same seed gives the same messages in every process.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';

export type ProfileName = 'wsnet-defaults' | 'ws-defaults';

/** One set of permessage-deflate settings, applied identically to both servers. */
export interface Profile {
  readonly name: ProfileName;
  /** What the tables say about the settings. */
  readonly description: string;
  /** The LZ77 window both directions use (server_max_window_bits, client_max_window_bits). */
  readonly windowBits: 12 | 15;
  readonly memLevel: number;
  readonly level: number;
  readonly threshold: number;
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  'wsnet-defaults': {
    name: 'wsnet-defaults',
    description:
      "wsnet's defaults: window 12 bits both ways, memLevel 5, level 6, threshold 1024 B, context takeover",
    windowBits: 12,
    memLevel: 5,
    level: 6,
    threshold: 1024,
  },
  'ws-defaults': {
    name: 'ws-defaults',
    description:
      "ws's defaults: window 15 bits both ways, memLevel 8, level 6 (zlib's default), threshold 1024 B, context takeover",
    windowBits: 15,
    memLevel: 8,
    level: 6,
    threshold: 1024,
  },
};

/** The largest message both servers accept (ws's maxPayload, wsnet's maxMessageSize). */
export const MAX_MESSAGE = 16 * 1024 * 1024;

/** What the load clients offer: the offer of Chromium and ws's client. */
export const OFFER = 'permessage-deflate; client_max_window_bits';

/** mulberry32: a small seeded generator, good enough for varied test data. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november ' +
  'oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu order ' +
  'invoice shipment customer account payment refund pending active closed archived north ' +
  'south east west red green blue amber small medium large express standard priority ' +
  'warehouse berlin paris tokyo lisbon oslo madrid vienna prague dublin quick lazy brown'
).split(' ');
const EVENTS = ['order.created', 'order.updated', 'payment.settled', 'shipment.moved', 'user.seen'];

/**
 * One JSON text of exactly `size` bytes (ASCII): a batch of event records, then a `note` that
 * pads it to the size. Different for every `seed`.
 */
export function jsonMessage(size: number, seed: number): string {
  const random = generator(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const word = () => pick(WORDS);
  const records: string[] = [];
  const head = `{"seq":${seed},"batch":[`;
  // Leaves room for the closing `],"note":"..."}` with at least a few characters of note.
  const tail = (note: string) => `],"note":"${note}"}`;
  let length = head.length + tail('').length + 8;
  for (;;) {
    const id = Math.floor(random() * 1e9);
    const record = JSON.stringify({
      id,
      type: pick(EVENTS),
      user: `${word()}_${Math.floor(random() * 100000)}`,
      ts: new Date(1.7e12 + Math.floor(random() * 3e10)).toISOString(),
      price: Math.round(random() * 100000) / 100,
      qty: 1 + Math.floor(random() * 20),
      tags: [word(), word()],
      active: random() < 0.5,
      city: word(),
    });
    const added = record.length + (records.length > 0 ? 1 : 0);
    if (length + added > size) break;
    records.push(record);
    length += added;
  }
  const body = head + records.join(',');
  let note = '';
  const room = size - body.length - tail('').length;
  while (note.length < room) note += (note.length > 0 ? ' ' : '') + word();
  const text = body + tail(note.slice(0, room));
  if (Buffer.byteLength(text) !== size) throw new Error(`message of ${text.length} bytes`);
  return text;
}

/** `count` different messages of `size` bytes. */
export function messagePool(size: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => jsonMessage(size, size * 1000 + i + 1));
}

const TRAILER_LENGTH = 4;

/**
 * Each message as a client sends it: compressed on its own (no history, so it is valid at any
 * point of a context-takeover stream: it never refers back), RSV1 set, masked once up front.
 * `compress: false` gives plain text frames (for a client that did not negotiate compression).
 */
export function clientFrames(
  messages: readonly string[],
  profile: Profile,
  compress = true,
): Buffer[] {
  const mask = fixedMask([0x11, 0x22, 0x33, 0x44]);
  return messages.map((text) => {
    const data = Buffer.from(text);
    if (!compress) return Buffer.concat(encodeFrame(0x81, data, mask));
    const deflated = zlib.deflateRawSync(data, {
      level: profile.level,
      memLevel: profile.memLevel,
      windowBits: profile.windowBits,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    // FIN | RSV1 | text; the sync flush's empty block is not sent (RFC 7692 §7.2.1).
    return Buffer.concat(
      encodeFrame(0xc1, deflated.subarray(0, deflated.length - TRAILER_LENGTH), mask),
    );
  });
}

/**
 * A decompression bomb: one compressed binary frame of about 1 MiB that inflates to 1 GiB of
 * zeros (16 sync-flushed blocks of 64 MiB each, back to back: each is a valid continuation).
 */
export function bombFrame(): { frame: Buffer; compressed: number; inflated: number } {
  const part = zlib.deflateRawSync(Buffer.alloc(64 << 20), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const stream = Buffer.concat(Array.from({ length: 16 }, () => part));
  const payload = stream.subarray(0, stream.length - TRAILER_LENGTH);
  const frame = Buffer.concat(encodeFrame(0xc2, payload, fixedMask([0x11, 0x22, 0x33, 0x44])));
  return { frame, compressed: payload.length, inflated: 16 * (64 << 20) };
}
