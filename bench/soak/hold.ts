/**
 * The hold run: one server child (see server-process.ts: wsnet's message API with its heartbeat,
 * or ws with the heartbeat from its README), client children that open `connections` between
 * them, exchange one message on each, and hold them for `holdMs` while the heartbeat pings them.
 * It measures the server's RSS and heap per connection (after minus before, each after two full
 * garbage collections, divided by the connections the server still held) and the open rate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Child } from './children.js';
import type { HoldJob } from './client-process.js';
import { heapClasses, perConnection, type ClassPerConnection } from './heap-classes.js';
import type { Sample } from './server-process.js';

export type HoldServer = 'messages' | 'messages-deflate' | 'poco' | 'ws' | 'ws-deflate';

export interface HoldOptions {
  server: HoldServer;
  connections: number;
  perClientProcess?: number;
  /**
   * Handshakes in flight per client process. Default 100: with more, the listen queue (Node's
   * backlog is 511) overflows on a busy machine, and the open rate measures SYN retransmission
   * back-off instead of the server.
   */
  concurrency?: number;
  heartbeatMs?: number;
  /** How long the connections are held before the measure. Default 3 heartbeats. */
  holdMs?: number;
  messageSize?: number;
  /**
   * A directory for heap snapshots of the server (`<server>-before.heapsnapshot`, before the
   * clients connect, and `<server>-held.heapsnapshot`, at the measure): the result then has the
   * heap per connection by class.
   */
  snapshotDir?: string;
}

export interface HoldResult {
  server: HoldServer;
  opened: number;
  /** Connections the server held at the measure (fewer if its heartbeat ended some). */
  held: number;
  /** Connections per second, handshakes included, over the slowest client process. */
  openRate: number;
  rssPerConnection: number;
  heapPerConnection: number;
  /** The V8 heap committed per connection (used, free space and fragmentation). */
  heapTotalPerConnection: number;
  /** The resident C heap (`[heap]`) per connection. */
  mallocHeapPerConnection: number;
  externalPerConnection: number;
  /** Heartbeat pongs the server received while the connections were held. */
  pongs: number;
  /** Heartbeat pings the clients answered, in all. */
  pings: number;
  /** SYNs the kernel dropped at a full listen queue while the connections opened (system-wide). */
  listenOverflows: number;
  /** Connections that failed to open, to echo, or while held. */
  failures: number;
  firstFailure: string;
  before: Sample;
  after: Sample;
  /** With `snapshotDir`: the heap per connection by class (self sizes), largest first. */
  classes?: { rows: ClassPerConnection[]; total: number };
}

interface Opened {
  opened: number;
  openMs: number;
  openFailures: number;
  exchangeFailures: number;
  firstFailure: string;
}

interface Released {
  released: number;
  pings: number;
  heldFailures: number;
  firstHeldFailure: string;
}

/**
 * The kernel's count of SYNs dropped because a listen queue was full (Linux, system-wide; 0
 * elsewhere): while it grows, the open rate measures SYN retransmission back-off.
 */
function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'latin1').split('\n');
    const names = lines.find((line) => line.startsWith('TcpExt:'))?.split(' ') ?? [];
    const values = lines.filter((line) => line.startsWith('TcpExt:'))[1]?.split(' ') ?? [];
    return Number(values[names.indexOf('ListenOverflows')] ?? 0);
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runHold(options: HoldOptions): Promise<HoldResult> {
  const perProcess = options.perClientProcess ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const children: Child[] = [];
  try {
    const server = await Child.start(options.server, 'server-process', [
      options.server,
      String(heartbeatMs),
    ]);
    children.push(server);
    const processes = Math.ceil(options.connections / perProcess);
    const clients: Child[] = [];
    for (let i = 0; i < processes; i++) {
      const client = await Child.start(`client ${i + 1}`, 'client-process');
      children.push(client);
      clients.push(client);
    }
    const snapshot = (name: string) =>
      server.ask<string>(
        { snapshot: path.join(options.snapshotDir!, `${options.server}-${name}.heapsnapshot`) },
        'snapshot',
        300_000,
      );
    const beforeSnapshot = options.snapshotDir === undefined ? '' : await snapshot('before');
    const before = await server.ask<Sample>({ sample: true }, 'sample');
    const overflowsBefore = listenOverflows();
    const opened = await Promise.all(
      clients.map((client, i) => {
        const job: HoldJob = {
          mode: 'hold',
          port: server.ready as number,
          count:
            Math.floor(options.connections / processes) +
            (i < options.connections % processes ? 1 : 0),
          concurrency: options.concurrency ?? 100,
          deflate: options.server.endsWith('-deflate'),
          messageSize: options.messageSize ?? 1024,
        };
        const answer = client.next<Opened>('opened', 600_000);
        client.send(job);
        return answer;
      }),
    );
    const overflows = listenOverflows() - overflowsBefore;
    await sleep(options.holdMs ?? 3 * heartbeatMs + 1000);
    const after = await server.ask<Sample>({ sample: true }, 'sample', 120_000);
    // The snapshot after the sample, so that the sample's RSS is not the snapshot's.
    const heldSnapshot = options.snapshotDir === undefined ? '' : await snapshot('held');
    const released = await Promise.all(
      clients.map((client) => client.ask<Released>({ release: true }, 'released', 120_000)),
    );
    // Let the server see every socket go before it is ended (a bounded wait).
    const settleEnd = performance.now() + 30_000;
    for (;;) {
      const sample = await server.ask<Sample>({ sample: true }, 'sample', 120_000);
      if (sample.connections === 0 || performance.now() > settleEnd) break;
      await sleep(500);
    }
    const count = opened.reduce((sum, o) => sum + o.opened, 0);
    // Per connection the server still held at the measure (a heartbeat may have ended some).
    const held = Math.max(1, after.connections);
    const failures =
      opened.reduce((sum, o) => sum + o.openFailures + o.exchangeFailures, 0) +
      released.reduce((sum, r) => sum + r.heldFailures, 0);
    const firstFailure =
      opened.find((o) => o.firstFailure !== '')?.firstFailure ??
      released.find((r) => r.firstHeldFailure !== '')?.firstHeldFailure ??
      '';
    return {
      server: options.server,
      opened: count,
      openRate: (count * 1000) / Math.max(...opened.map((o) => o.openMs)),
      held: after.connections,
      rssPerConnection: (after.rss - before.rss) / held,
      heapPerConnection: (after.heapUsed - before.heapUsed) / held,
      heapTotalPerConnection: (after.heapTotal - before.heapTotal) / held,
      mallocHeapPerConnection: (after.mallocHeap - before.mallocHeap) / held,
      externalPerConnection: (after.external - before.external) / held,
      pongs: after.pongs - before.pongs,
      listenOverflows: overflows,
      pings: released.reduce((sum, r) => sum + r.pings, 0),
      failures,
      firstFailure,
      before,
      after,
      classes:
        options.snapshotDir === undefined
          ? undefined
          : perConnection(heapClasses(beforeSnapshot), heapClasses(heldSnapshot), held),
    };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
  }
}
