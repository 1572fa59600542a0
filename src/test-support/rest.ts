// The REST side of the tests that drive a real server as registered users: who they are, a call
// with a user's token, and the checks on an answer.
import assert from 'node:assert/strict';
import { http, register } from './server.js';

/** A registered user: its session, and the username it registered with. */
export interface TestUser {
  readonly token: string;
  readonly userId: string;
  readonly device: string;
  readonly username: string;
}

/** An answer; its JSON is loosely typed, tests read what they assert. */
export type Res = {
  status: number;
  json: any;
  text: string;
  headers: Record<string, string | string[] | undefined>;
};

/** Registers `username` (with register's default password); keeps the name with the session. */
export async function registerUser(baseUrl: string, username: string): Promise<TestUser> {
  return { ...(await register(baseUrl, username)), username };
}

/** `method path` on the server at `baseUrl`, with the user's token and `body` (JSON) if given. */
export function callAs(
  baseUrl: string,
  method: string,
  path: string,
  u: TestUser,
  body?: unknown,
): Promise<Res> {
  return http(method, `${baseUrl}${path}`, {
    token: u.token,
    ...(body !== undefined ? { body } : {}),
  });
}

/** The answer's JSON, once its status is asserted to be `status`. */
export async function ok(res: Promise<Res>, status = 200): Promise<any> {
  const r = await res;
  assert.equal(r.status, status, r.text);
  return r.json;
}

/** Asserts that the answer is a refusal with this status and error code. */
export function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
}

let sendRefs = 0;

/** Sends a text message over REST as `u` (201 asserted, a fresh ref each); its seq. */
export async function sendText(
  baseUrl: string,
  u: TestUser,
  conversation: string,
  text: string,
): Promise<number> {
  const body = await ok(
    callAs(baseUrl, 'POST', `/v1/conversations/${conversation}/messages`, u, {
      ref: `t${++sendRefs}`,
      body: { kind: 'text', text },
    }),
    201,
  );
  return body.seq as number;
}
