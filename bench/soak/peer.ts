/**
 * The client side of the hold and soak runs: a raw-socket WebSocket client that costs the load
 * generator little (so thousands fit in one process), answers the server's heartbeat pings, checks
 * every echo byte for byte, and can end its connection three ways: a normal closing handshake, a
 * TCP reset (`resetAndDestroy`), or a drop in the middle of a frame.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { deflateRawSync, constants as zlib } from 'node:zlib';
import { rawUpgrade } from '../echo/load.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { fixedMask } from '../../src/protocol/mask.js';

const MASK = fixedMask([0x37, 0xfa, 0x21, 0x3d]);
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const RSV1 = 0x40;

/** A masked client frame, as one buffer. */
export function maskedFrame(flags: number, payload: Uint8Array): Buffer {
  return Buffer.concat(encodeFrame(flags, payload, MASK));
}

/** A compressed binary frame (RFC 7692 §7.2.1: deflate, then drop the 00 00 ff ff tail). */
function compressedFrame(payload: Buffer): Buffer {
  const deflated = deflateRawSync(payload, { finishFlush: zlib.Z_SYNC_FLUSH });
  return maskedFrame(0x80 | RSV1 | OP_BINARY, deflated.subarray(0, deflated.length - 4));
}

/** Why a peer's connection went wrong, when it was not one of the faults it injected itself. */
export class PeerFailure extends Error {}

export class Peer {
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  readonly deflate: boolean;
  #pendingLength = -1;
  #pendingFlags = 0;
  /** Payloads sent and not yet echoed, oldest first (the server echoes in order). */
  readonly #expected: Buffer[] = [];
  #onEcho: (() => void) | undefined;
  #onClose: ((code: number) => void) | undefined;
  #closeFrameSeen = false;
  #ended = false;
  /** Set once this side injects a fault: errors after it are the fault's, not failures. */
  #faulted = false;
  /** The first thing that went wrong unexpectedly. */
  failure: Error | undefined;
  /** Echoes received and found equal to what was sent. */
  verified = 0;
  /** Heartbeat pings answered. */
  pings = 0;
  /** Resolves when the TCP connection is closed, whichever way. */
  readonly gone: Promise<void>;

  private constructor(socket: net.Socket, deflate: boolean) {
    this.#socket = socket;
    this.deflate = deflate;
    this.gone = new Promise((resolve) =>
      socket.once('close', () => {
        if (!this.#faulted && this.#onClose !== undefined)
          this.#fail(new PeerFailure('TCP closed while waiting for the server'));
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (error) => {
      if (!this.#faulted) this.#fail(new PeerFailure(`socket error: ${error.message}`));
    });
    socket.on('end', () => {
      this.#ended = true;
      if (!this.#faulted && !this.#closeFrameSeen)
        this.#fail(new PeerFailure('the server ended TCP without a close frame'));
    });
  }

  /** Connects and upgrades, offering permessage-deflate if `deflate` (and requiring it then). */
  static async open(port: number, deflate = false): Promise<Peer> {
    const { socket, head, rest } = await rawUpgrade(
      port,
      deflate ? 'permessage-deflate; client_max_window_bits' : null,
    );
    if (deflate && !/sec-websocket-extensions:\s*permessage-deflate/i.test(head)) {
      socket.destroy();
      throw new PeerFailure('the server did not accept permessage-deflate');
    }
    const peer = new Peer(socket, deflate);
    if (rest.length > 0) peer.#receive(rest);
    return peer;
  }

  /**
   * Sends one message and resolves when its echo has arrived and matched (rejects with the
   * peer's failure). With deflate, the message goes compressed and the echo is only counted: the
   * server's compressed echo would need this side's inflate history to be read.
   */
  exchange(payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#onEcho = resolve;
      this.#onClose = () => reject(this.failure ?? new PeerFailure('closed before the echo'));
      this.#expected.push(payload);
      this.#socket.write(
        this.deflate ? compressedFrame(payload) : maskedFrame(0x80 | OP_BINARY, payload),
      );
    });
  }

  /** The closing handshake: sends 1000 and resolves once the server's close and TCP's end came. */
  async close(): Promise<void> {
    const closing = new Promise<number>((resolve) => {
      this.#onClose = resolve;
    });
    const payload = Buffer.from([0x03, 0xe8]);
    this.#socket.write(maskedFrame(0x80 | OP_CLOSE, payload));
    const code = await closing;
    if (code !== 1000) this.#fail(new PeerFailure(`the server closed with ${code}, not 1000`));
    await this.gone;
    if (!this.#ended) this.#fail(new PeerFailure('TCP closed without the server ending it'));
    if (this.failure !== undefined) throw this.failure;
  }

  /** A fault: TCP reset (RST), nothing more sent. */
  reset(): Promise<void> {
    this.#faulted = true;
    this.#socket.resetAndDestroy();
    return this.gone;
  }

  /** A fault: half of a frame of `size` bytes, then FIN: the peer goes away mid-message. */
  drop(size: number): Promise<void> {
    this.#faulted = true;
    const frame = maskedFrame(0x80 | OP_BINARY, randomBytes(size));
    this.#socket.end(frame.subarray(0, frame.length >> 1));
    // Whatever the server does next (1006 on its side, maybe a reset), this side is done.
    this.#socket.destroySoon();
    return this.gone;
  }

  /** Ends the socket at once (the end of a hold), without the ceremony. */
  destroy(): void {
    this.#faulted = true;
    this.#socket.destroy();
  }

  #fail(error: Error): void {
    this.failure ??= error;
    this.#onClose?.(-1);
  }

  #receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    for (;;) {
      if (this.#pendingLength < 0) {
        const header = this.#reader.readHeader();
        if (header === null) return;
        this.#pendingLength = header.length;
        this.#pendingFlags = header.flags;
      }
      const payload = this.#reader.readPayload(this.#pendingLength);
      if (payload === null) return;
      this.#pendingLength = -1;
      this.#frame(this.#pendingFlags, payload);
    }
  }

  #frame(flags: number, payload: Buffer): void {
    const opcode = flags & 0x0f;
    if (opcode === OP_PING) {
      this.pings++;
      this.#socket.write(maskedFrame(0x8a, payload));
      return;
    }
    if (opcode === OP_CLOSE) {
      this.#closeFrameSeen = true;
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      const onClose = this.#onClose;
      this.#onClose = undefined;
      onClose?.(code);
      return;
    }
    if (opcode !== OP_TEXT && opcode !== OP_BINARY) return; // an unsolicited pong
    if ((flags & 0x80) === 0) {
      this.#fail(new PeerFailure('a fragmented echo: the echo server sends whole messages'));
      return;
    }
    const sent = this.#expected.shift();
    if (sent === undefined) {
      this.#fail(new PeerFailure('an echo of nothing sent'));
      return;
    }
    if (this.deflate) {
      if ((flags & RSV1) === 0 && !payload.equals(sent))
        this.#fail(new PeerFailure('an uncompressed echo differs from the message sent'));
    } else if (!payload.equals(sent)) {
      this.#fail(new PeerFailure(`echo mismatch: sent ${sent.length} B, got ${payload.length} B`));
      return;
    }
    this.verified++;
    const onEcho = this.#onEcho;
    this.#onEcho = undefined;
    this.#onClose = undefined;
    onEcho?.();
  }
}
