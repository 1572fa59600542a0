// Proves the permission matrix of the message actions (edit, recall by sender and by admins, reactions, delete for me) for owner, admin, member, removed member, blocked user and stranger in a group, through both the REST API and the real-time protocol: each action answers as docs/messages.md says, and a refusal changes nothing that the owner or the actor can see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { callAs, ok, registerUser, type Res, type TestUser as User } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';

let server: TestServer;
let n = 0;

before(async () => {
  server = await startTestServer({ PARLEY_TCP_PORT: '0' });
});

after(async () => {
  await server.close();
});

const call = (method: string, path: string, u: User, body?: unknown): Promise<Res> =>
  callAs(server.url, method, path, u, body);

const user = (prefix: string): Promise<User> => registerUser(server.url, `${prefix}${++n}`);

type Role = 'owner' | 'admin' | 'member' | 'removed' | 'blocked' | 'stranger';
const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'removed', 'blocked', 'stranger'];

/**
 * A group with one user per role and a plain member `x`. Everyone but the stranger sent one
 * text message and reacted 👍 to x's; then `removed` was removed, and the owner and x blocked
 * `blocked` (blocks concern direct conversations: in a group it acts as the member it is).
 */
async function cast() {
  const [owner, admin, member, removed, blocked, stranger, x] = await Promise.all([
    user('o'),
    user('a'),
    user('m'),
    user('r'),
    user('b'),
    user('s'),
    user('x'),
  ]);
  const id = (
    await ok(
      call('POST', '/v1/conversations', owner, {
        kind: 'group',
        title: 'Team',
        members: [admin, member, removed, blocked, x].map((u) => u.username),
      }),
      201,
    )
  ).id as string;
  await ok(
    call('PATCH', `/v1/conversations/${id}/members/${admin.userId}`, owner, { role: 'admin' }),
  );
  const send = async (u: User) =>
    (
      await ok(
        call('POST', `/v1/conversations/${id}/messages`, u, {
          ref: `r${++n}`,
          body: { kind: 'text', text: `from ${u.username}` },
        }),
        201,
      )
    ).seq as number;
  const byX = await send(x);
  const own: Partial<Record<Role, number>> = {};
  for (const role of ['owner', 'admin', 'member', 'blocked', 'removed'] as const) {
    const u = { owner, admin, member, blocked, removed }[role];
    own[role] = await send(u);
    await ok(call('POST', `/v1/conversations/${id}/messages/${byX}/reactions`, u, { emoji: '👍' }));
  }
  await ok(call('DELETE', `/v1/conversations/${id}/members/${removed.userId}`, owner));
  for (const blocker of [owner, x]) {
    await ok(call('POST', `/v1/contacts/${blocked.username}/block`, blocker));
  }
  const by: Record<Role, User> = { owner, admin, member, removed, blocked, stranger };
  /** The actor's own message; a stranger has none and aims at x's. */
  const mine = (role: Role): number => own[role] ?? byX;
  return { id, by, owner, x, byX, mine, own };
}

type Cast = Awaited<ReturnType<typeof cast>>;

const history = async (u: User, id: string): Promise<any[] | number> => {
  const res = await call('GET', `/v1/conversations/${id}/messages?after=0&limit=100`, u);
  return res.status === 200 ? (res.json.messages as any[]) : res.status;
};

