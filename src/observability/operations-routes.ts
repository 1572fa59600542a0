import type { HttpApp } from '../server/index.js';
import type { Health } from './health.js';
import type { ParleyMetrics } from './metrics.js';

// GET /metrics, /healthz and /readyz (docs/operations.md). They need no token: operators keep
// them off the public side of the load balancer (metrics and readiness reveal load, not data).
// Also times every HTTP request into /metrics, so it is registered on the root app, before the
// other routes.

export function registerOperationsRoutes(
  app: HttpApp,
  deps: { readonly metrics: ParleyMetrics; readonly health: Health },
): void {
  const { metrics, health } = deps;

  // The route pattern, never the URL: a token or an id in a path must not become a label.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(
      request.routeOptions.url,
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });

  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const r = await health.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: r.ready ? 'ready' : 'not_ready', draining: r.draining, checks: r.checks });
  });
}
