/**
 * Incremental frame reading: bytes go in as they arrive, split anywhere; headers and payloads
 * come out once complete.
 *
 * Reading is two calls so that the caller can judge a header (size limits, RFC rules) *before*
 * any of its payload is buffered: `readHeader()`, then `readPayload(length)`, each returning null
 * until enough bytes are in. The reader itself enforces one rule only, the one that concerns the
 * encoding: a 64-bit length must have its top bit clear (RFC 6455 §5.2).
 *
 * Buffering never concatenates per read (that is O(n²) on a slow trickle): chunks are kept in a
 * list, and a payload inside one chunk comes out as a view of it, without a copy. Tiny chunks
 * that arrive while bytes are pending are coalesced into shared 16 KiB blocks, so a peer that
 * trickles a large frame one byte per segment costs about one byte of memory per byte, not one
 * `Buffer` object per byte.
 */
import { Buffer } from 'node:buffer';
import { MAX_HEADER_LENGTH } from './constants.js';
import { ProtocolError } from './errors.js';
import { toBuffer } from './frame.js';
import { applyMask, maskInto } from './mask.js';

/** Chunks shorter than this are copied into a coalescing block rather than queued as they are. */
const SMALL_CHUNK = 1024;
const COALESCE_BLOCK = 16384;

const EMPTY = Buffer.alloc(0);

/**
 * Where a header that straddles chunks is copied to be read. One for all readers: `readHeader`
 * copies the header's fields out before it returns, and nothing else runs in between.
 */
const scratch = Buffer.allocUnsafe(MAX_HEADER_LENGTH);

/** The header of the frame being read. One instance per reader, overwritten by each header. */
export class FrameHeader {
  /** The whole first byte: FIN | RSV1-3 | opcode. */
  flags = 0;
  /** Whether the frame is masked (a client's frames must be). */
  masked = false;
  /** Payload length in bytes. */
  length = 0;
  /**
   * The header's bytes as they came on the wire (2-14): with the mask, and with the length in
   * whatever form the peer chose (a non-minimal form is not refused here).
   */
  size = 0;
  /**
   * The masking key; meaningful only when `masked`. A plain array: a `Uint8Array` of 4 would
   * cost an ArrayBuffer per connection, which adds up over thousands of idle connections.
   */
  readonly mask: number[] = [0, 0, 0, 0];
}

/**
 * A payload this small is gathered into its final buffer from its first read on: reserving it
 * ahead of the data costs little.
 */
const GATHER_AT_ONCE = 64 * 1024;
/**
 * A larger payload's buffer is made (at its declared length) only once at least this fraction of
 * it has arrived, 1/8: until then its reads stay queued as received. Otherwise a peer could
 * declare a frame of the whole message limit, send a few bytes, and make the reader reserve that
 * much per connection: this way the reservation is at most 8 times what the peer really sent.
 */
const GATHER_RESERVE_RATIO = 8;

/**
 * The list of a reader that buffers nothing, shared by all of them: every path that adds to the
 * list runs with bytes buffered, so it is never written to (frozen: a write would throw).
 */
const NO_CHUNKS: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/**
 * Reads frames from received bytes, incrementally: the header first (so its length can be judged
 * before any payload is buffered), then the payload, as zero-copy views when it arrived in one
 * piece. Small chunks are coalesced.
 */
export class FrameReader {
  /** {@link NO_CHUNKS} while nothing is buffered. */
  private chunks: Buffer[] = NO_CHUNKS;
  /** Index of the first chunk that still holds unread bytes. */
  private first = 0;
  /** Read position inside `chunks[first]`. */
  private offset = 0;
  private buffered = 0;
  /** The coalescing block being filled, and how much of it is used. */
  private block: Buffer | null = null;
  private blockUsed = 0;
  private readonly header = new FrameHeader();
  /**
   * With {@link gatherPartialPayloads}: the buffer that the payload of a frame still arriving
   * is unmasked into, read by read, and how much of it is filled.
   */
  private gathering: Buffer | null = null;
  /** Bytes of `gathering` filled; -1 while gathering is off (one field for both: memory). */
  private gathered = -1;
  /**
   * Unmask the payload of a frame that spans reads into its final buffer as each read arrives,
   * instead of once it is complete: the received chunks are let go of at once, and the bytes
   * gathered so far can be checked in place ({@link gatheredPayload}, UTF-8 fail-fast) instead of
   * being copied to be looked at. The buffer is allocated when the first read of the frame
   * arrives, at the length its header declared (which the caller has judged against its limits);
   * for a large frame, once an eighth of it has arrived.
   * Off by default: {@link bufferedBytes} then counts every byte not read as a whole frame, as
   * POCO's `available()` expects (gathered bytes count in it too).
   */
  get gatherPartialPayloads(): boolean {
    return this.gathered >= 0;
  }

