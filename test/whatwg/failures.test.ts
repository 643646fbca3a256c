// The standard's "fail the WebSocket connection" and "full" paths of wsnet's WHATWG WebSocket,
// against a server written at the socket level: what a peer sends that wsnet refuses, and a peer
// that stops reading while the page keeps sending. In each, `error` fires before `close`, and the
// close says 1006, as the HTML standard says and as undici 7 (Node 22's WebSocket) and Chromium
// do: the same script runs in all three here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket as UndiciWebSocket } from 'undici';
import { SendQueueFullError } from '../../src/messages/index.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { WebSocket } from '../../src/whatwg/index.js';
import { ChromiumPage, fromPage, testPage } from '../helpers/chromium.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import { OP_CLOSE, close, encode, frame, text } from '../helpers/wire.js';
import { ending } from './ending.js';

/** What a failed connection looked like: the events, readyState at the error, wasClean. */
interface FailureSeen {
  readonly events: readonly string[];
  readonly readyStateAtError: number | undefined;
  readonly wasClean: boolean;
}

/** The page's side: the same recording as ending(), for Chromium's own WebSocket. */
const PAGE_SCRIPT = `
window.recordFailure = (url) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  const events = [];
  let readyStateAtError;
  socket.onopen = () => events.push('open');
  socket.onmessage = (event) => events.push('message ' + event.data);
  socket.onerror = () => { events.push('error'); readyStateAtError = socket.readyState; };
  socket.onclose = (event) => {
    events.push('close ' + event.code);
    resolve({ events, readyStateAtError, wasClean: event.wasClean });
  };
  setTimeout(() => resolve({ events, readyStateAtError, wasClean: 'no close event' }), 10000);
});
`;

/** A connection by wsnet's class, undici's or Chromium's, to be recorded as it fails. */
type Client = (url: string) => {
  readonly seen: Promise<FailureSeen>;
  readonly error?: Promise<unknown>;
};

function nodeClient(Implementation: typeof WebSocket): Client {
  return (url) => {
    const end = ending(new Implementation(url));
    return {
      seen: end.then(({ events, readyStateAtError, close: closeEvent }) => ({
        events,
        readyStateAtError,
        wasClean: closeEvent.wasClean,
      })),
      error: end.then(({ error }) => error?.error),
    };
  };
}

