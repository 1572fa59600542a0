import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Member } from '../../messaging/store/index.js';
import type { MemberStore } from '../../messaging/store/index.js';
import { toMember, type MemberRow } from '../rows.js';
import { currentMember } from './postgres-messaging.js';

/** MemberStore on PostgreSQL; the contract is the port's (messaging/store/members.ts). */
export class PostgresMemberStore implements MemberStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  async getMember(conversationId: string, userId: string): Promise<Member | null> {
    const row = await currentMember(this.pool, conversationId, userId);
    return row ? toMember(row) : null;
  }

  async getMembership(conversationId: string, userId: string): Promise<Member | null> {
    const { rows } = await this.pool.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = $2',
      [conversationId, userId],
    );
    return rows[0] ? toMember(rows[0]) : null;
  }

  async listMembers(conversationId: string): Promise<Member[]> {
    const { rows } = await this.pool.query<MemberRow>(
      `SELECT * FROM members WHERE conversation_id = $1 AND left_seq IS NULL
        ORDER BY joined_at_ms, user_id`,
      [conversationId],
    );
    return rows.map(toMember);
  }

  async directPeers(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT peer.user_id FROM members me
         JOIN conversations c ON c.id = me.conversation_id AND c.kind = 'direct'
         JOIN members peer ON peer.conversation_id = c.id AND peer.user_id <> me.user_id
        WHERE me.user_id = $1`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  async sharedWith(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT DISTINCT other.user_id FROM members me
         JOIN conversations c ON c.id = me.conversation_id AND c.dismissed_at_ms IS NULL
         JOIN members other ON other.conversation_id = me.conversation_id
                           AND other.user_id <> me.user_id AND other.left_seq IS NULL
        WHERE me.user_id = $1 AND me.left_seq IS NULL`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, true);
  }

  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, false);
  }

  /** One statement: forward only, capped at the conversation's lastSeq; reading implies delivery. */
  private async raiseWatermark(
    conversationId: string,
    userId: string,
    seq: number,
    read: boolean,
  ): Promise<Member> {
    const capped = 'GREATEST(0, LEAST($3::bigint, c.last_seq))';
    const { rows } = await this.pool.query<MemberRow>(
      `UPDATE members m
          SET ${read ? `read_seq = GREATEST(m.read_seq, ${capped}),` : ''}
              delivered_seq = GREATEST(m.delivered_seq, ${capped}),
              updated_us = $4
         FROM conversations c
        WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.user_id = $2
          AND m.left_seq IS NULL
       RETURNING m.*`,
      [conversationId, userId, seq, this.clock.nowUs()],
    );
    if (!rows[0]) throw new ParleyError('not_member');
    return toMember(rows[0]);
  }
}
