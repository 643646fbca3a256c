// Text as bytes (`decodeText: false`, issue 12), over loopback: text arrives as a Buffer of its
// UTF-8, validated and not decoded; the 'message' event's isBinary and isText() tell it from
// binary (for `for await` and `receive()` too); send() sends it back as text; invalid UTF-8 still
// fails the connection with 1007, fragmented or compressed. And the default path's large frames,
// unmasked into their buffer as they arrive: decoded whole, refused as soon as a bad byte comes.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, afterEach, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import {
  WebSocketServer,
  connect,
  isText,
  type ConnectionSettings,
  type Message,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';
import {
  FIN,
  OP_BINARY,
  OP_CLOSE,
  OP_CONT,
  OP_TEXT,
  encode,
  readFrame,
  writeChopped,
  type InFrame,
} from '../helpers/wire.js';

const servers: WebSocketServer[] = [];
const clients: WebSocketConnection[] = [];
const raws: RawClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.terminate();
  for (const raw of raws.splice(0)) raw.socket.destroy();
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** UTF-8 with 1- to 4-byte sequences, `size` bytes (whole code points). */
function utf8Text(size: number): Buffer {
  const pattern = Buffer.from('wsnet é € 😀 ', 'utf8');
  const out = Buffer.alloc(size, 0x20);
  for (let at = 0; at + pattern.length <= size; at += pattern.length) out.set(pattern, at);
  return out;
}

/** A server whose connections go to `handle`; the port to reach it. */
async function serve(
  options: Partial<ServerOptions>,
  handle: (connection: WebSocketConnection) => void,
): Promise<number> {
  const server = await WebSocketServer.listen({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  server.on('connection', handle);
  return server.address().port;
}

async function rawClient(port: number): Promise<RawClient> {
  const { client } = await RawClient.open(port, '/');
  raws.push(client);
  return client;
}

/** The data frames `peer` receives until `count` have come (control frames are skipped). */
async function readDataFrames(peer: RawClient, count: number): Promise<InFrame[]> {
  const frames: InFrame[] = [];
  for (let i = 0; i < 100 && frames.length < count; i++) {
    const frame = await readFrame(peer);
    if ((frame.flags & 0x08) === 0) frames.push(frame);
  }
  return frames;
}

/** The close code of the close frame `peer` receives next (data frames before it skipped). */
async function closeCode(peer: RawClient): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const frame = await readFrame(peer);
    if ((frame.flags & 0x0f) === OP_CLOSE) return frame.payload.readUInt16BE(0);
  }
  throw new Error('no close frame in 100 frames');
}

