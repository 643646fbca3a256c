// permessage-deflate in the message API (RFC 7692), over loopback: negotiation in both roles,
// messages both ways in both forms (for await and events), RSV1 on the wire, the server's
// memory budget, and a client that fails a bad response with 1010.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { HandshakeError } from '../../src/protocol/errors.js';
import { WebSocketServer, connect, type ServerOptions } from '../../src/messages/index.js';
import { computeAccept } from '../../src/protocol/handshake/keys.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { RawClient } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';

const RSV1 = 0x40;
const FIN = 0x80;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;

const echoServers = new EchoServers();
after(() => echoServers.closeAll());
const echoServer = (options: Partial<ServerOptions> = {}) => echoServers.start(options);

const json = (n: number) =>
  JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ id: i, user: `user${i % 17}`, text: 'hello there' })),
  );

describe('permessage-deflate: negotiation', () => {
  it('a server with perMessageDeflate: true and a default client agree on it', async () => {
    const server = await echoServer({ perMessageDeflate: true });
    let offered: string | undefined;
    server.on('connection', (_connection, request) => {
      offered = request.headers['sec-websocket-extensions'];
    });
    const client = await connect(server.url);
    assert.equal(offered, 'permessage-deflate; client_max_window_bits');
    assert.equal(client.extensions, 'permessage-deflate; client_max_window_bits=12');
    const [accepted] = [...server.clients];
    assert.equal(accepted.extensions, client.extensions);
    await client.close();
  });

  it('a server declines by default; a client with perMessageDeflate: false offers nothing', async () => {
    const server = await echoServer();
    const client = await connect(server.url);
    assert.equal(client.extensions, '');
    await client.close();
    const compressing = await echoServer({ perMessageDeflate: true });
    let offered: string | undefined = 'not seen';
    compressing.on('connection', (_connection, request) => {
      offered = request.headers['sec-websocket-extensions'];
    });
    const plain = await connect(compressing.url, { perMessageDeflate: false });
    assert.equal(offered, undefined);
    assert.equal(plain.extensions, '');
    await plain.close();
  });

  it('the client asks for no context takeover and a smaller server window; the server honours both', async () => {
    const server = await echoServer({ perMessageDeflate: true });
    const client = await connect(server.url, {
      perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 },
    });
    assert.equal(
      client.extensions,
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    );
    for (let i = 0; i < 5; i++) {
      await client.send(json(50));
      assert.equal(await within(client.receive()), json(50));
    }
    await client.close();
  });

  it('refuses option values that cannot mean anything, naming them', async () => {
    assert.throws(
      () =>
        new WebSocketServer({
          noServer: true,
          perMessageDeflate: { serverMaxWindowBits: 16 as 15 },
        }),
      /serverMaxWindowBits/,
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, perMessageDeflate: { level: 10 } }),
      /perMessageDeflate\.level/,
    );
    await assert.rejects(
      connect('ws://127.0.0.1:1/', { perMessageDeflate: { memLevel: 0 } }),
      /memLevel/,
    );
  });
});

