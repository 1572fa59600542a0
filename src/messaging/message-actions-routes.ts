import { Type } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { FastifyRequest } from 'fastify';
import type { Messaging } from './messaging.js';
import type { Caller } from './model.js';
import { messageView } from './message-view.js';

// REST for what members do to single messages and to their own view of a conversation
// (docs/rest-api.md#message-actions): edit, recall, delete for me, reactions, pin and mute.
// Refusals are coded errors and change nothing.

const Params = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Type.Integer({ minimum: 0 }),
});
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** Bounded before the rules check it in code points (an emoji may take several units). */
const Emoji = Type.String({ minLength: 1, maxLength: 256 });

const callerOf = (request: FastifyRequest): Caller => {
  const s = sessionOf(request);
  return { userId: s.userId, device: s.device };
};

export interface MessageActionRouteDeps {
  messaging: Messaging;
  authenticate: Authenticate;
  /** Spends the caller's send budget (edit, recall and reactions write messages too). */
  preHandler: (request: FastifyRequest) => Promise<void>;
}

/** The session check every route runs first. */
type OnRequest = ReturnType<typeof requireSession>;

export function registerMessageActionRoutes(app: HttpApp, deps: MessageActionRouteDeps): void {
  const onRequest = requireSession(deps.authenticate);
  registerEditRoutes(app, deps, onRequest);
  registerReactionRoutes(app, deps, onRequest);
}

/** Edit, recall and hide (docs/messages.md). */
function registerEditRoutes(
  app: HttpApp,
  deps: MessageActionRouteDeps,
  onRequest: OnRequest,
): void {
  const { messaging, preHandler } = deps;
  app.patch(
    '/v1/conversations/:id/messages/:seq',
    {
      onRequest,
      preHandler,
      schema: {
        params: Params,
        body: Type.Object({ body: Type.Object({}, { additionalProperties: true }) }),
      },
    },
    async (request) => {
      const { id, seq } = request.params;
      const edited = await messaging.messages.edit(callerOf(request), id, seq, request.body.body);
      return { message: messageView(edited) };
    },
  );

  app.post(
    '/v1/conversations/:id/messages/:seq/recall',
    { onRequest, preHandler, schema: { params: Params } },
    async (request) => {
      const { id, seq } = request.params;
      return { message: messageView(await messaging.messages.recall(callerOf(request), id, seq)) };
    },
  );

  app.post(
    '/v1/conversations/:id/messages/:seq/hide',
    { onRequest, schema: { params: Params } },
    async (request) => {
      const { id, seq } = request.params;
      await messaging.messages.hide(callerOf(request), id, seq);
      return { conversation: id, seq, hidden: true };
    },
  );
}

/** Reactions, and the caller's own preferences of a conversation. */
function registerReactionRoutes(
  app: HttpApp,
  deps: MessageActionRouteDeps,
  onRequest: OnRequest,
): void {
  const { messaging, preHandler } = deps;
  app.post(
    '/v1/conversations/:id/messages/:seq/reactions',
    { onRequest, preHandler, schema: { params: Params, body: Type.Object({ emoji: Emoji }) } },
    async (request) => {
      const { id, seq } = request.params;
      const r = await messaging.messages.react(
        callerOf(request),
        id,
        seq,
        request.body.emoji,
        true,
      );
      return { emoji: r.emoji, count: r.count, me: true };
    },
  );

  // The emoji goes in the query: path segments are capped at 100 characters, and an emoji
  // sequence can take more once URL-encoded.
  app.delete(
    '/v1/conversations/:id/messages/:seq/reactions',
    {
      onRequest,
      preHandler,
      schema: { params: Params, querystring: Type.Object({ emoji: Emoji }) },
    },
    async (request) => {
      const { id, seq } = request.params;
      const r = await messaging.messages.react(
        callerOf(request),
        id,
        seq,
        request.query.emoji,
        false,
      );
      return { emoji: r.emoji, count: r.count, me: false };
    },
  );

  app.patch(
    '/v1/conversations/:id/preferences',
    {
      onRequest,
      schema: {
        params: Id,
        body: Type.Object({
          pinned: Type.Optional(Type.Boolean()),
          muted: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request) => {
      const { pinned, muted } = request.body;
      if (pinned === undefined && muted === undefined) {
        throw new ParleyError('invalid_request', 'Set pinned, muted, or both.');
      }
      const view = await messaging.conversations.setPreferences(
        callerOf(request),
        request.params.id,
        {
          ...(pinned !== undefined ? { pinned } : {}),
          ...(muted !== undefined ? { notificationsMuted: muted } : {}),
        },
      );
      return { preferences: { pinned: view.pinned, muted: view.notificationsMuted } };
    },
  );
}
