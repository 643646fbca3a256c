/**
 * Real redis-server processes for tests: started on a free loopback port (found by listening on
 * port 0 with node:net, closing, and starting redis there; retried if another process takes the
 * port first), without persistence (`--save '' --appendonly no`), in a temporary directory that
 * `stop()` removes; stopped by PID (the child's handle), never by name. A cluster is three masters
 * joined by `redis-cli --cluster create`, ready once every node says `cluster_state:ok`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { delay, Signal } from './wait.js';

const execFileAsync = promisify(execFile);

/**
 * Every redis-server this process started and that still runs: if the test process ends without
 * stopping them (an uncaught error, a closed stdout), its 'exit' handler kills them by handle, so
 * no server outlives the test that started it.
 */
const running = new Set<ChildProcess>();
/** Temporary directories made here and not removed yet: removed on exit likewise. */
const directories = new Set<string>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CLI = '/usr/bin/redis-cli';

/** redis-server's version as [major, minor, patch] (sharded pub/sub needs 7 or later). */
export async function redisServerVersion(): Promise<[number, number, number]> {
  const { stdout } = await execFileAsync(REDIS_SERVER, ['--version'], { timeout: 5000 });
  const match = /v=(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (match === null) throw new Error(`unexpected redis-server --version output: ${stdout}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

async function temporaryDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  directories.add(directory);
  return directory;
}

async function removeDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  directories.delete(directory);
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const { port } = listener.address() as net.AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

/** Runs redis-cli against 127.0.0.1:`port`, with a deadline; resolves its stdout. */
export async function redisCli(port: number, args: string[], timeoutMs = 10_000): Promise<string> {
  const { stdout } = await execFileAsync(
    REDIS_CLI,
    ['-h', '127.0.0.1', '-p', String(port), ...args],
    {
      timeout: timeoutMs,
    },
  );
  return stdout;
}

/** One redis-server process. */
export class RedisServer {
  readonly port: number;
  readonly directory: string;
  readonly #extraArgs: readonly string[];
  #process: ChildProcess | undefined;
  #output = '';
  readonly #changed = new Signal();
  #exited = true;
  #ownsDirectory: boolean;

  private constructor(
    port: number,
    directory: string,
    extraArgs: readonly string[],
    owns: boolean,
  ) {
    this.port = port;
    this.directory = directory;
    this.#extraArgs = extraArgs;
    this.#ownsDirectory = owns;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server on a free port; `directory` (default: a new temporary one, removed by stop())
   * is its working directory. Retries a few times if the port was taken meanwhile.
   */
  static async start(
    options: { extraArgs?: (port: number, directory: string) => string[]; directory?: string } = {},
  ): Promise<RedisServer> {
    const owns = options.directory === undefined;
    const directory = options.directory ?? (await temporaryDirectory('wsnet-redis-'));
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const server = new RedisServer(
        port,
        directory,
        options.extraArgs?.(port, directory) ?? [],
        owns,
      );
      try {
        await server.restart();
        return server;
      } catch (error) {
        lastError = error;
        await server.kill();
      }
    }
    if (owns) await removeDirectory(directory);
    throw new Error('could not start redis-server on a free port', { cause: lastError });
  }

  /** Starts (again) on the same port; resolves once the server answers PING. */
  async restart(timeoutMs = 10_000): Promise<void> {
    if (!this.#exited) throw new Error('redis-server is still running');
    this.#output = '';
    this.#exited = false;
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.directory,
        ...this.#extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    running.add(child);
    const collect = (chunk: Buffer) => {
      this.#output += chunk.toString('utf8');
      this.#changed.notify();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) => {
      this.#output += `\nspawn error: ${error.message}`;
      this.#exited = true;
      this.#changed.notify();
    });
    child.once('exit', () => {
      running.delete(child);
      this.#exited = true;
      this.#changed.notify();
    });
    const deadline = Date.now() + timeoutMs;
    while (!this.#output.includes('Ready to accept connections')) {
      if (this.#exited) throw new Error(`redis-server exited while starting:\n${this.#output}`);
      if (!(await this.#changed.until(deadline)))
        throw new Error(`redis-server not ready within ${timeoutMs} ms:\n${this.#output}`);
    }
  }

  /** Kills the process (SIGKILL: as a crash would) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const child = this.#process;
    if (child === undefined || this.#exited) return;
    child.kill(signal);
    const deadline = Date.now() + timeoutMs;
    while (!this.#exited)
      if (!(await this.#changed.until(deadline)))
        throw new Error(`redis-server (pid ${child.pid}) did not exit within ${timeoutMs} ms`);
  }

  /** Stops the server and removes its directory (if it made it). */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#ownsDirectory) await removeDirectory(this.directory);
  }

  cli(args: string[]): Promise<string> {
    return redisCli(this.port, args);
  }
}

/** Three Redis Cluster masters (no replicas) in one temporary directory. */
export class RedisCluster {
  readonly nodes: readonly RedisServer[];
  readonly directory: string;

  private constructor(nodes: RedisServer[], directory: string) {
    this.nodes = nodes;
    this.directory = directory;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  static async start(masters = 3, timeoutMs = 30_000): Promise<RedisCluster> {
    const directory = await temporaryDirectory('wsnet-redis-cluster-');
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++)
        nodes.push(
          await RedisServer.start({
            directory,
            extraArgs: (port) => [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              path.join(directory, `nodes-${port}.conf`),
              '--cluster-node-timeout',
              '2000',
            ],
          }),
        );
      await redisCli(
        nodes[0].port,
        ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'],
        timeoutMs,
      );
      const deadline = Date.now() + timeoutMs;
      for (const node of nodes)
        while (!(await node.cli(['cluster', 'info'])).includes('cluster_state:ok')) {
          if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
          await delay(50);
        }
      return new RedisCluster(nodes, directory);
    } catch (error) {
      for (const node of nodes) await node.kill();
      await removeDirectory(directory);
      throw error;
    }
  }

  /** The node that serves `key`'s slot (CLUSTER KEYSLOT, then the slot ranges of CLUSTER SLOTS). */
  async slotOf(key: string): Promise<number> {
    return Number((await this.nodes[0].cli(['cluster', 'keyslot', key])).trim());
  }

  /** The master port that owns `slot`, from CLUSTER SHARDS-like output of CLUSTER NODES. */
  async ownerOf(slot: number): Promise<number> {
    const lines = (await this.nodes[0].cli(['cluster', 'nodes'])).trim().split('\n');
    for (const line of lines) {
      const fields = line.split(' ');
      if (!fields[2].includes('master')) continue;
      const port = Number(/:(\d+)@/.exec(fields[1])![1]);
      for (const range of fields.slice(8)) {
        const [from, to = from] = range.split('-').map(Number);
        if (slot >= from && slot <= to) return port;
      }
    }
    throw new Error(`no master owns slot ${slot}`);
  }

  /**
   * A topic on each master: master port → the first `${prefix}N` whose channel (`wsnet:` and
   * the topic, as the adapter names it) hashes to a slot of that master.
   */
  async topicOnEachMaster(prefix: string): Promise<Map<number, string>> {
    const topics = new Map<number, string>();
    for (let i = 0; topics.size < this.nodes.length && i < 1000; i++) {
      const topic = `${prefix}${i}`;
      const owner = await this.ownerOf(await this.slotOf(`wsnet:${topic}`));
      if (!topics.has(owner)) topics.set(owner, topic);
    }
    if (topics.size !== this.nodes.length)
      throw new Error(`no ${prefix}N topic found for each of the ${this.nodes.length} masters`);
    return topics;
  }

  /** Sharded subscribers of `channel` (PUBSUB SHARDNUMSUB) on the master that owns it. */
  async shardSubscribers(channel: string): Promise<number> {
    const port = await this.ownerOf(await this.slotOf(channel));
    const node = this.nodes.find((n) => n.port === port)!;
    return Number((await node.cli(['pubsub', 'shardnumsub', channel])).trim().split('\n')[1]);
  }

  /** The wsnet adapters' connections (named wsnet-publish, wsnet-subscribe) on every master. */
  async adapterConnections(): Promise<number> {
    let count = 0;
    for (const node of this.nodes)
      count += (await node.cli(['client', 'list']))
        .split('\n')
        .filter((line) => / name=wsnet-(publish|subscribe) /.test(line)).length;
    return count;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.kill();
    await removeDirectory(this.directory);
  }
}
