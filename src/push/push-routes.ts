import { Type } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import type { AllowList } from '../outbound/index.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { PushNotifier } from './push-notifier.js';
import type { Pusher, PusherStore } from './pusher-store.js';

// REST for a device's pusher (docs/push.md): where its push gateway is, and its token there.

const pusherView = (p: Pusher) => ({ url: p.url, token: p.token, createdAt: p.createdAtMs });

export function registerPushRoutes(
  app: HttpApp,
  deps: {
    store: PusherStore;
    notifier: PushNotifier;
    /**
     * The operator's gateways (PARLEY_PUSH_GATEWAYS), the very list the notifier's requests are
     * checked against; empty: pushers are refused.
     */
    gateways: AllowList;
    authenticate: Authenticate;
  },
): void {
  const onRequest = requireSession(deps.authenticate);

  app.get('/v1/me/pusher', { onRequest }, async (request) => {
    const { userId, device } = sessionOf(request);
    const pusher = await deps.store.get(userId, device);
    return { pusher: pusher ? pusherView(pusher) : null };
  });

  app.put(
    '/v1/me/pusher',
    {
      onRequest,
      schema: {
        body: Type.Object({
          url: Type.String({ maxLength: 2048 }),
          token: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
        }),
      },
    },
    async (request) => {
      const { userId, device } = sessionOf(request);
      const { url, token } = request.body;
      // Only the operator's gateways: a pusher makes this server POST to its URL, which must not
      // be an arbitrary address on the server's network (src/outbound/url-rule.ts).
      if (deps.gateways.size === 0) {
        throw new ParleyError('invalid_pusher', 'This server sends no push notifications.');
      }
      if (!deps.gateways.permits(url)) throw new ParleyError('invalid_pusher');
      const pusher: Pusher = { userId, device, url, token: token ?? null, createdAtMs: Date.now() };
      await deps.store.set(pusher);
      deps.notifier.noteUser(userId);
      return { pusher: pusherView(pusher) };
    },
  );

  app.delete('/v1/me/pusher', { onRequest }, async (request, reply) => {
    const { userId, device } = sessionOf(request);
    await deps.store.remove(userId, device);
    return reply.code(204).send();
  });
}
