import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { lastWordIsPrefix } from '../../messaging/store/index.js';
import type { SearchPage, SearchQuery, SearchStore } from '../../messaging/store/index.js';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from '../rows.js';
import { SEARCH_DOCUMENT } from './migrations.js';
import { notHidden, readerWindow } from './postgres-messaging.js';

// Message search on PostgreSQL: the GIN index of migration 11, maintained by PostgreSQL in the
// append transaction, so a search sees every committed message. Pages are newest first by
// (at_us, conversation_id, seq), which within a conversation is seq order; `next` is that key of
// the page's last message.

const COLUMNS = MESSAGE_COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ');

const NOT_HIDDEN = notHidden('m', '$2');

/** A tsquery of the words: every word, the last also as a prefix (messaging/store/search-text.ts). */
function tsquery(words: readonly string[]): string {
  const prefix = lastWordIsPrefix(words);
  // Words hold letters, digits and marks only (searchWords), so quoting cannot be escaped.
  return words.map((w, i) => `'${w}'${prefix && i === words.length - 1 ? ':*' : ''}`).join(' & ');
}

interface Cursor {
  readonly atUs: number;
  readonly seq: number;
  readonly conversationId: string;
}

const CURSOR_RE = /^([0-9]{1,16})\.([0-9]{1,16})\.([A-Za-z0-9_-]{1,64})$/;

function parseCursor(cursor: string | undefined): Cursor | null {
  if (cursor === undefined) return null;
  const m = CURSOR_RE.exec(cursor);
  const atUs = Number(m?.[1]);
  const seq = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(atUs) || !Number.isSafeInteger(seq)) {
    throw new ParleyError('invalid_cursor', "The search cursor is not valid: use a page's next.");
  }
  return { atUs, seq, conversationId: m[3]! };
}

/**
 * SearchStore on PostgreSQL; the contract is the port's (messaging/store/search.ts). The port's
 * class lives beside its SQL, in one file named after the port: a class file of its own would
 * only forward to searchPage.
 */
export class PostgresSearchStore implements SearchStore {
  constructor(private readonly pool: pg.Pool) {}

  async searchMessages(query: SearchQuery): Promise<SearchPage> {
    if (query.conversationId === undefined) return searchPage(this.pool, query);
    return searchPage(
      this.pool,
      query,
      await readerWindow(this.pool, query.conversationId, query.viewerId),
    );
  }
}

/**
 * One page of a search. `window` is the viewer's read window in `query.conversationId` (the
 * caller reads it, with its not_member); absent for a search of every conversation.
 */
async function searchPage(
  db: pg.Pool,
  query: SearchQuery,
  window?: { readonly after: number; readonly before: number },
): Promise<SearchPage> {
  const cursor = parseCursor(query.before);
  const match = tsquery(query.words);
  let rows: MessageRow[];
  if (query.conversationId !== undefined && window) {
    const before = Math.min(window.before, cursor?.seq ?? Number.MAX_SAFE_INTEGER);
    ({ rows } = await db.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages m
        WHERE m.conversation_id = $1 AND ${SEARCH_DOCUMENT} @@ to_tsquery('simple', $3)
          AND m.seq > $4 AND m.seq < $5 AND m.recalled_at_us IS NULL AND ${NOT_HIDDEN}
        ORDER BY m.seq DESC
        LIMIT $6`,
      [query.conversationId, query.viewerId, match, window.after, before, query.limit + 1],
    ));
  } else {
    ({ rows } = await db.query<MessageRow>(
      `SELECT ${COLUMNS} FROM messages m
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $2
         JOIN conversations c ON c.id = m.conversation_id
        WHERE ${SEARCH_DOCUMENT} @@ to_tsquery('simple', $3)
          AND m.seq > CASE WHEN c.kind = 'group' AND c.history = 'join' THEN mb.joined_seq
                           ELSE 0 END
          AND (mb.left_seq IS NULL OR m.seq <= mb.left_seq)
          AND m.recalled_at_us IS NULL AND ${NOT_HIDDEN}
          AND ($1::boolean OR (m.at_us, m.conversation_id, m.seq) < ($4, $5, $6))
        ORDER BY m.at_us DESC, m.conversation_id DESC, m.seq DESC
        LIMIT $7`,
      [
        cursor === null,
        query.viewerId,
        match,
        cursor?.atUs ?? 0,
        cursor?.conversationId ?? '',
        cursor?.seq ?? 0,
        query.limit + 1,
      ],
    ));
  }
  const messages = rows.slice(0, query.limit).map(toMessage);
  const last = messages.at(-1);
  return {
    messages,
    next:
      rows.length > query.limit && last ? `${last.atUs}.${last.seq}.${last.conversationId}` : null,
  };
}
