// RFC 7692 conformance, categories 12 and 13 (as Autobahn's, shortened): compressed messages of
// several kinds and sizes, whole and auto-fragmented, echoed under each of Autobahn's seven
// negotiation variants, against the server and against the client.
//
// The byte-level peer compresses and inflates with zlib *streams* (one per direction, kept for
// the connection, reset between messages without context takeover: ws's way), independent of
// wsnet's codec, which uses one-shot calls with the history as a preset dictionary. Each side
// must read what the other writes, message after message.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { WebSocketServer, connect, type WebSocketConnection } from '../../src/messages/index.js';
import { pseudoRandomBytes } from '../helpers/bytes.js';
import { echo } from '../helpers/echo-servers.js';
import { startFrameServer } from '../helpers/frame-server.js';
import { RawClient } from '../helpers/raw-client.js';

const FIN = 0x80;
const RSV1 = 0x40;
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** One direction of a streaming DEFLATE context (RFC 7692 §7.2.1, §7.2.2). */
class Stream {
  readonly #zlib: zlib.DeflateRaw | zlib.InflateRaw;
  readonly #reset: boolean;

  constructor(kind: 'deflate' | 'inflate', windowBits: number, noContextTakeover: boolean) {
    // zlib cannot deflate with 8 bits (it uses 9): the variants here never ask for 8.
    this.#zlib =
      kind === 'deflate'
        ? zlib.createDeflateRaw({ windowBits })
        : zlib.createInflateRaw({ windowBits: Math.max(windowBits, 9) });
    this.#reset = noContextTakeover;
    // Flowing: a paused stream would stop at its buffer's high-water mark, before the flush.
    this.#zlib.on('data', (chunk: Buffer) => this.#output.push(chunk));
  }

  #output: Buffer[] = [];

