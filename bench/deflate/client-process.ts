/**
 * A child process of raw load clients (bench/deflate/load.ts) for the deflate suite's runs with
 * many connections, so that they do not share a process (or its file descriptors) with the
 * suite or the server:
 *
 * - `idle <port> <count> <messages> <profile> <offer: 1|0>`: opens `count` connections (offering
 *   permessage-deflate or not), exchanges `messages` 1 KiB messages on each in lock-step (so that
 *   histories and zlib streams exist), reports `{ idle }`, and keeps them open, idle, until told
 *   `close`.
 * - `burst <port> <count> <messages> <profile>`: opens `count` compressed connections, reports
 *   `{ ready }`, and on `go` has every connection send `messages` compressed 1 KiB messages as
 *   fast as its socket's backpressure allows, counting the echoes; reports `{ burst }` once all
 *   came back (or after BURST_LIMIT_MS), and waits for `close`.
 *
 * Every phase is bounded in time; the process exits on `close`, or when its parent goes away.
 */
import { type DeflateLoadConnection, openConnections } from './load.js';
import { OFFER, PROFILES, clientFrames, messagePool, type ProfileName } from './workload.js';

const PHASE_LIMIT_MS = 180_000;
const BURST_LIMIT_MS = 120_000;

const [mode, portText, countText, messagesText, profileName, offerText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const messages = Number(messagesText);
const profile = PROFILES[profileName as ProfileName];
const offer = mode === 'burst' || offerText === '1';
const texts = messagePool(1024, 64);
const frames = clientFrames(texts, profile, offer);

let connections: DeflateLoadConnection[] = [];

function closeAll(): void {
  for (const connection of connections) connection.close();
  connections = [];
}

process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
process.on('message', (message) => {
  if (message === 'close') {
    closeAll();
    // Let the FINs go out before exiting.
    setTimeout(() => process.exit(0), 200);
  }
});

/** Lock-step: send one message, wait for its echo, `messages` times; false if one is missing. */
async function exchange(
  connection: DeflateLoadConnection,
  offset: number,
  until: number,
): Promise<number> {
  let echoes = 0;
  for (let i = 0; i < messages && performance.now() < until; i++) {
    const echoed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, until - performance.now()));
      connection.onMessage(() => {
        clearTimeout(timer);
        resolve(true);
      });
      connection.send(frames[(offset + i) % frames.length]);
    });
    if (!echoed) break;
    echoes++;
  }
  connection.onMessage(() => undefined);
  return echoes;
}

async function idle(): Promise<void> {
  const start = performance.now();
  const until = start + PHASE_LIMIT_MS;
  connections = await openConnections(port, count, offer ? OFFER : null);
  let echoes = 0;
  const batch = 500;
  for (let i = 0; i < connections.length && performance.now() < until; i += batch) {
    const done = await Promise.all(
      connections.slice(i, i + batch).map((connection, j) => exchange(connection, i + j, until)),
    );
    echoes += done.reduce((a, b) => a + b, 0);
  }
  process.send?.({
    idle: {
      opened: connections.length,
      compressed: connections.filter((c) => c.compressed).length,
      echoes,
      ms: performance.now() - start,
    },
  });
}

async function burst(): Promise<void> {
  connections = await openConnections(port, count, OFFER);
  process.send?.({
    ready: {
      opened: connections.length,
      compressed: connections.filter((c) => c.compressed).length,
    },
  });
  await new Promise<void>((resolve) => {
    const onGo = (message: unknown) => {
      if (message !== 'go') return;
      process.off('message', onGo);
      resolve();
    };
    process.on('message', onGo);
  });
  const expected = connections.length * messages;
  let echoes = 0;
  const start = performance.now();
  const deadline = start + BURST_LIMIT_MS;
  let last = start;
  let timer: NodeJS.Timeout | undefined;
  const allEchoed = new Promise<void>((resolve) => {
    if (expected === 0) resolve();
    for (const connection of connections)
      connection.onMessage(() => {
        echoes++;
        last = performance.now();
        if (echoes === expected) resolve();
      });
    timer = setTimeout(resolve, BURST_LIMIT_MS);
  });
  // Every connection writes its messages back to back, waiting only when its socket's buffer is
  // full; all start in the same turn of the event loop.
  const senders = connections.map(async (connection, index) => {
    for (let i = 0; i < messages && performance.now() < deadline; i++) {
      if (!connection.send(frames[(index + i) % frames.length])) await connection.drained();
      if (connection.ended) return;
    }
  });
  await Promise.all(senders);
  await allEchoed;
  clearTimeout(timer);
  process.send?.({ burst: { echoes, expected, ms: last - start } });
}

if (profile === undefined || !(port > 0) || !(count > 0) || !(messages >= 0)) {
  console.error(
    'usage: client-process.js <idle|burst> <port> <count> <messages> <profile> [offer]',
  );
  process.exit(2);
}
// The parent says `close` long before this; it is only the bound on a run that went wrong.
setTimeout(() => {
  console.error(`client process: no 'close' within ${(2 * PHASE_LIMIT_MS) / 1000} s, exiting`);
  closeAll();
  process.exit(1);
}, 2 * PHASE_LIMIT_MS).unref();
try {
  if (mode === 'idle') await idle();
  else if (mode === 'burst') await burst();
  else throw new Error(`unknown mode ${String(mode)}`);
} catch (error) {
  process.send?.({ error: (error as Error).message });
}
