// reconnecting() over loopback: a server that refuses twice then accepts, a server that goes
// away and comes back, the errors that stop it (403, a 1008 close, maxAttempts), cancellation in
// the middle of a backoff wait (close() and an AbortSignal), `break`, and the events: their order
// and delays (small ones; the sequence and the growth are asserted, never the wall clock).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  ConnectionClosedError,
  HandshakeError,
  InvalidArgumentError,
  NetworkError,
  type Reconnecting,
  TimeoutError,
  type WebSocketServer,
  isRetryable,
  reconnecting,
  type ServerOptions,
  type WebSocketConnection,
} from '../../src/messages/index.js';
import { EchoServers } from '../helpers/echo-servers.js';
import { waitFor, within } from '../helpers/wait.js';

const servers = new EchoServers();
after(() => servers.closeAll());

/** Every event of `connections`, as a compact record, in order. */
function record(connections: Reconnecting): string[] {
  const events: string[] = [];
  connections.on('attempt', ({ attempt, delay }) =>
    events.push(`attempt ${attempt} after ${delay}`),
  );
  connections.on('open', (_, { attempt }) => events.push(`open ${attempt}`));
  connections.on('failure', (error, { attempt, delay }) =>
    events.push(`failure ${attempt} ${describe_(error)} next ${delay}`),
  );
  connections.on('close', (status, { attempt, delay }) =>
    events.push(`close ${attempt} ${status.code} next ${delay}`),
  );
  connections.on('stop', (reason) => events.push(`stop ${reason}`));
  return events;
}

function describe_(error: unknown): string {
  if (error instanceof HandshakeError) return `status ${error.status}`;
  if (error instanceof NetworkError) return `network ${error.kind}`;
  return String(error);
}

/** A server whose `accept` refuses with `status` while `refusing()` says so. */
async function refusingServer(
  status: number,
  refusing: () => boolean,
  options: Partial<ServerOptions> = {},
): Promise<WebSocketServer> {
  return servers.start({ accept: () => (refusing() ? { status } : true), ...options });
}

const fast = { initialDelay: 10, factor: 2, maxDelay: 1000, jitter: 0 };

