import { Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireSession, sessionOf, type Authenticate, type HttpApp } from '../server/index.js';
import type { ContactEntry, ContactListKind } from './contact-store.js';
import type { Actor, ContactList, ContactsService } from './contacts-service.js';

// REST for contacts (docs/contacts.md). Users are named by username in paths and bodies; field
// rules (username, note) are checked by ContactsService so every interface refuses alike.

const Username = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
const Page = {
  after: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
};

const actorOf = (request: FastifyRequest): Actor => {
  const s = sessionOf(request);
  return { userId: s.userId, username: s.username };
};

const entryView = (e: ContactEntry, withNote: boolean) => ({
  user: { id: e.userId, username: e.username },
  since: e.sinceMs,
  ...(withNote && e.note !== null ? { note: e.note } : {}),
});

function listView(key: string, list: ContactList, withNote: boolean) {
  return { [key]: list.entries.map((e) => entryView(e, withNote)), next: list.next };
}

export function registerContactRoutes(
  app: HttpApp,
  deps: { contacts: ContactsService; authenticate: Authenticate },
): void {
  const { contacts } = deps;
  const onRequest = requireSession(deps.authenticate);
  const relation = (state: string) => ({ state });

  app.get(
    '/v1/contacts',
    { onRequest, schema: { querystring: Type.Object(Page) } },
    async (request) =>
      listView('contacts', await contacts.list(actorOf(request), 'contacts', request.query), false),
  );

  app.get(
    '/v1/contacts/requests',
    {
      onRequest,
      schema: {
        querystring: Type.Object({
          direction: Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')], {
            default: 'incoming',
          }),
          ...Page,
        }),
      },
    },
    async (request) => {
      const { direction, ...page } = request.query;
      const kind: ContactListKind = direction;
      return listView('requests', await contacts.list(actorOf(request), kind, page), true);
    },
  );

  app.get(
    '/v1/contacts/blocked',
    { onRequest, schema: { querystring: Type.Object(Page) } },
    async (request) =>
      listView('blocked', await contacts.list(actorOf(request), 'blocked', request.query), false),
  );

  app.post(
    '/v1/contacts/requests',
    {
      onRequest,
      schema: {
        body: Type.Object({
          username: Type.String(),
          note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        }),
      },
    },
    async (request, reply) => {
      const { username, note } = request.body;
      const state = await contacts.request(actorOf(request), username, note);
      // 201: a request now waits; 200: it met their request and made you contacts at once.
      return reply.code(state === 'outgoing' ? 201 : 200).send(relation(state));
    },
  );

  app.post(
    '/v1/contacts/requests/:username/accept',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.accept(actorOf(request), request.params.username)),
  );

  app.post(
    '/v1/contacts/requests/:username/decline',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.decline(actorOf(request), request.params.username)),
  );

  app.delete(
    '/v1/contacts/requests/:username',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.cancel(actorOf(request), request.params.username)),
  );

  app.delete(
    '/v1/contacts/:username',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.remove(actorOf(request), request.params.username)),
  );

  app.post(
    '/v1/contacts/:username/block',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.block(actorOf(request), request.params.username)),
  );

  app.delete(
    '/v1/contacts/:username/block',
    { onRequest, schema: { params: Username } },
    async (request) => relation(await contacts.unblock(actorOf(request), request.params.username)),
  );
}
