/**
 * RedisAdapter: relays a server's publishes to the servers of other processes through Redis
 * pub/sub (one Redis channel per topic, `channelPrefix` + topic), on the ioredis client, which
 * is an optional peer dependency loaded by attach() only.
 *
 * Connections: a single server gets two (one publishes, one subscribes: a subscribed Redis
 * connection can do nothing else); a cluster gets a publishing Cluster client and a subscribing
 * one whose sharded subscribers (SSUBSCRIBE, one connection per master) follow each channel's
 * slot.
 *
 * Faults: ioredis reconnects by itself (with a bounded back-off) and re-subscribes to every
 * channel. While the publishing connection is not ready, publishes wait in a PublishBuffer of at
 * most `maxBufferedBytes`, flushed in order on reconnect; past the bound they are dropped and
 * reported. A lost connection, a dropped publish, a command that failed and a malformed message
 * on a wsnet channel are reported to the host (never thrown, never an unhandled 'error').
 */
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { PubSubAdapter, PubSubHost } from './adapter-contract.js';
import { decodeEnvelope, encodeEnvelope, newOriginId } from './envelope.js';
import { PublishBuffer } from './publish-buffer.js';

/** How a RedisAdapter reaches Redis and what it holds while it cannot. */
export interface RedisAdapterOptions {
  /** A single Redis server: `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url?: string;
  /**
   * A Redis Cluster (Redis >= 7): some of its masters' URLs; the client finds the rest. Topics
   * travel by sharded pub/sub (SPUBLISH/SSUBSCRIBE): each topic's channel lives on the master of
   * its hash slot, so topics spread over the masters.
   */
  readonly cluster?: {
    /** `redis://host:port` of one or more masters (credentials are taken from the first). */
    readonly urls: readonly string[];
  };
  /**
   * Prepended to every topic to name its Redis channel (default 'wsnet:'). Servers that share
   * topics must use the same prefix. In cluster mode it must not contain a `{hash tag}`, or
   * every topic would hash to one slot.
   */
  readonly channelPrefix?: string;
  /**
   * The most bytes of envelopes (payload + 18) held while the publishing connection is down
   * (default 1 MiB; 0 holds nothing). Once one publish does not fit, it and every later one
   * until the connection is back are dropped and reported: what is kept is the oldest, in order.
   */
  readonly maxBufferedBytes?: number;
  /**
   * More ioredis options for every connection (password, username, tls, db, connectTimeout...),
   * as ioredis's `RedisOptions`. The adapter's own settings (offline queue, retry, resubscribe)
   * take precedence.
   */
  readonly redisOptions?: Readonly<Record<string, unknown>>;
}

/** What kind of failure a RedisAdapterError reports. */
export type RedisAdapterErrorKind =
  /** A connection to Redis failed or was lost (reported once per outage and connection). */
  | 'connection'
  /** Publishes dropped: the buffer was full while disconnected, or the adapter closed. */
  | 'dropped'
  /** A publish, subscribe or unsubscribe command failed (the message may be lost). */
  | 'command'
  /** A message on a wsnet channel that is not a wsnet envelope. */
  | 'malformed'
  /** The host's deliver() threw. */
  | 'deliver';

/** A failure the adapter reports to its host (the server emits it as 'adapterError'). */
export class RedisAdapterError extends Error {
  /** 'RedisAdapterError'. */
  override readonly name = 'RedisAdapterError';
  /** What failed. */
  readonly kind: RedisAdapterErrorKind;
  /** For 'dropped': how many publishes were dropped. */
  readonly dropped: number;

