import type { Redis, Cluster } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { EventSink, ParleyEvent } from './event-sink.js';

/**
 * Appends every event to a capped Redis Stream (XADD … MAXLEN ~ N), one field `event` holding the
 * event's JSON. Consumers read it with XREAD or consumer groups (XREADGROUP).
 */
export class RedisStreamSink implements EventSink {
  private readonly redis: Redis | Cluster;
  private readonly stream: string;
  private readonly lengthMax: number;
  private readonly logger: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();
  private dropped = 0;

  constructor(options: {
    redis: Redis | Cluster;
    stream: string;
    lengthMax: number;
    logger: Logger;
  }) {
    this.redis = options.redis;
    this.stream = options.stream;
    this.lengthMax = options.lengthMax;
    this.logger = options.logger;
  }

  append(event: ParleyEvent): void {
    const write = this.redis
      .xadd(this.stream, 'MAXLEN', '~', String(this.lengthMax), '*', 'event', JSON.stringify(event))
      .catch((err: unknown) => {
        // Dropped, not queued: the store is the truth, and a queue here would grow while Redis is down.
        this.dropped += 1;
        if (this.dropped === 1 || this.dropped % 1000 === 0) {
          this.logger.warn(
            { err, dropped: this.dropped, type: event.type },
            'event feed append failed',
          );
        }
      })
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  get droppedCount(): number {
    return this.dropped;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
