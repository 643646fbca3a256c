/**
 * The harness of the RFC 6455 conformance tests (test/conformance/): each case is a script of
 * frames to put on the wire and frames that must come back, run against both roles of the
 * message API:
 * - server: a `WebSocketServer` that echoes every message, driven by a byte-level client;
 * - client: a `connect()`ed connection that echoes every message, driven by a byte-level server.
 * The peer masks or not as its role requires (§5.1), checks that the endpoint does, and, after
 * the script, checks the closing handshake: the close frame, nothing after it (§5.5.1), who
 * closes TCP (§7.1.1), and the close status and iteration outcome the application sees.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, afterEach, describe, it } from 'node:test';
import {
  ConnectionClosedError,
  WebSocketServer,
  connect,
  type CloseStatus,
  type WebSocketConnection,
} from '../../src/index.js';
import { startFrameServer, type FrameServer } from './frame-server.js';
import { RawClient } from './raw-client.js';
import {
  OP_BINARY,
  OP_CLOSE,
  OP_PONG,
  OP_TEXT,
  FIN,
  assertBytes,
  close,
  closePayload,
  encode,
  readFrame,
  writeAndWait,
  writeChopped,
  type OutFrame,
} from './wire.js';
import { toHex } from './bytes.js';
import { within } from './wait.js';

export { within };

export type Role = 'server' | 'client';

/** How long an endpoint may take to close TCP after the closing handshake (its closeTimeout is longer). */
export const FIN_WAIT_MS = 2000;
/** The endpoints' close timeout: far longer than {@link FIN_WAIT_MS}, so a timer cannot pass for the handshake. */
const CLOSE_TIMEOUT_MS = 10_000;

export interface EndpointSettings {
  readonly maxMessageSize?: number;
  readonly closeTimeout?: number;
}

/** One connection under test and the byte-level peer at its other end. */
export interface Endpoint {
  readonly role: Role;
  readonly peer: RawClient;
  readonly connection: WebSocketConnection;
  /** How the application's echo loop ended: 'done', or what it threw. */
  readonly echoed: Promise<unknown>;
}

export interface Harness {
  readonly role: Role;
  open(settings?: EndpointSettings): Promise<Endpoint>;
}

// --- Steps ---

export type Step =
  | {
      readonly kind: 'send';
      readonly frames: readonly OutFrame[];
      /**
       * One write, one write per frame, writes of this many octets, or (one frame) its header and
       * the first `keep` octets of its payload, the rest never sent.
       */
      readonly mode: 'whole' | 'each' | number | { readonly keep: number };
      readonly wrongMask: boolean;
    }
  | { readonly kind: 'expect'; readonly frame: OutFrame; readonly timeoutMs: number | undefined }
  | {
      readonly kind: 'close';
      readonly payload: Buffer;
      /** 'reply': answers the peer's close; 'fail': the endpoint fails the connection (§7.1.7). */
      readonly ending: 'reply' | 'fail';
    };

/** Sends the frames in one write. */
export const send = (...frames: OutFrame[]): Step => ({
  kind: 'send',
  frames,
  mode: 'whole',
  wrongMask: false,
});
/** Sends each frame in its own write (its own TCP segment). */
export const sendEach = (...frames: OutFrame[]): Step => ({
  kind: 'send',
  frames,
  mode: 'each',
  wrongMask: false,
});
/** Sends the frames' octets in writes of `size` octets. */
export const sendChopped = (size: number, ...frames: OutFrame[]): Step => ({
  kind: 'send',
  frames,
  mode: size,
  wrongMask: false,
});
/**
 * Sends a frame's header and the first `keep` octets of its payload (masked, if the peer masks):
 * the rest never follows.
 */
export const sendTruncated = (frame: OutFrame, keep = 0): Step => ({
  kind: 'send',
  frames: [frame],
  mode: { keep },
  wrongMask: false,
});
/** Sends the frames masked if the peer is a server, unmasked if it is a client: wrong (§5.1). */
export const sendWrongMask = (...frames: OutFrame[]): Step => ({
  kind: 'send',
  frames,
  mode: 'whole',
  wrongMask: true,
});
/** The endpoint sends exactly this frame next. */
export const expectFrame = (frame: OutFrame, timeoutMs?: number): Step => ({
  kind: 'expect',
  frame,
  timeoutMs,
});
export const expectText = (payload: string | Uint8Array, timeoutMs?: number): Step =>
  expectFrame({ flags: FIN | OP_TEXT, payload: Buffer.from(payload) }, timeoutMs);
export const expectBinary = (payload: string | Uint8Array, timeoutMs?: number): Step =>
  expectFrame({ flags: FIN | OP_BINARY, payload: Buffer.from(payload) }, timeoutMs);
export const expectPong = (payload: string | Uint8Array = ''): Step =>
  expectFrame({ flags: FIN | OP_PONG, payload: Buffer.from(payload) });