describe('decodeText: false — text as bytes', () => {
  it("'message' gives text as a Buffer with isBinary false; send(data, { binary: isBinary }) echoes each kind as it came", async () => {
    const received: Array<[Message, boolean]> = [];
    const port = await serve({ decodeText: false }, (connection) => {
      connection.on('message', (data, isBinary) => {
        received.push([data, isBinary]);
        void connection.send(data, { binary: isBinary });
      });
    });
    const peer = await rawClient(port);
    const text = Buffer.from('héllo wörld €', 'utf8');
    const bytes = Buffer.from([0xff, 0x00, 0xc3]); // not UTF-8: binary
    peer.sendFrame(FIN | OP_TEXT, text);
    peer.sendFrame(FIN | OP_BINARY, bytes);
    const [first, second] = await readDataFrames(peer, 2);
    assert.equal(first.flags, FIN | OP_TEXT, 'text echoed as text');
    assert.deepEqual(first.payload, text);
    assert.equal(second.flags, FIN | OP_BINARY, 'binary echoed as binary');
    assert.deepEqual(second.payload, bytes);
    const [[data, isBinary], [data2, isBinary2]] = received;
    assert.ok(Buffer.isBuffer(data), 'text is a Buffer');
    assert.equal(isBinary, false);
    assert.equal(isText(data), true);
    assert.deepEqual(Buffer.from(data), text);
    assert.equal(isBinary2, true);
    assert.equal(isText(data2), false);
    assert.equal(isText(data.subarray(1)), false, 'a piece of text is not a message');
  });

  it('for await: isText tells text from binary, and send(message) keeps the kind', async () => {
    const kinds: string[] = [];
    const port = await serve({ decodeText: false }, (connection) => {
      void (async () => {
        for await (const message of connection) {
          assert.ok(Buffer.isBuffer(message));
          kinds.push(isText(message) ? 'text' : 'binary');
          await connection.send(message); // no options: as it came
        }
      })().catch(() => undefined);
    });
    const peer = await rawClient(port);
    peer.sendFrame(FIN | OP_BINARY, 'abc');
    peer.sendFrame(FIN | OP_TEXT, '😀');
    peer.sendFrame(FIN | OP_TEXT, '');
    const frames = await readDataFrames(peer, 3);
    assert.deepEqual(
      frames.map((f) => [f.flags & 0x0f, f.payload.toString('utf8')]),
      [
        [OP_BINARY, 'abc'],
        [OP_TEXT, '😀'],
        [OP_TEXT, ''],
      ],
    );
    assert.deepEqual(kinds, ['binary', 'text', 'text']);
  });

  it('connect({ decodeText: false }): receive() gives text as bytes; a string is text too', async () => {
    const port = await serve({}, (connection) => {
      void connection.send('grüße');
      void connection.send(Buffer.from('grüße'));
    });
    const client = await connect(`ws://127.0.0.1:${port}/`, { decodeText: false });
    clients.push(client);
    const text = await within(client.receive(), 3000, 'the text message');
    const binary = await within(client.receive(), 3000, 'the binary message');
    assert.ok(Buffer.isBuffer(text) && Buffer.isBuffer(binary));
    assert.equal(isText(text), true);
    assert.equal(isText(binary), false);
    assert.deepEqual(Buffer.from(text), Buffer.from('grüße'));
    assert.equal(isText('a string'), true);
    assert.equal(isText(Buffer.from('x')), false);
  });

  it('a fragmented text message, its characters split across fragments and reads, arrives whole as bytes', async () => {
    const messages = new Array<Message>();
    const port = await serve({ decodeText: false }, (connection) => {
      connection.on('message', (data) => messages.push(data));
    });
    const peer = await rawClient(port);
    const whole = utf8Text(300_000);
    // Fragments at odd places (inside 2-, 3- and 4-byte sequences), each written in pieces.
    const cuts = [0, 7, 99_999, 200_001, whole.length];
    const wire = Buffer.concat(
      cuts.slice(0, -1).map((start, i) =>
        encode(
          {
            flags: (i === 0 ? OP_TEXT : OP_CONT) | (i === cuts.length - 2 ? FIN : 0),
            payload: whole.subarray(start, cuts[i + 1]),
          },
          true,
        ),
      ),
    );
    await writeChopped(peer, wire, 65_536);
    for (let i = 0; i < 200 && messages.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(messages.length, 1);
    assert.equal(isText(messages[0]), true);
    assert.ok(whole.equals(messages[0] as Buffer), 'the same bytes');
  });

  it('invalid UTF-8 still fails the connection with 1007: in one frame, and split across fragments', async () => {
    const port = await serve({ decodeText: false }, (connection) => {
      connection.on(
        'message',
        (data, isBinary) => void connection.send(data, { binary: isBinary }),
      );
    });
    const single = await rawClient(port);
    single.sendFrame(FIN | OP_TEXT, Buffer.from([0x61, 0xed, 0xa0, 0x80])); // a surrogate
    assert.equal(await closeCode(single), 1007);

    const fragmented = await rawClient(port);
    fragmented.sendFrame(OP_TEXT, Buffer.from([0x61, 0xf0, 0x9f])); // a 4-byte sequence begun...
    fragmented.sendFrame(FIN | OP_CONT, Buffer.from([0x41])); // ...and broken
    assert.equal(await closeCode(fragmented), 1007);
  });

  it('with permessage-deflate: compressed text arrives as bytes and echoes back as text', async () => {
    const port = await serve({ decodeText: false, perMessageDeflate: true }, (connection) => {
      connection.on('message', (data, isBinary) => {
        assert.ok(Buffer.isBuffer(data));
        void connection.send(data, { binary: isBinary });
      });
    });
    const client = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    clients.push(client);
    assert.match(client.extensions, /permessage-deflate/);
    const text = 'ça compresse bien: '.repeat(2000) + '😀';
    await client.send(text);
    assert.equal(await within(client.receive(), 3000, 'the echo'), text);
    // Invalid UTF-8 (an overlong '/'), compressed by hand: refused once inflated, with 1007.
    const { client: peer } = await RawClient.open(port, '/', {
      headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    });
    raws.push(peer);
    const RSV1 = 0x40;
    peer.sendFrame(FIN | RSV1 | OP_TEXT, deflateRawSync(Buffer.from([0x61, 0xc0, 0xaf])));
    assert.equal(await closeCode(peer), 1007);
  });

  it('a bad decodeText is refused with InvalidArgumentError, by the server and connect()', async () => {
    for (const decodeText of ['no', 0, null]) {
      const options = { decodeText } as unknown as ConnectionSettings;
      assert.throws(() => new WebSocketServer({ noServer: true, ...options }), {
        name: 'InvalidArgumentError',
        reason: 'INVALID_OPTION',
        message: /decodeText/,
      });
      await assert.rejects(connect('ws://127.0.0.1:1/', options), {
        name: 'InvalidArgumentError',
        reason: 'INVALID_OPTION',
      });
    }
  });
});

describe('strings (the default): large text frames, unmasked into their buffer as they arrive', () => {
  it('a 3 MiB text frame in 64 KiB writes is decoded whole, and echoed as the same text', async () => {
    const port = await serve({}, (connection) => {
      connection.on('message', (data) => void connection.send(data));
    });
    const peer = await rawClient(port);
    const whole = utf8Text(3 << 20);
    await writeChopped(peer, encode({ flags: FIN | OP_TEXT, payload: whole }, true), 65_536);
    const [echo] = await readDataFrames(peer, 1);
    assert.equal(echo.flags, FIN | OP_TEXT);
    assert.ok(whole.equals(echo.payload), 'the same UTF-8 back');
  });

  it('large ASCII text, and large text with one non-ASCII character at its end, arrive as the same strings', async () => {
    const received: Message[] = [];
    const port = await serve({}, (connection) => {
      connection.on('message', (data) => received.push(data));
    });
    const client = await connect(`ws://127.0.0.1:${port}/`);
    clients.push(client);
    const ascii = 'plain ASCII text, '.repeat(20_000);
    const almost = ascii + 'ÿ'; // ÿ is one byte in Latin-1 but two in UTF-8
    await client.send(ascii);
    await client.send(almost);
    await client.send(ascii.slice(0, 1000));
    for (let i = 0; i < 300 && received.length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(received.length, 3);
    assert.ok(received[0] === ascii, 'the ASCII string');
    assert.ok(received[1] === almost, 'the string with ÿ at its end');
    assert.ok(received[2] === ascii.slice(0, 1000), 'a short one');
  });

  it('a bad byte early in a large text frame fails the connection with 1007 before the frame ends', async () => {
    const port = await serve({}, (connection) => {
      connection.on('message', (data) => void connection.send(data));
    });
    const peer = await rawClient(port);
    const payload = utf8Text(2 << 20);
    payload[100_000] = 0xff; // never valid in UTF-8
    const wire = encode({ flags: FIN | OP_TEXT, payload }, true);
    // Only the first 512 KiB: the frame never completes, the refusal comes from the check in place.
    await writeChopped(peer, wire.subarray(0, 512 << 10), 65_536);
    assert.equal(await closeCode(peer), 1007);
  });
});