describe('permessage-deflate: messages', () => {
  const sizes = [0, 1, 1023, 1024, 5000, 70_000, 1024 * 1024];

  for (const form of ['for await', 'events'] as const) {
    it(`text and binary of ${sizes.join(', ')} bytes round-trip (${form})`, async () => {
      const server = await echoServer({ perMessageDeflate: true });
      const client = await connect(server.url, { perMessageDeflate: { threshold: 0 } });
      const received: Array<string | Buffer> = [];
      const next =
        form === 'events'
          ? (() => {
              const waiting: Array<(message: string | Buffer) => void> = [];
              client.on('message', (data) => {
                const wake = waiting.shift();
                if (wake !== undefined) wake(data);
                else received.push(data);
              });
              return () =>
                received.length > 0
                  ? Promise.resolve(received.shift()!)
                  : new Promise<string | Buffer>((resolve) => waiting.push(resolve));
            })()
          : () => client.receive();
      for (const size of sizes) {
        const text = json(Math.ceil(size / 40)).slice(0, size);
        const bytes = Buffer.from(text.split('').reverse().join(''));
        void client.send(text); // not awaited: the event form's usual way
        void client.send(bytes);
        assert.equal(await within(next(), 10_000), text);
        assert.deepEqual(await within(next(), 10_000), bytes);
      }
      assert.ok(client.compressionMemory > 0);
      await client.close();
    });
  }

  it('a fragmented message sent with sendStream is compressed as one message', async () => {
    const server = await echoServer({ perMessageDeflate: true });
    const client = await connect(server.url);
    const parts = ['{"a":', '"' + 'x'.repeat(3000) + '"', ',"b":', '"ünïcödé"}'];
    await client.sendStream(parts, { compress: true });
    assert.equal(await within(client.receive()), parts.join(''));
    await client.close();
  });

  it('messages sent before close() all arrive before the close', async () => {
    const server = await echoServer({ perMessageDeflate: true });
    const client = await connect(server.url);
    const echoed: string[] = [];
    client.on('message', (data) => echoed.push(data as string));
    for (let i = 0; i < 50; i++) void client.send(`${i} ${json(40)}`);
    // The server echoes and the client closes once all came back.
    await within(
      new Promise<void>((resolve) => {
        client.on('message', () => {
          if (echoed.length === 50) resolve();
        });
      }),
      10_000,
    );
    const status = await client.close();
    assert.equal(status.code, 1000);
    assert.deepEqual(
      echoed.map((message) => Number(message.split(' ')[0])),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });
});

describe('permessage-deflate: on the wire', () => {
  it('RSV1 marks the compressed messages the server sends; compress: false and short ones go plain', async () => {
    const server = await WebSocketServer.listen({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: { threshold: 100 },
    });
    echoServers.track(server);
    server.on('connection', (connection) => {
      void connection.send('x'.repeat(1000));
      void connection.send('x'.repeat(1000), { compress: false });
      void connection.send('short');
      void connection.send(Buffer.alloc(10), { compress: true });
    });
    const port = server.address().port;
    const { client, head } = await RawClient.open(port, '/', {
      headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    });
    assert.equal(
      head.headers.find(([name]) => name.toLowerCase() === 'sec-websocket-extensions')?.[1],
      'permessage-deflate',
    );
    const frames = [];
    for (let i = 0; i < 4; i++) frames.push(await client.readFrame());
    assert.deepEqual(
      frames.map((frame) => frame.flags),
      [FIN | RSV1 | TEXT, FIN | TEXT, FIN | TEXT, FIN | RSV1 | BINARY],
    );
    const inflate = (payload: Buffer) =>
      zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
    assert.equal(inflate(frames[0].payload).toString(), 'x'.repeat(1000));
    assert.ok(frames[0].payload.length < 50);
    assert.deepEqual(inflate(frames[3].payload), Buffer.alloc(10));
    client.destroy();
  });

  it('a peer that sets RSV1 on a control frame is failed with 1002', async () => {
    const server = await echoServer({ perMessageDeflate: true });
    const { client } = await RawClient.open(server.address().port, '/', {
      headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    });
    client.sendFrame(FIN | RSV1 | 0x9, 'ping');
    const frame = await client.readFrame();
    assert.equal(frame.flags, FIN | CLOSE);
    assert.equal(frame.payload.readUInt16BE(0), 1002);
    client.destroy();
  });

  it('a 1 GiB bomb in ~1 MiB is failed with 1009; the server goes on serving', async () => {
    const server = await echoServer({ perMessageDeflate: true, maxMessageSize: 1024 * 1024 });
    // 64 MiB of zeros, sync-flushed: copies of it chain into one valid stream of zeros.
    const zeros = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), {
      level: 9,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => zeros));
    const { client } = await RawClient.open(server.address().port, '/', {
      headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']],
    });
    client.sendFrame(FIN | RSV1 | BINARY, bomb.subarray(0, bomb.length - 4));
    const frame = await client.readFrame(10_000);
    assert.equal(frame.flags, FIN | CLOSE);
    assert.equal(frame.payload.readUInt16BE(0), 1009);
    client.destroy();
    const good = await connect(server.url);
    await good.send('still here '.repeat(200));
    assert.equal(await within(good.receive()), 'still here '.repeat(200));
    await good.close();
  });
});

