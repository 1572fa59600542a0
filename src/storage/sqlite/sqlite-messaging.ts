import type { Statement } from 'better-sqlite3';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import { hasSearchableText } from '../../messaging/store/index.js';
import type {
  Conversation,
  ConversationKind,
  GroupHistory,
  MemberRole,
  MessageBody,
} from '../../messaging/store/index.js';
import { settle, type SqliteDb } from './database.js';
import {
  MESSAGE_COLUMNS,
  readWindow,
  toConversation,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from '../rows.js';

// What the SQLite messaging ports (sqlite-conversations.ts, sqlite-members.ts, sqlite-inbox.ts,
// sqlite-message-log.ts, sqlite-message-actions.ts, sqlite-groups.ts, sqlite-search.ts) share,
// written once: the statements more than one of them runs, the transactions they write and read
// in, and the reads and inserts more than one port makes. One instance per connection, built by
// openSqliteStores (and by the append thread for its own connection). Internal to storage/sqlite.

/** A message row as SQLite returns it: the body is JSON text. */
export type SqliteMessageRow = MessageRow & { body: string };

type SharedStatement =
  | 'conversation'
  | 'insertConversation'
  | 'setLast'
  | 'member'
  | 'membership'
  | 'insertMember'
  | 'leave'
  | 'raiseRead'
  | 'message'
  | 'queueSearch'
  | 'insertMention';

/** The statements several ports run. */
function sharedStatements(db: SqliteDb): Record<SharedStatement, Statement> {
  return {
    conversation: db.prepare('SELECT * FROM conversations WHERE id = ?'),
    insertConversation: db.prepare(
      `INSERT INTO conversations (id, kind, name, title, created_at_ms, history)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    setLast: db.prepare('UPDATE conversations SET last_seq = ?, last_at_us = ? WHERE id = ?'),
    member: db.prepare(
      'SELECT * FROM members WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL',
    ),
    membership: db.prepare('SELECT * FROM members WHERE conversation_id = ? AND user_id = ?'),
    insertMember: db.prepare(
      `INSERT OR IGNORE INTO members
         (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    leave: db.prepare(
      `UPDATE members SET left_seq = ?, updated_us = ?
        WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL`,
    ),
    raiseRead: db.prepare(
      `UPDATE members SET read_seq = MAX(read_seq, @seq), delivered_seq = MAX(delivered_seq, @seq),
              updated_us = @now
        WHERE conversation_id = @conversationId AND user_id = @userId`,
    ),
    message: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?`,
    ),
    queueSearch: db.prepare('INSERT INTO search_queue (conversation_id, seq) VALUES (?, ?)'),
    insertMention: db.prepare(
      'INSERT OR IGNORE INTO mentions (conversation_id, seq, user_id) VALUES (?, ?, ?)',
    ),
  };
}

/** The connection, the clock and what the messaging ports share (see the comment above). */
export class SqliteMessaging {
  readonly db: SqliteDb;
  readonly clock: Clock;
  readonly q: Readonly<Record<SharedStatement, Statement>>;

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.q = sharedStatements(db);
  }

  /**
   * Runs `work` in an IMMEDIATE transaction: the write path of every port but append (which
   * keeps its own prepared transaction). SQLite's write lock serializes it with appends, group
   * changes and every other write of the node, which is the per-conversation serialization the
   * contract asks for.
   */
  write<T>(work: () => T): Promise<T> {
    return settle(() => this.db.transaction(work).immediate());
  }

  /** Runs `work` in one deferred (read) transaction, so that every statement sees one snapshot. */
  read<T>(work: () => T): Promise<T> {
    return settle(() => this.db.transaction(work).deferred());
  }

  /**
   * What a newly inserted message adds beside its row, in the same transaction: its place in the
   * search queue when it has searchable text, and a mention row per mentioned user ('*' for
   * "all"). Every insert into `messages` calls it (migration 16 dropped the insert triggers that
   * did this); an edit or a recall goes through the update triggers instead.
   */
  writeSideRows(conversationId: string, seq: number, body: MessageBody): void {
    if (hasSearchableText(body)) this.q.queueSearch.run(conversationId, seq);
    const mentions = body['mentions'];
    if (typeof mentions === 'string') this.q.insertMention.run(conversationId, seq, '*');
    else if (Array.isArray(mentions)) {
      for (const userId of mentions) this.q.insertMention.run(conversationId, seq, userId);
    }
  }

  conversationRow(id: string): ConversationRow | undefined {
    return this.q.conversation.get(id) as ConversationRow | undefined;
  }

  /** A current member's row. */
  memberRow(conversationId: string, userId: string): MemberRow | undefined {
    return this.q.member.get(conversationId, userId) as MemberRow | undefined;
  }

  /** The user's row, current or former. */
  membershipRow(conversationId: string, userId: string): MemberRow | undefined {
    return this.q.membership.get(conversationId, userId) as MemberRow | undefined;
  }

  messageRow(conversationId: string, seq: number): SqliteMessageRow | undefined {
    return this.q.message.get(conversationId, seq) as SqliteMessageRow | undefined;
  }

  /** The viewer's read window; not_member for a user who never was a member. */
  window(conversationId: string, viewerId: string) {
    const conv = this.conversationRow(conversationId);
    const member = this.membershipRow(conversationId, viewerId);
    if (!conv) throw new ParleyError('conversation_not_found');
    if (!member) throw new ParleyError('not_member');
    return readWindow(conv, member);
  }

  insertConversation(
    kind: ConversationKind,
    name: string | null,
    title: string | null,
    history: GroupHistory = 'full',
  ): Conversation {
    const id = newId('c');
    const createdAtMs = this.clock.nowMs();
    this.q.insertConversation.run(id, kind, name, title, createdAtMs, history);
    return toConversation({
      id,
      kind,
      name,
      title,
      created_at_ms: createdAtMs,
      last_seq: 0,
      last_at_us: 0,
      history,
      muted_all: 0,
      dismissed_at_ms: null,
      avatar: null,
      invite_code: null,
    });
  }

  addMember(conversationId: string, userId: string, role: MemberRole, joinedSeq: number): void {
    this.q.insertMember.run(
      conversationId,
      userId,
      role,
      joinedSeq,
      this.clock.nowMs(),
      this.clock.nowUs(),
    );
  }
}
