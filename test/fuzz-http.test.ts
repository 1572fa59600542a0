// Proves that hostile HTTP input never gets a 5xx or an answer in another shape, and that
// /openapi.json tells the truth: every route and method the document lists is walked with
// malformed input (src/test-support/fuzz.ts), and every answer must be one the document lists for
// that route, an error being `{"error":{"code","message"}}` with a catalogue code listed under its
// status, while two other users keep chatting. Seeded and replayable: PARLEY_FUZZ_SEED and
// PARLEY_FUZZ_ROUNDS (default 2; 50 for a long hunt); PARLEY_FUZZ_LOG_LEVEL=error shows the
// server's log of an `internal` answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERRORS, type ErrorCode } from '../src/core/errors.js';
import { Rng, fuzzSettings, replayHint } from '../src/test-support/fuzz.js';
import { documentedCodes, readOps, routeOf, type Op } from '../src/test-support/openapi-ops.js';
import { rawHttp, type RawAnswer } from '../src/test-support/raw-http.js';
import { callAs, ok, registerUser, type TestUser } from '../src/test-support/rest.js';
import { RtClient } from '../src/test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../src/test-support/server.js';
import {
  PNG,
  SESSION_ENDING,
  attempts,
  type Attempt,
  type Fixtures,
} from './fuzz-http-requests.js';

const settings = fuzzSettings(2);
const rng = new Rng(settings.seed);
/** What a request that matches no route may get (docs/rest-api.md). */
const UNROUTED: ReadonlySet<string> = new Set([
  'not_found',
  'invalid_request',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'headers_too_large',
]);
const PASSWORD = 'correct horse'; // the API examples' password, so that valid examples succeed

let server: TestServer;
let ops: Op[];
let fuzzer: TestUser;
let other: TestUser;
let chat: { a: TestUser; b: TestUser; conversation: string; rt: RtClient };
let victim: TestUser | null = null;
let victims = 0;
const ids: Record<string, string> = {};
const failures: string[] = [];

async function newGroup(owner: TestUser): Promise<string> {
  const body = { kind: 'group', title: 'fz', members: [other.username] };
  return (await ok(callAs(server.url, 'POST', '/v1/conversations', owner, body), 201)).id as string;
}

const fixtures = (): Fixtures => ({
  rng,
  ids,
  fuzzer,
  other,
  async victim() {
    if (!victim) {
      const name = `fz-victim-${++victims}`;
      victim = { ...(await register(server.url, name, PASSWORD)), username: name };
    }
    return victim;
  },
  newGroup: () => newGroup(fuzzer),
});

/** Checks one answer; records what is wrong with it. */
function check(op: Op, attempt: Attempt, answer: RawAnswer): void {
  const where = `${attempt.request.method} ${attempt.request.target.slice(0, 120)} [${op.key}; ${attempt.label}]`;
  const fail = (why: string): void => {
    failures.push(
      `${where}: ${why}; got ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`,
    );
  };
  if (answer.status === 0) return fail('no answer');
  if (answer.status >= 500) return fail('a 5xx');
  const route = attempt.routed
    ? routeOf(ops, attempt.request.method, attempt.request.target)
    : null;
  if (answer.status < 400) {
    if (!route) return fail('a success without a route');
    if (!route.responses[answer.status])
      fail(`status ${answer.status} is not documented for ${route.key}`);
    return;
  }
  if (attempt.request.method === 'HEAD' && route) {
    // No body to check: the status must be one of the GET's.
    if (!route.responses[answer.status]) fail(`status ${answer.status} is not documented`);
    return;
  }
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string')
    return fail('not {error:{code,message}}');
  const code = error.code as ErrorCode;
  if (!Object.hasOwn(ERRORS, code) || ERRORS[code].status !== answer.status)
    return fail(`code ${code} is not the catalogue's for ${answer.status}`);
  if (!route) {
    if (!UNROUTED.has(code)) fail(`code ${code} for a request that matches no route`);
    return;
  }
  if (!documentedCodes(route, answer.status).includes(code))
    fail(`${answer.status} ${code} is not documented for ${route.key}`);
}

