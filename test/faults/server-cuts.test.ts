// Faults against both servers: a raw client sends the first k bytes of a valid upgrade request,
// or (after a completed handshake) of a masked frame sequence, and then ends (FIN) or resets
// (RST) its connection, for every k from 0 to the length. For each k: that connection ends the
// documented way (message API: no connection for a cut request, else a 'close' event with 1006;
// POCO: no handler for a cut request, else receiveFrame ends cleanly between frames, with
// WebSocketException 11 "Incomplete frame received" inside one, ConnectionResetException on a
// reset), nothing escapes as an unhandled rejection or uncaught exception, no socket is left
// open, and a good client is served right after. One server serves every offset of a test.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../../src/protocol/handshake/keys.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';
import { EscapeWatch } from '../helpers/security-client.js';
import {
  FAULTS,
  cutAfter,
  framesToCut,
  goodVisit,
  noSocketLeft,
  tcpSockets,
  until,
  type CutFrames,
  type Fault,
} from './fault-kit.js';
import {
  SERVER_KINDS,
  SERVER_NAMES,
  describeEnd,
  startFaultTarget,
  type End,
  type FaultTarget,
} from './servers-under-test.js';

const watch = new EscapeWatch();
before(() => watch.install());
after(() => watch.uninstall());

/** Opens a plain TCP connection to `port` whose errors (the reset it is about to get) are expected. */
async function rawSocket(port: number): Promise<net.Socket> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.resume(); // a 400 or 101 that comes back is read and dropped
  return socket;
}

/** The end a frame cut at `cut` bytes must give, or a reason it does not match. */
function checkFrameEnd(
  target: FaultTarget,
  frames: CutFrames,
  cut: number,
  fault: Fault,
  end: End,
): string | null {
  const whole = cut === frames.bytes.length;
  const between = cut === 0 || frames.boundaries.includes(cut);
  const ok = (() => {
    if (target.kind === 'messages') {
      if (end.kind !== 'close') return false;
      // A close frame that arrived whole is answered: its code is the status (a reset may
      // still overtake the answer, and then the closing handshake is not complete: 1006).
      if (frames.isClose && whole)
        return fault === 'end' ? end.code === 1000 : end.code === 1000 || end.code === 1006;
      return end.code === 1006 && !end.wasClean;
    }
    if (fault === 'end')
      return between
        ? end.kind === 'clean'
        : end.kind === 'exception' && end.name === 'WebSocketException' && end.code === 11;
    // A reset: ConnectionResetException when the receive meets the socket's error; when the
    // socket's end is seen first (the RST came with the bytes), the same as an EOF there.
    if (end.kind === 'exception' && end.name === 'ConnectionResetException') return true;
    return between || (frames.isClose && whole)
      ? end.kind === 'clean'
      : end.kind === 'exception' && end.name === 'WebSocketException' && end.code === 11;
  })();
  return ok ? null : `${frames.name} cut at ${cut} then ${fault}: ${describeEnd(end)}`;
}

/** After each fault: nothing else ended, nothing is open, nothing escaped, a good client is served. */
async function afterFault(target: FaultTarget, baseline: number, what: string): Promise<void> {
  await noSocketLeft(baseline, what);
  await until(() => target.open() === 0, `the server's connections after ${what}`);
  assert.deepEqual(target.untaken().map(describeEnd), [], `no other connection ended (${what})`);
  assert.deepEqual(target.serverErrors, [], `no server error (${what})`);
  await goodVisit(target.port, what);
  const visit = await target.nextEnd();
  assert.ok(
    visit.kind === 'clean' || (visit.kind === 'close' && visit.code === 1000),
    `the good client's end: ${describeEnd(visit)}`,
  );
  await noSocketLeft(baseline, `the good client after ${what}`);
  if (watch.escaped.length > 0) await watch.assertNone();
}

for (const kind of SERVER_KINDS) {
  describe(`faults at every byte: ${SERVER_NAMES[kind]}`, () => {
    let target: FaultTarget;
    before(async () => {
      target = await startFaultTarget(kind);
    });
    after(() => target.stop());

    for (const fault of FAULTS) {
      it(`the upgrade request cut at every byte, then ${fault === 'end' ? 'EOF' : 'a reset'}: no connection, nothing left open, still serving`, async () => {
        const request = Buffer.from(upgradeRequest('/ws', target.port, createKey()), 'latin1');
        for (let cut = 0; cut <= request.length; cut++) {
          const what = `the request cut at ${cut} of ${request.length} then ${fault}`;
          const baseline = tcpSockets();
          const opened = target.opened();
          const socket = await rawSocket(target.port);
          await cutAfter(socket, request.subarray(0, cut), fault);
          if (cut === request.length) {
            // The whole request: the connection opens, then meets the fault at once.
            const end = await target.nextEnd();
            const expected =
              kind === 'messages'
                ? end.kind === 'close' && end.code === 1006 && !end.wasClean
                : fault === 'end'
                  ? end.kind === 'clean'
                  : end.kind === 'clean' ||
                    (end.kind === 'exception' && end.name === 'ConnectionResetException');
            assert.ok(expected, `${what}: ${describeEnd(end)}`);
          } else {
            await noSocketLeft(baseline, what);
            assert.equal(target.opened(), opened, `${what}: no connection opened`);
          }
          socket.destroy();
          await afterFault(target, baseline, what);
        }
        await watch.assertNone();
      });

      for (const frames of framesToCut(true)) {
        it(`${frames.name} cut at every byte, then ${fault === 'end' ? 'EOF' : 'a reset'}: that connection ends as documented, still serving`, async () => {
          const failures: string[] = [];
          for (let cut = 0; cut <= frames.bytes.length; cut++) {
            const what = `${frames.name} cut at ${cut} of ${frames.bytes.length} then ${fault}`;
            const baseline = tcpSockets();
            const { client } = await RawClient.open(target.port, '/ws');
            await cutAfter(client.socket, frames.bytes.subarray(0, cut), fault);
            const end = await target.nextEnd();
            const failure = checkFrameEnd(target, frames, cut, fault, end);
            if (failure !== null) failures.push(failure);
            await client.closed(5000).catch(() => undefined);
            client.destroy();
            await afterFault(target, baseline, what);
          }
          assert.deepEqual(failures, []);
          await watch.assertNone();
        });
      }
    }
  });
}