  constructor(
    kind: RedisAdapterErrorKind,
    message: string,
    options?: { cause?: unknown; dropped?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.dropped = options?.dropped ?? 0;
  }
}

const DEFAULT_CHANNEL_PREFIX = 'wsnet:';
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Channels per SUBSCRIBE when a single server's subscriber re-subscribes. */
const RESUBSCRIBE_BATCH = 1000;
/** How long close() waits for QUIT's answer before it closes the sockets. */
const QUIT_TIMEOUT_MS = 2000;
/** Reconnect back-off: 50 ms more per attempt, never more than 2 s apart (it never gives up). */
const retryDelay = (attempt: number): number => Math.min(attempt * 50, 2000);

interface IoRedisModule {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

/** Loads ioredis, or says how to get it. */
async function loadIoRedis(): Promise<IoRedisModule> {
  try {
    return await import('ioredis');
  } catch (error) {
    throw new Error(
      "wsnet/redis needs the 'ioredis' package, an optional peer dependency of wsnet: npm install ioredis",
      { cause: error },
    );
  }
}

/** `redis://user:pass@host:port/db` as ioredis cluster-node and connection options. */
function clusterNode(url: string): { node: ClusterNode; options: RedisOptions } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new TypeError(`cluster URL ${JSON.stringify(url)} is not redis:// or rediss://`);
  return {
    node: { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) },
    options: {
      ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
      ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
}

/**
 * A PubSubAdapter on Redis: `WebSocketServer.listen({ ..., adapter: new RedisAdapter({ url })})`.
 * Each message published on one server reaches every other server's subscribers once, in order
 * per publisher (per publisher and topic in cluster mode, where topics live on different masters).
 * Redis pub/sub is at-most-once: a server whose subscribing connection is down misses what is
 * published meanwhile.
 */
export class RedisAdapter implements PubSubAdapter {
  /** What precedes each topic in its Redis channel's name. */
  readonly channelPrefix: string;
  /** The bound on what is held while the publishing connection is down. */
  readonly maxBufferedBytes: number;
  readonly #url: string | undefined;
  readonly #clusterUrls: readonly string[] | undefined;
  readonly #redisOptions: Readonly<Record<string, unknown>>;
  readonly #origin = newOriginId();
  readonly #buffer: PublishBuffer;
  /** Subscribed channels (prefix + topic) to their topics: what this server listens to. */
  readonly #channels = new Map<string, string>();
  /** Subscribe/unsubscribe commands not yet answered (settled() waits for them). */
  readonly #pending = new Set<Promise<unknown>>();
  #host: PubSubHost | undefined;
  #publisher: Redis | Cluster | undefined;
  #subscriber: Redis | Cluster | undefined;
  /** The publishing connection(s) are ready for publishes to go straight out, in order. */
  #warm = false;
  #attached = false;
  #closed = false;

  constructor(options: RedisAdapterOptions) {
    if ((options.url === undefined) === (options.cluster === undefined))
      throw new TypeError('RedisAdapter needs exactly one of `url` and `cluster`');
    if (options.cluster !== undefined) {
      if (options.cluster.urls.length === 0)
        throw new TypeError('RedisAdapter: `cluster.urls` names no node');
      for (const url of options.cluster.urls) clusterNode(url);
    } else new URL(options.url!);
    const prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
    if (typeof prefix !== 'string')
      throw new TypeError('RedisAdapter: `channelPrefix` must be a string');
    if (options.cluster !== undefined && /\{[^}]*\}/.test(prefix))
      throw new TypeError(
        'RedisAdapter: in cluster mode `channelPrefix` must not contain a {hash tag}: every topic would hash to one slot',
      );
    const max = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!Number.isSafeInteger(max) || max < 0)
      throw new TypeError(`RedisAdapter: \`maxBufferedBytes\` must be an integer >= 0, not ${max}`);
    this.channelPrefix = prefix;
    this.maxBufferedBytes = max;
    this.#buffer = new PublishBuffer(max);
    this.#url = options.url;
    this.#clusterUrls = options.cluster?.urls;
    this.#redisOptions = options.redisOptions ?? {};
  }

