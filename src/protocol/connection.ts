/**
 * The WebSocket connection state machine, without I/O (sans-I/O, after python-websockets).
 *
 * Theory of operation. A `Connection` is created OPEN once the opening handshake is done, with
 * the bytes that arrived after the HTTP head as `initialBytes`. The I/O layer:
 * 1. feeds what the socket reads to `receiveData(bytes)`, and `receiveEof()` when it ends;
 * 2. calls `send*()` for what the application wants to send;
 * 3. after each of those calls, drains `takeEvents()` (to the application) and
 *    `takeOutgoing()` (to the socket), then ends the socket's write side if `outputEnded`, and
 *    arms a timer to close the socket if `closeExpected()` and the peer does not do it;
 * 4. says when the socket stops taking bytes, and when it takes them again
 *    (`setTransportCongested`), so that automatic replies stay bounded.
 * Nothing here throws out of `receiveData`/`receiveEof`: a peer that breaks the protocol fails the
 * connection with the RFC's close code, and the {@link ProtocolError} comes out as a `failure`
 * event. `send*()` throw {@link InvalidStateError}/{@link InvalidArgumentError} on local misuse,
 * before anything is queued.
 *
 * State is the RFC's four states plus the two close records, `closeSent` and `closeReceived`,
 * and the close this side failed the connection with, if it did: the closing handshake's
 * outcome (`closeStatus`) is derived from them here, and nowhere else.
 *
 * Policies make the same machine serve RFC-strict code (the defaults, {@link RFC_POLICY}) and the
 * POCO facade ({@link POCO_POLICY}), which hands every frame to the application as POCO does.
 */
import { Buffer } from 'node:buffer';
import {
  encodeClosePayload,
  isValidWireCloseCode,
  parseClosePayload,
  type CloseInfo,
} from './close.js';
import {
  CloseCode,
  FRAME_FLAG_FIN,
  FRAME_FLAG_RSV1,
  FRAME_OP_BINARY,
  FRAME_OP_BITMASK,
  FRAME_OP_CLOSE,
  FRAME_OP_CONT,
  FRAME_OP_PING,
  FRAME_OP_PONG,
  FRAME_OP_TEXT,
  MAX_CONTROL_PAYLOAD,
  RSV_MASK,
  isControlOpcode,
  isKnownOpcode,
} from './constants.js';
import {
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  type ProtocolErrorReason,
} from './errors.js';
import type { PerMessageDeflate } from './deflate/codec.js';
import { encodeFrame, makeFrame, toBuffer, type BinaryData, type Frame } from './frame.js';
import { FrameReader, type FrameHeader } from './frame-reader.js';
import { randomMask, type MaskGenerator } from './mask.js';
import { MessageAssembler } from './message-assembler.js';
import { Utf8Validator, isValidUtf8 } from './utf8.js';
import { withFlag } from './bit-flags.js';

/** Which end of the connection this is: a client masks what it sends, a server must not. */
export type Role = 'client' | 'server';