describe('permessage-deflate: memory', () => {
  it('a server past maxCompressionMemory accepts new connections uncompressed', async () => {
    // Each connection is charged 4 KiB (send history) + 4 KiB (receive history, window 12).
    const server = await echoServer({ perMessageDeflate: true, maxCompressionMemory: 20_000 });
    const first = await connect(server.url);
    const second = await connect(server.url);
    const third = await connect(server.url);
    assert.deepEqual(
      [first.extensions !== '', second.extensions !== '', third.extensions !== ''],
      [true, true, false],
    );
    assert.equal(server.compressionMemory, 2 * 8192);
    await third.send('plain '.repeat(500));
    assert.equal(await within(third.receive()), 'plain '.repeat(500));
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.compressionMemory, 8192);
    const fourth = await connect(server.url);
    assert.notEqual(fourth.extensions, '');
    await Promise.all([second.close(), third.close(), fourth.close()]);
  });

  it('without context takeover a connection holds no compression memory between messages', async () => {
    const server = await echoServer({
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    const client = await connect(server.url, {
      perMessageDeflate: { clientNoContextTakeover: true },
    });
    await client.send(json(100));
    await within(client.receive());
    assert.equal(client.compressionMemory, 0);
    const [accepted] = [...server.clients];
    assert.equal(accepted.compressionMemory, 0);
    assert.equal(server.compressionMemory, 0);
    await client.close();
  });
});

describe('permessage-deflate: a client checks the response strictly', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown parameter', 'permessage-deflate; foo=1', 'INVALID_EXTENSION_RESPONSE'],
    [
      'a repeated parameter',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'INVALID_EXTENSION_RESPONSE',
    ],
    [
      'client_max_window_bits without a value',
      'permessage-deflate; client_max_window_bits',
      'INVALID_EXTENSION_RESPONSE',
    ],
    [
      'a server window of 7',
      'permessage-deflate; server_max_window_bits=7',
      'INVALID_EXTENSION_RESPONSE',
    ],
    [
      'a value with a leading zero',
      'permessage-deflate; server_max_window_bits=09',
      'INVALID_EXTENSION_RESPONSE',
    ],
    [
      'a window of 16',
      'permessage-deflate; client_max_window_bits=16',
      'INVALID_EXTENSION_RESPONSE',
    ],
    ['the extension twice', 'permessage-deflate, permessage-deflate', 'INVALID_EXTENSION_RESPONSE'],
    ['an extension it did not offer', 'x-webkit-deflate-frame', 'UNEXPECTED_EXTENSION'],
  ];
  for (const [what, extensions, reason] of cases) {
    it(`fails the connection with 1010 on ${what}`, async () => {
      // A server that answers 101 with `extensions` and records everything the client sends.
      let bytes = Buffer.alloc(0);
      let ended!: () => void;
      const end = new Promise<void>((resolve) => (ended = resolve));
      const fake = net.createServer((socket) => {
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          const head = bytes.indexOf('\r\n\r\n') !== -1;
          bytes = Buffer.concat([bytes, chunk]);
          if (head || bytes.indexOf('\r\n\r\n') === -1) return;
          const key = /sec-websocket-key: *(\S+)/i.exec(bytes.toString('latin1'))?.[1] ?? '';
          socket.write(
            [
              'HTTP/1.1 101 Switching Protocols',
              'Upgrade: websocket',
              'Connection: Upgrade',
              `Sec-WebSocket-Accept: ${computeAccept(key)}`,
              `Sec-WebSocket-Extensions: ${extensions}`,
              '',
              '',
            ].join('\r\n'),
          );
        });
        socket.on('end', () => {
          ended();
          socket.end();
        });
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = fake.address() as net.AddressInfo;
        await assert.rejects(connect(`ws://127.0.0.1:${port}/`), (error: unknown) => {
          assert.ok(error instanceof HandshakeError);
          assert.equal(error.reason, reason);
          assert.equal(error.status, 101);
          return true;
        });
        await within(end, 3000, 'the client to end TCP');
        // What followed the request: one masked close frame with 1010.
        const frame = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
        assert.equal(frame[0], FIN | CLOSE);
        const mask = frame.subarray(2, 6);
        assert.equal(((frame[6] ^ mask[0]) << 8) | (frame[7] ^ mask[1]), 1010);
      } finally {
        fake.close();
      }
    });
  }
});