describe('reconnecting(): retries', () => {
  it('a server that refuses twice (503) then accepts: the events, in order, delays growing', async () => {
    let requests = 0;
    const server = await refusingServer(503, () => ++requests <= 2);
    const connections = reconnecting(server.url, { backoff: fast });
    const events = record(connections);
    const { value: connection, done } = await within(connections.next(), 3000, 'a connection');
    assert.equal(done, false);
    assert.deepEqual(events, [
      'attempt 1 after 0',
      'failure 1 status 503 next 10',
      'attempt 2 after 10',
      'failure 2 status 503 next 20',
      'attempt 3 after 20',
      'open 3',
    ]);
    await connection.send('hello');
    assert.equal(await connection.receive(), 'hello');
    await connections.close();
    assert.equal(connection.readyState, 3, 'close() closed the connection it gave out');
    assert.deepEqual(events.slice(6), ['stop closed']);
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
  });

  it('a server that goes away and comes back: the loop carries on with a new connection', async () => {
    const first = await servers.start();
    const port = first.address().port;
    const connections = reconnecting(first.url, { backoff: fast });
    const events = record(connections);
    let restarted: Promise<WebSocketServer> | undefined;
    connections.on('failure', (_, { attempt }) => {
      if (attempt === 3) restarted = servers.start({ port }); // after two refused attempts
    });
    const received: string[] = [];
    let round = 0;
    for await (const connection of connections) {
      round++;
      await connection.send(`round ${round}`);
      received.push(String(await connection.receive()));
      if (round === 2) break;
      await first.close(); // 1001 to its connections; the port refuses until the restart
      await connection.closed;
    }
    assert.deepEqual(received, ['round 1', 'round 2']);
    assert.ok(restarted !== undefined);
    await restarted;
    // Until the restart, each attempt is refused; the restart comes at the third failure, and
    // the attempt after it may still find the port closed while the server starts.
    assert.deepEqual(events.slice(0, 7), [
      'attempt 1 after 0',
      'open 1',
      'close 1 1001 next 10',
      'attempt 2 after 10',
      'failure 2 network network next 20',
      'attempt 3 after 20',
      'failure 3 network network next 40',
    ]);
    const rest = events.slice(7);
    assert.deepEqual(rest.slice(-2), [`open ${4 + (rest.length - 3) / 2}`, 'stop closed']);
    let delay = 40;
    for (let i = 0; i < rest.length - 2; i += 2) {
      const attempt = 4 + i / 2;
      assert.equal(rest[i], `attempt ${attempt} after ${delay}`);
      if (i + 1 < rest.length - 2) {
        assert.equal(rest[i + 1], `failure ${attempt} network network next ${delay * 2}`);
        delay *= 2;
      }
    }
  });

  it('gives up after maxAttempts failures in a row, throwing the last error', async () => {
    const server = await refusingServer(503, () => true);
    const connections = reconnecting(server.url, { backoff: fast, maxAttempts: 3 });
    const events = record(connections);
    await assert.rejects(connections.next(), (error: unknown) => {
      assert.ok(error instanceof HandshakeError && error.status === 503);
      return true;
    });
    assert.deepEqual(events, [
      'attempt 1 after 0',
      'failure 1 status 503 next 10',
      'attempt 2 after 10',
      'failure 2 status 503 next 20',
      'attempt 3 after 20',
      'failure 3 status 503 next undefined',
      'stop exhausted',
    ]);
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
  });

  it('jitter: each delay lies between (1 - jitter) × the computed one and the computed one', async () => {
    const server = await refusingServer(429, () => true);
    const connections = reconnecting(server.url, {
      backoff: { initialDelay: 8, factor: 2, maxDelay: 40, jitter: 0.5 },
      maxAttempts: 6,
    });
    const delays: number[] = [];
    connections.on('failure', (_, { delay }) => delay !== undefined && delays.push(delay));
    await assert.rejects(connections.next(), HandshakeError);
    const computed = [8, 16, 32, 40, 40];
    assert.equal(delays.length, computed.length);
    delays.forEach((delay, i) =>
      assert.ok(delay >= computed[i] / 2 && delay <= computed[i], `delay ${i}: ${delay}`),
    );
  });
});

