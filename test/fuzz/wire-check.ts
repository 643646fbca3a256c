/**
 * An independent RFC 6455 checker for what an endpoint sends: parses a byte stream into frames
 * with its own code (not the library's reader) and throws an AssertionError at the first rule
 * broken. What the fuzzers hold every output byte to.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { constants, inflateRawSync } from 'node:zlib';

/** Close codes an endpoint may send (RFC 6455 §7.4.1, §7.4.2; IANA registry up to 1014). */
function sendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

function validUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A frame as parsed from the wire, unmasked. */
export interface WireFrame {
  readonly flags: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

/**
 * Parses one frame at `at`, checking the encoding itself: minimal length form, 64-bit length with
 * the top bit clear. Returns null if the frame is incomplete.
 */
export function parseWireFrame(
  bytes: Buffer,
  at: number,
): { frame: WireFrame; next: number } | null {
  if (bytes.length - at < 2) return null;
  const flags = bytes[at];
  const masked = (bytes[at + 1] & 0x80) !== 0;
  let length = bytes[at + 1] & 0x7f;
  let p = at + 2;
  if (length === 126) {
    if (bytes.length - p < 2) return null;
    length = bytes.readUInt16BE(p);
    assert.ok(length >= 126, `16-bit length ${length} is not minimal (RFC 6455 §5.2)`);
    p += 2;
  } else if (length === 127) {
    if (bytes.length - p < 8) return null;
    const high = bytes.readUInt32BE(p);
    assert.ok(high < 0x80000000, '64-bit length with the most significant bit set (§5.2)');
    length = high * 2 ** 32 + bytes.readUInt32BE(p + 4);
    assert.ok(length >= 65536, `64-bit length ${length} is not minimal (RFC 6455 §5.2)`);
    p += 8;
  }
  const mask = masked ? bytes.subarray(p, p + 4) : null;
  if (masked) p += 4;
  if (bytes.length - p < length) return null;
  const payload = Buffer.from(bytes.subarray(p, p + length));
  if (mask !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  return { frame: { flags, masked, payload }, next: p + length };
}

/**
 * Checks the frames an endpoint sends, across calls (a message may span frames sent at different
 * times). `masked`: a client's frames must be masked, a server's must not (§5.1). `utf8`: text
 * messages must be valid UTF-8 at their end (the sender's `validateUtf8`). `deflate`:
 * permessage-deflate was negotiated without context takeover in the sending direction, so RSV1 may
 * mark the first frame of a data message (RFC 7692 §6), and each compressed message inflates on
 * its own (for the UTF-8 check of compressed text).
 */
export class OutputChecker {
  private pending = Buffer.alloc(0);
  private inMessage = false;
  private text = false;
  private textParts: Buffer[] = [];
  private compressed = false;
  private closed = false;
  frames = 0;
  /** The close frame sent: undefined if none, null if it had no code, else its code. */
  closeCode: number | null | undefined = undefined;

  constructor(
    private readonly masked: boolean,
    private readonly utf8: boolean,
    private readonly deflate = false,
  ) {}

  push(buffers: readonly Buffer[]): void {
    if (buffers.length === 0) return;
    this.pending = Buffer.concat([this.pending, ...buffers]);
    let at = 0;
    for (;;) {
      const parsed = parseWireFrame(this.pending, at);
      if (parsed === null) break;
      this.check(parsed.frame);
      at = parsed.next;
    }
    this.pending = this.pending.subarray(at);
  }

  /** The output ended (or the test did): no frame may be cut short. */
  end(): void {
    assert.equal(this.pending.length, 0, 'output ends in the middle of a frame');
  }

  private check(frame: WireFrame): void {
    this.frames++;
    assert.ok(!this.closed, 'a frame after the close frame (RFC 6455 §5.5.1)');
    assert.equal(frame.masked, this.masked, 'masked iff sent by a client (RFC 6455 §5.1)');
    const fin = (frame.flags & 0x80) !== 0;
    const opcode = frame.flags & 0x0f;
    const rsv1 = (frame.flags & 0x40) !== 0;
    const firstOfMessage = opcode === 1 || opcode === 2;
    assert.equal(frame.flags & 0x30, 0, 'RSV2/RSV3 without an extension (§5.2)');
    assert.ok(
      !rsv1 || (this.deflate && firstOfMessage),
      'RSV1 set but not on the first frame of a compressed message (RFC 7692 §6)',
    );
    if (opcode >= 8) {
      assert.ok(opcode <= 10, `reserved control opcode ${opcode}`);
      assert.ok(fin, 'fragmented control frame (§5.5)');
      assert.ok(frame.payload.length <= 125, 'control frame over 125 bytes (§5.5)');
      if (opcode === 8) {
        this.closed = true;
        assert.notEqual(frame.payload.length, 1, 'close payload of 1 byte (§5.5.1)');
        this.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
        if (frame.payload.length >= 2) {
          const code = frame.payload.readUInt16BE(0);
          assert.ok(sendableCloseCode(code), `close code ${code} may not be sent (§7.4)`);
          assert.ok(validUtf8(frame.payload.subarray(2)), 'close reason not UTF-8 (§5.5.1)');
        }
      }
      return;
    }
    assert.ok(opcode <= 2, `reserved data opcode ${opcode}`);
    if (opcode === 0) {
      assert.ok(this.inMessage, 'continuation without a message (§5.4)');
    } else {
      assert.ok(!this.inMessage, 'new data frame inside a fragmented message (§5.4)');
      this.text = opcode === 1;
      this.compressed = rsv1;
      this.textParts = [];
    }
    if (this.text || this.compressed) this.textParts.push(frame.payload);
    this.inMessage = !fin;
    if (fin && this.compressed) {
      const deflated = Buffer.concat([...this.textParts, Buffer.from([0, 0, 0xff, 0xff])]);
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(deflated, { finishFlush: constants.Z_SYNC_FLUSH });
      } catch (error) {
        assert.fail(
          `a compressed message that does not inflate (RFC 7692 §7.2.2): ${String(error)}`,
        );
      }
      if (this.text && this.utf8)
        assert.ok(validUtf8(inflated), 'compressed text message not UTF-8 (§8.1)');
    } else if (fin && this.text && this.utf8)
      assert.ok(validUtf8(Buffer.concat(this.textParts)), 'text message not UTF-8 (§8.1)');
  }
}
