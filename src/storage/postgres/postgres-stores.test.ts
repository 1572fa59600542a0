// Proves that the PostgreSQL backend, on a real server, meets the AuthStores, MessageStores, ContactStore and ProfileStore contracts and keeps seqs gap-free when several nodes append to one conversation at once; and that migration 9 stamps the messages changed before it, and migration 11 takes a search index built beforehand.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';

import { runAuthStoreContract } from '../../auth/auth-store.contract.js';
import { runMessagingContracts } from '../../messaging/store/index.contract.js';
import type { StoreBundle } from '../../messaging/store/index.contract.js';
import { runContactStoreContract } from '../../contacts/contact-store.contract.js';
import type { ContactStoreBundle } from '../../contacts/contact-store.contract.js';
import { runProfileStoreContract } from '../../users/profile-store.contract.js';
import type { ProfileStoreBundle } from '../../users/profile-store.contract.js';
import type { StoredMessage } from '../../messaging/model.js';
import type { AppendResult } from '../../messaging/store/index.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../../engines/index.js';
import { runPusherStoreContract } from '../../push/pusher-store.contract.js';
import type { PusherStoreBundle } from '../../push/pusher-store.contract.js';
import { runSessionEndsContract } from '../../auth/session-ends.contract.js';
import type { SessionEndsBundle } from '../../auth/session-ends.contract.js';
import { openPostgresStores, type PostgresStores } from './index.js';
import { migrate, POSTGRES_MIGRATIONS, SEARCH_DOCUMENT } from './migrations.js';
import { CHANGED_SEED_SQL, CHANGED_STAMPS } from '../../test-support/migration-9-fixture.js';
import pgDriver from 'pg';

const { Pool } = pgDriver;

