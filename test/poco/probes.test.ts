// The probe cases of poco-behaviour.md (b): what POCO 1.11 was seen to do on the wire, checked
// byte for byte against the wsnet server (P1-P6, P8, P9; P7 is the client side).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  ConnectionResetException,
  WebSocket,
  WebSocketException,
  type HTTPRequestHandler,
  type HTTPServerRequest,
  type HTTPServerResponse,
} from '../../src/poco/index.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { createKey } from '../../src/protocol/handshake/keys.js';
import { fixedMask } from '../../src/protocol/mask.js';
import { startEchoServer, startServer, type RunningServer } from '../helpers/poco-server.js';
import { RawClient, upgradeRequest, type HttpHead } from '../helpers/raw-client.js';

const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A handler that records what each receiveFrame call returns, or throws, until EOF. */
function recorder(configure: (ws: WebSocket) => void = () => undefined, bufferSize = 1024) {
  const results: Array<[number, number] | string> = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const handler: HTTPRequestHandler = {
    async handleRequest(request: HTTPServerRequest, response: HTTPServerResponse) {
      const ws = new WebSocket(request, response);
      configure(ws);
      try {
        for (;;) {
          const buffer = new Uint8Array(bufferSize);
          const { n, flags } = await ws.receiveFrame(buffer);
          results.push([n, flags]);
          if (n === 0 && flags === 0) break;
        }
      } catch (error) {
        results.push(
          error instanceof WebSocketException ? `${error.code()} ${error.message}` : String(error),
        );
      } finally {
        done();
      }
    },
  };
  return { results, finished, factory: { createRequestHandler: () => handler } };
}

async function withServer<T>(
  server: RunningServer,
  body: (port: number) => Promise<T>,
): Promise<T> {
  try {
    return await body(server.port);
  } finally {
    server.stop();
  }
}

function header(head: HttpHead, name: string): string | undefined {
  return head.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

describe('P1: the handshake matrix (poco-behaviour.md §7)', () => {
  const good: Array<[string, string]> = [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', SAMPLE_KEY],
    ['Host', 'localhost'],
  ];
  const request = (headers: Array<[string, string]>, first = 'GET /ws HTTP/1.1') =>
    `${first}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  const without = (name: string) => good.filter(([n]) => n !== name);
  const replace = (name: string, value: string) =>
    good.map(([n, v]): [string, string] => [n, n === name ? value : v]);

  const refused: Array<[string, string, boolean]> = [
    ['no Upgrade', request(without('Upgrade')), false],
    ['no Connection', request(without('Connection')), false],
    ['Upgrade: websocket, foo', request(replace('Upgrade', 'websocket, foo')), false],
    ['no Sec-WebSocket-Version', request(without('Sec-WebSocket-Version')), false],
    ['version 8', request(replace('Sec-WebSocket-Version', '8')), true],
    ['no Sec-WebSocket-Key', request(without('Sec-WebSocket-Key')), false],
  ];
  for (const [what, text, versionHeader] of refused) {
    it(`${what}: 400 with POCO's exact headers, and the connection stays open`, async () => {
      await withServer(await startEchoServer(), async (port) => {
        const client = await RawClient.connect(port);
        client.write(text);
        const head = await client.readHead();
        assert.equal(head.statusLine, 'HTTP/1.1 400 Bad Request');
        assert.deepEqual(
          head.headers.map(([n]) => n),
          [
            'Date',
            'Connection',
            ...(versionHeader ? ['Sec-WebSocket-Version'] : []),
            'Content-Length',
          ],
        );
        assert.match(header(head, 'Date')!, DATE);
        assert.equal(header(head, 'Connection'), 'Keep-Alive');
        if (versionHeader) assert.equal(header(head, 'Sec-WebSocket-Version'), '13');
        assert.equal(header(head, 'Content-Length'), '0');
        // Keep-alive: the same connection takes the next request.
        client.write(request(good));
        assert.equal((await client.readHead()).status, 101);
        client.destroy();
      });
    });
  }

  const accepted: Array<[string, string]> = [
    [
      'Connection: keep-alive, Upgrade and Upgrade: WebSocket',
      request(
        replace('Connection', 'keep-alive, Upgrade').map(([n, v]): [string, string] => [
          n,
          n === 'Upgrade' ? 'WebSocket' : v,
        ]),
      ),
    ],
    ['HTTP/1.0', request(good, 'GET /ws HTTP/1.0')],
    ['POST', request(good, 'POST /ws HTTP/1.1')],
    ['the key "abc"', request(replace('Sec-WebSocket-Key', 'abc'))],
  ];
  for (const [what, text] of accepted) {
    it(`accepts ${what}`, async () => {
      await withServer(await startEchoServer(), async (port) => {
        const client = await RawClient.connect(port);
        client.write(text);
        const head = await client.readHead();
        assert.equal(head.status, 101);
        if (text.includes('HTTP/1.0'))
          assert.equal(head.statusLine, 'HTTP/1.0 101 Switching Protocols');
        client.destroy();
      });
    });
  }
});