describe("wsnet's WHATWG WebSocket: failing the connection", () => {
  let server: FrameServer;
  const browser = new ChromiumPage(testPage('wsnet/whatwg failures', PAGE_SCRIPT));
  const clients: Record<string, Client> = {
    wsnet: nodeClient(WebSocket),
    undici: nodeClient(UndiciWebSocket as unknown as typeof WebSocket),
    chromium: (url) => ({
      seen: fromPage(
        browser.page.evaluate(
          (target) =>
            (
              globalThis as unknown as { recordFailure(url: string): Promise<FailureSeen> }
            ).recordFailure(target),
          url,
        ),
      ),
    }),
  };
  before(async () => {
    server = await startFrameServer();
    await browser.listen();
    await browser.open();
  });
  after(() => browser.close([['closing the frame server', () => server.stop()]]));

  for (const { what, bad, code, message } of [
    {
      what: 'text that is not UTF-8',
      bad: text(Buffer.from([0xc3, 0x28])),
      code: 1007,
      message: /not valid UTF-8/,
    },
    {
      what: 'a reserved opcode',
      bad: frame(0x3, ''),
      code: 1002,
      message: /reserved opcode/,
    },
  ])
    it(`${what}: a close frame with ${code} goes out, then error and close 1006, as undici and Chromium`, async () => {
      const seen: Record<string, FailureSeen> = {};
      let wsnetError: unknown;
      for (const [name, client] of Object.entries(clients)) {
        const connection = client(server.url);
        const peer = await server.next();
        peer.write(encode(text('fine'), false));
        peer.write(encode(bad, false));
        // Each fails the connection with a close frame (the RFC's code from wsnet and undici;
        // Chromium says 1002 for invalid UTF-8 too); the server answers the close and ends.
        const sent = await peer.readFrame();
        assert.equal(sent.flags & 0x0f, OP_CLOSE, name);
        assert.equal(sent.payload.readUInt16BE(0), name === 'chromium' ? 1002 : code, name);
        peer.write(encode(close(code), false));
        peer.end();
        seen[name] = await connection.seen;
        if (name === 'wsnet') wsnetError = await connection.error;
      }
      assert.deepEqual(seen.wsnet, {
        events: ['open', 'message fine', 'error', 'close 1006'],
        readyStateAtError: WebSocket.CLOSED,
        wasClean: false,
      });
      assert.deepEqual(seen.undici, seen.wsnet, 'undici');
      assert.deepEqual(seen.chromium, seen.wsnet, 'Chromium');
      // In Node, the error event says why (a browser's says nothing).
      assert.ok(wsnetError instanceof ProtocolError);
      assert.equal(wsnetError.closeCode, code);
      assert.match(wsnetError.message, message);
    });

  it('a clean close from the server fires no error', async () => {
    const socket = new WebSocket(server.url);
    const end = ending(socket);
    const peer = await server.next();
    peer.write(encode(close(4000, 'bye'), false));
    const answer = await peer.readFrame();
    assert.equal(answer.flags & 0x0f, OP_CLOSE);
    peer.end();
    const { events, close: closeEvent } = await end;
    assert.deepEqual(events, ['open', 'close 4000']);
    assert.equal(closeEvent.wasClean, true);
  });

  it('close() without a code sends a close frame without one: the close event says 1005', async () => {
    const socket = new WebSocket(server.url);
    const end = ending(socket, () => socket.close());
    const peer = await server.next();
    const sent = await peer.readFrame();
    assert.equal(sent.flags & 0x0f, OP_CLOSE);
    assert.equal(sent.payload.length, 0);
    peer.write(encode(close(), false));
    peer.end();
    const { events, close: closeEvent } = await end;
    assert.deepEqual(events, ['open', 'close 1005']);
    assert.equal(closeEvent.wasClean, true);
  });

  it('close(undefined, reason) sends 1000 with the reason', async () => {
    const socket = new WebSocket(server.url);
    const end = ending(socket, () => socket.close(undefined, 'done'));
    const peer = await server.next();
    const sent = await peer.readFrame();
    assert.equal(sent.flags & 0x0f, OP_CLOSE);
    assert.equal(sent.payload.readUInt16BE(0), 1000);
    assert.equal(sent.payload.subarray(2).toString(), 'done');
    peer.write(encode(close(1000, 'done'), false));
    peer.end();
    await end;
  });

  it('sends beyond maxQueuedBytes to a peer that stopped reading: the standard\'s "full" (error, close 1006)', async () => {
    const limit = 256 * 1024;
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    const socket = new WebSocket(server.url, [], { maxQueuedBytes: limit });
    const end = ending(socket, () => {
      // Bounded: the kernel's buffers plus the queue's bound are far below 64 MiB.
      for (let i = 0; i < 1024 && socket.readyState === WebSocket.OPEN; i++) {
        socket.send(chunk);
        sent += chunk.length;
      }
    });
    const peer = await server.next();
    peer.socket.pause(); // reads nothing: the client's writes back up into its queue
    const { events, error, readyStateAtError, close: closeEvent } = await end;
    assert.deepEqual(events, ['open', 'error', 'close 1006']);
    assert.equal(readyStateAtError, WebSocket.CLOSED);
    assert.ok(error!.error instanceof SendQueueFullError, String(error!.error));
    assert.equal(error!.error.limit, limit);
    assert.equal(closeEvent.code, 1006);
    // What was never handed to the socket stays counted (the standard's bufferedAmount).
    assert.ok(socket.bufferedAmount > limit, `bufferedAmount ${socket.bufferedAmount}`);
    assert.ok(socket.bufferedAmount <= sent);
    peer.destroy();
  });

  it('a send after the close event is counted, never sent, never thrown', async () => {
    const socket = new WebSocket(server.url);
    const end = ending(socket);
    const peer = await server.next();
    peer.write(encode(close(1000), false));
    await peer.readFrame();
    peer.end();
    await end;
    socket.send('late');
    assert.equal(socket.bufferedAmount, 4);
    assert.equal(socket.readyState, WebSocket.CLOSED);
  });
});