  /** Loads ioredis and starts connecting; does not wait for Redis (a server starts without it). */
  async attach(host: PubSubHost): Promise<void> {
    if (this.#attached) throw new Error('RedisAdapter: attach() once, by one server');
    this.#attached = true;
    this.#host = host;
    const ioredis = await loadIoRedis();
    if (this.#closed) return;
    if (this.#clusterUrls !== undefined) this.#connectCluster(ioredis);
    else this.#connectSingle(ioredis);
    this.#publisher!.on('ready', () => void this.#warmUp());
    this.#publisher!.on('close', () => {
      this.#warm = false;
    });
    this.#subscriber!.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.#receive(channel, message),
    );
    this.#subscriber!.on('smessageBuffer', (channel: Buffer, message: Buffer) =>
      this.#receive(channel, message),
    );
    // Topics subscribed before the client was loaded (a single server's subscriber does it on
    // 'ready').
    if (this.#clusterUrls !== undefined)
      for (const channel of this.#channels.keys()) this.#command('subscribe', channel);
  }

  #connectSingle({ Redis }: IoRedisModule): void {
    const common: RedisOptions = {
      ...this.#redisOptions,
      retryStrategy: retryDelay,
      // A reply lost with its connection may or may not have been published: resending could
      // deliver it twice, so it is reported as possibly lost instead.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    };
    // Publishes never queue inside ioredis (unbounded): the PublishBuffer holds them.
    this.#publisher = this.#watch(
      new Redis(this.#url!, {
        connectionName: 'wsnet-publish',
        ...common,
        enableOfflineQueue: false,
      }),
      'publishing',
    );
    // The subscribing connection is sent commands only while ready; on each 'ready' the adapter
    // subscribes to the channels it wants then (#resubscribe). While Redis is down, subscribe()
    // and unsubscribe() change only that set: no queue grows with the calls of an outage.
    const subscriber = this.#watch(
      new Redis(this.#url!, {
        connectionName: 'wsnet-subscribe',
        ...common,
        enableOfflineQueue: false,
        autoResubscribe: false,
      }),
      'subscribing',
    );
    this.#subscriber = subscriber;
    subscriber.on('ready', () => this.#resubscribe(subscriber));
  }

  #connectCluster({ Cluster }: IoRedisModule): void {
    const nodes = this.#clusterUrls!.map(clusterNode);
    const redisOptions = {
      ...this.#redisOptions,
      ...nodes[0].options,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
    };
    const common = (connectionName: string): ClusterOptions => ({
      redisOptions: { connectionName, ...redisOptions },
      clusterRetryStrategy: retryDelay,
      lazyConnect: false,
    });
    const startup = nodes.map((n) => n.node);
    this.#publisher = this.#watch(
      new Cluster(startup, { ...common('wsnet-publish'), enableOfflineQueue: false }),
      'publishing',
    );
    this.#subscriber = this.#watch(
      new Cluster(startup, {
        ...common('wsnet-subscribe'),
        enableOfflineQueue: true,
        shardedSubscribers: true,
      }),
      'subscribing',
    );
  }

  /** Reports a connection's first error of each outage (ioredis emits one per retry). */
  #watch<C extends Redis | Cluster>(client: C, role: string): C {
    let reported = false;
    client.on('error', (error: Error) => {
      if (reported || this.#closed) return;
      reported = true;
      this.#report(
        new RedisAdapterError(
          'connection',
          `the ${role} Redis connection failed: ${error.message}`,
          { cause: error },
        ),
      );
    });
    client.on('ready', () => {
      reported = false;
    });
    return client;
  }

  subscribe(topic: string): void {
    const channel = this.channelPrefix + topic;
    if (this.#closed || this.#channels.has(channel)) return;
    this.#channels.set(channel, topic);
    if (this.#subscriber !== undefined) this.#command('subscribe', channel);
  }

  unsubscribe(topic: string): void {
    const channel = this.channelPrefix + topic;
    if (this.#closed || !this.#channels.delete(channel)) return;
    if (this.#subscriber !== undefined) this.#command('unsubscribe', channel);
  }

  /** A single server's subscribing connection is ready: it listens to every wanted channel. */
  #resubscribe(subscriber: Redis): void {
    const channels = [...this.#channels.keys()];
    for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH)
      this.#track(
        subscriber.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH)),
        'subscribe',
        `${channels.length} channels`,
      );
  }

  #command(kind: 'subscribe' | 'unsubscribe', channel: string): void {
    const subscriber = this.#subscriber!;
    const cluster = this.#clusterUrls !== undefined;
    // Not ready: the next 'ready' subscribes to the channels wanted then.
    if (!cluster && subscriber.status !== 'ready') return;
    const done =
      kind === 'subscribe'
        ? cluster
          ? subscriber.ssubscribe(channel)
          : subscriber.subscribe(channel)
        : cluster
          ? subscriber.sunsubscribe(channel)
          : subscriber.unsubscribe(channel);
    this.#track(done, kind, JSON.stringify(channel));
  }

  /** Keeps a subscribe or unsubscribe for settled(), and reports its failure. */
  #track(done: Promise<unknown>, kind: string, what: string): void {
    const tracked: Promise<unknown> = done.then(
      () => undefined,
      (error: Error) => {
        // A connection lost meanwhile is reported by #watch, and the next 'ready' subscribes.
        if (!this.#closed && this.#subscriber?.status === 'ready')
          this.#report(
            new RedisAdapterError('command', `${kind} ${what} failed: ${error.message}`, {
              cause: error,
            }),
          );
      },
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  /**
   * Resolves once every subscribe and unsubscribe made so far has been answered by Redis (while
   * Redis is down, that is after the reconnect): from then on, messages published on those
   * topics reach this server.
   */
  async settled(): Promise<void> {
    for (;;) {
      while (this.#pending.size > 0) await Promise.all([...this.#pending]);
      const subscriber = this.#subscriber;
      // A single server's subscriber that is not ready subscribes on 'ready': wait for that.
      if (this.#closed || subscriber === undefined || this.#clusterUrls !== undefined) return;
      if (subscriber.status === 'ready' || this.#channels.size === 0) return;
      // ...or for the end, if close() comes first.
      await new Promise<void>((resolve) => {
        const done = () => {
          subscriber.off('ready', done);
          subscriber.off('end', done);
          resolve();
        };
        subscriber.on('ready', done);
        subscriber.on('end', done);
      });
    }
  }

  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void {
    if (this.#closed) {
      this.#report(
        new RedisAdapterError('dropped', `publish on ${JSON.stringify(topic)} after close()`, {
          dropped: 1,
        }),
      );
      return;
    }
    const channel = this.channelPrefix + topic;
    const envelope = encodeEnvelope(this.#origin, payload, binary, compress);
    const publisher = this.#publisher;
    if (
      publisher !== undefined &&
      this.#warm &&
      publisher.status === 'ready' &&
      this.#buffer.length === 0
    ) {
      this.#send(publisher, channel, envelope);
      return;
    }
    const firstDrop = this.#buffer.dropped === 0;
    if (!this.#buffer.push({ channel, envelope }) && firstDrop)
      this.#report(
        new RedisAdapterError(
          'dropped',
          `Redis is unreachable and the publish buffer (maxBufferedBytes ${this.maxBufferedBytes}) is full: ` +
            'publishes are dropped until the connection is back (the total is reported then)',
          { dropped: 1 },
        ),
      );
  }

  #send(publisher: Redis | Cluster, channel: string, envelope: Buffer): void {
    const sent =
      this.#clusterUrls !== undefined
        ? publisher.spublish(channel, envelope)
        : publisher.publish(channel, envelope);
    sent.catch((error: Error) => {
      this.#report(
        new RedisAdapterError(
          'command',
          `publish on ${JSON.stringify(channel)} may be lost: ${error.message}`,
          {
            cause: error,
            dropped: 1,
          },
        ),
      );
    });
  }

  /**
   * The publishing client is ready (again). A cluster client connects to each master lazily, and
   * a burst of publishes sent while a master's connection is being set up can leave in another
   * order than it was made (seen with ioredis 6: test/redis/cluster.test.ts): so every master's
   * connection is made ready (a PING each) before publishes go straight out.
   */
  async #warmUp(): Promise<void> {
    const publisher = this.#publisher!;
    if (this.#clusterUrls !== undefined)
      try {
        await Promise.all((publisher as Cluster).nodes('master').map((node) => node.ping()));
      } catch (error) {
        // The next 'ready' tries again; until then publishes wait in the buffer.
        this.#report(
          new RedisAdapterError(
            'connection',
            `a cluster master did not answer PING: ${(error as Error).message}`,
            {
              cause: error,
            },
          ),
        );
        return;
      }
    if (this.#closed || publisher.status !== 'ready') return;
    this.#warm = true;
    this.#flush();
  }

  /** Buffered publishes go first, in order. */
  #flush(): void {
    const publisher = this.#publisher!;
    const dropped = this.#buffer.takeDropped();
    for (const { channel, envelope } of this.#buffer.takeAll())
      this.#send(publisher, channel, envelope);
    if (dropped.messages > 0)
      this.#report(
        new RedisAdapterError(
          'dropped',
          `${dropped.messages} publishes (${dropped.bytes} bytes) were dropped while Redis was unreachable ` +
            `(maxBufferedBytes ${this.maxBufferedBytes})`,
          { dropped: dropped.messages },
        ),
      );
  }

  #receive(channelBytes: Buffer, message: Buffer): void {
    const channel = channelBytes.toString('utf8');
    const topic = this.#channels.get(channel);
    // A message already on its way when the topic was unsubscribed: no local subscriber wants it.
    if (topic === undefined || this.#closed) return;
    const envelope = decodeEnvelope(message);
    if (typeof envelope === 'string') {
      this.#report(
        new RedisAdapterError(
          'malformed',
          `a message on ${JSON.stringify(channel)} is not a wsnet envelope: ${envelope}`,
        ),
      );
      return;
    }
    if (envelope.origin.equals(this.#origin)) return;
    try {
      this.#host!.deliver(topic, envelope.payload, envelope.binary, envelope.compress);
    } catch (error) {
      this.#report(
        new RedisAdapterError('deliver', `deliver() threw on ${JSON.stringify(topic)}`, {
          cause: error,
        }),
      );
    }
  }

  #report(error: RedisAdapterError): void {
    try {
      this.#host?.reportError(error);
    } catch {
      // A host whose reportError throws has nowhere else to say it; the adapter must go on.
    }
  }

  /**
   * Unsubscribes everything and quits both connections (after the publishes already sent are
   * answered). Publishes still buffered because Redis is down are dropped and reported.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const held = this.#buffer.takeAll().length + this.#buffer.takeDropped().messages;
    if (held > 0)
      this.#report(
        new RedisAdapterError(
          'dropped',
          `${held} publishes held while Redis was unreachable were dropped by close()`,
          {
            dropped: held,
          },
        ),
      );
    this.#channels.clear();
    await Promise.all([this.#quit(this.#subscriber, true), this.#quit(this.#publisher, false)]);
  }

  async #quit(client: Redis | Cluster | undefined, subscriber: boolean): Promise<void> {
    if (client === undefined) return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const polite = (async () => {
        if (subscriber && this.#clusterUrls === undefined) await client.unsubscribe();
        await client.quit();
      })();
      // QUIT waits for the replies before it; a connection that hangs meanwhile is cut.
      const deadline = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error('QUIT timed out')), QUIT_TIMEOUT_MS);
      });
      await Promise.race([polite, deadline]);
    } catch {
      // Quitting failed or took too long: close the sockets.
    } finally {
      clearTimeout(timer);
      client.disconnect();
    }
  }
}
