import type pg from 'pg';
import type {
  ContactEntry,
  ContactListKind,
  ContactPage,
  ContactStore,
  DirectBar,
  Edge,
  Pair,
  PairStates,
} from '../../contacts/index.js';
import { LIST_SHAPE, toEdge, toEntry, type EdgeRow, type EntryRow } from '../contact-rows.js';
import { inTransaction } from './database.js';

const PAIR_SQL = `SELECT * FROM contacts
  WHERE (user_id = $1 AND peer_id = $2) OR (user_id = $2 AND peer_id = $1)`;

function toPair(a: string, rows: readonly EdgeRow[]): Pair {
  const ab = rows.find((r) => r.user_id === a);
  const ba = rows.find((r) => r.user_id !== a);
  return { ab: ab ? toEdge(ab) : null, ba: ba ? toEdge(ba) : null };
}

/** The key of a pair's advisory lock: the same whichever side acts. */
const pairKey = (a: string, b: string): string =>
  a < b ? `contacts:${a}:${b}` : `contacts:${b}:${a}`;

/**
 * The cluster ContactStore. setPair serializes on a transaction-scoped advisory lock per pair:
 * two nodes answering "request" from each side at once cannot both insert a request.
 */
export class PostgresContactStore implements ContactStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async pair(a: string, b: string): Promise<Pair> {
    return toPair(a, (await this.pool.query<EdgeRow>(PAIR_SQL, [a, b])).rows);
  }

  setPair(a: string, b: string, expected: PairStates, next: Pair): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [pairKey(a, b)]);
      const now = toPair(a, (await client.query<EdgeRow>(PAIR_SQL, [a, b])).rows);
      if ((now.ab?.state ?? null) !== expected.ab || (now.ba?.state ?? null) !== expected.ba) {
        return false;
      }
      await write(client, a, b, next.ab);
      await write(client, b, a, next.ba);
      return true;
    });
  }

  async directBar(a: string, b: string): Promise<DirectBar> {
    const { rows } = await this.pool.query<{ bar: DirectBar }>(
      `SELECT CASE
         WHEN EXISTS (SELECT 1 FROM contacts WHERE state = 'blocked'
                        AND ((user_id = $1 AND peer_id = $2) OR (user_id = $2 AND peer_id = $1)))
           THEN 'blocked'
         WHEN EXISTS (SELECT 1 FROM users WHERE id IN ($1, $2) AND deleted_at_ms IS NOT NULL)
           THEN 'deleted'
       END AS bar`,
      [a, b],
    );
    return rows[0]?.bar ?? null;
  }

  async barredAmong(userId: string, others: readonly string[]): Promise<string[]> {
    if (others.length === 0) return [];
    // Blocks either way and deleted accounts among the others; all of them if $1 was deleted.
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT o.id FROM (SELECT DISTINCT unnest($2::text[]) AS id) o
        WHERE EXISTS (SELECT 1 FROM users WHERE id = $1 AND deleted_at_ms IS NOT NULL)
           OR EXISTS (SELECT 1 FROM users WHERE id = o.id AND deleted_at_ms IS NOT NULL)
           OR EXISTS (SELECT 1 FROM contacts WHERE state = 'blocked'
                        AND ((user_id = $1 AND peer_id = o.id) OR (user_id = o.id AND peer_id = $1)))`,
      [userId, others],
    );
    return rows.map((r) => r.id);
  }

  async list(userId: string, kind: ContactListKind, page: ContactPage): Promise<ContactEntry[]> {
    const { state, me, other } = LIST_SHAPE[kind];
    // Byte order ("C"), as in SQLite, so that `after` pages the same on both backends.
    const { rows } = await this.pool.query<EntryRow>(
      `SELECT c.${other} AS other_id, u.username, c.note, c.since_ms
         FROM contacts c JOIN users u ON u.id = c.${other}
        WHERE c.${me} = $1 AND c.state = $2 AND u.username COLLATE "C" > $3
        ORDER BY u.username COLLATE "C" LIMIT $4`,
      [userId, state, page.after ?? '', page.limit],
    );
    return rows.map(toEntry);
  }

  /** The pool belongs to openPostgresStores, which ends it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function write(client: pg.PoolClient, from: string, to: string, edge: Edge | null) {
  if (edge === null) {
    await client.query('DELETE FROM contacts WHERE user_id = $1 AND peer_id = $2', [from, to]);
    return;
  }
  await client.query(
    `INSERT INTO contacts (user_id, peer_id, state, note, since_ms) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, peer_id)
     DO UPDATE SET state = EXCLUDED.state, note = EXCLUDED.note, since_ms = EXCLUDED.since_ms`,
    [from, to, edge.state, edge.note, edge.sinceMs],
  );
}
