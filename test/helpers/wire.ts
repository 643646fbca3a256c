/**
 * RFC 6455 frames written and read by hand, for the conformance tests: the encoder and the
 * reader here are independent of the library's (src/protocol/frame*.ts), so that a bug there
 * cannot hide itself by being on both ends of a test.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_WAIT_MS, type RawClient } from './raw-client.js';
import { toHex } from './bytes.js';

// Opcodes (§5.2, §11.8).
export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;
export const FIN = 0x80;

/** A frame to send: the first header byte as given, so any FIN/RSV/opcode can go on the wire. */
export interface OutFrame {
  readonly flags: number;
  readonly payload: Buffer;
}

export interface FrameOptions {
  /** Default true. */
  readonly fin?: boolean;
  /** The RSV1-3 bits as a number 0-7 (RSV1 is 4). */
  readonly rsv?: number;
}

function bytesOf(payload: string | Uint8Array): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

export function frame(
  opcode: number,
  payload: string | Uint8Array = '',
  options: FrameOptions = {},
): OutFrame {
  const flags = (options.fin === false ? 0 : FIN) | ((options.rsv ?? 0) << 4) | opcode;
  return { flags, payload: bytesOf(payload) };
}

export const text = (payload: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_TEXT, payload, options);
export const binary = (payload: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_BINARY, payload, options);
export const cont = (payload: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_CONT, payload, options);
export const ping = (payload: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_PING, payload, options);
export const pong = (payload: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_PONG, payload, options);

/** A close frame's payload (§5.5.1): nothing, or a 2-octet code and a reason. */
export function closePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code & 0xffff);
  return Buffer.concat([head, bytesOf(reason)]);
}

export const close = (code?: number, reason: string | Uint8Array = '', options?: FrameOptions) =>
  frame(OP_CLOSE, closePayload(code, reason), options);

/** Masking keys: deterministic (so that a failure reproduces) and different for each frame. */
let maskSeed = 0x2545f491;
function nextMaskKey(): Buffer {
  maskSeed ^= maskSeed << 13;
  maskSeed ^= maskSeed >>> 17;
  maskSeed ^= maskSeed << 5;
  const key = Buffer.alloc(4);
  key.writeUInt32BE(maskSeed >>> 0);
  return key;
}

/** XORs `payload` with the 4-octet key (§5.3), into a new buffer. */
export function applyMask(payload: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ key[i & 3];
  return out;
}

/** The octets of one frame, with the shortest length encoding (§5.2). */
export function encode(out: OutFrame, masked: boolean): Buffer {
  const n = out.payload.length;
  const lengthOctets = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthOctets);
  header[0] = out.flags;
  header[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (lengthOctets === 2) header.writeUInt16BE(n, 2);
  if (lengthOctets === 8) header.writeBigUInt64BE(BigInt(n), 2);
  if (!masked) return Buffer.concat([header, out.payload]);
  const key = nextMaskKey();
  return Buffer.concat([header, key, applyMask(out.payload, key)]);
}

/** A frame as read from the wire, unmasked. */
export interface InFrame {
  readonly flags: number;
  readonly masked: boolean;
  /** The masking key, if masked. */
  readonly key: Buffer | null;
  readonly payload: Buffer;
}

/**
 * Reads one frame, asserting that its length is in the shortest form (§5.2: "the minimal number
 * of bytes MUST be used to encode the length") and that a 64-bit length has its top bit clear.
 */
export async function readFrame(peer: RawClient, timeoutMs = DEFAULT_WAIT_MS): Promise<InFrame> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  const head = await peer.readBytes(2, left());
  const masked = (head[1] & 0x80) !== 0;
  let length = head[1] & 0x7f;
  if (length === 126) {
    length = (await peer.readBytes(2, left())).readUInt16BE(0);
    assert.ok(length >= 126, `16-bit length ${length} could have been 7-bit (§5.2)`);
  } else if (length === 127) {
    const extended = (await peer.readBytes(8, left())).readBigUInt64BE(0);
    assert.ok(extended < 2n ** 63n, 'the most significant bit of a 64-bit length is 0 (§5.2)');
    assert.ok(extended >= 65536n, `64-bit length ${extended} could have been 16-bit (§5.2)`);
    length = Number(extended);
  }
  const key = masked ? Buffer.from(await peer.readBytes(4, left())) : null;
  const raw = await peer.readBytes(length, left());
  const payload = key === null ? Buffer.from(raw) : applyMask(raw, key);
  return { flags: head[0], masked, key, payload };
}

/** Writes `bytes` in pieces of `size` octets, each handed to the kernel in its own turn. */
export async function writeChopped(peer: RawClient, bytes: Buffer, size: number): Promise<void> {
  for (let at = 0; at < bytes.length && !peer.socket.destroyed; at += size) {
    await writeAndWait(peer, bytes.subarray(at, at + size));
  }
}

/**
 * Writes and waits until the kernel has the bytes and the event loop has turned, so that the
 * other end (in this process) reads them before the next write: a separate TCP segment.
 */
export async function writeAndWait(peer: RawClient, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve) => peer.socket.write(bytes, () => resolve()));
  await nextTurn();
}

/** Compares payloads: as hex when small (readable diffs), by length then content when large. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length <= 512 && expected.length <= 512) {
    assert.equal(toHex(actual), toHex(expected), what);
    return;
  }
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  if (a.equals(expected)) return;
  let at = 0;
  while (a[at] === expected[at]) at++;
  assert.fail(`${what}: first difference at octet ${at}`);
}

/**
 * Where UTF-8 validation must fail (Unicode Table 3-7, which RFC 3629 and so RFC 6455 §8.1
 * follow): the index of the first octet that no well-formed text can continue with; the length
 * if the octets are a well-formed prefix that ends inside a character; -1 if they are valid.
 */
export function utf8FailureIndex(bytes: Uint8Array): number {
  let need = 0; // continuation octets still expected
  let low = 0x80;
  let high = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (need > 0) {
      if (b < low || b > high) return i;
      need--;
      low = 0x80;
      high = 0xbf;
      continue;
    }
    if (b < 0x80) continue;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) [need, low] = [2, 0xa0];
    else if (b === 0xed) [need, high] = [2, 0x9f];
    else if (b >= 0xe1 && b <= 0xef) need = 2;
    else if (b === 0xf0) [need, low] = [3, 0x90];
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) [need, high] = [3, 0x8f];
    else return i; // 80-C1, F5-FF never start a character
  }
  return need > 0 ? bytes.length : -1;
}

/** `n` octets of valid UTF-8 text, with 2-octet characters in it. */
export function utf8Text(n: number): Buffer {
  const unit = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
  const out = Buffer.alloc(n, 0x2a); // '*' fills the tail
  for (let at = 0; at + unit.length <= n; at += unit.length) unit.copy(out, at);
  return out;
}

/** Splits bytes into whole frames, unmasked (for reading what a `Connection` queued). */
export function parseFrames(bytes: Buffer): OutFrame[] {
  const frames: OutFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const flags = bytes[at];
    const masked = (bytes[at + 1] & 0x80) !== 0;
    let length = bytes[at + 1] & 0x7f;
    at += 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    const key = masked ? bytes.subarray(at, at + 4) : null;
    if (key !== null) at += 4;
    const payload = bytes.subarray(at, at + length);
    frames.push({ flags, payload: key === null ? Buffer.from(payload) : applyMask(payload, key) });
    at += length;
  }
  return frames;
}
