import type { Redis, Cluster } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { EventSink, ParleyEvent } from './event-sink.js';

// Appends every event to a capped Redis Stream (XADD … MAXLEN ~ N), one entry per event, one
// field `event` holding the event's JSON. Consumers read it with XREAD or consumer groups
// (XREADGROUP).
//
// The events of one event-loop turn (a commit batch's messages) go to Redis in one command: a
// script that XADDs them one by one, in order, so the stream is exactly what one XADD per event
// made, for one round trip and one reply per batch instead of per event. The script touches one
// key (the stream), so it runs on Redis Cluster as well.

// KEYS[1] = the stream; ARGV[1] = its length cap; ARGV[2..] = the events' JSON, in order.
const XADD_ALL = `
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i])
end
return #ARGV - 1`;

/** One script call carries at most this many events: Redis runs a script without pause. */
const EVENTS_PER_CALL_MAX = 1_000;

export class RedisStreamSink implements EventSink {
  private readonly redis: Redis | Cluster;
  private readonly stream: string;
  private readonly lengthMax: string;
  private readonly logger: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** This turn's events, serialized; sent by `flush` at the end of the turn. */
  private pending: string[] = [];
  private dropped = 0;

  constructor(options: {
    redis: Redis | Cluster;
    stream: string;
    lengthMax: number;
    logger: Logger;
  }) {
    this.redis = options.redis;
    this.stream = options.stream;
    this.lengthMax = String(options.lengthMax);
    this.logger = options.logger;
  }

  append(event: ParleyEvent): void {
    // Checked first so that an outage costs a counter, not a failed command per event.
    if (this.redis.status !== 'ready') return this.drop(1, 'Redis is not connected');
    if (this.pending.length === 0) queueMicrotask(this.flush);
    this.pending.push(JSON.stringify(event));
  }

  get droppedCount(): number {
    return this.dropped;
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private readonly flush = (): void => {
    const events = this.pending;
    this.pending = [];
    for (let i = 0; i < events.length; i += EVENTS_PER_CALL_MAX) {
      this.write(events.slice(i, i + EVENTS_PER_CALL_MAX));
    }
  };

  private write(events: string[]): void {
    const write = this.redis
      .eval(XADD_ALL, 1, this.stream, this.lengthMax, ...events)
      // Dropped, not queued: the store is the truth, and a queue here would grow while Redis is down.
      .catch((err: unknown) => this.drop(events.length, err))
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** Counts dropped events; logs the first drop and then once per thousand, not per event. */
  private drop(count: number, err: unknown): void {
    const before = this.dropped;
    this.dropped += count;
    if (before === 0 || Math.floor(before / 1000) < Math.floor(this.dropped / 1000)) {
      this.logger.warn({ err, dropped: this.dropped, events: count }, 'event feed append failed');
    }
  }
}
