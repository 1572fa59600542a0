// Proves that /openapi.json is a valid OpenAPI 3.1 document generated from the running server's
// routes, that it lists every registered route (each with its entry in route-docs.ts, so a new
// route without one fails here) with a summary, examples and its error codes, and that the
// interactive page is served at /docs. Refusals that take a scenario to reach (a block, a recall,
// the login throttle) are provoked here and must be listed for their route; test/fuzz-http.test.ts
// holds the rest of the document to the code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { documentedCodes, readOps, routeOf, type Op } from '../test-support/openapi-ops.js';
import {
  assertError,
  callAs,
  ok,
  registerUser,
  sendText,
  type Res,
  type TestUser,
} from '../test-support/rest.js';
import { errorCodesOf } from './api-docs.js';
import { ROUTE_DOCS, isHidden } from './route-docs.js';

type Operation = {
  summary?: string;
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> };
  responses: Record<
    string,
    {
      content?: Record<
        string,
        {
          example?: unknown;
          examples?: unknown;
          schema?: ErrorSchema & { anyOf?: ErrorSchema[] };
        }
      >;
    }
  >;
};
type ErrorSchema = {
  properties?: { error?: { properties?: { code?: { enum?: string[] } } } };
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** "METHOD /v1/x/:id" keys of the document's operations. */
function operationKeys(doc: Document): string[] {
  const keys: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      if (!METHODS.includes(method)) continue;
      keys.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    }
  }
  return keys.sort();
}

