import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type {
  Conversation,
  ConversationSummary,
  ConversationView,
  Member,
  MessageBody,
  MessageMarks,
  PreferencesChange,
  StoredMessage,
} from '../../messaging/model.js';
import type {
  MessageActionState,
  MessageJudge,
  ReactionChange,
  ReactionResult,
} from '../../messaging/store/index.js';
import { inTransaction } from './database.js';
import { actionState, actorSees, toMemberOrNull, type MessageActions } from '../message-actions.js';
import {
  MESSAGE_COLUMNS,
  VIEW_MEMBER_COLUMNS,
  toConversation,
  toMessage,
  toReactions,
  toView,
  viewWindow,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
  type ReactionRow,
  type ViewRow,
} from '../rows.js';

/** The first key of the per-user advisory lock that orders pins (the second is the user's hash). */
const PIN_LOCK_CLASS = 0x70696e; // "pin"

const NOT_HIDDEN = (alias: string, user: string) => `NOT EXISTS (
  SELECT 1 FROM hidden_messages h
   WHERE h.user_id = ${user} AND h.conversation_id = ${alias}.conversation_id
     AND h.seq = ${alias}.seq)`;

/**
 * The message actions and per-viewer reads of the cluster MessageStore. A message action holds
 * the conversation row FOR SHARE (so it waits for an append or group change in flight, and they
 * wait for it) and the message row FOR UPDATE (so edits, reactions and recalls of one message
 * take turns). PostgresMessageStore delegates to it.
 */
export class PostgresMessageActions implements MessageActions {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(pool: pg.Pool, clock: Clock) {
    this.pool = pool;
    this.clock = clock;
  }

  editMessage(
    conversationId: string,
    seq: number,
    actorId: string,
    judge: MessageJudge<MessageBody>,
  ): Promise<StoredMessage> {
    return inTransaction(this.pool, async (client) => {
      const body = judge(await this.state(client, conversationId, seq, actorId));
      const { rows } = await client.query<MessageRow>(
        `UPDATE messages SET body = $1::json, edited_at_us = $2, changed_us = $2
          WHERE conversation_id = $3 AND seq = $4 RETURNING ${MESSAGE_COLUMNS}`,
        [JSON.stringify(body), this.clock.nowUs(), conversationId, seq],
      );
      return toMessage(rows[0]!);
    });
  }

  react(change: ReactionChange, judge: MessageJudge<void>): Promise<ReactionResult> {
    const { conversationId, seq, userId, emoji } = change;
    return inTransaction(this.pool, async (client) => {
      judge(await this.state(client, conversationId, seq, userId));
      const now = this.clock.nowUs();
      const result = change.add
        ? await client.query(
            `INSERT INTO reactions (conversation_id, seq, user_id, emoji, at_us)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [conversationId, seq, userId, emoji, now],
          )
        : await client.query(
            `DELETE FROM reactions
              WHERE conversation_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4`,
            [conversationId, seq, userId, emoji],
          );
      if (result.rowCount === 1) {
        // The message as its readers see it changed: sync reports it (changedMessages).
        await client.query(
          'UPDATE messages SET changed_us = $1 WHERE conversation_id = $2 AND seq = $3',
          [now, conversationId, seq],
        );
      }
      const { rows } = await client.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM reactions
          WHERE conversation_id = $1 AND seq = $2 AND emoji = $3`,
        [conversationId, seq, emoji],
      );
      return { changed: result.rowCount === 1, count: rows[0]?.n ?? 0 };
    });
  }

