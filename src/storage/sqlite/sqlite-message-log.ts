import type { Transaction } from 'better-sqlite3';
import type { Page, StoredMessage } from '../../messaging/store/index.js';
import type {
  AppendRequest,
  AppendResult,
  MessageLog,
  SeqPage,
  TimePage,
} from '../../messaging/store/index.js';
import { settle } from './database.js';
import { SqliteAppend } from './sqlite-append.js';
import type { SqliteMessageRow, SqliteMessaging } from './sqlite-messaging.js';
import {
  MESSAGE_COLUMNS,
  RECALLED_BODY,
  SEQ_END,
  takePage,
  toMessage,
  type MessageRow,
} from '../rows.js';

const RECALLED_BODY_JSON = JSON.stringify(RECALLED_BODY);

function statements(m: SqliteMessaging) {
  const { db } = m;
  return {
    sentBy: db.prepare(
      `SELECT ${MESSAGE_COLUMNS}, ref FROM messages
        WHERE sender_id = ? AND (device, ref) > (?, ?)
        ORDER BY device, ref LIMIT ?`,
    ),
    recall: db.prepare(
      `UPDATE messages SET body = @body, recalled_at_us = COALESCE(recalled_at_us, @now),
              changed_us = COALESCE(recalled_at_us, @now)
        WHERE conversation_id = @conversationId AND seq = @seq`,
    ),
    dropReactions: db.prepare('DELETE FROM reactions WHERE conversation_id = ? AND seq = ?'),
    forward: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`,
    ),
    backward: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    // The time of the first message at or above a seq: one step of pageByTime's search.
    stampFrom: db.prepare(
      `SELECT at_us FROM messages WHERE conversation_id = ? AND seq >= ? ORDER BY seq LIMIT 1`,
    ),
  };
}

/**
 * MessageLog on SQLite; its contract is in messaging/store/message-log.ts. Appends run on this
 * connection (sqlite-append.ts) unless useAppender sends them to the append thread.
 */
export class SqliteMessageLog implements MessageLog {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;
  private readonly appending: SqliteAppend;
  private readonly timePageTx: Transaction<(conversationId: string, page: TimePage) => Page>;
  private appender: ((batch: readonly AppendRequest[]) => Promise<AppendResult[]>) | null = null;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
    this.appending = new SqliteAppend(m);
    this.timePageTx = m.db.transaction((conversationId: string, page: TimePage) =>
      this.readTimePage(conversationId, page),
    );
  }

  append(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    return this.appender ? this.appender(batch) : this.appendHere(batch);
  }

  /** Runs the batch on this connection (the append thread's fallback). */
  appendHere(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    return this.appending.append(batch);
  }

  /** Sends appends elsewhere (the append thread, append-thread.ts); null: this connection. */
  useAppender(
    appender: ((batch: readonly AppendRequest[]) => Promise<AppendResult[]>) | null,
  ): void {
    this.appender = appender;
  }

  pageBySeq(conversationId: string, page: SeqPage): Promise<Page> {
    return settle(() => {
      const w = page.viewerId === undefined ? null : this.m.window(conversationId, page.viewerId);
      const lower = Math.max(page.after ?? 0, w?.after ?? 0);
      const upper = Math.min(page.before ?? SEQ_END, w?.before ?? SEQ_END);
      // Without `after` the caller wants the newest messages below `before` (or the newest of all).
      const stmt = page.after === undefined ? this.q.backward : this.q.forward;
      const { rows, hasMore } = takePage(
        stmt.iterate(conversationId, lower, upper, page.limit + 1) as Iterable<SqliteMessageRow>,
        page.limit,
        page.bytesMax,
      );
      const messages = rows.map(toMessage);
      if (page.after === undefined) messages.reverse();
      return { messages, hasMore };
    });
  }

  pageByTime(conversationId: string, page: TimePage): Promise<Page> {
    return settle(() => this.timePageTx(conversationId, page));
  }

  getMessage(
    conversationId: string,
    seq: number,
    viewerId?: string,
  ): Promise<StoredMessage | null> {
    return settle(() => {
      if (viewerId !== undefined) {
        const w = this.m.window(conversationId, viewerId);
        if (seq <= w.after || seq >= w.before) return null;
      }
      const row = this.m.messageRow(conversationId, seq);
      return row ? toMessage(row) : null;
    });
  }

  sentBy(
    userId: string,
    after: { readonly device: string; readonly ref: string } | null,
    limit: number,
  ): Promise<(StoredMessage & { readonly ref: string })[]> {
    return settle(() =>
      (
        this.q.sentBy.all(userId, after?.device ?? '', after?.ref ?? '', limit) as (MessageRow & {
          ref: string;
        })[]
      ).map((r) => ({ ...toMessage(r), ref: r.ref })),
    );
  }

  recall(conversationId: string, seq: number): Promise<StoredMessage | null> {
    return this.m.write(() => {
      this.q.recall.run({
        body: RECALLED_BODY_JSON,
        now: this.m.clock.nowUs(),
        conversationId,
        seq,
      });
      this.q.dropReactions.run(conversationId, seq);
      const row = this.m.messageRow(conversationId, seq);
      return row ? toMessage(row) : null;
    });
  }

  /**
   * pageByTime's body, in one deferred (read) transaction, so that every step sees one snapshot.
   * There is no index on the time: in a conversation a message's at_us grows with its seq (each is
   * stamped max(now, previous + 1)), so the cursor becomes a seq bound by a binary search over the
   * primary key, and the page is read by seq. (An index on (conversation, at_us) cost every send
   * a third random B-tree page in the WAL; see docs/architecture.md.)
   */
  private readTimePage(conversationId: string, page: TimePage): Page {
    const w = page.viewerId === undefined ? null : this.m.window(conversationId, page.viewerId);
    // Exclusive seq bounds, as for pageBySeq.
    let lower = w?.after ?? 0;
    let upper = w?.before ?? SEQ_END;
    if (page.cursorUs > 0) {
      // Newest first: stamped before the cursor. Oldest first: stamped after it.
      if (page.newestFirst) {
        upper = Math.min(upper, this.seqStampedFrom(conversationId, page.cursorUs));
      } else {
        lower = Math.max(lower, this.seqStampedFrom(conversationId, page.cursorUs, true) - 1);
      }
    }
    const stmt = page.newestFirst ? this.q.backward : this.q.forward;
    const { rows, hasMore } = takePage(
      stmt.iterate(conversationId, lower, upper, page.limit + 1) as Iterable<SqliteMessageRow>,
      page.limit,
      page.bytesMax,
    );
    return { messages: rows.map(toMessage), hasMore };
  }

  /**
   * The smallest seq s such that every message at or above s is stamped at or after `us` (after
   * it, if `strict`) and every one below s is not (last_seq + 1 when none is). About
   * log2(last_seq) lookups.
   */
  private seqStampedFrom(conversationId: string, us: number, strict = false): number {
    const head = this.m.conversationRow(conversationId);
    let lo = 1;
    let hi = (head?.last_seq ?? 0) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.q.stampFrom.get(conversationId, mid) as { at_us: number } | undefined;
      // No message at or above mid counts as stamped at the end of time.
      if (row === undefined || row.at_us > us || (!strict && row.at_us === us)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
