import type { Session } from '../auth/index.js';
import type { RpcClient } from '../rpc/index.js';
import type { Authenticate } from '../server/index.js';
import { USER_TOKEN_KEY } from './im-service.js';
import type { SeedEndpoint, SeedPull, SeedSend } from './seed-api.js';

// The seed HTTP API of a `--role http` node: the same routes (registerSeedRoutes), but SeedApi's
// work is done by another node's IMService, as the seeds split their HTTP server from their RPC
// server. The HTTP side parses and checks the request exactly as a full node does; the RPC node
// applies the rules; its coded errors come back unchanged (rpc/status.ts), so a client cannot
// tell the two setups apart.
//
// In `auth` mode the token is checked up front (ParleyService.VerifyToken), before the body is
// read, as a full node checks it; the token then rides along with Send and Pull so that the RPC
// node acts for that user.

export class SeedForwarder implements SeedEndpoint {
  private readonly client: RpcClient;
  /** The token each request's session came from; sessions are per request, so this never grows. */
  private readonly tokens = new WeakMap<Session, string>();

  constructor(client: RpcClient) {
    this.client = client;
  }

  /** For requireSession: resolves a bearer token through the RPC node. */
  readonly authenticate: Authenticate = async (token) => {
    const verified = await this.client.call('ParleyService', 'VerifyToken', { token: token ?? '' });
    const session: Session = {
      userId: verified.user_id,
      username: verified.username,
      device: verified.device,
      createdAtMs: verified.created_at,
      // The RPC node just used it, and recorded that.
      lastSeenMs: Date.now(),
    };
    if (token !== undefined) this.tokens.set(session, token);
    return session;
  };

  async send(input: SeedSend, session: Session | null): Promise<{ sendTime: number; seq: number }> {
    const answer = await this.client.call(
      'IMService',
      'Send',
      { message: { chat: input.chat, text: input.text, sender: input.sender, send_time: 0 } },
      this.userToken(session),
    );
    return { sendTime: answer.send_time, seq: answer.seq };
  }

  /** The page as a full node writes it: the same keys, in the same order. */
  async pullJson(input: SeedPull, session: Session | null): Promise<string> {
    const page = await this.client.call(
      'IMService',
      'Pull',
      { chat: input.chat, cursor: input.cursor, limit: input.limit, reverse: input.reverse },
      this.userToken(session),
    );
    return JSON.stringify({
      messages: page.messages.map((m) => ({
        chat: m.chat,
        text: m.text,
        sender: m.sender,
        send_time: m.send_time,
      })),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    });
  }

  private userToken(session: Session | null): Record<string, string> {
    const token = session ? this.tokens.get(session) : undefined;
    return token !== undefined ? { [USER_TOKEN_KEY]: token } : {};
  }
}
