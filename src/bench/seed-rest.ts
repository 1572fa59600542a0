import { randomBytes } from 'node:crypto';
import { forEachLimit } from './pool.js';
import { BENCH_PASSWORD, type Seeded } from './seed-store.js';
import { BENCH_DEVICE, type BenchUser, type Plan } from './target.js';

// Sets up a plan on a running server through its public REST API (--url): registration costs an
// argon2 hash on the server each, so it goes a few at a time. Usernames carry a random run id so
// that runs against the same server do not collide.

const REGISTER_CONCURRENCY = 8;

async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function seedRest(baseUrl: string, plan: Plan): Promise<Seeded> {
  const runId = randomBytes(3).toString('hex');
  const users: BenchUser[] = new Array<BenchUser>(plan.users);
  await forEachLimit(
    Array.from({ length: plan.users }, (_, i) => i),
    REGISTER_CONCURRENCY,
    async (i) => {
      const username = `b${runId}-${i}`;
      const res = await postJson<{ token: string; user: { id: string } }>(
        `${baseUrl}/v1/auth/register`,
        { username, password: BENCH_PASSWORD, device: BENCH_DEVICE },
      );
      users[i] = { id: res.user.id, username, token: res.token, device: BENCH_DEVICE };
    },
  );
  const pairs = plan.pairs ? Math.floor(users.length / 2) : 0;
  const directs: string[] = new Array<string>(pairs);
  await forEachLimit(
    Array.from({ length: pairs }, (_, k) => k),
    REGISTER_CONCURRENCY * 2,
    async (k) => {
      const res = await postJson<{ id: string }>(
        `${baseUrl}/v1/conversations`,
        { kind: 'direct', with: users[2 * k + 1]!.username },
        users[2 * k]!.token,
      );
      directs[k] = res.id;
    },
  );
  let group: string | null = null;
  if (plan.groupMembers > 0) {
    const [owner, ...others] = users.slice(0, plan.groupMembers);
    if (!owner) throw new Error('a group needs users');
    const res = await postJson<{ id: string }>(
      `${baseUrl}/v1/conversations`,
      { kind: 'group', title: 'bench group', members: others.map((u) => u.username) },
      owner.token,
    );
    group = res.id;
  }
  return { users, directs, group };
}
