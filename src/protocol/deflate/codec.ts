/**
 * The permessage-deflate transform of message payloads (RFC 7692 §7.2), synchronous.
 *
 * Why synchronous, and no zlib stream kept per connection. `node:zlib` offers streaming only
 * through its asynchronous streams (each message a round trip through the thread pool, and a
 * zlib state of up to ~300 KiB held per connection and direction for as long as the connection
 * lives), while its synchronous calls make a fresh zlib state per call and free it before they
 * return. Context takeover only needs the LZ77 history, which is the last 2^windowBits
 * uncompressed bytes of the earlier messages: this codec keeps exactly those bytes and hands
 * them to zlib as a preset dictionary (RFC 1951 §3.2.5: a back-reference may reach into them,
 * which is what the peer's streaming inflater allows). The result is byte-for-byte a valid
 * continuation of the stream the peer's inflater keeps, and:
 * - between messages a connection holds only its histories (none at all without context
 *   takeover), never a zlib state: at most one zlib state exists in the process at a time, so
 *   many connections cannot fragment memory with zlib allocations;
 * - the protocol core stays synchronous: messages keep their order, and the close handshake
 *   cannot overtake a message being compressed;
 * - inflating stops once the output passes the message size limit (`maxOutputLength`): a
 *   decompression bomb costs at most the limit, not what it would inflate to;
 * - a message that does not get smaller can still be sent uncompressed, since nothing was fed to
 *   a stream that would then have to be told.
 * The cost of a preset dictionary grows with the window (zlib hashes it), which is one reason
 * the default compression window is small.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { ProtocolError } from '../errors.js';
import type { DeflateAgreement, WindowBits } from './negotiation.js';

const { Z_SYNC_FLUSH } = zlib.constants;

/** The empty stored block that ends a sync flush; removed from each message (RFC 7692 §7.2.1). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** zlib's output chunks: at least Node's minimum, at most 1 MiB (then they are concatenated). */
const MIN_CHUNK = 1024;
const MAX_CHUNK = 1024 * 1024;

/**
 * How this side compresses, within what was negotiated: zlib's level and memLevel, the window, and
 * the size below which messages go uncompressed.
 */
export interface DeflateSettings {
  /** zlib compression level, 0 (none) to 9 (best); -1 is zlib's default (6). */
  readonly level?: number;
  /** zlib memLevel, 1 to 9: memory of the compressor's hash table against speed. */
  readonly memLevel?: number;
  /**
   * The largest window this side compresses with (it may always use less than the negotiated
   * maximum, RFC 7692 §7.1.2). Smaller windows hash a smaller history per message.
   */
  readonly windowBits?: WindowBits;
  /** Messages shorter than this many bytes are sent uncompressed. */
  readonly threshold?: number;
}

/** zlib's own defaults, and ws's threshold; the message API chooses smaller windows. */
export const DEFAULT_DEFLATE_SETTINGS: Readonly<Required<DeflateSettings>> = Object.freeze({
  level: 6,
  memLevel: 8,
  windowBits: 15,
  threshold: 1024,
});

/**
 * The last `capacity` bytes of a stream of messages: the LZ77 history zlib may refer back into.
 * Held in one buffer of at most `capacity` bytes, allocated when the first bytes come.
 */
class History {
  readonly capacity: number;
  #bytes: Buffer | null = null;
  #length = 0;

  constructor(windowBits: number) {
    this.capacity = 2 ** windowBits;
  }

  /** The history, or undefined while empty (a copy is not needed: zlib copies dictionaries). */
  get view(): Buffer | undefined {
    return this.#length === 0 ? undefined : this.#bytes!.subarray(0, this.#length);
  }

  /** Bytes held. */
  get retained(): number {
    return this.#bytes === null ? 0 : this.#bytes.length;
  }

