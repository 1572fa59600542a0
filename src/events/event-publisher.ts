import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type {
  Caller,
  GroupChanged,
  Member,
  MessageActionEvents,
  MessagingEvents,
  ReactionChanged,
  StoredMessage,
} from '../messaging/index.js';
import type { Profile, ProfileSubscriber } from '../users/index.js';
import type { EventSink, ParleyEvent, ParleyEventType } from './event-sink.js';

/** Turns committed changes into feed events (docs/events.md) and hands them to the sinks. */
export class EventPublisher implements MessagingEvents, MessageActionEvents, ProfileSubscriber {
  private readonly sinks: readonly EventSink[];
  private readonly node: string;
  private readonly clock: Clock;

  constructor(options: { sinks: readonly EventSink[]; node: string; clock: Clock }) {
    this.sinks = options.sinks;
    this.node = options.node;
    this.clock = options.clock;
  }

  messageStored(m: StoredMessage): void {
    this.emit('message.stored', {
      conversation: m.conversationId,
      seq: m.seq,
      messageId: m.id,
      sender: m.senderId,
      device: m.device,
      body: m.body,
      at: Math.floor(m.atUs / 1000),
    });
  }

  messageRecalled(m: StoredMessage, by: Caller): void {
    this.emit('message.recalled', { conversation: m.conversationId, seq: m.seq, by: by.userId });
  }

  messageEdited(m: StoredMessage, by: Caller): void {
    this.emit('message.edited', {
      conversation: m.conversationId,
      seq: m.seq,
      messageId: m.id,
      body: m.body,
      editedAt: m.editedAtUs === undefined ? null : Math.floor(m.editedAtUs / 1000),
      by: by.userId,
    });
  }

  reactionChanged(change: ReactionChanged, by: Caller): void {
    this.emit('message.reaction', {
      conversation: change.conversationId,
      seq: change.seq,
      user: by.userId,
      emoji: change.emoji,
      added: !change.removed,
      count: change.count,
      at: Math.floor(change.atUs / 1000),
    });
  }

  /** Delete-for-me is the user's own view, not a change of the message: not in the feed. */
  messageHidden(): void {}

  membersChanged(conversationId: string): void {
    this.emit('conversation.members_changed', { conversation: conversationId });
  }

  groupChanged(change: GroupChanged): void {
    const { body, message } = change;
    this.emit('group.changed', {
      ...body,
      conversation: message.conversationId,
      seq: message.seq,
      at: Math.floor(message.atUs / 1000),
    });
  }

  watermarkMoved(member: Member, kind: 'delivered' | 'read'): void {
    this.emit('member.watermark', {
      conversation: member.conversationId,
      user: member.userId,
      kind,
      deliveredSeq: member.deliveredSeq,
      readSeq: member.readSeq,
    });
  }

  /** A user saved its profile (UsersService subscriber). */
  profileChanged(profile: Profile): void {
    this.emit('user.profile_changed', {
      user: profile.userId,
      username: profile.username,
      displayName: profile.displayName,
      bio: profile.bio,
      avatar: profile.avatar,
      at: profile.updatedAtMs,
    });
  }

  /**
   * A user deleted its account (after its groups and contacts ended, which have their own
   * events): consumers holding its personal data erase it.
   */
  accountDeleted(user: { readonly userId: string; readonly username: string }): void {
    this.emit('user.deleted', { user: user.userId, username: user.username });
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  private emit(type: ParleyEventType, data: Record<string, unknown>): void {
    const event: ParleyEvent = {
      id: randomUUID(),
      type,
      at: this.clock.nowMs(),
      node: this.node,
      data,
    };
    for (const sink of this.sinks) sink.append(event);
  }
}