/** What the owner sees, and what the actor sees (delete for me changes only the latter). */
async function snapshot(g: Cast, actor: User) {
  return { owner: await history(g.owner, g.id), actor: await history(actor, g.id) };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const at = (view: any[] | number, seq: number): any => {
  assert.ok(Array.isArray(view), 'readable');
  return view.find((m) => m.seq === seq);
};

/** One action as both interfaces perform it. */
interface Action {
  readonly name: string;
  readonly target: (g: Cast, role: Role) => number;
  readonly http: (u: User, g: Cast, seq: number) => Promise<Res>;
  readonly frame: (g: Cast, seq: number) => { type: string; [key: string]: unknown };
  /** The reply frame type of a success. */
  readonly reply: string;
  readonly expect: Record<Role, 'ok' | readonly [number, string]>;
  /** Checks what a success changed. */
  readonly verify: (before: Snapshot, after: Snapshot, seq: number, role: Role) => void;
}

const FORBIDDEN = [403, 'forbidden'] as const;
const NOT_MEMBER = [403, 'not_member'] as const;
const MEMBERS = {
  owner: 'ok',
  admin: 'ok',
  member: 'ok',
  removed: NOT_MEMBER,
  blocked: 'ok',
  stranger: NOT_MEMBER,
} as const;
const msgPath = (g: Cast, seq: number) => `/v1/conversations/${g.id}/messages/${seq}`;
const EDIT = { kind: 'text', text: 'edited' };

const recalledNow = (_b: Snapshot, a: Snapshot, seq: number) => {
  assert.deepEqual(at(a.owner, seq).body, { kind: 'recalled' });
  assert.equal(at(a.owner, seq).reactions, undefined);
};

const ACTIONS: readonly Action[] = [
  {
    name: 'edit its own message',
    target: (g, role) => g.mine(role),
    http: (u, g, seq) => call('PATCH', msgPath(g, seq), u, { body: EDIT }),
    frame: (g, seq) => ({ type: 'edit', conversation: g.id, seq, body: EDIT }),
    reply: 'edited',
    expect: MEMBERS,
    verify: (_b, a, seq) => {
      assert.deepEqual(at(a.owner, seq).body, EDIT);
      assert.equal(typeof at(a.owner, seq).editedAt, 'number');
    },
  },
  {
    name: "edit x's message",
    target: (g) => g.byX,
    http: (u, g, seq) => call('PATCH', msgPath(g, seq), u, { body: EDIT }),
    frame: (g, seq) => ({ type: 'edit', conversation: g.id, seq, body: EDIT }),
    reply: 'edited',
    expect: {
      ...MEMBERS,
      owner: FORBIDDEN,
      admin: FORBIDDEN,
      member: FORBIDDEN,
      blocked: FORBIDDEN,
    },
    verify: () => assert.fail('nobody may edit another’s message'),
  },
  {
    name: 'recall its own message',
    target: (g, role) => g.mine(role),
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/recall`, u),
    frame: (g, seq) => ({ type: 'recall', conversation: g.id, seq }),
    reply: 'recalled',
    expect: MEMBERS,
    verify: recalledNow,
  },
  {
    name: "recall x's message",
    target: (g) => g.byX,
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/recall`, u),
    frame: (g, seq) => ({ type: 'recall', conversation: g.id, seq }),
    reply: 'recalled',
    expect: { ...MEMBERS, member: FORBIDDEN, blocked: FORBIDDEN },
    verify: recalledNow,
  },
  {
    name: "recall the owner's message",
    target: (g) => g.own.owner!,
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/recall`, u),
    frame: (g, seq) => ({ type: 'recall', conversation: g.id, seq }),
    reply: 'recalled',
    expect: { ...MEMBERS, admin: FORBIDDEN, member: FORBIDDEN, blocked: FORBIDDEN },
    verify: recalledNow,
  },
  {
    name: "recall the admin's message",
    target: (g) => g.own.admin!,
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/recall`, u),
    frame: (g, seq) => ({ type: 'recall', conversation: g.id, seq }),
    reply: 'recalled',
    expect: { ...MEMBERS, member: FORBIDDEN, blocked: FORBIDDEN },
    verify: recalledNow,
  },
  {
    name: 'react to a message',
    target: (g) => g.byX,
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/reactions`, u, { emoji: '🎉' }),
    frame: (g, seq) => ({ type: 'react', conversation: g.id, seq, emoji: '🎉' }),
    reply: 'reaction',
    expect: MEMBERS,
    verify: (_b, a, seq, role) => {
      const party = at(a.owner, seq).reactions.find((r: any) => r.emoji === '🎉');
      assert.deepEqual(party, { emoji: '🎉', count: 1, me: role === 'owner' });
    },
  },
  {
    name: 'remove its own reaction',
    target: (g) => g.byX,
    http: (u, g, seq) => call('DELETE', `${msgPath(g, seq)}/reactions?emoji=%F0%9F%91%8D`, u),
    frame: (g, seq) => ({ type: 'react', conversation: g.id, seq, emoji: '👍', remove: true }),
    reply: 'reaction',
    expect: MEMBERS,
    verify: (b, a, seq) => {
      const count = (s: Snapshot) =>
        at(s.owner, seq).reactions.find((r: any) => r.emoji === '👍').count as number;
      assert.equal(count(a), count(b) - 1);
    },
  },
  {
    name: 'delete a message for itself',
    target: (g) => g.byX,
    http: (u, g, seq) => call('POST', `${msgPath(g, seq)}/hide`, u),
    frame: (g, seq) => ({ type: 'hide', conversation: g.id, seq }),
    reply: 'hidden',
    // A former member may hide what it can still read.
    expect: { ...MEMBERS, removed: 'ok' },
    verify: (b, a, seq, role) => {
      assert.deepEqual(at(a.actor, seq).body, { kind: 'hidden' });
      assert.equal(at(a.actor, seq).hidden, true);
      if (role !== 'owner') assert.deepEqual(a.owner, b.owner, 'nobody else is affected');
    },
  },
];

for (const via of ['http', 'real-time'] as const) {
  describe(`message action matrix over ${via === 'http' ? 'HTTP' : 'the real-time protocol'}`, () => {
    for (const action of ACTIONS) {
      for (const role of ROLES) {
        const expected = action.expect[role];
        const outcome = expected === 'ok' ? 'succeeds' : `is refused with ${expected[1]}`;
        it(`${action.name} by the ${role} ${outcome}`, async () => {
          const g = await cast();
          const actor = g.by[role];
          const seq = action.target(g, role);
          const before = await snapshot(g, actor);
          let code: string | null;
          if (via === 'http') {
            const res = await action.http(actor, g, seq);
            code = res.status === 200 ? null : (res.json?.error?.code as string);
            if (expected !== 'ok') assert.equal(res.status, expected[0], res.text);
          } else {
            const rt = await RtClient.connect(server, 'ws-json', actor.token, actor.device);
            try {
              const res = await rt.request(action.frame(g, seq));
              code = res.type === 'error' ? (res.code as string) : null;
              if (code === null) assert.equal(res.type, action.reply);
            } finally {
              rt.drop();
            }
          }
          const afterSnap = await snapshot(g, actor);
          if (expected === 'ok') {
            assert.equal(code, null, `expected success, got ${code}`);
            action.verify(before, afterSnap, seq, role);
          } else {
            assert.equal(code, expected[1]);
            assert.deepEqual(afterSnap, before, 'a refusal changes nothing');
          }
        });
      }
    }
  });
}