/** The ready states of RFC 6455 §4, with the WHATWG WebSocket's numeric values. */
export const ReadyState = {
  /** 0: the opening handshake is under way (never a Connection's state: it starts OPEN). */
  CONNECTING: 0,
  /** 1: messages flow both ways. */
  OPEN: 1,
  /** 2: a close frame was sent or received, or the connection failed. */
  CLOSING: 2,
  /** 3: the transport has ended. */
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** What the connection does on its own, and which RFC rules it enforces on received frames. */
export interface ConnectionPolicy {
  /**
   * true: data frames are reassembled into `message` events, control frames become `ping`,
   * `pong` and `close` events. false: every frame, control frames included, is a `frame` event.
   */
  readonly reassemble: boolean;
  /**
   * Enforce RFC 6455's rules on received frames: no RSV bits without an extension (§5.2), no
   * reserved opcodes (§5.2), control frames unfragmented and at most 125 bytes (§5.5),
   * continuation frames only inside a fragmented message and no new message inside one (§5.4),
   * valid close payloads (§5.5.1, §7.4), and nothing processed after a close frame (§5.5.1).
   */
  readonly strictFraming: boolean;
  /** Clients must mask, servers must not (§5.1). */
  readonly requireMasking: boolean;
  /** Text messages and close reasons must be UTF-8 (§8.1), checked fragment by fragment. */
  readonly validateUtf8: boolean;
  /** Answer each ping with a pong carrying the same payload (§5.5.2). */
  readonly autoPong: boolean;
  /**
   * Run the closing handshake: answer a close frame with one (§5.5.1), say when to end the TCP
   * connection (`outputEnded`: the server first, §7.1.1).
   */
  readonly autoCloseReply: boolean;
  /** Send a close frame with the failure's code when the peer breaks the protocol (§7.1.7). */
  readonly closeOnError: boolean;
  /** Largest payload of one frame; checked on the header, before the payload is buffered. */
  readonly maxFrameSize: number;
  /** Largest reassembled message (only when `reassemble`). */
  readonly maxMessageSize: number;
  /** RSV bits that a negotiated extension gives a meaning to (0x40 for permessage-deflate). */
  readonly allowedRsvBits: number;
}

/** RFC-strict defaults. 64 MiB limits: large enough for real payloads, small enough to survive. */
export const RFC_POLICY: ConnectionPolicy = Object.freeze({
  reassemble: true,
  strictFraming: true,
  requireMasking: true,
  validateUtf8: true,
  autoPong: true,
  autoCloseReply: true,
  closeOnError: true,
  maxFrameSize: 64 * 1024 * 1024,
  maxMessageSize: 64 * 1024 * 1024,
  allowedRsvBits: 0,
});

/**
 * What POCO's WebSocket does (Net/src/WebSocketImpl.cpp): frames are handed over as they are,
 * nothing is answered or validated, and only the per-frame size limit applies (POCO's default
 * `maxPayloadSize`, INT_MAX).
 */
export const POCO_POLICY: ConnectionPolicy = Object.freeze({
  reassemble: false,
  strictFraming: false,
  requireMasking: false,
  validateUtf8: false,
  autoPong: false,
  autoCloseReply: false,
  closeOnError: false,
  maxFrameSize: 2147483647,
  maxMessageSize: 2147483647,
  allowedRsvBits: 0,
});

/** The bits of a {@link Connection}'s `flags`. */
const Flag = {
  FAILED: 1,
  EOF_RECEIVED: 2,
  END_OUTPUT: 4,
  DISCARDING: 8,
  RECEIVING_MESSAGE: 16,
  RECEIVING_TEXT: 32,
  RECEIVING_COMPRESSED: 64,
  SENDING_MESSAGE: 128,
  SENDING_TEXT: 256,
  SENDING_COMPRESSED: 512,
  CONGESTED: 1024,
} as const;

const POLICY_KEYS = Object.keys(RFC_POLICY) as (keyof ConnectionPolicy)[];

/** The policy of the connection made last: the next one made with the same options shares it. */
let lastPolicy: ConnectionPolicy = RFC_POLICY;

/**
 * `RFC_POLICY` with `overrides`, as one object shared by the connections made alike in a row: a
 * server makes every connection with the same options, and a policy of its own per connection
 * was 56 bytes of each idle connection's heap (bench/README.md, issue 12).
 */
function policyWith(overrides: Partial<ConnectionPolicy>): ConnectionPolicy {
  const policy = { ...RFC_POLICY, ...overrides };
  const last = lastPolicy;
  for (const key of POLICY_KEYS) if (policy[key] !== last[key]) return (lastPolicy = policy);
  return last;
}

/**
 * A {@link Connection}'s options: any of the {@link ConnectionPolicy} fields (overriding
 * {@link RFC_POLICY}'s), plus the bytes that came with the handshake, the mask source and the
 * permessage-deflate codec.
 */
export interface ConnectionOptions extends Partial<ConnectionPolicy> {
  /** Bytes that arrived with the handshake, after the HTTP head: they are the first frames. */
  readonly initialBytes?: Uint8Array;
  /** Where a client's masking keys come from (default: the CSPRNG pool). */
  readonly mask?: MaskGenerator;
  /**
   * permessage-deflate, when the handshake negotiated it (RFC 7692): RSV1 marks a compressed
   * message, which is inflated (within `maxMessageSize`) before it is checked and reported.
   * Only with `reassemble`: a frame-level user sees RSV1 and the raw payload.
   */
  readonly deflate?: PerMessageDeflate;
}

/** What happened, in the order it happened. */
export type ConnectionEvent =
  /** A whole data message (with `reassemble`). Text is UTF-8 bytes, validated if asked. */
  | {
      /** The event's kind. */
      readonly type: 'message';
      /** True for a binary message, false for text. */
      readonly binary: boolean;
      /** The message's bytes (a text message's UTF-8). */
      readonly data: Buffer;
    }
  /** A frame as received, unmasked (without `reassemble`): the event is the frame. */
  | Frame
  | {
      /** The event's kind: a ping (answered already, with `autoPong`). */
      readonly type: 'ping';
      /** The ping's payload. */
      readonly data: Buffer;
    }
  | {
      /** The event's kind: a pong. */
      readonly type: 'pong';
      /** The pong's payload. */
      readonly data: Buffer;
    }
  /** The peer's close frame (with `reassemble`); `code` is 1005 if it carried none. */
  | {
      /** The event's kind. */
      readonly type: 'close';
      /** The peer's close code (1005: none). */
      readonly code: number;
      /** The peer's close reason. */
      readonly reason: string;
    }
  /** The connection was failed; nothing more is received. */
  | {
      /** The event's kind. */
      readonly type: 'failure';
      /** The rule the peer broke, with the close code the connection was failed with. */
      readonly error: ProtocolError;
    };

/** Largest size limit a Buffer can hold. */
const MAX_SIZE_LIMIT = 2 ** 53 - 1;

/**
 * The compressed size a message within `limit` may have: DEFLATE can make data that does not
 * compress slightly larger (5 bytes per stored block), so the limit on the wire is a little
 * looser; the inflated message is held to `limit` exactly.
 */
function compressedLimit(limit: number): number {
  return limit + Math.ceil(limit / 1024) + 64;
}

function checkLimit(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SIZE_LIMIT)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `${name} must be a non-negative integer, got ${value}`,
    );
  return value;
}

/**
 * The WebSocket connection state machine, without I/O (sans-I/O): bytes and calls in, events and
 * bytes out. Made OPEN once the opening handshake is done, with the bytes that came after the HTTP
 * head as `initialBytes`. The I/O layer feeds what the socket reads to `receiveData()` (and
 * `receiveEof()` when it ends), calls `send*()` for what the application sends, and after each call
 * drains `takeEvents()` and `takeOutgoing()`, ends the socket's write side once `outputEnded`, and
 * closes the socket after a timeout while `closeExpected()`.
 *
 * Nothing throws out of `receiveData`/`receiveEof`: a peer that breaks the protocol fails the
 * connection with the RFC's close code and a {@link ProtocolError} comes out as a `failure` event.
 * `send*()` throw {@link InvalidStateError} / {@link InvalidArgumentError} on local misuse, before
 * anything is queued. {@link RFC_POLICY} (the default) enforces every receive rule of RFC 6455;
 * {@link POCO_POLICY} hands every frame over as POCO does.
 *
 * @example A server-side connection on a socket whose opening handshake is done.
 * ```ts
 * import type { Socket } from 'node:net';
 * import { Connection } from 'wsnet';
 *
 * function serve(socket: Socket, bytesAfterTheHttpHead: Buffer): void {
 *   const connection = new Connection('server', { initialBytes: bytesAfterTheHttpHead });
 *   const flush = (): void => {
 *     for (const event of connection.takeEvents()) {
 *       if (event.type === 'message') connection.sendText(event.data); // echo (text stays UTF-8)
 *       else if (event.type === 'failure') console.error(event.error.reason);
 *     }
 *     for (const bytes of connection.takeOutgoing()) socket.write(bytes); // pongs, close replies
 *     if (connection.outputEnded) socket.end(); // the server closes TCP first (RFC 6455 §7.1.1)
 *   };
 *   socket.on('data', (bytes: Buffer) => {
 *     connection.receiveData(bytes); // never throws
 *     flush();
 *   });
 *   socket.on('end', () => {
 *     connection.receiveEof();
 *     flush();
 *   });
 *   flush(); // the frames that came with the handshake
 * }
 * ```
 */
