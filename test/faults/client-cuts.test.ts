// Faults against both clients: a raw server answers the upgrade request with the first k bytes
// of its 101, or (after a completed handshake) with the first k bytes of an unmasked frame
// sequence, and then ends (FIN) or resets (RST) the connection, for every k from 0 to the
// length. For each k the client ends the documented way: connect() rejects with NetworkError
// (kind 'http' for a response cut by EOF, 'network' for a reset, unless the reset is seen as the
// end of the bytes before it) and an open connection closes
// with 1006; POCO's WebSocket.connect throws NoMessageException / MessageException (EOF) or
// ConnectionResetException (reset), and receiveFrame ends cleanly between frames, with
// WebSocketException 11 inside one. Nothing escapes, no socket is left open, and the same client
// API then connects to a good server and gets its echo.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import { connect, type WebSocketConnection } from '../../src/messages/index.js';
import { HTTPMessage, HTTPRequest, HTTPResponse, WebSocket } from '../../src/poco/index.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import { EscapeWatch, pocoSession } from '../helpers/security-client.js';
import {
  cutAfter,
  errorName,
  FAULTS,
  framesToCut,
  noSocketLeft,
  startCuttingServer,
  SWITCHING_LENGTH,
  tcpSockets,
  type CutFrames,
  type CuttingServer,
  type Fault,
} from './fault-kit.js';

type ClientKind = 'messages' | 'poco';
const CLIENT_NAMES: Record<ClientKind, string> = {
  messages: 'message API connect()',
  poco: 'POCO HTTPClientSession + WebSocket.connect',
};

const watch = new EscapeWatch();
const echoServers = new EchoServers();
let echoPort = 0;
before(async () => {
  watch.install();
  echoPort = (await echoServers.start()).address().port;
});
after(async () => {
  watch.uninstall();
  await echoServers.closeAll();
});

async function pocoConnect(port: number): Promise<WebSocket> {
  const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
  return WebSocket.connect(pocoSession(port), request, new HTTPResponse());
}

/**
 * How an open connection of `kind` ends: the message API's close status ('close 1006'), or
 * what POCO's receiveFrame loop met ('clean' after EOF or a CLOSE, else the exception). The POCO
 * socket is closed afterwards, as its owner would.
 */
async function endOf(kind: ClientKind, client: WebSocketConnection | WebSocket): Promise<string> {
  if (kind === 'messages') {
    const { code } = await (client as WebSocketConnection).closed;
    return `close ${code}`;
  }
  const ws = client as WebSocket;
  ws.setReceiveTimeout(5_000_000);
  try {
    for (let frames = 0; frames < 10; frames++) {
      const { n, flags } = await ws.receiveFrame(new Uint8Array(1024));
      if (n === 0 && flags === 0) return 'clean';
      if ((flags & WebSocket.FRAME_OP_BITMASK) === WebSocket.FRAME_OP_CLOSE) return 'clean';
    }
    return 'more than 10 frames';
  } catch (error) {
    return errorName(error);
  } finally {
    ws.close();
  }
}

/** The client API still works: a connection to a good server, a message echoed, a clean close. */
async function goodConnection(kind: ClientKind, what: string): Promise<void> {
  const text = `echo after ${what}`;
  if (kind === 'messages') {
    const connection = await connect(`ws://127.0.0.1:${echoPort}/ws`, { handshakeTimeout: 5000 });
    await connection.send(text);
    assert.equal(await connection.receive(), text, `the echo after ${what}`);
    await connection.close();
    return;
  }
  const ws = await pocoConnect(echoPort);
  await ws.sendFrame(text, Buffer.byteLength(text), WebSocket.FRAME_TEXT);
  const { n, payload } = await ws.receiveFrame();
  assert.equal(payload.subarray(0, n).toString(), text, `the echo after ${what}`);
  await ws.shutdown();
  ws.close();
}

