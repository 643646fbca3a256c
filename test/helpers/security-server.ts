/**
 * The two servers of wsnet as targets of the peer-failure suite (test/security/server-*.test.ts):
 * the message API's `WebSocketServer` echoing messages, and the POCO facade's `HTTPServer` whose
 * handler makes a `WebSocket(request, response)` and echoes frames (test/helpers/poco-server.ts).
 * Each attack runs against both; afterwards `assertServes` shows that the server still serves
 * a good client. Every wait has a deadline; every server is on 127.0.0.1, port 0.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocketServer, type ServerOptions } from '../../src/messages/index.js';
import { HTTPServerParams, Timespan, WebSocketException } from '../../src/poco/index.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { createKey } from '../../src/protocol/handshake/keys.js';
import { echo } from './echo-servers.js';
import { FixtureChild, mb } from './fixture-child.js';
import { startEchoServer } from './poco-server.js';
import { RawClient, upgradeRequest, type HttpHead } from './raw-client.js';
import { Signal } from './wait.js';
import { FIN, OP_CLOSE, OP_TEXT, readFrame } from './wire.js';

export type ServerKind = 'messages' | 'poco';

/** Both servers, for `for (const kind of SERVER_KINDS) describe(...)`. */
export const SERVER_KINDS: readonly ServerKind[] = ['messages', 'poco'];

export const SERVER_NAMES: Readonly<Record<ServerKind, string>> = {
  messages: 'message API WebSocketServer',
  poco: 'POCO HTTPServer + WebSocket(request, response)',
};

/** How a POCO handler's echo loop ended: null after a CLOSE or EOF, else what it threw. */
export type HandlerEnd = null | { className: string; code: number | undefined; message: string };

export interface ServerUnderTest {
  readonly kind: ServerKind;
  readonly port: number;
  /** How each POCO handler's echo loop ended, in order (always empty for the message API). */
  readonly ends: HandlerEnd[];
  /** The next handler end (POCO only) within `timeoutMs`. */
  nextEnd(timeoutMs?: number): Promise<HandlerEnd>;
  stop(): Promise<void>;
}

/**
 * Starts an echo server of `kind` on loopback. `options` are the message API's;
 * `handshakeTimeout` applies to both (POCO: `HTTPServerParams.setTimeout`).
 */
export async function startTarget(
  kind: ServerKind,
  options: Partial<ServerOptions> = {},
): Promise<ServerUnderTest> {
  const ends: HandlerEnd[] = [];
  const changed = new Signal();
  let taken = 0;
  const nextEnd = async (timeoutMs = 5000): Promise<HandlerEnd> => {
    const deadline = Date.now() + timeoutMs;
    while (ends.length <= taken)
      if (!(await changed.until(deadline)))
        throw new Error(`no POCO handler ended within ${timeoutMs} ms`);
    return ends[taken++];
  };
  if (kind === 'messages') {
    const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
    server.on('connection', (connection) => void echo(connection));
    return { kind, port: server.address().port, ends, nextEnd, stop: () => server.close() };
  }
  const params = new HTTPServerParams();
  if (options.handshakeTimeout !== undefined)
    params.setTimeout(new Timespan(options.handshakeTimeout * 1000));
  const running = await startEchoServer({
    params,
    onEnd: (error) => {
      ends.push(
        error === null
          ? null
          : {
              className: (error as Error).constructor.name,
              code: error instanceof WebSocketException ? error.code() : undefined,
              message: (error as Error).message,
            },
      );
      changed.notify();
    },
  });
  return {
    kind,
    port: running.port,
    ends,
    nextEnd,
    stop: () => {
      running.stop();
      return Promise.resolve();
    },
  };
}

/** One masked client frame as bytes (a fixed mask: tests are reproducible). */
export function clientFrame(flags: number, payload: string | Uint8Array = ''): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat(encodeFrame(flags, bytes, fixedMask([0x11, 0x22, 0x33, 0x44])));
}

/** A valid upgrade request with `extra` header lines, for a raw client to send. */
export function handshakeWith(port: number, extra: Array<[string, string]> = []): string {
  return upgradeRequest('/ws', port, createKey(), extra);
}

/** Sends `request` (bytes as given) on a new connection and reads the response head. */
export async function answerTo(
  port: number,
  request: string | Uint8Array,
  timeoutMs = 10_000,
): Promise<{ client: RawClient; head: HttpHead }> {
  const client = await RawClient.connect(port);
  client.write(request);
  const head = await client.readHead(timeoutMs);
  return { client, head };
}

/**
 * What the server does next on `client`'s open connection: the code of the close frame it sends
 * (skipping data and control frames it echoes), 'eof' if TCP ends with no close frame.
 */
export async function closeCodeOf(client: RawClient, timeoutMs = 10_000): Promise<number | 'eof'> {
  const deadline = Date.now() + timeoutMs;
  for (let frames = 0; frames < 100_000; frames++) {
    let flags: number;
    let payload: Buffer;
    try {
      ({ flags, payload } = await readFrame(client, Math.max(1, deadline - Date.now())));
    } catch (error) {
      if (client.ended) return 'eof';
      throw error;
    }
    if ((flags & 0x0f) === OP_CLOSE) return payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
  }
  throw new Error('more than 100,000 frames before a close');
}

/**
 * A good client's visit: handshake (101), a text message echoed, a close. Proves the server
 * still serves after (or during) an attack.
 */
export async function assertServes(port: number, what = 'after the attack'): Promise<void> {
  const { client } = await RawClient.open(port, '/ws');
  try {
    const text = `still served ${what}`;
    client.write(clientFrame(FIN | OP_TEXT, text));
    const echoed = await readFrame(client, 10_000);
    assert.equal(echoed.flags, FIN | OP_TEXT, `the echo's flags ${what}`);
    assert.equal(echoed.payload.toString(), text, `the echo ${what}`);
  } finally {
    client.destroy();
  }
}

/** Memory of a server in a child process before and after an attack. */
export interface Growth {
  /** RSS after the attack (after gc) minus RSS before. */
  rss: number;
  /** The highest RSS during the attack minus RSS before. */
  peak: number;
  /** heapUsed after minus before (after gc). */
  heap: number;
  /** For assertion messages. */
  text: string;
}

/**
 * Runs `attack` against a server of test/fixtures/limits-peer.ts (`mode`, `args`) in a child
 * process and measures that process's memory around it; the child is killed afterwards. The
 * attack is given the child's port and should itself check that good clients are served.
 */
export async function growthUnder(
  mode: string,
  args: string[],
  attack: (port: number) => Promise<string>,
): Promise<Growth> {
  const child = await FixtureChild.start('limits-peer', [mode, ...args]);
  try {
    const before = await child.memory();
    const what = await attack(child.port);
    const afterwards = await child.memory();
    assert.equal(child.process.exitCode, null, 'the server process is alive');
    const rss = afterwards.rss - before.rss;
    const peak = afterwards.peakRss - before.rss;
    const heap = afterwards.heapUsed - before.heapUsed;
    return {
      rss,
      peak,
      heap,
      text: `${what}; RSS ${mb(before.rss)} -> ${mb(afterwards.rss)} (peak ${mb(afterwards.peakRss)}), heap +${mb(heap)}`,
    };
  } finally {
    child.kill();
  }
}