describe('reconnecting(): what stops it', () => {
  it('a 403: thrown after one attempt, no retry', async () => {
    const server = await refusingServer(403, () => true);
    const connections = reconnecting(server.url, { backoff: fast });
    const events = record(connections);
    await assert.rejects(
      connections.next(),
      (error: unknown) => error instanceof HandshakeError && error.status === 403,
    );
    assert.deepEqual(events, [
      'attempt 1 after 0',
      'failure 1 status 403 next undefined',
      'stop permanent',
    ]);
  });

  it('a connection the server closes with 1008: the next connection is not made', async () => {
    const server = await servers.start();
    server.on('connection', (connection) => void connection.close(1008, 'go away'));
    const connections = reconnecting(server.url, { backoff: fast });
    const events = record(connections);
    const { value: connection } = await connections.next();
    const status = await within(connection!.closed, 3000, 'the 1008 close');
    assert.equal(status.code, 1008);
    await assert.rejects(
      connections.next(),
      (error: unknown) =>
        error instanceof ConnectionClosedError && error.code === 1008 && error.reason === 'go away',
    );
    assert.deepEqual(events, [
      'attempt 1 after 0',
      'open 1',
      'close 1 1008 next undefined',
      'stop permanent',
    ]);
  });

  it('a bad URL: thrown at the first attempt; bad options: thrown at once', async () => {
    const connections = reconnecting('ftp://127.0.0.1/', { backoff: fast });
    await assert.rejects(connections.next(), InvalidArgumentError);
    assert.throws(
      () => reconnecting('ws://127.0.0.1/', { backoff: { factor: 0.5 } }),
      InvalidArgumentError,
    );
    assert.throws(
      () => reconnecting('ws://127.0.0.1/', { backoff: { jitter: 2 } }),
      InvalidArgumentError,
    );
    assert.throws(
      () => reconnecting('ws://127.0.0.1/', { backoff: { initialDelay: 100, maxDelay: 10 } }),
      InvalidArgumentError,
    );
    assert.throws(() => reconnecting('ws://127.0.0.1/', { maxAttempts: 0 }), InvalidArgumentError);
  });

  it('isRetryable: the default policy', () => {
    assert.equal(isRetryable(new HandshakeError('CANNOT_UPGRADE', 'x', { status: 503 })), true);
    assert.equal(isRetryable(new HandshakeError('CANNOT_UPGRADE', 'x', { status: 408 })), true);
    assert.equal(isRetryable(new HandshakeError('CANNOT_UPGRADE', 'x', { status: 429 })), true);
    assert.equal(isRetryable(new HandshakeError('CANNOT_UPGRADE', 'x', { status: 404 })), false);
    assert.equal(isRetryable(new HandshakeError('UNAUTHORIZED', 'x', { status: 401 })), false);
    assert.equal(isRetryable(new TimeoutError('handshake', 10)), true);
    assert.equal(isRetryable(new NetworkError('network', 'refused')), true);
    assert.equal(isRetryable(new NetworkError('proxy', 'refused', { status: 407 })), false);
    assert.equal(isRetryable(new NetworkError('proxy', 'bad gateway', { status: 502 })), true);
    assert.equal(isRetryable(new ConnectionClosedError(1006, '', false)), true);
    assert.equal(isRetryable(new ConnectionClosedError(1003, '', true)), false);
    assert.equal(isRetryable(new TypeError('a bug')), false);
  });
});

describe('reconnecting(): cancellation', () => {
  /** Active timers of this process, by Node's count. */
  const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

  it('close() in the middle of a backoff wait: the iteration ends at once, the timer cleared', async () => {
    const server = await refusingServer(503, () => true);
    const connections = reconnecting(server.url, {
      backoff: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 },
    });
    const events = record(connections);
    const next = connections.next();
    await waitFor(() => events.length === 2, 3000, 'the first failure');
    const waiting = timers();
    await within(connections.close(), 3000, 'close()');
    assert.deepEqual(await within(next, 3000, 'the pending next()'), {
      done: true,
      value: undefined,
    });
    assert.ok(timers() < waiting, 'the backoff timer is gone');
    assert.deepEqual(events, [
      'attempt 1 after 0',
      'failure 1 status 503 next 60000',
      'stop closed',
    ]);
  });

  it('an AbortSignal in the middle of a backoff wait: next() throws its reason', async () => {
    const server = await refusingServer(503, () => true);
    const controller = new AbortController();
    const connections = reconnecting(server.url, {
      backoff: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 },
      signal: controller.signal,
    });
    const events = record(connections);
    const next = connections.next();
    await waitFor(() => events.length === 2, 3000, 'the first failure');
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(within(next, 3000, 'the pending next()'), (error) => error === reason);
    assert.deepEqual(events.at(-1), 'stop aborted');
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
  });

  it('an AbortSignal while a connection is open closes it', async () => {
    const server = await servers.start();
    const controller = new AbortController();
    const connections = reconnecting(server.url, { backoff: fast, signal: controller.signal });
    const { value: connection } = await connections.next();
    controller.abort();
    const status = await within(connection!.closed, 3000, 'the close');
    assert.equal(status.code, 1000);
    await assert.rejects(
      connections.next(),
      (error: unknown) => (error as Error).name === 'AbortError',
    );
  });

  it('break out of for await closes the connection it gave out', async () => {
    const server = await servers.start();
    const connections = reconnecting(server.url, { backoff: fast });
    let given: WebSocketConnection | undefined;
    for await (const connection of connections) {
      given = connection;
      break;
    }
    assert.ok(given !== undefined);
    assert.equal((await within(given.closed, 3000, 'the close')).code, 1000);
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
  });
});