/** The documented outcomes of a 101 cut at `cut` bytes. */
function handshakeOutcomes(kind: ClientKind, cut: number, fault: Fault): string[] {
  const whole = cut === SWITCHING_LENGTH;
  if (kind === 'messages') {
    if (whole) return fault === 'end' ? ['close 1006'] : ['close 1006', 'NetworkError network'];
    // A reset that follows bytes the client has not read yet is seen as their end of stream
    // (Linux hands the bytes over, then end of file): the reset's 'network' or the EOF's 'http'.
    return fault === 'end' ? ['NetworkError http'] : ['NetworkError network', 'NetworkError http'];
  }
  if (whole) return fault === 'end' ? ['clean'] : ['clean', 'ConnectionResetException'];
  const eof = ['NoMessageException', 'MessageException'];
  return fault === 'end' ? eof : ['ConnectionResetException', ...eof];
}

/** The documented ends of a connection whose frames were cut at `cut` bytes. */
function frameOutcomes(kind: ClientKind, frames: CutFrames, cut: number, fault: Fault): string[] {
  const whole = cut === frames.bytes.length;
  const between = cut === 0 || frames.boundaries.includes(cut);
  if (kind === 'messages') {
    if (frames.isClose && whole)
      return fault === 'end' ? ['close 1000'] : ['close 1000', 'close 1006'];
    return ['close 1006'];
  }
  const atEnd = between || (frames.isClose && whole) ? 'clean' : 'WebSocketException 11';
  return fault === 'end' ? [atEnd] : [atEnd, 'ConnectionResetException'];
}

for (const kind of ['messages', 'poco'] as const) {
  describe(`faults at every byte: ${CLIENT_NAMES[kind]}`, () => {
    let cutting: CuttingServer;
    let frameServer: FrameServer;
    before(async () => {
      cutting = await startCuttingServer();
      frameServer = await startFrameServer();
    });
    after(async () => {
      await cutting.stop();
      await frameServer.stop();
    });

    for (const fault of FAULTS) {
      it(`the 101 cut at every byte, then ${fault === 'end' ? 'EOF' : 'a reset'}: the documented error, nothing left open`, async () => {
        const failures: string[] = [];
        for (let cut = 0; cut <= SWITCHING_LENGTH; cut++) {
          const what = `the 101 cut at ${cut} of ${SWITCHING_LENGTH} then ${fault}`;
          const baseline = tcpSockets();
          cutting.arm(cut, fault);
          let outcome: string;
          try {
            const client =
              kind === 'messages'
                ? await connect(`ws://127.0.0.1:${cutting.port}/ws`, { handshakeTimeout: 5000 })
                : await pocoConnect(cutting.port);
            outcome = await endOf(kind, client);
          } catch (error) {
            outcome = errorName(error);
          }
          const expected = handshakeOutcomes(kind, cut, fault);
          if (!expected.includes(outcome))
            failures.push(`${what}: ${outcome} (documented: ${expected.join(' or ')})`);
          await noSocketLeft(baseline, what);
          await goodConnection(kind, what);
          await noSocketLeft(baseline, `the good connection after ${what}`);
        }
        assert.deepEqual(failures, []);
        await watch.assertNone();
      });

      for (const frames of framesToCut(false)) {
        it(`${frames.name} cut at every byte, then ${fault === 'end' ? 'EOF' : 'a reset'}: the connection ends as documented, nothing left open`, async () => {
          const failures: string[] = [];
          for (let cut = 0; cut <= frames.bytes.length; cut++) {
            const what = `${frames.name} cut at ${cut} of ${frames.bytes.length} then ${fault}`;
            const baseline = tcpSockets();
            const client =
              kind === 'messages'
                ? await connect(frameServer.url, { handshakeTimeout: 5000 })
                : await pocoConnect(frameServer.port);
            const peer = await frameServer.next();
            await cutAfter(peer.socket, frames.bytes.subarray(0, cut), fault);
            const outcome = await endOf(kind, client);
            const expected = frameOutcomes(kind, frames, cut, fault);
            if (!expected.includes(outcome))
              failures.push(`${what}: ${outcome} (documented: ${expected.join(' or ')})`);
            await peer.closed(5000).catch(() => undefined);
            peer.destroy();
            await noSocketLeft(baseline, what);
            await goodConnection(kind, what);
            await noSocketLeft(baseline, `the good connection after ${what}`);
          }
          assert.deepEqual(failures, []);
          await watch.assertNone();
        });
      }
    }
  });
}
