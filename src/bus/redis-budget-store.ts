import { MemoryBudgetStore, type BudgetStore } from '../core/budget-store.js';
import type { RedisConnection, RedisLogger } from './redis-connection.js';

// The BudgetStore on Redis (core/budget-store.ts): one hash per bucket, read and written by one
// Lua script, so that concurrent takes on any number of nodes are atomic. The script reads
// Redis's own clock (TIME), so nodes whose clocks differ still share one bucket correctly. A
// bucket expires once it would be full again, so idle keys cost no memory. While Redis cannot be
// reached, answers come from this node's memory (the contract: never reject, never refuse for an
// outage).

const KEY_PREFIX = 'parley:budget:';

// KEYS[1] the bucket; ARGV: burst, refillMs, take (1) or only look (0). Returns the wait in ms.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(v[1])
local at = tonumber(v[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) / refill)
local wait = 0
if tokens >= 1 then
  if ARGV[3] == '1' then tokens = tokens - 1 end
else
  wait = math.max(1, math.ceil((1 - tokens) * refill))
end
if ARGV[3] == '1' and wait == 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * refill) + 1000)
end
return wait
`;

type BudgetCommand = (key: string, burst: number, refillMs: number, take: 0 | 1) => Promise<number>;

export class RedisBudgetStore implements BudgetStore {
  private readonly command: BudgetCommand;
  private readonly fallback = new MemoryBudgetStore();
  private readonly logger: RedisLogger | undefined;
  private failing = false;

  /** `redis` is an open connection the caller keeps and closes. */
  constructor(redis: RedisConnection, logger?: RedisLogger) {
    this.logger = logger;
    if (!('parleyBudget' in redis))
      redis.defineCommand('parleyBudget', { numberOfKeys: 1, lua: SCRIPT });
    const bound = (redis as unknown as { parleyBudget: BudgetCommand }).parleyBudget.bind(redis);
    this.command = (key, burst, refillMs, take) => bound(KEY_PREFIX + key, burst, refillMs, take);
  }

  take(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return this.run(key, burst, refillMs, 1, () =>
      this.fallback.takeNow(key, burst, refillMs, nowMs),
    );
  }

  wait(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return this.run(key, burst, refillMs, 0, () =>
      this.fallback.waitNow(key, burst, refillMs, nowMs),
    );
  }

  private async run(
    key: string,
    burst: number,
    refillMs: number,
    take: 0 | 1,
    local: () => number,
  ): Promise<number> {
    try {
      const wait = Number(await this.command(key, burst, refillMs, take));
      if (this.failing) {
        this.failing = false;
        this.logger?.info({}, 'budgets are shared through Redis again');
      }
      return wait;
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.logger?.warn(
          { error: err instanceof Error ? err.message : String(err) },
          'Redis unreachable: budgets are per node until it is back',
        );
      }
      return local();
    }
  }
}
