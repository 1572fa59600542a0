import type { Transaction } from 'better-sqlite3';
import { ParleyError } from '../../core/errors.js';
import { testBugOn } from '../../core/test-bugs.js';
import type { StoredMessage } from '../../messaging/store/index.js';
import type { AppendRequest, AppendResult } from '../../messaging/store/index.js';
import { settle } from './database.js';
import type { SqliteMessaging } from './sqlite-messaging.js';
import {
  MESSAGE_COLUMNS,
  nextMessage,
  sendRefusal,
  toMessage,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from '../rows.js';

// MessageLog.append on SQLite, apart from the rest of the log (sqlite-message-log.ts) because the
// append thread (append-worker.ts) runs it, and only it, on a connection of its own.

/** The send path's read (the `sendHead` statement): the member columns are null for a stranger. */
type SendHeadRow = Pick<
  ConversationRow,
  'last_seq' | 'last_at_us' | 'muted_all' | 'dismissed_at_ms'
> &
  Pick<MemberRow, 'role' | 'muted' | 'left_seq'> & { member_id: string | null };

const ACK_BEFORE_COMMIT = testBugOn('ack-before-commit');
const LAZY_COMMIT_MS = 1_000;

/** A conversation's head as the batch moves it. */
interface Head {
  lastSeq: number;
  lastAtUs: number;
  readonly firstSeq: number;
  readonly row: Pick<ConversationRow, 'muted_all' | 'dismissed_at_ms'>;
}

function statements(m: SqliteMessaging) {
  return {
    dedupe: m.db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_id = ? AND device = ? AND ref = ?`,
    ),
    // The send path's read: a conversation's head and the sender's membership in one statement.
    sendHead: m.db.prepare(
      `SELECT c.last_seq, c.last_at_us, c.muted_all, c.dismissed_at_ms,
              m.user_id AS member_id, m.role, m.muted, m.left_seq
         FROM conversations c LEFT JOIN members m
           ON m.conversation_id = c.id AND m.user_id = ? AND m.left_seq IS NULL
        WHERE c.id = ?`,
    ),
    // The send path's insert: a (sender, device, ref) already stored inserts nothing, and the
    // caller then reads the twin. One statement instead of a lookup before every insert.
    insertNew: m.db.prepare(
      `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender_id, device, ref) DO NOTHING`,
    ),
  };
}

/** Appends a batch on this connection, in one IMMEDIATE transaction (the MessageLog contract). */
export class SqliteAppend {
  private readonly m: SqliteMessaging;
  private readonly q: ReturnType<typeof statements>;
  private readonly appendTx: Transaction<(batch: readonly AppendRequest[]) => AppendResult[]>;
  private lazyCommit: NodeJS.Timeout | null = null;

  constructor(m: SqliteMessaging) {
    this.m = m;
    this.q = statements(m);
    this.appendTx = m.db.transaction((batch: readonly AppendRequest[]) => this.appendAll(batch));
  }

  append(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (ACK_BEFORE_COMMIT) return settle(() => this.appendLazily(batch));
    return settle(() => this.appendTx.immediate(batch));
  }

  /**
   * The deliberate bug `ack-before-commit` (core/test-bugs.ts): batches are answered inside a
   * transaction that stays open, and a timer commits it every LAZY_COMMIT_MS, the way a store
   * that syncs on an interval does. A crash in between loses messages already acknowledged.
   */
  private appendLazily(batch: readonly AppendRequest[]): AppendResult[] {
    if (this.lazyCommit === null) {
      this.m.db.exec('BEGIN IMMEDIATE');
      this.lazyCommit = setTimeout(() => {
        this.lazyCommit = null;
        this.m.db.exec('COMMIT');
      }, LAZY_COMMIT_MS);
    }
    return this.appendAll(batch);
  }

  /** The body of the append transaction. See the MessageLog contract. */
  private appendAll(batch: readonly AppendRequest[]): AppendResult[] {
    const nowUs = this.m.clock.nowUs();
    const heads = new Map<string, Head>();
    const memberships = new Map<string, Pick<MemberRow, 'role' | 'muted' | 'left_seq'> | null>();
    /** (conversation, sender) → the sender's newest seq in this batch: own messages are read. */
    const ownSeqs = new Map<string, number>();
    const results: AppendResult[] = [];

    for (const req of batch) {
      let head = heads.get(req.conversationId);
      const memberKey = `${req.conversationId}\u0000${req.senderId}`;
      let member = memberships.get(memberKey);
      if (head === undefined || member === undefined) {
        const row = this.q.sendHead.get(req.senderId, req.conversationId) as
          SendHeadRow | undefined;
        if (!row) {
          results.push(
            this.duplicateOf(req) ?? {
              ok: false,
              error: new ParleyError('conversation_not_found'),
            },
          );
          continue;
        }
        if (head === undefined) {
          head = { lastSeq: row.last_seq, lastAtUs: row.last_at_us, firstSeq: row.last_seq, row };
          heads.set(req.conversationId, head);
        }
        member = row.member_id === null ? null : row;
        memberships.set(memberKey, member);
      }
      const refusal = sendRefusal(head.row, member);
      if (refusal) {
        results.push(this.duplicateOf(req) ?? { ok: false, error: new ParleyError(refusal) });
        continue;
      }
      const previousAtUs = head.lastAtUs;
      const message = nextMessage(head, nowUs, req);
      const inserted = this.q.insertNew.run(
        message.conversationId,
        message.seq,
        message.id,
        message.senderId,
        message.device,
        req.ref,
        JSON.stringify(message.body),
        message.atUs,
      );
      if (inserted.changes === 0) {
        results.push(this.duplicateOf(req)!);
        continue;
      }
      this.m.writeSideRows(message.conversationId, message.seq, message.body);
      head.lastSeq = message.seq;
      head.lastAtUs = message.atUs;
      ownSeqs.set(memberKey, message.seq);
      results.push({ ok: true, message, duplicate: false, previousAtUs });
    }
    for (const [id, head] of heads) {
      if (head.lastSeq !== head.firstSeq) this.m.q.setLast.run(head.lastSeq, head.lastAtUs, id);
    }
    for (const [key, seq] of ownSeqs) {
      const [conversationId, senderId] = key.split('\u0000') as [string, string];
      this.m.q.raiseRead.run({ seq, now: nowUs, conversationId, userId: senderId });
    }
    return results;
  }

  /**
   * A repeated (sender, device, ref) answers with its twin before any other check, so a retry
   * gets its original message even if the sender has left since. The stored twin is looked up
   * only when a check fails or the insert finds the ref taken: plain sends pay no lookup.
   * A twin earlier in this batch is found too: the transaction reads its own writes.
   */
  private duplicateOf(req: AppendRequest): AppendResult | undefined {
    const twin = this.findByRef(req);
    if (!twin) return undefined;
    return twin.conversationId === req.conversationId
      ? { ok: true, message: twin, duplicate: true }
      : { ok: false, error: new ParleyError('ref_reused') };
  }

  private findByRef(req: AppendRequest): StoredMessage | undefined {
    const row = this.q.dedupe.get(req.senderId, req.device, req.ref) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }
}
