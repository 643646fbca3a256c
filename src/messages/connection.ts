/**
 * A WebSocket connection at the message level: what most applications want instead of frames.
 *
 * ```ts
 * for await (const message of connection) {      // string for text, Buffer for binary
 *   await connection.send(message);              // resolves once the socket took it
 * }
 * ```
 * or with events: `connection.on('message', (data, isBinary) => ...)`, or one at a time:
 * `const message = await connection.receive()`.
 *
 * Strict by default (the protocol core's RFC_POLICY): every RFC 6455 rule is enforced on what
 * arrives, pings are answered, fragments are reassembled and text is validated as it arrives,
 * the closing handshake is run with a timeout and TCP is closed in the RFC's order (the server
 * first), and nothing invalid is ever sent.
 *
 * Delivery. Every message is delivered exactly once, in order, to the consumers of the moment:
 * the 'message' listeners if there are any, else the inbox that `for await` and `receive()`
 * read. Messages that arrive while nobody listens wait in the inbox (the bytes that came with
 * the handshake included), and go to the first 'message' listener attached, before newer ones.
 * Leaving `for await` early loses nothing.
 *
 * Backpressure both ways: `send()` resolves when the socket has taken the message, and waits (in
 * order) while the socket's buffer is full, up to `maxQueuedBytes`; messages nobody takes make
 * the socket stop reading once they hold `maxInboxBytes`.
 *
 * Nothing a peer does crashes the process: the promises of `send()`, `ping()`, `pong()` and
 * `close()` never become unhandled rejections when nobody awaits them (awaited, they reject as
 * usual), and an error thrown by a listener (or rejected by an async one) closes this
 * connection with 1011 and is reported (the server's 'handlerError', else this connection's
 * 'error', else a process warning), except a `ConnectionClosedError`: the normal end of a
 * handler whose peer went away.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Channel } from '../io/channel.js';
import { asyncDisposeSymbol } from '../io/disposal.js';
import { Inbox } from '../io/inbox.js';
import { isValidWireCloseCode } from '../protocol/close.js';
import { Connection, ReadyState, type ConnectionEvent, type Role } from '../protocol/connection.js';
import { CloseCode, MAX_CLOSE_REASON_BYTES } from '../protocol/constants.js';
import type { PerMessageDeflate } from '../protocol/deflate/codec.js';
import { ConnectionClosedError, InvalidArgumentError } from '../protocol/errors.js';
import { toBuffer, type BinaryData } from '../protocol/frame.js';
import type { PerMessageDeflateOption } from './compression.js';
import { SendQueueFullError, TimeoutError } from './errors.js';
import { Delivery, frameBytes, type Publication, type SlowSubscriberPolicy } from './fan-out.js';
import { TOPICS, checkTopic, type TopicRegistry } from './topics.js';
import { decodeUtf8, isText, textBytes } from './text.js';

/** A heartbeat: a ping every `interval` ms, each answered within `timeout` ms. */
export interface HeartbeatSettings {
  /** Milliseconds between pings. */
  readonly interval: number;
  /** Milliseconds a pong may take before the peer is taken for dead. */
  readonly timeout: number;
}

/**
 * The default heartbeat. Every RFC 6455 peer answers pings (browsers do it by themselves), so it
 * costs a live peer nothing but 6 + 14 bytes every 30 s, and it keeps the idle timers of
 * proxies and load balancers (often 60 s) from cutting a quiet connection. A dead peer is found
 * within a minute: python-websockets' choice (20 s and 20 s) stretched to the 30 s ws documents.
 */
export const DEFAULT_HEARTBEAT: HeartbeatSettings = { interval: 30_000, timeout: 30_000 };

/**
 * The settings of a {@link WebSocketConnection}, given to {@link connect} or to a
 * {@link WebSocketServer} (for each of its connections). Times are in milliseconds, sizes in bytes.
 */
export interface ConnectionSettings {
  /** Largest message accepted; a larger one fails the connection with 1009. Default 64 MiB. */
  readonly maxMessageSize?: number;
  /** How long the closing handshake may take before the TCP connection is dropped. Default 5 s. */
  readonly closeTimeout?: number;
  /**
   * Ping every `interval` ms; if no pong comes within `timeout` ms, the peer is taken for dead
   * and the connection is failed with 1011. On by default (30 s and 30 s): without it a peer
   * that vanished without a FIN (a cable pulled, a NAT entry expired) is kept forever. `false`
   * turns it off. While this side has stopped reading (its inbox is full), an overdue pong is not
   * held against the peer: it may be waiting unread.
   */
  readonly heartbeat?: HeartbeatSettings | false;
  /** Close (1001) a connection that received no byte for this many ms. Off by default. */
  readonly idleTimeout?: number;
  /** Bytes `send()` may queue while the socket is congested before it rejects. Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * Bytes of received messages that may wait to be taken (by a listener, `for await` or
   * `receive()`) before the socket stops reading. Default 1 MiB.
   */
  readonly maxInboxBytes?: number;
  /**
   * permessage-deflate (RFC 7692): `true` negotiates it with wsnet's defaults, `false` declines
   * it, an object changes some of the defaults (see `PerMessageDeflateOptions`). A client offers
   * it by default; a server accepts it only when this is set.
   */
  readonly perMessageDeflate?: PerMessageDeflateOption;
  /**
   * `true` (the default): a text message arrives as a string. `false`: as a `Buffer` of its
   * UTF-8, validated (invalid text still fails the connection with 1007) and never decoded,
   * which spares a large message its decoding, and the encoding when it is sent on. The
   * 'message' event's `isBinary` tells it from binary, and so does {@link isText} for `for
   * await` and `receive()`; `send()` sends such a message back as text.
   */
  readonly decodeText?: boolean;
}

/**
 * How a connection closed: what {@link WebSocketConnection.close} and
 * {@link WebSocketConnection.closed} resolve with.
 */
export interface CloseStatus {
  /**
   * The close code: the peer's (1005 when its close frame had none), the one this side failed the
   * connection with, or 1006 when TCP closed without a close frame.
   */
  readonly code: number;
  /** The close reason ('' for none). */
  readonly reason: string;
  /** True if both close frames were exchanged and TCP closed after them. */
  readonly wasClean: boolean;
}

/** What the handshake settled, for the connection to report. */
export interface HandshakeOutcome {
  /** The client's URL after redirects (user info left out); none on the server side. */
  readonly url?: string;
  readonly protocol: string;
  readonly extensions: string;
  /** Bytes read past the HTTP head: the first frames. */
  readonly head: Buffer;
  /** The permessage-deflate codec, if the handshake negotiated it. */
  readonly deflate?: PerMessageDeflate;
}