describe('/openapi.json', () => {
  let server: TestServer;
  let doc: Document;
  before(async () => {
    server = await startTestServer();
    const res = await http<Document>('GET', `${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    doc = res.json;
  });
  after(async () => {
    await server.close();
  });

  it('validates as OpenAPI 3.1', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.equal(validator.version, '3.1');
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('lists every registered route, and every route has its entry in route-docs.ts', () => {
    const documented = Object.entries(ROUTE_DOCS)
      .filter(([, entry]) => !isHidden(entry))
      .map(([key]) => key)
      .sort();
    const listed = operationKeys(doc);
    // A route registered without an entry is listed but not documented; an entry without a
    // route is documented but not listed.
    assert.deepEqual(
      listed.filter((k) => !documented.includes(k)),
      [],
      'routes without an entry in src/server/route-docs.ts',
    );
    assert.deepEqual(
      documented.filter((k) => !listed.includes(k)),
      [],
      'entries in route-docs.ts for routes that are not registered',
    );
    for (const key of [
      'POST /api/send',
      'GET /api/pull',
      'GET /ping',
      'GET /metrics',
      'GET /readyz',
    ]) {
      assert.ok(listed.includes(key), key);
    }
  });

  it('gives every operation a summary, an example and its error codes', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.summary, `${where}: summary`);
        assert.ok(op.operationId && !ids.has(op.operationId), `${where}: unique operationId`);
        ids.add(op.operationId);
        assert.equal(op.tags?.length, 1, `${where}: tag`);
        if (op.requestBody) {
          const media = Object.values(op.requestBody.content);
          assert.ok(
            media.some((m) => m.example !== undefined || m.examples !== undefined),
            `${where}: request example`,
          );
        }
        const statuses = Object.keys(op.responses);
        const success = statuses.filter((s) => s.startsWith('2'));
        assert.ok(success.length >= 1, `${where}: a success response`);
        for (const status of success) {
          if (status === '204') continue;
          assert.ok(
            Object.values(op.responses[status]!.content ?? {}).some(
              (m) => m.example !== undefined,
            ) || path.includes('attachments/{id}'),
            `${where} ${status}: response example`,
          );
        }
        const errors = statuses.filter((s) => /^[45]/.test(s));
        for (const status of ['400', '408', '431', '500', '503']) {
          assert.ok(errors.includes(status), `${where}: ${status}, which any request can get`);
        }
        for (const status of errors) {
          const media = op.responses[status]!.content?.['application/json'];
          // /readyz answers 503 in its own shape too: the error is one of the alternatives.
          const schema = media?.schema?.anyOf?.find((s) => s.properties?.error) ?? media?.schema;
          const codes = schema?.properties?.error?.properties?.code?.enum ?? [];
          assert.ok(codes.length > 0, `${where} ${status}: codes`);
          for (const code of codes) {
            assert.equal(
              ERRORS[code as ErrorCode]?.status,
              Number(status),
              `${where}: ${code} under ${status}`,
            );
          }
          assert.ok(media?.example ?? media?.examples, `${where} ${status}: example`);
        }
      }
    }
  });

  it('documents the seed API with its hand-checked fields and codes', () => {
    const send = doc.paths['/api/send']!.post!;
    assert.deepEqual(Object.keys(send.requestBody!.content), ['application/json']);
    const codesAt = (op: Operation, status: string) =>
      op.responses[status]?.content?.['application/json']?.schema?.properties?.error?.properties
        ?.code?.enum;
    assert.deepEqual(
      codesAt(send, '400')?.sort(),
      ['body_too_large', 'invalid_chat', 'invalid_json', 'invalid_request', 'invalid_username']
        .filter((c) => ERRORS[c as ErrorCode].status === 400)
        .sort(),
    );
    assert.ok(codesAt(send, '401')?.includes('unauthenticated'));
    assert.ok(codesAt(send, '403')?.includes('sender_mismatch'));
    const pull = doc.paths['/api/pull']!.get! as Operation & {
      parameters?: { name: string; in: string }[];
    };
    assert.deepEqual(
      pull.parameters?.filter((p) => p.in === 'query').map((p) => p.name),
      ['chat', 'cursor', 'limit', 'reverse'],
    );
    assert.equal((pull.requestBody as { required?: boolean }).required, false);
  });

  it('serves the interactive page at /docs', async () => {
    const page = await http('GET', `${server.url}/docs/`);
    assert.equal(page.status, 200);
    assert.match(page.text, /swagger-ui/i);
    const bundle = await http('GET', `${server.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.ok(bundle.text.length > 100_000, 'the Swagger UI bundle is served');
  });
});

describe('/openapi.json against refusals a fuzzer does not reach', () => {
  let server: TestServer;
  let ops: Op[];
  before(async () => {
    server = await startTestServer();
    ops = readOps((await http('GET', `${server.url}/openapi.json`)).json);
  });
  after(async () => {
    await server.close();
  });

  /** Asserts `res` is the refusal expected, and that the document lists it for its route. */
  function documented(method: string, path: string, res: Res, status: number, code: string) {
    assertError(res, status, code);
    const op = routeOf(ops, method, path);
    assert.ok(op, `${method} ${path}: a documented route`);
    assert.ok(documentedCodes(op, status).includes(code), `${op.key}: ${status} ${code}`);
  }

  it('lists blocks, recalls, bad usernames, unknown avatars and the login throttle', async () => {
    const [alice, bob] = [
      await registerUser(server.url, 'alice'),
      await registerUser(server.url, 'bob'),
    ];
    const as = (u: TestUser, method: string, path: string, body?: unknown) =>
      callAs(server.url, method, path, u, body).then((res) => ({ method, path, res }));
    const direct = await ok(
      as(alice, 'POST', '/v1/conversations', { kind: 'direct', with: 'bob' }).then((r) => r.res),
      201,
    );
    const seq = await sendText(server.url, alice, direct.id, 'hi');
    const message = `/v1/conversations/${direct.id}/messages/${seq}`;
    await ok(as(alice, 'POST', `${message}/reactions`, { emoji: '👍' }).then((r) => r.res));
    await ok(as(bob, 'POST', '/v1/contacts/alice/block').then((r) => r.res));
    for (const r of [
      await as(alice, 'PATCH', message, { body: { kind: 'text', text: 'edited' } }),
      await as(alice, 'POST', `${message}/reactions`, { emoji: '🎉' }),
      await as(alice, 'DELETE', `${message}/reactions?emoji=%F0%9F%91%8D`),
    ]) {
      documented(r.method, r.path, r.res, 403, 'blocked');
    }
    await ok(as(bob, 'DELETE', '/v1/contacts/alice/block').then((r) => r.res));
    await ok(as(alice, 'POST', `${message}/recall`).then((r) => r.res));
    const unreact = await as(alice, 'DELETE', `${message}/reactions?emoji=%F0%9F%91%8D`);
    documented(unreact.method, unreact.path, unreact.res, 409, 'message_recalled');

    const group = await ok(
      as(alice, 'POST', '/v1/conversations', { kind: 'group', title: 'g', members: ['bob'] }).then(
        (r) => r.res,
      ),
      201,
    );
    const avatar = await as(alice, 'PATCH', `/v1/conversations/${group.id}`, {
      avatar: 'aNoSuchAttachment',
    });
    documented(avatar.method, avatar.path, avatar.res, 404, 'attachment_not_found');

    for (const r of [
      await as(alice, 'GET', '/v1/users/Bad!Name'),
      await as(alice, 'POST', '/v1/contacts/requests', { username: 'Bad!Name' }),
      await as(alice, 'DELETE', '/v1/contacts/Bad!Name'),
      await as(alice, 'POST', '/api/send', { chat: 'lobby', text: 'hi', sender: 'Bad!Name' }),
    ]) {
      documented(r.method, r.path, r.res, 400, 'invalid_username');
    }

    let login: Res | undefined;
    for (let i = 0; i < 30 && login?.status !== 429; i++) {
      login = await http('POST', `${server.url}/v1/auth/login`, {
        body: { username: 'alice', password: 'wrong password' },
      });
    }
    documented('POST', '/v1/auth/login', login!, 429, 'rate_limited');
  });
});

describe('errorCodesOf', () => {
  const ANY = [
    'headers_too_large',
    'internal',
    'invalid_request',
    'request_timeout',
    'unavailable',
  ];
  it('adds the codes every route of a kind can give', () => {
    const doc = {
      summary: 's',
      tag: 'seed',
      auth: 'bearer',
      errors: ['invalid_chat'],
      body: { example: {} },
      response: { status: 200, description: 'd' },
    } as const;
    assert.deepEqual(
      errorCodesOf(doc, 'POST', '/x/:id').sort(),
      [
        ...ANY,
        'invalid_chat',
        'invalid_json',
        'not_found',
        'payload_too_large',
        'unauthenticated',
        'unsupported_media_type',
      ].sort(),
    );
    const { body: _body, ...bodiless } = doc;
    const open = { ...bodiless, auth: 'none', errors: [] } as const;
    assert.deepEqual(errorCodesOf(open, 'GET', '/x').sort(), ANY);
    // A method that carries a body gets the body's refusals even where the route reads none.
    assert.ok(errorCodesOf(open, 'DELETE', '/x').includes('unsupported_media_type'));
  });
});
