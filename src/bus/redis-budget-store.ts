import {
  assertOneGroup,
  budgetGroup,
  MemoryBudgetStore,
  type Budget,
  type BudgetStore,
} from '../core/budget-store.js';
import type { RedisConnection, RedisLogger } from './redis-connection.js';

// The BudgetStore on Redis (core/budget-store.ts): one hash per bucket, read and written by one
// Lua script, so that concurrent takes on any number of nodes are atomic, several buckets at once
// included (takeAll). The script reads Redis's own clock (TIME), so nodes whose clocks differ
// still share one bucket correctly. A bucket expires once it would be full again, so idle keys
// cost no memory. A bucket's name carries its group as a hash tag, so that a Redis Cluster keeps
// the buckets one takeAll() touches in one slot. While Redis cannot be reached, answers come from
// this node's memory (the contract: never reject, never refuse for an outage).

const KEY_PREFIX = 'parley:budget:';

// KEYS: the buckets. ARGV[1]: 'take' (one token from each, all or nothing), 'look' (nothing
// changes) or 'give' (one token back to each); then each bucket's burst and refillMs. Returns each
// bucket's wait in ms, as it was before the change. A full bucket is deleted: a missing one is full.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local waits = {}
local short = false
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local refill = tonumber(ARGV[2 * i + 1])
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(v[1])
  local at = tonumber(v[2])
  if tokens == nil or at == nil then
    tokens = burst
    at = now
  end
  tokens = math.min(burst, tokens + math.max(0, now - at) / refill)
  levels[i] = tokens
  waits[i] = 0
  if tokens < 1 then
    waits[i] = math.max(1, math.ceil((1 - tokens) * refill))
    short = true
  end
end
local change = 0
if ARGV[1] == 'take' and not short then change = -1 end
if ARGV[1] == 'give' then change = 1 end
if change ~= 0 then
  for i, key in ipairs(KEYS) do
    local burst = tonumber(ARGV[2 * i])
    local refill = tonumber(ARGV[2 * i + 1])
    local tokens = math.min(burst, levels[i] + change)
    if tokens >= burst then
      redis.call('DEL', key)
    else
      redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
      redis.call('PEXPIRE', key, math.ceil((burst - tokens) * refill) + 1000)
    end
  end
end
return waits
`;

type Mode = 'take' | 'look' | 'give';
type BudgetScript = (keyCount: number, ...args: (string | number)[]) => Promise<number[]>;

/** The bucket's name in Redis: its group is the hash tag (`parley:budget:{login}:ua:…`). */
export function redisBudgetKey(key: string): string {
  const group = budgetGroup(key);
  return `${KEY_PREFIX}{${group}}${key.slice(group.length)}`;
}

export class RedisBudgetStore implements BudgetStore {
  private readonly script: BudgetScript;
  private readonly fallback = new MemoryBudgetStore();
  private readonly logger: RedisLogger | undefined;
  private failing = false;

  /** `redis` is an open connection the caller keeps and closes. */
  constructor(redis: RedisConnection, logger?: RedisLogger) {
    this.logger = logger;
    // No numberOfKeys: each call says how many buckets it touches.
    if (!('parleyBudgets' in redis)) redis.defineCommand('parleyBudgets', { lua: SCRIPT });
    this.script = (redis as unknown as { parleyBudgets: BudgetScript }).parleyBudgets.bind(redis);
  }

  take(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return this.run(
      async () => (await this.call('take', [{ key, burst, refillMs }]))[0] ?? 0,
      () => this.fallback.takeNow(key, burst, refillMs, nowMs),
    );
  }

  wait(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return this.run(
      async () => (await this.call('look', [{ key, burst, refillMs }]))[0] ?? 0,
      () => this.fallback.waitNow(key, burst, refillMs, nowMs),
    );
  }

  takeAll(budgets: readonly Budget[], nowMs: number): Promise<number[]> {
    assertOneGroup(budgets);
    if (budgets.length === 0) return Promise.resolve([]);
    return this.run(
      () => this.call('take', budgets),
      () => this.fallback.takeAllNow(budgets, nowMs),
    );
  }

  async giveBack(budgets: readonly Budget[], nowMs: number): Promise<void> {
    assertOneGroup(budgets);
    if (budgets.length === 0) return;
    await this.run(
      async () => {
        await this.call('give', budgets);
      },
      () => this.fallback.giveBackNow(budgets, nowMs),
    );
  }

  private async call(mode: Mode, budgets: readonly Budget[]): Promise<number[]> {
    const args = budgets.flatMap((b) => [b.burst, b.refillMs]);
    const waits = await this.script(
      budgets.length,
      ...budgets.map((b) => redisBudgetKey(b.key)),
      mode,
      ...args,
    );
    return waits.map(Number);
  }

  private async run<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    try {
      const answer = await remote();
      if (this.failing) {
        this.failing = false;
        this.logger?.info({}, 'budgets are shared through Redis again');
      }
      return answer;
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