/** Options of one `send()`. */
export interface SendOptions {
  /**
   * Send bytes as text (`false`; they must be UTF-8) or a string as binary (`true`). By default
   * a string and a text message received as bytes ({@link isText}) go as text, other bytes as
   * binary: `send(data, { binary: isBinary })` from a 'message' listener echoes as ws does.
   */
  readonly binary?: boolean;
  /**
   * With permessage-deflate negotiated: `false` sends this message uncompressed, `true`
   * compresses it even below the threshold. By default messages of at least `threshold` bytes
   * are compressed. A message that compression would not make smaller goes uncompressed.
   */
  readonly compress?: boolean;
}

/** Options of one {@link WebSocketConnection.publish}: `send()`'s, and whether to include itself. */
export interface ConnectionPublishOptions extends SendOptions {
  /** Deliver the message to this connection too, if it subscribes to the topic. Default false. */
  readonly includeSelf?: boolean;
}

/**
 * A received message: a string for text, a `Buffer` for binary. With `decodeText: false`, text
 * is a `Buffer` too (its UTF-8), which {@link isText} tells from binary.
 */
export type Message = string | Buffer;

/**
 * @internal A handler of the application failed on this connection (the server's async
 * 'connection' listener rejected): handled as a failing listener of the connection's own.
 */
export const HANDLER_FAILED: unique symbol = Symbol('wsnet.handlerFailed');

/** @internal where a connection reports errors from the application's listeners. */
export interface ListenerErrorSink {
  listenerFailed(error: Error, connection: WebSocketConnection): void;
  /**
   * `connection` closed; called just before its 'close' event (a server stops tracking it). A
   * call, not a `once('close')` listener: that listener, its closure and once-wrapper were about
   * 300 bytes of each idle connection's heap (bench/README.md, issue 12).
   */
  connectionClosed?(connection: WebSocketConnection): void;
  /** The server's topics (a client has none). */
  readonly [TOPICS]?: TopicRegistry;
  /** The server's `publish()`. */
  publish?(
    topic: string,
    data: string | BinaryData,
    options?: SendOptions & { readonly exclude?: WebSocketConnection },
  ): number;
}

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT = 5000;
const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_INBOX_BYTES = 1024 * 1024;

/** What `send()`, `sendStream()` and `close()` put on the wire, waiting or not. */
type Outgoing =
  | {
      readonly op: 'text' | 'binary' | 'continuation';
      readonly data: string | Buffer;
      fin: boolean;
      readonly compress?: boolean;
    }
  /** `code` undefined: a close frame without a code (the peer reports 1005). */
  | { readonly op: 'close'; readonly code: number | undefined; readonly reason: string }
  /** A published message, encoded once already and shared with other connections. */
  | { readonly op: 'frame'; readonly frame: readonly Buffer[] };

/** A send waiting for the socket to drain. */
type QueuedSend = Outgoing & {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
};

interface PendingPing {
  readonly payload: Buffer;
  readonly sentAt: number;
  readonly resolve: (rtt: number) => void;
  readonly reject: (error: Error) => void;
}

/** A `receive()` or an iterator's `next()` waiting for a message. */
interface Receiver {
  readonly iteration: boolean;
  readonly resolve: (value: Message | IteratorResult<Message>) => void;
  readonly reject: (error: Error) => void;
}

/** The events of a {@link WebSocketConnection}, with their listeners' arguments. */
export interface WebSocketConnectionEvents {
  /**
   * A message arrived (a string for text, a `Buffer` for binary; with `decodeText: false` text is
   * a `Buffer` too, and `isBinary` tells them apart). Delivered exactly once, in order:
   * to the listeners if there are any, else to the inbox that `receive()` and `for await` read.
   */
  message: [data: Message, isBinary: boolean];
  /** A ping arrived (it is answered already). */
  ping: [data: Buffer];
  /** A pong arrived. */
  pong: [data: Buffer];
  /** The connection is CLOSED, with its close code and reason, and whether the close was clean. */
  close: [code: number, reason: string, wasClean: boolean];
  /**
   * What failed the connection (a {@link ProtocolError} from the peer, a {@link TimeoutError} of
   * the heartbeat, a socket error), or an error thrown by a listener. Optional: without a listener,
   * nothing is thrown.
   */
  error: [error: Error];
}

/**
 * Refuses settings that cannot mean anything (a negative or fractional byte count, a timeout
 * that is not a number of milliseconds), with the name of the setting: at configuration time,
 * not as a strange behaviour later.
 */
export function checkSettings(settings: ConnectionSettings): void {
  const heartbeat = checkHeartbeat(settings.heartbeat);
  const counts: Array<[string, number | undefined]> = [
    ['maxMessageSize', settings.maxMessageSize],
    ['maxQueuedBytes', settings.maxQueuedBytes],
    ['maxInboxBytes', settings.maxInboxBytes],
    ['closeTimeout', settings.closeTimeout],
    ['idleTimeout', settings.idleTimeout],
    ['heartbeat.interval', heartbeat?.interval],
    ['heartbeat.timeout', heartbeat?.timeout],
  ];
  for (const [name, value] of counts) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0))
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        `${name} must be a whole number >= 0, got ${String(value)}`,
      );
  }
  if (heartbeat !== undefined && (heartbeat.interval === 0 || heartbeat.timeout === 0))
    throw new InvalidArgumentError('INVALID_OPTION', 'heartbeat interval and timeout must be > 0');
  const decodeText: unknown = settings.decodeText;
  if (decodeText !== undefined && typeof decodeText !== 'boolean')
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `decodeText must be true or false, got ${typeName(decodeText)}`,
    );
}

