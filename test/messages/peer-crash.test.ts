// No remote peer can crash a message server (issue 8, findings 1-3): each server under attack
// runs in a child process (test/fixtures/message-server.ts), so that a crash is seen as the
// child's exit; after each attack the child must be alive and still serving a good client.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, connect } from '../../src/index.js';
import type { FixtureConfig } from '../fixtures/message-server.js';
import { RawClient, upgradeRequest } from '../helpers/raw-client.js';
import { within } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/message-server.js', import.meta.url));
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
// First header bytes, FIN set (RFC 6455 §5.2).
const TEXT = 0x81;
const CLOSE = 0x88;

const children: ChildProcess[] = [];
afterEach(async () => {
  // End the children this file started, each by its own handle.
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }),
  );
});

interface Fixture {
  readonly child: ChildProcess;
  readonly port: number;
  /** What the child reported over IPC, in order. */
  readonly messages: Array<Record<string, unknown>>;
  alive(): boolean;
  /** How the child ended and the end of what it printed, for assertion messages. */
  describe(): string;
}

/** Starts the fixture and waits for it to listen (or to die trying). */
async function startServer(config: FixtureConfig): Promise<Fixture> {
  const child = fork(FIXTURE, [JSON.stringify(config)], {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const messages: Array<Record<string, unknown>> = [];
  child.on('message', (message) => messages.push(message as Record<string, unknown>));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const describe = () =>
    `${alive() ? 'alive' : `exited (code ${child.exitCode}, signal ${child.signalCode})`}; output: ${output.slice(-1200)}`;
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.on('message', (message: { listening?: number }) => {
        if (message.listening !== undefined) resolve(message.listening);
      });
      child.once('exit', () => reject(new Error(`the fixture died: ${describe()}`)));
    }),
    10_000,
    'the fixture to listen',
  );
  return { child, port, messages, alive, describe };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` up to `tries` times within `ms`, stopping early if the server died (an
 * attempt's own failure then is a symptom, not the finding); returns how many ran.
 */
async function repeat(
  server: Fixture,
  tries: number,
  ms: number,
  attempt: (i: number) => Promise<void>,
): Promise<number> {
  const deadline = Date.now() + ms;
  let i = 0;
  for (; i < tries && Date.now() < deadline && server.alive(); i++) {
    try {
      await attempt(i);
    } catch (error) {
      // A crash closes the attempt's socket before the child's exit is seen: wait for it.
      for (let wait = 0; wait < 50 && server.alive(); wait++) await delay(10);
      if (server.alive()) throw error;
    }
  }
  return i;
}

/** Asserts the server process is alive (after giving a crash time to happen). */
async function assertAlive(server: Fixture, after: string): Promise<void> {
  await delay(200);
  assert.ok(server.alive(), `the server died after ${after}: ${server.describe()}`);
}

/** A good client gets its message echoed, then closes normally. */
async function assertServes(
  server: Fixture,
  path = '/',
  options: Parameters<typeof connect>[1] = {},
): Promise<void> {
  const connection = await within(
    connect(`ws://127.0.0.1:${server.port}${path}`, options),
    3000,
    'a good client to connect',
  );
  try {
    await connection.send('still there?');
    const echoed = await within(connection[Symbol.asyncIterator]().next(), 3000, 'the echo');
    assert.deepEqual(echoed, { done: false, value: 'still there?' });
  } finally {
    await within(connection.close(), 3000, 'the good client to close');
  }
}

/** Reads frames until a close frame; returns its code. */
async function readCloseCode(client: RawClient): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const frame = await client.readFrame(3000);
    if (frame.flags === CLOSE) return frame.payload.readUInt16BE(0);
  }
  throw new Error('no close frame among 100 frames');
}