let chats = 0;
/** The pair still chats: a REST send arrives on the other's WebSocket, and a WebSocket send is stored. */
async function stillChatting(after: string): Promise<void> {
  const text = `still here ${++chats}`;
  const from = chat.rt.frames.length;
  const sent = await callAs(
    server.url,
    'POST',
    `/v1/conversations/${chat.conversation}/messages`,
    chat.a,
    { ref: `chat-${chats}`, body: { kind: 'text', text } },
  );
  assert.equal(
    sent.status,
    201,
    `the pair stopped chatting after ${after}: ${sent.text}; ${replayHint(settings)}`,
  );
  await chat.rt.waitFor((f) => f.type === 'message' && f.body?.text === text, {
    from,
    timeoutMs: 5000,
  });
  const reply = await chat.rt.request({
    type: 'send',
    ref: `back-${chats}`,
    conversation: chat.conversation,
    body: { kind: 'text', text: 'ok' },
  });
  assert.equal(
    reply.type,
    'sent',
    `the pair's WebSocket send failed after ${after}: ${JSON.stringify(reply)}`,
  );
}

describe('HTTP fuzz: every route of /openapi.json with hostile input', () => {
  before(async () => {
    server = await startTestServer({
      // The fuzzer sends far faster than a person; these budgets would only cut the run short.
      PARLEY_SEND_RATE_PER_SEC: '100000',
      PARLEY_SEND_BURST_MAX: '100000',
      PARLEY_LOGIN_ADDRESS_FAILURES_MAX: '1000000',
      PARLEY_LOG_LEVEL: process.env.PARLEY_FUZZ_LOG_LEVEL ?? 'silent',
    });
    ops = readOps((await http('GET', `${server.url}/openapi.json`)).json);
    [fuzzer, other] = [
      await registerUser(server.url, 'fz-fuzzer'),
      await registerUser(server.url, 'fz-other'),
    ];
    const [a, b] = [
      await registerUser(server.url, 'fz-chat-a'),
      await registerUser(server.url, 'fz-chat-b'),
    ];
    const open = (u: TestUser, body: unknown) =>
      ok(callAs(server.url, 'POST', '/v1/conversations', u, body), 201);
    ids.direct = (await open(fuzzer, { kind: 'direct', with: other.username })).id;
    ids.group = await newGroup(fuzzer);
    ids.othersGroup = (
      await open(other, { kind: 'group', title: 'theirs', members: [a.username] })
    ).id;
    ids.message = (
      await ok(
        callAs(server.url, 'POST', `/v1/conversations/${ids.group}/messages`, fuzzer, {
          ref: 'fx-1',
          body: { kind: 'text', text: 'hi' },
        }),
        201,
      )
    ).id;
    ids.invite = (
      await ok(callAs(server.url, 'POST', `/v1/conversations/${ids.group}/invite`, fuzzer), 201)
    ).code;
    const upload = async (u: TestUser): Promise<string> => {
      const res = await http('POST', `${server.url}/v1/attachments`, {
        token: u.token,
        body: PNG,
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(res.status, 201, res.text);
      return res.json.id as string;
    };
    ids.attachment = await upload(fuzzer);
    ids.othersAttachment = await upload(other);
    const conversation = (await open(a, { kind: 'direct', with: b.username })).id as string;
    chat = { a, b, conversation, rt: await RtClient.connect(server, 'ws-json', b.token, b.device) };
  });
  after(async () => {
    chat?.rt.drop();
    await server?.close();
  });

  it('answers every request in the documented shape, never 5xx, while a pair keeps chatting', async (t) => {
    const seen = new Map<number, number>();
    const fx = fixtures();
    assert.ok(ops.length > 40, `the document lists ${ops.length} operations`);
    for (let round = 0; round < settings.rounds; round++) {
      for (const op of ops) {
        for (const attempt of await attempts(op, fx)) {
          const answer = await rawHttp(server.port, attempt.request);
          check(op, attempt, answer);
          seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
          if (SESSION_ENDING.has(op.key) && answer.status < 300) victim = null;
        }
        await stillChatting(op.key);
      }
    }
    t.diagnostic(`seed ${settings.seed}: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.deepEqual(
      failures.slice(0, 30),
      [],
      `${failures.length} bad answers; ${replayHint(settings)}`,
    );
    const me = await callAs(server.url, 'GET', '/v1/me', fuzzer);
    assert.equal(
      me.status,
      200,
      `the fuzzer's own session ended: add the route to SESSION_ENDING (${me.text})`,
    );
    assert.equal((await http('GET', `${server.url}/healthz`)).status, 200);
  });
});
