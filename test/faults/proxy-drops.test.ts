// Faults in an HTTP CONNECT proxy (test/helpers/proxy.ts in its drop mode) between both clients
// and a wsnet server: the tunnel dropped (FIN or reset) before the CONNECT is answered, after the
// 200 but before the 101, and in the middle of a frame after the handshake. The client gets the
// documented error (a missing answer is NetworkError 'http' / POCO's NoMessageException, as a
// server's is; a reset is 'network' / ConnectionResetException; a frame cut short closes with
// 1006 / WebSocketException 11), the server's connection behind the tunnel ends with 1006 and
// the server serves on, nothing escapes and no socket is left open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/messages/index.js';
import { HTTPMessage, HTTPRequest, HTTPResponse, WebSocket } from '../../src/poco/index.js';
import { startProxy, type TunnelDrop } from '../helpers/proxy.js';
import { EscapeWatch, pocoSession } from '../helpers/security-client.js';
import { errorName, FAULTS, goodVisit, noSocketLeft, tcpSockets, until } from './fault-kit.js';
import { describeEnd, startFaultTarget, type FaultTarget } from './servers-under-test.js';

const watch = new EscapeWatch();
let target: FaultTarget;
before(async () => {
  watch.install();
  target = await startFaultTarget('messages');
});
after(async () => {
  watch.uninstall();
  await target.stop();
});

/** A 200-byte message: its echo (a 204-byte frame) is what the tunnel cuts. */
const MESSAGE = 'e'.repeat(200);

/**
 * Connects through a proxy that drops the tunnel as `drop` says, sends MESSAGE once open and
 * says how it ended: the connect error, or how the open connection ended ('close 1006' for the
 * message API; POCO: 'clean' or the receiveFrame exception).
 */
async function throughDroppingProxy(client: 'messages' | 'poco', drop: TunnelDrop) {
  const proxy = await startProxy({ drop });
  try {
    if (client === 'messages') {
      try {
        const connection = await connect(`ws://127.0.0.1:${target.port}/ws`, {
          proxy: `http://127.0.0.1:${proxy.port}`,
          handshakeTimeout: 5000,
        });
        connection.on('error', () => undefined);
        void connection.send(MESSAGE).catch(() => undefined);
        const { code } = await connection.closed;
        return `close ${code}`;
      } catch (error) {
        return errorName(error);
      }
    }
    const session = pocoSession(target.port);
    session.setProxy('127.0.0.1', proxy.port);
    let ws: WebSocket;
    try {
      const request = new HTTPRequest(HTTPRequest.HTTP_GET, '/ws', HTTPMessage.HTTP_1_1);
      ws = await WebSocket.connect(session, request, new HTTPResponse());
    } catch (error) {
      return errorName(error);
    }
    try {
      await ws.sendFrame(MESSAGE, MESSAGE.length, WebSocket.FRAME_TEXT);
      const { n, flags } = await ws.receiveFrame(new Uint8Array(1024));
      return n === 0 && flags === 0 ? 'clean' : `a frame of ${n} bytes`;
    } catch (error) {
      return errorName(error);
    } finally {
      ws.close();
    }
  } finally {
    proxy.stop();
  }
}

/** What each client must get for each drop (a reset after bytes not read yet may look like EOF). */
const EXPECTED: Record<
  'messages' | 'poco',
  Record<TunnelDrop['at'], Record<TunnelDrop['how'], string[]>>
> = {
  messages: {
    'before-answer': { end: ['NetworkError http'], reset: ['NetworkError network'] },
    'after-200': {
      end: ['NetworkError http'],
      reset: ['NetworkError network', 'NetworkError http'],
    },
    'after-head': { end: ['close 1006'], reset: ['close 1006'] },
  },
  poco: {
    'before-answer': { end: ['NoMessageException'], reset: ['ConnectionResetException'] },
    'after-200': {
      end: ['NoMessageException'],
      reset: ['ConnectionResetException', 'NoMessageException'],
    },
    'after-head': {
      end: ['WebSocketException 11'],
      reset: ['ConnectionResetException', 'WebSocketException 11'],
    },
  },
};

for (const client of ['messages', 'poco'] as const) {
  describe(`a proxy that drops the tunnel: ${client === 'messages' ? 'connect()' : "POCO's WebSocket.connect"}`, () => {
    for (const how of FAULTS) {
      const drops: Array<[string, TunnelDrop]> = [
        ['before the CONNECT is answered', { at: 'before-answer', how }],
        ['after the 200, before the 101', { at: 'after-200', how }],
        // Inside the echo's header (1-3 bytes: the 16-bit length cut), and inside its payload.
        ...[1, 2, 3, 4, 100, 203].map((bytes): [string, TunnelDrop] => [
          `${bytes} bytes into a frame after the 101`,
          { at: 'after-head', how, bytes },
        ]),
      ];
      for (const [when, drop] of drops) {
        it(`${how === 'end' ? 'closed' : 'reset'} ${when}: ${EXPECTED[client][drop.at][how].join(' or ')}; the server serves on`, async () => {
          const baseline = tcpSockets();
          const opened = target.opened();
          const outcome = await throughDroppingProxy(client, drop);
          assert.ok(EXPECTED[client][drop.at][how].includes(outcome), outcome);
          if (drop.at === 'after-head') {
            const end = await target.nextEnd();
            assert.ok(end.kind === 'close' && end.code === 1006, describeEnd(end));
          } else {
            assert.equal(target.opened(), opened, 'no WebSocket connection reached the server');
          }
          await noSocketLeft(baseline, when);
          await until(() => target.open() === 0, 'the server to have no connection');
          await goodVisit(target.port, `a tunnel ${when}`);
          await target.nextEnd();
          await noSocketLeft(baseline, `the good client after a tunnel ${when}`);
          await watch.assertNone();
        });
      }
    }
  });
}
