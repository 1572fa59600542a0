import type { Metadata } from '@grpc/grpc-js';
import { ParleyError } from '../core/errors.js';
import type { Session } from '../auth/index.js';
import type { RpcHandlers } from '../rpc/index.js';
import type { SeedApi, SeedMode } from './seed-api.js';
import { withSeedHint } from './seed-routes.js';

// IMService: the seed's Send and Pull over gRPC, with exactly the semantics of /api/send and
// /api/pull, because both go through the same SeedApi. In `auth` seed mode the end user's bearer
// token travels in the metadata key `parley-user-token` (the HTTP route's Authorization header);
// in `open` mode none is needed, as on HTTP.

export const USER_TOKEN_KEY = 'parley-user-token';

/** What a refused caller reads: a client ported from the seeds sends no user token. */
const USER_TOKEN_HINT = `IMService needs the user's bearer token in the metadata key ${USER_TOKEN_KEY}; an operator can run it open, for the seed's clients, with PARLEY_SEED_API=open.`;

export interface ImServiceDeps {
  readonly seed: SeedApi;
  readonly mode: SeedMode;
  readonly authenticate: (token: string | undefined) => Promise<Session>;
}

export function imServiceHandlers(deps: ImServiceDeps): RpcHandlers<'IMService'> {
  const { seed, mode } = deps;
  const authenticate = withSeedHint(deps.authenticate, USER_TOKEN_HINT);
  const sessionOf = async (metadata: Metadata): Promise<Session | null> => {
    if (mode === 'open') return null;
    const value = metadata.get(USER_TOKEN_KEY)[0];
    return authenticate(typeof value === 'string' ? value : undefined);
  };
  return {
    Send: async (request, metadata) => {
      const session = await sessionOf(metadata);
      const message = request.message;
      if (!message) throw new ParleyError('invalid_request', '"message" is required.');
      const { sendTime, seq } = await seed.send(
        { chat: message.chat, text: message.text, sender: message.sender },
        session,
      );
      return { code: 0, msg: 'success', send_time: sendTime, seq };
    },
    Pull: async (request, metadata) => {
      const session = await sessionOf(metadata);
      const page = await seed.pull(
        {
          chat: request.chat,
          cursor: request.cursor,
          limit: request.limit,
          reverse: request.reverse,
        },
        session,
      );
      return {
        code: 0,
        msg: 'success',
        messages: page.messages,
        has_more: page.has_more,
        next_cursor: page.next_cursor,
      };
    },
  };
}
