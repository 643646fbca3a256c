/**
 * How servers in different processes (or on different machines) share their topics: a
 * `PubSubAdapter` relays what one server publishes to the others, each of which frames it once
 * for its own subscribers. The default relays nothing (one process); `wsnet/redis` relays
 * through Redis.
 */
import type { Buffer } from 'node:buffer';

/**
 * What a server gives its adapter.
 */
export interface PubSubHost {
  /**
   * Delivers a message that another server published to this server's local subscribers: framed
   * once, written to each (none excluded). The topic `''` is a
   * `broadcast()`: every open connection. Text (`binary` false) must be UTF-8; what is not is
   * reported as an `adapterError` and not delivered.
   */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void;
  /** Reports a failure the adapter cannot handle itself (the server emits it as 'adapterError'). */
  reportError(error: Error): void;
}

/**
 * Relays publishes between servers. The in-process default does nothing remote.
 *
 * The server calls `attach` once (when it is made), `subscribe(topic)` when a topic gets its
 * first local subscriber and `unsubscribe(topic)` when its last one leaves, `publish` after each
 * local publish (already delivered to the local subscribers), and `close()` when it closes
 * (after which it calls nothing more). `subscribe`, `unsubscribe` and `publish` may come before
 * the promise of `attach` settles: the adapter keeps or applies them when it is ready. The topic
 * `''`, which no application topic can be, carries the broadcasts
 * without a filter: the server subscribes to it right after `attach`. An adapter never throws
 * into the server for a failure of its own transport: it reports it with `host.reportError`.
 */
export interface PubSubAdapter {
  /** Once, when a server starts using the adapter (a server owns one adapter). */
  attach(host: PubSubHost): void | Promise<void>;
  /** This server's first local subscriber for `topic` (the adapter starts listening to it). */
  subscribe(topic: string): void;
  /** This server's last local subscriber for `topic` left. */
  unsubscribe(topic: string): void;
  /** A publish made on this server, already delivered locally: relay it to the other servers. */
  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean | undefined): void;
  /** The server closes: unsubscribe everything, release connections. */
  close(): Promise<void>;
}

/**
 * @internal The topic that carries `broadcast()` between servers: the empty string, which no application
 * topic can be (topics are 1 to 1024 characters).
 */
export const BROADCAST_TOPIC = '';

/** @internal The default: one process, nothing to relay. */
export class LocalAdapter implements PubSubAdapter {
  attach(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  publish(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const METHODS = ['attach', 'subscribe', 'unsubscribe', 'publish', 'close'] as const;

/** @internal The name of the first method `adapter` lacks, or undefined if it has them all. */
export function missingAdapterMethod(adapter: unknown): string | undefined {
  if (typeof adapter !== 'object' || adapter === null) return 'attach';
  const record = adapter as Record<string, unknown>;
  return METHODS.find((name) => typeof record[name] !== 'function');
}
