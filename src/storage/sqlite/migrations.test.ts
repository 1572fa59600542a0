// Proves that SQLite migration 9 (changed messages) stamps what changed before it: a message
// edited, recalled or reacted to gets the time of its latest such change, a plain one stays NULL,
// and the sync's lookup of changed messages runs on the new partial index.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate } from './database.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

test('migration 9 stamps messages changed before it, and the changed lookup uses its index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
  const db = new Database(join(dir, 'parley.db'));
  try {
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version < 9),
    );
    db.exec(`
      INSERT INTO users (id, username, created_at_ms) VALUES ('u1', 'ann', 1);
      INSERT INTO conversations (id, kind, created_at_ms) VALUES ('c1', 'group', 1);
      INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us,
                            edited_at_us, recalled_at_us)
      VALUES ('c1', 1, 'm1', 'u1', 'd', 'r1', '{}', 100, NULL, NULL),
             ('c1', 2, 'm2', 'u1', 'd', 'r2', '{}', 200, 250, NULL),
             ('c1', 3, 'm3', 'u1', 'd', 'r3', '{}', 300, 310, 320),
             ('c1', 4, 'm4', 'u1', 'd', 'r4', '{}', 400, 450, NULL);
      INSERT INTO reactions (conversation_id, seq, user_id, emoji, at_us)
      VALUES ('c1', 4, 'u1', 'a', 430), ('c1', 4, 'u1', 'b', 470), ('c1', 1, 'u1', 'a', 150);
    `);
    assert.deepEqual(migrate(db, SQLITE_MIGRATIONS), [9]);
    const stamps = db.prepare('SELECT seq, changed_us FROM messages ORDER BY seq').all() as {
      seq: number;
      changed_us: number | null;
    }[];
    assert.deepEqual(
      stamps.map((r) => r.changed_us),
      [150, 250, 320, 470],
      'the latest of edit, recall and reactions',
    );
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT seq FROM messages
          WHERE conversation_id = ? AND changed_us > ? AND seq > ? AND seq < ?`,
      )
      .all('c1', 0, 0, 99) as { detail: string }[];
    assert.match(plan.map((p) => p.detail).join('\n'), /messages_changed/);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
