// Proves over real sockets the permission matrix of docs/groups.md: every group action (avatar and invite codes included) for owner, admin, member, removed member, blocked user and stranger, each success recording its system message and each refusal changing nothing, and how far each of them may read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, ok, type Res, type TestUser as User } from '../test-support/rest.js';
import {
  groupsApi,
  groupsServer,
  ROLES,
  type Cast,
  type Role,
  type Snapshot,
} from '../test-support/groups-api.js';

const server = groupsServer();
const { call, api, snapshot, cast, uploadImage } = groupsApi(server);

interface Action {
  readonly name: string;
  /** The system event a success records; absent for a plain send. */
  readonly event?: string | ((role: Role) => string);
  readonly run: (actor: User, g: Cast) => Promise<Res>;
  /** Status and code per role; `ok` is the success status. */
  readonly expect: Record<Role, 'ok' | readonly [number, string]>;
  /**
   * For actions that store no message (invite codes): checks a success instead of the system
   * message, given the snapshots before and after.
   */
  readonly verify?: (res: Res, g: Cast, before: Snapshot, after: Snapshot) => void;
}

const FORBIDDEN = [403, 'forbidden'] as const;
const NOT_MEMBER = [403, 'not_member'] as const;
const ADMINS = {
  owner: 'ok',
  admin: 'ok',
  member: FORBIDDEN,
  removed: NOT_MEMBER,
  blocked: FORBIDDEN,
  stranger: NOT_MEMBER,
} as const;
const OWNER = { ...ADMINS, admin: FORBIDDEN } as const;
const ALREADY = [409, 'already_member'] as const;

const ACTIONS: readonly Action[] = [
  {
    name: 'add a member',
    event: 'member.added',
    run: (u, g) => api.add(u, g.id, [g.n]),
    expect: ADMINS,
  },
  {
    name: 'remove a member',
    event: 'member.removed',
    run: (u, g) => api.remove(u, g.id, g.x),
    expect: ADMINS,
  },
  {
    name: 'remove the admin',
    // The admin removing itself is leaving.
    event: (role) => (role === 'admin' ? 'member.left' : 'member.removed'),
    run: (u, g) => api.remove(u, g.id, g.admin),
    expect: { ...OWNER, admin: 'ok' },
  },
  {
    name: 'remove the owner',
    run: (u, g) => api.remove(u, g.id, g.owner),
    // The owner removing itself is leaving, which it may not before a transfer.
    expect: { ...OWNER, owner: [409, 'owner_must_transfer'] },
  },
  {
    name: 'leave',
    event: 'member.left',
    run: (u, g) => api.remove(u, g.id, 'me'),
    expect: { ...ADMINS, owner: [409, 'owner_must_transfer'], member: 'ok', blocked: 'ok' },
  },
  {
    name: 'promote to admin',
    event: 'role.changed',
    run: (u, g) => api.member(u, g.id, g.x, { role: 'admin' }),
    expect: OWNER,
  },
  {
    name: 'demote the admin',
    event: 'role.changed',
    run: (u, g) => api.member(u, g.id, g.admin, { role: 'member' }),
    expect: OWNER,
  },
  {
    name: 'transfer ownership',
    event: 'owner.transferred',
    run: (u, g) => api.member(u, g.id, g.x, { role: 'owner' }),
    expect: OWNER,
  },
  {
    name: 'update the title',
    event: 'title.changed',
    run: (u, g) => api.patch(u, g.id, { title: 'Renamed' }),
    expect: ADMINS,
  },
  {
    name: 'set history to full',
    event: 'history.changed',
    run: (u, g) => api.patch(u, g.id, { history: 'full' }),
    expect: ADMINS,
  },
  {
    name: 'mute a member',
    event: 'muted',
    run: (u, g) => api.member(u, g.id, g.x, { muted: true }),
    expect: ADMINS,
  },
  {
    name: 'mute the admin',
    event: 'muted',
    run: (u, g) => api.member(u, g.id, g.admin, { muted: true }),
    expect: OWNER,
  },
  {
    name: 'mute the group',
    event: 'muted',
    run: (u, g) => api.patch(u, g.id, { muted: true }),
    expect: ADMINS,
  },
  {
    name: 'set the avatar',
    event: 'avatar.changed',
    run: async (u, g) => api.patch(u, g.id, { avatar: await uploadImage(u) }),
    expect: ADMINS,
  },
  {
    name: 'create an invite code',
    run: (u, g) => call('POST', `/v1/conversations/${g.id}/invite`, u.token),
    expect: ADMINS,
    verify: (res, g, before, after) => {
      assert.equal(res.status, 201);
      assert.deepEqual(res.json, { conversation: g.id, code: after.invite });
      assert.notEqual(after.invite, before.invite, 'a new code replaces the old one');
    },
  },
  {
    name: 'show the invite code',
    run: (u, g) => api.invite(u, g.id),
    expect: ADMINS,
    verify: (res, g, before, after) => {
      assert.deepEqual(res.json, { conversation: g.id, code: g.code });
      assert.deepEqual(after, before);
    },
  },
  {
    name: 'revoke the invite code',
    run: (u, g) => call('DELETE', `/v1/conversations/${g.id}/invite`, u.token),
    expect: ADMINS,
    verify: (res, _g, _before, after) => {
      assert.equal(res.status, 204);
      assert.equal(after.invite, 404);
    },
  },
  {
    name: 'join with the invite code',
    event: 'member.joined',
    run: (u, g) => api.join(u, g.code),
    expect: {
      owner: ALREADY,
      admin: ALREADY,
      member: ALREADY,
      removed: 'ok',
      blocked: ALREADY,
      stranger: 'ok',
    },
  },
  { name: 'dismiss', event: 'dismissed', run: (u, g) => api.dismiss(u, g.id), expect: OWNER },
  {
    name: 'send a message',
    run: (u, g) => api.send(u, g.id, 'hello'),
    expect: { ...ADMINS, member: 'ok', blocked: 'ok' },
  },
];

