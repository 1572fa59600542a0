import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { hashToken } from '../auth/index.js';
import type { AuthStores } from '../auth/index.js';
import type { MessageStores } from '../messaging/store/index.js';
import { openPostgresStores } from '../storage/postgres/index.js';
import { openSqliteStores } from '../storage/sqlite/index.js';
import { BENCH_DEVICE, type BenchUser, type Plan } from './target.js';

// Fills a fresh store before its server starts: users (all sharing one argon2 hash, so 2,000 users
// take well under a second instead of a minute), a session token each, and the plan's
// conversations. The embedded server's SQLite file, or a cluster's PostgreSQL database (migrated
// here first); the server is started on it only after it is closed here.

export const BENCH_PASSWORD = 'bench-password-not-secret';

export interface Seeded {
  readonly users: BenchUser[];
  readonly directs: string[];
  readonly group: string | null;
}

interface Stores {
  readonly auth: AuthStores;
  readonly messages: MessageStores;
  close(): Promise<void> | void;
}

/** Seeds the embedded server's SQLite file. */
export async function seedStore(file: string, plan: Plan): Promise<Seeded> {
  return seedInto(await openSqliteStores({ file }), plan);
}

/** Seeds a cluster's PostgreSQL database. */
export async function seedPostgres(url: string, plan: Plan): Promise<Seeded> {
  return seedInto(await openPostgresStores({ url }), plan);
}

async function seedInto(stores: Stores, plan: Plan): Promise<Seeded> {
  try {
    const hash = await argon2.hash(BENCH_PASSWORD);
    const users: BenchUser[] = [];
    for (let i = 0; i < plan.users; i++) {
      const user = await stores.auth.users.createUser(`bench${i}`, hash);
      const token = 'pt_' + randomBytes(32).toString('base64url');
      await stores.auth.sessions.putSession(hashToken(token), user.id, BENCH_DEVICE);
      users.push({ id: user.id, username: user.username, token, device: BENCH_DEVICE });
    }
    const directs: string[] = [];
    if (plan.pairs) {
      for (let k = 0; k + 1 < users.length; k += 2) {
        const { conversation } = await stores.messages.conversations.openDirect(
          users[k]!.id,
          users[k + 1]!.id,
        );
        directs.push(conversation.id);
      }
    }
    let group: string | null = null;
    if (plan.groupMembers > 0) {
      const [owner, ...others] = users.slice(0, plan.groupMembers);
      if (!owner) throw new Error('a group needs users');
      const conversation = await stores.messages.groups.createGroup({
        title: 'bench group',
        ownerId: owner.id,
        memberIds: others.map((u) => u.id),
      });
      group = conversation.id;
    }
    return { users, directs, group };
  } finally {
    await stores.close();
  }
}
