// Proves that the errors the HTTP layer raises before any route runs come out in Parley's shape
// with catalogue codes: Node's parser refusals (malformed request, headers over 16 KiB, no Host),
// Fastify's router refusals (bad percent-encoding, a path segment over 100 characters), a body
// nested past jsonDepthMax or under a Content-Encoding, a request too slow to arrive, and requests
// arriving while it closes.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Type } from '@fastify/type-provider-typebox';
import { createLogger } from '../core/logger.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { nestedJsonText } from '../test-support/fuzz.js';
import { rawHttp, type RawAnswer } from '../test-support/raw-http.js';
import { createHttpApp } from './http-server.js';
import type { HttpApp } from './http-app.js';

function assertCoded(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.body.toString());
  assert.deepEqual(Object.keys(answer.json as object), ['error']);
  const error = (answer.json as { error: { code: string; message: string } }).error;
  assert.equal(error.code, code, answer.body.toString());
  assert.equal(typeof error.message, 'string');
}

function newApp(): HttpApp {
  const app = createHttpApp({ bodyBytesMax: 1 << 16, logger: createLogger('silent', 'test') });
  app.get('/items/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, (r) => ({
    id: r.params.id,
  }));
  app.post('/items/:id', (r) => ({ id: (r.params as { id: string }).id, body: r.body }));
  return app;
}

describe('createHttpApp: errors before a route runs', () => {
  let app: HttpApp;
  let port: number;
  before(async () => {
    app = newApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(() => app.close());

  it('answers a malformed request line, an unknown method and a bad Content-Length', async () => {
    for (const method of ['G@T', 'FOO']) {
      assertCoded(await rawHttp(port, { method, target: '/items/1' }), 400, 'invalid_request');
    }
    const badLength = await rawHttp(port, {
      method: 'POST',
      target: '/items/1',
      contentLength: 'x',
    });
    assertCoded(badLength, 400, 'invalid_request');
  });

  it('answers headers over 16 KiB with 431 headers_too_large', async () => {
    const headers = { 'X-Big': 'h'.repeat(20_000) };
    assertCoded(
      await rawHttp(port, { method: 'GET', target: '/items/1', headers }),
      431,
      'headers_too_large',
    );
  });

  it('answers bad percent-encoding and an over-long segment (router refusals)', async () => {
    for (const method of ['GET', 'POST']) {
      const bad = await rawHttp(port, { method, target: '/items/%C3%28' });
      assertCoded(bad, 400, 'invalid_request');
      const long = await rawHttp(port, { method, target: `/items/${'x'.repeat(101)}` });
      assertCoded(long, 404, 'not_found');
    }
  });

  it('refuses a body nested past jsonDepthMax, and takes one at it', async () => {
    const json = { 'Content-Type': 'application/json' };
    const at = Buffer.from(nestedJsonText(DEFAULT_LIMITS.jsonDepthMax));
    const ok = await rawHttp(port, { method: 'POST', target: '/items/1', headers: json, body: at });
    assert.equal(ok.status, 200, ok.body.toString());
    for (const depth of [DEFAULT_LIMITS.jsonDepthMax + 1, 5000]) {
      const body = Buffer.from(nestedJsonText(depth));
      const deep = await rawHttp(port, { method: 'POST', target: '/items/1', headers: json, body });
      assertCoded(deep, 400, 'invalid_request');
    }
  });

  it('refuses a Content-Encoding it would not decode, and a request without Host', async () => {
    const headers = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
    const body = Buffer.from('{}');
    const gz = await rawHttp(port, { method: 'POST', target: '/items/1', headers, body });
    assertCoded(gz, 415, 'unsupported_media_type');
    const hostless = await rawSocket(port, 'GET /items/1 HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.match(hostless, /^HTTP\/1\.1 400 [^]*"code":"invalid_request"/);
  });
});

describe('createHttpApp: a request too slow to arrive', () => {
  it(
    'answers 408 request_timeout when the body does not come in time, and drops it',
    { timeout: 10_000 },
    async () => {
      const app = createHttpApp({
        bodyBytesMax: 1 << 16,
        logger: createLogger('silent', 'test'),
        requestTimeoutMs: 400,
      });
      app.post('/items', (r) => ({ body: r.body }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      try {
        // Ten bytes promised, two sent, then silence.
        const started = Date.now();
        const text = await rawSocket(
          port,
          'POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
        );
        assert.match(text, /^HTTP\/1\.1 408 [^]*\{"error":\{"code":"request_timeout"/);
        assert.ok(Date.now() - started < 5_000, 'within a few checks of the timeout');
      } finally {
        await app.close();
      }
    },
  );
});

describe('createHttpApp: closing', () => {
  it('answers a request that arrives while it closes with 503 unavailable', async () => {
    const app = newApp();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const slowStarted = new Promise<void>((resolve) => (started = resolve));
    app.get('/slow', async () => {
      started();
      await released;
      return { slow: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    // A keep-alive connection busy with a slow request stays open while the app closes; a second
    // request on it arrives after the close began.
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await slowStarted;
    const closed = app.close();
    socket.write('GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await ended;
    await closed;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /HTTP\/1\.1 503 [^]*\{"error":\{"code":"unavailable"/);
  });
});

/** Writes `text` on a new connection; resolves with everything read until the server closes. */
function rawSocket(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(out));
  });
}