describe('peer crash: the README echo server (finding 1)', () => {
  const README_ECHO: FixtureConfig = { handler: 'readme-echo' };

  // Finding 1: the for-await loop threw ConnectionClosedError (1006) out of the handler.
  it('survives clients that reset TCP in the middle of a message', async () => {
    const server = await startServer(README_ECHO);
    await repeat(server, 20, 5000, async () => {
      const { client } = await RawClient.open(server.port, '/');
      // A masked text frame header announcing 100 bytes, then 10 of them.
      client.write(Buffer.from([TEXT, 0x80 | 100, 1, 2, 3, 4]));
      client.write(Buffer.alloc(10, 0x61));
      await delay(5);
      client.reset();
      await delay(5);
    });
    await assertAlive(server, 'clients reset TCP mid-message');
    await assertServes(server);
  });

  // Finding 1: `await c.send(m)` rejected for a message that came with the peer's close.
  it('survives clients that send a message and then close normally', async () => {
    const server = await startServer(README_ECHO);
    await repeat(server, 20, 5000, async () => {
      const { client } = await RawClient.open(server.port, '/');
      client.socket.cork();
      client.sendFrame(TEXT, 'last words');
      client.sendFrame(CLOSE, Buffer.from([0x03, 0xe8]));
      client.socket.uncork();
      await client.readToEnd(3000).catch(() => undefined);
      client.destroy();
    });
    await assertAlive(server, 'clients sent a message then closed with 1000');
    await assertServes(server);
  });

  // Finding 1: a ws-style fire-and-forget send() after the peer left.
  it('a fire-and-forget connection.send() after the peer left does not crash the server', async () => {
    const server = await startServer({ handler: 'delayed-echo' });
    await repeat(server, 5, 5000, async () => {
      const { client } = await RawClient.open(server.port, '/');
      client.sendFrame(TEXT, 'answer me later');
      client.sendFrame(CLOSE, Buffer.from([0x03, 0xe8]));
      await client.readToEnd(3000).catch(() => undefined);
      client.destroy();
      await delay(80); // the server's send() comes 50 ms after the message
    });
    await assertAlive(server, 'its delayed send() found the peer gone');
    await assertServes(server);
  });
});

describe('peer crash: refused handshakes followed by a TCP reset (finding 2)', () => {
  const badRequests: Array<{
    name: string;
    config: FixtureConfig;
    request: (port: number) => string;
    status: number;
    /** How a good client reaches this server. */
    good?: { path?: string; options?: Parameters<typeof connect>[1] };
    /** Hold one good connection open during the attack (for maxConnections). */
    hold?: boolean;
  }> = [
    {
      name: '400 (no Sec-WebSocket-Key)',
      config: { handler: 'safe-echo' },
      request: (port) =>
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      status: 400,
    },
    {
      name: '403 (origin not allowed)',
      config: { handler: 'safe-echo', options: { origins: ['http://good.example'] } },
      request: (port) => upgradeRequest('/', port, KEY, [['Origin', 'http://evil.example']]),
      status: 403,
      good: { options: { origin: 'http://good.example' } },
    },
    {
      name: '404 (other path)',
      config: { handler: 'safe-echo', options: { path: '/ok' } },
      request: (port) => upgradeRequest('/elsewhere', port, KEY),
      status: 404,
      good: { path: '/ok' },
    },
    {
      name: '503 (maxConnections)',
      config: { handler: 'safe-echo', options: { maxConnections: 1 } },
      request: (port) => upgradeRequest('/', port, KEY),
      status: 503,
      hold: true,
    },
    {
      name: "401 (the accept hook's refusal)",
      config: { handler: 'safe-echo', ticketHook: true },
      request: (port) => upgradeRequest('/', port, KEY),
      status: 401,
      good: { options: { headers: { 'X-Ticket': 'yes' } } },
    },
  ];

  for (const { name, config, request, status, good = {}, hold = false } of badRequests) {
    // Finding 2: after the refusal nothing listened for the socket's 'error' (ECONNRESET).
    it(`${name} then a reset, 300 times: the server stays up and serves`, async () => {
      const server = await startServer(config);
      const held = hold ? await connect(`ws://127.0.0.1:${server.port}/`) : undefined;
      try {
        const statuses = new Set<number>();
        const tries = await repeat(server, 300, 15_000, async () => {
          const client = await RawClient.connect(server.port);
          client.write(request(server.port));
          statuses.add((await client.readHead(3000)).status);
          client.reset();
        });
        await assertAlive(server, `${tries} attempts of a refusal (${name}) followed by a reset`);
        assert.deepEqual([...statuses], [status]);
        if (held !== undefined) {
          // The held connection is still served; once it is gone, a new one is accepted.
          await held.send('still there?');
          const echoed = await within(held[Symbol.asyncIterator]().next(), 3000, 'the echo');
          assert.deepEqual(echoed, { done: false, value: 'still there?' });
          await within(held.close(), 3000, 'the held connection to close');
          await delay(100);
        }
        await assertServes(server, good.path, good.options);
      } finally {
        held?.terminate();
      }
    });
  }
});

