// Test helpers for the message actions (message-edits and message-reactions tests): a REST client
// of one server, real-time links held for the length of a piece of work, and a user's second
// device.
import assert from 'node:assert/strict';
import { callAs, ok, registerUser, type Res, type TestUser as User } from './rest.js';
import { RtClient, type Transport } from './rt-client.js';
import { http, type TestServer } from './server.js';

/** The PARLEY_REACTIONS_PER_USER_MAX of the servers these tests start. */
export const REACTIONS_PER_USER_MAX = 3;

let n = 0;

/** A REST client of the server `s`, as registered users: conversations, sends and the actions. */
export function api(s: TestServer) {
  const call = (method: string, path: string, u: User, body?: unknown): Promise<Res> =>
    callAs(s.url, method, path, u, body);
  const msg = (id: string, seq: number) => `/v1/conversations/${id}/messages/${seq}`;
  return {
    call,
    user: (prefix: string): Promise<User> => registerUser(s.url, `${prefix}${++n}`),
    group: async (owner: User, members: User[]): Promise<string> =>
      (
        await ok(
          call('POST', '/v1/conversations', owner, {
            kind: 'group',
            title: 'Team',
            members: members.map((m) => m.username),
          }),
          201,
        )
      ).id as string,
    direct: async (a: User, b: User): Promise<string> =>
      (await ok(call('POST', '/v1/conversations', a, { kind: 'direct', with: b.username }), 201))
        .id as string,
    send: async (u: User, id: string, body: unknown = { kind: 'text', text: 'hello' }) =>
      (await ok(call('POST', `/v1/conversations/${id}/messages`, u, { ref: `r${++n}`, body }), 201))
        .seq as number,
    history: async (u: User, id: string): Promise<any[]> =>
      (await ok(call('GET', `/v1/conversations/${id}/messages?after=0&limit=100`, u)))
        .messages as any[],
    edit: (u: User, id: string, seq: number, body: unknown) =>
      call('PATCH', msg(id, seq), u, { body }),
    recall: (u: User, id: string, seq: number) => call('POST', `${msg(id, seq)}/recall`, u),
    hide: (u: User, id: string, seq: number) => call('POST', `${msg(id, seq)}/hide`, u),
    react: (u: User, id: string, seq: number, emoji: string) =>
      call('POST', `${msg(id, seq)}/reactions`, u, { emoji }),
    unreact: (u: User, id: string, seq: number, emoji: string) =>
      call('DELETE', `${msg(id, seq)}/reactions?emoji=${encodeURIComponent(emoji)}`, u),
  };
}

/**
 * The real-time helpers of a test file. `server` gives the server they use unless told another:
 * the one the file's `before` started, read when a helper is called.
 */
export function realtime(server: () => TestServer) {
  /** Connects every user given, over one transport; drops them all after `work`. */
  async function online<T>(
    transport: Transport,
    users: User[],
    work: (links: RtClient[]) => Promise<T>,
    s: TestServer = server(),
  ): Promise<T> {
    const links = await Promise.all(
      users.map((u) => RtClient.connect(s, transport, u.token, u.device)),
    );
    try {
      return await work(links);
    } finally {
      for (const l of links) l.drop();
    }
  }

  /** A second device of the same user: logs in again with another device id. */
  async function secondDevice(u: User, s: TestServer = server()): Promise<User> {
    const res = await http<{ token: string; device: string }>('POST', `${s.url}/v1/auth/login`, {
      body: { username: u.username, password: 'correct horse battery', device: `${u.device}-2` },
    });
    assert.equal(res.status, 200, res.text);
    return { ...u, token: res.json.token, device: res.json.device };
  }

  return { online, secondDevice };
}
