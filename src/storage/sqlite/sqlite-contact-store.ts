import type { Statement } from 'better-sqlite3';
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
import { settle, type SqliteDb } from './database.js';

/** The embedded ContactStore. SQLite serializes write transactions, which makes setPair atomic. */
export class SqliteContactStore implements ContactStore {
  private readonly db: SqliteDb;
  private readonly edge: Statement;
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly blocked: Statement;
  private readonly barred: Statement;
  private readonly lists: Record<ContactListKind, Statement>;

  constructor(db: SqliteDb) {
    this.db = db;
    this.edge = db.prepare('SELECT * FROM contacts WHERE user_id = ? AND peer_id = ?');
    this.upsert = db.prepare(
      `INSERT INTO contacts (user_id, peer_id, state, note, since_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, peer_id)
       DO UPDATE SET state = excluded.state, note = excluded.note, since_ms = excluded.since_ms`,
    );
    this.remove = db.prepare('DELETE FROM contacts WHERE user_id = ? AND peer_id = ?');
    this.blocked = db
      .prepare(
        `SELECT CASE
           WHEN EXISTS (SELECT 1 FROM contacts WHERE state = 'blocked'
                          AND ((user_id = @a AND peer_id = @b) OR (user_id = @b AND peer_id = @a)))
             THEN 'blocked'
           WHEN EXISTS (SELECT 1 FROM users WHERE id IN (@a, @b) AND deleted_at_ms IS NOT NULL)
             THEN 'deleted'
         END`,
      )
      .pluck();
    // Blocks either way and deleted accounts among the others; all of them if `me` was deleted.
    this.barred = db
      .prepare(
        `WITH others(id) AS (SELECT DISTINCT value FROM json_each(@ids))
         SELECT o.id FROM others o
          WHERE EXISTS (SELECT 1 FROM users WHERE id = @me AND deleted_at_ms IS NOT NULL)
             OR EXISTS (SELECT 1 FROM users WHERE id = o.id AND deleted_at_ms IS NOT NULL)
             OR EXISTS (SELECT 1 FROM contacts WHERE state = 'blocked'
                          AND ((user_id = @me AND peer_id = o.id)
                            OR (user_id = o.id AND peer_id = @me)))`,
      )
      .pluck();
    const list = (kind: ContactListKind) => {
      const { state, me, other } = LIST_SHAPE[kind];
      return db.prepare(
        `SELECT c.${other} AS other_id, u.username, c.note, c.since_ms
           FROM contacts c JOIN users u ON u.id = c.${other}
          WHERE c.${me} = ? AND c.state = '${state}' AND u.username > ?
          ORDER BY u.username LIMIT ?`,
      );
    };
    this.lists = {
      contacts: list('contacts'),
      incoming: list('incoming'),
      outgoing: list('outgoing'),
      blocked: list('blocked'),
    };
  }

  pair(a: string, b: string): Promise<Pair> {
    return settle(() => this.db.transaction(() => this.read(a, b))());
  }

  setPair(a: string, b: string, expected: PairStates, next: Pair): Promise<boolean> {
    return settle(() =>
      this.db
        .transaction(() => {
          const now = this.read(a, b);
          if ((now.ab?.state ?? null) !== expected.ab || (now.ba?.state ?? null) !== expected.ba) {
            return false;
          }
          this.write(a, b, next.ab);
          this.write(b, a, next.ba);
          return true;
        })
        .immediate(),
    );
  }

  directBar(a: string, b: string): Promise<DirectBar> {
    return settle(() => (this.blocked.get({ a, b }) as DirectBar | undefined) ?? null);
  }

  barredAmong(userId: string, others: readonly string[]): Promise<string[]> {
    return settle(() => {
      if (others.length === 0) return [];
      const ids = JSON.stringify(others);
      return this.barred.all({ me: userId, ids }) as string[];
    });
  }

  list(userId: string, kind: ContactListKind, page: ContactPage): Promise<ContactEntry[]> {
    return settle(() =>
      (this.lists[kind].all(userId, page.after ?? '', page.limit) as EntryRow[]).map(toEntry),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private read(a: string, b: string): Pair {
    const ab = this.edge.get(a, b) as EdgeRow | undefined;
    const ba = this.edge.get(b, a) as EdgeRow | undefined;
    return { ab: ab ? toEdge(ab) : null, ba: ba ? toEdge(ba) : null };
  }

  private write(from: string, to: string, edge: Edge | null): void {
    if (edge === null) this.remove.run(from, to);
    else this.upsert.run(from, to, edge.state, edge.note, edge.sinceMs);
  }
}