  /** Set before the first frame: turning it off while a payload is gathered is not supported. */
  set gatherPartialPayloads(on: boolean) {
    if (this.gathering === null) this.gathered = on ? 0 : -1;
  }

  /** @param smallChunk chunks shorter than this are coalesced (0 turns coalescing off). */
  constructor(private readonly smallChunk = SMALL_CHUNK) {}

  /** Bytes received and not yet read (as a whole frame: gathered payload bytes count). */
  get bufferedBytes(): number {
    return this.gathering === null ? this.buffered : this.buffered + this.gathered;
  }

  /**
   * The bytes on the wire, header and payload, of the frame whose header was read last (until
   * the next `readHeader`): what the frame's event reports, for POCO's `available()`.
   */
  get frameWireLength(): number {
    return this.header.size + this.header.length;
  }

  /** Queues received bytes. The reader may unmask them in place later. */
  push(data: Uint8Array): void {
    const length = data.length;
    if (length === 0) return;
    if (this.buffered === 0) {
      // Nothing is pending: take the chunk as it is. Most reads hold whole frames, and a
      // connection that goes idle keeps no coalescing block alive. A new one-element list:
      // emptying the old one (`length = 0`, a runtime call) cost more than making it.
      this.first = 0;
      this.offset = 0;
      this.block = null;
      this.buffered = length;
      this.chunks = [toBuffer(data)];
      return;
    }
    this.buffered += length;
    if (length >= this.smallChunk) {
      this.chunks.push(toBuffer(data));
      return;
    }
    // A small chunk after pending bytes (a trickle): append it to the tail chunk when that is
    // the end of our own block, else start a block.
    const block = this.block;
    if (block !== null && this.blockUsed + length <= COALESCE_BLOCK) {
      const last = this.chunks.length - 1;
      const tail = this.chunks[last];
      block.set(data, this.blockUsed);
      if (
        last >= this.first &&
        tail !== undefined &&
        tail.buffer === block.buffer &&
        tail.byteOffset + tail.length === block.byteOffset + this.blockUsed
      ) {
        this.chunks[last] = block.subarray(
          tail.byteOffset - block.byteOffset,
          this.blockUsed + length,
        );
      } else {
        this.chunks.push(block.subarray(this.blockUsed, this.blockUsed + length));
      }
      this.blockUsed += length;
      return;
    }
    this.block = Buffer.allocUnsafe(COALESCE_BLOCK);
    this.block.set(data, 0);
    this.blockUsed = length;
    this.chunks.push(this.block.subarray(0, length));
  }

  /**
   * The next frame header, or null if it has not fully arrived. The returned object is reused:
   * read what you need before the next call. Throws {@link ProtocolError} `LENGTH_MSB_SET`.
   */
  readHeader(): FrameHeader | null {
    if (this.buffered < 2) return null;
    let bytes = this.chunks[this.first];
    let pos = this.offset;
    if (bytes.length - pos < MAX_HEADER_LENGTH && bytes.length - pos < this.buffered) {
      // The header may straddle chunks: look at a copy of its first bytes.
      const n = Math.min(MAX_HEADER_LENGTH, this.buffered);
      this.copyTo(scratch, n);
      bytes = scratch;
      pos = 0;
    }
    const second = bytes[pos + 1];
    const masked = second >= 0x80;
    let length = second & 0x7f;
    const size = 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (this.buffered < size) return null;

    let p = pos + 2;
    if (length === 126) {
      length = (bytes[p] << 8) | bytes[p + 1];
      p += 2;
    } else if (length === 127) {
      const high = bytes.readUInt32BE(p);
      if (high >= 0x80000000) throw new ProtocolError('LENGTH_MSB_SET');
      // Exact up to 2^53; anything larger is far over every size limit anyway.
      length = high * 2 ** 32 + bytes.readUInt32BE(p + 4);
      p += 8;
    }
    const header = this.header;
    header.flags = bytes[pos]!;
    header.masked = masked;
    header.length = length;
    header.size = size;
    if (masked) {
      const mask = header.mask;
      mask[0] = bytes[p]!;
      mask[1] = bytes[p + 1]!;
      mask[2] = bytes[p + 2]!;
      mask[3] = bytes[p + 3]!;
    }
    this.skip(size);
    return header;
  }

