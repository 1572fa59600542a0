import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ParleyError } from '../core/errors.js';
import type { RequestSlots } from '../core/request-slots.js';
import type { Session } from '../auth/store/index.js';

/** The Fastify instance every capability registers its routes on. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Resolves a bearer token to its session; the auth capability provides it. */
export type Authenticate = (token: string | undefined) => Promise<Session>;

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

const sessions = new WeakMap<FastifyRequest, Session>();

/**
 * An onRequest hook that rejects the request with 401 unless it carries a valid bearer token.
 * It runs before the body is read, so anonymous callers cannot make the server parse bodies.
 */
export function requireSession(authenticate: Authenticate) {
  return async (request: FastifyRequest): Promise<void> => {
    sessions.set(request, await authenticate(bearerToken(request)));
  };
}

/** The session a requireSession hook attached to this request. */
export function sessionOf(request: FastifyRequest): Session {
  const session = sessions.get(request);
  if (!session) throw new ParleyError('unauthenticated');
  return session;
}

/**
 * Holds one of the caller's read slots (core/request-slots.ts) until the response has been
 * written or its connection closed, not merely until the handler returns: a client that does not
 * read its answer keeps the slot, so it cannot make the server hold more answers than it has
 * slots.
 */
export async function holdReadSlot(
  reads: RequestSlots,
  key: string,
  reply: FastifyReply,
): Promise<void> {
  const release = await reads.acquire(key);
  reply.raw.once('close', release);
}
