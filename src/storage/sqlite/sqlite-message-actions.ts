import type { Statement } from 'better-sqlite3';
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
import { settle, type SqliteDb } from './database.js';
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

/**
 * The message actions and per-viewer reads of the embedded MessageStore (edits, reactions,
 * delete-for-me, conversation summaries, preferences, invite codes). SqliteMessageStore
 * delegates to it; every write runs in an IMMEDIATE transaction, which SQLite serializes with
 * appends and group changes.
 */
export class SqliteMessageActions implements MessageActions {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly q: Record<string, Statement>;

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.q = {
      conversation: db.prepare('SELECT * FROM conversations WHERE id = ?'),
      member: db.prepare(
        'SELECT * FROM members WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL',
      ),
      message: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?`,
      ),
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
        .prepare(
          'SELECT COUNT(*) FROM reactions WHERE conversation_id = ? AND seq = ? AND emoji = ?',
        )
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
      lastVisible: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages x
          WHERE x.conversation_id = @conversationId AND x.seq > @after AND x.seq <= @upTo
            AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                             WHERE h.user_id = @userId AND h.conversation_id = x.conversation_id
                               AND h.seq = x.seq)
          ORDER BY x.seq DESC LIMIT 1`,
      ),
      mentionCount: db
        .prepare(
          `SELECT COUNT(DISTINCT n.seq) FROM mentions n
            WHERE n.conversation_id = @conversationId AND n.user_id IN (@userId, '*')
              AND n.seq > @after AND n.seq <= @upTo
              AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                               WHERE h.user_id = @userId AND h.conversation_id = n.conversation_id
                                 AND h.seq = n.seq)`,
        )
        .pluck(),
      pinnedCount: db
        .prepare(
          'SELECT COUNT(*) FROM members WHERE user_id = ? AND pinned = 1 AND left_seq IS NULL',
        )
        .pluck(),
      setPreferences: db.prepare(
        `UPDATE members SET pinned = COALESCE(@pinned, pinned),
                notifications_muted = COALESCE(@muted, notifications_muted), updated_us = @now
          WHERE conversation_id = @conversationId AND user_id = @userId AND left_seq IS NULL`,
      ),
      view: db.prepare(
        `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
           FROM members m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.conversation_id = ? AND m.user_id = ?`,
      ),
      setInvite: db.prepare('UPDATE conversations SET invite_code = ? WHERE id = ?'),
      invite: db.prepare('SELECT invite_code FROM conversations WHERE id = ?').pluck(),
      byInvite: db.prepare('SELECT * FROM conversations WHERE invite_code = ?'),
    };
  }

  editMessage(
    conversationId: string,
    seq: number,
    actorId: string,
    judge: MessageJudge<MessageBody>,
  ): Promise<StoredMessage> {
    return settle(() =>
      this.db
        .transaction(() => {
          const body = judge(this.state(conversationId, seq, actorId));
          this.q.setBody!.run({
            body: JSON.stringify(body),
            now: this.clock.nowUs(),
            conversationId,
            seq,
          });
          return toMessage(this.q.message!.get(conversationId, seq) as MessageRow);
        })
        .immediate(),
    );
  }

  react(change: ReactionChange, judge: MessageJudge<void>): Promise<ReactionResult> {
    const { conversationId, seq, userId, emoji } = change;
    return settle(() =>
      this.db
        .transaction(() => {
          judge(this.state(conversationId, seq, userId));
          const now = this.clock.nowUs();
          const changed = change.add
            ? this.q.addReaction!.run(conversationId, seq, userId, emoji, now)
            : this.q.removeReaction!.run(conversationId, seq, userId, emoji);
          if (changed.changes === 1) this.q.touch!.run(now, conversationId, seq);
          const count = this.q.reactionCount!.get(conversationId, seq, emoji) as number;
          return { changed: changed.changes === 1, count };
        })
        .immediate(),
    );
  }

  hideMessage(conversationId: string, seq: number, userId: string): Promise<boolean> {
    return settle(
      () => this.q.hide!.run(userId, conversationId, seq, this.clock.nowUs()).changes === 1,
    );
  }

  marks(
    conversationId: string,
    viewerId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<MessageMarks> {
    return settle(() => {
      // One read transaction: the hidden seqs and the reactions are of the same moment.
      const read = this.db.transaction(() => ({
        hidden: new Set(this.q.hiddenIn!.all(viewerId, conversationId, fromSeq, toSeq) as number[]),
        reactions: toReactions(
          this.q.reactionsIn!.all({
            viewer: viewerId,
            conversationId,
            from: fromSeq,
            to: toSeq,
          }) as ReactionRow[],
        ),
      }));
      return read.deferred();
    });
  }

  summaries(
    userId: string,
    views: readonly ConversationView[],
  ): Promise<Map<string, ConversationSummary>> {
    return settle(() => {
      const read = this.db.transaction(() => {
        const out = new Map<string, ConversationSummary>();
        for (const v of views) {
          const { after, mentionsAfter, upTo } = viewWindow(v);
          const params = { conversationId: v.id, userId, upTo };
          const last = this.q.lastVisible!.get({ ...params, after }) as MessageRow | undefined;
          const mentions = this.q.mentionCount!.get({ ...params, after: mentionsAfter }) as number;
          out.set(v.id, { last: last ? toMessage(last) : null, mentions });
        }
        return out;
      });
      return read.deferred();
    });
  }

  setPreferences(
    conversationId: string,
    userId: string,
    change: PreferencesChange,
    pinsMax: number,
  ): Promise<ConversationView> {
    return settle(() =>
      this.db
        .transaction(() => {
          const member = this.q.member!.get(conversationId, userId) as MemberRow | undefined;
          if (!member) throw new ParleyError('not_member');
          if (change.pinned === true && !member.pinned) {
            const pinned = this.q.pinnedCount!.get(userId) as number;
            if (pinned >= pinsMax) throw new ParleyError('too_many_pins');
          }
          this.q.setPreferences!.run({
            pinned: change.pinned === undefined ? null : change.pinned ? 1 : 0,
            muted:
              change.notificationsMuted === undefined ? null : change.notificationsMuted ? 1 : 0,
            now: this.clock.nowUs(),
            conversationId,
            userId,
          });
          return toView(this.q.view!.get(conversationId, userId) as ViewRow);
        })
        .immediate(),
    );
  }

  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void> {
    return settle(() =>
      this.db
        .transaction(() => {
          const row = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
          if (!row) throw new ParleyError('conversation_not_found');
          const actor = this.q.member!.get(conversationId, actorId) as MemberRow | undefined;
          judge(toConversation(row), toMemberOrNull(actor), row.invite_code);
          this.q.setInvite!.run(code, conversationId);
        })
        .immediate(),
    );
  }

  getInvite(conversationId: string): Promise<string | null> {
    return settle(() => (this.q.invite!.get(conversationId) as string | null | undefined) ?? null);
  }

  findByInvite(code: string): Promise<Conversation | null> {
    return settle(() => {
      const row = this.q.byInvite!.get(code) as ConversationRow | undefined;
      return row ? toConversation(row) : null;
    });
  }

  /** The judge's view, read inside the caller's transaction. */
  private state(conversationId: string, seq: number, actorId: string): MessageActionState {
    const conv = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
    if (!conv) throw new ParleyError('conversation_not_found');
    const actor = this.q.member!.get(conversationId, actorId) as MemberRow | undefined;
    const row = actorSees(conv, actor, seq)
      ? (this.q.message!.get(conversationId, seq) as MessageRow | undefined)
      : undefined;
    const message = row ? toMessage(row) : null;
    return actionState(
      conv,
      actor,
      message,
      message ? (this.q.actorReactions!.all(conversationId, seq, actorId) as string[]) : [],
    );
  }
}
