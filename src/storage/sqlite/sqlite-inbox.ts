import type { Transaction } from 'better-sqlite3';
import { ParleyError } from '../../core/errors.js';
import type {
  ConversationSummary,
  ConversationView,
  Page,
  PreferencesChange,
} from '../../messaging/store/index.js';
import type { InboxStore } from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessageRow, SqliteMessaging } from './sqlite-messaging.js';
import {
  MESSAGE_COLUMNS,
  VIEW_MEMBER_COLUMNS,
  changedSeqOrder,
  takePage,
  toMessage,
  toView,
  viewWindow,
  type MessageRow,
  type ViewRow,
} from '../rows.js';

function statements(m: SqliteMessaging) {
  const { db } = m;
  return {
    listForUser: db.prepare(
      `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
         FROM members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.user_id = ? AND m.left_seq IS NULL
        ORDER BY m.pinned DESC, MAX(c.last_at_us, c.created_at_ms * 1000) DESC, c.id`,
    ),
    changedSince: db.prepare(
      `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
         FROM members m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.user_id = @userId
          AND ((m.left_seq IS NULL
                AND (c.last_at_us > @since
                     OR EXISTS (SELECT 1 FROM messages x
                                 WHERE x.conversation_id = c.id AND x.changed_us > @since)
                     OR EXISTS (SELECT 1 FROM hidden_messages h
                                 WHERE h.user_id = m.user_id AND h.conversation_id = c.id
                                   AND h.hidden_at_us > @since)))
               OR m.updated_us > @since)
        ORDER BY MAX(MIN(c.last_at_us, CASE WHEN m.left_seq IS NULL THEN c.last_at_us
                                            ELSE m.updated_us END),
                     c.created_at_ms * 1000) DESC, c.id`,
    ),
    // changedMessages: the seqs that changed (on the partial index) and those the viewer hid.
    changedSeqs: db
      .prepare(
        `SELECT seq FROM messages
          WHERE conversation_id = ? AND changed_us > ? AND seq > ? AND seq < ?`,
      )
      .pluck(),
    hiddenSince: db
      .prepare(
        `SELECT seq FROM hidden_messages
          WHERE user_id = ? AND conversation_id = ? AND hidden_at_us > ? AND seq > ? AND seq < ?`,
      )
      .pluck(),
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
      .prepare('SELECT COUNT(*) FROM members WHERE user_id = ? AND pinned = 1 AND left_seq IS NULL')
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
  };
}

type ChangedRead = (
  conversationId: string,
  viewerId: string,
  sinceUs: number,
  limit: number,
  bytesMax: number | undefined,
) => Page;

/** InboxStore on SQLite; its contract is in messaging/store/inbox.ts. */
export class SqliteInbox implements InboxStore {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;
  private readonly changedTx: Transaction<ChangedRead>;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
    this.changedTx = m.db.transaction(
      (
        conversationId: string,
        viewerId: string,
        sinceUs: number,
        limit: number,
        bytesMax: number | undefined,
      ) => this.readChanged(conversationId, viewerId, sinceUs, limit, bytesMax),
    );
  }

  listConversations(userId: string): Promise<ConversationView[]> {
    return settle(() => (this.q.listForUser.all(userId) as ViewRow[]).map(toView));
  }

  summaries(
    userId: string,
    views: readonly ConversationView[],
  ): Promise<Map<string, ConversationSummary>> {
    return this.m.read(() => {
      const out = new Map<string, ConversationSummary>();
      for (const v of views) {
        const { after, mentionsAfter, upTo } = viewWindow(v);
        const params = { conversationId: v.id, userId, upTo };
        const last = this.q.lastVisible.get({ ...params, after }) as MessageRow | undefined;
        const mentions = this.q.mentionCount.get({ ...params, after: mentionsAfter }) as number;
        out.set(v.id, { last: last ? toMessage(last) : null, mentions });
      }
      return out;
    });
  }

  setPreferences(
    conversationId: string,
    userId: string,
    change: PreferencesChange,
    pinsMax: number,
  ): Promise<ConversationView> {
    return this.m.write(() => {
      const member = this.m.memberRow(conversationId, userId);
      if (!member) throw new ParleyError('not_member');
      if (change.pinned === true && !member.pinned) {
        const pinned = this.q.pinnedCount.get(userId) as number;
        if (pinned >= pinsMax) throw new ParleyError('too_many_pins');
      }
      this.q.setPreferences.run({
        pinned: change.pinned === undefined ? null : change.pinned ? 1 : 0,
        muted: change.notificationsMuted === undefined ? null : change.notificationsMuted ? 1 : 0,
        now: this.m.clock.nowUs(),
        conversationId,
        userId,
      });
      return toView(this.q.view.get(conversationId, userId) as ViewRow);
    });
  }

  changedSince(userId: string, sinceUs: number): Promise<ConversationView[]> {
    return settle(() =>
      (this.q.changedSince.all({ userId, since: sinceUs }) as ViewRow[]).map(toView),
    );
  }

  changedMessages(
    conversationId: string,
    viewerId: string,
    sinceUs: number,
    limit: number,
    bytesMax?: number,
  ): Promise<Page> {
    return settle(() => this.changedTx(conversationId, viewerId, sinceUs, limit, bytesMax));
  }

  /** changedMessages' body, in one read transaction. */
  private readChanged(
    conversationId: string,
    viewerId: string,
    sinceUs: number,
    limit: number,
    bytesMax?: number,
  ): Page {
    const w = this.m.window(conversationId, viewerId);
    const seqs = changedSeqOrder(
      this.q.changedSeqs.all(conversationId, sinceUs, w.after, w.before) as number[],
      this.q.hiddenSince.all(viewerId, conversationId, sinceUs, w.after, w.before) as number[],
    );
    // Rows read one at a time, so that none past the byte budget is loaded.
    const m = this.m;
    function* rows(): Generator<SqliteMessageRow> {
      for (const seq of seqs) {
        const row = m.messageRow(conversationId, seq);
        if (row) yield row;
      }
    }
    const page = takePage(rows(), limit, bytesMax);
    return {
      messages: page.rows.map(toMessage),
      hasMore: page.hasMore,
      ...(bytesMax !== undefined ? { bodyChars: page.bodyChars } : {}),
    };
  }
}