describe('peer crash: listening (finding 3)', () => {
  async function portInUse(): Promise<net.Server> {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    return blocker;
  }

  // Finding 3: EADDRINUSE came as an unhandled 'error' event instead of a rejection.
  it('await WebSocketServer.listen() on a port in use rejects with EADDRINUSE', async () => {
    const blocker = await portInUse();
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const child = fork(FIXTURE, [JSON.stringify({ handler: 'safe-echo', listenOn: port })], {
        execArgv: [],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      children.push(child);
      let output = '';
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const messages: unknown[] = [];
      child.on('message', (message) => messages.push(message));
      const code = await within(
        new Promise((resolve) => child.once('exit', (exitCode) => resolve(exitCode))),
        10_000,
        'the fixture to exit',
      );
      assert.deepEqual(
        messages,
        [{ listen: 'rejected', code: 'EADDRINUSE' }],
        `exit code ${String(code)}; stderr: ${output.slice(-1200)}`,
      );
      assert.equal(code, 0);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  // Finding 3: `new WebSocketServer({ port })` type-checked and never listened.
  it("new WebSocketServer({ port: 0 }) listens: 'listening', then a client connects", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (connection) => {
      connection.on('message', (message) => void connection.send(message).catch(() => undefined));
    });
    try {
      await within(
        new Promise<void>((resolve) => server.once('listening', resolve)),
        2000,
        "the 'listening' event",
      );
      const connection = await within(connect(server.url), 3000, 'connect()');
      await connection.send('hello');
      const echoed = await within(connection[Symbol.asyncIterator]().next(), 3000, 'the echo');
      assert.deepEqual(echoed, { done: false, value: 'hello' });
      await connection.close();
    } finally {
      await server.close();
    }
  });

  // Finding 3: the same constructor on a port in use reports it as 'error'.
  it('new WebSocketServer({ port }) on a port in use emits error EADDRINUSE', async () => {
    const blocker = await portInUse();
    const port = (blocker.address() as net.AddressInfo).port;
    const server = new WebSocketServer({ port, host: '127.0.0.1' });
    try {
      const error = await within(
        new Promise<NodeJS.ErrnoException>((resolve) => server.once('error', resolve)),
        2000,
        "the 'error' event",
      );
      assert.equal(error.code, 'EADDRINUSE');
    } finally {
      await server.close();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('peer crash: errors escaping the application (delivery contract)', () => {
  const throwers: Array<{ name: string; handler: FixtureConfig['handler']; path: string }> = [
    { name: "an async 'connection' handler", handler: 'throw-async', path: '/' },
    { name: "a sync 'connection' listener", handler: 'throw-sync', path: '/boom' },
    { name: "a connection's 'message' listener", handler: 'throw-in-listener', path: '/' },
  ];
  for (const { name, handler, path } of throwers) {
    // Delivery contract: a non-ConnectionClosedError → 1011 and 'handlerError', never a crash.
    it(`${name} that throws: that connection closes with 1011, the server emits 'handlerError'`, async () => {
      const server = await startServer({ handler, reportHandlerErrors: true });
      const { client } = await RawClient.open(server.port, path);
      const clientPort = client.socket.localPort; // read before destroy(), which clears it
      if (path === '/') client.sendFrame(TEXT, 'boom');
      const closeCode = await readCloseCode(client).catch((error: Error) => error);
      client.destroy();
      await assertAlive(server, `${name} threw`);
      assert.equal(closeCode, 1011);
      const reports = server.messages.filter((message) => 'handlerError' in message);
      assert.deepEqual(reports, [
        {
          handlerError:
            handler === 'throw-in-listener' ? 'listener failed: boom' : 'handler failed: boom',
          isConnection: true,
          remotePort: clientPort,
        },
      ]);
      await assertServes(server);
    });
  }

  // Delivery contract: with no 'handlerError' listener, a process warning, never an exception.
  it("with no 'handlerError' listener, a throwing handler gives a process warning and 1011", async () => {
    const server = await startServer({ handler: 'throw-async' });
    const { client } = await RawClient.open(server.port, '/');
    client.sendFrame(TEXT, 'boom');
    const closeCode = await readCloseCode(client).catch((error: Error) => error);
    client.destroy();
    await assertAlive(server, 'the handler threw with nobody listening for handlerError');
    assert.equal(closeCode, 1011);
    assert.ok(
      server.messages.some((message) => 'warning' in message),
      `no process warning: ${JSON.stringify(server.messages)}`,
    );
    await assertServes(server);
  });

  // Delivery contract: a ConnectionClosedError escaping a handler is the normal end of it.
  it('a ConnectionClosedError escaping a handler is ignored: no handlerError, no crash', async () => {
    const server = await startServer({ handler: 'readme-echo', reportHandlerErrors: true });
    const { client } = await RawClient.open(server.port, '/');
    client.sendFrame(TEXT, 'x'.repeat(10));
    await client.readFrame(3000);
    client.reset();
    await assertAlive(server, 'the handler ended with ConnectionClosedError');
    assert.deepEqual(
      server.messages.filter((message) => 'handlerError' in message),
      [],
    );
    await assertServes(server);
  });
});
