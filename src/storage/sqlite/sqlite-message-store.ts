import type { Statement, Transaction } from 'better-sqlite3';
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
import { settle, type SqliteDb } from './database.js';
import { ForwardsMessageActions, type AllMessagePorts } from '../message-actions.js';
import { SqliteMessageActions } from './sqlite-message-actions.js';
import { SqliteMessageSearch } from './sqlite-message-search.js';
import {
  MESSAGE_COLUMNS,
  nextMessage,
  RECALLED_BODY,
  ROOM_PREFIX,
  SEQ_END,
  changedSeqOrder,
  sendRefusal,
  takePage,
  VIEW_MEMBER_COLUMNS,
  directKey,
  readWindow,
  toConversation,
  toMember,
  toMessage,
  toView,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
  type ViewRow,
} from '../rows.js';

const RECALLED_BODY_JSON = JSON.stringify(RECALLED_BODY);
/** A message row as SQLite returns it: the body is JSON text. */
type SqliteMessageRow = MessageRow & { body: string };

/** The send path's read (the `sendHead` statement): the member columns are null for a stranger. */
type SendHeadRow = Pick<
  ConversationRow,
  'last_seq' | 'last_at_us' | 'muted_all' | 'dismissed_at_ms'
> &
  Pick<MemberRow, 'role' | 'muted' | 'left_seq'> & { member_id: string | null };

/** The embedded MessageStore: one SQLite file in WAL mode; writes are serialized by SQLite. */
export class SqliteMessageStore extends ForwardsMessageActions implements AllMessagePorts {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly q: Record<string, Statement>;
  private readonly appendTx: Transaction<(batch: readonly AppendRequest[]) => AppendResult[]>;
  private readonly timePageTx: Transaction<(conversationId: string, page: TimePage) => Page>;
  private readonly changedTx: Transaction<
    (
      conversationId: string,
      viewerId: string,
      sinceUs: number,
      limit: number,
      bytesMax: number | undefined,
    ) => Page
  >;
  private readonly search: SqliteMessageSearch;
  private appender: ((batch: readonly AppendRequest[]) => Promise<AppendResult[]>) | null = null;

