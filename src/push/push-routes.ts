import { Type } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/http-app.js';
import type { PushNotifier } from './push-notifier.js';
import type { Pusher, PusherStore } from './pusher-store.js';

// REST for a device's pusher (docs/push.md): where its push gateway is, and its token there.

const pusherView = (p: Pusher) => ({ url: p.url, token: p.token, createdAt: p.createdAtMs });

export function registerPushRoutes(
  app: HttpApp,
  deps: {
    store: PusherStore;
    notifier: PushNotifier;
    /** URL prefixes a pusher may use (PARLEY_PUSH_GATEWAYS); none: pushers are refused. */
    gateways: readonly string[];
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
      // be an arbitrary address on the server's network.
      if (!/^https?:\/\//.test(url) || !deps.gateways.some((prefix) => url.startsWith(prefix))) {
        throw new ParleyError(
          'invalid_pusher',
          deps.gateways.length === 0 ? 'This server sends no push notifications.' : undefined,
        );
      }
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
