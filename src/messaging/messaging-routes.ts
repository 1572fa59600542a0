import { Type } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import type { UserDirectory } from '../auth/index.js';
import {
  holdReadSlot,
  requireSession,
  sessionOf,
  type Authenticate,
  type HttpApp,
} from '../server/index.js';
import type { FastifyRequest } from 'fastify';
import type { Messaging } from './messaging.js';
import type { Caller, ConversationListItem } from './model.js';
import type { Conversation, ConversationView, Member } from './model.js';
import { registerMessageActionRoutes } from './message-actions-routes.js';
import { messageView } from './message-view.js';
import type { SendBudget } from './send-budget.js';
import type { UserBudget } from '../core/user-budget.js';
import type { RequestSlots } from '../core/request-slots.js';

// REST for conversations and messages (docs/rest-api.md). Times are epoch milliseconds (`at`,
// `createdAt`); the seed API alone speaks microseconds.

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** The most conversations one page of GET /v1/conversations holds. */
const CONVERSATION_PAGE_MAX = 200;
const Seq = Type.Integer({ minimum: 0 });

const CreateConversation = Type.Union([
  Type.Object({ kind: Type.Literal('direct'), with: Type.String() }),
  Type.Object({
    kind: Type.Literal('group'),
    title: Type.String(),
    members: Type.Array(Type.String()),
    history: Type.Optional(Type.Union([Type.Literal('join'), Type.Literal('full')])),
  }),
  Type.Object({ kind: Type.Literal('room'), name: Type.String() }),
]);

/**
 * A preHandler for the routes that write messages: takes one send from the caller's budget (after
 * authentication and validation, so a refused request costs nothing), or answers 429.
 */
function spendsBudget(budget: UserBudget) {
  // A rejection goes to the error handler like any other refusal.
  return (request: FastifyRequest): Promise<void> =>
    budget.take(sessionOf(request).userId, Date.now());
}

/** A conversation list entry: the view, the caller's preferences, mentions and last message. */
function listItemView(c: ConversationListItem) {
  return {
    ...conversationView(c, c),
    mentions: c.mentions,
    preferences: { pinned: c.pinned, muted: c.notificationsMuted },
    lastMessage: c.last ? messageView(c.last) : null,
  };
}

function conversationView(c: Conversation, me?: ConversationView | Member) {
  return {
    id: c.id,
    kind: c.kind,
    ...(c.name !== null ? { name: c.name } : {}),
    ...(c.title !== null ? { title: c.title } : {}),
    createdAt: c.createdAtMs,
    lastSeq: c.lastSeq,
    lastAt: c.lastAtUs > 0 ? Math.floor(c.lastAtUs / 1000) : null,
    ...(c.kind === 'group'
      ? {
          history: c.history,
          muted: c.mutedAll,
          dismissedAt: c.dismissedAtMs,
          avatar: c.avatar,
        }
      : {}),
    ...(me
      ? {
          role: me.role,
          readSeq: me.readSeq,
          deliveredSeq: me.deliveredSeq,
          unread: Math.max(0, c.lastSeq - me.readSeq),
        }
      : {}),
  };
}

const callerOf = (request: FastifyRequest): Caller => {
  const s = sessionOf(request);
  return { userId: s.userId, device: s.device };
};

export interface MessagingRouteDeps {
  messaging: Messaging;
  users: UserDirectory;
  authenticate: Authenticate;
  sendBudget: SendBudget;
  /** Searches per user: each may scan thousands of index entries (docs/messages.md#search). */
  searchBudget?: UserBudget;
  /** Heavy reads in flight per user on this node, shared with the real-time gateway. */
  reads: RequestSlots;
}

/** The session check every route runs first. */
type OnRequest = ReturnType<typeof requireSession>;

export function registerMessagingRoutes(app: HttpApp, deps: MessagingRouteDeps): void {
  const onRequest = requireSession(deps.authenticate);
  const preHandler = spendsBudget(deps.sendBudget);
  registerMessageActionRoutes(app, {
    messaging: deps.messaging,
    authenticate: deps.authenticate,
    preHandler,
  });
  registerConversationRoutes(app, deps, onRequest);
  registerMessageRoutes(app, deps, onRequest, preHandler);
  registerSearchAndReadRoutes(app, deps, onRequest);
}

