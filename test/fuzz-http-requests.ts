// The requests test/fuzz-http.test.ts sends: for one operation of /openapi.json, a valid request
// built from the fixtures and the document's example, and one mutation of it per kind (path,
// query, body, content type, message body, headers, token, method), drawn from the seeded
// generators of src/test-support/fuzz.ts.
import { newId } from '../src/core/ids.js';
import {
  FUZZ_LIMITS,
  ODD_SEGMENTS,
  describe as show,
  hostileJson,
  hostileMessageBody,
  oddValue,
  type Rng,
} from '../src/test-support/fuzz.js';
import type { Op } from '../src/test-support/openapi-ops.js';
import type { RawRequest } from '../src/test-support/raw-http.js';
import type { TestUser } from '../src/test-support/rest.js';

/** Routes that end the caller's session or check its password: fuzzed as throwaway users. */
export const SESSION_ENDING: ReadonlySet<string> = new Set([
  'POST /v1/auth/logout',
  'DELETE /v1/me/sessions/{device}',
  'POST /v1/me/password',
  'DELETE /v1/me',
]);

export const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489',
  'hex',
);

/** What the requests are made of: the run's generator, the users, the ids they own. */
export interface Fixtures {
  readonly rng: Rng;
  /** direct, group, othersGroup, message, invite, attachment, othersAttachment. */
  readonly ids: Readonly<Record<string, string>>;
  readonly fuzzer: TestUser;
  readonly other: TestUser;
  /** A user whose session a request may end (a fresh one once the last was ended). */
  victim(): Promise<TestUser>;
  /** A new group of the fuzzer's, for a request that dismisses one. */
  newGroup(): Promise<string>;
}

export interface Attempt {
  readonly label: string;
  readonly request: RawRequest;
  /** Whether the request still goes to the operation (false: a method it does not have). */
  readonly routed: boolean;
}

/** A valid request to an operation, and what the mutations start from. */
interface Start {
  readonly fx: Fixtures;
  readonly op: Op;
  readonly user: TestUser;
  readonly params: Record<string, string>;
  readonly example: unknown;
  readonly withBody: boolean;
  readonly base: RawRequest & { headers: Record<string, string> };
}

/** The example request to `op` and one mutation of each kind that applies to it. */
export async function attempts(op: Op, fx: Fixtures): Promise<Attempt[]> {
  const s = await start(op, fx);
  return MUTATIONS.map((mutate) => mutate(s)).filter((a): a is Attempt => a !== null);
}

async function start(op: Op, fx: Fixtures): Promise<Start> {
  const user = SESSION_ENDING.has(op.key) ? await fx.victim() : fx.fuzzer;
  const params = Object.fromEntries(op.params.map((p) => [p, validParam(fx, op, p, user)]));
  // Dismissing the fuzzer's group would leave every later group request nothing but 410.
  if (op.key === 'DELETE /v1/conversations/{id}') params.id = await fx.newGroup();
  const example = op.body?.example ?? {};
  const upload = op.key === 'POST /v1/attachments';
  const withBody = op.body !== null || ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);
  const headers: Record<string, string> = { Authorization: `Bearer ${user.token}` };
  if (withBody)
    headers['Content-Type'] = upload ? 'image/png' : (op.body?.contentType ?? 'application/json');
  const body = upload ? PNG : Buffer.from(JSON.stringify(example));
  const target = pathOf(op, params) + validQuery(fx, op);
  const base = { method: op.method, target, headers, ...(withBody ? { body } : {}) };
  return { fx, op, user, params, example, withBody, base };
}

/** Valid-looking values for a path parameter: the fuzzer's own things. */
function validParam(fx: Fixtures, op: Op, name: string, user: TestUser): string {
  const values: Record<string, string> = {
    id: op.template.startsWith('/v1/attachments') ? fx.ids.attachment! : fx.ids.group!,
    seq: '1',
    username: fx.other.username,
    user: fx.other.userId,
    device: user.device,
    code: fx.ids.invite!,
  };
  return values[name] ?? 'x';
}

/** Other values: other users' things, things of the wrong kind, nothing, odd segments. */
function otherParam(fx: Fixtures): string {
  const { ids, fuzzer, other } = fx;
  const kinds = [ids.direct!, ids.othersGroup!, ids.othersAttachment!, ids.message!];
  kinds.push(fuzzer.userId, other.userId, newId('c'), newId('a'), fuzzer.username, 'UPPER', '0');
  return fx.rng.chance(0.5) ? fx.rng.pick(kinds) : fx.rng.pick(ODD_SEGMENTS);
}

function queryValue(fx: Fixtures, name: string, schema: { type?: string; enum?: string[] }) {
  if (schema.enum) return schema.enum[0]!;
  if (schema.type === 'integer') return '1';
  if (schema.type === 'boolean') return 'true';
  const byName: Record<string, string> = {
    q: 'hello',
    prefix: 'ot',
    emoji: '%F0%9F%91%8D',
    chat: 'fz-room',
    conversation: fx.ids.direct!,
  };
  return byName[name] ?? 'a';
}