export class Connection {
  /** `client` or `server`. */
  readonly role: Role;
  private readonly policy: ConnectionPolicy;
  private frameLimit: number;
  private messageLimit: number;
  private readonly mask: MaskGenerator | null;
  /** The permessage-deflate codec, if the handshake negotiated the extension. */
  readonly deflate: PerMessageDeflate | null;

  private readyState: ReadyState = ReadyState.OPEN;
  private sentClose: CloseInfo | undefined;
  private receivedClose: CloseInfo | undefined;
  /** The close this side failed the connection with (§7.1.7), if it did. */
  private failedWith: CloseInfo | undefined;
  private failureError: ProtocolError | undefined;
  /**
   * The boolean state, one bit each (see `Flag`): eleven fields of their own were 80 bytes of
   * each idle connection's heap (bench/README.md, issue 12). Read and written through the
   * accessors below, as fields would be.
   */
  private flags = 0;

  private readonly reader = new FrameReader();
  /** The header read but whose payload has not fully arrived yet. */
  private pendingHeader: FrameHeader | null = null;
  // Created on first use: a POCO-policy connection never needs them (memory per connection).
  private assemblerInstance: MessageAssembler | undefined;
  private receiveValidatorInstance: Utf8Validator | undefined;
  /**
   * Looks ahead into a text frame whose end has not arrived: the message's validator state at
   * the frame's start, advanced over the payload bytes seen so far (`partialChecked`).
   */
  private partialValidator: Utf8Validator | undefined;
  private partialChecked = 0;

  private sendValidatorInstance: Utf8Validator | undefined;

  private events: ConnectionEvent[] = [];
  private outgoing: Buffer[] = [];

  /** The payload of the latest ping not answered yet because the transport was congested. */
  private owedPong: Buffer | undefined;

