import { Readable } from 'node:stream';
import type { UserBudget } from '../core/user-budget.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import { exportUser, type ExportDeps } from './data-export.js';

// GET /v1/me/export: the caller's data, as a JSON download (data-export.ts).

export function registerExportRoutes(
  app: HttpApp,
  deps: { data: ExportDeps; budget: UserBudget; authenticate: Authenticate },
): void {
  const onRequest = requireSession(deps.authenticate);
  app.get('/v1/me/export', { onRequest }, async (request, reply) => {
    const { userId, username } = sessionOf(request);
    // An export reads everything the user has: a few per hour are plenty.
    await deps.budget.take(userId, Date.now());
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="parley-export-${username}.json"`)
      .send(Readable.from(exportUser(deps.data, userId)));
  });
}