describe('P2: the 101 response, byte for byte', () => {
  it("status line, Date, Connection, the handler's headers, Upgrade, Sec-WebSocket-Accept; no Content-Length", async () => {
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        response.set('Sec-WebSocket-Protocol', 'chat');
        const ws = new WebSocket(request, response);
        await ws.receiveFrame(new Uint8Array(16));
      },
    };
    await withServer(await startServer({ createRequestHandler: () => handler }), async (port) => {
      const client = await RawClient.connect(port);
      client.write(
        upgradeRequest('/ws', port, SAMPLE_KEY, [['Sec-WebSocket-Protocol', 'chat, superchat']]),
      );
      const head = await client.readHead();
      const date = header(head, 'Date')!;
      assert.match(date, DATE);
      // Now, not a stale value (the server formats it once per second): this machine's clock,
      // at the one-second resolution of the format.
      const age = Date.now() - Date.parse(date);
      assert.ok(age > -1000 && age < 2000, `Date ${date} is ${age} ms away from now`);
      assert.equal(
        head.raw,
        `HTTP/1.1 101 Switching Protocols\r\nDate: ${date}\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: chat\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n\r\n`,
      );
      client.destroy();
    });
  });

  it('Server is sent only when HTTPServerParams.setSoftwareVersion was called', async () => {
    const { HTTPServerParams } = await import('../../src/poco/index.js');
    const params = new HTTPServerParams();
    params.setSoftwareVersion('wsnet-test/1.0');
    await withServer(await startEchoServer({ params }), async (port) => {
      const { head, client } = await RawClient.open(port);
      assert.deepEqual(
        head.headers.map(([n]) => n),
        ['Date', 'Connection', 'Server', 'Upgrade', 'Sec-WebSocket-Accept'],
      );
      assert.equal(header(head, 'Server'), 'wsnet-test/1.0');
      client.destroy();
    });
  });
});