  async #run(input: Buffer): Promise<Buffer> {
    const stream = this.#zlib;
    stream.write(input);
    await new Promise<void>((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
    await new Promise((resolve) => setImmediate(resolve)); // any output still on its way
    const out = Buffer.concat(this.#output.splice(0));
    if (this.#reset) stream.reset();
    return out;
  }

  async compress(data: Buffer): Promise<Buffer> {
    const out = await this.#run(data);
    assert.deepEqual(out.subarray(-4), TRAILER);
    return out.subarray(0, -4);
  }

  inflate(payload: Buffer): Promise<Buffer> {
    return this.#run(Buffer.concat([payload, TRAILER]));
  }

  close(): void {
    this.#zlib.close();
  }
}

/** Autobahn's payload kinds, generated (their files are not shipped): text and binary. */
function payload(kind: number, size: number): { data: Buffer; binary: boolean } {
  const rows = Array.from({ length: Math.ceil(size / 60) + 1 }, (_, i) =>
    JSON.stringify({ id: i, name: `user-${(i * 7919) % 503}`, ok: i % 3 === 0, note: 'Grüße' }),
  ).join(',');
  switch (kind) {
    case 0:
      return { data: Buffer.from(`[${rows}]`).subarray(0, size), binary: false };
    case 1:
      return { data: pseudoRandomBytes(size, 12), binary: true };
    default: {
      // A smooth image: compressible bytes that are not text.
      const image = Buffer.alloc(size);
      for (let i = 0; i < size; i++) image[i] = Math.round(128 + 100 * Math.sin(i / 97));
      return { data: image, binary: true };
    }
  }
}

/** A whole message as text when it is text: a JSON cut at `size` may split a character. */
function asMessage(data: Buffer, binary: boolean): Buffer {
  if (binary) return data;
  let end = data.length;
  while (end > 0 && (data[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && data[end - 1] >= 0xc0) end--;
  return data.subarray(0, end);
}

/** Autobahn's 13.x variants: what the client offers, and what the server accepts. */
const VARIANTS: ReadonlyArray<{ id: string; offer: string; response: string }> = [
  { id: '13.1', offer: 'permessage-deflate', response: 'permessage-deflate' },
  {
    id: '13.2',
    offer: 'permessage-deflate; server_no_context_takeover',
    response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  },
  {
    id: '13.3',
    offer: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits',
    response: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9',
  },
  {
    id: '13.4',
    offer: 'permessage-deflate; server_max_window_bits=15; client_max_window_bits',
    response: 'permessage-deflate; server_max_window_bits=15; client_max_window_bits=15',
  },
  {
    id: '13.5',
    offer:
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits',
    response:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
  },
  {
    id: '13.6',
    offer:
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits',
    response:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15',
  },
  {
    id: '13.7',
    offer:
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits, permessage-deflate; server_no_context_takeover, permessage-deflate',
    response:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
  },
];

/** The agreement a response states, as the peer must honour it. */
function agreementOf(response: string) {
  const has = (name: string) => response.includes(name);
  const bits = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(response)?.[1] ?? 15);
  return {
    serverReset: has('server_no_context_takeover'),
    clientReset: has('client_no_context_takeover'),
    serverBits: bits('server_max_window_bits'),
    clientBits: bits('client_max_window_bits'),
  };
}

/** Messages of each kind at Autobahn's sizes (shortened), each whole and in 1300-byte frames. */
const MESSAGES = [16, 64, 256, 1024, 4096, 16384, 65536, 131072].flatMap((size, i) =>
  [0, 1, 2].map((kind) => ({ ...payload(kind, size), fragment: i % 2 === 0 ? 0 : 1300 })),
);

/** Sends one compressed message, fragmented or not, and reads the echo back, inflated. */
async function roundTrip(
  peer: RawClient,
  masked: boolean,
  out: Stream,
  back: Stream,
  message: { data: Buffer; binary: boolean; fragment: number },
): Promise<void> {
  const data = asMessage(message.data, message.binary);
  const opcode = message.binary ? OP_BINARY : OP_TEXT;
  const compressed = await out.compress(data);
  const size = message.fragment === 0 ? compressed.length + 1 : message.fragment;
  for (let at = 0; at === 0 || at < compressed.length; at += size) {
    const last = at + size >= compressed.length;
    const flags = (last ? FIN : 0) | (at === 0 ? RSV1 | opcode : OP_CONT);
    peer.sendFrame(flags, compressed.subarray(at, at + size), masked);
  }
  const parts: Buffer[] = [];
  let first: number | undefined;
  for (;;) {
    const frame = await peer.readFrame(10_000);
    assert.notEqual(frame.flags & 0x0f, OP_CLOSE, 'the endpoint closed instead of echoing');
    first ??= frame.flags;
    if (parts.length > 0)
      assert.equal(frame.flags & (RSV1 | 0x0f), OP_CONT, 'RSV1 on a continuation');
    parts.push(frame.payload);
    if ((frame.flags & FIN) !== 0) break;
  }
  assert.equal(first & 0x0f, opcode, 'the echo has the message type');
  const echoed = Buffer.concat(parts);
  const body = (first & RSV1) !== 0 ? await back.inflate(echoed) : echoed;
  assert.ok(body.equals(data), `the echo of ${data.length} bytes differs`);
}

const servers: WebSocketServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe('RFC 7692 conformance (Autobahn 12.x and 13.x, shortened)', () => {
  for (const variant of VARIANTS) {
    const agreed = agreementOf(variant.response);

    it(`${variant.id} server: offer "${variant.offer}"`, async () => {
      const server = await WebSocketServer.listen({
        port: 0,
        host: '127.0.0.1',
        // Accept as Autobahn's accept functions do: ask the client for what the variant shows.
        perMessageDeflate: {
          clientNoContextTakeover: agreed.clientReset,
          clientMaxWindowBits: agreed.clientBits as 9,
          serverMaxWindowBits: 15,
          threshold: 0,
        },
      });
      servers.push(server);
      server.on('connection', (connection: WebSocketConnection) => void echo(connection));
      const { client, head } = await RawClient.open(server.address().port, '/', {
        headers: [['Sec-WebSocket-Extensions', variant.offer]],
      });
      const response = head.headers.find(([name]) => /^sec-websocket-extensions$/i.test(name));
      assert.equal(response?.[1], variant.response);
      const out = new Stream('deflate', agreed.clientBits, agreed.clientReset);
      const back = new Stream('inflate', agreed.serverBits, agreed.serverReset);
      try {
        for (const message of MESSAGES) await roundTrip(client, true, out, back, message);
      } finally {
        out.close();
        back.close();
        client.destroy();
      }
    });

    it(`${variant.id} client: response "${variant.response}"`, async () => {
      const frameServer = await startFrameServer({ extensions: variant.response });
      const offer = {
        serverNoContextTakeover: variant.offer.includes('server_no_context_takeover'),
        ...(/server_max_window_bits=(\d+)/.exec(variant.offer) === null
          ? {}
          : { serverMaxWindowBits: agreed.serverBits as 9 }),
        threshold: 0,
      };
      const connection = await connect(frameServer.url, { perMessageDeflate: offer });
      const echoed = echo(connection);
      const peer = await frameServer.next();
      const out = new Stream('deflate', agreed.serverBits, agreed.serverReset);
      const back = new Stream('inflate', agreed.clientBits, agreed.clientReset);
      try {
        assert.equal(connection.extensions, variant.response);
        for (const message of MESSAGES) await roundTrip(peer, false, out, back, message);
      } finally {
        out.close();
        back.close();
        connection.terminate();
        await echoed;
        await frameServer.stop();
      }
    });
  }
});
