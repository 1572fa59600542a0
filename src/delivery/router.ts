import type { Logger } from '../core/logger.js';
import type { Limits } from '../core/limits.js';
import type { Caller, Member, MessagingEvents, StoredMessage } from '../messaging/index.js';
import type { Codec, ServerFrame, WireMessage } from '../protocol/index.js';

// The delivery router: which live sessions on this node get which push. It is told about
// committed changes through MessagingEvents, and pushes are best effort, at most once: a push that
// is lost (a full socket, a dropped link) is recovered by the client through sync and pull, never
// retried here. The store stays the truth.

/** A live, authenticated connection as the router sees it. */
export interface LiveSession {
  readonly userId: string;
  readonly device: string;
  readonly codec: Codec;
  /** Writes encoded bytes; drops (and may close the link) rather than queue without bound. */
  push(data: string | Uint8Array): void;
}

/** Bounded cache of member lists: when full it is dropped whole and refilled from the store. */
const MEMBER_CACHE_ENTRIES_MAX = 50_000;

export function wireMessage(m: StoredMessage): WireMessage {
  return {
    conversation: m.conversationId,
    seq: m.seq,
    messageId: m.id,
    sender: m.senderId,
    device: m.device,
    body: m.body,
    at: Math.floor(m.atUs / 1000),
    ...(m.recalledAtUs !== null ? { recalled: true } : {}),
  };
}

/** Encodes a frame at most once per codec, however many sessions it goes to. */
class EncodedFrame {
  private readonly frame: ServerFrame;
  private readonly bytes = new Map<Codec, string | Uint8Array>();
  constructor(frame: ServerFrame) {
    this.frame = frame;
  }
  for(codec: Codec): string | Uint8Array {
    let data = this.bytes.get(codec);
    if (data === undefined) {
      data = codec.encode(this.frame);
      this.bytes.set(codec, data);
    }
    return data;
  }
}

export interface RouterDeps {
  /** Loads a conversation's member ids on a cache miss. */
  readonly loadMembers: (conversationId: string) => Promise<string[]>;
  readonly limits: Limits;
  readonly logger: Logger;
}

export class DeliveryRouter implements MessagingEvents {
  private readonly deps: RouterDeps;
  private readonly byUser = new Map<string, Set<LiveSession>>();
  private readonly members = new Map<string, ReadonlySet<string>>();
  /** Pushes waiting, in order, for a conversation's member list to load. */
  private readonly waiting = new Map<string, ((members: ReadonlySet<string>) => void)[]>();
  /** Conversations whose member list changed while a load was in flight: do not cache it. */
  private readonly stale = new Set<string>();

  constructor(deps: RouterDeps) {
    this.deps = deps;
  }

  /** Registers a session; returns the session of the same user and device it replaces, if any. */
  attach(session: LiveSession): LiveSession | undefined {
    let set = this.byUser.get(session.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(session.userId, set);
    }
    let replaced: LiveSession | undefined;
    for (const other of set) {
      if (other.device === session.device) {
        replaced = other;
        set.delete(other);
      }
    }
    set.add(session);
    return replaced;
  }

  detach(session: LiveSession): void {
    const set = this.byUser.get(session.userId);
    if (!set?.delete(session)) return;
    if (set.size === 0) this.byUser.delete(session.userId);
  }

  sessionsOf(userId: string): ReadonlySet<LiveSession> {
    return this.byUser.get(userId) ?? new Set();
  }