/** The heartbeat a setting asks for (`undefined` and `false`: none to check), checked in shape. */
function checkHeartbeat(setting: unknown): HeartbeatSettings | undefined {
  if (setting === undefined || setting === false) return undefined;
  const { interval, timeout } = (setting ?? {}) as Partial<HeartbeatSettings>;
  if (typeof setting !== 'object' || interval === undefined || timeout === undefined)
    throw new InvalidArgumentError(
      'INVALID_OPTION',
      `heartbeat must be { interval, timeout } or false, got ${JSON.stringify(setting)}`,
    );
  return setting as HeartbeatSettings;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** The heartbeat's ping payload: none (its pong is told apart by nothing; any pong will do). */
const EMPTY_PING: Buffer = Buffer.alloc(0);

function ignore(): void {
  // a promise nobody awaits is still handled
}

/** A rejected promise that is not an unhandled rejection if nobody awaits it. */
function quietRejection<T>(error: unknown): Promise<T> {
  const promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  promise.catch(ignore);
  return promise;
}

/** Closes that end an iteration normally; any other ends it with a `ConnectionClosedError`. */
function isNormalClose(code: number): boolean {
  return (
    code === CloseCode.NORMAL_CLOSURE ||
    code === CloseCode.GOING_AWAY ||
    code === CloseCode.NO_STATUS_RECEIVED
  );
}

// A ChannelHandler, checked where the channel is made (`new Channel(…, this, …)`): not named in
// `implements`, which the published .d.ts would keep while its internal members are stripped.
/**
 * A WebSocket connection at the message level, both sides: made by {@link connect} (client) and by
 * a {@link WebSocketServer} (server). Strict (the protocol core's {@link RFC_POLICY}): every RFC
 * 6455 rule is enforced on what arrives, pings are answered, fragments are reassembled and text is
 * validated as it arrives, the closing handshake runs with a timeout, and nothing invalid is ever
 * sent.
 *
 * Messages come three ways: `for await (const message of connection)`, `await
 * connection.receive()`, or the `message` event. Every message is delivered exactly once, in order;
 * messages that arrive while nobody listens wait in the inbox (those that came with the handshake
 * included) and go to the first `message` listener attached. Backpressure works both ways: `send()`
 * resolves once the socket took the message and waits, in order, while it is congested (up to
 * `maxQueuedBytes`); messages nobody takes stop the socket reading once they hold `maxInboxBytes`.
 * Nothing a peer does crashes the process: promises nobody awaits never become unhandled
 * rejections.
 *
 * @example
 * ```ts
 * import { connect } from 'wsnet';
 *
 * const connection = await connect('ws://127.0.0.1:8080/chat', { protocols: ['chat.v1'] });
 * connection.on('close', (code, reason, wasClean) => console.log(code, reason, wasClean));
 * await connection.send(JSON.stringify({ hello: 'world' }));
 * const reply = await connection.receive(); // a string for text, a Buffer for binary
 * console.log(reply, `rtt ${await connection.ping()} ms`);
 * for await (const message of connection) {
 *   if (message === 'bye') break; // leaves the connection open; nothing is lost
 * }
 * const { code, wasClean } = await connection.close(1000, 'done');
 * console.log(code, wasClean);
 * ```
 */
export class WebSocketConnection
  extends EventEmitter<WebSocketConnectionEvents>
  implements AsyncIterable<Message>
{
  /** {@link ReadyState}'s `OPEN` (1): messages flow both ways. */
  static readonly OPEN = ReadyState.OPEN;
  /** {@link ReadyState}'s `CLOSING` (2): the closing handshake is under way. */
  static readonly CLOSING = ReadyState.CLOSING;
  /** {@link ReadyState}'s `CLOSED` (3): the connection is over. */
  static readonly CLOSED = ReadyState.CLOSED;

  /** `client` (made by {@link connect}) or `server` (made by a {@link WebSocketServer}). */
  readonly role: Role;
  /**
   * The URL the client connected to, after any redirects (`ws:`/`wss:`, without user info); ''
   * on the server side.
   */
  readonly url: string;
  /** The subprotocol the handshake selected ('' for none). */
  readonly protocol: string;
  /** The extensions in use ('' for none). */
  readonly extensions: string;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;

  readonly #core: Connection;
  readonly #channel: Channel<Duplex>;
  /** Messages waiting for a consumer; made when the first one has to wait. */
  #inbox: Inbox<Message> | null = null;
  readonly #maxInboxBytes: number;
  readonly #maxQueuedBytes: number;
  /** Text arrives as a string (true), or as its UTF-8 bytes, marked as text (false). */
  readonly #decodeText: boolean;
  readonly #sink: ListenerErrorSink | undefined;

  #closedStatus: CloseStatus | undefined;
  #closed: Promise<CloseStatus> | undefined;
  #resolveClosed: ((status: CloseStatus) => void) | undefined;
  /** What failed the connection besides the peer or the socket: a heartbeat that got no pong. */
  #failure: Error | undefined;

  // Lists made on first use: an idle connection holds none (memory per connection).
  #sendQueue: QueuedSend[] | null = null;
  #queuedBytes = 0;
  #waitingForDrain = false;
  #streaming: Promise<void> | null = null;

  #receiver: Receiver | null = null;
  #moreReceivers: Receiver[] | null = null;
  #deliveryScheduled = false;

  #pings: PendingPing[] | null = null;
  readonly #heartbeat: HeartbeatSettings | undefined;
  /**
   * The heartbeat queue this connection waits in (for its next beat, or for its pong), its
   * neighbours there and the queue's step it is due at: see "Heartbeat" below.
   */
  #heartbeatQueue: HeartbeatQueue | null = null;
  #heartbeatPrev: WebSocketConnection | null = null;
  #heartbeatNext: WebSocketConnection | null = null;
  #heartbeatDue = 0;
  /** The heartbeat's ping is out and no pong has come since. */
  #awaitingPong = false;

  /**
   * @internal made by the server or by `connect()` once the handshake succeeded. A factory in
   * front of a private constructor, so that the published declarations (where internal members
   * are stripped) show `private constructor()`, not a public one inherited from EventEmitter.
   */
  static create(
    socket: Duplex,
    role: Role,
    outcome: HandshakeOutcome,
    settings: ConnectionSettings = {},
    sink?: ListenerErrorSink,
  ): WebSocketConnection {
    return new WebSocketConnection(socket, role, outcome, settings, sink);
  }

  private constructor(
    socket: Duplex,
    role: Role,
    outcome: HandshakeOutcome,
    settings: ConnectionSettings,
    sink: ListenerErrorSink | undefined,
  ) {
    super({ captureRejections: true });
    this.role = role;
    this.url = outcome.url ?? '';
    this.protocol = outcome.protocol;
    this.extensions = outcome.extensions;
    const peer = socket as Partial<Socket>;
    this.remoteAddress = peer.remoteAddress ?? '';
    this.remotePort = peer.remotePort ?? 0;
    this.#sink = sink;
    this.#decodeText = settings.decodeText ?? true;
    this.#maxQueuedBytes = settings.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#heartbeat =
      settings.heartbeat === false ? undefined : (settings.heartbeat ?? DEFAULT_HEARTBEAT);
    const maxMessageSize = settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    // No frame can be larger than the largest message: the limit is checked on each header.
    // closeOnError off: on a violation the core stops reading, and the channel sends the close
    // frame a turn of the event loop later (deferFailureClose).
    this.#core = new Connection(role, {
      maxMessageSize,
      maxFrameSize: maxMessageSize,
      closeOnError: false,
      ...(outcome.deflate === undefined ? {} : { deflate: outcome.deflate }),
    });
    this.#channel = new Channel(socket, this.#core, this, {
      head: outcome.head,
      closeTimeout: settings.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
      idleTimeout: settings.idleTimeout ?? 0,
      deferFailureClose: true,
      // Inflating and compressing on the main thread: a turn of the event loop may not spend
      // more than its budget on the reads of compressed connections.
      budgeted: outcome.deflate !== undefined,
    });
    this.#maxInboxBytes = settings.maxInboxBytes ?? DEFAULT_MAX_INBOX_BYTES;
    (this as EventEmitter).on('newListener', WebSocketConnection.#onNewListener);
    peer.setNoDelay?.(true);
    // Messages that came with the handshake are parsed now and wait in the inbox until a
    // consumer is there: none is lost to a listener attached after `await connect()`.
    this.#channel.start();
    this.#scheduleHeartbeat();
  }

  /** OPEN, CLOSING or CLOSED (the WHATWG WebSocket's numbers). */
  get readyState(): ReadyState {
    return this.#closedStatus !== undefined ? ReadyState.CLOSED : this.#core.state;
  }

  /**
   * What failed the connection, once something has: a {@link ProtocolError} (what the peer sent
   * broke RFC 6455; the close code says which rule), a heartbeat's `TimeoutError`, or a socket
   * error. `undefined` while nothing has, and after a clean closing handshake. The `error` event
   * carries the same error when it happens; this is for code that attaches its listeners later
   * (the bytes that came with the handshake are parsed before `connect()` resolves).
   */
  get failure(): Error | undefined {
    return this.#failure ?? this.#core.failure ?? this.#channel.error;
  }

  /** Bytes accepted by `send()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#queuedBytes + this.#channel.socket.writableLength;
  }

  /**
   * Bytes this connection holds for permessage-deflate between messages (its LZ77 histories;
   * 0 without compression). No zlib state outlives a message.
   */
  get compressionMemory(): number {
    return this.#core.deflate?.memory ?? 0;
  }

  /** Resolves when the connection is CLOSED, with how it closed. Never rejects. */
  get closed(): Promise<CloseStatus> {
    if (this.#closedStatus !== undefined) return Promise.resolve(this.#closedStatus);
    this.#closed ??= new Promise((resolve) => (this.#resolveClosed = resolve));
    return this.#closed;
  }

  // --- Sending ---

  /**
   * Sends a message: a string as text, bytes as binary (or as text with `{ binary: false }`,
   * when they are UTF-8). A text message received as bytes (`decodeText: false`, see
   * {@link isText}) goes as text, as it came: an echo keeps each message's kind. Bytes are any typed array, `DataView`, `Buffer` or `ArrayBuffer`:
   * exactly the view's bytes are sent. Resolves when the socket has taken the message; while
   * the socket's buffer is full it waits, in order. Rejects with `ConnectionClosedError` once
   * the connection is closing, `SendQueueFullError` past `maxQueuedBytes`. `compress`: see
   * {@link SendOptions}.
   *
   * @throws {@link ConnectionClosedError} (a rejection, as every error here) once the connection is
   * closing or closed.
   * @throws {@link SendQueueFullError} when the message would make the queue exceed
   * `maxQueuedBytes`.
   * @throws {@link InvalidArgumentError} (`INVALID_UTF8`) for bytes sent as text that are not
   * UTF-8.
   */
  send(data: string | BinaryData, options?: SendOptions): Promise<void> {
    let payload: string | Buffer;
    try {
      payload = typeof data === 'string' ? data : toBuffer(data);
    } catch (error) {
      return quietRejection(error);
    }
    const binary = options?.binary ?? !isText(payload);
    const compress = options?.compress;
    // The usual case: nothing waits before this message, so it goes out now, without an object
    // to describe it (#enqueue's queue needs one) and with the one shared resolved promise.
    if (this.#streaming === null && this.#sendQueue === null && !this.#waitingForDrain)
      return this.#sendNow(binary, payload, compress);
    const message: Outgoing = {
      op: binary ? 'binary' : 'text',
      data: payload,
      fin: true,
      ...(compress === undefined ? {} : { compress }),
    };
    if (this.#streaming !== null) {
      // A fragmented message is being sent: this one goes after it.
      const after = this.#streaming.then(
        () => this.#enqueue(message),
        () => this.#enqueue(message),
      );
      after.catch(ignore);
      return after;
    }
    return this.#enqueue(message);
  }

  /**
   * Sends one message in fragments, as `source` yields them (a stream, a generator, an array):
   * each fragment goes out as it comes, with backpressure. Other `send()` calls wait for the
   * message to end. Text fragments may split a character; the whole must be UTF-8.
   *
   * @throws {@link ConnectionClosedError} once the connection is closing or closed.
   * @throws {@link InvalidArgumentError} (`INVALID_UTF8`) when text fragments are not UTF-8.
   * @throws whatever `source` throws; once a fragment is out, the connection is closed with 1011.
   */
  async sendStream(
    source: Iterable<string | BinaryData> | AsyncIterable<string | BinaryData>,
    options: SendOptions = {},
  ): Promise<void> {
    let release!: () => void;
    const previous = this.#streaming;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.#streaming = done;
    if (previous !== null) await previous.catch(ignore);
    let first = true;
    let binary = options.binary;
    try {
      let pending: string | Buffer | undefined;
      const emit = (fragment: string | Buffer, fin: boolean): Promise<void> => {
        if (!first) return this.#enqueue({ op: 'continuation', data: fragment, fin });
        first = false;
        binary ??= !isText(fragment);
        // The first fragment decides whether the whole message is compressed (RFC 7692 §6).
        return this.#enqueue({
          op: binary ? 'binary' : 'text',
          data: fragment,
          fin,
          ...(options.compress === undefined ? {} : { compress: options.compress }),
        });
      };
      // One fragment behind, so that the last one can carry FIN.
      for await (const fragment of source) {
        if (pending !== undefined) await emit(pending, false);
        pending = typeof fragment === 'string' ? fragment : toBuffer(fragment);
      }
      await emit(pending ?? Buffer.alloc(0), true);
    } catch (error) {
      // A message cannot be taken back once a fragment of it is out: the only way to keep the
      // peer from reading a truncated message as whole is to end the connection.
      if (!first && this.#canSend())
        void this.close(CloseCode.INTERNAL_ERROR, 'message stream failed');
      throw error;
    } finally {
      if (this.#streaming === done) this.#streaming = null;
      release();
    }
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when its pong arrives.
   * Without `data`, a random 8-byte payload tells the pongs apart. Goes out at once, ahead of
   * queued messages (control frames may go between messages, RFC 6455 §5.4).
   *
   * @throws {@link ConnectionClosedError} (a rejection) once the connection is closing or closed,
   * or when it closes before the pong.
   * @throws {@link InvalidArgumentError} (`CONTROL_PAYLOAD_TOO_LONG`) over 125 bytes.
   */
  ping(data?: string | BinaryData): Promise<number> {
    if (!this.#canSend()) return quietRejection(this.#closedError());
    let payload: Buffer;
    try {
      payload =
        data === undefined
          ? randomBytes(8)
          : Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data));
    } catch (error) {
      return quietRejection(error);
    }
    let ping!: PendingPing;
    const rtt = new Promise<number>((resolve, reject) => {
      ping = { payload, sentAt: performance.now(), resolve, reject };
    });
    rtt.catch(ignore);
    // Waiting before it is sent: over a fast path the pong can arrive during the write itself.
    (this.#pings ??= []).push(ping);
    try {
      this.#channel.sendPing(payload);
    } catch (error) {
      this.#pings.splice(this.#pings.indexOf(ping), 1);
      return quietRejection(error);
    }
    return rtt;
  }

  /**
   * Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3), at once.
   *
   * @throws {@link ConnectionClosedError} (a rejection) once the connection is closing or closed.
   * @throws {@link InvalidArgumentError} (`CONTROL_PAYLOAD_TOO_LONG`) over 125 bytes.
   */
  pong(data: string | BinaryData = Buffer.alloc(0)): Promise<void> {
    if (!this.#canSend()) return quietRejection(this.#closedError());
    try {
      this.#channel.sendPong(data);
    } catch (error) {
      return quietRejection(error);
    }
    return RESOLVED;
  }

  /**
   * Starts the closing handshake (after the messages already queued) and resolves when the
   * connection is CLOSED. If the peer does not answer within `closeTimeout`, TCP is dropped.
   * A code that may not be sent (1006, 1015...) or a reason over 123 bytes is refused. 1005
   * ("no status received") sends a close frame without a code, which the peer reports as 1005:
   * what a browser's `close()` without arguments sends.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_CLOSE_CODE`, a rejection) for a code that may
   * not be sent, a reason over 123 bytes, or 1005 with a reason.
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`, a rejection) for a reason that is not
   * a string.
   */
  close(code: number = CloseCode.NORMAL_CLOSURE, reason = ''): Promise<CloseStatus> {
    // Our close frame is out already (or the connection is closed): wait for the end.
    if (!this.#canSend()) return this.closed;
    // Checked, not trusted to the types: from JavaScript, bytes (e.g. a Uint16Array) would fail
    // only when the queued close is encoded, where the error has nobody to reach, and close()
    // would wait in vain (ws CVE-2026-45736's input).
    if (typeof reason !== 'string')
      return quietRejection(
        new InvalidArgumentError(
          'INVALID_OPTION',
          `close(code, reason): the reason must be a string, not ${typeName(reason)}`,
        ),
      );
    // 1005 is what the peer reports for a close frame without a code: asked for, that frame is
    // sent (what ws's close() without arguments, and a browser's, send).
    const withoutCode = code === CloseCode.NO_STATUS_RECEIVED;
    if (withoutCode && reason !== '')
      return quietRejection(
        new InvalidArgumentError(
          'INVALID_CLOSE_CODE',
          'close(1005, reason): a close frame without a code has no reason (RFC 6455 §5.5.1)',
        ),
      );
    if (
      !withoutCode &&
      (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES || !isValidWireCloseCode(code))
    )
      return quietRejection(
        new InvalidArgumentError('INVALID_CLOSE_CODE', `close(${code}, ...) cannot be sent`),
      );
    void this.#enqueue({ op: 'close', code: withoutCode ? undefined : code, reason });
    this.#channel.expectClose();
    return this.closed;
  }

  /** Drops the TCP connection at once, without a closing handshake (status 1006). */
  terminate(): void {
    this.#channel.terminate();
  }

  /**
   * `await using connection = await connect(url)`: when the block ends, the closing handshake
   * with 1000 (normal closure), waited for as `close()` does, so bounded by `closeTimeout`. On a
   * connection already closing or closed, it only waits for the end (or returns at once). Never
   * rejects. There is no `Symbol.dispose`: a close that cannot be waited for is `close()`
   * without `await`, written where it can be seen.
   */
  async [asyncDisposeSymbol](): Promise<void> {
    await this.close();
  }

  // --- Topics (server connections) ---

  /**
   * Subscribes this connection to `topic`: it gets what its server publishes there (see
   * {@link WebSocketServer.publish}) until it unsubscribes or closes (a closed connection leaves
   * every topic by itself). Returns true if it was not subscribed yet.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) for a topic that is not a string of 1
   * to 1024 characters, or on a connection made by `connect()` (topics are a server's).
   * @throws {@link ConnectionClosedError} once the connection is closed.
   */
  subscribe(topic: string): boolean {
    const registry = this.#topicRegistry();
    checkTopic(topic);
    if (this.#closedStatus !== undefined) throw this.#closedError();
    return registry.subscribe(this, topic);
  }

  /**
   * Unsubscribes this connection from `topic`; returns true if it was subscribed. A topic whose
   * last subscriber leaves is gone.
   *
   * @throws {@link InvalidArgumentError} (`INVALID_OPTION`) as {@link WebSocketConnection.subscribe}.
   */
  unsubscribe(topic: string): boolean {
    const registry = this.#topicRegistry();
    return registry.unsubscribe(this, checkTopic(topic));
  }

  /** The topics this connection subscribes to, in the order it subscribed (a copy). */
  get topics(): readonly string[] {
    return this.#sink?.[TOPICS]?.topicsOf(this) ?? [];
  }

  /**
   * Publishes a message to `topic` through this connection's server, as
   * {@link WebSocketServer.publish} does, leaving this connection out unless `includeSelf` (the
   * rule of uWebSockets.js). Works on a closing connection too (a goodbye to the others).
   * Returns how many connections of this server it was written or queued to.
   *
   * @throws {@link InvalidArgumentError} as {@link WebSocketServer.publish}, or on a connection
   * made by `connect()`.
   */
  publish(topic: string, data: string | BinaryData, options?: ConnectionPublishOptions): number {
    this.#topicRegistry();
    const { includeSelf, ...send } = options ?? {};
    return this.#sink!.publish!(
      topic,
      data,
      includeSelf === true ? send : { ...send, exclude: this },
    );
  }

  /** `close()` was called while sends waited: the close frame waits behind them (closing). */
  #closeQueued(): boolean {
    const queue = this.#sendQueue;
    return queue !== null && queue.length > 0 && queue[queue.length - 1].op === 'close';
  }

  #topicRegistry(): TopicRegistry {
    const registry = this.#sink?.[TOPICS];
    if (registry === undefined || this.#sink?.publish === undefined)
      throw new InvalidArgumentError(
        'INVALID_OPTION',
        "topics are a server's: this connection was not made by a WebSocketServer",
      );
    return registry;
  }

  /**
   * @internal Hands a published message to this connection under the server's slow-subscriber
   * policy (see fan-out.ts). Only an OPEN connection takes it. It goes out at once when nothing
   * of this connection waits; else it waits behind what does (a message being sent in
   * fragments, queued sends), within `maxQueuedBytes`: per-connection order is kept.
   */
  deliverPublished(publication: Publication, policy: SlowSubscriberPolicy): Delivery {
    if (
      this.#closedStatus !== undefined ||
      this.#core.state !== ReadyState.OPEN ||
      !this.#canSend() ||
      this.#closeQueued()
    )
      return Delivery.NOT_OPEN;
    // The shared frame, or (context takeover) the payload for this connection's own compressor.
    const frame = publication.frameFor(this.#core.deflate);
    const message: Outgoing =
      frame !== null
        ? { op: 'frame', frame }
        : {
            op: publication.binary ? 'binary' : 'text',
            data: publication.payload,
            fin: true,
            ...(publication.compress === undefined ? {} : { compress: publication.compress }),
          };
    const idle = this.#streaming === null && this.#sendQueue === null && !this.#waitingForDrain;
    if (idle && (policy !== 'skip' || !this.#channel.congested)) {
      // Several publishes in one turn reach this subscriber in one writev (measured with
      // `npm run bench -- fanout`: 4 publishes per turn to 1,000-10,000 subscribers took
      // 2.3-3.2x less server CPU per delivery than ws; one per turn, the same as without).
      this.#channel.batchWrites();
      try {
        if (!this.#perform(message)) this.#waitingForDrain = true;
      } catch {
        return Delivery.NOT_OPEN; // (the state was checked: nothing should come here)
      }
      return Delivery.SENT;
    }
    if (policy === 'skip') return Delivery.SKIPPED;
    const bytes = frame !== null ? frameBytes(frame) : publication.payload.length;
    if (this.#queuedBytes + bytes > this.#maxQueuedBytes) {
      if (policy === 'queue') return Delivery.SKIPPED;
      void this.close(CloseCode.POLICY_VIOLATION, 'slow subscriber: over maxQueuedBytes');
      return Delivery.CLOSED;
    }
    this.#queuedBytes += bytes;
    const queued: QueuedSend = { ...message, bytes, resolve: ignore, reject: ignore };
    const streaming = this.#streaming;
    if (streaming === null) {
      (this.#sendQueue ??= []).push(queued);
      return Delivery.SENT;
    }
    // A message is being sent in fragments: nothing may go between them (RFC 6455 §5.4), so
    // this one waits for its end, as send() does, its bytes counted meanwhile.
    const after = () => {
      if (this.#closedStatus !== undefined) return; // the close dropped the count already
      const next = this.#streaming;
      if (next !== null) {
        next.then(after, after); // another fragmented message started: after it too
        return;
      }
      if (this.#sendQueue !== null || this.#waitingForDrain) {
        (this.#sendQueue ??= []).push(queued); // the drain runs the queue
        return;
      }
      this.#queuedBytes -= bytes;
      try {
        if (!this.#perform(message)) this.#waitingForDrain = true;
      } catch {
        // closing meanwhile: nothing to deliver to
      }
    };
    streaming.then(after, after);
    return Delivery.SENT;
  }

  // --- Receiving ---

  /**
   * The next message (string for text, Buffer for binary; with `decodeText: false` text is a
   * Buffer too, which {@link isText} tells from binary). Rejects with `ConnectionClosedError`
   * (with the close's code, reason and `wasClean`) once the connection is closed and every
   * message that arrived has been taken.
   *
   * @throws {@link ConnectionClosedError} (a rejection) once the connection is closed and every
   * message was taken.
   */
  receive(): Promise<Message> {
    const message = this.#inbox?.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.#closedStatus !== undefined) return Promise.reject(this.#closedError());
    return new Promise<Message | IteratorResult<Message>>((resolve, reject) => {
      this.#waitForMessage({ iteration: false, resolve, reject });
    }) as Promise<Message>;
  }

  /**
   * Iterates over the messages until the connection closes: normally (1000, 1001, 1005) the
   * loop ends; otherwise it throws the `ConnectionClosedError`. Leaving the loop early leaves
   * the connection open and the messages not yet taken in the inbox.
   *
   * @throws {@link ConnectionClosedError} from the loop when the connection closed with a code
   * other than 1000, 1001 or 1005.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.#next(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }

  #next(): Promise<IteratorResult<Message>> {
    const message = this.#inbox?.shift();
    if (message !== undefined) return Promise.resolve({ done: false, value: message });
    if (this.#closedStatus !== undefined) return this.#endOfIteration();
    return new Promise<Message | IteratorResult<Message>>((resolve, reject) => {
      this.#waitForMessage({ iteration: true, resolve, reject });
    }) as Promise<IteratorResult<Message>>;
  }

  #endOfIteration(): Promise<IteratorResult<Message>> {
    if (isNormalClose(this.#closedStatus!.code))
      return Promise.resolve({ done: true, value: undefined });
    return Promise.reject(this.#closedError());
  }

  // --- Channel events ---

  /** @internal ChannelHandler */
  onChannelEvents(events: ConnectionEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'message':
          this.#onMessage(
            event.binary
              ? event.data
              : this.#decodeText
                ? decodeUtf8(event.data)
                : textBytes(event.data),
            event.binary,
            event.data.length,
          );
          break;
        case 'ping':
          this.#emitSafely('ping', event.data);
          break;
        case 'pong':
          this.#heartbeatAnswered();
          this.#settlePings(event.data);
          this.#emitSafely('pong', event.data);
          break;
        case 'failure':
          if (this.listenerCount('error') > 0) this.#emitSafely('error', event.error);
          break;
        case 'close':
        case 'frame':
          break;
      }
    }
  }

  /** @internal ChannelHandler */
  onChannelDrain(): void {
    if (!this.#waitingForDrain) return;
    this.#waitingForDrain = false;
    // The sends that waited go out together, in one writev, not in a write each.
    if ((this.#sendQueue?.length ?? 0) > 1) this.#channel.batchWrites();
    this.#runQueue();
  }

  /** @internal ChannelHandler */
  onChannelIdle(): void {
    if (this.readyState === ReadyState.OPEN) void this.close(CloseCode.GOING_AWAY, 'idle timeout');
  }

  /** @internal ChannelHandler */
  onChannelClosed(): void {
    const status = this.#core.closeStatus;
    this.#closedStatus = status;
    WebSocketConnection.#leaveHeartbeat(this);
    // Made only if something waits for it: an Error captures a stack trace, a few µs that
    // most closes (nothing queued, no ping, no receiver) need not pay.
    let error: ConnectionClosedError | undefined;
    const closedError = () => (error ??= this.#closedError());
    for (const queued of this.#sendQueue ?? []) queued.reject(closedError());
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    for (const ping of this.#pings ?? []) ping.reject(closedError());
    this.#pings = null;
    const receivers = this.#takeReceivers();
    for (const receiver of receivers) {
      if (!receiver.iteration) receiver.reject(closedError());
      else this.#endOfIteration().then(receiver.resolve, receiver.reject);
    }
    this.#resolveClosed?.(status);
    this.#sink?.connectionClosed?.(this);
    this.#emitSafely('close', status.code, status.reason, status.wasClean);
  }

  /** @internal EventEmitter's `captureRejections`: an async listener rejected. */
  override [EventEmitter.captureRejectionSymbol](error: unknown, ..._event: unknown[]): void {
    this.#listenerFailed(error);
  }

  /** @internal see {@link HANDLER_FAILED}. */
  [HANDLER_FAILED](error: unknown): void {
    this.#listenerFailed(error);
  }

  // --- Delivery ---

  #onMessage(message: Message, binary: boolean, size: number): void {
    const inbox = this.#inbox;
    if (inbox === null || inbox.length === 0) {
      // The hot path: one emit, which says whether anyone listened (no rest-argument array).
      let listened: boolean;
      try {
        listened = this.emit('message', message, binary);
      } catch (error) {
        this.#listenerFailed(error);
        return;
      }
      if (listened) return;
      const receiver = this.#nextReceiver();
      if (receiver !== undefined) {
        receiver.resolve(receiver.iteration ? { done: false, value: message } : message);
        return;
      }
    }
    (this.#inbox ??= new Inbox(this.#channel, this.#maxInboxBytes)).push(message, size);
    if (this.listenerCount('message') > 0) this.#scheduleDelivery();
  }

  // One receiver waits at a time in the usual case (a `for await` loop): it has a field of its
  // own, and only further ones a list.
  #waitForMessage(receiver: Receiver): void {
    if (this.#receiver === null) this.#receiver = receiver;
    else (this.#moreReceivers ??= []).push(receiver);
  }

  #nextReceiver(): Receiver | undefined {
    const receiver = this.#receiver;
    if (receiver === null) return undefined;
    this.#receiver = this.#moreReceivers?.shift() ?? null;
    return receiver;
  }

  #takeReceivers(): Receiver[] {
    const receivers =
      this.#receiver === null ? [] : [this.#receiver, ...(this.#moreReceivers ?? [])];
    this.#receiver = null;
    this.#moreReceivers = null;
    return receivers;
  }

  /** A 'message' listener is being attached: what waits in the inbox is its, oldest first. */
  static #onNewListener(this: WebSocketConnection, event: string | symbol): void {
    if (event === 'message' && (this.#inbox?.length ?? 0) > 0) this.#scheduleDelivery();
  }

  /** Delivers the inbox to the listeners in a microtask: after `on()` has attached them. */
  #scheduleDelivery(): void {
    if (this.#deliveryScheduled) return;
    this.#deliveryScheduled = true;
    queueMicrotask(() => {
      this.#deliveryScheduled = false;
      const inbox = this.#inbox;
      while (inbox !== null && inbox.length > 0 && this.listenerCount('message') > 0) {
        const message = inbox.shift()!;
        this.#emitSafely('message', message, !isText(message));
      }
    });
  }

  /** Emits an event; a listener that throws is the application's error, handled as one. */
  #emitSafely<K extends keyof WebSocketConnectionEvents>(
    event: K,
    ...args: WebSocketConnectionEvents[K]
  ): void {
    try {
      (this.emit as (event: K, ...args: WebSocketConnectionEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#listenerFailed(error);
    }
  }

  /**
   * A listener of the application failed. A `ConnectionClosedError` is how a handler learns
   * that its peer went away: the normal end of the handler. Anything else is a bug of the
   * application's: the connection is closed with 1011 (it cannot know what the handler left
   * undone), and the error is reported where the application can see it, never thrown.
   */
  #listenerFailed(thrown: unknown): void {
    if (thrown instanceof ConnectionClosedError) return;
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    if (this.#canSend()) void this.close(CloseCode.INTERNAL_ERROR);
    if (this.#sink !== undefined) {
      this.#sink.listenerFailed(error, this);
      return;
    }
    reportUnhandled(error, this);
  }

  // --- Sending internals ---

  /** `send()` with nothing queued before it: as `#enqueue` + `#perform` of one message. */
  #sendNow(
    binary: boolean,
    payload: string | Buffer,
    compress: boolean | undefined,
  ): Promise<void> {
    if (!this.#canSend()) return quietRejection(this.#closedError());
    try {
      if (!this.#sendData(binary, payload, true, compress)) this.#waitingForDrain = true;
    } catch (error) {
      return quietRejection(error);
    }
    return RESOLVED;
  }

  /** Sends now, or after what is queued; rejects at once if it may not be sent. */
  #enqueue(message: Outgoing): Promise<void> {
    if (!this.#canSend()) return quietRejection(this.#closedError());
    if (this.#sendQueue === null && !this.#waitingForDrain) {
      try {
        if (!this.#perform(message)) this.#waitingForDrain = true;
      } catch (error) {
        return quietRejection(error);
      }
      return RESOLVED;
    }
    const bytes =
      message.op === 'close'
        ? 0
        : message.op === 'frame'
          ? frameBytes(message.frame)
          : typeof message.data === 'string'
            ? Buffer.byteLength(message.data)
            : message.data.length;
    if (bytes > 0 && this.#queuedBytes + bytes > this.#maxQueuedBytes)
      return quietRejection(
        new SendQueueFullError(this.#queuedBytes + bytes, this.#maxQueuedBytes),
      );
    const sent = new Promise<void>((resolve, reject) => {
      (this.#sendQueue ??= []).push({ ...message, bytes, resolve, reject });
    });
    this.#queuedBytes += bytes;
    sent.catch(ignore);
    return sent;
  }

  /** Puts one message (or the close) on the wire; false if the socket is now congested. */
  /** A message's first (or only) frame to the channel; false when the socket is congested. */
  #sendData(
    binary: boolean,
    data: string | Buffer,
    fin: boolean,
    compress: boolean | undefined,
  ): boolean {
    const channel = this.#channel;
    return binary
      ? channel.sendBinary(
          typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
          fin,
          compress,
        )
      : channel.sendText(data, fin, compress);
  }

  #perform(message: Outgoing): boolean {
    const channel = this.#channel;
    switch (message.op) {
      case 'text':
      case 'binary':
        return this.#sendData(message.op === 'binary', message.data, message.fin, message.compress);
      case 'continuation':
        return channel.sendContinuation(message.data, message.fin);
      case 'frame':
        return channel.sendEncoded(message.frame);
      case 'close':
        if (this.#core.closeSent !== undefined || this.#core.state === ReadyState.CLOSED)
          return true;
        return channel.sendClose(message.code, message.reason);
    }
  }

  #runQueue(): void {
    const queue = this.#sendQueue;
    // (If the connection closes meanwhile, onChannelClosed has rejected the queue and dropped it.)
    while (queue !== null && this.#sendQueue === queue) {
      const next = queue.shift();
      if (next === undefined) {
        this.#sendQueue = null; // empty: sends go straight out again
        return;
      }
      this.#queuedBytes -= next.bytes;
      let writable = true;
      try {
        writable = this.#perform(next);
        next.resolve();
      } catch (error) {
        next.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (!writable) {
        this.#waitingForDrain = true;
        return;
      }
    }
  }

  /** False once our close frame is out or the connection is closed: nothing may be sent. */
  #canSend(): boolean {
    return (
      this.#closedStatus === undefined &&
      this.#core.closeSent === undefined &&
      this.#core.state !== ReadyState.CLOSED
    );
  }

  #closedError(): ConnectionClosedError {
    const status = this.#closedStatus ?? this.#core.closeStatus;
    return new ConnectionClosedError(status.code, status.reason, status.wasClean, {
      cause: this.failure,
    });
  }

  #settlePings(data: Buffer): void {
    // RFC 6455 §5.5.3: a pong answers the ping with the same data, and the ones before it.
    const pings = this.#pings;
    const index = pings === null ? -1 : pings.findIndex((ping) => ping.payload.equals(data));
    if (index === -1) return;
    const now = performance.now();
    const answered = pings!.splice(0, index + 1);
    if (pings!.length === 0) this.#pings = null;
    for (const ping of answered) ping.resolve(now - ping.sentAt);
  }

  // --- Heartbeat ---
  //
  // It runs on every connection by default, so a beat allocates nothing: an empty ping, and a
  // flag any pong clears (any pong proves the peer alive, RFC 6455 §5.5.3). A ping() promise per
  // beat, its closures and a random payload, all alive until the pong, cost several KiB of RSS
  // per idle connection (bench/README.md, hold).
  //
  // No timer per connection either: a Node Timeout with its argument array and boxed numbers is
  // about 200 bytes, a third of what wsnet's heap held per idle connection beyond ws's (whose
  // README pings every connection from one interval; bench/README.md, issue 12). A connection
  // waits for one thing at a time, its next beat (an interval) or its pong (a timeout), so it
  // waits in the one HeartbeatQueue of that duration: a list in the order the connections are
  // due (all wait as long, so joining at the tail keeps the order), under one repeating timer
  // that steps every 1/32 of the duration. Each step, the connections due are taken from the head:
  // a pong still awaited is overdue, else it is time for a beat. A wait never ends early; one
  // that starts between two steps ends up to a step (3 %) late.

  #scheduleHeartbeat(): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined || this.#closedStatus !== undefined) return;
    WebSocketConnection.#waitHeartbeat(this, heartbeat.interval);
  }

  /** Puts `connection` at the tail of the queue for `duration` (out of the one it was in). */
  static #waitHeartbeat(connection: WebSocketConnection, duration: number): void {
    WebSocketConnection.#leaveHeartbeat(connection);
    let queue = heartbeatQueues.get(duration);
    if (queue === undefined) {
      queue = new HeartbeatQueue(duration);
      heartbeatQueues.set(duration, queue);
    }
    // The queue's timer starting now, or stepping now: this wait starts on a step, so it ends
    // after exactly its steps; else up to a step later, never sooner.
    let due = queue.step + queue.steps;
    if (queue.timer === undefined) {
      queue.timer = setInterval(WebSocketConnection.#stepHeartbeats, queue.stepMs, queue);
    } else if (!queue.stepping) due++;
    connection.#heartbeatDue = due;
    connection.#heartbeatQueue = queue;
    const tail = queue.tail as WebSocketConnection | null;
    connection.#heartbeatPrev = tail;
    if (tail === null) queue.head = connection;
    else tail.#heartbeatNext = connection;
    queue.tail = connection;
  }

  /** Takes `connection` out of its heartbeat queue, if it is in one; an empty queue stops. */
  static #leaveHeartbeat(connection: WebSocketConnection): void {
    const queue = connection.#heartbeatQueue;
    if (queue === null) return;
    const prev = connection.#heartbeatPrev;
    const next = connection.#heartbeatNext;
    if (prev === null) queue.head = next;
    else prev.#heartbeatNext = next;
    if (next === null) queue.tail = prev;
    else next.#heartbeatPrev = prev;
    connection.#heartbeatQueue = null;
    connection.#heartbeatPrev = null;
    connection.#heartbeatNext = null;
    if (queue.head === null && !queue.stepping) {
      clearInterval(queue.timer);
      queue.timer = undefined;
    }
  }

  /** A step of a queue's timer: each connection due is overdue for its pong, or due a beat. */
  static #stepHeartbeats(queue: HeartbeatQueue): void {
    queue.step++;
    queue.stepping = true;
    try {
      for (;;) {
        const connection = queue.head as WebSocketConnection | null;
        if (connection === null || connection.#heartbeatDue > queue.step) break;
        WebSocketConnection.#leaveHeartbeat(connection);
        if (connection.#awaitingPong) WebSocketConnection.#pongOverdue(connection);
        else WebSocketConnection.#beat(connection);
      }
    } finally {
      queue.stepping = false;
      if (queue.head === null) {
        clearInterval(queue.timer);
        queue.timer = undefined;
      }
    }
  }

  static #beat(connection: WebSocketConnection): void {
    if (connection.readyState !== ReadyState.OPEN) return;
    // Watching before it is sent: over a fast path the pong can arrive during the write itself.
    connection.#awaitingPong = true;
    WebSocketConnection.#waitHeartbeat(connection, connection.#heartbeat!.timeout);
    try {
      connection.#channel.sendPing(EMPTY_PING);
    } catch {
      connection.#awaitingPong = false; // closing meanwhile: nothing to watch
      WebSocketConnection.#leaveHeartbeat(connection);
    }
  }

  /** A pong arrived: the peer is alive; the next beat is an interval from now. */
  #heartbeatAnswered(): void {
    if (!this.#awaitingPong) return;
    this.#awaitingPong = false;
    this.#scheduleHeartbeat();
  }

  static #pongOverdue(connection: WebSocketConnection): void {
    if (connection.readyState !== ReadyState.OPEN) return;
    if (connection.#channel.readingPaused) {
      // This side stopped reading (its inbox is full): the pong may be waiting unread behind
      // what the application has not taken. No verdict on the peer until reading resumes: it
      // looks again a timeout later.
      WebSocketConnection.#waitHeartbeat(connection, connection.#heartbeat!.timeout);
      return;
    }
    // No pong: the peer (or the path to it) is dead. Fail with 1011, then drop TCP.
    connection.#failure = new TimeoutError('ping', connection.#heartbeat!.timeout);
    connection.#channel.fail(CloseCode.INTERNAL_ERROR, 'keepalive ping timeout');
  }
}

/**
 * The connections waiting on one heartbeat duration (beats every `interval`, or pongs due within
 * `timeout`), in the order they are due, under one repeating timer that steps every 1/32 of it (1
 * ms at least). The links live in the connections themselves (no node object per connection).
 */
class HeartbeatQueue {
  readonly stepMs: number;
  /** Steps from one that a wait starts on to the one it is due at. */
  readonly steps: number;
  /** Steps taken so far. */
  step = 0;
  /** Inside a step: a wait that starts now starts on one. */
  stepping = false;
  timer: NodeJS.Timeout | undefined;
  head: object | null = null;
  tail: object | null = null;

  constructor(duration: number) {
    this.stepMs = Math.max(1, duration / 32);
    this.steps = Math.ceil(duration / this.stepMs);
  }
}

/** One queue per heartbeat duration in use (a server's connections all share one or two). */
const heartbeatQueues = new Map<number, HeartbeatQueue>();

/**
 * @internal Reports an application error on the connection's 'error' event, else as a process
 * warning: never as an exception.
 */
export function reportUnhandled(error: Error, connection: WebSocketConnection): void {
  if (connection.listenerCount('error') > 0) {
    try {
      connection.emit('error', error);
      return;
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : error;
    }
  }
  process.emitWarning(error);
}

/** What a wrong argument is, for an error message: `Uint16Array`, `number`, `null`... */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
