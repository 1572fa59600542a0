// Proves that /openapi.json is a valid OpenAPI 3.1 document generated from the running server's
// routes, that it lists every registered route (each with its entry in route-docs.ts, so a new
// route without one fails here) with a summary, examples and its error codes, and that the
// interactive page is served at /docs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
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
