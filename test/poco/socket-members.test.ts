// The Socket/StreamSocket members of the class reference that issue 15 added or changed, each
// with POCO's behaviour: the comparison operators, the TCP-level shutdown of both directions,
// and every member after close() (POCO's SocketImpl checks its descriptor and throws
// InvalidSocketException; a few members never look at it and still answer).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import {
  AssertionViolationException,
  IOException,
  InvalidAccessException,
  InvalidSocketException,
  NotImplementedException,
  WebSocket,
} from '../../src/poco/index.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import { pocoClient } from '../helpers/security-client.js';

let server: FrameServer;
before(async () => (server = await startFrameServer()));
after(() => server.stop());

/** A client WebSocket and the raw server-side peer of its connection. */
const pair = () => pocoClient(server);

describe('the comparison operators: POCO orders sockets by impl, wsnet by when the impl was made', () => {
  it('copies are equal; of two connections, the one made first is the lesser, before and after close()', async () => {
    const first = await pair();
    const second = await pair();
    const a = first.ws;
    const b = second.ws;
    const copy = new WebSocket(a);
    try {
      for (const closed of [false, true]) {
        if (closed) a.close(); // the order is the impl's: it does not change when the socket closes
        assert.deepEqual(
          [a.equals(copy), a.notEquals(copy), a.lessThan(copy), a.greaterThan(copy)],
          [true, false, false, false],
        );
        assert.deepEqual([a.lessEqual(copy), a.greaterEqual(copy)], [true, true]);
        assert.deepEqual(
          [a.equals(b), a.notEquals(b), a.lessThan(b), a.lessEqual(b)],
          [false, true, true, true],
        );
        assert.deepEqual(
          [a.greaterThan(b), a.greaterEqual(b), b.greaterThan(a), b.greaterEqual(copy)],
          [false, false, true, true],
        );
        assert.deepEqual([b.lessThan(a), b.lessEqual(copy)], [false, false]);
      }
      // A strict weak order, as std::set needs: sorting with it puts them in order of making.
      const sorted = [b, copy, a, b].sort((x, y) => (x.lessThan(y) ? -1 : y.lessThan(x) ? 1 : 0));
      assert.deepEqual(
        sorted.map((ws) => (ws.equals(a) ? 'a' : 'b')),
        ['a', 'a', 'b', 'b'],
      );
    } finally {
      a.close();
      b.close();
      first.peer.destroy();
      second.peer.destroy();
    }
  });
});