/** A whole message and its echo, in one frame. */
export const echo = (frame: OutFrame): Step[] => [send(frame), expectFrame(frame)];
/** The endpoint fails the connection: a close frame with `code` and no reason, then nothing. */
export const expectFail = (code: number): Step => ({
  kind: 'close',
  payload: closePayload(code),
  ending: 'fail',
});
/** The endpoint answers the peer's close frame with this code (none: an empty close frame). */
export const expectCloseReply = (code?: number): Step => ({
  kind: 'close',
  payload: closePayload(code),
  ending: 'reply',
});

export interface Case {
  readonly id: string;
  /** What is tested, with the RFC 6455 section that requires it. */
  readonly title: string;
  readonly steps: readonly Step[];
  readonly settings?: EndpointSettings;
  /** For the large cases. */
  readonly timeoutMs?: number;
}

// --- Running ---

/** What the application is told when the connection is closed. */
function expectedStatus(ending: Ending, peerClose: Buffer | undefined): CloseStatus {
  // The side that fails the connection ignores what follows (§7.1.7), the peer's close reply
  // included; it reports the code it failed with, not clean.
  if (ending.kind === 'fail')
    return { code: ending.payload.readUInt16BE(0), reason: '', wasClean: false };
  if (peerClose === undefined || peerClose.length === 0)
    return { code: 1005, reason: '', wasClean: true };
  return {
    code: peerClose.readUInt16BE(0),
    reason: peerClose.subarray(2).toString('utf8'),
    wasClean: true,
  };
}

interface Ending {
  /** 'reply': the endpoint answered the peer's close; 'fail': it failed the connection. */
  readonly kind: 'reply' | 'fail';
  /** The endpoint's close frame's payload. */
  readonly payload: Buffer;
}

/** Runs a case's steps, then checks the closing handshake and what the application saw. */
export async function runCase(endpoint: Endpoint, steps: readonly Step[]): Promise<void> {
  const { role, peer } = endpoint;
  const peerMasks = role === 'server'; // the peer is a client
  let peerClose: Buffer | undefined; // the first close frame the peer sent
  let ending: Ending | undefined;
  for (const [index, step] of steps.entries()) {
    assert.equal(ending, undefined, 'a close step is the last step of a case');
    if (step.kind === 'send') {
      const masked = step.wrongMask ? !peerMasks : peerMasks;
      const octets = step.frames.map((frame) => encode(frame, masked));
      for (const frame of step.frames)
        if ((frame.flags & 0x0f) === OP_CLOSE) peerClose ??= frame.payload;
      if (step.mode === 'whole') peer.write(Buffer.concat(octets));
      else if (step.mode === 'each') for (const o of octets) await writeAndWait(peer, o);
      else if (typeof step.mode === 'number')
        await writeChopped(peer, Buffer.concat(octets), step.mode);
      else
        peer.write(
          octets[0].subarray(0, octets[0].length - step.frames[0].payload.length + step.mode.keep),
        );
      continue;
    }
    const received = await readFrame(peer, step.kind === 'expect' ? step.timeoutMs : undefined);
    const where = `step ${index + 1}`;
    assert.equal(
      received.masked,
      role === 'client',
      `${where}: ${role === 'client' ? 'a client masks every frame (§5.3)' : 'a server masks no frame (§5.1)'}`,
    );
    const expected =
      step.kind === 'expect' ? step.frame : { flags: FIN | OP_CLOSE, payload: step.payload };
    assert.equal(
      received.flags.toString(16),
      expected.flags.toString(16),
      `${where}: first octet (FIN, RSV, opcode); payload ${toHex(received.payload.subarray(0, 32))}`,
    );
    assertBytes(received.payload, expected.payload, `${where}: payload`);
    if (step.kind === 'close') ending = { kind: step.ending, payload: step.payload };
  }

  if (ending === undefined) {
    // The endpoint must still be healthy, with nothing left to send: a normal closing handshake.
    const normal = close(1000);
    peer.write(encode(normal, peerMasks));
    peerClose ??= normal.payload;
    const received = await readFrame(peer);
    assert.equal(
      received.flags.toString(16),
      (FIN | OP_CLOSE).toString(16),
      `the close reply, not a frame with ${toHex(received.payload.subarray(0, 32))}`,
    );
    assertBytes(received.payload, closePayload(1000), 'close reply');
    ending = { kind: 'reply', payload: received.payload };
  }

  // The endpoint's close frame is out. The peer answers it if it has not sent its own.
  const answer =
    peerClose === undefined ? encode(close(ending.payload.readUInt16BE(0)), peerMasks) : null;
  if (role === 'server') {
    // §7.1.1: the server closes TCP first, as soon as the closing handshake is done (or at once
    // after failing the connection, §7.1.7), and nothing follows its close frame (§5.5.1).
    const rest = await peer.readToEnd(FIN_WAIT_MS);
    assert.equal(toHex(rest), '', 'nothing after the close frame, then the server closes TCP');
    if (answer !== null) peer.write(answer);
    peer.end();
  } else {
    // §7.1.1: the client waits for the server to close TCP (tested on its own in 7-close).
    if (answer !== null) peer.write(answer);
    peer.end();
    const rest = await peer.readToEnd(FIN_WAIT_MS);
    assert.equal(toHex(rest), '', 'nothing after the close frame, then the client closes TCP');
  }
  await peer.closed();

  const status = await within(endpoint.connection.closed, FIN_WAIT_MS, 'the connection to close');
  const wanted = expectedStatus(ending, peerClose);
  assert.deepEqual({ ...status }, wanted, 'the close status the application sees');
  const outcome = await within(endpoint.echoed, FIN_WAIT_MS, 'the echo loop to end');
  if (wanted.code === 1000 || wanted.code === 1001 || wanted.code === 1005) {
    assert.equal(outcome, 'done', 'a normal close (1000, 1001, none) ends `for await`');
  } else {
    assert.ok(outcome instanceof ConnectionClosedError, `for await throws, not ${String(outcome)}`);
    assert.equal(outcome.code, wanted.code, 'ConnectionClosedError.code');
  }
}

