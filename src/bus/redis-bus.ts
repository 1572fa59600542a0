import type { Bus, BusHandler, BusMessage } from './bus.js';
import {
  closeRedis,
  isCluster,
  openRedis,
  type RedisConnection,
  type RedisLogger,
  type RedisTarget,
  whenReady,
} from './redis-connection.js';

// The Redis Bus: Redis pub/sub between nodes. Each node listens on its own channel and on the
// broadcast channel only, so a node's inbound traffic is what is addressed to it plus the
// broadcasts, however many nodes there are.
//
// - At most once: the publishing connection has no offline queue and never resends, so a message
//   published while Redis is unreachable is dropped and counted (`dropped`), never delayed.
// - Order: one publishing connection per bus, so Redis sees (and forwards to each channel) one
//   bus's messages in the order they were published.
// - Broadcast echo: every message travels in an envelope `{from, msg}`; a node drops the
//   broadcasts that it sent itself.
// - Reconnects are ioredis's: forever, with backoff; the subscriber resubscribes by itself.
//
// Redis Cluster: classic PUBLISH works there but every shard forwards every message to every
// other shard, so the whole cluster carries all bus traffic. With a Cluster (or `sharded: true`)
// the bus uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+): a channel lives on the shard that
// owns its slot, and traffic spreads over the shards. A node channel and the broadcast channel
// then sit on different shards, so there is no order between a node's direct messages and its
// broadcasts (the contract promises order per node channel only).

export const BROADCAST_CHANNEL = 'parley:broadcast';
export const nodeChannel = (nodeId: string): string => `parley:node:${nodeId}`;

export interface RedisBusOptions {
  /** A redis:// URL, or a Cluster used as a template (see RedisTarget). */
  readonly redis: RedisTarget;
  /** SPUBLISH/SSUBSCRIBE instead of PUBLISH/SUBSCRIBE. Default: true for a Cluster. */
  readonly sharded?: boolean;
  /** Logs connection loss and recovery, never payloads. */
  readonly logger?: RedisLogger;
  /** How long subscribe waits for Redis before it rejects. */
  readonly connectWaitMs?: number;
}

interface Envelope {
  /** The publishing node, or null for a bus that has not subscribed. */
  readonly from: string | null;
  readonly msg: BusMessage;
}

const CONNECT_WAIT_MS_DEFAULT = 10_000;

export class RedisBus implements Bus {
  private readonly publisher: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly sharded: boolean;
  private readonly connectWaitMs: number;
  private nodeId: string | null = null;
  private handler: BusHandler | null = null;
  private closing: Promise<void> | null = null;
  private droppedCount = 0;
  private malformedCount = 0;

  constructor(options: RedisBusOptions) {
    const { redis, logger } = options;
    this.sharded = options.sharded ?? isCluster(redis);
    this.connectWaitMs = options.connectWaitMs ?? CONNECT_WAIT_MS_DEFAULT;
    this.publisher = openRedis(redis, { role: 'bus-publisher', offlineQueue: false, logger });
    this.subscriber = openRedis(redis, {
      role: 'bus-subscriber',
      offlineQueue: true,
      shardedSubscriber: this.sharded,
      logger,
    });
    this.subscriber.on(this.sharded ? 'smessage' : 'message', this.receive);
    // Connect now so that publish works before subscribe; a failure is logged through the
    // 'error' event and ioredis keeps retrying.
    this.publisher.connect().catch(() => undefined);
  }

  /** Messages dropped because Redis was unreachable or refused them. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Received messages that were not a Parley envelope, and were ignored. */
  get malformed(): number {
    return this.malformedCount;
  }

  async subscribe(nodeId: string, handler: BusHandler): Promise<void> {
    if (this.closing) throw new Error('RedisBus.subscribe after close');
    if (this.nodeId !== null) throw new Error('RedisBus already subscribed');
    this.nodeId = nodeId;
    const channels = [nodeChannel(nodeId), BROADCAST_CHANNEL];
    // Sharded: the two channels hash to different slots, and one SSUBSCRIBE takes one slot.
    const subscribed = this.sharded
      ? Promise.all(channels.map((c) => this.subscriber.ssubscribe(c)))
      : this.subscriber.subscribe(...channels);
    await withTimeout(
      Promise.all([subscribed, whenReady(this.publisher)]),
      this.connectWaitMs,
      `Redis bus did not connect within ${this.connectWaitMs} ms`,
    );
    if (!this.closing) this.handler = handler;
  }

  publish(nodeId: string, message: BusMessage): void {
    this.send(nodeChannel(nodeId), message);
  }

  broadcast(message: BusMessage): void {
    this.send(BROADCAST_CHANNEL, message);
  }

  close(): Promise<void> {
    this.handler = null;
    this.closing ??= Promise.all([closeRedis(this.subscriber), closeRedis(this.publisher)]).then(
      () => undefined,
    );
    return this.closing;
  }

  private send(channel: string, msg: BusMessage): void {
    // Checked first so that an outage costs a counter, not a rejected promise per message.
    if (this.closing || this.publisher.status !== 'ready') {
      this.droppedCount++;
      return;
    }
    const payload = JSON.stringify({ from: this.nodeId, msg } satisfies Envelope);
    const sent = this.sharded
      ? this.publisher.spublish(channel, payload)
      : this.publisher.publish(channel, payload);
    sent.catch(() => {
      this.droppedCount++;
    });
  }

  private readonly receive = (channel: string, data: string): void => {
    const handler = this.handler;
    if (handler === null) return;
    const envelope = parseEnvelope(data);
    if (envelope === null) {
      this.malformedCount++;
      return;
    }
    if (channel === BROADCAST_CHANNEL && envelope.from === this.nodeId) return;
    handler(envelope.msg);
  };
}

function parseEnvelope(data: string): Envelope | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null; // counted by the caller as malformed
  }
  if (typeof value !== 'object' || value === null) return null;
  const { from, msg } = value as { from?: unknown; msg?: unknown };
  if (from !== null && typeof from !== 'string') return null;
  if (typeof msg !== 'object' || msg === null) return null;
  if (typeof (msg as { kind?: unknown }).kind !== 'string') return null;
  return { from, msg: msg as BusMessage };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