  constructor(db: SqliteDb, clock: Clock) {
    super(new SqliteMessageActions(db, clock));
    this.db = db;
    this.clock = clock;
    this.search = new SqliteMessageSearch(db);
    this.q = {
      conversation: db.prepare('SELECT * FROM conversations WHERE id = ?'),
      conversationByName: db.prepare('SELECT * FROM conversations WHERE name = ?'),
      insertConversation: db.prepare(
        `INSERT INTO conversations (id, kind, name, title, created_at_ms, history)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      setLast: db.prepare('UPDATE conversations SET last_seq = ?, last_at_us = ? WHERE id = ?'),
      member: db.prepare(
        'SELECT * FROM members WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL',
      ),
      membership: db.prepare('SELECT * FROM members WHERE conversation_id = ? AND user_id = ?'),
      members: db.prepare(
        `SELECT * FROM members WHERE conversation_id = ? AND left_seq IS NULL
          ORDER BY joined_at_ms, user_id`,
      ),
      memberCount: db.prepare(
        'SELECT COUNT(*) AS n FROM members WHERE conversation_id = ? AND left_seq IS NULL',
      ),
      join: db.prepare(
        `INSERT INTO members (conversation_id, user_id, role, joined_seq, delivered_seq, read_seq,
                              joined_at_ms, updated_us)
         VALUES (@conversationId, @userId, 'member', @seq, @seq, @seq, @nowMs, @nowUs)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
           role = 'member', joined_seq = @seq, delivered_seq = @seq, read_seq = @seq,
           joined_at_ms = @nowMs, updated_us = @nowUs, muted = 0, left_seq = NULL`,
      ),
      leave: db.prepare(
        `UPDATE members SET left_seq = ?, updated_us = ?
          WHERE conversation_id = ? AND user_id = ? AND left_seq IS NULL`,
      ),
      rejoin: db.prepare(
        `UPDATE members SET left_seq = NULL, joined_seq = ?, updated_us = ?
          WHERE conversation_id = ? AND user_id = ? AND left_seq IS NOT NULL`,
      ),
      setRole: db.prepare(
        'UPDATE members SET role = ?, updated_us = ? WHERE conversation_id = ? AND user_id = ?',
      ),
      setMuted: db.prepare(
        'UPDATE members SET muted = ?, updated_us = ? WHERE conversation_id = ? AND user_id = ?',
      ),
      setSettings: db.prepare(
        `UPDATE conversations SET title = COALESCE(@title, title),
                muted_all = COALESCE(@mutedAll, muted_all), history = COALESCE(@history, history),
                dismissed_at_ms = COALESCE(dismissed_at_ms, @dismissedAtMs),
                avatar = CASE WHEN @setAvatar = 1 THEN @avatar ELSE avatar END
          WHERE id = @id`,
      ),
      insertMember: db.prepare(
        `INSERT OR IGNORE INTO members
           (conversation_id, user_id, role, joined_seq, joined_at_ms, updated_us)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
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
      directPeers: db.prepare(
        `SELECT peer.user_id FROM members me
           JOIN conversations c ON c.id = me.conversation_id AND c.kind = 'direct'
           JOIN members peer ON peer.conversation_id = c.id AND peer.user_id <> me.user_id
          WHERE me.user_id = ?`,
      ),
      sharedWith: db
        .prepare(
          `SELECT DISTINCT other.user_id FROM members me
             JOIN conversations c ON c.id = me.conversation_id AND c.dismissed_at_ms IS NULL
             JOIN members other ON other.conversation_id = me.conversation_id
                               AND other.user_id <> me.user_id AND other.left_seq IS NULL
            WHERE me.user_id = ? AND me.left_seq IS NULL`,
        )
        .pluck(),
      message: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?`,
      ),
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
      dropReactions: db.prepare('DELETE FROM reactions WHERE conversation_id = ? AND seq = ?'),
      dedupe: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_id = ? AND device = ? AND ref = ?`,
      ),
      insertMessage: db.prepare(
        `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // The send path's read: a conversation's head and the sender's membership in one statement.
      sendHead: db.prepare(
        `SELECT c.last_seq, c.last_at_us, c.muted_all, c.dismissed_at_ms,
                m.user_id AS member_id, m.role, m.muted, m.left_seq
           FROM conversations c LEFT JOIN members m
             ON m.conversation_id = c.id AND m.user_id = ? AND m.left_seq IS NULL
          WHERE c.id = ?`,
      ),
      // The send path's insert: a (sender, device, ref) already stored inserts nothing, and the
      // caller then reads the twin. One statement instead of a lookup before every insert.
      insertNew: db.prepare(
        `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender_id, device, ref) DO NOTHING`,
      ),
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
      raiseRead: db.prepare(
        `UPDATE members SET read_seq = MAX(read_seq, @seq), delivered_seq = MAX(delivered_seq, @seq),
                updated_us = @now
          WHERE conversation_id = @conversationId AND user_id = @userId`,
      ),
      raiseDelivered: db.prepare(
        `UPDATE members SET delivered_seq = MAX(delivered_seq, @seq), updated_us = @now
          WHERE conversation_id = @conversationId AND user_id = @userId`,
      ),
    };
    this.appendTx = db.transaction((batch: readonly AppendRequest[]) => this.appendAll(batch));
    this.timePageTx = db.transaction((conversationId: string, page: TimePage) =>
      this.readTimePage(conversationId, page),
    );
    this.changedTx = db.transaction(
      (
        conversationId: string,
        viewerId: string,
        sinceUs: number,
        limit: number,
        bytesMax: number | undefined,
      ) => this.readChanged(conversationId, viewerId, sinceUs, limit, bytesMax),
    );
  }

  openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    return settle(() =>
      this.db
        .transaction(() => {
          const key = directKey(userA, userB);
          const found = this.q.conversationByName!.get(key) as ConversationRow | undefined;
          if (found) return { conversation: toConversation(found), created: false };
          const conversation = this.insertConversation('direct', key, null);
          this.addMember(conversation.id, userA, 'member', 0);
          this.addMember(conversation.id, userB, 'member', 0);
          return { conversation, created: true };
        })
        .immediate(),
    );
  }

  findDirect(userA: string, userB: string): Promise<Conversation | null> {
    return settle(() => this.byName(directKey(userA, userB)));
  }

  createGroup(group: NewGroup): Promise<Conversation> {
    return settle(() =>
      this.db
        .transaction(() => {
          const conversation = this.insertConversation(
            'group',
            null,
            group.title,
            group.history ?? 'join',
          );
          this.addMember(conversation.id, group.ownerId, 'owner', 0);
          for (const id of group.memberIds) this.addMember(conversation.id, id, 'member', 0);
          return conversation;
        })
        .immediate(),
    );
  }

  joinRoom(
    name: string,
    userId: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    return settle(() =>
      this.db
        .transaction(() => {
          const key = ROOM_PREFIX + name;
          const found = this.q.conversationByName!.get(key) as ConversationRow | undefined;
          const conversation = found
            ? toConversation(found)
            : this.insertConversation('room', key, null);
          this.addMember(conversation.id, userId, 'member', conversation.lastSeq);
          // A former member (it left) becomes a current one again.
          this.q.rejoin!.run(conversation.lastSeq, this.clock.nowUs(), conversation.id, userId);
          return { conversation, created: !found };
        })
        .immediate(),
    );
  }

  leaveRoom(conversationId: string, userId: string): Promise<boolean> {
    return settle(() =>
      this.db
        .transaction(() => {
          const conv = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
          if (!conv) throw new ParleyError('conversation_not_found');
          if (conv.kind !== 'room') throw new ParleyError('invalid_request', 'Not a room.');
          const left = this.q.leave!.run(conv.last_seq, this.clock.nowUs(), conversationId, userId);
          if (left.changes > 0) return true;
          if (!this.q.membership!.get(conversationId, userId)) throw new ParleyError('not_member');
          return false;
        })
        .immediate(),
    );
  }

  findRoom(name: string): Promise<Conversation | null> {
    return settle(() => this.byName(ROOM_PREFIX + name));
  }

  getConversation(id: string): Promise<Conversation | null> {
    return settle(() => {
      const row = this.q.conversation!.get(id) as ConversationRow | undefined;
      return row ? toConversation(row) : null;
    });
  }

  getMember(conversationId: string, userId: string): Promise<Member | null> {
    return settle(() => {
      const row = this.q.member!.get(conversationId, userId) as MemberRow | undefined;
      return row ? toMember(row) : null;
    });
  }

  getMembership(conversationId: string, userId: string): Promise<Member | null> {
    return settle(() => {
      const row = this.q.membership!.get(conversationId, userId) as MemberRow | undefined;
      return row ? toMember(row) : null;
    });
  }

  listMembers(conversationId: string): Promise<Member[]> {
    return settle(() => (this.q.members!.all(conversationId) as MemberRow[]).map(toMember));
  }

  listConversations(userId: string): Promise<ConversationView[]> {
    return settle(() => (this.q.listForUser!.all(userId) as ViewRow[]).map(toView));
  }

  changedSince(userId: string, sinceUs: number): Promise<ConversationView[]> {
    return settle(() =>
      (this.q.changedSince!.all({ userId, since: sinceUs }) as ViewRow[]).map(toView),
    );
  }

  directPeers(userId: string): Promise<string[]> {
    return settle(() =>
      (this.q.directPeers!.all(userId) as { user_id: string }[]).map((r) => r.user_id),
    );
  }

  sharedWith(userId: string): Promise<string[]> {
    return settle(() => this.q.sharedWith!.all(userId) as string[]);
  }

  sentBy(
    userId: string,
    after: { readonly device: string; readonly ref: string } | null,
    limit: number,
  ): Promise<(StoredMessage & { readonly ref: string })[]> {
    return settle(() =>
      (
        this.q.sentBy!.all(userId, after?.device ?? '', after?.ref ?? '', limit) as (MessageRow & {
          ref: string;
        })[]
      ).map((r) => ({ ...toMessage(r), ref: r.ref })),
    );
  }

  searchMessages(query: SearchQuery): Promise<SearchPage> {
    return settle(() =>
      query.conversationId === undefined
        ? this.search.search(query)
        : this.search.search(query, this.window(query.conversationId, query.viewerId)),
    );
  }

  getMessage(
    conversationId: string,
    seq: number,
    viewerId?: string,
  ): Promise<StoredMessage | null> {
    return settle(() => {
      if (viewerId !== undefined) {
        const w = this.window(conversationId, viewerId);
        if (seq <= w.after || seq >= w.before) return null;
      }
      const row = this.q.message!.get(conversationId, seq) as MessageRow | undefined;
      return row ? toMessage(row) : null;
    });
  }

  recall(conversationId: string, seq: number): Promise<StoredMessage | null> {
    return settle(() =>
      this.db
        .transaction(() => {
          this.q.recall!.run({
            body: RECALLED_BODY_JSON,
            now: this.clock.nowUs(),
            conversationId,
            seq,
          });
          this.q.dropReactions!.run(conversationId, seq);
          const row = this.q.message!.get(conversationId, seq) as MessageRow | undefined;
          return row ? toMessage(row) : null;
        })
        .immediate(),
    );
  }

  append(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    return this.appender ? this.appender(batch) : this.appendHere(batch);
  }

  /** Runs the batch on this connection (also the append thread's own path). */
  appendHere(batch: readonly AppendRequest[]): Promise<AppendResult[]> {
    return settle(() => this.appendTx.immediate(batch));
  }

  /** Sends appends elsewhere (the append thread, append-thread.ts); null: this connection. */
  useAppender(
    appender: ((batch: readonly AppendRequest[]) => Promise<AppendResult[]>) | null,
  ): void {
    this.appender = appender;
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
    const w = this.window(conversationId, viewerId);
    const seqs = changedSeqOrder(
      this.q.changedSeqs!.all(conversationId, sinceUs, w.after, w.before) as number[],
      this.q.hiddenSince!.all(viewerId, conversationId, sinceUs, w.after, w.before) as number[],
    );
    // Rows read one at a time, so that none past the byte budget is loaded.
    const q = this.q;
    function* rows(): Generator<SqliteMessageRow> {
      for (const seq of seqs) {
        const row = q.message!.get(conversationId, seq) as SqliteMessageRow | undefined;
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

  pageBySeq(conversationId: string, page: SeqPage): Promise<Page> {
    return settle(() => {
      const w = page.viewerId === undefined ? null : this.window(conversationId, page.viewerId);
      const lower = Math.max(page.after ?? 0, w?.after ?? 0);
      const upper = Math.min(page.before ?? SEQ_END, w?.before ?? SEQ_END);
      // Without `after` the caller wants the newest messages below `before` (or the newest of all).
      const stmt = page.after === undefined ? this.q.backward! : this.q.forward!;
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

  /**
   * pageByTime's body, in one deferred (read) transaction, so that every step sees one snapshot.
   * There is no index on the time: in a conversation a message's at_us grows with its seq (each is
   * stamped max(now, previous + 1)), so the cursor becomes a seq bound by a binary search over the
   * primary key, and the page is read by seq. (An index on (conversation, at_us) cost every send
   * a third random B-tree page in the WAL; see docs/architecture.md.)
   */
  private readTimePage(conversationId: string, page: TimePage): Page {
    const w = page.viewerId === undefined ? null : this.window(conversationId, page.viewerId);
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
    const stmt = page.newestFirst ? this.q.backward! : this.q.forward!;
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
    const head = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
    let lo = 1;
    let hi = (head?.last_seq ?? 0) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.q.stampFrom!.get(conversationId, mid) as { at_us: number } | undefined;
      // No message at or above mid counts as stamped at the end of time.
      if (row === undefined || row.at_us > us || (!strict && row.at_us === us)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  markRead(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, (capped) =>
      this.q.raiseRead!.run({ seq: capped, now: this.clock.nowUs(), conversationId, userId }),
    );
  }

  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member> {
    return this.raiseWatermark(conversationId, userId, seq, (capped) =>
      this.q.raiseDelivered!.run({ seq: capped, now: this.clock.nowUs(), conversationId, userId }),
    );
  }

  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult> {
    return settle(() => this.db.transaction(() => this.applyChange(change, planner)).immediate());
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // --- internals -------------------------------------------------------------------------

  private raiseWatermark(
    conversationId: string,
    userId: string,
    seq: number,
    update: (capped: number) => unknown,
  ): Promise<Member> {
    return settle(() =>
      this.db
        .transaction(() => {
          const conv = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
          const before = this.q.member!.get(conversationId, userId) as MemberRow | undefined;
          if (!conv || !before) throw new ParleyError('not_member');
          update(Math.max(0, Math.min(seq, conv.last_seq)));
          return toMember(this.q.member!.get(conversationId, userId) as MemberRow);
        })
        .immediate(),
    );
  }

  /** The viewer's read window; not_member for a user who never was a member. */
  private window(conversationId: string, viewerId: string) {
    const conv = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
    const member = this.q.membership!.get(conversationId, viewerId) as MemberRow | undefined;
    if (!conv) throw new ParleyError('conversation_not_found');
    if (!member) throw new ParleyError('not_member');
    return readWindow(conv, member);
  }

  /** The body of changeGroup's transaction; SQLite's write lock serializes it with appends. */
  private applyChange(change: GroupChange, planner: GroupPlanner): GroupChangeResult {
    const { conversationId } = change;
    const convRow = this.q.conversation!.get(conversationId) as ConversationRow | undefined;
    if (!convRow) throw new ParleyError('conversation_not_found');
    const actor = this.q.member!.get(conversationId, change.actorId) as MemberRow | undefined;
    const targets = new Map<string, Member>();
    for (const id of new Set(change.targetIds)) {
      const row = this.q.membership!.get(conversationId, id) as MemberRow | undefined;
      if (row) targets.set(id, toMember(row));
    }
    const { n } = this.q.memberCount!.get(conversationId) as { n: number };
    const plan = planner({
      conversation: toConversation(convRow),
      actor: actor ? toMember(actor) : null,
      targets,
      memberCount: n,
      inviteCode: convRow.invite_code,
    });
    const nowMs = this.clock.nowMs();
    const message = nextMessage(
      { lastSeq: convRow.last_seq, lastAtUs: convRow.last_at_us },
      this.clock.nowUs(),
      { conversationId, senderId: change.actorId, device: change.device, body: plan.body },
    );
    const { seq, atUs } = message;
    this.q.insertMessage!.run(
      conversationId,
      seq,
      message.id,
      message.senderId,
      message.device,
      `system:${message.id}`,
      JSON.stringify(plan.body),
      atUs,
    );
    this.q.setLast!.run(seq, atUs, conversationId);
    for (const userId of plan.join ?? []) {
      this.q.join!.run({ conversationId, userId, seq: seq - 1, nowMs, nowUs: atUs });
    }
    for (const userId of plan.leave ?? []) this.q.leave!.run(seq, atUs, conversationId, userId);
    for (const r of plan.roles ?? []) this.q.setRole!.run(r.role, atUs, conversationId, r.userId);
    for (const m of plan.mute ?? []) {
      this.q.setMuted!.run(m.muted ? 1 : 0, atUs, conversationId, m.userId);
    }
    this.q.setSettings!.run({
      id: conversationId,
      title: plan.title ?? null,
      mutedAll: plan.mutedAll === undefined ? null : plan.mutedAll ? 1 : 0,
      history: plan.history ?? null,
      dismissedAtMs: plan.dismiss ? nowMs : null,
      setAvatar: plan.avatar === undefined ? 0 : 1,
      avatar: plan.avatar ?? null,
    });
    // The actor's own system message is read, as its own sends are.
    this.q.raiseRead!.run({ seq, now: atUs, conversationId, userId: change.actorId });
    const after = this.q.conversation!.get(conversationId) as ConversationRow;
    return { conversation: toConversation(after), message, plan };
  }

  private byName(key: string): Conversation | null {
    const row = this.q.conversationByName!.get(key) as ConversationRow | undefined;
    return row ? toConversation(row) : null;
  }

  private insertConversation(
    kind: ConversationKind,
    name: string | null,
    title: string | null,
    history: GroupHistory = 'full',
  ): Conversation {
    const id = newId('c');
    const createdAtMs = this.clock.nowMs();
    this.q.insertConversation!.run(id, kind, name, title, createdAtMs, history);
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

  private addMember(
    conversationId: string,
    userId: string,
    role: MemberRole,
    joinedSeq: number,
  ): void {
    this.q.insertMember!.run(
      conversationId,
      userId,
      role,
      joinedSeq,
      this.clock.nowMs(),
      this.clock.nowUs(),
    );
  }

  /** The body of the append transaction. See the MessageStore contract. */
  private appendAll(batch: readonly AppendRequest[]): AppendResult[] {
    const nowUs = this.clock.nowUs();
    const heads = new Map<
      string,
      {
        lastSeq: number;
        lastAtUs: number;
        readonly firstSeq: number;
        readonly row: Pick<ConversationRow, 'muted_all' | 'dismissed_at_ms'>;
      }
    >();
    const memberships = new Map<string, Pick<MemberRow, 'role' | 'muted' | 'left_seq'> | null>();
    /** (conversation, sender) → the sender's newest seq in this batch: own messages are read. */
    const ownSeqs = new Map<string, number>();
    const results: AppendResult[] = [];

    // A repeated (sender, device, ref) answers with its twin before any other check, so a retry
    // gets its original message even if the sender has left since. The stored twin is looked up
    // only when a check fails or the insert finds the ref taken: plain sends pay no lookup.
    // A twin earlier in this batch is found too: the transaction reads its own writes.
    const duplicateOf = (req: AppendRequest): AppendResult | undefined => {
      const twin = this.findByRef(req);
      if (!twin) return undefined;
      return twin.conversationId === req.conversationId
        ? { ok: true, message: twin, duplicate: true }
        : { ok: false, error: new ParleyError('ref_reused') };
    };

    for (const req of batch) {
      let head = heads.get(req.conversationId);
      const memberKey = `${req.conversationId}\u0000${req.senderId}`;
      let member = memberships.get(memberKey);
      if (head === undefined || member === undefined) {
        const row = this.q.sendHead!.get(req.senderId, req.conversationId) as
          SendHeadRow | undefined;
        if (!row) {
          results.push(
            duplicateOf(req) ?? {
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
        results.push(duplicateOf(req) ?? { ok: false, error: new ParleyError(refusal) });
        continue;
      }
      const message = nextMessage(head, nowUs, req);
      const inserted = this.q.insertNew!.run(
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
        results.push(duplicateOf(req)!);
        continue;
      }
      head.lastSeq = message.seq;
      head.lastAtUs = message.atUs;
      ownSeqs.set(memberKey, message.seq);
      results.push({ ok: true, message, duplicate: false });
    }
    for (const [id, head] of heads) {
      if (head.lastSeq !== head.firstSeq) this.q.setLast!.run(head.lastSeq, head.lastAtUs, id);
    }
    for (const [key, seq] of ownSeqs) {
      const [conversationId, senderId] = key.split('\u0000') as [string, string];
      this.q.raiseRead!.run({ seq, now: nowUs, conversationId, userId: senderId });
    }
    return results;
  }

  private findByRef(req: AppendRequest): StoredMessage | undefined {
    const row = this.q.dedupe!.get(req.senderId, req.device, req.ref) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }
}
