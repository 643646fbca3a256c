/**
 * `wsnet/redis`: scale-out across processes through Redis pub/sub. `RedisAdapter` relays what a
 * server publishes to the servers of other processes (docs/redis.md). Needs the `ioredis`
 * package, an optional peer dependency of wsnet loaded only by this entry.
 *
 * @module wsnet/redis
 */
export { RedisAdapter, RedisAdapterError } from './redis-adapter.js';
export type { RedisAdapterErrorKind, RedisAdapterOptions } from './redis-adapter.js';
export type { PubSubAdapter, PubSubHost } from './adapter-contract.js';
