import { Type } from '@fastify/type-provider-typebox';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { Profile } from './profile-store.js';
import type { UsersService } from './users-service.js';

// REST for profiles and user search (docs/contacts.md#users). Field rules are UsersService's.

export const profileView = (p: Profile) => ({
  id: p.userId,
  username: p.username,
  displayName: p.displayName,
  bio: p.bio,
  avatar: p.avatar,
});

const Field = Type.Optional(Type.Union([Type.String(), Type.Null()]));

export function registerUserRoutes(
  app: HttpApp,
  deps: { users: UsersService; authenticate: Authenticate },
): void {
  const { users } = deps;
  const onRequest = requireSession(deps.authenticate);

  app.get(
    '/v1/users',
    {
      onRequest,
      schema: {
        querystring: Type.Object({
          prefix: Type.String(),
          after: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
      },
    },
    async (request) => {
      const { prefix, after, limit } = request.query;
      const page = await users.search(prefix, {
        ...(after !== undefined ? { after } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return { users: page.users.map(profileView), next: page.next };
    },
  );

  app.get(
    '/v1/users/:username',
    { onRequest, schema: { params: Type.Object({ username: Type.String({ maxLength: 64 }) }) } },
    async (request) => ({ user: profileView(await users.profile(request.params.username)) }),
  );

  app.patch(
    '/v1/me/profile',
    {
      onRequest,
      schema: {
        body: Type.Object(
          { displayName: Field, bio: Field, avatar: Field },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => ({
      user: profileView(await users.update(sessionOf(request).userId, request.body)),
    }),
  );
}
