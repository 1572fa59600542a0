// The EventSink seam: where Parley's event feed goes (a Redis Stream, webhooks), for other
// services to consume; the integration point the seed systems used Kafka for.
//
// Contract: append is called after the change it describes is committed, never before, and in
// commit order per conversation. It never throws and never blocks the caller: a sink that cannot
// deliver buffers (bounded) or drops, and says so in its logs. The feed is at most once from the
// hot path; the store stays the truth, so a consumer that must not miss anything reconciles
// against it (messages by conversation and seq). close() delivers what it can within its bound.

export type ParleyEventType =
  | 'message.stored'
  | 'message.recalled'
  | 'message.edited'
  | 'message.reaction'
  | 'conversation.members_changed'
  | 'group.changed'
  | 'member.watermark'
  | 'user.profile_changed'
  | 'user.deleted';

export interface ParleyEvent {
  /** Unique per event: consumers dedupe by it. */
  readonly id: string;
  readonly type: ParleyEventType;
  /** Epoch milliseconds when the node emitted it. */
  readonly at: number;
  readonly node: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EventSink {
  append(event: ParleyEvent): void;
  close(): Promise<void>;
}
