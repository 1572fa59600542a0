import type { Statement } from 'better-sqlite3';
import { ParleyError } from '../../core/errors.js';
import { lastWordIsPrefix, searchableText } from '../../messaging/store/index.js';
import type { StoredMessage } from '../../messaging/store/index.js';
import type { SearchPage, SearchQuery } from '../../messaging/store/index.js';
import {
  MESSAGE_COLUMNS,
  readWindow,
  toMessage,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
} from '../rows.js';
import type { SqliteDb } from './database.js';

// Message search on SQLite (migration 11): an FTS5 index kept off the append path.
//
// Each insert into `messages` appends (conversation, seq) to `search_queue` in the writing
// transaction (SqliteMessaging.writeSideRows; a trigger does it for a body change): one row at
// the right edge of a rowid table, which is all a send pays. The indexer
// (drain, run by the search thread, search-indexer.ts) takes queued rows in order, reads each
// message as it is now, and (re)writes its entry in `message_search`. An entry's rowid is the
// message's `doc` in `search_docs`, allocated on first indexing and kept on re-indexing (an edit,
// a recall), so that rowid order is commit order and, within a conversation, seq order: a search
// reads the index newest first and stops once it has a page.
//
// `message_search` is contentless (the text lives in `messages` only) with contentless_delete,
// so an entry is replaced by rowid. Its `conv` column holds the conversation id in hex: one token,
// which a search in one conversation ANDs with the words.

/** Queued rows one indexing transaction takes: ~5 ms of work (~9 µs each, measured). */
export const SEARCH_DRAIN_CHUNK = 512;
/** What a search indexes first, of what is pending, before it reads the index. */
const SEARCH_CATCH_UP_MAX = 2_048;
/** Index entries one page may scan before it returns what it found, with a next. */
const SEARCH_SCAN_MAX = 5_000;

const hexOf = (id: string): string => Buffer.from(id, 'utf8').toString('hex');

interface QueueRow {
  id: number;
  conversation_id: string;
  seq: number;
}

interface Hit {
  doc: number;
  conversation_id: string;
  seq: number;
}

type Window = { readonly after: number; readonly before: number };

export class SqliteMessageSearch {
  private readonly db: SqliteDb;
  private readonly q: Record<
    | 'queue'
    | 'dequeue'
    | 'body'
    | 'doc'
    | 'newDoc'
    | 'unindex'
    | 'index'
    | 'find'
    | 'backlog'
    | 'memberships'
    | 'hidden'
    | 'message',
    Statement
  >;
  private readonly drainTx: (max: number) => number;

