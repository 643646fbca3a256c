/**
 * UTF-8 validation for text messages and close reasons (RFC 6455 §8.1, §5.5.1).
 *
 * Whole buffers go to `buffer.isUtf8` (simdutf in Node, about 16 GB/s). Fragmented messages go
 * through {@link Utf8Validator}, which fails as soon as a fragment makes the text invalid, not
 * only at the end of the message: an endpoint "MUST _Fail the WebSocket Connection_" when it sees
 * invalid UTF-8, and Autobahn's 6.4.x cases check that it does so before the message completes.
 *
 * The validator does not decode: it runs `isUtf8` over each fragment up to the start of a code
 * point cut by the fragment boundary, and checks those last 1-3 bytes by hand as the prefix of a
 * well-formed sequence (Unicode 15, Table 3-7), so that `ED A0` (a surrogate) or `F4 90` (past
 * U+10FFFF) fail in the fragment that contains them.
 */
import { isUtf8 } from 'node:buffer';

/** Below this many bytes a JavaScript loop beats the call into `isUtf8` (as ws also found). */
const SHORT_INPUT = 24;

/** True if `bytes` is well-formed UTF-8 (the empty string is). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length < SHORT_INPUT ? isValidUtf8Short(bytes) : isUtf8(bytes);
}

/** Table 3-7 of the Unicode standard, byte by byte, for short inputs. */
function isValidUtf8Short(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = sequenceLength(lead);
    if (length === 0 || i + length > n) return false;
    const [low, high] = secondByteRange(lead);
    const second = bytes[i + 1];
    if (second < low || second > high) return false;
    for (let k = 2; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return false;
    i += length;
  }
  return true;
}

/**
 * Length of the sequence a non-ASCII lead byte starts, or 0 if it cannot start one. Every caller
 * has handled ASCII (below 0x80) already, so it is not tested for here (it would read as 0).
 */
function sequenceLength(lead: number): number {
  if (lead < 0xc2) return 0; // continuation bytes and the overlong leads C0, C1
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf5) return 4;
  return 0; // F5-FF would encode beyond U+10FFFF
}

/** The range the byte after `lead` must fall in (Table 3-7); later bytes are always 80-BF. */
function secondByteRange(lead: number): [number, number] {
  switch (lead) {
    case 0xe0:
      return [0xa0, 0xbf]; // no overlong 3-byte forms
    case 0xed:
      return [0x80, 0x9f]; // no surrogates D800-DFFF
    case 0xf0:
      return [0x90, 0xbf]; // no overlong 4-byte forms
    case 0xf4:
      return [0x80, 0x8f]; // nothing above U+10FFFF
    default:
      return [0x80, 0xbf];
  }
}

/**
 * True if `bytes[start..end)` (at most 3 bytes) can begin a well-formed sequence. Only called
 * with a valid lead byte at `start` whose sequence is longer than the bytes given (what
 * `incompleteTailStart` returns, or a cut code point being completed), so the length is not
 * checked again: only the bytes after the lead are.
 */
function isIncompletePrefix(bytes: Uint8Array, start: number, end: number): boolean {
  const lead = bytes[start];
  for (let i = start + 1; i < end; i++) {
    const [low, high] = i === start + 1 ? secondByteRange(lead) : [0x80, 0xbf];
    const byte = bytes[i];
    if (byte < low || byte > high) return false;
  }
  return true;
}

/**
 * Where a trailing, incomplete sequence starts in `bytes`, or `bytes.length` if the buffer ends
 * on a code point boundary (or with bytes that cannot be a prefix, which `isUtf8` rejects).
 */
function incompleteTailStart(bytes: Uint8Array): number {
  const end = bytes.length;
  // A sequence is at most 4 bytes long, so an incomplete one starts in the last 3 bytes.
  for (let start = end - 1; start >= 0 && start >= end - 3; start--) {
    const byte = bytes[start];
    if (byte < 0x80) return end; // ASCII: no sequence is open
    if (byte >= 0xc0) return sequenceLength(byte) > end - start ? start : end; // a lead byte
  }
  return end;
}

/**
 * Incremental UTF-8 validation of a text message that arrives in fragments.
 *
 * ```ts
 * const v = new Utf8Validator();
 * v.push(fragment1) && v.push(fragment2, true)  // true if the message is valid
 * ```
 * `push` is all-or-nothing: a fragment that is rejected leaves the validator as it was.
 */
/** Scratch for the code point that a fragment boundary cut: `push` is synchronous, so one serves all. */
const candidate = new Uint8Array(4);

/** Packs up to 3 bytes of `bytes[start..end)` into a number, first byte lowest. */
function pack(bytes: Uint8Array, start: number, end: number): number {
  let packed = 0;
  for (let i = start; i < end; i++) packed |= bytes[i] << (8 * (i - start));
  return packed;
}

/**
 * Incremental UTF-8 validation over fragments (RFC 3629): fails on the first invalid byte, even
 * inside a fragment whose message is not complete, and keeps the state of a code point cut by a
 * fragment boundary in a number (no buffer per validator).
 */
export class Utf8Validator {
  /**
   * The bytes of a code point cut by the last fragment boundary (0-3 of them), packed in a
   * number: no buffer per validator, which matters with one per connection.
   */
  private pending = 0;
  private pendingLength = 0;

  /**
   * Validates the next fragment; `last` marks the end of the message, which must then not end
   * inside a code point. False as soon as the text can no longer be valid UTF-8.
   */
  push(fragment: Uint8Array, last = false): boolean {
    let start = 0;
    if (this.pendingLength > 0) {
      // Complete the cut code point with bytes of this fragment, and check it on its own.
      const have = this.pendingLength;
      for (let i = 0; i < have; i++) candidate[i] = (this.pending >>> (8 * i)) & 0xff;
      const need = sequenceLength(candidate[0]) - have;
      const take = Math.min(need, fragment.length);
      candidate.set(fragment.subarray(0, take), have);
      if (take < need) {
        if (last || !isIncompletePrefix(candidate, 0, have + take)) return false;
        this.pending = pack(candidate, 0, have + take);
        this.pendingLength = have + take;
        return true;
      }
      if (!isValidUtf8Short(candidate.subarray(0, have + take))) return false;
      start = take;
    }
    const rest = fragment.subarray(start);
    const tail = incompleteTailStart(rest);
    if (tail > 0 && !isValidUtf8(rest.subarray(0, tail))) return false;
    if (tail < rest.length && (last || !isIncompletePrefix(rest, tail, rest.length))) return false;
    this.pending = pack(rest, tail, rest.length);
    this.pendingLength = rest.length - tail;
    return true;
  }

  /** True if the text so far does not end inside a code point. */
  atBoundary(): boolean {
    return this.pendingLength === 0;
  }

  /** Starts over, for the next message. */
  reset(): void {
    this.pendingLength = 0;
  }

  /** Takes the state of `other`: to look ahead without touching it. */
  copyFrom(other: Utf8Validator): void {
    this.pending = other.pending;
    this.pendingLength = other.pendingLength;
  }
}
