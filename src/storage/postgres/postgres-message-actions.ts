import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { MessageBody, MessageMarks, StoredMessage } from '../../messaging/store/index.js';
import type {
  MessageActionState,
  MessageActionStore,
  MessageJudge,
  ReactionChange,
  ReactionResult,
} from '../../messaging/store/index.js';
import { inTransaction } from './database.js';
import { actionState, actorSees } from '../message-actions.js';
import {
  MESSAGE_COLUMNS,
  toMessage,
  toReactions,
  type MessageRow,
  type ReactionRow,
} from '../rows.js';
import { conversationRow, currentMember } from './postgres-messaging.js';

/**
 * MessageActionStore on PostgreSQL; the contract is the port's (messaging/store/message-actions.ts).
 * A message action holds the conversation row FOR SHARE (so it waits for an append or group
 * change in flight, and they wait for it) and the message row FOR UPDATE (so edits, reactions and
 * recalls of one message take turns).
 */
export class PostgresMessageActionStore implements MessageActionStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

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

  /** The judge's view, read under the locks described on the class. */
  private async state(
    client: pg.PoolClient,
    conversationId: string,
    seq: number,
    actorId: string,
  ): Promise<MessageActionState> {
    const conv = await conversationRow(client, 'id', conversationId, 'FOR SHARE');
    if (!conv) throw new ParleyError('conversation_not_found');
    const actor = await currentMember(client, conversationId, actorId);
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
