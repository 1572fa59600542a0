import { ParleyError } from '../../core/errors.js';
import type { Member } from '../../messaging/store/index.js';
import type { MemberStore } from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessaging } from './sqlite-messaging.js';
import { toMember, type MemberRow } from '../rows.js';

function statements(m: SqliteMessaging) {
  return {
    members: m.db.prepare(
      `SELECT * FROM members WHERE conversation_id = ? AND left_seq IS NULL
        ORDER BY joined_at_ms, user_id`,
    ),
    directPeers: m.db.prepare(
      `SELECT peer.user_id FROM members me
         JOIN conversations c ON c.id = me.conversation_id AND c.kind = 'direct'
         JOIN members peer ON peer.conversation_id = c.id AND peer.user_id <> me.user_id
        WHERE me.user_id = ?`,
    ),
    sharedWith: m.db
      .prepare(
        `SELECT DISTINCT other.user_id FROM members me
           JOIN conversations c ON c.id = me.conversation_id AND c.dismissed_at_ms IS NULL
           JOIN members other ON other.conversation_id = me.conversation_id
                             AND other.user_id <> me.user_id AND other.left_seq IS NULL
          WHERE me.user_id = ? AND me.left_seq IS NULL`,
      )
      .pluck(),
    raiseDelivered: m.db.prepare(
      `UPDATE members SET delivered_seq = MAX(delivered_seq, @seq), updated_us = @now
        WHERE conversation_id = @conversationId AND user_id = @userId`,
    ),
  };
}

/** MemberStore on SQLite; its contract is in messaging/store/members.ts. */
export class SqliteMembers implements MemberStore {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
  }

  getMember(conversationId: string, userId: string): Promise<Member | null> {
    return settle(() => {
      const row = this.m.memberRow(conversationId, userId);
      return row ? toMember(row) : null;
    });
  }

  getMembership(conversationId: string, userId: string): Promise<Member | null> {
    return settle(() => {
      const row = this.m.membershipRow(conversationId, userId);
      return row ? toMember(row) : null;
    });
  }

  listMembers(conversationId: string): Promise<Member[]> {
    return settle(() => (this.q.members.all(conversationId) as MemberRow[]).map(toMember));
  }

  directPeers(userId: string): Promise<string[]> {
    return settle(() =>
      (this.q.directPeers.all(userId) as { user_id: string }[]).map((r) => r.user_id),
    );
  }

  sharedWith(userId: string): Promise<string[]> {
    return settle(() => this.q.sharedWith.all(userId) as string[]);
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, (capped) =>
      this.m.q.raiseRead.run({ seq: capped, now: this.m.clock.nowUs(), conversationId, userId }),
    );
  }

  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, (capped) =>
      this.q.raiseDelivered.run({ seq: capped, now: this.m.clock.nowUs(), conversationId, userId }),
    );
  }

  private raiseWatermark(
    conversationId: string,
    userId: string,
    seq: number,
    update: (capped: number) => unknown,
  ): Promise<Member> {
    return this.m.write(() => {
      const conv = this.m.conversationRow(conversationId);
      const before = this.m.memberRow(conversationId, userId);
      if (!conv || !before) throw new ParleyError('not_member');
      update(Math.max(0, Math.min(seq, conv.last_seq)));
      return toMember(this.m.memberRow(conversationId, userId)!);
    });
  }
}
