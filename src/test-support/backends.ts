// A test suite that needs a real PostgreSQL and a real Redis, both started for it and stopped
// after it.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../engines/index.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';

export interface PostgresAndRedis {
  readonly pg: TestPostgres;
  readonly redis: RunningRedis;
}

/**
 * Declares a suite (skipped, saying why, where PostgreSQL or Redis is missing) before whose tests
 * both are started, in parallel, and after which both are stopped. Its tests call `backends()`
 * for them (which fails the test when they did not start).
 */
export function describeWithPostgresAndRedis(
  name: string,
  body: (backends: () => PostgresAndRedis) => void,
): void {
  describe(name, { skip: postgresSkipReason() ?? redisSkip() }, () => {
    let pg: TestPostgres | undefined;
    let redis: RunningRedis | undefined;
    before(
      async () => {
        [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
      },
      { timeout: 90_000 },
    );
    after(async () => {
      await redis?.stop();
      await pg?.stop();
    });

    body(() => {
      assert.ok(pg && redis);
      return { pg, redis };
    });
  });
}