describe('P3: what receiveFrame returns for each kind of frame (poco-behaviour.md §4.1)', () => {
  it('flags are the whole first byte; control, continuation, RSV and reserved-opcode frames come through', async () => {
    const probe = recorder();
    await withServer(await startServer(probe.factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.sendFrame(0x81, 'Hello');
      client.sendFrame(0x81, 'Hello', false); // unmasked: accepted, no RFC check
      client.sendFrame(0x89, '');
      client.sendFrame(0x89, 'abc');
      client.sendFrame(0x8a, 'p');
      client.sendFrame(0x88, Buffer.from([0x03, 0xe8]));
      client.sendFrame(0x88, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')]));
      client.sendFrame(0x88, '');
      client.sendFrame(0x01, 'He');
      client.sendFrame(0x00, 'll');
      client.sendFrame(0x80, 'o');
      client.sendFrame(0xf1, 'rsv');
      client.sendFrame(0x83, 'op3');
      client.sendFrame(0x89, Buffer.alloc(126));
      client.write(Buffer.from([0x82, 0xfe, 0x00, 0x02, 0, 0, 0, 0, 0x61, 0x62])); // non-minimal 16-bit length
      client.sendFrame(0x00, ''); // an empty non-final continuation: looks like EOF
      client.end();
      await probe.finished;
      assert.deepEqual(probe.results, [
        [5, 0x81],
        [5, 0x81],
        [0, 0x89],
        [3, 0x89],
        [1, 0x8a],
        [2, 0x88],
        [6, 0x88],
        [0, 0x88],
        [2, 0x01],
        [2, 0x00],
        [1, 0x80],
        [3, 0xf1],
        [3, 0x83],
        [126, 0x89],
        [2, 0x82],
        [0, 0x00], // cannot be told apart from EOF (POCO GH #2351)
      ]);
      client.destroy();
    });
  });

  it('end of stream at a frame boundary: 0 with flags 0', async () => {
    const probe = recorder();
    await withServer(await startServer(probe.factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.sendFrame(0x82, 'x');
      client.end();
      await probe.finished;
      assert.deepEqual(probe.results, [
        [1, 0x82],
        [0, 0],
      ]);
    });
  });
});

describe('P4: payload limits', () => {
  it('maxPayloadSize 16: 16 bytes pass, 17 bytes throw 10 "Payload too big"', async () => {
    const probe = recorder((ws) => ws.setMaxPayloadSize(16));
    await withServer(await startServer(probe.factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.sendFrame(0x82, Buffer.alloc(16));
      client.sendFrame(0x82, Buffer.alloc(17));
      await probe.finished;
      assert.deepEqual(probe.results, [[16, 0x82], '10 Payload too big']);
      client.destroy();
    });
  });

  it('maxPayloadSize set in the handler holds for a frame that came with the handshake (fuzz find)', async () => {
    // The request and the frame in one write: node:http reads the frame past the head, and the
    // WebSocket parsed it when it was made, before the handler lowered the limit.
    const probe = recorder((ws) => ws.setMaxPayloadSize(16));
    await withServer(await startServer(probe.factory), async (port) => {
      const client = await RawClient.connect(port);
      const frame = Buffer.concat([
        ...encodeFrame(0x82, Buffer.alloc(17), fixedMask([1, 2, 3, 4])),
      ]);
      client.write(
        Buffer.concat([Buffer.from(upgradeRequest('/ws', port, createKey()), 'latin1'), frame]),
      );
      assert.equal((await client.readHead()).status, 101);
      client.end();
      await probe.finished;
      assert.deepEqual(probe.results, ['10 Payload too big']);
      client.destroy();
    });
  });

  it('setMaxPayloadSize(0) is an AssertionViolationException', async () => {
    let thrown: unknown;
    const probe = recorder((ws) => {
      try {
        ws.setMaxPayloadSize(0);
      } catch (error) {
        thrown = error;
      }
    });
    await withServer(await startServer(probe.factory), async (port) => {
      const { client } = await RawClient.open(port);
      client.end();
      await probe.finished;
      assert.equal((thrown as Error).name, 'Assertion violation');
    });
  });

  it('a buffer of 8 for a 9-byte frame throws 10 "Insufficient buffer for payload size 9"; a retry with a bigger buffer gets the frame', async () => {
    const outcome: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        const ws = new WebSocket(request, response);
        try {
          await ws.receiveFrame(new Uint8Array(8));
        } catch (error) {
          outcome.push(`${(error as WebSocketException).code()} ${(error as Error).message}`);
        }
        const buffer = new Uint8Array(9);
        const { n, flags } = await ws.receiveFrame(buffer);
        outcome.push(`${n} ${flags} ${Buffer.from(buffer).toString()}`);
        const next = await ws.receiveFrame(buffer);
        outcome.push(`${next.n} ${Buffer.from(buffer.subarray(0, next.n)).toString()}`);
        done();
      },
    };
    await withServer(await startServer({ createRequestHandler: () => handler }), async (port) => {
      const { client } = await RawClient.open(port);
      client.sendFrame(0x81, '123456789');
      client.sendFrame(0x81, 'next');
      await finished;
      assert.deepEqual(outcome, [
        '10 Insufficient buffer for payload size 9',
        '9 129 123456789',
        '4 next',
      ]);
      client.destroy();
    });
  });

  it('a header claiming 2^63 - 1 bytes, or with the top length bit set, is "Payload too big" at once', async () => {
    for (const header of ['82 ff 7f ff ff ff ff ff ff ff', '82 ff 80 00 00 00 00 00 00 00']) {
      const probe = recorder();
      await withServer(await startServer(probe.factory), async (port) => {
        const { client } = await RawClient.open(port);
        client.write(
          Buffer.concat([Buffer.from(header.replace(/ /g, ''), 'hex'), Buffer.from([1, 2, 3, 4])]),
        );
        await probe.finished;
        assert.deepEqual(probe.results, ['10 Payload too big'], header);
        client.destroy();
      });
    }
  });
});