/** Opening, listing and reading conversations. */
function registerConversationRoutes(
  app: HttpApp,
  deps: MessagingRouteDeps,
  onRequest: OnRequest,
): void {
  const { messaging, users } = deps;
  app.post(
    '/v1/conversations',
    { onRequest, schema: { body: CreateConversation } },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      let conversation: Conversation;
      let created = true;
      switch (body.kind) {
        case 'direct':
          ({ conversation, created } = await messaging.conversations.openDirect(caller, body.with));
          break;
        case 'group':
          conversation = await messaging.groups.createGroup(
            caller,
            body.title,
            body.members,
            body.history,
          );
          break;
        case 'room':
          ({ conversation, created } = await messaging.conversations.joinRoom(caller, body.name));
          break;
      }
      const { members } = await messaging.conversations.get(caller, conversation.id);
      return reply
        .code(created ? 201 : 200)
        .send(await withMembers(conversation, members, caller, users));
    },
  );

  app.get(
    '/v1/conversations',
    {
      onRequest,
      schema: {
        querystring: Type.Object({
          after: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CONVERSATION_PAGE_MAX })),
        }),
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      // Without a limit or a cursor, the whole list (as before paging existed).
      if (after === undefined && limit === undefined) {
        const list = await messaging.conversations.list(callerOf(request));
        return { conversations: list.map(listItemView), next: null };
      }
      const page = await messaging.conversations.listPage(callerOf(request), {
        after,
        limit: limit ?? CONVERSATION_PAGE_MAX,
      });
      return { conversations: page.conversations.map(listItemView), next: page.next };
    },
  );

  app.get('/v1/conversations/:id', { onRequest, schema: { params: Id } }, async (request) => {
    const caller = callerOf(request);
    const { conversation, members } = await messaging.conversations.get(caller, request.params.id);
    return withMembers(conversation, members, caller, users);
  });
}

/** Sending and reading history. */
function registerMessageRoutes(
  app: HttpApp,
  deps: MessagingRouteDeps,
  onRequest: OnRequest,
  /** Spends the caller's send budget. */
  preHandler: ReturnType<typeof spendsBudget>,
): void {
  const { messaging, reads } = deps;
  app.post(
    '/v1/conversations/:id/messages',
    {
      onRequest,
      preHandler,
      schema: {
        params: Id,
        body: Type.Object({
          ref: Type.String(),
          body: Type.Object({}, { additionalProperties: true }),
        }),
      },
    },
    async (request, reply) => {
      const { message, duplicate } = await messaging.messages.send(
        callerOf(request),
        request.params.id,
        request.body.ref,
        request.body.body,
      );
      return reply
        .code(duplicate ? 200 : 201)
        .send({ id: message.id, seq: message.seq, at: Math.floor(message.atUs / 1000), duplicate });
    },
  );

  app.get(
    '/v1/conversations/:id/messages',
    {
      onRequest,
      schema: {
        params: Id,
        querystring: Type.Object({
          after: Type.Optional(Seq),
          before: Type.Optional(Seq),
          limit: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
      },
    },
    async (request, reply) => {
      const { after, before, limit } = request.query;
      const caller = callerOf(request);
      await holdReadSlot(reads, caller.userId, reply);
      const page = await messaging.messages.history(caller, request.params.id, {
        ...(after !== undefined ? { after } : {}),
        ...(before !== undefined ? { before } : {}),
        limit: messaging.messages.pageLimit(limit),
      });
      return { messages: page.messages.map(messageView), hasMore: page.hasMore };
    },
  );
}

/** Search, and moving the read watermark. */
function registerSearchAndReadRoutes(
  app: HttpApp,
  deps: MessagingRouteDeps,
  onRequest: OnRequest,
): void {
  const { messaging, reads } = deps;
  app.get(
    '/v1/search',
    {
      onRequest,
      ...(deps.searchBudget ? { preHandler: spendsBudget(deps.searchBudget) } : {}),
      schema: {
        querystring: Type.Object({
          q: Type.String(),
          conversation: Type.Optional(Type.String({ maxLength: 100 })),
          before: Type.Optional(Type.String({ maxLength: 100 })),
          limit: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
      },
    },
    async (request, reply) => {
      const { q, conversation, before, limit } = request.query;
      const caller = callerOf(request);
      await holdReadSlot(reads, caller.userId, reply);
      const page = await messaging.messages.search(caller, {
        q,
        ...(conversation !== undefined ? { conversationId: conversation } : {}),
        ...(before !== undefined ? { before } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return { messages: page.messages.map(messageView), next: page.next };
    },
  );

  app.post(
    '/v1/conversations/:id/read',
    { onRequest, schema: { params: Id, body: Type.Object({ seq: Seq }) } },
    async (request) => {
      const member = await messaging.conversations.markRead(
        callerOf(request),
        request.params.id,
        request.body.seq,
      );
      return { readSeq: member.readSeq, deliveredSeq: member.deliveredSeq };
    },
  );
}

async function withMembers(
  conversation: Conversation,
  members: Member[],
  caller: Caller,
  users: UserDirectory,
) {
  const me = members.find((m) => m.userId === caller.userId);
  if (!me) throw new ParleyError('not_member');
  const names = await users.usernames(members.map((m) => m.userId));
  return {
    ...conversationView(conversation, me),
    members: members.map((m) => ({
      id: m.userId,
      username: names.get(m.userId) ?? null,
      role: m.role,
      ...(conversation.kind === 'group' ? { muted: m.muted } : {}),
      // Every member's watermarks, for delivered and read ticks after a reload.
      deliveredSeq: m.deliveredSeq,
      readSeq: m.readSeq,
    })),
  };
}