/** The application under test: `for await (const m of connection) await connection.send(m)`. */
async function echoLoop(connection: WebSocketConnection): Promise<unknown> {
  try {
    for await (const message of connection) await connection.send(message);
    return 'done';
  } catch (error) {
    return error;
  }
}

// --- Harnesses ---

/** The endpoints a harness opened, dropped (both sockets) after each case. */
class OpenedEndpoints {
  #endpoints: Endpoint[] = [];

  add(endpoint: Endpoint): Endpoint {
    this.#endpoints.push(endpoint);
    return endpoint;
  }

  dropAll(): void {
    for (const { peer, connection } of this.#endpoints) {
      peer.destroy();
      connection.terminate();
    }
    this.#endpoints = [];
  }
}

/** Endpoints of `WebSocketServer`s (one per settings), each connection echoing. */
function serverHarness(): Harness & { cleanup(): void; stop(): Promise<void> } {
  const servers = new Map<string, Promise<WebSocketServer>>();
  const accepted = new Map<number, { connection: WebSocketConnection; echoed: Promise<unknown> }>();
  const opened = new OpenedEndpoints();
  const serverFor = (settings: EndpointSettings) => {
    const key = JSON.stringify(settings);
    let server = servers.get(key);
    if (server === undefined) {
      server = WebSocketServer.listen({
        port: 0,
        host: '127.0.0.1',
        closeTimeout: CLOSE_TIMEOUT_MS,
        ...settings,
      }).then((s) => {
        s.on('connection', (connection) =>
          accepted.set(connection.remotePort, { connection, echoed: echoLoop(connection) }),
        );
        return s;
      });
      servers.set(key, server);
    }
    return server;
  };
  return {
    role: 'server',
    async open(settings = {}) {
      const server = await serverFor(settings);
      const { client: peer } = await RawClient.open(server.address().port, '/');
      // The server emits `connection` as it writes the 101, before the client can read it.
      const mine = accepted.get(peer.socket.localPort!);
      if (mine === undefined) throw new Error('the server reported no connection for the client');
      accepted.delete(peer.socket.localPort!);
      const endpoint: Endpoint = { role: 'server', peer, ...mine };
      return opened.add(endpoint);
    },
    cleanup: () => opened.dropAll(),
    async stop() {
      for (const server of servers.values()) await (await server).close();
    },
  };
}

/** Endpoints of `connect()`, each connection echoing, against one byte-level server. */
function clientHarness(): Harness & { cleanup(): void; stop(): Promise<void> } {
  let frameServer: Promise<FrameServer> | undefined;
  const opened = new OpenedEndpoints();
  return {
    role: 'client',
    async open(settings = {}) {
      const server = await (frameServer ??= startFrameServer());
      const [peer, connection] = await Promise.all([
        server.next(),
        connect(server.url, {
          closeTimeout: CLOSE_TIMEOUT_MS,
          handshakeTimeout: 5000,
          ...settings,
        }),
      ]);
      const endpoint: Endpoint = { role: 'client', peer, connection, echoed: echoLoop(connection) };
      return opened.add(endpoint);
    },
    cleanup: () => opened.dropAll(),
    async stop() {
      if (frameServer !== undefined) await (await frameServer).stop();
    },
  };
}

const ROLE_TITLES: Record<Role, string> = {
  server: 'server role: WebSocketServer echo, driven by a byte-level client',
  client: 'client role: connect() echo, driven by a byte-level server',
};

/**
 * Registers, for each role, one `describe` with one `it` per case, and `extra` for tests of that
 * role that are not scripts (`open` gives endpoints that are cleaned up after each test).
 */
export function conformance(cases: readonly Case[], extra?: (harness: Harness) => void): void {
  for (const makeHarness of [serverHarness, clientHarness]) {
    const harness = makeHarness();
    describe(ROLE_TITLES[harness.role], () => {
      afterEach(() => harness.cleanup());
      after(() => harness.stop());
      for (const c of cases) {
        it(`${c.id} ${c.title}`, { timeout: (c.timeoutMs ?? 5000) + 10_000 }, async () => {
          const endpoint = await harness.open(c.settings);
          await runCase(endpoint, c.steps);
        });
      }
      extra?.(harness);
    });
  }
}