describe('P5: end of stream inside a frame', () => {
  it('EOF after every possible cut of a masked frame is 11 "Incomplete frame received", never a hang', async () => {
    const frame = Buffer.concat(encodeFrame(0x82, Buffer.alloc(300, 1), fixedMask([1, 2, 3, 4])));
    // Every cut in the header (2-byte base, 2-byte length, 4-byte mask) and some in the payload.
    const cuts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 150, frame.length - 1];
    for (const cut of cuts) {
      const probe = recorder();
      await withServer(await startServer(probe.factory), async (port) => {
        const { client } = await RawClient.open(port);
        client.write(frame.subarray(0, cut));
        client.end();
        await probe.finished;
        assert.deepEqual(probe.results, ['11 Incomplete frame received'], `cut after ${cut} bytes`);
        client.destroy();
      });
    }
  });

  it('a reset in the middle of a frame is a ConnectionResetException', async () => {
    let error: unknown;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        const ws = new WebSocket(request, response);
        try {
          await ws.receiveFrame(new Uint8Array(1024));
        } catch (e) {
          error = e;
        }
        done();
      },
    };
    await withServer(await startServer({ createRequestHandler: () => handler }), async (port) => {
      const { client } = await RawClient.open(port);
      client.write(Buffer.from([0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4, 5]));
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.reset();
      await finished;
      assert.ok(error instanceof ConnectionResetException, String(error));
      assert.equal(error.displayText(), 'Connection reset by peer');
    });
  });
});

describe('P6: frames that arrive with the handshake', () => {
  it('are delivered, and available() counts their raw bytes (headers included)', async () => {
    let available = -1;
    const frames: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        const ws = new WebSocket(request, response);
        available = ws.available();
        const buffer = new Uint8Array(64);
        for (let i = 0; i < 2; i++) {
          const { n } = await ws.receiveFrame(buffer);
          frames.push(Buffer.from(buffer.subarray(0, n)).toString());
        }
        done();
      },
    };
    await withServer(await startServer({ createRequestHandler: () => handler }), async (port) => {
      const client = await RawClient.connect(port);
      const early = Buffer.concat([
        ...encodeFrame(0x81, Buffer.from('early'), fixedMask([1, 2, 3, 4])), // 2 + 4 + 5 = 11 bytes
        ...encodeFrame(0x81, Buffer.from('frame2'), fixedMask([1, 2, 3, 4])), // 12 bytes
      ]);
      client.write(
        Buffer.concat([Buffer.from(upgradeRequest('/ws', port, createKey()), 'latin1'), early]),
      );
      assert.equal((await client.readHead()).status, 101);
      await finished;
      assert.equal(available, 23);
      assert.deepEqual(frames, ['early', 'frame2']);
      client.destroy();
    });
  });
});

describe('P8: shutdown(1001, "bye")', () => {
  it('sends 88 05 03 e9 62 79 65 and returns 5; shutdown() sends 88 02 03 e8', async () => {
    const returned: number[] = [];
    const handler: HTTPRequestHandler = {
      async handleRequest(request, response) {
        const ws = new WebSocket(request, response);
        returned.push(await ws.shutdown(1001, 'bye'));
        returned.push(await ws.shutdown());
        returned.push(await ws.shutdown(1005, 'x'.repeat(200))); // unchecked, as POCO
        await ws.receiveFrame(new Uint8Array(8));
      },
    };
    await withServer(await startServer({ createRequestHandler: () => handler }), async (port) => {
      const { client } = await RawClient.open(port);
      const bytes = await client.readBytes(7 + 4 + 4 + 202);
      assert.equal(bytes.subarray(0, 7).toString('hex'), '880503e9627965');
      assert.equal(bytes.subarray(7, 11).toString('hex'), '880203e8');
      assert.equal(bytes.subarray(11, 15).toString('hex'), '887e00ca');
      assert.deepEqual(returned, [5, 2, 202]);
      client.destroy();
    });
  });
});
