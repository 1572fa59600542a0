// Test helpers for the v1 conversation and message routes (messaging-routes, messaging-messages
// and messaging-limits tests): a client of one server whose every call is one real HTTP request,
// and the check of a coded error answer.
import assert from 'node:assert/strict';
import type { Res, TestUser as User } from './rest.js';
import { http, register } from './server.js';

export type { Res, User };

const PASSWORD = 'correct horse battery';

/** Asserts an error response: its status, its code, and that it carries no stack. */
export function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.doesNotMatch(res.text, /"stack"|\n\s+at /);
}

/** A client of one server: each call is one real HTTP request. */
export function client(url: string) {
  const opts = (token: string | undefined, body?: unknown) => ({
    ...(token !== undefined ? { token } : {}),
    ...(body !== undefined ? { body } : {}),
  });
  const api = {
    async user(username: string, device?: string): Promise<User> {
      const u = await register(url, username, PASSWORD, device);
      return { ...u, username };
    },
    async login(username: string, device: string): Promise<User> {
      const res = await http('POST', `${url}/v1/auth/login`, {
        body: { username, password: PASSWORD, device },
      });
      assert.equal(res.status, 200, res.text);
      return { token: res.json.token, userId: res.json.user.id, device, username };
    },
    create: (token: string | undefined, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations`, opts(token, body)),
    list: (token: string | undefined): Promise<Res> =>
      http('GET', `${url}/v1/conversations`, opts(token)),
    get: (token: string | undefined, id: string): Promise<Res> =>
      http('GET', `${url}/v1/conversations/${encodeURIComponent(id)}`, opts(token)),
    send: (token: string | undefined, id: string, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations/${encodeURIComponent(id)}/messages`, opts(token, body)),
    text: (token: string, id: string, ref: string, text: string): Promise<Res> =>
      api.send(token, id, { ref, body: { kind: 'text', text } }),
    history: (token: string | undefined, id: string, query = ''): Promise<Res> =>
      http(
        'GET',
        `${url}/v1/conversations/${encodeURIComponent(id)}/messages${query ? '?' + query : ''}`,
        opts(token),
      ),
    read: (token: string | undefined, id: string, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations/${encodeURIComponent(id)}/read`, opts(token, body)),

    /** Creates a conversation and returns its id, asserting success. */
    async open(token: string, body: unknown): Promise<string> {
      const res = await api.create(token, body);
      assert.ok(res.status === 201 || res.status === 200, res.text);
      return res.json.id as string;
    },
    /** The conversation's lastSeq as a member sees it. */
    async lastSeq(token: string, id: string): Promise<number> {
      const res = await api.get(token, id);
      assert.equal(res.status, 200, res.text);
      return res.json.lastSeq as number;
    },
    /** The ids of the caller's conversations, in listed order. */
    async ids(token: string): Promise<string[]> {
      const res = await api.list(token);
      assert.equal(res.status, 200, res.text);
      return (res.json.conversations as { id: string }[]).map((c) => c.id);
    },
    /** Sends `count` texts one after another; returns their seqs. */
    async fill(user: User, id: string, count: number, prefix: string): Promise<number[]> {
      const seqs: number[] = [];
      for (let i = 1; i <= count; i++) {
        const res = await api.text(user.token, id, `${prefix}-${i}`, `${prefix} ${i}`);
        assert.equal(res.status, 201, res.text);
        seqs.push(res.json.seq as number);
      }
      return seqs;
    },
    /** Every message of a conversation, read forward in pages of 100. */
    async all(token: string, id: string): Promise<any[]> {
      const out: any[] = [];
      let cursor = 0;
      for (;;) {
        const res = await api.history(token, id, `after=${cursor}&limit=100`);
        assert.equal(res.status, 200, res.text);
        out.push(...res.json.messages);
        if (!res.json.hasMore) return out;
        cursor = res.json.messages.at(-1).seq;
      }
    },
  };
  return api;
}
