// Issue 13: published messages under permessage-deflate. Subscribers whose server side has no
// context takeover share one compressed frame per window (checked on the Publication itself:
// the very same buffers), the others are compressed by their own compressor; wsnet's client and
// ws's decode both, through a frame tap that shows what crossed the wire (RSV1, sizes).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import WebSocketClient from 'ws';
import {
  WebSocketServer,
  connect,
  type Message,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { Publication } from '../../src/messages/fan-out.js';
import { PerMessageDeflate } from '../../src/protocol/deflate/codec.js';
import type { DeflateAgreement, WindowBits } from '../../src/protocol/deflate/negotiation.js';
import { startFrameTap, type FrameTap, type TappedMessage } from '../helpers/frame-tap.js';
import { RawClient } from '../helpers/raw-client.js';
import { waitFor, within } from '../helpers/wait.js';

const servers: WebSocketServer[] = [];
const taps: FrameTap[] = [];
after(async () => {
  await Promise.all(taps.splice(0).map((tap) => tap.close()));
  await Promise.all(servers.splice(0).map((server) => within(server.close(), 10_000)));
});

const json = (n: number) =>
  JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ id: i, user: `user${i % 17}`, text: 'hello there' })),
  );

async function startServer(options: Partial<ServerOptions>) {
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  const accepted: WebSocketConnection[] = [];
  server.on('connection', (connection) => {
    accepted.push(connection);
    connection.subscribe('t');
  });
  const tap = await startFrameTap(server.address().port);
  taps.push(tap);
  return { server, accepted, tap, url: `${tap.url}/` };
}

/** A wsnet client and two ws clients (one with client_no_context_takeover), all subscribed. */
async function subscribers(url: string, server: WebSocketServer) {
  const wsnet = await connect(url);
  const wsnetGot: Message[] = [];
  wsnet.on('message', (data) => wsnetGot.push(data));
  const wsClients = [
    new WebSocketClient(url, { perMessageDeflate: true }),
    new WebSocketClient(url, { perMessageDeflate: { clientNoContextTakeover: true } }),
  ];
  const wsGot: Array<Array<[Buffer, boolean]>> = wsClients.map((client) => {
    const got: Array<[Buffer, boolean]> = [];
    client.on('message', (data, isBinary) => got.push([data as Buffer, isBinary]));
    return got;
  });
  await Promise.all(wsClients.map((client) => within(once(client, 'open'), 3000)));
  await waitFor(() => server.subscriberCount('t') === 3, 3000, 'three subscribers');
  const close = async () => {
    await wsnet.close();
    for (const client of wsClients) {
      const closed = once(client, 'close');
      client.close();
      await within(closed, 5000);
    }
  };
  return { wsnet, wsnetGot, wsGot, close };
}

function published(tap: FrameTap): TappedMessage[][] {
  return tap.webSockets().map((connection) => connection.toClient.messages());
}

