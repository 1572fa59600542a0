// What message search on SQLite does beyond the contract (messaging/store/search.contract.ts): the
// index is kept in the background by the thread that appends, the tokenizer folds diacritics,
// migration 11 indexes what was stored before it, and one page scans a bounded part of the index.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';

import { searchWords } from '../../messaging/store/index.js';
import type { AppendRequest, MessageStores } from '../../messaging/store/index.js';
import { migrate, openSqliteStores, type SqliteStores } from './index.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-search-'));
  file = join(dir, 'parley.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function open(appendThread: boolean): Promise<SqliteStores> {
  return openSqliteStores({
    file,
    appendThread,
    onAppendThreadError: (message) => assert.fail(`append thread: ${message}`),
    onSearchIndexError: (message) => assert.fail(message),
  });
}

/** Counts in the file, read on a connection of its own (not the stores'). */
function counts(): { queued: number; indexed: number } {
  const db = new Database(file, { readonly: true });
  try {
    const one = (sql: string) => db.prepare(sql).pluck().get() as number;
    return {
      queued: one('SELECT count(*) FROM search_queue'),
      indexed: one('SELECT count(*) FROM search_docs'),
    };
  } finally {
    db.close();
  }
}

/** Waits (up to 10 s) until nothing is queued for indexing; fails otherwise. */
async function drained(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (counts().queued === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the search queue did not drain: ${JSON.stringify(counts())}`);
}

async function appendAll(store: MessageStores, batch: AppendRequest[]): Promise<void> {
  for (let i = 0; i < batch.length; i += 1_000) {
    const results = await store.log.append(batch.slice(i, i + 1_000));
    assert.ok(results.every((r) => r.ok));
  }
}

const texts = (page: { messages: { body: { text?: string } }[] }) =>
  page.messages.map((m) => m.body.text);

for (const appendThread of [true, false]) {
  describe(`search indexing (${appendThread ? 'append thread' : 'event loop'})`, () => {
    it('indexes every send in the background, with no search to catch it up', async () => {
      const stores = await open(appendThread);
      try {
        const a = (await stores.auth.users.createUser('a', null)).id;
        const c = (await stores.auth.users.createUser('c', null)).id;
        const { conversation } = await stores.messages.conversations.openDirect(a, c);
        const batch = Array.from({ length: 600 }, (_, i) => ({
          conversationId: conversation.id,
          senderId: i % 2 ? a : c,
          device: 'd1',
          ref: `r${i}`,
          body: { kind: 'text', text: `message number ${i}` },
        }));
        await appendAll(stores.messages, batch);
        await stores.messages.log.append([
          {
            conversationId: conversation.id,
            senderId: a,
            device: 'd1',
            ref: 'sys',
            body: { kind: 'custom', type: 'x' },
          },
        ]);
        await drained();
        assert.deepEqual(
          counts(),
          { queued: 0, indexed: 600 },
          'a body without text is not queued',
        );
        assert.equal(stores.searchBacklog(), 0);
      } finally {
        await stores.close();
      }
    });
  });
}

describe('SQLite message search', () => {
  it('folds case and diacritics: "cafe" finds "Café", and "NAÏVE" finds "naive"', async () => {
    const stores = await open(false);
    try {
      const a = (await stores.auth.users.createUser('a', null)).id;
      const c = (await stores.auth.users.createUser('c', null)).id;
      const { conversation } = await stores.messages.conversations.openDirect(a, c);
      await appendAll(stores.messages, [
        {
          conversationId: conversation.id,
          senderId: a,
          device: 'd',
          ref: '1',
          body: { kind: 'text', text: 'Meet at the Café' },
        },
        {
          conversationId: conversation.id,
          senderId: a,
          device: 'd',
          ref: '2',
          body: { kind: 'text', text: 'a naive plan' },
        },
      ]);
      const find = (q: string) =>
        stores.messages.search.searchMessages({ viewerId: c, words: searchWords(q), limit: 10 });
      assert.deepEqual(texts(await find('cafe')), ['Meet at the Café']);
      assert.deepEqual(texts(await find('CAFÉ')), ['Meet at the Café']);
      assert.deepEqual(texts(await find('NAÏVE')), ['a naive plan']);
    } finally {
      await stores.close();
    }
  });

  it('migration 11 queues the messages stored before it, oldest first, and they are found', async () => {
    const db = new Database(file);
    migrate(
      db,
      SQLITE_MIGRATIONS.filter((m) => m.version <= 10),
    );
    db.exec(`
      INSERT INTO users (id, username, created_at_ms) VALUES ('ua', 'a', 1), ('uc', 'c', 1);
      INSERT INTO conversations (id, kind, name, created_at_ms, last_seq, last_at_us)
        VALUES ('c1', 'direct', 'direct:ua:uc', 1, 3, 30), ('c2', 'group', NULL, 1, 1, 25);
      INSERT INTO members (conversation_id, user_id, role, joined_seq, joined_at_ms) VALUES
        ('c1', 'ua', 'member', 0, 1), ('c1', 'uc', 'member', 0, 1),
        ('c2', 'ua', 'owner', 0, 1);
      INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us) VALUES
        ('c1', 1, 'm1', 'ua', 'd', 'r1', '{"kind":"text","text":"old news"}', 10),
        ('c1', 2, 'm2', 'uc', 'd', 'r2', '{"kind":"custom","type":"x"}', 20),
        ('c2', 1, 'm4', 'ua', 'd', 'r4', '{"kind":"text","text":"group news"}', 25),
        ('c1', 3, 'm3', 'ua', 'd', 'r3', '{"kind":"text","text":"newer news"}', 30);
    `);
    db.close();

    const stores = await open(false);
    try {
      // Read before the indexer's first turn: the three messages with text wait for it.
      assert.equal(stores.searchBacklog(), 3);
      const page = await stores.messages.search.searchMessages({
        viewerId: 'ua',
        words: searchWords('news'),
        limit: 10,
      });
      assert.deepEqual(texts(page), ['newer news', 'group news', 'old news']);
      assert.equal(stores.searchBacklog(), 0, 'the search indexed them first');
    } finally {
      await stores.close();
    }
  });

  it('scans a bounded part of the index per page, and returns what it found with a next', async () => {
    const stores = await open(true);
    try {
      const [a, c, x] = await Promise.all(
        ['a', 'c', 'x'].map((n) => stores.auth.users.createUser(n, null)),
      );
      const mine = (await stores.messages.conversations.openDirect(a!.id, x!.id)).conversation.id;
      const theirs = (await stores.messages.conversations.openDirect(a!.id, c!.id)).conversation.id;
      await appendAll(stores.messages, [
        {
          conversationId: mine,
          senderId: a!.id,
          device: 'd',
          ref: 'mine',
          body: { kind: 'text', text: 'needle for x' },
        },
      ]);
      // More matches than one page scans (5,000), all newer and none of them x's to read.
      await appendAll(
        stores.messages,
        Array.from({ length: 5_100 }, (_, i) => ({
          conversationId: theirs,
          senderId: a!.id,
          device: 'd',
          ref: `t${i}`,
          body: { kind: 'text', text: `needle ${i}` },
        })),
      );
      await drained();
      const words = searchWords('needle');
      const first = await stores.messages.search.searchMessages({
        viewerId: x!.id,
        words,
        limit: 10,
      });
      assert.deepEqual(first.messages, [], 'the budget ran out before any match of x');
      assert.ok(first.next, 'and the page says where to go on');
      const second = await stores.messages.search.searchMessages({
        viewerId: x!.id,
        words,
        limit: 10,
        before: first.next,
      });
      assert.deepEqual(texts(second), ['needle for x']);
      assert.equal(second.next, null);
    } finally {
      await stores.close();
    }
  });
});
