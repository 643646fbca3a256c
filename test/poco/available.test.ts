// available(): POCO's number, the raw bytes received and not yet taken by receiveFrame, frame
// headers and masks included as they came on the wire (WebSocketImpl::available: its read-ahead
// buffer plus the kernel's FIONREAD), counted over a raw node:net peer that writes frames by hand.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import { WebSocket, type HTTPRequestHandler } from '../../src/poco/index.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { hex } from '../helpers/bytes.js';
import { startFrameServer, type FrameServer } from '../helpers/frame-server.js';
import { startServer } from '../helpers/poco-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { pocoClient } from '../helpers/security-client.js';
import { waitFor } from '../helpers/wait.js';

/** Waits until `available()` reaches `n` (the bytes are on their way), then says it is exactly n. */
async function expectAvailable(ws: WebSocket, n: number): Promise<void> {
  await waitFor(() => ws.available() >= n, 3000, `available() to reach ${n}`);
  assert.equal(ws.available(), n);
}

describe('available() on the client: raw bytes as the server sent them', () => {
  let server: FrameServer;
  before(async () => (server = await startFrameServer()));
  after(() => server.stop());

  it('4 bytes of a header count 4, before the header is complete and once it is', async () => {
    const { ws, peer } = await pocoClient(server);
    try {
      assert.equal(ws.available(), 0);
      // A masked frame with a 16-bit length of 5: its header is 2 + 2 + 4 = 8 bytes.
      const frame = Buffer.concat(encodeFrame(0x82, Buffer.from('abcde'), fixedMask([1, 2, 3, 4])));
      const wire = Buffer.concat([frame.subarray(0, 1), hex('fe 00 05'), frame.subarray(2)]);
      assert.equal(wire.length, 8 + 5);
      peer.write(wire.subarray(0, 4)); // half the header
      await expectAvailable(ws, 4);
      peer.write(wire.subarray(4, 10)); // the rest of the header and 2 payload bytes
      await expectAvailable(ws, 10);
      peer.write(wire.subarray(10));
      await expectAvailable(ws, 13);
      const { n, flags, payload } = await ws.receiveFrame();
      assert.deepEqual([n, flags, payload.toString()], [5, 0x82, 'abcde']);
      assert.equal(ws.available(), 0);
    } finally {
      ws.close();
      peer.destroy();
    }
  });

  it('a masked 11-byte frame reaching the client counts 11 (2 + 4 + 5), not as if unmasked', async () => {
    const { ws, peer } = await pocoClient(server);
    try {
      peer.sendFrame(0x81, 'hello', [9, 8, 7, 6]);
      await expectAvailable(ws, 11);
      // Two more in one write: an unmasked 7-byte one, and 2 bytes in a 64-bit length (10 + 2).
      peer.write(
        Buffer.concat([
          ...encodeFrame(0x81, Buffer.from('world'), null),
          hex('82 7f 00 00 00 00 00 00 00 02 01 02'),
        ]),
      );
      await expectAvailable(ws, 11 + 7 + 12);
      const taken: number[] = [];
      for (let i = 0; i < 3; i++) {
        await ws.receiveFrame(new Uint8Array(16));
        taken.push(ws.available());
      }
      assert.deepEqual(taken, [19, 12, 0]);
    } finally {
      ws.close();
      peer.destroy();
    }
  });

  it('a frame refused for a small buffer stays counted: it is still there to receive', async () => {
    const { ws, peer } = await pocoClient(server);
    try {
      peer.sendFrame(0x82, Buffer.alloc(20), false);
      await expectAvailable(ws, 22);
      await assert.rejects(ws.receiveFrame(new Uint8Array(8)), /Insufficient buffer/);
      assert.equal(ws.available(), 22);
      assert.equal((await ws.receiveFrame(new Uint8Array(20))).n, 20);
      assert.equal(ws.available(), 0);
    } finally {
      ws.close();
      peer.destroy();
    }
  });
});

describe('available() on the server: the client frames not yet received', () => {
  it('counts what follows the frame taken, including a partly received one', async () => {
    const seen: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    let proceed!: () => void;
    const more = new Promise<void>((resolve) => (proceed = resolve));
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        const ws = new WebSocket(request, response);
        try {
          await waitFor(() => ws.available() >= 18, 3000, 'two frames');
          seen.push(ws.available()); // two masked frames of 3 bytes: 2 + 4 + 3 each
          await ws.receiveFrame(new Uint8Array(16));
          seen.push(ws.available()); // the second
          proceed();
          await waitFor(() => ws.available() >= 9 + 3, 3000, 'the partial header');
          seen.push(ws.available()); // and 3 bytes of the next header
        } finally {
          done();
        }
      },
    };
    const running = await startServer({ createRequestHandler: () => handler });
    try {
      const { client } = await RawClient.open(running.port);
      client.sendFrame(0x81, 'one', [1, 2, 3, 4]);
      client.sendFrame(0x81, 'two', [1, 2, 3, 4]);
      await more;
      client.write(hex('81 83 01')); // a masked header cut after 3 of its 6 bytes
      await finished;
      assert.deepEqual(seen, [18, 9, 12]);
      client.destroy();
    } finally {
      running.stop();
    }
  });
});