describe('publish under permessage-deflate', () => {
  it('without server context takeover: one compressed frame, decoded by wsnet and ws clients alike', async () => {
    const { server, tap, url } = await startServer({
      perMessageDeflate: { serverNoContextTakeover: true },
    });
    const clients = await subscribers(url, server);
    const text = json(100);
    const binary = Buffer.from(json(80));
    assert.equal(server.publish('t', text), 3);
    assert.equal(server.publish('t', binary), 3);
    assert.equal(server.publish('t', text), 3);
    await waitFor(
      () => clients.wsnetGot.length === 3 && clients.wsGot.every((got) => got.length === 3),
      5000,
      'three messages each',
    );
    assert.deepEqual(clients.wsnetGot, [text, binary, text]);
    for (const got of clients.wsGot)
      assert.deepEqual(got, [
        [Buffer.from(text), false],
        [binary, true],
        [Buffer.from(text), false],
      ]);
    const wire = published(tap);
    assert.equal(wire.length, 3);
    for (const messages of wire) {
      assert.deepEqual(
        messages.map((m) => m.compressed),
        [true, true, true],
      );
      // No context: the same message compresses to the same bytes each time, for everyone.
      assert.equal(messages[0].wireBytes, messages[2].wireBytes);
      assert.ok(messages[0].wireBytes < text.length / 3);
      assert.equal(messages[0].wireBytes, wire[0][0].wireBytes);
    }
    await clients.close();
  });

  it('with server context takeover: each subscriber compresses with its own context, and both clients decode it', async () => {
    const { server, tap, url } = await startServer({ perMessageDeflate: true });
    const clients = await subscribers(url, server);
    const text = json(40); // over the threshold (1 KiB), within the window (4 KiB)
    server.publish('t', text);
    server.publish('t', text);
    await waitFor(
      () => clients.wsnetGot.length === 2 && clients.wsGot.every((got) => got.length === 2),
      5000,
      'two messages each',
    );
    assert.deepEqual(clients.wsnetGot, [text, text]);
    for (const got of clients.wsGot)
      assert.deepEqual(
        got.map(([data]) => data.toString()),
        [text, text],
      );
    for (const messages of published(tap)) {
      assert.deepEqual(
        messages.map((m) => m.compressed),
        [true, true],
      );
      // The second refers back into the first: the connection's own history.
      assert.ok(messages[1].wireBytes < messages[0].wireBytes / 4, JSON.stringify(messages));
    }
    await clients.close();
  });

  it('compress: false sends it plain to all; small messages go plain, compress: true compresses them', async () => {
    const { server, tap, url } = await startServer({
      perMessageDeflate: { serverNoContextTakeover: true },
    });
    const clients = await subscribers(url, server);
    const text = json(100);
    server.publish('t', text, { compress: false });
    server.publish('t', 'small small small small small small');
    server.publish('t', 'small small small small small small', { compress: true });
    await waitFor(
      () => clients.wsnetGot.length === 3 && clients.wsGot.every((got) => got.length === 3),
      5000,
      'three messages each',
    );
    assert.deepEqual(clients.wsnetGot, [
      text,
      'small small small small small small',
      'small small small small small small',
    ]);
    for (const messages of published(tap))
      assert.deepEqual(
        messages.map((m) => m.compressed),
        [false, false, true],
      );
    await clients.close();
  });

  it('a compressed published message is the frame send() makes for that subscriber, byte for byte', async () => {
    const { server, accepted } = await startServer({
      perMessageDeflate: { serverNoContextTakeover: true },
    });
    const { client } = await RawClient.open(server.address().port, '/', {
      headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; server_no_context_takeover']],
    });
    await waitFor(() => accepted.length === 1);
    const text = json(50);
    await accepted[0].send(text);
    const sent = await client.readFrame();
    server.publish('t', text);
    const publishedFrame = await client.readFrame();
    assert.equal(publishedFrame.flags, 0xc1); // FIN, RSV1, text
    assert.equal(publishedFrame.flags, sent.flags);
    assert.ok(publishedFrame.payload.equals(sent.payload));
    client.destroy();
  });

  it('clients that do not negotiate compression get the plain frame from the same publish', async () => {
    const { server, tap, url } = await startServer({
      perMessageDeflate: { serverNoContextTakeover: true },
    });
    const compressed = await connect(url);
    const plain = await connect(url, { perMessageDeflate: false });
    await waitFor(() => server.subscriberCount('t') === 2);
    const text = json(100);
    server.publish('t', text);
    assert.equal(await within(compressed.receive(), 3000), text);
    assert.equal(await within(plain.receive(), 3000), text);
    assert.deepEqual(
      published(tap).map((messages) => messages.map((m) => m.compressed)),
      [[true], [false]],
    );
    await Promise.all([compressed.close(), plain.close()]);
  });
});

describe('Publication: framed once', () => {
  function agreement(overrides: Partial<DeflateAgreement>): DeflateAgreement {
    return {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
      response: { name: 'permessage-deflate', params: [] },
      ...overrides,
    };
  }
  const codec = (overrides: Partial<DeflateAgreement>, windowBits: WindowBits = 12) =>
    new PerMessageDeflate(agreement(overrides), 'server', { windowBits });

  it('the same buffers for every subscriber alike: plain ones, and compressed ones per window', () => {
    const publication = new Publication(Buffer.from(json(50)), false, undefined);
    const plain = publication.frameFor(null);
    assert.equal(publication.frameFor(null), plain);
    const a = publication.frameFor(codec({}));
    const b = publication.frameFor(codec({}));
    assert.ok(a !== null && a !== plain);
    assert.equal(a, b); // one compression for both
    const narrower = publication.frameFor(codec({ serverMaxWindowBits: 10 }, 10));
    assert.ok(narrower !== null && narrower !== a);
    assert.equal(publication.frameFor(codec({ serverMaxWindowBits: 10 }, 10)), narrower);
    // Context takeover: the subscriber's own compressor (null), never a shared frame.
    assert.equal(publication.frameFor(codec({ serverNoContextTakeover: false })), null);
    // An 8-bit window cannot compress: the plain frame.
    assert.equal(publication.frameFor(codec({ serverMaxWindowBits: 8 }, 8)), plain);
  });

  it('compress: false and messages below the threshold share the plain frame; one that does not shrink too', () => {
    const off = new Publication(Buffer.from(json(50)), true, false);
    assert.equal(off.frameFor(codec({})), off.frameFor(null));
    const small = new Publication(Buffer.from('tiny'), false, undefined);
    assert.equal(small.frameFor(codec({})), small.frameFor(null));
    const random = new Publication(Buffer.from([0x9f, 0x01, 0xe3]), true, true);
    assert.equal(random.frameFor(codec({})), random.frameFor(null));
  });
});