  async hideMessage(conversationId: string, seq: number, userId: string): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO hidden_messages (user_id, conversation_id, seq, hidden_at_us)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [userId, conversationId, seq, this.clock.nowUs()],
    );
    return result.rowCount === 1;
  }

  async marks(
    conversationId: string,
    viewerId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<MessageMarks> {
    // Two reads side by side (every pull pays for them): each is a committed state, which is
    // all a page needs; a reaction landing between them shows in the next pull.
    const params = [viewerId, conversationId, fromSeq, toSeq];
    const [hidden, reactions] = await Promise.all([
      this.pool.query<{ seq: number }>(
        `SELECT seq FROM hidden_messages
          WHERE user_id = $1 AND conversation_id = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq`,
        params,
      ),
      this.pool.query<ReactionRow>(
        `SELECT seq, emoji, COUNT(*)::int AS count, bool_or(user_id = $1) AS me
           FROM reactions
          WHERE conversation_id = $2 AND seq BETWEEN $3 AND $4
          GROUP BY seq, emoji ORDER BY seq, MIN(at_us), emoji COLLATE "C"`,
        params,
      ),
    ]);
    return {
      hidden: new Set(hidden.rows.map((r) => r.seq)),
      reactions: toReactions(reactions.rows),
    };
  }

  async summaries(
    userId: string,
    views: readonly ConversationView[],
  ): Promise<Map<string, ConversationSummary>> {
    const out = new Map<string, ConversationSummary>();
    if (views.length === 0) return out;
    const windows = views.map(viewWindow);
    // One statement for the whole list: a LATERAL newest-visible message and a mentions count
    // per conversation.
    const { rows } = await this.pool.query<
      Omit<MessageRow, 'conversation_id'> & {
        conversation_id: string | null;
        view_id: string;
        mention_count: number;
      }
    >(
      `SELECT v.id AS view_id,
              (SELECT COUNT(DISTINCT n.seq)::int FROM mentions n
                WHERE n.conversation_id = v.id AND n.user_id IN ($1, '*')
                  AND n.seq > v.mafter AND n.seq <= v.upto AND ${NOT_HIDDEN('n', '$1')}
              ) AS mention_count,
              x.*
         FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
              AS v(id, after, mafter, upto)
         LEFT JOIN LATERAL (
           SELECT ${MESSAGE_COLUMNS} FROM messages m
            WHERE m.conversation_id = v.id AND m.seq > v.after AND m.seq <= v.upto
              AND ${NOT_HIDDEN('m', '$1')}
            ORDER BY m.seq DESC LIMIT 1
         ) x ON true`,
      [
        userId,
        views.map((v) => v.id),
        windows.map((w) => w.after),
        windows.map((w) => w.mentionsAfter),
        windows.map((w) => w.upTo),
      ],
    );
    for (const row of rows) {
      const last = row.conversation_id === null ? null : toMessage(row as unknown as MessageRow);
      out.set(row.view_id, { last, mentions: row.mention_count });
    }
    return out;
  }

  setPreferences(
    conversationId: string,
    userId: string,
    change: PreferencesChange,
    pinsMax: number,
  ): Promise<ConversationView> {
    return inTransaction(this.pool, async (client) => {
      // Pins of one user take turns, so two pins at once cannot both pass the limit.
      if (change.pinned === true) {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
          PIN_LOCK_CLASS,
          userId,
        ]);
      }
      const { rows: members } = await client.query<MemberRow>(
        `SELECT * FROM members
          WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL FOR UPDATE`,
        [conversationId, userId],
      );
      const member = members[0];
      if (!member) throw new ParleyError('not_member');
      if (change.pinned === true && !member.pinned) {
        const { rows } = await client.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM members
            WHERE user_id = $1 AND pinned AND left_seq IS NULL`,
          [userId],
        );
        if ((rows[0]?.n ?? 0) >= pinsMax) throw new ParleyError('too_many_pins');
      }
      await client.query(
        `UPDATE members SET pinned = COALESCE($3, pinned),
                notifications_muted = COALESCE($4, notifications_muted), updated_us = $5
          WHERE conversation_id = $1 AND user_id = $2`,
        [
          conversationId,
          userId,
          change.pinned ?? null,
          change.notificationsMuted ?? null,
          this.clock.nowUs(),
        ],
      );
      const { rows } = await client.query<ViewRow>(
        `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
           FROM members m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.conversation_id = $1 AND m.user_id = $2`,
        [conversationId, userId],
      );
      return toView(rows[0]!);
    });
  }

  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<ConversationRow>(
        'SELECT * FROM conversations WHERE id = $1 FOR UPDATE',
        [conversationId],
      );
      const row = rows[0];
      if (!row) throw new ParleyError('conversation_not_found');
      const actor = await this.currentMember(client, conversationId, actorId);
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

  async findByInvite(code: string): Promise<Conversation | null> {
    const { rows } = await this.pool.query<ConversationRow>(
      'SELECT * FROM conversations WHERE invite_code = $1',
      [code],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  private async currentMember(
    client: pg.PoolClient,
    conversationId: string,
    userId: string,
  ): Promise<MemberRow | undefined> {
    const { rows } = await client.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL',
      [conversationId, userId],
    );
    return rows[0];
  }

  /** The judge's view, read under the locks described on the class. */
  private async state(
    client: pg.PoolClient,
    conversationId: string,
    seq: number,
    actorId: string,
  ): Promise<MessageActionState> {
    const { rows: convs } = await client.query<ConversationRow>(
      'SELECT * FROM conversations WHERE id = $1 FOR SHARE',
      [conversationId],
    );
    const conv = convs[0];
    if (!conv) throw new ParleyError('conversation_not_found');
    const actor = await this.currentMember(client, conversationId, actorId);
    const { rows: messages } = await client.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2 FOR UPDATE`,
      [conversationId, seq],
    );
    const message = messages[0] && actorSees(conv, actor, seq) ? toMessage(messages[0]) : null;
    let actorReactions: string[] = [];
    if (message) {
      const { rows } = await client.query<{ emoji: string }>(
        `SELECT emoji FROM reactions WHERE conversation_id = $1 AND seq = $2 AND user_id = $3
          ORDER BY at_us, emoji COLLATE "C"`,
        [conversationId, seq, actorId],
      );
      actorReactions = rows.map((r) => r.emoji);
    }
    return actionState(conv, actor, message, actorReactions);
  }
}