const NODES = 3;
const MESSAGES_PER_NODE = 1000;
const NODE_SCRIPT = fileURLToPath(new URL('./append-node.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 60_000;

describe('PostgreSQL stores', { skip: postgresSkipReason() ?? false }, () => {
  let server: TestPostgres | undefined;

  before(
    async () => {
      server = await startPostgres();
    },
    { timeout: 90_000 },
  );

  after(async () => {
    await server?.stop();
  });

  function pg(): TestPostgres {
    assert.ok(server, 'PostgreSQL started');
    return server;
  }

  /** A fresh database per bundle, dropped again on close. */
  async function open(): Promise<
    StoreBundle & ContactStoreBundle & ProfileStoreBundle & PusherStoreBundle & SessionEndsBundle
  > {
    const url = await pg().createDatabase();
    const stores = await openPostgresStores({ url });
    return {
      auth: stores.auth,
      messages: stores.messages,
      contacts: stores.contacts,
      profiles: stores.profiles,
      pushers: stores.pushers,
      sessionEnds: stores.sessionEnds,
      async close() {
        try {
          await stores.close();
        } finally {
          await pg().dropDatabase(url);
        }
      },
    };
  }

  runAuthStoreContract({ open });
  runMessagingContracts({ open });
  runContactStoreContract({ open });
  runProfileStoreContract({ open });
  runPusherStoreContract({ open });
  runSessionEndsContract({ open });

  it('migration 9 stamps messages changed before it: the latest edit, recall or reaction', async () => {
    const url = await pg().createDatabase();
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      await migrate(
        pool,
        POSTGRES_MIGRATIONS.filter((m) => m.version < 9),
      );
      await pool.query(CHANGED_SEED_SQL);
      assert.deepEqual(
        await migrate(
          pool,
          POSTGRES_MIGRATIONS.filter((m) => m.version <= 9),
        ),
        [9],
      );
      const { rows } = await pool.query<{ changed_us: string | null }>(
        'SELECT changed_us FROM messages ORDER BY seq',
      );
      assert.deepEqual(
        rows.map((r) => (r.changed_us === null ? null : Number(r.changed_us))),
        CHANGED_STAMPS,
      );
    } finally {
      await pool.end();
      await pg().dropDatabase(url);
    }
  });

  it('migration 16 drops the foreign keys of messages and keeps the messages stored before it', async () => {
    const url = await pg().createDatabase();
    const pool = new Pool({ connectionString: url, max: 2 });
    const keys = async () =>
      (
        await pool.query<{ conname: string }>(
          `SELECT conname FROM pg_constraint
            WHERE conrelid = 'messages'::regclass AND contype = 'f' ORDER BY conname`,
        )
      ).rows.map((r) => r.conname);
    try {
      await migrate(
        pool,
        POSTGRES_MIGRATIONS.filter((m) => m.version < 16),
      );
      await pool.query(CHANGED_SEED_SQL);
      assert.deepEqual(await keys(), ['messages_conversation_id_fkey', 'messages_sender_id_fkey']);
      assert.deepEqual(
        await migrate(
          pool,
          POSTGRES_MIGRATIONS.filter((m) => m.version <= 16),
        ),
        [16],
      );
      assert.deepEqual(await keys(), []);
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM messages');
      assert.equal(Number(rows[0]?.n), CHANGED_STAMPS.length);
    } finally {
      await pool.end();
      await pg().dropDatabase(url);
    }
  });

  it('migration 11 takes the search index an operator built beforehand, as operations.md says', async () => {
    const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const statement =
      /```sql\n(CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_search[^`]*)```/.exec(doc)?.[1];
    assert.ok(statement, 'operations.md shows the statement');
    assert.ok(statement.includes(SEARCH_DOCUMENT), 'with the expression searches use');
    const url = await pg().createDatabase();
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      await migrate(
        pool,
        POSTGRES_MIGRATIONS.filter((m) => m.version < 11),
      );
      await pool.query(statement); // CONCURRENTLY: outside any transaction, as an operator runs it
      assert.deepEqual(
        await migrate(
          pool,
          POSTGRES_MIGRATIONS.filter((m) => m.version <= 11),
        ),
        [11],
      );
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'messages_search'",
      );
      assert.equal(Number(rows[0]?.n), 1, 'one index, not two');
    } finally {
      await pool.end();
      await pg().dropDatabase(url);
    }
  });

  describe('across nodes', () => {
    const opened: PostgresStores[] = [];
    const children: ChildProcess[] = [];

    afterEach(async () => {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    async function node(url: string): Promise<PostgresStores> {
      const stores = await openPostgresStores({ url });
      opened.push(stores);
      return stores;
    }

    it('migrates once when three nodes open a fresh database at the same time', async () => {
      const url = await pg().createDatabase();
      const nodes = await Promise.all([node(url), node(url), node(url)]);
      assert.equal(nodes.length, 3);
      const check = await node(url);
      const user = await check.auth.users.createUser('after-migration', null);
      assert.equal((await check.auth.users.getUsers([user.id])).length, 1);
    });

    it('keeps seq 1..3000 gap-free when 3 node processes append 3,000 messages into one conversation at once', async () => {
      const url = await pg().createDatabase();
      const setup = await node(url);
      const senders = await setup.auth.users.ensureUsers(['n0', 'n1', 'n2']);
      const [owner, ...others] = senders.map((u) => u.id);
      assert.ok(owner);
      const conv = await setup.messages.groups.createGroup({
        title: 'load',
        ownerId: owner,
        memberIds: others,
      });

      const runs = senders.map((sender, i) => startNode(url, conv.id, sender.id, `node${i}`));
      children.push(...runs.map((r) => r.child));
      await Promise.all(runs.map((r) => r.ready));
      for (const r of runs) r.child.stdin?.write('go\n');
      const perNode = await Promise.all(runs.map((r) => r.done));

      const given = perNode.flat();
      assert.equal(given.length, NODES * MESSAGES_PER_NODE);
      assert.equal(new Set(given).size, given.length, 'no seq handed out twice');
      assert.deepEqual(
        [...given].sort((a, b) => a - b),
        range(1, NODES * MESSAGES_PER_NODE),
      );

      const stored = await readAll(setup, conv.id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        range(1, NODES * MESSAGES_PER_NODE),
      );
      for (let i = 1; i < stored.length; i++) {
        assert.ok((stored[i]?.atUs ?? 0) > (stored[i - 1]?.atUs ?? 0), 'atUs increases with seq');
      }
      assert.equal((await setup.messages.conversations.getConversation(conv.id))?.lastSeq, 3000);
      for (const sender of senders) {
        const mine = stored.filter((m) => m.senderId === sender.id);
        assert.equal(mine.length, MESSAGES_PER_NODE);
        const member = await setup.messages.members.getMember(conv.id, sender.id);
        assert.equal(member?.readSeq, mine.at(-1)?.seq, 'own messages are read');
      }
    });

    it('lets exactly one of two nodes racing one ref into two conversations store it', async () => {
      const url = await pg().createDatabase();
      const [n1, n2] = [await node(url), await node(url)];
      const [user] = await n1.auth.users.ensureUsers(['racer']);
      assert.ok(user);
      const c1 = await n1.messages.groups.createGroup({
        title: 'one',
        ownerId: user.id,
        memberIds: [],
      });
      const c2 = await n1.messages.groups.createGroup({
        title: 'two',
        ownerId: user.id,
        memberIds: [],
      });

      const rounds = 30;
      for (let i = 0; i < rounds; i++) {
        const send = (store: PostgresStores, conversationId: string): Promise<AppendResult[]> =>
          store.messages.log.append([
            {
              conversationId,
              senderId: user.id,
              device: 'd',
              ref: `race-${i}`,
              body: { kind: 'text', text: `${i}` },
            },
          ]);
        const [[r1], [r2]] = await Promise.all([send(n1, c1.id), send(n2, c2.id)]);
        assert.ok(r1 && r2);
        assert.equal([r1, r2].filter((r) => r.ok).length, 1, `round ${i}: one winner`);
        const loser = r1.ok ? r2 : r1;
        assert.ok(!loser.ok && loser.error.code === 'ref_reused', `round ${i}: ref_reused`);
      }
      const last1 = (await n1.messages.conversations.getConversation(c1.id))?.lastSeq ?? -1;
      const last2 = (await n1.messages.conversations.getConversation(c2.id))?.lastSeq ?? -1;
      assert.equal(last1 + last2, rounds);
      assert.deepEqual(
        (await readAll(n1, c1.id)).map((m) => m.seq),
        range(1, last1),
      );
      assert.deepEqual(
        (await readAll(n1, c2.id)).map((m) => m.seq),
        range(1, last2),
      );
    });
  });
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

async function readAll(stores: PostgresStores, conversationId: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  for (let after = 0; ;) {
    const page = await stores.messages.log.pageBySeq(conversationId, { after, limit: 500 });
    out.push(...page.messages);
    const last = page.messages.at(-1);
    if (!page.hasMore || !last) return out;
    after = last.seq;
  }
}

/** Spawns one append-node.ts process; `ready` once its pool is up, `done` with its seqs. */
function startNode(
  url: string,
  conversationId: string,
  senderId: string,
  name: string,
): { child: ChildProcess; ready: Promise<void>; done: Promise<number[]> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      NODE_SCRIPT,
      url,
      conversationId,
      senderId,
      name,
      String(MESSAGES_PER_NODE),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${name} exited with ${code ?? signal}: ${stderr}`));
    });
  });
  let seqs: number[] | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
      else seqs = (JSON.parse(line) as { seqs: number[] }).seqs;
    });
    exited.then(() => reject(new Error(`${name} exited before ready`)), reject);
  });
  const done = exited.then(() => {
    if (!seqs) throw new Error(`${name} printed no result`);
    return seqs;
  });
  // A test that fails on `ready` never awaits `done`; its rejection is already reported there.
  done.catch(() => undefined);
  return { child, ready, done };
}
