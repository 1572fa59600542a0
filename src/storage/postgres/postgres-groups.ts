import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type {
  Conversation,
  GroupChange,
  GroupChangeResult,
  GroupPlanner,
  GroupState,
  GroupStore,
  Member,
  NewGroup,
} from '../../messaging/store/index.js';
import { inTransaction } from './database.js';
import { toMemberOrNull } from '../message-actions.js';
import { groupState, groupWrites, type GroupWrites } from '../group-change.js';
import { toConversation, type ConversationRow, type MemberRow } from '../rows.js';
import {
  addMembers,
  conversationRow,
  currentMember,
  findConversation,
  insertConversation,
} from './postgres-messaging.js';

/**
 * GroupStore on PostgreSQL; the contract is the port's (messaging/store/groups.ts). A change and
 * an invite hold the conversation row FOR UPDATE, which orders them with appends.
 */
export class PostgresGroupStore implements GroupStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  createGroup(group: NewGroup): Promise<Conversation> {
    return inTransaction(this.pool, async (client) => {
      const conversation = await insertConversation(client, this.clock, {
        kind: 'group',
        name: null,
        title: group.title,
        history: group.history ?? 'join',
      });
      if (!conversation) throw new Error('createGroup: a group without name conflicted');
      await addMembers(client, this.clock, conversation.id, [group.ownerId], 'owner');
      const others = group.memberIds.filter((id) => id !== group.ownerId);
      await addMembers(client, this.clock, conversation.id, others, 'member');
      return conversation;
    });
  }

  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult> {
    return inTransaction(this.pool, (client) => this.applyChange(client, change, planner));
  }

  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      const row = await conversationRow(client, 'id', conversationId, 'FOR UPDATE');
      if (!row) throw new ParleyError('conversation_not_found');
      const actor = await currentMember(client, conversationId, actorId);
      judge(toConversation(row), toMemberOrNull(actor), row.invite_code);
      await client.query('UPDATE conversations SET invite_code = $1 WHERE id = $2', [
        code,
        conversationId,
      ]);
    });
  }

  async getInvite(conversationId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ invite_code: string | null }>(
      'SELECT invite_code FROM conversations WHERE id = $1',
      [conversationId],
    );
    return rows[0]?.invite_code ?? null;
  }

  findByInvite(code: string): Promise<Conversation | null> {
    return findConversation(this.pool, 'invite_code', code);
  }

  // --- the change transaction --------------------------------------------------------------

  /** The body of changeGroup's transaction; the conversation's row lock orders it with appends. */
  private async applyChange(
    client: pg.PoolClient,
    change: GroupChange,
    planner: GroupPlanner,
  ): Promise<GroupChangeResult> {
    const { conversationId } = change;
    const { row: convRow, state } = await this.lockState(client, change);
    const plan = planner(state);
    const w = groupWrites(convRow, change, plan, {
      ms: this.clock.nowMs(),
      us: this.clock.nowUs(),
    });
    const { message, atUs } = w;
    const { seq } = message;
    await client.query(
      `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
       VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8)`,
      [
        conversationId,
        seq,
        message.id,
        message.senderId,
        message.device,
        w.ref,
        JSON.stringify(plan.body),
        atUs,
      ],
    );
    const { settings } = w;
    await client.query(
      `UPDATE conversations SET last_seq = $2, last_at_us = $3,
              title = COALESCE($4, title), muted_all = COALESCE($5, muted_all),
              history = COALESCE($6, history),
              dismissed_at_ms = COALESCE(dismissed_at_ms, $7),
              avatar = CASE WHEN $8 THEN $9 ELSE avatar END
        WHERE id = $1`,
      [
        conversationId,
        seq,
        atUs,
        settings.title,
        settings.mutedAll,
        settings.history,
        settings.dismissedAtMs,
        settings.setAvatar,
        settings.avatar,
      ],
    );
    await this.applyMembers(client, conversationId, w);
    await client.query(
      `UPDATE members SET read_seq = GREATEST(read_seq, $3), delivered_seq = GREATEST(delivered_seq, $3)
        WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL`,
      [conversationId, w.readBy, seq],
    );
    const after = await conversationRow(client, 'id', conversationId);
    return { conversation: toConversation(after!), message, plan };
  }

  /** Locks the conversation row and reads, under that lock, what the planner judges. */
  private async lockState(
    client: pg.PoolClient,
    change: GroupChange,
  ): Promise<{ row: ConversationRow; state: GroupState }> {
    const { conversationId } = change;
    const row = await conversationRow(client, 'id', conversationId, 'FOR UPDATE');
    if (!row) throw new ParleyError('conversation_not_found');
    const ids = [...new Set([change.actorId, ...change.targetIds])];
    const { rows: memberRows } = await client.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = ANY($2::text[])',
      [conversationId, ids],
    );
    const { rows: counted } = await client.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM members WHERE conversation_id = $1 AND left_seq IS NULL',
      [conversationId],
    );
    return { row, state: groupState(row, memberRows, change, counted[0]?.n ?? 0) };
  }

  private async applyMembers(
    client: pg.PoolClient,
    conversationId: string,
    w: GroupWrites,
  ): Promise<void> {
    const { atUs } = w;
    if (w.join.userIds.length > 0) {
      await client.query(
        `INSERT INTO members (conversation_id, user_id, role, joined_seq, delivered_seq, read_seq,
                              joined_at_ms, updated_us)
         SELECT $1, u, 'member', $3, $3, $3, $4, $5 FROM unnest($2::text[]) AS u
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
           role = 'member', joined_seq = $3, delivered_seq = $3, read_seq = $3,
           joined_at_ms = $4, updated_us = $5, muted = false, left_seq = NULL`,
        [conversationId, w.join.userIds, w.join.joinedSeq, w.nowMs, atUs],
      );
    }
    if (w.leave.length > 0) {
      await client.query(
        `UPDATE members SET left_seq = $3, updated_us = $4
          WHERE conversation_id = $1 AND user_id = ANY($2::text[]) AND left_seq IS NULL`,
        [conversationId, w.leave, w.message.seq, atUs],
      );
    }
    for (const r of w.roles) {
      await client.query(
        'UPDATE members SET role = $3, updated_us = $4 WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, r.userId, r.role, atUs],
      );
    }
    for (const m of w.mute) {
      await client.query(
        'UPDATE members SET muted = $3, updated_us = $4 WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, m.userId, m.muted, atUs],
      );
    }
  }
}
