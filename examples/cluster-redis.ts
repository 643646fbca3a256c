/**
 * A chat on every core: `node:cluster` runs N worker processes that share one port, each a
 * WebSocketServer whose RedisAdapter relays the topic `chat` to the others, so a message sent to
 * any worker reaches the clients of every worker (README.md, "Running on several cores and
 * machines").
 *
 *   node build/examples/cluster-redis.js [--port 8080] [--workers 2] [--redis redis://127.0.0.1:6379]
 *   (or PORT, WORKERS, REDIS_URL in the environment; --port 0: a free port, the same for all)
 *
 * A client connects to ws://HOST:PORT/ and gets `{"worker":ID,"pid":PID}` once its subscription
 * is live on every worker (its Redis SUBSCRIBE answered); what it sends goes to every other
 * client as `worker ID: TEXT`. The primary prints `listening on ws://...` once every worker
 * listens, and on SIGINT or SIGTERM asks each worker to close (1001 to its clients, its Redis
 * connections quit) and exits with status 0 once they all have. A worker that dies otherwise is
 * replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { WebSocketServer } from '../src/messages/index.js';
import { RedisAdapter } from '../src/redis/index.js';

function argument(name: string, variable: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  if (index !== -1 && process.argv[index + 1] !== undefined) return process.argv[index + 1];
  return process.env[variable] ?? fallback;
}

const port = Number(argument('port', 'PORT', '8080'));
const host = '127.0.0.1';
const workers = Number(argument('workers', 'WORKERS', String(os.availableParallelism())));
const redisUrl = argument('redis', 'REDIS_URL', 'redis://127.0.0.1:6379');

/** What a worker tells the primary. */
type WorkerMessage = { type: 'listening'; port: number };

async function runWorker(): Promise<void> {
  const id = cluster.worker!.id;
  const adapter = new RedisAdapter({ url: redisUrl });
  // Every worker listens on the same port: node:cluster's primary accepts the connections and
  // hands them to the workers in turn.
  const server = await WebSocketServer.listen({ port, host, adapter });
  server.on('adapterError', (error) => console.error(`worker ${id}: ${error.message}`));
  server.on('connection', (connection) => {
    connection.subscribe('chat');
    connection.on('message', (data) => {
      // To every other subscriber of 'chat', on this worker and, through Redis, on the others.
      connection.publish('chat', `worker ${id}: ${String(data)}`);
    });
    // The welcome once Redis has answered the SUBSCRIBE: from then on, the other workers'
    // messages reach this client.
    void adapter
      .settled()
      .then(() => connection.send(JSON.stringify({ worker: id, pid: process.pid })))
      .catch(() => {});
  });
  process.on('message', (message: unknown) => {
    if (message !== 'shutdown') return;
    void server.close().then(() => process.exit(0));
  });
  // Ctrl+C reaches the whole process group: the primary coordinates the shutdown.
  process.on('SIGINT', () => {});
  process.send!({ type: 'listening', port: server.address().port } satisfies WorkerMessage);
}

function runPrimary(): void {
  let shuttingDown = false;
  const listening = new Set<number>();
  const start = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerMessage) => {
      if (message.type !== 'listening') return;
      listening.add(worker.id);
      if (listening.size === workers)
        console.log(
          `listening on ws://${host}:${message.port}/ with ${workers} workers (pids ${Object.values(
            cluster.workers ?? {},
          )
            .map((w) => w!.process.pid)
            .join(', ')}), Redis at ${redisUrl}`,
        );
    });
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    if (shuttingDown) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.id} died (${signal ?? code}): starting another`);
    start();
  });
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`${signal}: closing the workers`);
    for (const worker of Object.values(cluster.workers ?? {})) worker!.send('shutdown');
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  for (let i = 0; i < workers; i++) start();
}

if (cluster.isPrimary) runPrimary();
else await runWorker();
