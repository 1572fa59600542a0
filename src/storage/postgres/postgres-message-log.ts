import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Page, StoredMessage } from '../../messaging/store/index.js';
import type {
  AppendRequest,
  AppendResult,
  MessageLog,
  SeqPage,
  TimePage,
} from '../../messaging/store/index.js';
import { inTransaction, isDeadlock, isUniqueViolation } from './database.js';
import {
  MESSAGE_COLUMNS,
  RECALLED_BODY,
  SEQ_END,
  nextMessage,
  sendRefusal,
  toMessage,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from '../rows.js';
import { boundedPage, readerWindow } from './postgres-messaging.js';

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
 * MessageLog on PostgreSQL (contract: messaging/store/message-log.ts), shared by every node of a
 * cluster. Seqs are allocated under a row lock on the conversation, inside the transaction that
 * inserts the messages, so nodes never hand out a seq twice or leave a gap.
 */
export class PostgresMessageLog implements MessageLog {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

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
    const w = await this.viewerWindow(conversationId, page.viewerId);
    const lower = Math.max(page.after ?? 0, w?.after ?? 0);
    const upper = Math.min(page.before ?? SEQ_END, w?.before ?? SEQ_END);
    // Without `after` the caller wants the newest messages below `before` (or the newest of all).
    const backward = page.after === undefined;
    const order = `seq ${backward ? 'DESC' : 'ASC'}`;
    const read = await boundedPage(
      this.pool,
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = $1 AND seq > $2 AND seq < $3 ORDER BY ${order} LIMIT $4`,
      [conversationId, lower, upper, page.limit + 1],
      order,
      page,
    );
    if (backward) read.messages.reverse();
    return read;
  }

  async pageByTime(conversationId: string, page: TimePage): Promise<Page> {
    const cursor =
      page.cursorUs > 0 ? page.cursorUs : page.newestFirst ? Number.MAX_SAFE_INTEGER : 0;
    const w = await this.viewerWindow(conversationId, page.viewerId);
    const order = `at_us ${page.newestFirst ? 'DESC' : 'ASC'}`;
    return boundedPage(
      this.pool,
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE conversation_id = $1 AND at_us ${page.newestFirst ? '<' : '>'} $2
          AND seq > $4 AND seq < $5
        ORDER BY ${order} LIMIT $3`,
      [conversationId, cursor, page.limit + 1, w?.after ?? 0, w?.before ?? SEQ_END],
      order,
      page,
    );
  }

  async getMessage(
    conversationId: string,
    seq: number,
    viewerId?: string,
  ): Promise<StoredMessage | null> {
    if (viewerId !== undefined) {
      const w = await readerWindow(this.pool, conversationId, viewerId);
      if (seq <= w.after || seq >= w.before) return null;
    }
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq = $2`,
      [conversationId, seq],
    );
    return rows[0] ? toMessage(rows[0]) : null;
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

  /** The viewer's window for a page; null for a page without a viewer (every message). */
  private viewerWindow(conversationId: string, viewerId: string | undefined) {
    return viewerId === undefined ? null : readerWindow(this.pool, conversationId, viewerId);
  }

  // --- the append transaction ------------------------------------------------------------

  /** The body of the append transaction. See the MessageLog contract. */
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
    const previousAtUs = head.lastAtUs;
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
    return { ok: true, message, duplicate: false, previousAtUs };
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
