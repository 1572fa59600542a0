import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type {
  Conversation,
  ConversationKind,
  ConversationView,
  GroupHistory,
  Member,
  MemberRole,
  Page,
  StoredMessage,
} from '../../messaging/model.js';
import type {
  AppendRequest,
  AppendResult,
  GroupChange,
  GroupChangeResult,
  GroupPlanner,
  NewGroup,
  SearchPage,
  SearchQuery,
  SeqPage,
  TimePage,
} from '../../messaging/store/index.js';
import { inTransaction, isDeadlock, isUniqueViolation } from './database.js';
import { ForwardsMessageActions, type AllMessagePorts } from '../message-actions.js';
import { PostgresMessageActions } from './postgres-message-actions.js';
import { searchPostgres } from './postgres-message-search.js';
import {
  MESSAGE_COLUMNS,
  nextMessage,
  RECALLED_BODY,
  ROOM_PREFIX,
  SEQ_END,
  changedSeqOrder,
  VIEW_MEMBER_COLUMNS,
  directKey,
  readWindow,
  sendRefusal,
  toConversation,
  toMember,
  toMessage,
  toView,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
  type ViewRow,
} from '../rows.js';

const VIEW_SELECT = `SELECT c.*, ${VIEW_MEMBER_COLUMNS}
  FROM members m JOIN conversations c ON c.id = m.conversation_id`;
// A former member's conversation sorts by when it left, not by later activity.
const VIEW_ORDER = `ORDER BY GREATEST(CASE WHEN m.left_seq IS NULL THEN c.last_at_us
                                          ELSE LEAST(c.last_at_us, m.updated_us) END,
                                     c.created_at_ms * 1000) DESC, c.id`;
const RECALLED_BODY_JSON = JSON.stringify(RECALLED_BODY);

const dedupeKey = (senderId: string, device: string, ref: string): string =>
  `${senderId}\u0000${device}\u0000${ref}`;
const memberKey = (conversationId: string, userId: string): string =>
  `${conversationId}\u0000${userId}`;

/** One conversation's head while a batch is being placed: its row is locked by the batch. */
interface Head {
  lastSeq: number;
  lastAtUs: number;
  readonly firstSeq: number;
  readonly row: ConversationRow;
}

/** The rows one append transaction writes, as column arrays for one multi-row statement each. */
interface Writes {
  readonly messages: {
    conversationId: string[];
    seq: number[];
    id: string[];
    senderId: string[];
    device: string[];
    ref: string[];
    body: string[];
    atUs: number[];
  };
  readonly heads: Map<string, Head>;
  /** (conversation, sender) → the sender's newest seq in this batch: own messages are read. */
  readonly ownSeqs: Map<string, { conversationId: string; senderId: string; seq: number }>;
}

/**
 * The cluster MessageStore: every node appends to one PostgreSQL. Seqs are allocated under a row
 * lock on the conversation, inside the transaction that inserts the messages, so nodes never
 * hand out a seq twice or leave a gap.
 */
export class PostgresMessageStore extends ForwardsMessageActions implements AllMessagePorts {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(pool: pg.Pool, clock: Clock) {
    super(new PostgresMessageActions(pool, clock));
    this.pool = pool;
    this.clock = clock;
  }