  /**
   * The next `length` bytes, unmasked with `mask` if one is given, or null if they have not all
   * arrived. A view into a received chunk when they lie in one (no copy; unmasked in place),
   * else a new buffer that the pieces are unmasked into as they are gathered.
   */
  readPayload(length: number, mask: ArrayLike<number> | null = null): Buffer | null {
    if (length === 0) return EMPTY;
    if (this.gathering !== null) return this.gather(length, mask);
    if (this.buffered < length)
      return this.gathered >= 0 &&
        (length <= GATHER_AT_ONCE || this.buffered * GATHER_RESERVE_RATIO >= length)
        ? this.gather(length, mask)
        : null;
    const chunk = this.chunks[this.first];
    const available = chunk.length - this.offset;
    if (available >= length) {
      const view = chunk.subarray(this.offset, this.offset + length);
      this.skip(length);
      if (mask !== null) applyMask(view, mask);
      return view;
    }
    const out = Buffer.allocUnsafe(length);
    this.copyTo(out, length, mask);
    this.skip(length);
    return out;
  }

  /**
   * Unmasks what has arrived of a payload that spans reads into its final buffer (made on the
   * first call, at `length`), consuming it; the buffer once it is full, else null.
   */
  private gather(length: number, mask: ArrayLike<number> | null): Buffer | null {
    const target = (this.gathering ??= Buffer.allocUnsafe(length));
    let filled = this.gathered;
    while (filled < length && this.buffered > 0) {
      const chunk = this.chunks[this.first];
      const take = Math.min(chunk.length - this.offset, length - filled);
      const piece = chunk.subarray(this.offset, this.offset + take);
      if (mask === null) target.set(piece, filled);
      else maskInto(piece, mask, target, filled, filled & 3);
      filled += take;
      this.skip(take);
    }
    if (filled < length) {
      this.gathered = filled;
      return null;
    }
    this.gathering = null;
    this.gathered = 0;
    return target;
  }

  /**
   * The payload bytes gathered so far, unmasked, of the frame whose payload is still arriving
   * (with {@link gatherPartialPayloads}): a view, not a copy. Null while none is (gathering has
   * not started yet: a large frame's buffer waits for an eighth of it).
   */
  gatheredPayload(): Buffer | null {
    return this.gathering === null ? null : this.gathering.subarray(0, this.gathered);
  }

  /**
   * The payload bytes buffered so far from position `from` on, unmasked, without consuming
   * anything: for checking a frame's start before its end has arrived (UTF-8 fail-fast inside a
   * text frame). Empty if nothing past `from` is buffered. Read-only: unmasked bytes that all lie
   * in the newest chunk (a client checking each read of a server's large text frame) are a view
   * of it, not a copy; anything else (masked, or spanning chunks) is a copy.
   */
  peekPayload(from: number, mask: ArrayLike<number> | null = null): Buffer {
    const n = this.buffered - from;
    if (n <= 0) return EMPTY;
    if (mask === null) {
      const lastIndex = this.chunks.length - 1;
      const last = this.chunks[lastIndex];
      // The newest chunk holds the last bytes buffered: all of it, or from `offset` on if it is
      // also the oldest.
      const inLast = lastIndex === this.first ? this.buffered : last.length;
      if (n <= inLast) return last.subarray(last.length - n);
    }
    const out = Buffer.allocUnsafe(n);
    this.copyTo(out, n, mask, from);
    return out;
  }

  /**
   * Copies `n` buffered bytes, starting `skip` bytes in, into `target` without consuming them,
   * unmasking them on the way if `mask` is given (one pass instead of a copy and then a mask).
   */
  private copyTo(
    target: Uint8Array,
    n: number,
    mask: ArrayLike<number> | null = null,
    skip = 0,
  ): void {
    let copied = 0;
    let index = this.first;
    let offset = this.offset;
    for (let toSkip = skip; toSkip > 0;) {
      const left = this.chunks[index].length - offset;
      if (toSkip < left) {
        offset += toSkip;
        break;
      }
      toSkip -= left;
      index++;
      offset = 0;
    }
    while (copied < n) {
      const chunk = this.chunks[index];
      const take = Math.min(chunk.length - offset, n - copied);
      const piece = chunk.subarray(offset, offset + take);
      if (mask === null) target.set(piece, copied);
      else maskInto(piece, mask, target, copied, (skip + copied) & 3);
      copied += take;
      index++;
      offset = 0;
    }
  }

  /** Consumes `n` buffered bytes. */
  private skip(n: number): void {
    this.buffered -= n;
    if (this.buffered === 0) {
      // Drained: let go of the chunks and of their list at once (an idle connection keeps none).
      this.chunks = NO_CHUNKS;
      this.first = 0;
      this.offset = 0;
      return;
    }
    while (n > 0) {
      const chunk = this.chunks[this.first];
      const left = chunk.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.chunks[this.first] = EMPTY; // let the chunk be collected
      this.first++;
      this.offset = 0;
    }
    if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