  append(data: Uint8Array): void {
    const capacity = this.capacity;
    if (data.length === 0) return;
    if (data.length >= capacity) {
      if (this.#bytes === null || this.#bytes.length < capacity)
        this.#bytes = Buffer.allocUnsafe(capacity);
      this.#bytes.set(data.subarray(data.length - capacity));
      this.#length = capacity;
      return;
    }
    const kept = Math.min(this.#length, capacity - data.length);
    const length = kept + data.length;
    let bytes = this.#bytes;
    if (bytes === null || bytes.length < length) {
      // Grows by doubling up to the capacity: a connection that sends little holds little.
      const grown = Buffer.allocUnsafe(
        Math.min(capacity, Math.max(length, 2 * (bytes?.length ?? 0), 256)),
      );
      if (bytes !== null) grown.set(bytes.subarray(this.#length - kept, this.#length));
      bytes = this.#bytes = grown;
    } else if (kept < this.#length) {
      bytes.copyWithin(0, this.#length - kept, this.#length);
    }
    bytes.set(data, kept);
    this.#length = length;
  }

  /** Forgets the history and gives its memory back. */
  clear(): void {
    this.#bytes = null;
    this.#length = 0;
  }
}

/**
 * One connection's permessage-deflate state: what was agreed, and the two histories.
 * `role` says which side of the agreement this is: a server compresses under the `server_*`
 * parameters and inflates under the `client_*` ones.
 */
export class PerMessageDeflate {
  /** What the two sides agreed in the handshake. */
  readonly agreement: DeflateAgreement;
  /** The window this side compresses with; 0 when it cannot compress at all (see below). */
  readonly sendWindowBits: number;
  /** The window the peer may compress with: what this side must keep to inflate. */
  readonly receiveWindowBits: number;
  readonly #sendTakeover: boolean;
  readonly #receiveTakeover: boolean;
  readonly #level: number;
  readonly #memLevel: number;
  readonly #threshold: number;
  readonly #sent: History | null;
  readonly #received: History;

  constructor(
    agreement: DeflateAgreement,
    role: 'client' | 'server',
    settings: DeflateSettings = {},
  ) {
    this.agreement = agreement;
    const server = role === 'server';
    const sendMax = server ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits;
    const receiveMax = server ? agreement.clientMaxWindowBits : agreement.serverMaxWindowBits;
    this.#sendTakeover = !(server
      ? agreement.serverNoContextTakeover
      : agreement.clientNoContextTakeover);
    this.#receiveTakeover = !(server
      ? agreement.clientNoContextTakeover
      : agreement.serverNoContextTakeover);
    const wanted = settings.windowBits ?? DEFAULT_DEFLATE_SETTINGS.windowBits;
    // zlib cannot compress with a 256-byte window: asked for 8 it silently uses 9 (RFC 7692
    // §7.1.2.1's caveat), which a peer that agreed on 8 may reject. Such a side sends every
    // message uncompressed, which the extension allows; it still inflates what it receives.
    const window = Math.min(sendMax, wanted);
    this.sendWindowBits = window < 9 ? 0 : window;
    // Inflating with a larger window than the peer's is always safe, and zlib-based peers that
    // agreed on 8 compress with 9 (the same caveat): never inflate with fewer than 9 bits.
    this.receiveWindowBits = Math.max(receiveMax, 9);
    this.#level = settings.level ?? DEFAULT_DEFLATE_SETTINGS.level;
    this.#memLevel = settings.memLevel ?? DEFAULT_DEFLATE_SETTINGS.memLevel;
    this.#threshold = settings.threshold ?? DEFAULT_DEFLATE_SETTINGS.threshold;
    this.#sent = this.sendWindowBits === 0 ? null : new History(this.sendWindowBits);
    this.#received = new History(this.receiveWindowBits);
  }

  /** True if a message of `length` bytes should be compressed by default. */
  wantsToCompress(length: number): boolean {
    return this.#sent !== null && length >= this.#threshold;
  }

  /** True if this side can compress at all (false when limited to an 8-bit window). */
  get canCompress(): boolean {
    return this.#sent !== null;
  }

  /** Bytes held between messages: the two histories. */
  get memory(): number {
    return (this.#sent?.retained ?? 0) + this.#received.retained;
  }

  /** The most `memory` can reach under this agreement. */
  get maxMemory(): number {
    return (
      (this.#sendTakeover && this.#sent !== null ? this.#sent.capacity : 0) +
      (this.#receiveTakeover ? this.#received.capacity : 0)
    );
  }

  /**
   * Equal for the codecs whose {@link PerMessageDeflate.compressAlone} gives the same bytes (the
   * same window, level and memLevel); undefined while this side keeps its context between
   * messages, whose compressed messages depend on its history. A server frames a published
   * message once per key for its subscribers without context takeover.
   */
  get sharingKey(): number | undefined {
    if (this.#sendTakeover || this.#sent === null) return undefined;
    return this.sendWindowBits + 16 * (this.#level + 1) + 256 * this.#memLevel;
  }

  /**
   * Compresses a whole message as this side sends it without context takeover, without touching
   * the histories (so any codec with the same `sharingKey` could have made it), or returns null
   * if compressing does not make it smaller. Only for a codec with a `sharingKey`.
   */
  compressAlone(data: Buffer): Buffer | null {
    const compressed = this.#deflate(data, undefined);
    const length = compressed.length - TRAILER.length;
    return length >= data.length ? null : compressed.subarray(0, length);
  }

  /**
   * Compresses a whole message, or returns null if compressing does not make it smaller: it is
   * then sent uncompressed, and the history is left as it was (an uncompressed message is not
   * part of the peer's LZ77 history).
   */
  compressMessage(data: Buffer): Buffer | null {
    const compressed = this.#deflate(data, this.#sent!.view);
    const length = compressed.length - TRAILER.length;
    if (length >= data.length) return null;
    this.#remember(data, true);
    return compressed.subarray(0, length);
  }

  /**
   * Compresses one fragment of a message whose first fragment was compressed. Fragments are
   * always compressed (RSV1 of the first frame covers the whole message); the history grows
   * with each one, since later fragments may refer back into earlier ones.
   */
  compressFragment(data: Buffer, fin: boolean): Buffer {
    const compressed = this.#deflate(data, this.#sent!.view);
    this.#remember(data, fin);
    // Each fragment ends on a sync flush; only the message's end drops the flush marker.
    return fin ? compressed.subarray(0, compressed.length - TRAILER.length) : compressed;
  }

  /**
   * Inflates one whole message (its frames' payloads, joined). Throws a ProtocolError:
   * MESSAGE_TOO_BIG (1009) as soon as the output passes `maxSize` bytes, without producing the
   * rest; INVALID_COMPRESSED_DATA (1007) for data that is not DEFLATE.
   */
  decompress(payload: Buffer, maxSize: number): Buffer {
    const input = Buffer.concat([payload, TRAILER]);
    const history = this.#received;
    let output: Buffer;
    try {
      output = zlib.inflateRawSync(input, {
        windowBits: this.receiveWindowBits,
        dictionary: history.view,
        finishFlush: Z_SYNC_FLUSH,
        maxOutputLength: Math.max(maxSize, 1),
        // zlib stops after the output chunk that passes the limit: a chunk no larger than the
        // limit keeps the most ever produced under twice the limit.
        chunkSize: Math.min(
          Math.max(input.length * 4, MIN_CHUNK),
          Math.max(maxSize, MIN_CHUNK),
          MAX_CHUNK,
        ),
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
        throw new ProtocolError('MESSAGE_TOO_BIG', `it inflates past ${maxSize} bytes`);
      throw new ProtocolError('INVALID_COMPRESSED_DATA', (error as Error).message, {
        cause: error,
      });
    }
    if (output.length > maxSize)
      throw new ProtocolError('MESSAGE_TOO_BIG', `it inflates past ${maxSize} bytes`);
    // A small message alone in a large output chunk: copy it, so that the message does not hold
    // the whole chunk for as long as the application keeps it. (Node's 8 KiB pool slabs, which
    // small Buffers share everywhere, are left as they are.)
    if (output.buffer.byteLength > Math.max(Buffer.poolSize, 2 * output.length + 4096))
      output = Buffer.from(output);
    if (this.#receiveTakeover) history.append(output);
    return output;
  }

  #deflate(data: Buffer, dictionary: Buffer | undefined): Buffer {
    const windowBits = this.sendWindowBits;
    return zlib.deflateRawSync(data, {
      level: this.#level,
      memLevel: this.#memLevel,
      windowBits,
      dictionary,
      finishFlush: Z_SYNC_FLUSH,
      chunkSize: Math.min(Math.max(data.length + 64, MIN_CHUNK), MAX_CHUNK),
    });
  }

  /** Records what was sent compressed; forgets it at a message's end without takeover. */
  #remember(data: Buffer, fin: boolean): void {
    const history = this.#sent!;
    if (fin && !this.#sendTakeover) history.clear();
    else history.append(data);
  }
}