  /**
   * @param role - `client` (masks what it sends, requires unmasked frames) or `server`.
   * @param options - policy overrides, `initialBytes`, `mask`, `deflate`.
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) when `maxFrameSize` or `maxMessageSize`
   * is not a non-negative integer, or `deflate` is given without `reassemble`.
   */
  constructor(role: Role, options: ConnectionOptions = {}) {
    this.role = role;
    const { initialBytes, mask, deflate, ...overrides } = options;
    this.policy = policyWith(overrides);
    if (deflate !== undefined && !this.policy.reassemble)
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        'permessage-deflate needs reassemble: frames are only inflated as whole messages',
      );
    this.deflate = deflate ?? null;
    this.messageLimit = checkLimit('maxMessageSize', this.policy.maxMessageSize);
    this.frameLimit = checkLimit(
      'maxFrameSize',
      overrides.maxFrameSize ?? Math.min(this.policy.maxFrameSize, this.messageLimit),
    );
    this.mask = role === 'client' ? (mask ?? randomMask) : null;
    // Whole messages: a frame that spans reads is unmasked into its buffer as it arrives, and
    // checked there (UTF-8 fail-fast) without a copy. Frame by frame (POCO), bufferedBytes keeps
    // counting every byte not yet read as a frame.
    this.reader.gatherPartialPayloads = this.policy.reassemble;
    if (initialBytes !== undefined) this.receiveData(initialBytes);
  }

  private get assembler(): MessageAssembler {
    return (this.assemblerInstance ??= new MessageAssembler(this.messageLimit));
  }

  private get receiveValidator(): Utf8Validator {
    return (this.receiveValidatorInstance ??= new Utf8Validator());
  }

  private get sendValidator(): Utf8Validator {
    return (this.sendValidatorInstance ??= new Utf8Validator());
  }

  private get failed(): boolean {
    return (this.flags & Flag.FAILED) !== 0;
  }
  private set failed(on: boolean) {
    this.flags = withFlag(this.flags, Flag.FAILED, on);
  }

  private get eofReceived(): boolean {
    return (this.flags & Flag.EOF_RECEIVED) !== 0;
  }
  private set eofReceived(on: boolean) {
    this.flags = withFlag(this.flags, Flag.EOF_RECEIVED, on);
  }

  private get endOutput(): boolean {
    return (this.flags & Flag.END_OUTPUT) !== 0;
  }
  private set endOutput(on: boolean) {
    this.flags = withFlag(this.flags, Flag.END_OUTPUT, on);
  }

  /** After a failure, or a close frame under `strictFraming`, input is ignored (§7.1.7, §5.5.1). */
  private get discarding(): boolean {
    return (this.flags & Flag.DISCARDING) !== 0;
  }
  private set discarding(on: boolean) {
    this.flags = withFlag(this.flags, Flag.DISCARDING, on);
  }

  /** A message is being received. */
  private get receivingMessage(): boolean {
    return (this.flags & Flag.RECEIVING_MESSAGE) !== 0;
  }
  private set receivingMessage(on: boolean) {
    this.flags = withFlag(this.flags, Flag.RECEIVING_MESSAGE, on);
  }

  private get receivingText(): boolean {
    return (this.flags & Flag.RECEIVING_TEXT) !== 0;
  }
  private set receivingText(on: boolean) {
    this.flags = withFlag(this.flags, Flag.RECEIVING_TEXT, on);
  }

  /** The message being received had RSV1 on its first frame: its payload is DEFLATE data. */
  private get receivingCompressed(): boolean {
    return (this.flags & Flag.RECEIVING_COMPRESSED) !== 0;
  }
  private set receivingCompressed(on: boolean) {
    this.flags = withFlag(this.flags, Flag.RECEIVING_COMPRESSED, on);
  }

  /** A message is being sent in fragments. */
  private get sendingMessage(): boolean {
    return (this.flags & Flag.SENDING_MESSAGE) !== 0;
  }
  private set sendingMessage(on: boolean) {
    this.flags = withFlag(this.flags, Flag.SENDING_MESSAGE, on);
  }

  private get sendingText(): boolean {
    return (this.flags & Flag.SENDING_TEXT) !== 0;
  }
  private set sendingText(on: boolean) {
    this.flags = withFlag(this.flags, Flag.SENDING_TEXT, on);
  }

  private get sendingCompressed(): boolean {
    return (this.flags & Flag.SENDING_COMPRESSED) !== 0;
  }
  private set sendingCompressed(on: boolean) {
    this.flags = withFlag(this.flags, Flag.SENDING_COMPRESSED, on);
  }

  /**
   * The transport takes no more bytes for now: automatic pongs wait (see setTransportCongested).
   */
  private get congested(): boolean {
    return (this.flags & Flag.CONGESTED) !== 0;
  }
  private set congested(on: boolean) {
    this.flags = withFlag(this.flags, Flag.CONGESTED, on);
  }

  // --- State ---

  /**
   * The ready state: `OPEN`, `CLOSING` (a close frame was sent or received, or the connection
   * failed) or `CLOSED` (the transport ended).
   */
  get state(): ReadyState {
    return this.readyState;
  }

  /** The close frame we sent, if any. */
  get closeSent(): CloseInfo | undefined {
    return this.sentClose;
  }

  /** The close frame we received, if any. */
  get closeReceived(): CloseInfo | undefined {
    return this.receivedClose;
  }

  /** The protocol violation that failed the connection, if one did. */
  get failure(): ProtocolError | undefined {
    return this.failureError;
  }

  /** True once the write side of the transport should be ended, after `takeOutgoing()`. */
  get outputEnded(): boolean {
    return this.endOutput;
  }

  /**
   * True while the TCP connection is expected to close soon (the closing handshake has started
   * or the connection was failed): the I/O layer should close it after a timeout if the peer
   * does not.
   */
  closeExpected(): boolean {
    return this.readyState === ReadyState.CLOSING;
  }

  /**
   * How the connection ended (RFC 6455 §7.1.5, §7.1.6), or how it stands so far: the code and
   * reason of the peer's close frame (1005 if it had no code); else, if this side failed the
   * connection, the code it failed with (a side that fails ignores what follows, the peer's
   * close reply included); else 1006. `wasClean` once both close frames were exchanged and
   * nothing failed. Final once the state is CLOSED.
   */
  get closeStatus(): {
    /** The close code (1005: the close frame had none; 1006: no close frame). */
    code: number;
    /** The close reason. */
    reason: string;
    /** Whether both close frames were exchanged and nothing failed. */
    wasClean: boolean;
  } {
    const received = this.receivedClose;
    if (received !== undefined)
      return {
        code: received.code,
        reason: received.reason,
        wasClean: this.sentClose !== undefined && this.failedWith === undefined,
      };
    if (this.failedWith !== undefined) return { ...this.failedWith, wasClean: false };
    return { code: CloseCode.ABNORMAL_CLOSURE, reason: '', wasClean: false };
  }

  /** The per-frame size limit; the POCO facade changes it with `setMaxPayloadSize`. */
  get maxFrameSize(): number {
    return this.frameLimit;
  }

  /**
   * Changes the per-frame size limit (checked on each frame header from now on).
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) when `value` is not a non-negative
   * integer.
   */
  set maxFrameSize(value: number) {
    this.frameLimit = checkLimit('maxFrameSize', value);
  }

  /** The largest reassembled message. */
  get maxMessageSize(): number {
    return this.messageLimit;
  }

  /** Bytes received and not yet parsed into a frame (POCO's `available()`). */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /**
   * The payload length of the frame whose header has arrived and whose payload has not all
   * arrived yet, or -1. With it the I/O layer can decide, on the header alone, whether to read
   * the payload at all (POCO refuses a frame larger than the caller's buffer without reading it).
   */
  get incomingFrameLength(): number {
    return this.pendingHeader === null ? -1 : this.pendingHeader.length;
  }

  /** True if a frame has started arriving and is not complete. */
  private get inFrame(): boolean {
    return this.pendingHeader !== null || this.reader.bufferedBytes > 0;
  }

  /**
   * The I/O layer says whether the transport takes more bytes now (false once it does again).
   * While it does not, automatic pongs are not queued: only the latest ping's payload is kept,
   * and answered when the transport takes bytes again (RFC 6455 §5.5.3: "an endpoint MAY elect
   * to send a Pong frame for only the most recently processed Ping frame"). So a peer that sends
   * pings and never reads what it is sent cannot make this side's output grow.
   */
  setTransportCongested(congested: boolean): void {
    this.congested = congested;
    const owed = this.owedPong;
    if (congested || owed === undefined) return;
    this.owedPong = undefined;
    if (this.mayAutoReply()) this.queueFrame(FRAME_FLAG_FIN | FRAME_OP_PONG, owed);
  }

  // --- Drains ---

  /** The events since the last call, oldest first. */
  takeEvents(): ConnectionEvent[] {
    const events = this.events;
    if (events.length === 0) return events;
    this.events = [];
    return events;
  }

  /** The bytes to write since the last call, in order. */
  takeOutgoing(): Buffer[] {
    const outgoing = this.outgoing;
    if (outgoing.length === 0) return outgoing;
    this.outgoing = [];
    return outgoing;
  }

  // --- Receiving ---

  /**
   * Processes bytes read from the transport. The bytes are owned by the connection afterwards:
   * masked payloads are unmasked in place, and events may hold views of them.
   */
  receiveData(data: Uint8Array): void {
    if (this.discarding || this.eofReceived || data.length === 0) return;
    this.reader.push(data);
    try {
      this.parse();
    } catch (error) {
      this.failOnError(error);
    }
  }

  /** The transport reached end of stream: the connection is CLOSED. */
  receiveEof(): void {
    if (this.eofReceived) return;
    this.eofReceived = true;
    if (!this.discarding && this.inFrame)
      this.failConnection(new ProtocolError('INCOMPLETE_FRAME'));
    this.readyState = ReadyState.CLOSED;
    this.discarding = true;
    // Answer the peer's FIN with ours; POCO-style use leaves the socket to the application.
    if (this.policy.autoCloseReply) this.endOutput = true;
  }

  private parse(): void {
    const reader = this.reader;
    while (!this.discarding) {
      let header = this.pendingHeader;
      if (header === null) {
        header = reader.readHeader();
        if (header === null) return;
        const violation = this.checkHeader(header);
        if (violation !== undefined) {
          this.failConnection(new ProtocolError(violation, this.describeHeader(header)));
          return;
        }
        this.pendingHeader = header;
        this.partialChecked = 0;
      }
      const payload = reader.readPayload(header.length, header.masked ? header.mask : null);
      if (payload === null) {
        if (this.isPartialTextInvalid(header)) {
          this.failConnection(new ProtocolError('INVALID_UTF8'));
          return;
        }
        return;
      }
      this.pendingHeader = null;
      this.handleFrame(header.flags, payload);
    }
  }

  /**
   * RFC 6455 §8.1 fail-fast inside a frame: the start of a text frame whose end is still on its
   * way is checked as it arrives, so invalid text fails the connection when the bad byte comes,
   * not when the frame ends (which may be much later, or never). Each byte is looked at once:
   * in place where the reader gathers the payload, else in a copy; once the frame is complete,
   * only the bytes after `partialChecked` are left to validate (handleData).
   */
  private isPartialTextInvalid(header: FrameHeader): boolean {
    if (!this.policy.validateUtf8 || !this.policy.reassemble) return false;
    const opcode = header.flags & FRAME_OP_BITMASK;
    const continuesText =
      opcode === FRAME_OP_CONT &&
      this.receivingMessage &&
      this.receivingText &&
      !this.receivingCompressed;
    // Compressed text is checked once inflated: its bytes on the wire are not text.
    const startsText = opcode === FRAME_OP_TEXT && !this.startsCompressed(header.flags);
    if (!startsText && !continuesText) return false;
    const reader = this.reader;
    // In place where the reader already gathers the payload; else (a large frame whose buffer is
    // not made yet, or frame-by-frame reading) in a copy of what has arrived.
    const gathered = reader.gatheredPayload();
    const available = gathered === null ? reader.bufferedBytes : gathered.length;
    if (available <= this.partialChecked) return false;
    const probe = (this.partialValidator ??= new Utf8Validator());
    if (this.partialChecked === 0) {
      if (opcode === FRAME_OP_TEXT) probe.reset();
      else probe.copyFrom(this.receiveValidator);
    }
    const bytes =
      gathered === null
        ? reader.peekPayload(this.partialChecked, header.masked ? header.mask : null)
        : gathered.subarray(this.partialChecked);
    this.partialChecked = available;
    return !probe.push(bytes, false);
  }

  /** The first rule the header breaks, judged before any payload is buffered. */
  private checkHeader(header: FrameHeader): ProtocolErrorReason | undefined {
    const policy = this.policy;
    const flags = header.flags;
    const opcode = flags & FRAME_OP_BITMASK;
    const control = isControlOpcode(opcode);
    if (policy.requireMasking && header.masked !== (this.role === 'server'))
      return this.role === 'server' ? 'UNMASKED_FRAME' : 'MASKED_FRAME';
    if (policy.strictFraming) {
      let reserved = flags & RSV_MASK & ~policy.allowedRsvBits;
      if ((reserved & FRAME_FLAG_RSV1) !== 0 && this.deflate !== null) {
        // RFC 7692 §6: RSV1 marks a compressed message, on its first frame only.
        if (control) return 'COMPRESSED_CONTROL_FRAME';
        if (opcode === FRAME_OP_CONT) return 'COMPRESSED_CONTINUATION';
        reserved &= ~FRAME_FLAG_RSV1;
      }
      if (reserved !== 0) return 'RESERVED_BITS';
      if (!isKnownOpcode(opcode)) return 'RESERVED_OPCODE';
      if (control) {
        if (header.length > MAX_CONTROL_PAYLOAD) return 'CONTROL_FRAME_TOO_LONG';
        if ((flags & FRAME_FLAG_FIN) === 0) return 'FRAGMENTED_CONTROL_FRAME';
      } else if (opcode === FRAME_OP_CONT) {
        if (!this.receivingMessage) return 'UNEXPECTED_CONTINUATION';
      } else if (this.receivingMessage) {
        return 'EXPECTED_CONTINUATION';
      }
    }
    const compressed =
      !control &&
      (opcode === FRAME_OP_CONT
        ? this.receivingMessage && this.receivingCompressed
        : this.startsCompressed(flags));
    if (compressed) {
      // The limit on the wire for a compressed message; the inflated size is held to the limit
      // while inflating.
      const limit = compressedLimit(this.messageLimit);
      return (this.assemblerInstance?.size ?? 0) + header.length > limit
        ? 'MESSAGE_TOO_BIG'
        : undefined;
    }
    if (header.length > this.frameLimit) return 'FRAME_TOO_BIG';
    if (
      policy.reassemble &&
      !control &&
      (this.assemblerInstance?.size ?? 0) + header.length > this.messageLimit
    )
      return 'MESSAGE_TOO_BIG';
    return undefined;
  }

  private describeHeader(header: FrameHeader): string {
    const hex = header.flags.toString(16).padStart(2, '0');
    return `first byte 0x${hex}, payload length ${header.length}`;
  }

  private handleFrame(flags: number, payload: Buffer): void {
    const opcode = flags & FRAME_OP_BITMASK;
    if (isControlOpcode(opcode)) {
      if (opcode === FRAME_OP_CLOSE) this.handleClose(flags, payload);
      else if (opcode === FRAME_OP_PING) this.handlePing(flags, payload);
      else if (!this.policy.reassemble || opcode === FRAME_OP_PONG)
        this.emitControl(opcode === FRAME_OP_PONG ? 'pong' : null, flags, payload);
      return;
    }
    this.handleData(flags, opcode, payload);
  }

  private handleData(flags: number, opcode: number, payload: Buffer): void {
    const fin = (flags & FRAME_FLAG_FIN) !== 0;
    const first = opcode !== FRAME_OP_CONT || !this.receivingMessage;
    if (first) {
      this.receivingText = opcode === FRAME_OP_TEXT;
      this.receivingCompressed = this.startsCompressed(flags);
      this.receiveValidatorInstance?.reset();
    }
    if (this.receivingCompressed) {
      this.handleCompressedData(payload, first, fin);
      return;
    }
    if (this.receivingText && this.policy.validateUtf8) {
      if (!this.isValidText(payload, first, fin)) {
        this.failConnection(new ProtocolError('INVALID_UTF8'));
        return;
      }
    }
    this.receivingMessage = !fin;
    if (!this.policy.reassemble) {
      this.events.push(makeFrame(flags, payload, this.reader.frameWireLength));
      return;
    }
    if (first && fin) {
      this.events.push({ type: 'message', binary: !this.receivingText, data: payload });
      return;
    }
    this.assembler.append(payload);
    if (fin)
      this.events.push({
        type: 'message',
        binary: !this.receivingText,
        data: this.assembler.take(),
      });
  }

  /**
   * Validates an uncompressed text frame's payload. Its first `partialChecked` bytes were
   * validated while the frame arrived (isPartialTextInvalid), and that validator carries on
   * from there: no byte is validated twice.
   */
  private isValidText(payload: Buffer, first: boolean, fin: boolean): boolean {
    const checked = this.partialChecked;
    if (checked === 0)
      return first && fin ? isValidUtf8(payload) : this.receiveValidator.push(payload, fin);
    this.partialChecked = 0;
    const probe = this.partialValidator!;
    if (!probe.push(payload.subarray(checked), fin)) return false;
    if (!fin) this.receiveValidator.copyFrom(probe);
    return true;
  }

  /** RSV1 on the first frame of a message, with permessage-deflate negotiated (RFC 7692 §6). */
  private startsCompressed(flags: number): boolean {
    return this.deflate !== null && (flags & FRAME_FLAG_RSV1) !== 0;
  }

  /**
   * A fragment of a compressed message: collected until the last one, then the message is
   * inflated (stopping at the size limit) and, if it is text, validated as a whole.
   */
  private handleCompressedData(payload: Buffer, first: boolean, fin: boolean): void {
    this.receivingMessage = !fin;
    if (!fin) {
      this.assembler.append(payload);
      return;
    }
    let compressed = payload;
    if (!first) {
      this.assembler.append(payload);
      compressed = this.assembler.take();
    }
    const data = this.deflate!.decompress(compressed, this.messageLimit); // throws ProtocolError
    if (this.receivingText && this.policy.validateUtf8 && !isValidUtf8(data)) {
      this.failConnection(new ProtocolError('INVALID_UTF8'));
      return;
    }
    this.events.push({ type: 'message', binary: !this.receivingText, data });
  }

  private handlePing(flags: number, payload: Buffer): void {
    this.emitControl('ping', flags, payload);
    if (!this.policy.autoPong || !this.mayAutoReply()) return;
    if (this.congested)
      this.owedPong = Buffer.from(payload); // a copy: ≤ 125 bytes, not the read
    else this.queueFrame(FRAME_FLAG_FIN | FRAME_OP_PONG, payload);
  }

  /**
   * §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response,
   * unless it already received a Close frame." Not after our own close frame either (§5.5.1).
   */
  private mayAutoReply(): boolean {
    return this.receivedClose === undefined && this.sentClose === undefined;
  }

  private emitControl(type: 'ping' | 'pong' | null, flags: number, payload: Buffer): void {
    if (!this.policy.reassemble)
      this.events.push(makeFrame(flags, payload, this.reader.frameWireLength));
    else if (type !== null) this.events.push({ type, data: payload });
  }

  private handleClose(flags: number, payload: Buffer): void {
    const policy = this.policy;
    let info: CloseInfo;
    if (policy.strictFraming) {
      info = parseClosePayload(payload, policy.validateUtf8); // throws ProtocolError
    } else {
      info = {
        code: payload.length >= 2 ? payload.readUInt16BE(0) : CloseCode.NO_STATUS_RECEIVED,
        reason: payload.length > 2 ? payload.toString('utf8', 2) : '',
      };
    }
    this.receivedClose ??= info;
    if (policy.reassemble)
      this.events.push({ type: 'close', code: info.code, reason: info.reason });
    else this.events.push(makeFrame(flags, payload, this.reader.frameWireLength));
    this.readyState = ReadyState.CLOSING;
    // §5.5.1: after a close frame the peer sends nothing more; whatever follows is ignored.
    if (policy.strictFraming) this.discarding = true;
    if (policy.autoCloseReply) {
      // "It SHOULD do so as soon as practical", "typically echoing the status code it received".
      // A code that may not be sent is not echoed: the reply then has none. Only 1005 (an empty
      // close frame) comes here under strictFraming; without it, any code can (1006, 0, ...).
      if (this.sentClose === undefined)
        this.queueClose(isValidWireCloseCode(info.code) ? info.code : undefined, '');
      // §7.1.1: the server closes the TCP connection first, once the handshake is complete.
      if (this.role === 'server') this.endOutput = true;
    }
  }

  // --- Failing ---

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with `code` if none was sent
   * yet, ignores all further input, and (server) ends the output.
   *
   * @throws {@link InvalidArgumentError} when a close frame is due and `code` or `reason` may not
   * be sent (as {@link Connection.sendClose}).
   */
  fail(code: number, reason = ''): void {
    const sendClose = this.readyState === ReadyState.OPEN && code !== CloseCode.ABNORMAL_CLOSURE;
    if (sendClose) encodeClosePayload(code, reason); // throws on a code that may not be sent
    if (this.failed) return;
    this.failed = true;
    this.discarding = true;
    if (this.readyState === ReadyState.CLOSED) return;
    this.failedWith ??= { code, reason };
    if (sendClose) this.queueClose(code, reason);
    this.readyState = ReadyState.CLOSING;
    if (this.role === 'server' && this.policy.autoCloseReply) this.endOutput = true;
  }

  /**
   * With `closeOnError` off, a failure only stops the input; this sends the failure's close frame
   * afterwards (what `closeOnError` does at once), e.g. once the application has answered the
   * messages that came before the violation. Does nothing if there is no failure or a close
   * frame was sent already.
   */
  closeAfterFailure(): void {
    const error = this.failureError;
    if (error === undefined || this.readyState !== ReadyState.OPEN) return;
    if (error.closeCode !== CloseCode.ABNORMAL_CLOSURE && this.sentClose === undefined)
      this.queueClose(error.closeCode, '');
    this.readyState = ReadyState.CLOSING;
    if (this.role === 'server' && this.policy.autoCloseReply) this.endOutput = true;
  }

  private failConnection(error: ProtocolError): void {
    this.failureError = error;
    if (this.readyState !== ReadyState.CLOSED)
      this.failedWith ??= { code: error.closeCode, reason: '' };
    this.events.push({ type: 'failure', error });
    if (this.policy.closeOnError) {
      this.fail(error.closeCode);
    } else {
      this.failed = true;
      this.discarding = true;
    }
  }

  private failOnError(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.failConnection(error);
      return;
    }
    // A bug of ours: report it to the application, but tell the peer nothing about it.
    this.failConnection(new ProtocolError('INTERNAL_ERROR', undefined, { cause: error }));
  }

  // --- Sending ---

  /**
   * Sends text. A string is encoded as UTF-8; bytes must already be UTF-8 (checked when
   * `validateUtf8`). With `fin = false` this starts a fragmented message that
   * `sendContinuation` carries on.
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`, `MESSAGE_IN_PROGRESS`).
   * @throws {@link InvalidArgumentError} (`INVALID_UTF8`) for bytes that are not UTF-8.
   */
  sendText(data: string | BinaryData, fin = true, compress?: boolean): void {
    this.sendDataFrame(FRAME_OP_TEXT, data, fin, compress);
  }

  /**
   * Sends binary data; `fin = false` starts a fragmented message.
   *
   * `compress` (with permessage-deflate negotiated): true compresses the message, false sends it
   * as it is, undefined compresses it if it is at least the codec's threshold. A whole message
   * that compression would not make smaller goes uncompressed; the fragments of a message
   * follow its first one.
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`, `MESSAGE_IN_PROGRESS`).
   */
  sendBinary(data: BinaryData, fin = true, compress?: boolean): void {
    this.sendDataFrame(FRAME_OP_BINARY, data, fin, compress);
  }

  /**
   * Sends the next fragment of the message started by `sendText`/`sendBinary` with `fin = false`.
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`,
   * `NO_MESSAGE_IN_PROGRESS`).
   * @throws {@link InvalidArgumentError} (`INVALID_UTF8`) when a text message's fragments are not
   * UTF-8 (checked across fragments).
   */
  sendContinuation(data: string | BinaryData, fin: boolean): void {
    this.sendDataFrame(FRAME_OP_CONT, data, fin, undefined);
  }

  /**
   * Sends a ping (at most 125 bytes).
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`).
   * @throws {@link InvalidArgumentError} (`CONTROL_PAYLOAD_TOO_LONG`) over 125 bytes.
   */
  sendPing(data: string | BinaryData = EMPTY): void {
    this.sendControl(FRAME_OP_PING, data);
  }

  /**
   * Sends an unsolicited pong (at most 125 bytes), e.g. as a one-way heartbeat (§5.5.3).
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`).
   * @throws {@link InvalidArgumentError} (`CONTROL_PAYLOAD_TOO_LONG`) over 125 bytes.
   */
  sendPong(data: string | BinaryData = EMPTY): void {
    this.sendControl(FRAME_OP_PONG, data);
  }

  /**
   * Starts (or, after the peer's close frame, completes) the closing handshake. Without a code
   * the close frame is empty. Throws {@link InvalidArgumentError} for a code that may not be
   * sent (1005, 1006, 1015, ...) or a reason over 123 bytes.
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`).
   * @throws {@link InvalidArgumentError} (`INVALID_CLOSE_CODE`, `CLOSE_REASON_TOO_LONG`,
   * `CLOSE_REASON_WITHOUT_CODE`, `INVALID_UTF8`).
   */
  sendClose(code?: number, reason = ''): void {
    this.assertCanSend();
    this.queueClose(code, reason);
    this.readyState = ReadyState.CLOSING;
    // Completing the closing handshake never ends the output here: with autoCloseReply the reply
    // to the peer's close frame went out with it (handleClose), so sendClose throws CLOSE_SENT
    // after one; without it, ending the transport is the application's call.
  }

  /**
   * Queues one frame exactly as given, with no check of flags, length, state or payload: what
   * POCO's `sendFrame` does. A close frame still updates the close records.
   */
  sendFrame(flags: number, payload: BinaryData): void {
    if ((flags & FRAME_OP_BITMASK) === FRAME_OP_CLOSE && this.sentClose === undefined) {
      const buffer = toBuffer(payload);
      this.sentClose = {
        code: buffer.length >= 2 ? buffer.readUInt16BE(0) : CloseCode.NO_STATUS_RECEIVED,
        reason: buffer.length > 2 ? buffer.toString('utf8', 2) : '',
      };
      if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING;
    }
    this.queueFrame(flags, payload);
  }

  /**
   * Queues a whole data message already encoded as one unmasked frame: what `encodeFrame(flags,
   * payload, null)` returned, header and payload. The same buffers can be queued on many server
   * connections, which is how the message API frames a published message once for all its
   * subscribers. The frame is taken as given (its opcode, RSV1 for a message compressed under
   * what this connection negotiated, its payload, valid UTF-8 for text): only the state is
   * checked, as for any message.
   *
   * @throws {@link InvalidStateError} (`CLOSE_SENT`, `CONNECTION_CLOSED`, `MESSAGE_IN_PROGRESS`).
   * @throws {@link InvalidArgumentError} (`INVALID_FRAME_FLAGS`) on a client connection: a client
   * masks each frame with a key of its own (RFC 6455 §5.3), so its frames cannot be shared.
   */
  sendEncoded(frame: readonly Buffer[]): void {
    this.assertCanSend();
    if (this.mask !== null)
      throw new InvalidArgumentError(
        'INVALID_FRAME_FLAGS',
        'an encoded frame is unmasked: only a server may send one (RFC 6455 §5.1)',
      );
    if (this.sendingMessage)
      throw new InvalidStateError(
        'MESSAGE_IN_PROGRESS',
        'a fragmented message is being sent; finish it with sendContinuation(data, true)',
      );
    for (const buffer of frame) this.outgoing.push(buffer);
  }

  private sendDataFrame(
    opcode: number,
    data: string | BinaryData,
    fin: boolean,
    compress: boolean | undefined,
  ): void {
    this.assertCanSend();
    const continuation = opcode === FRAME_OP_CONT;
    if (continuation && !this.sendingMessage)
      throw new InvalidStateError('NO_MESSAGE_IN_PROGRESS', 'no fragmented message to continue');
    if (!continuation && this.sendingMessage)
      throw new InvalidStateError(
        'MESSAGE_IN_PROGRESS',
        'a fragmented message is being sent; finish it with sendContinuation(data, true)',
      );
    const text = continuation ? this.sendingText : opcode === FRAME_OP_TEXT;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    if (
      text &&
      this.policy.validateUtf8 &&
      !this.isValidTextFragment(payload, typeof data === 'string', !continuation, fin)
    )
      throw new InvalidArgumentError('INVALID_UTF8', 'text is not valid UTF-8 (RFC 6455 §8.1)');
    let flags = (fin ? FRAME_FLAG_FIN : 0) | opcode;
    let wire = payload;
    const deflate = this.deflate;
    let compressed = continuation && this.sendingCompressed;
    if (compressed) {
      wire = deflate!.compressFragment(payload, fin);
    } else if (
      !continuation &&
      deflate !== null &&
      deflate.canCompress &&
      (compress ?? deflate.wantsToCompress(payload.length))
    ) {
      const whole = fin ? deflate.compressMessage(payload) : deflate.compressFragment(payload, fin);
      if (whole !== null) {
        wire = whole;
        flags |= FRAME_FLAG_RSV1;
        compressed = true;
      }
    }
    this.sendingMessage = !fin;
    this.sendingText = text;
    this.sendingCompressed = compressed && !fin;
    this.queueFrame(flags, wire);
  }

  /**
   * Checks outgoing text. A string is valid UTF-8 once encoded, but a fragment may still end a
   * code point that earlier byte fragments started, so fragmented text is always checked.
   * A rejected fragment leaves the validator as it was: the caller may send a corrected one.
   */
  private isValidTextFragment(
    payload: Uint8Array,
    fromString: boolean,
    first: boolean,
    fin: boolean,
  ): boolean {
    if (first && fin) return fromString || isValidUtf8(payload);
    if (first) this.sendValidator.reset();
    return this.sendValidator.push(payload, fin);
  }

  private sendControl(opcode: number, data: string | BinaryData): void {
    this.assertCanSend();
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    if (payload.length > MAX_CONTROL_PAYLOAD)
      throw new InvalidArgumentError(
        'CONTROL_PAYLOAD_TOO_LONG',
        `control frame payload of ${payload.length} bytes; at most ${MAX_CONTROL_PAYLOAD} are allowed (RFC 6455 §5.5)`,
      );
    this.queueFrame(FRAME_FLAG_FIN | opcode, payload);
  }

  private assertCanSend(): void {
    if (this.readyState === ReadyState.CLOSED)
      throw new InvalidStateError('CONNECTION_CLOSED', 'the connection is closed');
    if (this.sentClose !== undefined)
      throw new InvalidStateError(
        'CLOSE_SENT',
        'a close frame was sent; nothing may follow it (RFC 6455 §5.5.1)',
      );
  }

  private queueClose(code: number | undefined, reason: string): void {
    const payload = encodeClosePayload(code, reason); // validates before any state changes
    this.sentClose = { code: code ?? CloseCode.NO_STATUS_RECEIVED, reason };
    this.queueFrame(FRAME_FLAG_FIN | FRAME_OP_CLOSE, payload);
  }

  private queueFrame(flags: number, payload: BinaryData): void {
    const buffers = encodeFrame(flags, payload, this.mask);
    for (const buffer of buffers) this.outgoing.push(buffer);
  }
}

const EMPTY = Buffer.alloc(0);
