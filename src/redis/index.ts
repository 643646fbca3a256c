/**
 * `wsnet/redis`: scale-out across processes through Redis pub/sub. Needs the `ioredis` package
 * (an optional peer dependency of wsnet, loaded only here).
 */
export { RedisAdapter, RedisAdapterError } from './redis-adapter.js';
export type { RedisAdapterErrorKind, RedisAdapterOptions } from './redis-adapter.js';
export type { PubSubAdapter, PubSubHost } from './adapter-contract.js';
