import type { SystemBody } from './group-rules.js';
import type { Caller, Conversation, Member, StoredMessage } from './model.js';

// What messaging tells the rest of the system after a change is committed, and the hub that
// fans it out. Every service raises its events here; the delivery router, the event feed and
// the push notifier subscribe. Handlers run synchronously and must not throw.

/**
 * What the messaging rules tell the rest of the system after a change is committed: the
 * delivery router turns these into pushes. Handlers run synchronously and must not throw.
 */
export interface MessagingEvents {
  /**
   * A new message (never a duplicate). `previousAtUs` is the stamp of the message before it in
   * its conversation (0 before the first), where the append knew it: the delivery router can
   * tell a predecessor that may still be on its way from another node from one long delivered.
   */
  messageStored(message: StoredMessage, previousAtUs?: number): void;
  /** A member's delivered or read watermark moved. */
  watermarkMoved(member: Member, kind: 'delivered' | 'read'): void;
  /** `by` is who recalled it, from which device (that device already has the answer). */
  messageRecalled(message: StoredMessage, by: Caller): void;
  /** Someone joined or left; cached member lists of this conversation are stale. */
  membersChanged(conversationId: string): void;
  /**
   * A managed group changed (docs/groups.md). Raised after membersChanged (when members came or
   * went) and after messageStored for the system message that records the change.
   */
  groupChanged(change: GroupChanged): void;
}

/**
 * A direct conversation was created (raised after membersChanged): its two users are now each
 * other's presence peers. Only presence listens (MessagingHub.onDirectOpened).
 */
export type DirectOpened = (conversationId: string, userIds: readonly [string, string]) => void;

/**
 * What the message actions tell the rest of the system after they are committed (the delivery
 * router pushes them; the event feed carries edits and reactions). Handlers run synchronously
 * and must not throw.
 */
export interface MessageActionEvents {
  /** `by` is the sender, from the device that edited (that device already has the answer). */
  messageEdited(message: StoredMessage, by: Caller): void;
  /** Raised only when a reaction was really added or removed. */
  reactionChanged(change: ReactionChanged, by: Caller): void;
  /** A user hid a message for itself (delete for me); only its own devices learn of it. */
  messageHidden(conversationId: string, seq: number, by: Caller): void;
}

export interface ReactionChanged {
  readonly conversationId: string;
  readonly seq: number;
  readonly userId: string;
  readonly emoji: string;
  readonly removed: boolean;
  /** How many users left this emoji on the message now. */
  readonly count: number;
  readonly atUs: number;
}

export interface GroupChanged {
  /** The conversation after the change. */
  readonly conversation: Conversation;
  /** The system message in the conversation's seq stream; its body is `body`. */
  readonly message: StoredMessage;
  readonly body: SystemBody;
  /** Users whose membership this change ended: no longer members, they are told too. */
  readonly left: readonly string[];
}

/** The one place events are raised: it calls every subscriber in the order they subscribed. */
export class MessagingHub implements MessagingEvents, MessageActionEvents {
  private readonly subscribers: MessagingEvents[] = [];
  private readonly actionSubscribers: MessageActionEvents[] = [];
  private readonly directListeners: DirectOpened[] = [];

  subscribe(events: MessagingEvents): void {
    this.subscribers.push(events);
  }

  subscribeActions(events: MessageActionEvents): void {
    this.actionSubscribers.push(events);
  }

  onDirectOpened(listener: DirectOpened): void {
    this.directListeners.push(listener);
  }

  messageStored(message: StoredMessage, previousAtUs?: number): void {
    for (const s of this.subscribers) s.messageStored(message, previousAtUs);
  }

  watermarkMoved(member: Member, kind: 'delivered' | 'read'): void {
    for (const s of this.subscribers) s.watermarkMoved(member, kind);
  }

  messageRecalled(message: StoredMessage, by: Caller): void {
    for (const s of this.subscribers) s.messageRecalled(message, by);
  }

  membersChanged(conversationId: string): void {
    for (const s of this.subscribers) s.membersChanged(conversationId);
  }

  groupChanged(change: GroupChanged): void {
    for (const s of this.subscribers) s.groupChanged(change);
  }

  directOpened(conversationId: string, userIds: readonly [string, string]): void {
    for (const listener of this.directListeners) listener(conversationId, userIds);
  }

  messageEdited(message: StoredMessage, by: Caller): void {
    for (const s of this.actionSubscribers) s.messageEdited(message, by);
  }

  reactionChanged(change: ReactionChanged, by: Caller): void {
    for (const s of this.actionSubscribers) s.reactionChanged(change, by);
  }

  messageHidden(conversationId: string, seq: number, by: Caller): void {
    for (const s of this.actionSubscribers) s.messageHidden(conversationId, seq, by);
  }
}