  connectionCount(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  isOnline(userId: string): boolean {
    return this.byUser.has(userId);
  }

  // --- MessagingEvents ---------------------------------------------------------------------

  messageStored(message: StoredMessage): void {
    const frame = new EncodedFrame({ type: 'message', ...wireMessage(message) });
    this.toMembers(
      message.conversationId,
      frame,
      (s) => s.userId === message.senderId && s.device === message.device,
    );
  }

  watermarkMoved(member: Member, _kind: 'delivered' | 'read'): void {
    const frame = new EncodedFrame({
      type: 'receipt',
      conversation: member.conversationId,
      user: member.userId,
      deliveredSeq: member.deliveredSeq,
      readSeq: member.readSeq,
    });
    this.withMembers(member.conversationId, (members) => {
      // Small conversations show everyone's ticks; in big ones only the member's own devices learn.
      const to =
        members.size <= this.deps.limits.receiptFanoutMembersMax ? members : [member.userId];
      this.pushTo(to, frame);
    });
  }

  messageRecalled(message: StoredMessage, by: Caller): void {
    const frame = new EncodedFrame({
      type: 'recalled',
      conversation: message.conversationId,
      seq: message.seq,
      by: by.userId,
    });
    this.toMembers(
      message.conversationId,
      frame,
      (s) => s.userId === by.userId && s.device === by.device,
    );
  }

  membersChanged(conversationId: string): void {
    this.members.delete(conversationId);
    if (this.waiting.has(conversationId)) this.stale.add(conversationId);
  }

  /** Tells the other members that a user is typing. Nothing is stored. */
  typing(conversationId: string, userId: string): void {
    const frame = new EncodedFrame({ type: 'typing', conversation: conversationId, user: userId });
    this.toMembers(conversationId, frame, (s) => s.userId === userId);
  }

  /** Whether the user is a member, from the cache when possible. */
  isMember(conversationId: string, userId: string): Promise<boolean> {
    return new Promise((resolve) =>
      this.withMembers(conversationId, (m) => resolve(m.has(userId))),
    );
  }

  /** Pushes a frame to every online session of these users. */
  pushTo(
    userIds: Iterable<string>,
    frame: EncodedFrame | ServerFrame,
    skip?: (s: LiveSession) => boolean,
  ): void {
    const encoded = frame instanceof EncodedFrame ? frame : new EncodedFrame(frame);
    for (const userId of userIds) {
      const sessions = this.byUser.get(userId);
      if (!sessions) continue;
      for (const session of sessions)
        if (!skip?.(session)) session.push(encoded.for(session.codec));
    }
  }

  // --- internals -------------------------------------------------------------------------

  private toMembers(
    conversationId: string,
    frame: EncodedFrame,
    skip?: (s: LiveSession) => boolean,
  ): void {
    this.withMembers(conversationId, (members) => {
      // Walk the smaller side: a 10,000-member group with 3 members online here costs 3 lookups.
      if (members.size <= this.byUser.size) {
        this.pushTo(members, frame, skip);
      } else {
        for (const userId of this.byUser.keys())
          if (members.has(userId)) this.pushTo([userId], frame, skip);
      }
    });
  }

  /**
   * Runs `fn` with the conversation's members: at once when cached, else after one store read
   * shared by every push waiting on it, in the order they arrived (so pushes keep seq order).
   */
  private withMembers(conversationId: string, fn: (members: ReadonlySet<string>) => void): void {
    const cached = this.members.get(conversationId);
    if (cached) return fn(cached);
    const queue = this.waiting.get(conversationId);
    if (queue) {
      queue.push(fn);
      return;
    }
    this.waiting.set(conversationId, [fn]);
    this.deps.loadMembers(conversationId).then(
      (ids) => this.loaded(conversationId, new Set(ids)),
      (err: unknown) => {
        this.deps.logger.warn({ err, conversationId }, 'member list load failed; pushes dropped');
        this.waiting.delete(conversationId);
        this.stale.delete(conversationId);
      },
    );
  }

  private loaded(conversationId: string, members: ReadonlySet<string>): void {
    const queue = this.waiting.get(conversationId) ?? [];
    this.waiting.delete(conversationId);
    // An empty list is an unknown conversation (every real one has members): not worth a slot,
    // and caching it would let a client fill the cache with made-up ids.
    if (!this.stale.delete(conversationId) && members.size > 0) {
      if (this.members.size >= MEMBER_CACHE_ENTRIES_MAX) this.members.clear();
      this.members.set(conversationId, members);
    }
    for (const fn of queue) fn(members);
  }
}
