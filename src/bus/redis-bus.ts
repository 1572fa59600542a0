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
// - One PUBLISH per channel per event-loop turn: what is published to one channel in one turn
//   (a commit batch's pushes, say) travels as one envelope `{from, msgs: [...]}`, in publish
//   order, so the cost per message is a slice of one command, not a command. A message alone in
//   its turn keeps the single-message envelope `{from, msg}`, and a node accepts both: the
//   nodes of a rolling upgrade still understand each other (docs/decisions/0070).
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
  /** The messages, in publish order: one (`{from, msg}`) or several (`{from, msgs}`). */
  readonly msgs: readonly BusMessage[];
}

const CONNECT_WAIT_MS_DEFAULT = 10_000;
/**
 * An envelope closes past this many characters of payload and the next one starts: one
 * PUBLISH stays small enough not to stall Redis or the receiving node for long.
 */
const ENVELOPE_CHARS_MAX = 256 * 1024;

/** A channel's messages of this turn, each serialized when it was published. */
interface Outgoing {
  readonly parts: string[];
  chars: number;
}

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
  /** channel → what was published to it this turn; sent by `flush` at the end of the turn. */
  private outgoing = new Map<string, Outgoing>();

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
    // What this turn published still goes, ahead of the QUIT, as it did before close.
    if (!this.closing && this.outgoing.size > 0) this.flush();
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
    // Serialized now, not at the flush: the caller may change its objects once publish returns.
    const part = JSON.stringify(msg);
    let out = this.outgoing.get(channel);
    if (out === undefined) {
      if (this.outgoing.size === 0) queueMicrotask(this.flush);
      this.outgoing.set(channel, (out = { parts: [], chars: 0 }));
    }
    out.parts.push(part);
    out.chars += part.length;
  }

  /** Publishes this turn's messages: one envelope per channel (more only past the size cap). */
  private readonly flush = (): void => {
    const outgoing = this.outgoing;
    this.outgoing = new Map();
    const from = JSON.stringify(this.nodeId);
    for (const [channel, out] of outgoing) {
      for (const parts of envelopesOf(out)) this.publishEnvelope(channel, from, parts);
    }
  };

  private publishEnvelope(channel: string, from: string, parts: readonly string[]): void {
    if (this.closing || this.publisher.status !== 'ready') {
      this.droppedCount += parts.length;
      return;
    }
    const payload =
      parts.length === 1
        ? `{"from":${from},"msg":${parts[0]}}`
        : `{"from":${from},"msgs":[${parts.join(',')}]}`;
    const sent = this.sharded
      ? this.publisher.spublish(channel, payload)
      : this.publisher.publish(channel, payload);
    sent.catch(() => {
      this.droppedCount += parts.length;
    });
  }

  private readonly receive = (channel: string, data: string): void => {
    if (this.handler === null) return;
    const envelope = parseEnvelope(data);
    if (envelope === null) {
      this.malformedCount++;
      return;
    }
    if (channel === BROADCAST_CHANNEL && envelope.from === this.nodeId) return;
    for (const msg of envelope.msgs) {
      // Read each time: a handler may close the bus, after which nothing is delivered.
      const handler = this.handler as BusHandler | null;
      if (handler === null) return;
      if (isMessage(msg)) handler(msg);
      else this.malformedCount++;
    }
  };
}

/** Splits a channel's parts into envelopes of at most ENVELOPE_CHARS_MAX (at least one part). */
function envelopesOf(out: Outgoing): string[][] {
  if (out.chars <= ENVELOPE_CHARS_MAX) return [out.parts];
  const envelopes: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const part of out.parts) {
    if (current.length > 0 && chars + part.length > ENVELOPE_CHARS_MAX) {
      envelopes.push(current);
      current = [];
      chars = 0;
    }
    current.push(part);
    chars += part.length;
  }
  envelopes.push(current);
  return envelopes;
}

const isMessage = (msg: unknown): msg is BusMessage =>
  typeof msg === 'object' && msg !== null && typeof (msg as { kind?: unknown }).kind === 'string';

/** `{from, msg}` (one message, and every older node's envelope) or `{from, msgs: [...]}`. */
function parseEnvelope(data: string): Envelope | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null; // counted by the caller as malformed
  }
  if (typeof value !== 'object' || value === null) return null;
  const { from, msg, msgs } = value as { from?: unknown; msg?: unknown; msgs?: unknown };
  if (from !== null && typeof from !== 'string') return null;
  if (Array.isArray(msgs)) return { from, msgs: msgs as BusMessage[] };
  if (!isMessage(msg)) return null;
  return { from, msgs: [msg] };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
