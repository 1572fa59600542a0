// Throwaway local engines: a PostgreSQL cluster and Redis servers started as child processes in
// temporary directories on free ports, and stopped (by their own pid) with their data. The
// tests use them, and so do the bench's cluster mode and `parley verify` (which also crashes,
// pauses and restarts them); nothing else in the server does.
export { freePort } from './ports.js';
export { postgresAvailable, postgresSkipReason, startPostgres } from './postgres.js';
export type { ControlledPostgres, PostgresOptions, TestPostgres } from './postgres.js';
export { redisAvailable, redisSkip, startRedis, startRedisCluster } from './redis.js';
export type { RedisOptions, RunningRedis, RunningRedisCluster } from './redis.js';
