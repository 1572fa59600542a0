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
import { newId } from '../src/core/ids.js';
import {
  FUZZ_LIMITS,
  ODD_SEGMENTS,
  Rng,
  describe as show,
  fuzzSettings,
  hostileJson,
  hostileMessageBody,
  oddValue,
  replayHint,
} from '../src/test-support/fuzz.js';
import { documentedCodes, readOps, routeOf, type Op } from '../src/test-support/openapi-ops.js';
import { rawHttp, type RawAnswer, type RawRequest } from '../src/test-support/raw-http.js';
import { callAs, ok, registerUser, type TestUser } from '../src/test-support/rest.js';
import { RtClient } from '../src/test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../src/test-support/server.js';

const settings = fuzzSettings(2);
const rng = new Rng(settings.seed);
/** Routes that end the caller's session or check its password: fuzzed as throwaway users. */
const SESSION_ENDING = new Set([
  'POST /v1/auth/logout',
  'DELETE /v1/me/sessions/{device}',
  'POST /v1/me/password',
  'DELETE /v1/me',
]);
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
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489',
  'hex',
);

let server: TestServer;
let ops: Op[];
let fuzzer: TestUser;
let other: TestUser;
let chat: { a: TestUser; b: TestUser; conversation: string; rt: RtClient };
let victim: TestUser | null = null;
let victims = 0;
const ids: Record<string, string> = {};
const failures: string[] = [];

/** Valid-looking values for a path parameter: the fuzzer's own things. */
function validParam(op: Op, name: string): string {
  if (name === 'id')
    return op.template.startsWith('/v1/attachments') ? ids.attachment! : ids.group!;
  if (name === 'seq') return '1';
  if (name === 'username') return other.username;
  if (name === 'user') return other.userId;
  if (name === 'device') return victim?.device ?? 'nope';
  if (name === 'code') return ids.invite!;
  return 'x';
}

/** Other values: other users' things, things of the wrong kind, nothing, odd segments. */
function otherParam(): string {
  const kinds = [
    ids.direct!,
    ids.othersGroup!,
    ids.othersAttachment!,
    ids.message!,
    fuzzer.userId,
    other.userId,
    newId('c'),
    newId('a'),
    fuzzer.username,
    'nobody-here',
    'UPPER',
    '0',
    '999999',
  ];
  return rng.chance(0.5) ? rng.pick(kinds) : rng.pick(ODD_SEGMENTS);
}

function queryValue(name: string, schema: { type?: string; enum?: string[] }): string {
  if (schema.enum) return schema.enum[0]!;
  if (schema.type === 'integer') return '1';
  if (schema.type === 'boolean') return 'true';
  const byName: Record<string, string> = {
    q: 'hello',
    prefix: 'ot',
    emoji: '%F0%9F%91%8D',
    chat: 'fz-room',
    conversation: ids.direct!,
  };
  return byName[name] ?? 'a';
}

