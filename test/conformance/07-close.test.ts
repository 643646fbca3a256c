// RFC 6455 conformance, category 7 (as Autobahn's): the closing handshake. A close frame is
// answered with one that echoes its code (§5.5.1), nothing after it is processed; its payload is
// empty or a valid code and at most 123 octets of UTF-8 reason (§5.5, §5.5.1, §7.4); invalid
// ones fail the connection with 1002 (1007 for a reason that is not UTF-8, §8.1).
// Then each role's own duty: the server closes TCP first, the client waits for it, within a
// timeout (§7.1.1), and each side starts a closing handshake of its own.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { it } from 'node:test';
import { ConnectionClosedError } from '../../src/index.js';
import {
  FIN_WAIT_MS,
  conformance,
  echo,
  expectCloseReply,
  expectFail,
  expectPong,
  expectText,
  send,
  sendChopped,
  sendEach,
  within,
  type Case,
} from '../helpers/conformance.js';
import {
  FIN,
  OP_CLOSE,
  OP_PING,
  assertBytes,
  close,
  closePayload,
  cont,
  encode,
  frame,
  ping,
  pong,
  readFrame,
  text,
  utf8Text,
} from '../helpers/wire.js';
import type { RawClient } from '../helpers/raw-client.js';

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const cases: Case[] = [
  {
    id: '7.1.1',
    title: '§5.5.1 a message, then a close frame: echo, then the close echoed',
    steps: [...echo(text('Hello, world!')), send(close(1000)), expectCloseReply(1000)],
  },
  {
    id: '7.1.2',
    title: '§5.5.1 two close frames: one close reply, the second ignored',
    steps: [send(close(1000), close(1000)), expectCloseReply(1000)],
  },
  {
    id: '7.1.3',
    title: '§5.5.2 a ping after the close frame is not answered',
    steps: [send(close(1000), ping('no pong')), expectCloseReply(1000)],
  },
  {
    id: '7.1.4',
    title: '§5.5.1 a text message after the close frame is not processed',
    steps: [send(close(1000), text('no echo')), expectCloseReply(1000)],
  },
  {
    id: '7.1.5',
    title:
      '§5.5.1 a close frame between fragments ends the connection; the last fragment is ignored',
    steps: [
      send(text('fragment1', { fin: false }), close(1000), cont('fragment2')),
      expectCloseReply(1000),
    ],
  },
  {
    id: '7.1.6',
    title: '§5.5.1 a large message, a ping and a close, each in its own write: echo, pong, close',
    steps: [
      sendEach(text(utf8Text(256 * 1024))),
      expectText(utf8Text(256 * 1024)),
      sendEach(ping('ping payload')),
      expectPong('ping payload'),
      sendEach(close(1000)),
      expectCloseReply(1000),
    ],
  },
  {
    id: '7.1.7',
    title: '§5.5.1 a close frame written octet by octet is answered',
    steps: [sendChopped(1, close(1000, 'chopped')), expectCloseReply(1000)],
  },
  {
    id: '7.3.1',
    title: '§5.5.1 a close frame without payload is answered with one without payload',
    steps: [send(close()), expectCloseReply()],
  },
  {
    id: '7.3.2',
    title: '§5.5.1 a close payload of 1 octet fails the connection with 1002',
    steps: [send(frame(OP_CLOSE, Buffer.from([0x03]))), expectFail(1002)],
  },
  {
    id: '7.3.3',
    title: '§5.5.1 a close frame with code 1000 and no reason is answered with 1000',
    steps: [send(close(1000)), expectCloseReply(1000)],
  },
  {
    id: '7.3.4',
    title: '§5.5.1 a close frame with code 1000 and a reason is answered with 1000',
    steps: [send(close(1000, 'Hello World!')), expectCloseReply(1000)],
  },
  {
    id: '7.3.5',
    title: '§5.5 a close reason of 123 octets (the largest, with 2-octet characters) is accepted',
    steps: [send(close(1000, 'µ'.repeat(61) + '*')), expectCloseReply(1000)],
  },
  {
    id: '7.3.6',
    title: '§5.5 a close reason of 124 octets (payload 126) fails the connection with 1002',
    steps: [send(close(1000, '*'.repeat(124))), expectFail(1002)],
  },
  {
    id: '7.5.1',
    title: '§5.5.1/§8.1 a close reason that is not UTF-8 fails the connection with 1007',
    steps: [
      send(close(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex'))),
      expectFail(1007),
    ],
  },
  ...VALID_CODES.map((code, i): Case => ({
    id: `7.7.${i + 1}`,
    title: `§7.4 close code ${code} is valid and echoed`,
    steps: [send(close(code)), expectCloseReply(code)],
  })),
  ...INVALID_CODES.map((code, i): Case => ({
    id: `7.9.${i + 1}`,
    title: `§7.4 close code ${code} may not be sent: the connection fails with 1002`,
    steps: [send(close(code)), expectFail(1002)],
  })),
];

const CLOSE_TIMEOUT = 300;

conformance(cases, (harness) => {
  const peerMasks = harness.role === 'server';

  /** Reads the endpoint's close frame and checks it exactly. */
  async function expectClose(peer: RawClient, payload: Buffer) {
    const received = await readFrame(peer);
    assert.equal(received.flags.toString(16), (FIN | OP_CLOSE).toString(16));
    assert.equal(received.masked, harness.role === 'client');
    assertBytes(received.payload, payload, 'close payload');
  }

  if (harness.role === 'client') {
    it("7.10.1 §7.1.1 after answering the server's close, the client waits for the server to close TCP", async () => {
      const { peer, connection } = await harness.open();
      peer.write(encode(close(1000, 'bye'), false));
      await expectClose(peer, closePayload(1000));
      // Long enough for a client that closes TCP at once to be seen doing it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(peer.ended, false, 'the client must not close TCP before the server');
      assert.equal(peer.pending, 0, 'nothing after the close frame');
      peer.end();
      assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
      assert.deepEqual(
        { ...(await within(connection.closed, FIN_WAIT_MS, 'close')) },
        {
          code: 1000,
          reason: 'bye',
          wasClean: true,
        },
      );
    });

    it('7.10.2 §7.1.1 if the server does not close TCP, the client does after its close timeout', async () => {
      const { peer, connection } = await harness.open({ closeTimeout: CLOSE_TIMEOUT });
      peer.write(encode(close(1000), false));
      await expectClose(peer, closePayload(1000));
      const start = Date.now();
      assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
      const waited = Date.now() - start;
      assert.ok(waited >= CLOSE_TIMEOUT - 50, `the client closed TCP after ${waited} ms`);
      const status = await within(connection.closed, FIN_WAIT_MS, 'close');
      assert.equal(status.code, 1000);
    });
  } else {
    it('7.10.1 §7.1.1 after the closing handshake the server closes TCP without waiting for the client', async () => {
      const { peer, connection } = await harness.open();
      peer.write(encode(close(1000, 'bye'), true));
      await expectClose(peer, closePayload(1000));
      // The client has not closed its side: the server's FIN comes anyway, well before its timeout.
      assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
      peer.end();
      assert.deepEqual(
        { ...(await within(connection.closed, FIN_WAIT_MS, 'close')) },
        {
          code: 1000,
          reason: 'bye',
          wasClean: true,
        },
      );
    });
  }

  it(`7.11.1 §7.1.2 the ${harness.role} starts the closing handshake; the peer answers`, async () => {
    const { peer, connection } = await harness.open();
    const closing = connection.close(4000, 'going');
    await expectClose(peer, closePayload(4000, 'going'));
    peer.write(encode(close(4000), peerMasks));
    if (harness.role === 'client') {
      peer.end(); // the server closes TCP first
      assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
    } else {
      assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
      peer.end();
    }
    const status = await within(closing, FIN_WAIT_MS, 'close()');
    assert.deepEqual({ ...status }, { code: 4000, reason: '', wasClean: true });
  });

  it(`7.11.2 §1.4 the ${harness.role} starts the closing handshake; a message already on its way is still received`, async () => {
    const { peer, connection } = await harness.open();
    const received: string[] = [];
    connection.on('message', (data) => received.push(String(data)));
    const closing = connection.close(1000);
    await expectClose(peer, closePayload(1000));
    // The peer sent a message before it saw the close frame: it is received (only after
    // *receiving* a close frame does a peer discard data), but not echoed (§5.5.1).
    peer.write(
      Buffer.concat([encode(text('in flight'), peerMasks), encode(close(1000), peerMasks)]),
    );
    if (harness.role === 'client') peer.end();
    assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0, 'nothing after the close frame');
    if (harness.role === 'server') peer.end();
    const status = await within(closing, FIN_WAIT_MS, 'close()');
    assert.deepEqual({ ...status }, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(received, ['in flight']);
  });

  it(`7.11.3 §7.1.1 the ${harness.role} starts the closing handshake; without an answer it drops TCP after its close timeout`, async () => {
    const { peer, connection } = await harness.open({ closeTimeout: CLOSE_TIMEOUT });
    const start = Date.now();
    const closing = connection.close(1000);
    await expectClose(peer, closePayload(1000));
    assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
    const waited = Date.now() - start;
    assert.ok(waited >= CLOSE_TIMEOUT - 50, `TCP closed after ${waited} ms`);
    const status = await within(closing, FIN_WAIT_MS, 'close()');
    assert.deepEqual({ ...status }, { code: 1006, reason: '', wasClean: false });
  });

  it(`7.11.4 §7.1.5 TCP closed by the peer without a closing handshake: 1006 for the ${harness.role}`, async () => {
    const { peer, connection, echoed } = await harness.open();
    peer.end();
    const status = await within(connection.closed, FIN_WAIT_MS, 'close');
    assert.deepEqual({ ...status }, { code: 1006, reason: '', wasClean: false });
    const outcome = await within(echoed, FIN_WAIT_MS, 'the echo loop');
    assert.ok(
      outcome instanceof ConnectionClosedError,
      'an abnormal close makes `for await` throw',
    );
    assert.equal(outcome.code, 1006);
    await peer.closed();
  });

  it(`7.11.5 §5.5.1 the ${harness.role} sends nothing after its close frame`, async () => {
    const { peer, connection } = await harness.open();
    const closing = connection.close(1000);
    await expectClose(peer, closePayload(1000));
    await assert.rejects(connection.send('too late'), { name: 'ConnectionClosedError' });
    await assert.rejects(connection.ping('too late'), { name: 'ConnectionClosedError' });
    peer.write(encode(close(1000), peerMasks));
    if (harness.role === 'client') peer.end();
    assert.equal((await peer.readToEnd(FIN_WAIT_MS)).length, 0);
    if (harness.role === 'server') peer.end();
    await within(closing, FIN_WAIT_MS, 'close()');
  });

  it(`7.11.6 §5.5.2 a ping from the ${harness.role} is answered by the peer's pong`, async () => {
    const { peer, connection } = await harness.open();
    const rtt = connection.ping('are you there?');
    const received = await readFrame(peer);
    assert.equal(received.flags.toString(16), (FIN | OP_PING).toString(16));
    assert.equal(received.masked, harness.role === 'client');
    assertBytes(received.payload, Buffer.from('are you there?'), 'ping payload');
    peer.write(encode(pong('are you there?'), peerMasks));
    assert.equal(typeof (await within(rtt, FIN_WAIT_MS, 'the pong')), 'number');
  });
});
