// Throwaway local engines: a PostgreSQL cluster and Redis servers started as child processes in
// temporary directories on free ports, and stopped (by their own pid) with their data. The
// tests use them, and so does the bench's cluster mode; nothing else in the server does.
export { freePort } from './ports.js';
export { postgresAvailable, postgresSkipReason, startPostgres } from './postgres.js';
export type { TestPostgres } from './postgres.js';
export { redisAvailable, redisSkip, startRedis, startRedisCluster } from './redis.js';
export type { RunningRedis, RunningRedisCluster } from './redis.js';
