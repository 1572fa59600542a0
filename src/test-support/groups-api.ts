// Test helpers for the group routes (the groups-*.test.ts files): registered users, the group
// calls over REST, a snapshot of everything a group change could touch, and a cast of one user
// per role in a fresh group.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ok, registerUser, type Res, type TestUser as User } from './rest.js';
import { http, startTestServer, type TestServer } from './server.js';

/** The PARLEY_GROUP_MEMBERS_MAX of the servers these tests start. */
export const GROUP_MEMBERS_MAX = 8;

/**
 * The one server of a groups test file, with the settings these tests assume (a small member cap,
 * a TCP port): started in `before`, closed in `after`. The getter reads it inside a test.
 */
export function groupsServer(): () => TestServer {
  let server: TestServer | undefined;
  before(async () => {
    server = await startTestServer({
      PARLEY_GROUP_MEMBERS_MAX: String(GROUP_MEMBERS_MAX),
      PARLEY_TCP_PORT: '0',
    });
  });
  after(async () => server?.close());
  return () => {
    if (!server) throw new Error('the groups server starts in before()');
    return server;
  };
}

export type Role = 'owner' | 'admin' | 'member' | 'removed' | 'blocked' | 'stranger';
export const ROLES: readonly Role[] = [
  'owner',
  'admin',
  'member',
  'removed',
  'blocked',
  'stranger',
];

/**
 * The helpers against one server. `server` gives it once the file's `before` has started it;
 * each helper reads it when called.
 */
export function groupsApi(server: () => TestServer) {
  let seq = 0;

  const call = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
    http(method, `${server().url}${path}`, { token, ...(body !== undefined ? { body } : {}) });

  async function user(prefix: string): Promise<User> {
    return registerUser(server().url, `${prefix}${++seq}`);
  }

  const api = {
    create: (u: User, title: string, members: User[], history?: string) =>
      call('POST', '/v1/conversations', u.token, {
        kind: 'group',
        title,
        members: members.map((m) => m.username),
        ...(history ? { history } : {}),
      }),
    get: (u: User, id: string) => call('GET', `/v1/conversations/${id}`, u.token),
    list: (u: User) => call('GET', '/v1/conversations', u.token),
    history: (u: User, id: string, query = 'after=0') =>
      call('GET', `/v1/conversations/${id}/messages?${query}`, u.token),
    send: (u: User, id: string, text: string) =>
      call('POST', `/v1/conversations/${id}/messages`, u.token, {
        ref: `r-${++seq}`,
        body: { kind: 'text', text },
      }),
    add: (u: User, id: string, members: User[]) =>
      call('POST', `/v1/conversations/${id}/members`, u.token, {
        members: members.map((m) => m.username),
      }),
    remove: (u: User, id: string, target: User | 'me') =>
      call(
        'DELETE',
        `/v1/conversations/${id}/members/${target === 'me' ? 'me' : target.userId}`,
        u.token,
      ),
    member: (u: User, id: string, target: User, body: unknown) =>
      call('PATCH', `/v1/conversations/${id}/members/${target.userId}`, u.token, body),
    patch: (u: User, id: string, body: unknown) =>
      call('PATCH', `/v1/conversations/${id}`, u.token, body),
    dismiss: (u: User, id: string) => call('DELETE', `/v1/conversations/${id}`, u.token),
    invite: (u: User, id: string) => call('GET', `/v1/conversations/${id}/invite`, u.token),
    join: (u: User, code: string) => call('POST', `/v1/invites/${code}/join`, u.token),
  };

  /** Everything a group change could touch, as its owner sees it (the invite code included). */
  async function snapshot(owner: User, id: string) {
    const c = await ok(api.get(owner, id));
    const messages = (await ok(api.history(owner, id, 'after=0&limit=1000'))).messages;
    const invite = await api.invite(owner, id);
    return { conversation: c, messages, invite: invite.json?.code ?? invite.status };
  }

  /**
   * A group with one user per role, a plain member `x` to act on, an outsider `n` to add, and an
   * invite code. `blocked` is a member whom the owner and `x` have blocked: blocks are about
   * direct conversations, so in a group it acts as the member it is.
   */
  async function cast() {
    const [owner, admin, member, removed, blocked, stranger, x, n] = await Promise.all([
      user('o'),
      user('a'),
      user('m'),
      user('r'),
      user('b'),
      user('s'),
      user('x'),
      user('n'),
    ]);
    const id = (await ok(api.create(owner, 'Team', [admin, member, removed, blocked, x]), 201))
      .id as string;
    await ok(api.member(owner, id, admin, { role: 'admin' }));
    await ok(api.remove(owner, id, removed));
    for (const blocker of [owner, x]) {
      await ok(call('POST', `/v1/contacts/${blocked.username}/block`, blocker.token));
    }
    const code = (await ok(call('POST', `/v1/conversations/${id}/invite`, owner.token), 201))
      .code as string;
    const by: Record<Role, User> = { owner, admin, member, removed, blocked, stranger };
    return { id, by, owner, admin, member, removed, blocked, stranger, x, n, code };
  }

  /** Uploads a small PNG as `u`; returns its attachment id. */
  async function uploadImage(u: User): Promise<string> {
    const res = await http('POST', `${server().url}/v1/attachments`, {
      token: u.token,
      body: Buffer.from(`png-${++seq}`),
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(res.status, 201, res.text);
    return res.json.id as string;
  }

  return { call, user, api, snapshot, cast, uploadImage };
}

type GroupsApi = ReturnType<typeof groupsApi>;
export type Cast = Awaited<ReturnType<GroupsApi['cast']>>;
export type Snapshot = Awaited<ReturnType<GroupsApi['snapshot']>>;