  async openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = directKey(userA, userB);
    const found = await this.byName(this.pool, key);
    if (found) return { conversation: found, created: false };
    return inTransaction(this.pool, async (client) => {
      const conversation = await this.insertConversation(client, 'direct', key, null);
      if (!conversation) {
        // A concurrent call created it; ON CONFLICT waited for its commit, so it is visible.
        const winner = await this.byName(client, key);
        if (!winner) throw new Error(`openDirect: ${key} vanished`);
        return { conversation: winner, created: false };
      }
      await this.addMembers(client, conversation.id, [userA, userB], 'member');
      return { conversation, created: true };
    });
  }

  findDirect(userA: string, userB: string): Promise<Conversation | null> {
    return this.byName(this.pool, directKey(userA, userB));
  }

  createGroup(group: NewGroup): Promise<Conversation> {
    return inTransaction(this.pool, async (client) => {
      const conversation = await this.insertConversation(
        client,
        'group',
        null,
        group.title,
        group.history ?? 'join',
      );
      if (!conversation) throw new Error('createGroup: a group without name conflicted');
      await this.addMembers(client, conversation.id, [group.ownerId], 'owner');
      const others = group.memberIds.filter((id) => id !== group.ownerId);
      await this.addMembers(client, conversation.id, others, 'member');
      return conversation;
    });
  }

  async joinRoom(
    name: string,
    userId: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = ROOM_PREFIX + name;
    return inTransaction(this.pool, async (client) => {
      const inserted = await this.insertConversation(client, 'room', key, null);
      const conversation = inserted ?? (await this.byName(client, key));
      if (!conversation) throw new Error(`joinRoom: ${key} vanished`);
      // joinedSeq is read in the same statement that inserts the member.
      await client.query(
        `INSERT INTO members (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
         SELECT id, $2, 'member', last_seq, $3, $4 FROM conversations WHERE id = $1
         ON CONFLICT (conversation_id, user_id) DO UPDATE
           SET left_seq = NULL, joined_seq = EXCLUDED.joined_seq, updated_us = EXCLUDED.updated_us
         WHERE members.left_seq IS NOT NULL`,
        [conversation.id, userId, this.clock.nowMs(), this.clock.nowUs()],
      );
      return { conversation, created: inserted !== null };
    });
  }

  leaveRoom(conversationId: string, userId: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      // The conversation's row lock orders the leave with appends, as for group changes.
      const { rows } = await client.query<Pick<ConversationRow, 'kind' | 'last_seq'>>(
        'SELECT kind, last_seq FROM conversations WHERE id = $1 FOR UPDATE',
        [conversationId],
      );
      const conv = rows[0];
      if (!conv) throw new ParleyError('conversation_not_found');
      if (conv.kind !== 'room') throw new ParleyError('invalid_request', 'Not a room.');
      const left = await client.query(
        `UPDATE members SET left_seq = $1, updated_us = $2
          WHERE conversation_id = $3 AND user_id = $4 AND left_seq IS NULL`,
        [conv.last_seq, this.clock.nowUs(), conversationId, userId],
      );
      if ((left.rowCount ?? 0) > 0) return true;
      const { rowCount } = await client.query(
        'SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, userId],
      );
      if (!rowCount) throw new ParleyError('not_member');
      return false;
    });
  }

  findRoom(name: string): Promise<Conversation | null> {
    return this.byName(this.pool, ROOM_PREFIX + name);
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const { rows } = await this.pool.query<ConversationRow>(
      'SELECT * FROM conversations WHERE id = $1',
      [id],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  async getMember(conversationId: string, userId: string): Promise<Member | null> {
    const { rows } = await this.pool.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL',
      [conversationId, userId],
    );
    return rows[0] ? toMember(rows[0]) : null;
  }

  async getMembership(conversationId: string, userId: string): Promise<Member | null> {
    const { rows } = await this.pool.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = $2',
      [conversationId, userId],
    );
    return rows[0] ? toMember(rows[0]) : null;
  }

  async listMembers(conversationId: string): Promise<Member[]> {
    const { rows } = await this.pool.query<MemberRow>(
      `SELECT * FROM members WHERE conversation_id = $1 AND left_seq IS NULL
        ORDER BY joined_at_ms, user_id`,
      [conversationId],
    );
    return rows.map(toMember);
  }

  async listConversations(userId: string): Promise<ConversationView[]> {
    const { rows } = await this.pool.query<ViewRow>(
      `${VIEW_SELECT} WHERE m.user_id = $1 AND m.left_seq IS NULL
        ORDER BY m.pinned DESC, GREATEST(c.last_at_us, c.created_at_ms * 1000) DESC, c.id`,
      [userId],
    );
    return rows.map(toView);
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

  async directPeers(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT peer.user_id FROM members me
         JOIN conversations c ON c.id = me.conversation_id AND c.kind = 'direct'
         JOIN members peer ON peer.conversation_id = c.id AND peer.user_id <> me.user_id
        WHERE me.user_id = $1`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  async sharedWith(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT DISTINCT other.user_id FROM members me
         JOIN conversations c ON c.id = me.conversation_id AND c.dismissed_at_ms IS NULL
         JOIN members other ON other.conversation_id = me.conversation_id
                           AND other.user_id <> me.user_id AND other.left_seq IS NULL
        WHERE me.user_id = $1 AND me.left_seq IS NULL`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  async sentBy(
    userId: string,
    after: { readonly device: string; readonly ref: string } | null,
    limit: number,
  ): Promise<(StoredMessage & { readonly ref: string })[]> {
    const { rows } = await this.pool.query<MessageRow & { ref: string }>(
      `SELECT ${MESSAGE_COLUMNS}, ref FROM messages
        WHERE sender_id = $1 AND (device, ref) > ($2, $3)
        ORDER BY device, ref LIMIT $4`,
      [userId, after?.device ?? '', after?.ref ?? '', limit],
    );
    return rows.map((r) => ({ ...toMessage(r), ref: r.ref }));
  }

  async searchMessages(query: SearchQuery): Promise<SearchPage> {
    if (query.conversationId === undefined) return searchPostgres(this.pool, query);
    return searchPostgres(
      this.pool,
      query,
      await this.window(query.conversationId, query.viewerId),
    );
  }

  async getMessage(
    conversationId: string,
    seq: number,
    viewerId?: string,
  ): Promise<StoredMessage | null> {
    if (viewerId !== undefined) {
      const w = await this.window(conversationId, viewerId);
      if (seq <= w.after || seq >= w.before) return null;
    }
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2`,
      [conversationId, seq],
    );
    return rows[0] ? toMessage(rows[0]) : null;
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
      const w = await this.window(conversationId, viewerId, client);
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
      const page = await this.boundedPage(
        `SELECT ${MESSAGE_COLUMNS} FROM messages
            WHERE conversation_id = $1 AND seq = ANY($2::bigint[]) ORDER BY seq`,
        [conversationId, seqs.slice(0, limit)],
        'seq ASC',
        { limit, ...(bytesMax !== undefined ? { bytesMax } : {}) },
        client,
      );
      return { ...page, hasMore: page.hasMore || seqs.length > limit };
    });
  }

  recall(conversationId: string, seq: number): Promise<StoredMessage | null> {
    // Reactions go with the body: they were about what it said.
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<MessageRow>(
        `UPDATE messages SET body = $1, recalled_at_us = COALESCE(recalled_at_us, $2),
                changed_us = COALESCE(recalled_at_us, $2)
          WHERE conversation_id = $3 AND seq = $4
         RETURNING ${MESSAGE_COLUMNS}`,
        [RECALLED_BODY_JSON, this.clock.nowUs(), conversationId, seq],
      );
      await client.query('DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2', [
        conversationId,
        seq,
      ]);
      return rows[0] ? toMessage(rows[0]) : null;
    });
  }

  async append(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (batch.length === 0) return [];
    try {
      return await inTransaction(this.pool, (client) => this.appendAll(client, batch));
    } catch (err) {
      // The same ref raced in from another node into another conversation: the unique index
      // refused ours. Once more, and the dedupe check sees the winner (ref_reused or duplicate).
      // Two such races crossing each other surface as a deadlock instead; same cure.
      if (isUniqueViolation(err, 'messages_dedupe') || isDeadlock(err)) {
        return inTransaction(this.pool, (client) => this.appendAll(client, batch));
      }
      throw err;
    }
  }

  async pageBySeq(conversationId: string, page: SeqPage): Promise<Page> {
    const w = page.viewerId === undefined ? null : await this.window(conversationId, page.viewerId);
    const lower = Math.max(page.after ?? 0, w?.after ?? 0);
    const upper = Math.min(page.before ?? SEQ_END, w?.before ?? SEQ_END);
    // Without `after` the caller wants the newest messages below `before` (or the newest of all).
    const backward = page.after === undefined;
    const order = `seq ${backward ? 'DESC' : 'ASC'}`;
    const read = await this.boundedPage(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = $1 AND seq > $2 AND seq < $3 ORDER BY ${order} LIMIT $4`,
      [conversationId, lower, upper, page.limit + 1],
      order,
      page,
    );
    if (backward) read.messages.reverse();
    return read;
  }

  /**
   * A page cut to `limit` and `bytesMax` (PAGE_BYTES in message-store.ts) inside PostgreSQL, so
   * that rows past the page are never sent to the node: `inner` (which must select LIMIT
   * limit + 1 rows in `order`) gets running totals of its body lengths, and only rows that start
   * below the budget come back, with the count `inner` found.
   */
  private async boundedPage(
    inner: string,
    params: unknown[],
    order: string,
    page: { limit: number; bytesMax?: number },
    db: pg.Pool | pg.PoolClient = this.pool,
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

  async pageByTime(conversationId: string, page: TimePage): Promise<Page> {
    const cursor =
      page.cursorUs > 0 ? page.cursorUs : page.newestFirst ? Number.MAX_SAFE_INTEGER : 0;
    const w = page.viewerId === undefined ? null : await this.window(conversationId, page.viewerId);
    const order = `at_us ${page.newestFirst ? 'DESC' : 'ASC'}`;
    return this.boundedPage(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = $1 AND at_us ${page.newestFirst ? '<' : '>'} $2
          AND seq > $4 AND seq < $5
        ORDER BY ${order} LIMIT $3`,
      [conversationId, cursor, page.limit + 1, w?.after ?? 0, w?.before ?? SEQ_END],
      order,
      page,
    );
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, true);
  }

  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, false);
  }

  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult> {
    return inTransaction(this.pool, (client) => this.applyChange(client, change, planner));
  }

  /** The pool belongs to openPostgresStores, which ends it. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  // --- internals -------------------------------------------------------------------------

  /** One statement: forward only, capped at the conversation's lastSeq; reading implies delivery. */
  private async raiseWatermark(
    conversationId: string,
    userId: string,
    seq: number,
    read: boolean,
  ): Promise<Member> {
    const capped = 'GREATEST(0, LEAST($3::bigint, c.last_seq))';
    const { rows } = await this.pool.query<MemberRow>(
      `UPDATE members m
          SET ${read ? `read_seq = GREATEST(m.read_seq, ${capped}),` : ''}
              delivered_seq = GREATEST(m.delivered_seq, ${capped}),
              updated_us = $4
         FROM conversations c
        WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.user_id = $2
          AND m.left_seq IS NULL
       RETURNING m.*`,
      [conversationId, userId, seq, this.clock.nowUs()],
    );
    if (!rows[0]) throw new ParleyError('not_member');
    return toMember(rows[0]);
  }

  /** The viewer's read window; not_member for a user who never was a member. */
  private async window(
    conversationId: string,
    viewerId: string,
    db: pg.Pool | pg.PoolClient = this.pool,
  ) {
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

  /** The body of changeGroup's transaction; the conversation's row lock orders it with appends. */
  private async applyChange(
    client: pg.PoolClient,
    change: GroupChange,
    planner: GroupPlanner,
  ): Promise<GroupChangeResult> {
    const { conversationId } = change;
    const { rows: locked } = await client.query<ConversationRow>(
      'SELECT * FROM conversations WHERE id = $1 FOR UPDATE',
      [conversationId],
    );
    const convRow = locked[0];
    if (!convRow) throw new ParleyError('conversation_not_found');
    const ids = [...new Set([change.actorId, ...change.targetIds])];
    const { rows: memberRows } = await client.query<MemberRow>(
      'SELECT * FROM members WHERE conversation_id = $1 AND user_id = ANY($2::text[])',
      [conversationId, ids],
    );
    const { rows: counted } = await client.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM members WHERE conversation_id = $1 AND left_seq IS NULL',
      [conversationId],
    );
    const byUser = new Map(memberRows.map((r) => [r.user_id, toMember(r)]));
    const actor = byUser.get(change.actorId);
    const targets = new Map<string, Member>();
    for (const id of change.targetIds) {
      const m = byUser.get(id);
      if (m) targets.set(id, m);
    }
    const plan = planner({
      conversation: toConversation(convRow),
      actor: actor && actor.leftSeq === null ? actor : null,
      targets,
      memberCount: counted[0]?.n ?? 0,
      inviteCode: convRow.invite_code,
    });
    const nowMs = this.clock.nowMs();
    const message = nextMessage(
      { lastSeq: convRow.last_seq, lastAtUs: convRow.last_at_us },
      this.clock.nowUs(),
      { conversationId, senderId: change.actorId, device: change.device, body: plan.body },
    );
    const { seq, atUs } = message;
    await client.query(
      `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
       VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8)`,
      [
        conversationId,
        seq,
        message.id,
        message.senderId,
        message.device,
        `system:${message.id}`,
        JSON.stringify(plan.body),
        atUs,
      ],
    );
    await client.query(
      `UPDATE conversations SET last_seq = $2, last_at_us = $3,
              title = COALESCE($4, title), muted_all = COALESCE($5, muted_all),
              history = COALESCE($6, history),
              dismissed_at_ms = COALESCE(dismissed_at_ms, $7),
              avatar = CASE WHEN $8 THEN $9 ELSE avatar END
        WHERE id = $1`,
      [
        conversationId,
        seq,
        atUs,
        plan.title ?? null,
        plan.mutedAll ?? null,
        plan.history ?? null,
        plan.dismiss ? nowMs : null,
        plan.avatar !== undefined,
        plan.avatar ?? null,
      ],
    );
    await this.applyMembers(client, conversationId, plan, seq, atUs, nowMs);
    // The actor's own system message is read, as its own sends are.
    await client.query(
      `UPDATE members SET read_seq = GREATEST(read_seq, $3), delivered_seq = GREATEST(delivered_seq, $3)
        WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL`,
      [conversationId, change.actorId, seq],
    );
    const { rows: after } = await client.query<ConversationRow>(
      'SELECT * FROM conversations WHERE id = $1',
      [conversationId],
    );
    return { conversation: toConversation(after[0]!), message, plan };
  }

  private async applyMembers(
    client: pg.PoolClient,
    conversationId: string,
    plan: GroupChangeResult['plan'],
    seq: number,
    atUs: number,
    nowMs: number,
  ): Promise<void> {
    if (plan.join && plan.join.length > 0) {
      await client.query(
        `INSERT INTO members (conversation_id, user_id, role, joined_seq, delivered_seq, read_seq,
                              joined_at_ms, updated_us)
         SELECT $1, u, 'member', $3, $3, $3, $4, $5 FROM unnest($2::text[]) AS u
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
           role = 'member', joined_seq = $3, delivered_seq = $3, read_seq = $3,
           joined_at_ms = $4, updated_us = $5, muted = false, left_seq = NULL`,
        [conversationId, plan.join, seq - 1, nowMs, atUs],
      );
    }
    if (plan.leave && plan.leave.length > 0) {
      await client.query(
        `UPDATE members SET left_seq = $3, updated_us = $4
          WHERE conversation_id = $1 AND user_id = ANY($2::text[]) AND left_seq IS NULL`,
        [conversationId, plan.leave, seq, atUs],
      );
    }
    for (const r of plan.roles ?? []) {
      await client.query(
        'UPDATE members SET role = $3, updated_us = $4 WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, r.userId, r.role, atUs],
      );
    }
    for (const m of plan.mute ?? []) {
      await client.query(
        'UPDATE members SET muted = $3, updated_us = $4 WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, m.userId, m.muted, atUs],
      );
    }
  }

  private async byName(db: pg.Pool | pg.PoolClient, key: string): Promise<Conversation | null> {
    const { rows } = await db.query<ConversationRow>(
      'SELECT * FROM conversations WHERE name = $1',
      [key],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  /** Inserts a conversation; null if one with this name exists (or a concurrent one committed). */
  private async insertConversation(
    client: pg.PoolClient,
    kind: ConversationKind,
    name: string | null,
    title: string | null,
    history: GroupHistory = 'full',
  ): Promise<Conversation | null> {
    const { rows } = await client.query<ConversationRow>(
      `INSERT INTO conversations (id, kind, name, title, created_at_ms, history)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING RETURNING *`,
      [newId('c'), kind, name, title, this.clock.nowMs(), history],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  private async addMembers(
    client: pg.PoolClient,
    conversationId: string,
    userIds: readonly string[],
    role: MemberRole,
  ): Promise<void> {
    if (userIds.length === 0) return;
    await client.query(
      `INSERT INTO members (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
       SELECT $1, u, $3, 0, $4, $5 FROM unnest($2::text[]) AS u
       ON CONFLICT DO NOTHING`,
      [conversationId, [...new Set(userIds)], role, this.clock.nowMs(), this.clock.nowUs()],
    );
  }

  /** The body of the append transaction. See the MessageStore contract. */
  private async appendAll(
    client: pg.PoolClient,
    batch: readonly AppendRequest[],
  ): Promise<AppendResult[]> {
    // 1. Lock the batch's conversations, in id order so that concurrent batches cannot deadlock.
    //    Every statement after this one sees whatever an earlier holder of a lock committed.
    const conversationIds = [...new Set(batch.map((r) => r.conversationId))].sort();
    const { rows: locked } = await client.query<ConversationRow>(
      `SELECT * FROM conversations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [conversationIds],
    );
    const nowUs = this.clock.nowUs();
    const heads = new Map<string, Head>(
      locked.map((row) => [
        row.id,
        { lastSeq: row.last_seq, lastAtUs: row.last_at_us, firstSeq: row.last_seq, row },
      ]),
    );
    // 2. Under the locks: earlier messages with these refs, and the senders' memberships.
    const stored = await this.findByRefs(client, batch);
    const members = await this.findMembers(client, batch);

    // 3. Place the batch in order, as the SQLite backend does.
    const writes: Writes = {
      messages: {
        conversationId: [],
        seq: [],
        id: [],
        senderId: [],
        device: [],
        ref: [],
        body: [],
        atUs: [],
      },
      heads,
      ownSeqs: new Map(),
    };
    const results = batch.map((req) => this.place(req, nowUs, stored, members, writes));

    // 4. One statement writes the messages, the conversations' heads and the senders' watermarks.
    if (writes.messages.id.length > 0) await this.write(client, writes, nowUs);
    return results;
  }

  private place(
    req: AppendRequest,
    nowUs: number,
    stored: Map<string, StoredMessage>,
    members: Map<string, MemberRow>,
    writes: Writes,
  ): AppendResult {
    const key = dedupeKey(req.senderId, req.device, req.ref);
    const twin = stored.get(key);
    if (twin) {
      return twin.conversationId === req.conversationId
        ? { ok: true, message: twin, duplicate: true }
        : { ok: false, error: new ParleyError('ref_reused') };
    }
    const head = writes.heads.get(req.conversationId);
    if (!head) return { ok: false, error: new ParleyError('conversation_not_found') };
    const refusal = sendRefusal(
      head.row,
      members.get(memberKey(req.conversationId, req.senderId)) ?? null,
    );
    if (refusal) return { ok: false, error: new ParleyError(refusal) };
    const message = nextMessage(head, nowUs, req);
    const m = writes.messages;
    m.conversationId.push(message.conversationId);
    m.seq.push(message.seq);
    m.id.push(message.id);
    m.senderId.push(message.senderId);
    m.device.push(message.device);
    m.ref.push(req.ref);
    m.body.push(JSON.stringify(message.body));
    m.atUs.push(message.atUs);
    head.lastSeq = message.seq;
    head.lastAtUs = message.atUs;
    stored.set(key, message);
    writes.ownSeqs.set(memberKey(req.conversationId, req.senderId), {
      conversationId: req.conversationId,
      senderId: req.senderId,
      seq: message.seq,
    });
    return { ok: true, message, duplicate: false };
  }

  private async write(client: pg.PoolClient, writes: Writes, nowUs: number): Promise<void> {
    const m = writes.messages;
    const moved = [...writes.heads].filter(([, h]) => h.lastSeq !== h.firstSeq);
    const own = [...writes.ownSeqs.values()];
    await client.query(
      `WITH inserted AS (
         INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
         SELECT c, s, i, u, d, r, b::json, a
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::bigint[]) AS t(c, s, i, u, d, r, b, a)
       ), heads AS (
         UPDATE conversations SET last_seq = h.s, last_at_us = h.a
           FROM unnest($9::text[], $10::bigint[], $11::bigint[]) AS h(id, s, a)
          WHERE conversations.id = h.id
       )
       UPDATE members SET read_seq = GREATEST(read_seq, o.s),
                          delivered_seq = GREATEST(delivered_seq, o.s), updated_us = $15
         FROM unnest($12::text[], $13::text[], $14::bigint[]) AS o(c, u, s)
        WHERE members.conversation_id = o.c AND members.user_id = o.u`,
      [
        m.conversationId,
        m.seq,
        m.id,
        m.senderId,
        m.device,
        m.ref,
        m.body,
        m.atUs,
        moved.map(([id]) => id),
        moved.map(([, h]) => h.lastSeq),
        moved.map(([, h]) => h.lastAtUs),
        own.map((o) => o.conversationId),
        own.map((o) => o.senderId),
        own.map((o) => o.seq),
        nowUs,
      ],
    );
  }

  private async findByRefs(
    client: pg.PoolClient,
    batch: readonly AppendRequest[],
  ): Promise<Map<string, StoredMessage>> {
    const { rows } = await client.query<MessageRow & { ref: string }>(
      `SELECT ${MESSAGE_COLUMNS}, ref FROM messages
        WHERE (sender_id, device, ref) IN
              (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
      [batch.map((r) => r.senderId), batch.map((r) => r.device), batch.map((r) => r.ref)],
    );
    return new Map(
      rows.map((row) => [dedupeKey(row.sender_id, row.device, row.ref), toMessage(row)]),
    );
  }

  private async findMembers(
    client: pg.PoolClient,
    batch: readonly AppendRequest[],
  ): Promise<Map<string, MemberRow>> {
    const { rows } = await client.query<MemberRow>(
      `SELECT * FROM members
        WHERE (conversation_id, user_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [batch.map((r) => r.conversationId), batch.map((r) => r.senderId)],
    );
    return new Map(rows.map((row) => [memberKey(row.conversation_id, row.user_id), row]));
  }
}
