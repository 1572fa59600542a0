import { Type } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { FastifyRequest } from 'fastify';
import type { GroupChanged } from './events.js';
import type { Messaging } from './messaging.js';
import type { Caller } from './model.js';
import type { GroupAction } from './store/index.js';
import { messageView } from './message-view.js';

// REST for managing groups (docs/groups.md). Every change answers with the system message that
// records it in the conversation's seq stream; refusals are coded errors and change nothing.

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const IdAndUser = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  user: Type.String({ minLength: 1, maxLength: 64 }),
});
const History = Type.Union([Type.Literal('join'), Type.Literal('full')]);

const callerOf = (request: FastifyRequest): Caller => {
  const s = sessionOf(request);
  return { userId: s.userId, device: s.device };
};

const answer = (changed: GroupChanged) => ({ message: messageView(changed.message) });

/** Exactly one of the listed fields must be set: one change, one system message. */
function onlyOne<T extends object>(body: T, fields: readonly (keyof T & string)[]): keyof T {
  const set = fields.filter((f) => body[f] !== undefined);
  if (set.length !== 1 || set[0] === undefined) {
    throw new ParleyError('invalid_request', `Set exactly one of: ${fields.join(', ')}.`);
  }
  return set[0];
}

export interface GroupRouteDeps {
  messaging: Messaging;
  authenticate: Authenticate;
}

/** The session check every route runs first. */
type OnRequest = ReturnType<typeof requireSession>;

export function registerGroupRoutes(app: HttpApp, deps: GroupRouteDeps): void {
  const onRequest = requireSession(deps.authenticate);
  registerMemberRoutes(app, deps, onRequest);
  registerGroupSettingRoutes(app, deps, onRequest);
  registerInviteRoutes(app, deps, onRequest);
}

/** Adding, removing and changing members (docs/groups.md). */
function registerMemberRoutes(app: HttpApp, deps: GroupRouteDeps, onRequest: OnRequest): void {
  const { messaging } = deps;
  app.post(
    '/v1/conversations/:id/members',
    {
      onRequest,
      schema: { params: Id, body: Type.Object({ members: Type.Array(Type.String()) }) },
    },
    async (request) =>
      answer(
        await messaging.groups.addMembers(
          callerOf(request),
          request.params.id,
          request.body.members,
        ),
      ),
  );

  // Removing oneself (`me` or one's own id) is leaving: a group, or a room (no message).
  app.delete(
    '/v1/conversations/:id/members/:user',
    { onRequest, schema: { params: IdAndUser } },
    async (request) => {
      const caller = callerOf(request);
      const { id, user } = request.params;
      if (user === 'me' || user === caller.userId) {
        const changed = await messaging.groups.leave(caller, id);
        return changed ? answer(changed) : { message: null };
      }
      const action: GroupAction = { type: 'remove', userId: user };
      return answer(await messaging.groups.changeGroup(caller, id, action));
    },
  );

  // One of: role (admin or member; owner transfers ownership), muted.
  app.patch(
    '/v1/conversations/:id/members/:user',
    {
      onRequest,
      schema: {
        params: IdAndUser,
        body: Type.Object({
          role: Type.Optional(
            Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]),
          ),
          muted: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request) => {
      const { body } = request;
      const userId = request.params.user;
      let action: GroupAction;
      if (onlyOne(body, ['role', 'muted']) === 'muted') {
        action = { type: 'mute', userId, muted: body.muted === true };
      } else if (body.role === 'owner') {
        action = { type: 'transfer', userId };
      } else {
        action = { type: 'role', userId, role: body.role === 'admin' ? 'admin' : 'member' };
      }
      return answer(
        await messaging.groups.changeGroup(callerOf(request), request.params.id, action),
      );
    },
  );

  // One of: title, muted (the whole group), history, avatar (an attachment id, or null).
}

/** A group's settings, and leaving or dismissing it. */
function registerGroupSettingRoutes(
  app: HttpApp,
  deps: GroupRouteDeps,
  onRequest: OnRequest,
): void {
  const { messaging } = deps;
  app.patch(
    '/v1/conversations/:id',
    {
      onRequest,
      schema: {
        params: Id,
        body: Type.Object({
          title: Type.Optional(Type.String()),
          muted: Type.Optional(Type.Boolean()),
          history: Type.Optional(History),
          avatar: Type.Optional(
            Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
          ),
        }),
      },
    },
    async (request) => {
      const { body } = request;
      const field = onlyOne(body, ['title', 'muted', 'history', 'avatar']);
      let action: GroupAction;
      switch (field) {
        case 'title':
          action = { type: 'title', title: body.title ?? '' };
          break;
        case 'muted':
          action = { type: 'muteAll', muted: body.muted === true };
          break;
        case 'history':
          action = { type: 'history', history: body.history ?? 'join' };
          break;
        default:
          action = { type: 'avatar', avatar: body.avatar ?? null };
      }
      return answer(
        await messaging.groups.changeGroup(callerOf(request), request.params.id, action),
      );
    },
  );

  // Invite codes (docs/groups.md#invite-codes): admins create (or replace), read and revoke the
  // group's one code; anyone holding it may join.
  app.delete('/v1/conversations/:id', { onRequest, schema: { params: Id } }, async (request) =>
    answer(
      await messaging.groups.changeGroup(callerOf(request), request.params.id, { type: 'dismiss' }),
    ),
  );
}

/** A group's invite code, and joining by it (docs/groups.md#invite-codes). */
function registerInviteRoutes(app: HttpApp, deps: GroupRouteDeps, onRequest: OnRequest): void {
  const { messaging } = deps;
  app.post(
    '/v1/conversations/:id/invite',
    { onRequest, schema: { params: Id } },
    async (request, reply) => {
      const code = await messaging.groups.createInvite(callerOf(request), request.params.id);
      return reply.code(201).send({ conversation: request.params.id, code });
    },
  );

  app.get(
    '/v1/conversations/:id/invite',
    { onRequest, schema: { params: Id } },
    async (request) => ({
      conversation: request.params.id,
      code: await messaging.groups.getInvite(callerOf(request), request.params.id),
    }),
  );

  app.delete(
    '/v1/conversations/:id/invite',
    { onRequest, schema: { params: Id } },
    async (request, reply) => {
      await messaging.groups.revokeInvite(callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/invites/:code/join',
    {
      onRequest,
      schema: { params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }) },
    },
    async (request) =>
      answer(await messaging.groups.joinByInvite(callerOf(request), request.params.code)),
  );

  // Dismissing keeps the history readable for its members; nothing can be sent any more.
}
