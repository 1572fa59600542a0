// Proves that a request's logger, made lazily (lazy-logger.ts), still writes what a pino child
// writes: the request's reqId, the node, Parley's redaction; that a request which logs nothing
// makes no child; and that a failing route is logged through it, over a real socket.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpApp } from './http-server.js';

/** A pino logger with Parley's redaction (core/logger.ts's paths) writing into `lines`. */
function capturing(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino(
    { level: 'info', base: { node: 'lazy' }, redact: { paths: ['*.token'], censor: '[redacted]' } },
    sink,
  );
}

/** Counts the children made of `logger` (a pino logger itself, not a stand-in). */
function countChildren(logger: pino.Logger): { made: number } {
  const count = { made: 0 };
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    count.made++;
    return child(...args);
  }) as typeof logger.child;
  return count;
}

describe('the lazy request logger', () => {
  it('makes no child for a request that writes no line, and one with the reqId for one that does', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = createHttpApp({ bodyBytesMax: 1 << 16, logger: capturing(lines) });
    // Fastify's root logger: the parent its childLoggerFactory is given for the app's routes.
    const children = countChildren(app.log as pino.Logger);
    app.get('/quiet', () => ({ ok: true }));
    app.get('/loud', (request) => {
      request.log.warn({ detail: { token: 'secret' } }, 'something to say');
      request.log.info('and more');
      return { ok: true };
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const atStart = children.made; // Fastify's own, at start
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`${base}/quiet`)).status, 200);
      assert.equal(children.made - atStart, 0);
      assert.equal((await fetch(`${base}/loud`)).status, 200);
      assert.equal(children.made - atStart, 1, 'one child, made once for both lines');
      const said = lines.filter((l) => l.msg === 'something to say' || l.msg === 'and more');
      assert.equal(said.length, 2);
      for (const line of said) {
        assert.equal(line.node, 'lazy');
        assert.match(String(line.reqId), /^req-/);
      }
      assert.equal(said[0]!.reqId, said[1]!.reqId);
      assert.deepEqual(said[0]!.detail, { token: '[redacted]' });
    } finally {
      await app.close();
    }
  });

  it('logs a failing route with its reqId, and answers it in the coded shape', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = capturing(lines);
    const app = createHttpApp({ bodyBytesMax: 1 << 16, logger });
    app.get('/broken', () => {
      throw new Error('boom');
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/broken' });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'internal');
      const failed = lines.find((l) => l.msg === 'request failed');
      assert.ok(failed, 'the failure is logged');
      assert.match(String(failed.reqId), /^req-/);
      assert.equal(failed.route, '/broken');
      const err = failed.err as { type?: string; message?: string; stack?: string };
      assert.equal(err.type, 'Error', 'the error went through pino’s serializer');
      assert.equal(err.message, 'boom');
      assert.match(String(err.stack), /boom/);
    } finally {
      await app.close();
    }
  });

  it('reports the parent’s level until a level is set on it', () => {
    const logger = capturing([]);
    const app = createHttpApp({ bodyBytesMax: 1 << 16, logger });
    const factory = app.childLoggerFactory;
    const child = factory.call(app, app.log, { reqId: 'r1' }, {}, {} as never);
    assert.equal(child.level, 'info');
    child.level = 'warn';
    assert.equal(child.level, 'warn');
    assert.equal(app.log.level, 'info', 'the parent keeps its own');
  });
});
