import { ParleyError } from '../../core/errors.js';
import type { MessageBody, MessageMarks, StoredMessage } from '../../messaging/store/index.js';
import type {
  MessageActionState,
  MessageActionStore,
  MessageJudge,
  ReactionChange,
  ReactionResult,
} from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessaging } from './sqlite-messaging.js';
import { actionState, actorSees } from '../message-actions.js';
import { toMessage, toReactions, type ReactionRow } from '../rows.js';

function statements(m: SqliteMessaging) {
  const { db } = m;
  return {
    setBody: db.prepare(
      `UPDATE messages SET body = @body, edited_at_us = @now, changed_us = @now
        WHERE conversation_id = @conversationId AND seq = @seq`,
    ),
    // A reaction added or removed changes the message as its readers see it (sync reports it).
    touch: db.prepare('UPDATE messages SET changed_us = ? WHERE conversation_id = ? AND seq = ?'),
    actorReactions: db
      .prepare(
        `SELECT emoji FROM reactions WHERE conversation_id = ? AND seq = ? AND user_id = ?
          ORDER BY at_us, emoji`,
      )
      .pluck(),
    addReaction: db.prepare(
      `INSERT OR IGNORE INTO reactions (conversation_id, seq, user_id, emoji, at_us)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    removeReaction: db.prepare(
      'DELETE FROM reactions WHERE conversation_id = ? AND seq = ? AND user_id = ? AND emoji = ?',
    ),
    reactionCount: db
      .prepare('SELECT COUNT(*) FROM reactions WHERE conversation_id = ? AND seq = ? AND emoji = ?')
      .pluck(),
    hide: db.prepare(
      `INSERT OR IGNORE INTO hidden_messages (user_id, conversation_id, seq, hidden_at_us)
       VALUES (?, ?, ?, ?)`,
    ),
    hiddenIn: db
      .prepare(
        `SELECT seq FROM hidden_messages
          WHERE user_id = ? AND conversation_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      )
      .pluck(),
    reactionsIn: db.prepare(
      `SELECT seq, emoji, COUNT(*) AS count, MAX(user_id = @viewer) AS me
         FROM reactions
        WHERE conversation_id = @conversationId AND seq BETWEEN @from AND @to
        GROUP BY seq, emoji ORDER BY seq, MIN(at_us), emoji`,
    ),
  };
}

/** MessageActionStore on SQLite; its contract is in messaging/store/message-actions.ts. */
export class SqliteMessageActions implements MessageActionStore {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
  }

  editMessage(
    conversationId: string,
    seq: number,
    actorId: string,
    judge: MessageJudge<MessageBody>,
  ): Promise<StoredMessage> {
    return this.m.write(() => {
      const body = judge(this.state(conversationId, seq, actorId));
      this.q.setBody.run({
        body: JSON.stringify(body),
        now: this.m.clock.nowUs(),
        conversationId,
        seq,
      });
      return toMessage(this.m.messageRow(conversationId, seq)!);
    });
  }

  react(change: ReactionChange, judge: MessageJudge<void>): Promise<ReactionResult> {
    const { conversationId, seq, userId, emoji } = change;
    return this.m.write(() => {
      judge(this.state(conversationId, seq, userId));
      const now = this.m.clock.nowUs();
      const changed = change.add
        ? this.q.addReaction.run(conversationId, seq, userId, emoji, now)
        : this.q.removeReaction.run(conversationId, seq, userId, emoji);
      if (changed.changes === 1) this.q.touch.run(now, conversationId, seq);
      const count = this.q.reactionCount.get(conversationId, seq, emoji) as number;
      return { changed: changed.changes === 1, count };
    });
  }

  hideMessage(conversationId: string, seq: number, userId: string): Promise<boolean> {
    return settle(
      () => this.q.hide.run(userId, conversationId, seq, this.m.clock.nowUs()).changes === 1,
    );
  }

  marks(
    conversationId: string,
    viewerId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<MessageMarks> {
    // One read transaction: the hidden seqs and the reactions are of the same moment.
    return this.m.read(() => ({
      hidden: new Set(this.q.hiddenIn.all(viewerId, conversationId, fromSeq, toSeq) as number[]),
      reactions: toReactions(
        this.q.reactionsIn.all({
          viewer: viewerId,
          conversationId,
          from: fromSeq,
          to: toSeq,
        }) as ReactionRow[],
      ),
    }));
  }

  /** The judge's view, read inside the caller's transaction. */
  private state(conversationId: string, seq: number, actorId: string): MessageActionState {
    const conv = this.m.conversationRow(conversationId);
    if (!conv) throw new ParleyError('conversation_not_found');
    const actor = this.m.memberRow(conversationId, actorId);
    const row = actorSees(conv, actor, seq) ? this.m.messageRow(conversationId, seq) : undefined;
    const message = row ? toMessage(row) : null;
    return actionState(
      conv,
      actor,
      message,
      message ? (this.q.actorReactions.all(conversationId, seq, actorId) as string[]) : [],
    );
  }
}
