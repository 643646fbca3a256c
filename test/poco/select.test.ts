// WebSocket.select: POCO's static Socket::select on WebSockets. The lists are narrowed in place to
// the ready sockets and the number of entries left is returned; exceptList reports sockets that
// failed (a reset). Over real connections to a raw peer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentException, Timespan, WebSocket } from '../../src/poco/index.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import type { RawClient } from '../helpers/raw-client.js';
import { pocoClient } from '../helpers/security-client.js';
import { within } from '../helpers/wait.js';

const SECONDS = 1_000_000; // Timespan's unit is the microsecond

describe('WebSocket.select (POCO Socket::select)', () => {
  let server: FrameServer;
  let a: WebSocket;
  let b: WebSocket;
  let peerA: RawClient;
  let peerB: RawClient;
  before(async () => {
    server = await startFrameServer();
    ({ ws: a, peer: peerA } = await pocoClient(server));
    ({ ws: b, peer: peerB } = await pocoClient(server));
  });
  after(async () => {
    a.close();
    b.close();
    await server.stop();
  });

  it('nothing to read: 0 after the timeout, and the read list is emptied in place', async () => {
    const readList = [a, b];
    assert.equal(await WebSocket.select(readList, [], [], new Timespan(0, 20_000)), 0);
    assert.deepEqual(readList, []);
  });

  it('waits for a frame: the read list keeps the socket that can receive, the count is 1', async () => {
    const readList = [a, b];
    const selected = WebSocket.select(readList, [], [], 30 * SECONDS);
    peerB.sendFrame(0x81, 'for b', false);
    assert.equal(await within(selected, 5000, 'select'), 1);
    assert.equal(readList.length, 1);
    assert.ok(readList[0].equals(b));
    assert.equal((await b.receiveFrame()).payload.toString(), 'for b');
  });

  it('counts every entry left in the three lists: a socket readable and writable counts twice', async () => {
    peerA.sendFrame(0x82, 'x', false);
    assert.equal(await WebSocket.select([a], [], [], 5 * SECONDS), 1); // the frame is in
    const readList = [a, b];
    const writeList = [a, b];
    const exceptList = [a, b];
    assert.equal(await WebSocket.select(readList, writeList, exceptList, 5 * SECONDS), 3);
    assert.deepEqual(
      [readList.map((ws) => ws.equals(a)), writeList.length, exceptList.length],
      [[true], 2, 0],
    );
    await a.receiveFrame();
  });

  it('a copy is selected like the original: they are the same socket', async () => {
    const copy = new WebSocket(a);
    const writeList = [copy];
    assert.equal(await WebSocket.select([], writeList, [], 0), 1);
    assert.ok(writeList[0] === copy && copy.equals(a));
  });

  it('three empty lists: 0 at once', async () => {
    assert.equal(await within(WebSocket.select([], [], [], 60 * SECONDS), 5000, 'select'), 0);
  });

  it('refuses what is not a list of WebSockets', async () => {
    await assert.rejects(WebSocket.select([{} as WebSocket], [], [], 0), InvalidArgumentException);
    await assert.rejects(
      WebSocket.select(undefined as unknown as WebSocket[], [], [], 0),
      InvalidArgumentException,
    );
  });
});

describe('WebSocket.select: failed and closed sockets', () => {
  let server: FrameServer;
  before(async () => (server = await startFrameServer()));
  after(() => server.stop());

  it('a socket reset by its peer is in the except list (and readable: the receive fails)', async () => {
    const { ws, peer } = await pocoClient(server);
    const { ws: idle } = await pocoClient(server);
    try {
      const exceptList = [idle, ws];
      const selected = WebSocket.select([], [], exceptList, 30 * SECONDS);
      peer.reset();
      assert.equal(await within(selected, 5000, 'select'), 1);
      assert.equal(exceptList.length, 1);
      assert.ok(exceptList[0].equals(ws));
      const readList = [ws];
      assert.equal(await WebSocket.select(readList, [], [], 0), 1);
      await assert.rejects(ws.receiveFrame(), /reset/i);
    } finally {
      ws.close();
      idle.close();
    }
  });

  it('a peer that ends the stream in order makes the socket readable, not exceptional', async () => {
    const { ws, peer } = await pocoClient(server);
    try {
      peer.end();
      const readList = [ws];
      const exceptList = [ws];
      assert.equal(await WebSocket.select(readList, [], exceptList, 30 * SECONDS), 1);
      assert.deepEqual([readList.length, exceptList.length], [1, 0]);
      assert.deepEqual(await ws.receiveFrame(new Uint8Array(4)), { n: 0, flags: 0 });
    } finally {
      ws.close();
    }
  });

  it('a socket closed while select waits is left out, and select returns at once', async () => {
    const { ws: open } = await pocoClient(server);
    const { ws: closing } = await pocoClient(server);
    try {
      const readList = [open, closing];
      const selected = WebSocket.select(readList, [], [], 60 * SECONDS);
      closing.close();
      assert.equal(await within(selected, 5000, 'select'), 0);
      assert.deepEqual(readList, []);
      // And when one is closed already: no wait at all, the open ones still reported.
      const writeList = [closing, open];
      assert.equal(await WebSocket.select([], writeList, [], 60 * SECONDS), 1);
      assert.ok(writeList.length === 1 && writeList[0] === open);
    } finally {
      open.close();
    }
  });
});
