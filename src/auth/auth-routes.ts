import { Type } from '@fastify/type-provider-typebox';
import { bearerToken, requireSession, sessionOf, type HttpApp } from '../server/index.js';
import type { AuthService, Credentials } from './auth-service.js';

// REST for accounts. Field rules (username pattern, password length) are checked by AuthService,
// so that every interface refuses the same input with the same code.
const CredentialsBody = Type.Object({
  username: Type.String(),
  password: Type.String(),
  device: Type.Optional(Type.String()),
  // The key a login on this device returned (login-sources.ts); a stale one is ignored.
  deviceKey: Type.Optional(Type.String({ maxLength: 128 })),
});

const credentialsView = (c: Credentials) => ({
  user: { id: c.user.id, username: c.user.username },
  token: c.token,
  device: c.device,
  deviceKey: c.deviceKey,
});

export function registerAuthRoutes(app: HttpApp, auth: AuthService): void {
  const authenticated = requireSession((token) => auth.authenticate(token));

  app.post('/v1/auth/register', { schema: { body: CredentialsBody } }, async (request, reply) => {
    const { username, password, device } = request.body;
    const credentials = await auth.register(username, password, device, { address: request.ip });
    return reply.code(201).send(credentialsView(credentials));
  });

  app.post('/v1/auth/login', { schema: { body: CredentialsBody } }, async (request) => {
    const { username, password, device, deviceKey } = request.body;
    return credentialsView(
      await auth.login(username, password, device, { address: request.ip, deviceKey }),
    );
  });

  app.post('/v1/auth/logout', { onRequest: authenticated }, async (request, reply) => {
    await auth.logout(bearerToken(request) ?? '');
    return reply.code(204).send();
  });

  app.get('/v1/me/sessions', { onRequest: authenticated }, async (request) => ({
    sessions: (await auth.sessions(sessionOf(request))).map((s) => ({
      device: s.device,
      createdAt: s.createdAtMs,
      lastSeenAt: s.lastSeenMs,
      current: s.current,
    })),
  }));

  app.delete(
    '/v1/me/sessions/:device',
    {
      onRequest: authenticated,
      schema: { params: Type.Object({ device: Type.String({ maxLength: 64 }) }) },
    },
    async (request, reply) => {
      await auth.revokeDevice(sessionOf(request), request.params.device);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/me/password',
    {
      onRequest: authenticated,
      schema: {
        body: Type.Object(
          { currentPassword: Type.String(), newPassword: Type.String() },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { currentPassword, newPassword } = request.body;
      await auth.changePassword(sessionOf(request), currentPassword, newPassword, request.ip);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/me',
    {
      onRequest: authenticated,
      schema: {
        body: Type.Object({ password: Type.String() }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      await auth.deleteAccount(sessionOf(request), request.body.password, request.ip);
      return reply.code(204).send();
    },
  );

  app.get('/v1/me', { onRequest: authenticated }, (request) => {
    const session = sessionOf(request);
    return { user: { id: session.userId, username: session.username }, device: session.device };
  });
}