  constructor(db: SqliteDb) {
    this.db = db;
    this.q = {
      queue: db.prepare('SELECT id, conversation_id, seq FROM search_queue ORDER BY id LIMIT ?'),
      dequeue: db.prepare('DELETE FROM search_queue WHERE id <= ?'),
      body: db.prepare(
        'SELECT body, recalled_at_us FROM messages WHERE conversation_id = ? AND seq = ?',
      ),
      doc: db.prepare('SELECT doc FROM search_docs WHERE conversation_id = ? AND seq = ?').pluck(),
      newDoc: db.prepare('INSERT INTO search_docs (conversation_id, seq) VALUES (?, ?)'),
      unindex: db.prepare('DELETE FROM message_search WHERE rowid = ?'),
      index: db.prepare('INSERT INTO message_search (rowid, conv, text) VALUES (?, ?, ?)'),
      find: db.prepare(
        `SELECT d.doc, d.conversation_id, d.seq
           FROM message_search s JOIN search_docs d ON d.doc = s.rowid
          WHERE message_search MATCH ? AND s.rowid < ?
          ORDER BY s.rowid DESC`,
      ),
      // Queue ids are contiguous (appended at the end, drained from the front).
      backlog: db.prepare('SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM search_queue').pluck(),
      memberships: db.prepare(
        `SELECT m.conversation_id, m.joined_seq, m.left_seq, c.kind, c.history
           FROM members m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.user_id = ?`,
      ),
      hidden: db
        .prepare(
          'SELECT 1 FROM hidden_messages WHERE user_id = ? AND conversation_id = ? AND seq = ?',
        )
        .pluck(),
      message: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq = ?`,
      ),
    };
    const tx = db.transaction((max: number) => this.drainHere(max));
    this.drainTx = (max) => tx.immediate(max);
  }

  /**
   * Indexes up to `max` queued messages in one transaction, in queue order; returns how many it
   * took (fewer than `max`: the queue is now empty).
   */
  drain(max: number = SEARCH_DRAIN_CHUNK): number {
    return this.drainTx(max);
  }

  private drainHere(max: number): number {
    const rows = this.q.queue.all(max) as QueueRow[];
    for (const r of rows) {
      const row = this.q.body.get(r.conversation_id, r.seq) as
        { body: string; recalled_at_us: number | null } | undefined;
      const text =
        row && row.recalled_at_us === null
          ? searchableText(JSON.parse(row.body) as StoredMessage['body'])
          : '';
      let doc = this.q.doc.get(r.conversation_id, r.seq) as number | undefined;
      if (doc !== undefined) this.q.unindex.run(doc);
      if (text === '') continue;
      doc ??= Number(this.q.newDoc.run(r.conversation_id, r.seq).lastInsertRowid);
      this.q.index.run(doc, hexOf(r.conversation_id), text);
    }
    const last = rows.at(-1);
    if (last) this.q.dequeue.run(last.id);
    return rows.length;
  }

  /** How many messages wait to be indexed (two index lookups, not a count). */
  backlog(): number {
    return this.q.backlog.get() as number;
  }

  /**
   * One page of a search. `window` is the viewer's read window in `query.conversationId` (the
   * store reads it, with its not_member); absent for a search of every conversation.
   */
  search(query: SearchQuery, window?: Window): SearchPage {
    const before = parseCursor(query.before);
    const windows =
      query.conversationId !== undefined && window
        ? new Map([[query.conversationId, window]])
        : this.memberships(query.viewerId);
    // Read-your-writes in the common case: what is pending is indexed first (bounded).
    for (let done = 0; done < SEARCH_CATCH_UP_MAX;) {
      const n = this.drain(SEARCH_DRAIN_CHUNK);
      done += n;
      if (n < SEARCH_DRAIN_CHUNK) break;
    }
    const words = query.words.map((w) => `"${w}"`);
    if (lastWordIsPrefix(query.words)) words[words.length - 1] += ' *';
    const match =
      (query.conversationId !== undefined ? `conv : "${hexOf(query.conversationId)}" AND ` : '') +
      `text : (${words.join(' ')})`;

    const messages: StoredMessage[] = [];
    let next: string | null = null;
    let scanned = 0;
    for (const hit of this.q.find.iterate(match, before) as IterableIterator<Hit>) {
      // Past the budget, or one visible match past a full page: the next page starts here.
      if (++scanned > SEARCH_SCAN_MAX) {
        next = String(hit.doc + 1);
        break;
      }
      const message = this.visible(query.viewerId, hit, windows);
      if (!message) continue;
      if (messages.length === query.limit) {
        next = String(hit.doc + 1);
        break;
      }
      messages.push(message);
    }
    return { messages, next };
  }

  /** The message of a hit if the viewer may see it: in its window, not hidden, not recalled. */
  private visible(
    viewerId: string,
    hit: Hit,
    windows: ReadonlyMap<string, Window>,
  ): StoredMessage | null {
    const w = windows.get(hit.conversation_id);
    if (!w || hit.seq <= w.after || hit.seq >= w.before) return null;
    if (this.q.hidden.get(viewerId, hit.conversation_id, hit.seq) !== undefined) return null;
    const row = this.q.message.get(hit.conversation_id, hit.seq) as MessageRow | undefined;
    return row && row.recalled_at_us === null ? toMessage(row) : null;
  }

  /** The viewer's read window in each conversation it is or was a member of. */
  private memberships(viewerId: string): Map<string, Window> {
    const windows = new Map<string, Window>();
    for (const r of this.q.memberships.all(viewerId) as (MemberRow & ConversationRow)[]) {
      windows.set(r.conversation_id, readWindow(r, r));
    }
    return windows;
  }
}

/** A page's `next` is the doc to continue below; absent, the newest. */
function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return Number.MAX_SAFE_INTEGER;
  if (!/^[1-9][0-9]{0,15}$/.test(cursor) || !Number.isSafeInteger(Number(cursor))) {
    throw new ParleyError('invalid_cursor', "The search cursor is not valid: use a page's next.");
  }
  return Number(cursor);
}
