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
import { CHANGED_SEED_SQL, CHANGED_STAMPS } from '../../test-support/migration-9-fixture.js';

test('migration 9 stamps messages changed before it, and the changed lookup uses its index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
  const db = new Database(join(dir, 'parley.db'));
  try {
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version < 9),
    );
    db.exec(CHANGED_SEED_SQL);
    assert.deepEqual(
      migrate(
        db,
        SQLITE_MIGRATIONS.filter((m) => m.version <= 9),
      ),
      [9],
    );
    const stamps = db.prepare('SELECT seq, changed_us FROM messages ORDER BY seq').all() as {
      seq: number;
      changed_us: number | null;
    }[];
    assert.deepEqual(
      stamps.map((r) => r.changed_us),
      CHANGED_STAMPS,
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
