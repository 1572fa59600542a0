export { MemoryBus, MemoryBusHub } from './memory-bus.js';
export type { Bus, BusHandler, BusMessage, KickReason, SkipDevice } from './bus.js';
export { RedisBus } from './redis-bus.js';
export type { RedisBusOptions } from './redis-bus.js';
export { openRedis, closeRedis, isCluster, whenReady } from './redis-connection.js';
export type { RedisConnection, RedisLogger, RedisTarget } from './redis-connection.js';
export { RedisBudgetStore } from './redis-budget-store.js';