function validQuery(fx: Fixtures, op: Op): string {
  const pairs = op.query
    .filter((q) => q.required || fx.rng.chance(0.3))
    .map((q) => `${q.name}=${queryValue(fx, q.name, q.schema)}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** A query with an odd value, maybe a repeated key, maybe a key that is not percent-encoding. */
function hostileQuery(fx: Fixtures, op: Op): string {
  const { rng } = fx;
  const name = rng.pick(op.query.length ? op.query.map((q) => q.name) : ['x']);
  const odd = rng.chance(0.5)
    ? rng.pick(ODD_SEGMENTS)
    : encodeURIComponent(show(oddValue(rng)).replace(/\p{Cs}/gu, '\ufffd'));
  const pairs = [validQuery(fx, op).replace(/^\?/, ''), `${name}=${odd}`];
  if (rng.chance(0.3)) pairs.push(`${name}=2`);
  if (rng.chance(0.2)) pairs.push('%ZZ=%');
  return `?${pairs.filter(Boolean).join('&')}`;
}

function pathOf(op: Op, params: Record<string, string>): string {
  return op.template.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? 'x');
}

const routed = (label: string, request: RawRequest): Attempt => ({ label, request, routed: true });
const asJson = (s: Start, body: Buffer): RawRequest => ({
  ...s.base,
  headers: { ...s.base.headers, 'Content-Type': 'application/json' },
  body,
});

/** The mutations, one attempt each (or none where it does not apply). */
const MUTATIONS: ((s: Start) => Attempt | null)[] = [
  (s) => routed('the example', s.base),
  (s) => {
    if (!s.op.params.length) return null;
    const [name, value] = [s.fx.rng.pick(s.op.params), otherParam(s.fx)];
    const target = pathOf(s.op, { ...s.params, [name]: value }) + validQuery(s.fx, s.op);
    return routed(`path ${name}=${value.slice(0, 40)}`, { ...s.base, target });
  },
  (s) => routed('query', { ...s.base, target: pathOf(s.op, s.params) + hostileQuery(s.fx, s.op) }),
  (s) => {
    if (!s.withBody) return null;
    const hostile = hostileJson(s.fx.rng, s.example, FUZZ_LIMITS.httpBodyBytesMax);
    return routed(`body: ${hostile.label}`, asJson(s, hostile.bytes));
  },
  (s) => {
    if (!s.withBody) return null;
    const ct = s.fx.rng.pick(CONTENT_TYPES);
    const headers = { ...s.base.headers, 'Content-Type': ct };
    return routed(`content-type ${ct}`, { ...s.base, headers });
  },
  (s) => {
    const example = s.example as Record<string, unknown> | null;
    if (!example || typeof example !== 'object' || !('body' in example)) return null;
    const m = hostileMessageBody(s.fx.rng);
    const text =
      m.raw !== undefined
        ? JSON.stringify({ ...example, body: '\u0001' }).replace('"\\u0001"', m.raw)
        : JSON.stringify({ ...example, ref: `fz-${s.fx.rng.int(1e9)}`, body: m.body });
    return routed(`message body: ${m.label}`, asJson(s, Buffer.from(text)));
  },
  (s) => {
    const [label, change] = s.fx.rng.pick(headerMutations(s.base.headers));
    return routed(label, { ...s.base, ...change });
  },
  (s) => {
    const { rng, other } = s.fx;
    const token = rng.pick([
      undefined,
      'pt_nope',
      other.token,
      `${s.user.token}x`,
      '\u00ff',
      'x'.repeat(5000),
    ]);
    const scheme = rng.chance(0.2) ? 'Basic' : 'Bearer';
    const headers = {
      ...s.base.headers,
      Authorization: token === undefined ? '' : `${scheme} ${token}`,
    };
    return routed(`token ${show(token)} (${scheme})`, { ...s.base, headers });
  },
  (s) => {
    const others =
      s.op.method === 'GET'
        ? ['HEAD', 'OPTIONS', 'PROPFIND', 'FOO']
        : ['OPTIONS', 'PROPFIND', 'FOO', 'TRACE'];
    const method = s.fx.rng.pick(others);
    return { label: `method ${method}`, request: { ...s.base, method }, routed: method === 'HEAD' };
  },
];

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/json; charset=utf-16',
  ';;;',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  '*/*',
];

/** Headers that lie about the body or break the rules, each with a label. */
function headerMutations(headers: Record<string, string>): [string, Partial<RawRequest>][] {
  const chunked = { ...headers, 'Transfer-Encoding': 'chunked' };
  return [
    ['content-length too small', { contentLength: '1' }],
    ['content-length not a number', { contentLength: 'abc' }],
    ['content-length negative', { contentLength: '-5' }],
    ['content-encoding gzip', { headers: { ...headers, 'Content-Encoding': 'gzip' } }],
    ['header over 16 KiB', { headers: { ...headers, 'X-Fuzz': 'h'.repeat(20_000) } }],
    [
      'chunked garbage',
      { contentLength: null, headers: chunked, body: Buffer.from('zz\r\nx\r\n') },
    ],
    // The whole body, not a promise of one: a server waits for bytes it was promised.
    ['body over the limit', { body: Buffer.alloc(FUZZ_LIMITS.httpBodyBytesMax + 1, 0x20) }],
    [
      'two content types',
      { headers: { ...headers, 'Content-Type': 'application/json, text/xml' } },
    ],
    [
      'odd accepts',
      { headers: { ...headers, 'Accept-Encoding': 'br;q=2', 'Accept-Charset': 'utf-7' } },
    ],
  ];
}
