/**
 * Fuzz targets `poco-server` and `poco-client`: the POCO facade's WebSocket, end to end, over the
 * in-memory stream pair, with a fuzzed peer on the other end.
 *
 * How the WebSocket is made: `new WebSocketImpl(socket, mustMask, ...)` and
 * `WebSocket.fromImpl` (@internal), what `new WebSocket(request, response)` and
 * `HTTPClientSession`'s upgrade do once the handshake succeeded. The HTTP exchange before it needs
 * a `net.Socket` (node:http's server and the session's own connection) and the WebSocket checks
 * of the handshake are the `handshake` target's. The stream end gets the `net.Socket` methods the
 * impl calls on it (setNoDelay, setKeepAlive) as no-ops: a Duplex has none.
 *
 * The application is POCO's echo loop: `receiveFrame` (without a buffer, or into a caller's
 * buffer of 64 KiB, or with SMALL 1 KiB and a payload limit of 4 KiB; "insufficient buffer" is
 * followed by a receive without a buffer, as the frame stays queued), data frames sent back with
 * `sendFrame` as final binary frames (POCO sends flags unchecked, so an echo of the received flags
 * would be the application's RFC violation, not the facade's), pings answered with a pong, a
 * close answered with `shutdown()`; or (LOCAL_CLOSE) `shutdown()` after the peer's bytes.
 *
 * Invariant: the facade rejects only with its documented POCO exceptions (a WebSocketException
 * with code 10 or 11, a NetException, a TimeoutException); nothing escapes to the process; the
 * loop ends (end of stream or an exception) within the harness's deadline; no frame over the
 * payload limit or the caller's buffer is handed over; every byte sent is valid RFC 6455.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { WS_ERR_INCOMPLETE_FRAME, WS_ERR_PAYLOAD_TOO_BIG } from '../../../src/poco/constants.js';
import {
  NetException,
  TimeoutException,
  WebSocketException,
} from '../../../src/poco/exceptions.js';
import { Timespan } from '../../../src/poco/timespan.js';
import { WebSocketImpl } from '../../../src/poco/websocket-impl.js';
import { WebSocket } from '../../../src/poco/websocket.js';
import { duplexPair } from '../../helpers/duplex-pair.js';
import type { AsyncFuzzTarget } from '../harness.js';
import {
  ALTERNATE,
  FuzzedPeer,
  LOCAL_CLOSE,
  RESET,
  SMALL,
  TURNS,
  decodeFacadeInput,
  facadeInputs,
  turn,
} from './facade-input.js';

const MAX_PAYLOAD = 64 * 1024;
/** With SMALL: a limit that small frames of the generator pass over. */
const SMALL_MAX_PAYLOAD = 4 * 1024;

function documented(error: unknown): void {
  if (error instanceof WebSocketException)
    assert.ok(
      error.code() === WS_ERR_PAYLOAD_TOO_BIG || error.code() === WS_ERR_INCOMPLETE_FRAME,
      `WebSocketException with code ${error.code()}`,
    );
  else
    assert.ok(
      error instanceof NetException || error instanceof TimeoutException,
      `rejected with ${String(error)}`,
    );
}

async function check(role: 'server' | 'client', input: Buffer): Promise<void> {
  const { config, head, chunks } = decodeFacadeInput(input);
  const [local, remote] = duplexPair();
  Object.assign(local, { setNoDelay: () => local, setKeepAlive: () => local });
  const peer = new FuzzedPeer(remote, role === 'client', false, false);
  const impl = new WebSocketImpl(local as Socket, role === 'client', {
    initialBytes: head,
    receiveTimeout: Timespan.from(1_000_000),
    sendTimeout: Timespan.from(1_000_000),
  });
  const ws = WebSocket.fromImpl(impl);
  const small = (config & SMALL) !== 0;
  const maxPayload = small ? SMALL_MAX_PAYLOAD : MAX_PAYLOAD;
  ws.setMaxPayloadSize(maxPayload);
  const buffer = (config & ALTERNATE) === 0 ? null : Buffer.alloc(small ? 1024 : MAX_PAYLOAD);
  let shutdownSent = false;

  const loop = async () => {
    // Every frame takes at least two bytes: more receives than that is a loop that does not end.
    const bound = input.length / 2 + 4;
    for (let i = 0; i < bound; i++) {
      let frame: { n: number; flags: number; payload: Buffer };
      try {
        if (buffer === null) {
          frame = await ws.receiveFrame();
        } else {
          const { n, flags } = await ws.receiveFrame(buffer);
          frame = { n, flags, payload: Buffer.from(buffer.subarray(0, Math.max(n, 0))) };
        }
      } catch (error) {
        documented(error);
        if (
          buffer !== null &&
          error instanceof WebSocketException &&
          error.message.startsWith('Insufficient buffer')
        ) {
          // The frame stays queued: take it without a buffer.
          frame = await ws.receiveFrame();
        } else return;
      }
      assert.ok(frame.n <= maxPayload, `a frame of ${frame.n} bytes handed over`);
      assert.equal(frame.payload.length, Math.max(frame.n, 0), 'n is the payload length');
      if (frame.n === 0 && frame.flags === 0) return; // end of stream
      const opcode = frame.flags & 0x0f;
      if (opcode === 8) {
        if (!shutdownSent) {
          shutdownSent = true;
          await ws.shutdown();
        }
        return;
      }
      if (shutdownSent) continue;
      if (opcode === 9 && frame.n <= 125) await ws.sendFrame(frame.payload, frame.n, 0x8a);
      else if (opcode <= 2) await ws.sendFrame(frame.payload, frame.n, 0x82);
    }
    assert.fail(`more than ${bound} receives for ${input.length} bytes`);
  };

  // The loop's outcome is awaited after the peer's bytes: held as a value until then, so that a
  // broken invariant is this input's failure, not an unhandled rejection.
  const running = loop().then(
    () => undefined,
    (error: unknown) => error,
  );
  await peer.play(chunks, (config & TURNS) !== 0);
  await peer.quiet();
  if ((config & LOCAL_CLOSE) !== 0 && !shutdownSent) {
    shutdownSent = true;
    await ws.shutdown(1000, 'fuzz').catch(documented);
  }
  peer.finish((config & RESET) !== 0);
  const error = await running;
  ws.close();
  if (error instanceof assert.AssertionError) throw error;
  if (error !== undefined) documented(error);
  await turn();
  peer.verify();
  const sent = peer.checker.closeCode;
  assert.ok(
    sent === undefined || shutdownSent,
    `a close frame (${String(sent)}) the application did not send`,
  );
}

export const pocoServerTarget: AsyncFuzzTarget = {
  name: 'poco-server',
  generate: facadeInputs(true),
  checkAsync: (input) => check('server', input),
};

export const pocoClientTarget: AsyncFuzzTarget = {
  name: 'poco-client',
  generate: facadeInputs(false),
  checkAsync: (input) => check('client', input),
};
