// Proves that the rows a new message adds beside itself (SqliteMessaging.writeSideRows, since
// migration 16) are those the insert triggers it replaced wrote: the same mention rows, and a
// search-queue entry for every message the indexer finds text in. Each body is inserted once into
// a database at migration 15 (the triggers) and once at the latest (the insert's own code).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { systemClock } from '../../core/clock.js';
import { searchableText, type MessageBody } from '../../messaging/store/index.js';
import { migrate } from './database.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteMessaging } from './sqlite-messaging.js';

const BODIES: readonly MessageBody[] = [
  { kind: 'text', text: 'plain' },
  { kind: 'text', text: 'to two', mentions: ['u1', 'u2'] },
  { kind: 'text', text: 'to all', mentions: 'all' },
  { kind: 'image', url: 'https://x/y.png', caption: 'a caption' },
  { kind: 'image', url: 'https://x/z.png' },
  { kind: 'file', url: 'https://x/f', name: 'budget.xlsx' },
  { kind: 'location', lat: 1, lon: 2, label: '' },
  { kind: 'custom', type: 'poll', data: { text: 'nested, not searched' } },
  { kind: 'system', event: 'renamed', title: 'new name' },
];

interface SideRows {
  queued: number[];
  mentions: string[];
}

function sideRows(db: Database.Database): SideRows {
  const queued = db.prepare('SELECT seq FROM search_queue ORDER BY id').pluck().all() as number[];
  const mentions = db
    .prepare("SELECT seq || ':' || user_id FROM mentions ORDER BY seq, user_id")
    .pluck()
    .all() as string[];
  return { queued, mentions };
}

function insertAll(db: Database.Database, after?: (seq: number, body: MessageBody) => void): void {
  db.exec(`
    INSERT INTO users (id, username, created_at_ms) VALUES ('u1', 'a', 1), ('u2', 'b', 1);
    INSERT INTO conversations (id, kind, name, created_at_ms) VALUES ('c1', 'group', NULL, 1);
  `);
  const insert = db.prepare(
    `INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us)
     VALUES ('c1', ?, ?, 'u1', 'd', ?, ?, ?)`,
  );
  BODIES.forEach((body, i) => {
    const seq = i + 1;
    insert.run(seq, `m${seq}`, `r${seq}`, JSON.stringify(body), seq * 10);
    after?.(seq, body);
  });
}

test('a new message writes the mention and search-queue rows the insert triggers wrote', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-side-rows-'));
  const byTriggers = new Database(join(dir, 'v15.db'));
  const byInsert = new Database(join(dir, 'latest.db'));
  try {
    migrate(
      byTriggers,
      SQLITE_MIGRATIONS.filter((m) => m.version <= 15),
    );
    insertAll(byTriggers);
    migrate(byInsert, SQLITE_MIGRATIONS);
    const m = new SqliteMessaging(byInsert, systemClock);
    insertAll(byInsert, (seq, body) => m.writeSideRows('c1', seq, body));

    const old = sideRows(byTriggers);
    const now = sideRows(byInsert);
    assert.deepEqual(now.mentions, old.mentions);
    assert.deepEqual(now.mentions, ['2:u1', '2:u2', '3:*']);
    // The triggers queued by a substring test, so also bodies the indexer then found no text in;
    // the insert queues exactly the ones it finds text in.
    const withText = BODIES.flatMap((b, i) => (searchableText(b) !== '' ? [i + 1] : []));
    assert.deepEqual(now.queued, withText);
    assert.deepEqual(
      old.queued.filter((seq) => withText.includes(seq)),
      withText,
    );
  } finally {
    byTriggers.close();
    byInsert.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migration 16 leaves no insert trigger on messages, and keeps the update ones', () => {
  const db = new Database(':memory:');
  try {
    migrate(db, SQLITE_MIGRATIONS);
    const triggers = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'")
      .pluck()
      .all();
    assert.deepEqual([...triggers].sort(), ['mentions_on_update', 'search_on_update']);
  } finally {
    db.close();
  }
});