describe('shutdownSocket(): StreamSocket::shutdown(), TCP shutdown of both directions', () => {
  it('the peer sees the end of the stream and no close frame; a send is EPIPE, a receive 0/0', async () => {
    const { ws, peer } = await pair();
    peer.socket.allowHalfOpen = true; // so that it can still send after the end it reads
    const port = peer.socket.localPort;
    try {
      assert.equal(ws.shutdownSocket(), 0);
      // Everything the peer gets before the end: nothing at all (POCO's shutdown(2) sends a FIN).
      assert.equal((await peer.readToEnd()).length, 0);
      const error = await ws.sendFrame('late').then(
        () => assert.fail('a send after shutdown resolved'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof IOException, String(error));
      assert.equal(error.code(), 32); // EPIPE
      assert.equal(error.displayText(), 'I/O error: Broken pipe');
      await assert.rejects(ws.sendBytes(Buffer.from('x')), /Broken pipe/);
      // The receive side is shut down too: what the peer still sends is not read.
      peer.sendFrame(0x81, 'after', false);
      assert.deepEqual(await ws.receiveFrame(new Uint8Array(16)), { n: 0, flags: 0 });
      // The socket is shut down, not closed: its members still answer until close().
      assert.equal(ws.peerAddress().port(), port);
      ws.close();
      assert.throws(() => ws.peerAddress(), InvalidSocketException);
    } finally {
      ws.close();
      peer.destroy();
    }
  });

  it('differs from shutdown(), which sends a close frame and shuts nothing down', async () => {
    const { ws, peer } = await pair();
    try {
      assert.equal(await ws.shutdown(), 2);
      const frame = await peer.readFrame();
      assert.deepEqual([frame.flags, frame.payload.toString('hex')], [0x88, '03e8']);
      assert.equal(await ws.sendFrame('still open'), 10);
      assert.equal((await peer.readFrame()).payload.toString(), 'still open');
      assert.equal(peer.ended, false);
    } finally {
      ws.close();
      peer.destroy();
    }
  });

  it('shutdownSend(): the same EPIPE for a send afterwards, and the peer sees the end', async () => {
    const { ws, peer } = await pair();
    peer.socket.allowHalfOpen = true;
    try {
      assert.equal(ws.shutdownSend(), 0);
      assert.equal((await peer.readToEnd()).length, 0);
      await assert.rejects(
        ws.sendFrame('x'),
        (e: unknown) => e instanceof IOException && e.code() === 32,
      );
      peer.sendFrame(0x81, 'still read', false); // the receive side is open
      assert.equal((await ws.receiveFrame()).payload.toString(), 'still read');
    } finally {
      ws.close();
      peer.destroy();
    }
  });
});

/** How a member behaves after close(), as POCO's does. */
type AfterClose =
  | { throws: typeof InvalidSocketException } // sync
  | { rejects: typeof InvalidSocketException } // a promise
  | { answers: (result: unknown) => void } // POCO never looks at the descriptor
  | { always: new (...args: never[]) => Error }; // throws this before close() too

const buffer = new Uint8Array(16);
const members: Record<string, [(ws: WebSocket) => unknown, AfterClose]> = {
  // SocketImpl::address/peerAddress: if (_sockfd == POCO_INVALID_SOCKET) throw InvalidSocketException()
  address: [(ws) => ws.address(), { throws: InvalidSocketException }],
  peerAddress: [(ws) => ws.peerAddress(), { throws: InvalidSocketException }],
  // WebSocketImpl::available adds the kernel's FIONREAD on the closed descriptor.
  available: [(ws) => ws.available(), { throws: InvalidSocketException }],
  // Socket options: setRawOption/getRawOption check the descriptor.
  setReceiveTimeout: [(ws) => ws.setReceiveTimeout(1000), { throws: InvalidSocketException }],
  getReceiveTimeout: [(ws) => ws.getReceiveTimeout(), { throws: InvalidSocketException }],
  setSendTimeout: [(ws) => ws.setSendTimeout(1000), { throws: InvalidSocketException }],
  getSendTimeout: [(ws) => ws.getSendTimeout(), { throws: InvalidSocketException }],
  setNoDelay: [(ws) => ws.setNoDelay(true), { throws: InvalidSocketException }],
  getNoDelay: [(ws) => ws.getNoDelay(), { throws: InvalidSocketException }],
  setKeepAlive: [(ws) => ws.setKeepAlive(false), { throws: InvalidSocketException }],
  getKeepAlive: [(ws) => ws.getKeepAlive(), { throws: InvalidSocketException }],
  setLinger: [(ws) => ws.setLinger(false, 0), { throws: InvalidSocketException }],
  getLinger: [(ws) => ws.getLinger(), { throws: InvalidSocketException }],
  setSendBufferSize: [(ws) => ws.setSendBufferSize(65536), { throws: InvalidSocketException }],
  getSendBufferSize: [(ws) => ws.getSendBufferSize(), { throws: InvalidSocketException }],
  setReceiveBufferSize: [
    (ws) => ws.setReceiveBufferSize(1 << 20),
    { throws: InvalidSocketException },
  ],
  getReceiveBufferSize: [(ws) => ws.getReceiveBufferSize(), { throws: InvalidSocketException }],
  setReuseAddress: [(ws) => ws.setReuseAddress(), { throws: InvalidSocketException }],
  getReuseAddress: [(ws) => ws.getReuseAddress(), { throws: InvalidSocketException }],
  setReusePort: [(ws) => ws.setReusePort(), { throws: InvalidSocketException }],
  getReusePort: [(ws) => ws.getReusePort(), { throws: InvalidSocketException }],
  setOOBInline: [(ws) => ws.setOOBInline(), { throws: InvalidSocketException }],
  getOOBInline: [(ws) => ws.getOOBInline(), { throws: InvalidSocketException }],
  setOption: [(ws) => ws.setOption(), { throws: InvalidSocketException }],
  getOption: [(ws) => ws.getOption(), { throws: InvalidSocketException }],
  // setBlocking reaches fcntl on the closed descriptor (see the README for POCO's exact error).
  setBlocking: [(ws) => ws.setBlocking(true), { throws: InvalidSocketException }],
  // shutdown(2), send and recv check the descriptor.
  shutdownReceive: [(ws) => ws.shutdownReceive(), { throws: InvalidSocketException }],
  shutdownSend: [(ws) => ws.shutdownSend(), { throws: InvalidSocketException }],
  shutdownSocket: [(ws) => ws.shutdownSocket(), { throws: InvalidSocketException }],
  sendFrame: [(ws) => ws.sendFrame('x'), { rejects: InvalidSocketException }],
  sendBytes: [(ws) => ws.sendBytes('x'), { rejects: InvalidSocketException }],
  receiveFrame: [(ws) => ws.receiveFrame(buffer), { rejects: InvalidSocketException }],
  receiveBytes: [(ws) => ws.receiveBytes(buffer), { rejects: InvalidSocketException }],
  shutdown: [(ws) => ws.shutdown(1001, 'bye'), { rejects: InvalidSocketException }],
  poll: [(ws) => ws.poll(0, WebSocket.SELECT_READ), { rejects: InvalidSocketException }],
  // Never look at the descriptor: an inline flag, the inner impl's type, the fd itself (-1),
  // the impl, what the impl remembers.
  getBlocking: [(ws) => ws.getBlocking(), { answers: (r) => assert.equal(r, true) }],
  secure: [(ws) => ws.secure(), { answers: (r) => assert.equal(r, false) }],
  sockfd: [(ws) => ws.sockfd(), { answers: (r) => assert.equal(r, -1) }],
  mode: [(ws) => ws.mode(), { answers: (r) => assert.equal(r, WebSocket.WS_CLIENT) }],
  impl: [(ws) => ws.impl(), { answers: (r) => assert.ok(r !== undefined) }],
  frameFlags: [(ws) => ws.frameFlags(), { answers: (r) => assert.equal(r, 0) }],
  getMaxPayloadSize: [(ws) => ws.getMaxPayloadSize(), { answers: (r) => assert.equal(r, 16) }],
  setMaxPayloadSize: [(ws) => ws.setMaxPayloadSize(16), { answers: () => undefined }],
  equals: [(ws) => ws.equals(ws), { answers: (r) => assert.equal(r, true) }],
  notEquals: [(ws) => ws.notEquals(ws), { answers: (r) => assert.equal(r, false) }],
  lessThan: [(ws) => ws.lessThan(ws), { answers: (r) => assert.equal(r, false) }],
  lessEqual: [(ws) => ws.lessEqual(ws), { answers: (r) => assert.equal(r, true) }],
  greaterThan: [(ws) => ws.greaterThan(ws), { answers: (r) => assert.equal(r, false) }],
  greaterEqual: [(ws) => ws.greaterEqual(ws), { answers: (r) => assert.equal(r, true) }],
  close: [(ws) => ws.close(), { answers: () => undefined }], // SocketImpl::close: nothing to do
  // WebSocketImpl refuses these whatever the state of the socket.
  connect: [(ws) => ws.connect(), { always: InvalidAccessException }],
  connectNB: [(ws) => ws.connectNB(), { always: InvalidAccessException }],
  bind: [(ws) => ws.bind(), { always: InvalidAccessException }],
  bind6: [(ws) => ws.bind6(), { always: InvalidAccessException }],
  listen: [(ws) => ws.listen(), { always: InvalidAccessException }],
  acceptConnection: [(ws) => ws.acceptConnection(), { always: InvalidAccessException }],
  sendTo: [(ws) => ws.sendTo(), { always: InvalidAccessException }],
  receiveFrom: [(ws) => ws.receiveFrom(), { always: InvalidAccessException }],
  sendUrgent: [(ws) => ws.sendUrgent(), { always: InvalidAccessException }],
  init: [(ws) => ws.init(), { always: AssertionViolationException }],
};

describe('after close(): every member as POCO has it', () => {
  it('the table covers every method of WebSocket', () => {
    const methods = Object.getOwnPropertyNames(WebSocket.prototype).filter(
      (name) => name !== 'constructor',
    );
    assert.deepEqual(methods.filter((name) => !(name in members)).sort(), []);
  });

  it('throws InvalidSocketException where POCO checks the descriptor; the rest still answer', async () => {
    const { ws, peer } = await pair();
    const copy = new WebSocket(ws); // a copy shares the impl: closed by the original's close()
    try {
      ws.setMaxPayloadSize(16);
      // Before close(), none of them says the socket is invalid (the sync ones that change
      // nothing the table relies on are called; shutdowns and I/O are left for after).
      for (const [name, [call, after]] of Object.entries(members)) {
        if (!('throws' in after) || name.startsWith('shutdown')) continue;
        try {
          call(ws);
        } catch (error) {
          assert.ok(error instanceof NotImplementedException, `${name}: ${String(error)}`);
        }
      }
      ws.close();
      for (const target of [ws, copy]) {
        for (const [name, [call, after]] of Object.entries(members)) {
          if ('throws' in after) assert.throws(() => call(target), after.throws, name);
          else if ('rejects' in after)
            await assert.rejects(call(target) as Promise<unknown>, after.rejects, name);
          else if ('always' in after) assert.throws(() => call(target), after.always, name);
          else after.answers(call(target));
        }
      }
      // A copy of a closed WebSocket can still be made (POCO's checks the impl's type only).
      assert.ok(new WebSocket(ws).equals(ws));
    } finally {
      ws.close();
      peer.destroy();
    }
  });
});