describe('permission matrix', () => {
  for (const action of ACTIONS) {
    for (const role of ROLES) {
      const expected = action.expect[role];
      const outcome = expected === 'ok' ? 'succeeds' : `is refused with ${expected[1]}`;
      it(`${action.name} by the ${role} ${outcome}`, async () => {
        const g = await cast();
        const before = await snapshot(g.owner, g.id);
        const res = await action.run(g.by[role], g);
        if (expected === 'ok') {
          assert.ok(res.status >= 200 && res.status < 300, res.text);
          const afterSnap = await snapshot(g.owner, g.id);
          if (action.verify) {
            assert.equal(afterSnap.conversation.lastSeq, before.conversation.lastSeq);
            return action.verify(res, g, before, afterSnap);
          }
          assert.equal(afterSnap.conversation.lastSeq, before.conversation.lastSeq + 1);
          const last = afterSnap.messages.at(-1);
          if (action.event) {
            const event = typeof action.event === 'string' ? action.event : action.event(role);
            assert.equal(last.body.kind, 'system');
            assert.equal(last.body.event, event);
            assert.equal(last.sender, g.by[role].userId);
            assert.deepEqual(res.json.message, last);
          } else {
            assert.equal(last.body.kind, 'text');
          }
          return;
        }
        assertError(res, expected[0], expected[1]);
        assert.deepEqual(await snapshot(g.owner, g.id), before, 'a refusal changes nothing');
      });
    }
  }

  it('lets every role but the stranger read, the removed member only up to its removal', async () => {
    const g = await cast();
    await ok(api.send(g.owner, g.id, 'after the removal'), 201);
    const full = (await ok(api.history(g.owner, g.id))).messages.map((m: any) => m.seq);
    assert.deepEqual(full, [1, 2, 3]);
    for (const role of ['admin', 'member', 'blocked'] as const) {
      const seqs = (await ok(api.history(g.by[role], g.id))).messages.map((m: any) => m.seq);
      assert.deepEqual(seqs, [1, 2, 3], role);
    }
    const removed = (await ok(api.history(g.removed, g.id))).messages;
    assert.deepEqual(
      removed.map((m: any) => m.seq),
      [1, 2],
    );
    assert.equal(removed[1].body.event, 'member.removed');
    assertError(await api.history(g.stranger, g.id), 403, 'not_member');
    assertError(await api.get(g.removed, g.id), 403, 'not_member');
  });
});
