// Serves the built web client (web/dist, docs/web-client.md) at `/`. Every other route keeps
// priority: Fastify's router prefers a registered path to this wildcard, and an unknown path under
// an API prefix still gets the JSON 404. An unknown path without a file extension is a client-side
// route (`/c/…`) and gets index.html; an unknown file is a 404.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { HttpApp } from './http-app.js';

export interface WebClientOptions {
  /** The absolute path of the built client: the directory holding index.html. */
  readonly dir: string;
}

/** Paths that belong to the APIs: an unknown one there is an API 404, never the client's page. */
const API_PREFIXES = ['/v1', '/api', '/ws'];

/**
 * The page's own policy: scripts, styles and connections from this origin only; images and media
 * also from `blob:` (attachments are fetched with the bearer token, then shown as object URLs).
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT =
  'The Parley web client is not built.\n\n' +
  'Run `npm run build` (server and client) or `npm run build:web` (the client only), then\n' +
  'restart the server. The APIs under /v1, /api and /ws work without it.\n';

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(p + '/'));
}

/**
 * Registers the client's routes. Returns false, after registering only a plain-text 404 at `/`
 * that says how to build it, when `dir` holds no index.html.
 */
export async function registerWebClient(app: HttpApp, options: WebClientOptions): Promise<boolean> {
  if (!existsSync(join(options.dir, 'index.html'))) {
    app.get('/', (_request, reply) =>
      reply.code(404).type('text/plain; charset=utf-8').send(NOT_BUILT),
    );
    return false;
  }
  // `serve: false`: only the sendFile decorator (path checks, ranges, ETags); the route is ours.
  await app.register(fastifyStatic, { root: options.dir, serve: false });
  app.get('/*', (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path)) return reply.callNotFound();
    reply.header('x-content-type-options', 'nosniff');
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (!last.includes('.')) {
      reply
        .header('content-security-policy', PAGE_POLICY)
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache');
      return reply.sendFile('index.html', { cacheControl: false });
    }
    // Vite names the files under assets/ by their content hash, so they never change.
    const hashed = path.startsWith('/assets/');
    return reply.sendFile(path.slice(1), hashed ? { maxAge: '365d', immutable: true } : {});
  });
  return true;
}