function validQuery(op: Op): string {
  const pairs = op.query
    .filter((q) => q.required || rng.chance(0.3))
    .map((q) => `${q.name}=${queryValue(q.name, q.schema)}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function hostileQuery(op: Op): string {
  const names = op.query.length ? op.query.map((q) => q.name) : ['x'];
  const name = rng.pick(names);
  const odd = rng.chance(0.5)
    ? rng.pick(ODD_SEGMENTS)
    : encodeURIComponent(show(oddValue(rng)).replace(/\p{Cs}/gu, '\ufffd'));
  const base = validQuery(op).replace(/^\?/, '');
  return `?${[base, `${name}=${odd}`, rng.chance(0.3) ? `${name}=2` : '', rng.chance(0.2) ? '%ZZ=%' : ''].filter(Boolean).join('&')}`;
}

function pathOf(op: Op, params: Record<string, string>): string {
  return op.template.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? 'x');
}

async function newGroup(owner: TestUser): Promise<string> {
  const body = { kind: 'group', title: 'fz', members: [other.username] };
  return (await ok(callAs(server.url, 'POST', '/v1/conversations', owner, body), 201)).id as string;
}

async function victimToken(): Promise<TestUser> {
  if (!victim) {
    const name = `fz-victim-${++victims}`;
    victim = { ...(await register(server.url, name, PASSWORD)), username: name };
  }
  return victim;
}

interface Attempt {
  readonly label: string;
  readonly request: RawRequest;
  /** Whether the request still goes to the operation (false: a method it does not have). */
  readonly routed: boolean;
}

async function attempts(op: Op): Promise<Attempt[]> {
  const user = SESSION_ENDING.has(op.key) ? await victimToken() : fuzzer;
  const params = Object.fromEntries(op.params.map((p) => [p, validParam(op, p)]));
  // Dismissing the fuzzer's group would leave every later group request nothing but 410.
  if (op.key === 'DELETE /v1/conversations/{id}') params.id = await newGroup(fuzzer);
  const auth = { Authorization: `Bearer ${user.token}` };
  const json = { 'Content-Type': op.body?.contentType ?? 'application/json' };
  const example = op.body?.example ?? {};
  const exampleBytes =
    op.key === 'POST /v1/attachments' ? PNG : Buffer.from(JSON.stringify(example));
  const exampleType = op.key === 'POST /v1/attachments' ? { 'Content-Type': 'image/png' } : json;
  const withBody = op.body !== null || ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);
  const target = (p = params, q = validQuery(op)) => pathOf(op, p) + q;
  const base = {
    method: op.method,
    target: target(),
    headers: { ...auth, ...(withBody ? exampleType : {}) },
    ...(withBody ? { body: exampleBytes } : {}),
  };
  const list: Attempt[] = [{ label: 'the example', request: base, routed: true }];
  if (op.params.length) {
    const name = rng.pick(op.params);
    const value = otherParam();
    list.push({
      label: `path ${name}=${value.slice(0, 40)}`,
      request: { ...base, target: target({ ...params, [name]: value }) },
      routed: true,
    });
  }
  list.push({
    label: 'query',
    request: { ...base, target: target(params, hostileQuery(op)) },
    routed: true,
  });
  if (withBody) {
    const hostile = hostileJson(rng, example, FUZZ_LIMITS.httpBodyBytesMax);
    list.push({
      label: `body: ${hostile.label}`,
      request: { ...base, headers: { ...auth, ...json }, body: hostile.bytes },
      routed: true,
    });
    const ct = rng.pick([
      'text/plain',
      'application/xml',
      'application/json; charset=utf-16',
      ';;;',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '*/*',
    ]);
    list.push({
      label: `content-type ${ct}`,
      request: { ...base, headers: { ...auth, 'Content-Type': ct }, body: exampleBytes },
      routed: true,
    });
  }
  if (example && typeof example === 'object' && 'body' in example) {
    const m = hostileMessageBody(rng);
    const bytes = Buffer.from(
      m.raw !== undefined
        ? JSON.stringify({ ...example, body: '\u0001' }).replace('"\\u0001"', m.raw)
        : JSON.stringify({ ...example, ref: `fz-${rng.int(1e9)}`, body: m.body }),
    );
    list.push({
      label: `message body: ${m.label}`,
      request: { ...base, headers: { ...auth, ...json }, body: bytes },
      routed: true,
    });
  }
  const header = rng.pick<[string, Partial<RawRequest>]>([
    ['content-length too small', { contentLength: '1' }],
    ['content-length not a number', { contentLength: 'abc' }],
    ['content-length negative', { contentLength: '-5' }],
    ['content-encoding gzip', { headers: { ...base.headers, 'Content-Encoding': 'gzip' } }],
    ['header over 16 KiB', { headers: { ...base.headers, 'X-Fuzz': 'h'.repeat(20_000) } }],
    [
      'chunked garbage',
      {
        contentLength: null,
        headers: { ...base.headers, 'Transfer-Encoding': 'chunked' },
        body: Buffer.from('zz\r\nxx\r\n'),
      },
    ],
    // The whole body, not a promise of one: a server waits for bytes it was promised.
    ['body over the limit', { body: Buffer.alloc(FUZZ_LIMITS.httpBodyBytesMax + 1, 0x20) }],
    [
      'two content types',
      { headers: { ...base.headers, 'Content-Type': 'application/json, text/plain' } },
    ],
    [
      'accept-encoding and charset',
      {
        headers: {
          ...base.headers,
          'Accept-Encoding': 'br;q=2, *;q=-1',
          'Accept-Charset': 'utf-7',
        },
      },
    ],
  ]);
  list.push({ label: header[0], request: { ...base, ...header[1] }, routed: true });
  const token = rng.pick([
    undefined,
    'pt_nope',
    other.token,
    `${user.token}x`,
    'Basic Zm9vOmJhcg==',
    '\u00ff',
    'x'.repeat(5000),
  ]);
  const authHeader =
    token === undefined
      ? {}
      : { Authorization: token.startsWith('Basic') ? token : `Bearer ${token}` };
  list.push({
    label: `token ${show(token)}`,
    request: { ...base, headers: { ...base.headers, Authorization: '', ...authHeader } },
    routed: true,
  });
  const method = rng.pick(
    op.method === 'GET'
      ? ['HEAD', 'OPTIONS', 'PROPFIND', 'FOO']
      : ['OPTIONS', 'PROPFIND', 'FOO', 'TRACE'],
  );
  list.push({ label: `method ${method}`, request: { ...base, method }, routed: method === 'HEAD' });
  return list;
}

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
    assert.ok(ops.length > 40, `the document lists ${ops.length} operations`);
    for (let round = 0; round < settings.rounds; round++) {
      for (const op of ops) {
        for (const attempt of await attempts(op)) {
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
