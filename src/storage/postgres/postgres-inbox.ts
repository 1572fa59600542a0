import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type {
  ConversationSummary,
  ConversationView,
  Page,
  PreferencesChange,
} from '../../messaging/store/index.js';
import type { InboxStore } from '../../messaging/store/index.js';
import { inTransaction } from './database.js';
import {
  MESSAGE_COLUMNS,
  VIEW_MEMBER_COLUMNS,
  changedSeqOrder,
  toMessage,
  toView,
  viewWindow,
  type MemberRow,
  type MessageRow,
  type ViewRow,
} from '../rows.js';
import { boundedPage, notHidden, readerWindow } from './postgres-messaging.js';

const VIEW_SELECT = `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
  FROM members m JOIN conversations c ON c.id = m.conversation_id`;
// A former member's conversation sorts by when it left, not by later activity.
const VIEW_ORDER = `ORDER BY GREATEST(CASE WHEN m.left_seq IS NULL THEN c.last_at_us
                                          ELSE LEAST(c.last_at_us, m.updated_us) END,
                                     c.created_at_ms * 1000) DESC, c.id`;

/** The first key of the per-user advisory lock that orders pins (the second is the user's hash). */
const PIN_LOCK_CLASS = 0x70696e; // "pin"

/** InboxStore on PostgreSQL; the contract is the port's (messaging/store/inbox.ts). */
export class PostgresInboxStore implements InboxStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  async listConversations(userId: string): Promise<ConversationView[]> {
    const { rows } = await this.pool.query<ViewRow>(
      `${VIEW_SELECT} WHERE m.user_id = $1 AND m.left_seq IS NULL
        ORDER BY m.pinned DESC, GREATEST(c.last_at_us, c.created_at_ms * 1000) DESC, c.id`,
      [userId],
    );
    return rows.map(toView);
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
                  AND n.seq > v.mafter AND n.seq <= v.upto AND ${notHidden('n', '$1')}
              ) AS mention_count,
              x.*
         FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
              AS v(id, after, mafter, upto)
         LEFT JOIN LATERAL (
           SELECT ${MESSAGE_COLUMNS} FROM messages m
            WHERE m.conversation_id = v.id AND m.seq > v.after AND m.seq <= v.upto
              AND ${notHidden('m', '$1')}
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
        `${VIEW_SELECT} WHERE m.conversation_id = $1 AND m.user_id = $2`,
        [conversationId, userId],
      );
      return toView(rows[0]!);
    });
  }

  async changedSince(userId: string, sinceUs: number): Promise<ConversationView[]> {
    const { rows } = await this.pool.query<ViewRow>(
      `${VIEW_SELECT} WHERE m.user_id = $1
         AND ((m.left_seq IS NULL
               AND (c.last_at_us > $2
                    OR EXISTS (SELECT 1 FROM messages x
                                WHERE x.conversation_id = c.id AND x.changed_us > $2)
                    OR EXISTS (SELECT 1 FROM hidden_messages h
                                WHERE h.user_id = m.user_id AND h.conversation_id = c.id
                                  AND h.hidden_at_us > $2)))
              OR m.updated_us > $2)
       ${VIEW_ORDER}`,
      [userId, sinceUs],
    );
    return rows.map(toView);
  }

  async changedMessages(
    conversationId: string,
    viewerId: string,
    sinceUs: number,
    limit: number,
    bytesMax?: number,
  ): Promise<Page> {
    return inTransaction(this.pool, async (client) => {
      // One snapshot for the window, the seqs and the rows, as SQLite's read transaction.
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const w = await readerWindow(client, conversationId, viewerId);
      const bounds = [conversationId, sinceUs, w.after, w.before];
      const changed = await client.query<{ seq: number }>(
        `SELECT seq FROM messages
            WHERE conversation_id = $1 AND changed_us > $2 AND seq > $3 AND seq < $4`,
        bounds,
      );
      const hidden = await client.query<{ seq: number }>(
        `SELECT seq FROM hidden_messages
            WHERE user_id = $5 AND conversation_id = $1 AND hidden_at_us > $2
              AND seq > $3 AND seq < $4`,
        [...bounds, viewerId],
      );
      const seqs = changedSeqOrder(
        changed.rows.map((r) => r.seq),
        hidden.rows.map((r) => r.seq),
      );
      const page = await boundedPage(
        client,
        `SELECT ${MESSAGE_COLUMNS} FROM messages
            WHERE conversation_id = $1 AND seq = ANY($2::bigint[]) ORDER BY seq`,
        [conversationId, seqs.slice(0, limit)],
        'seq ASC',
        { limit, ...(bytesMax !== undefined ? { bytesMax } : {}) },
      );
      return { ...page, hasMore: page.hasMore || seqs.length > limit };
    });
  }
}
