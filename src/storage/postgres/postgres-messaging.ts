import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type {
  Conversation,
  ConversationKind,
  GroupHistory,
  MemberRole,
  Page,
} from '../../messaging/store/index.js';
import {
  MESSAGE_COLUMNS,
  readWindow,
  toConversation,
  toMessage,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from '../rows.js';

// What the PostgreSQL messaging ports (postgres-conversations.ts, postgres-members.ts, …) share:
// the SQL of a read or a write that more than one port needs, written once. Internal to this
// folder: the ports are the face.

/** A pooled query outside a transaction, or a statement of one. */
export type Db = pg.Pool | pg.PoolClient;

/** The row lock a caller takes on a conversation row (each caller says why). */
type RowLock = '' | 'FOR UPDATE' | 'FOR SHARE';

/** The conversation row whose `column` (a unique one) is `value`, with the given lock. */
export async function conversationRow(
  db: Db,
  column: 'id' | 'name' | 'invite_code',
  value: string,
  lock: RowLock = '',
): Promise<ConversationRow | undefined> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT * FROM conversations WHERE ${column} = $1${lock && ` ${lock}`}`,
    [value],
  );
  return rows[0];
}

/** As conversationRow, unlocked, as the port's Conversation or null. */
export async function findConversation(
  db: Db,
  column: 'id' | 'name' | 'invite_code',
  value: string,
): Promise<Conversation | null> {
  const row = await conversationRow(db, column, value);
  return row ? toConversation(row) : null;
}

/** A current member's row (not left), if there is one. */
export async function currentMember(
  db: Db,
  conversationId: string,
  userId: string,
): Promise<MemberRow | undefined> {
  const { rows } = await db.query<MemberRow>(
    'SELECT * FROM members WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL',
    [conversationId, userId],
  );
  return rows[0];
}

/** SQL: the viewer `user` (a parameter) did not hide the message `alias` (a messages-like row). */
export const notHidden = (alias: string, user: string): string => `NOT EXISTS (
  SELECT 1 FROM hidden_messages h
   WHERE h.user_id = ${user} AND h.conversation_id = ${alias}.conversation_id
     AND h.seq = ${alias}.seq)`;

/** The viewer's read window; not_member for a user who never was a member. */
export async function readerWindow(
  db: Db,
  conversationId: string,
  viewerId: string,
): Promise<{ readonly after: number; readonly before: number }> {
  const { rows } = await db.query<
    ConversationRow & { joined_seq: number | null; left_seq: number | null; found: boolean }
  >(
    `SELECT c.kind, c.history, m.joined_seq, m.left_seq, m.user_id IS NOT NULL AS found
       FROM conversations c
       LEFT JOIN members m ON m.conversation_id = c.id AND m.user_id = $2
      WHERE c.id = $1`,
    [conversationId, viewerId],
  );
  const row = rows[0];
  if (!row) throw new ParleyError('conversation_not_found');
  if (!row.found || row.joined_seq === null) throw new ParleyError('not_member');
  return readWindow(row, { joined_seq: row.joined_seq, left_seq: row.left_seq });
}

/**
 * A page cut to `limit` and `bytesMax` (PAGE_BYTES in model.ts) inside PostgreSQL, so that rows
 * past the page are never sent to the node: `inner` (which must select LIMIT limit + 1 rows in
 * `order`) gets running totals of its body lengths, and only rows that start below the budget
 * come back, with the count `inner` found.
 */
export async function boundedPage(
  db: Db,
  inner: string,
  params: unknown[],
  order: string,
  page: { limit: number; bytesMax?: number },
): Promise<Page> {
  const bytesMax = page.bytesMax ?? Number.MAX_SAFE_INTEGER;
  const { rows } = await db.query<MessageRow & { found: string; body_chars: number }>(
    `SELECT ${MESSAGE_COLUMNS}, body_chars, found FROM (
       SELECT p.*, sum(p.body_chars) OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING) AS run,
              count(*) OVER () AS found
         FROM (SELECT i.*, length(i.body::text) AS body_chars FROM (${inner}) i) p
     ) q WHERE q.run <= $${params.length + 1} OR q.run = q.body_chars
     ORDER BY ${order}`,
    [...params, bytesMax],
  );
  const found = rows.length > 0 ? Number(rows[0]!.found) : 0;
  const kept = rows.slice(0, page.limit);
  return {
    messages: kept.map(toMessage),
    hasMore: rows.length > page.limit || found > rows.length,
    ...(page.bytesMax !== undefined
      ? { bodyChars: kept.reduce((sum, r) => sum + Number(r.body_chars), 0) }
      : {}),
  };
}

/** Inserts a conversation; null if one with this name exists (or a concurrent one committed). */
export async function insertConversation(
  client: pg.PoolClient,
  clock: Clock,
  conversation: {
    kind: ConversationKind;
    name: string | null;
    title: string | null;
    history?: GroupHistory;
  },
): Promise<Conversation | null> {
  const { kind, name, title, history = 'full' } = conversation;
  const { rows } = await client.query<ConversationRow>(
    `INSERT INTO conversations (id, kind, name, title, created_at_ms, history)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING *`,
    [newId('c'), kind, name, title, clock.nowMs(), history],
  );
  return rows[0] ? toConversation(rows[0]) : null;
}

/** Adds members of a new conversation (joinedSeq 0); users already in it are left as they are. */
export async function addMembers(
  client: pg.PoolClient,
  clock: Clock,
  conversationId: string,
  userIds: readonly string[],
  role: MemberRole,
): Promise<void> {
  if (userIds.length === 0) return;
  await client.query(
    `INSERT INTO members (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
     SELECT $1, u, $3, 0, $4, $5 FROM unnest($2::text[]) AS u
     ON CONFLICT DO NOTHING`,
    [conversationId, [...new Set(userIds)], role, clock.nowMs(), clock.nowUs()],
  );
}
