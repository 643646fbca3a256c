/**
 * The Redis adapters of the fan-out suite's servers (bench/fanout/server-process.ts): wsnet's
 * RedisAdapter (wsnet/redis) and socket.io's @socket.io/redis-adapter, both on ioredis, each with
 * a way to wait until its subscriptions are in place (a publish made before would be lost).
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { RedisAdapter } from '../../src/redis/index.js';

/** Resolves once the adapter's Redis subscriptions are in place. */
export type Settle = () => Promise<void>;

export async function socketIoAdapter(
  url: string,
): Promise<{ adapter: ReturnType<typeof createAdapter>; settle: Settle }> {
  const publisher = new Redis(url);
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.ping(), subscriber.ping()]);
  // The adapter subscribes as it is made (a pattern for broadcasts, channels for requests);
  // a PING queued behind those commands on the subscribing connection answers after them.
  return { adapter: createAdapter(publisher, subscriber), settle: () => subscriber.ping().then() };
}

export function wsnetAdapter(url: string): { adapter: RedisAdapter; settle: Settle } {
  const adapter = new RedisAdapter({ url });
  // The server subscribes the adapter to a topic at its first local subscriber: settled() waits
  // for Redis to have answered every SUBSCRIBE made so far.
  return { adapter, settle: () => adapter.settled() };
}
