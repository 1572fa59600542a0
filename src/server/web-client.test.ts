// Proves over real sockets that the web client is served at `/` with its client-side routes
// falling back to index.html, that API paths keep their JSON 404 and their routes keep priority,
// that hashed assets are cached for good, and that without a build `/` says how to make one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../core/logger.js';
import { http } from '../test-support/server.js';
import { createHttpApp } from './http-server.js';
import type { HttpApp } from './http-app.js';
import { registerWebClient } from './web-client.js';

const INDEX =
  '<!doctype html><title>Parley</title><script type="module" src="/assets/app-1a2b.js"></script>';

async function serve(dir: string): Promise<{ app: HttpApp; url: string; built: boolean }> {
  const app = createHttpApp({ bodyBytesMax: 1 << 20, logger: createLogger('silent', 'test') });
  app.get('/v1/known', () => ({ ok: true }));
  app.get('/ping', () => ({ message: 'pong' }));
  const built = await registerWebClient(app, { dir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, built };
}

describe('web client serving: a built client', () => {
  let base: string;
  let dir: string;
  let app: HttpApp;
  let url: string;

  before(async () => {
    // A secret beside the served directory: no path may reach it.
    base = mkdtempSync(join(tmpdir(), 'parley-web-'));
    writeFileSync(join(base, 'secret.txt'), 'SECRET');
    dir = join(base, 'dist');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1);');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const served = await serve(dir);
    assert.equal(served.built, true);
    ({ app, url } = served);
  });

  after(async () => {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves index.html at / and for client-side routes, never cached, with a CSP', async () => {
    for (const path of ['/', '/c/cAbc123', '/c/cAbc123?x=1', '/settings']) {
      const res = await http('GET', url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.text, INDEX, path);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /script-src|default-src 'self'/);
    }
  });

  it('serves files, hashed assets cached for good', async () => {
    const js = await http('GET', `${url}/assets/app-1a2b.js`);
    assert.equal(js.status, 200);
    assert.equal(js.text, 'console.log(1);');
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(String(js.headers['cache-control']), /max-age=31536000.*immutable/);
    const icon = await http('GET', `${url}/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.doesNotMatch(String(icon.headers['cache-control']), /immutable/);
  });

  it('keeps the API: its routes win, and unknown API paths get the JSON 404', async () => {
    assert.deepEqual((await http('GET', `${url}/v1/known`)).json, { ok: true });
    assert.deepEqual((await http('GET', `${url}/ping`)).json, { message: 'pong' });
    for (const path of ['/v1/unknown', '/v1', '/api/nothing', '/ws/x']) {
      const res = await http('GET', url + path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json?.error?.code, 'not_found', path);
    }
  });

  it('answers a missing file or a path outside the directory with a 404, not the page', async () => {
    for (const path of [
      '/assets/missing.js',
      '/nope.png',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
    ]) {
      const res = await http('GET', url + path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json?.error?.code, 'not_found', path);
      assert.doesNotMatch(res.text, /SECRET/, path);
    }
  });
});

describe('web client serving: no build', () => {
  let dir: string;
  let app: HttpApp;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-web-'));
    const served = await serve(dir);
    assert.equal(served.built, false);
    ({ app, url } = served);
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers / with a plain 404 that says how to build the client; the API still works', async () => {
    const res = await http('GET', `${url}/`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.text, /npm run build/);
    assert.deepEqual((await http('GET', `${url}/v1/known`)).json, { ok: true });
    assert.equal((await http('GET', `${url}/c/x`)).json?.error?.code, 'not_found');
  });
});
