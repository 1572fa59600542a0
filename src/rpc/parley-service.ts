import { ParleyError } from '../core/errors.js';
import { newRef } from '../core/ids.js';
import { normalizeUsername } from '../core/names.js';
import type { AuthService, User, UserDirectory } from '../auth/index.js';
import type { DeliveryRouter } from '../delivery/index.js';
import type {
  Caller,
  Conversation,
  GroupAction,
  GroupChanged,
  Messaging,
} from '../messaging/index.js';
import type { RpcHandlers } from './rpc-server.js';
import type { RpcConversation } from './schema.js';

// ParleyService: what other backends call, server to server (docs/rpc.md). The caller is trusted
// by its service token and acts as the user it names; every rule still applies to that user
// (membership, roles, blocks, mutes), exactly as if the user had made the request.

const DEVICE_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Most usernames one presence lookup may ask about. */
export const PRESENCE_USERS_MAX = 1_000;

export interface ParleyServiceDeps {
  readonly messaging: Messaging;
  readonly users: UserDirectory;
  readonly auth: AuthService;
  readonly router: DeliveryRouter;
}

export function conversationMessage(c: Conversation): RpcConversation {
  return {
    id: c.id,
    kind: c.kind,
    title: c.title ?? '',
    name: c.name ?? '',
    last_seq: c.lastSeq,
    created_at: c.createdAtMs,
  };
}

function deviceOf(device: string, fallback: string): string {
  if (device === '') return fallback;
  if (!DEVICE_RE.test(device)) {
    throw new ParleyError(
      'invalid_request',
      'device is 1 to 64 of A-Z, a-z, 0-9, "_", ".", ":" or "-".',
    );
  }
  return device;
}

function parseBody(request: { text: string; body_json: string }): unknown {
  if (request.body_json === '') return { kind: 'text', text: request.text };
  if (request.text !== '') {
    throw new ParleyError('invalid_request', 'Give either text or body_json, not both.');
  }
  try {
    return JSON.parse(request.body_json) as unknown;
  } catch (err) {
    throw new ParleyError('invalid_json', 'body_json is not valid JSON.', { cause: err });
  }
}

export function parleyServiceHandlers(deps: ParleyServiceDeps): RpcHandlers<'ParleyService'> {
  const { messaging, users } = deps;

  const user = async (username: unknown): Promise<User> => {
    const name = normalizeUsername(username);
    const found = (await users.byUsername([name])).get(name);
    if (!found) throw new ParleyError('user_not_found', `No user named "${name}".`);
    return found;
  };
  const actor = async (username: unknown): Promise<Caller> => ({
    userId: (await user(username)).id,
    device: 'rpc',
  });
  const changed = (c: GroupChanged) => ({
    conversation: conversationMessage(c.conversation),
    seq: c.message.seq,
  });

  return {
    SendMessage: async (request) => {
      const body = parseBody(request);
      const sender = request.bot
        ? (await users.ensure([normalizeUsername(request.sender)]))[0]!
        : await user(request.sender);
      const caller: Caller = {
        userId: sender.id,
        device: deviceOf(request.device, request.bot ? 'bot' : 'rpc'),
      };
      const { message, duplicate } = await messaging.messages.send(
        caller,
        request.conversation_id,
        request.ref === '' ? newRef() : request.ref,
        body,
      );
      return {
        message_id: message.id,
        seq: message.seq,
        at: Math.floor(message.atUs / 1000),
        duplicate,
      };
    },

    OpenDirect: async (request) => {
      const [a, b] = await Promise.all([user(request.user), user(request.peer)]);
      if (a.id === b.id) {
        throw new ParleyError('invalid_request', 'A direct conversation needs another user.');
      }
      const { conversation, created } = await messaging.conversations.openDirectWith(a.id, b.id);
      return { conversation: conversationMessage(conversation), created };
    },

    CreateGroup: async (request) => {
      const history = request.history === '' ? 'join' : request.history;
      if (history !== 'join' && history !== 'full') {
        throw new ParleyError('invalid_request', 'history is "join" or "full".');
      }
      const owner = await actor(request.owner);
      const group = await messaging.groups.createGroup(
        owner,
        request.title,
        request.members,
        history,
      );
      return { conversation: conversationMessage(group) };
    },

    AddMembers: async (request) =>
      changed(
        await messaging.groups.addMembers(
          await actor(request.actor),
          request.conversation_id,
          request.members,
        ),
      ),

    RemoveMember: async (request) => {
      const by = await actor(request.actor);
      const target = await user(request.member);
      const action: GroupAction =
        target.id === by.userId ? { type: 'leave' } : { type: 'remove', userId: target.id };
      return changed(await messaging.groups.changeGroup(by, request.conversation_id, action));
    },

    SetMemberRole: async (request) => {
      const by = await actor(request.actor);
      const target = await user(request.member);
      let action: GroupAction;
      switch (request.role) {
        case 'owner':
          action = { type: 'transfer', userId: target.id };
          break;
        case 'admin':
        case 'member':
          action = { type: 'role', userId: target.id, role: request.role };
          break;
        default:
          throw new ParleyError('invalid_request', 'role is "owner", "admin" or "member".');
      }
      return changed(await messaging.groups.changeGroup(by, request.conversation_id, action));
    },

    GetPresence: async (request) => {
      if (request.usernames.length > PRESENCE_USERS_MAX) {
        throw new ParleyError('invalid_request', `At most ${PRESENCE_USERS_MAX} usernames.`);
      }
      const names = request.usernames.map(normalizeUsername);
      const found = await users.byUsername([...new Set(names)]);
      const online = await deps.router.online([...found.values()].map((u) => u.id));
      return {
        users: names.map((username) => {
          const u = found.get(username);
          return { username, exists: u !== undefined, online: u !== undefined && online.has(u.id) };
        }),
      };
    },

    SearchMessages: async (request) => {
      const viewer = await user(request.user);
      const page = await messaging.messages.search(
        { userId: viewer.id, device: 'rpc' },
        {
          q: request.query,
          ...(request.conversation_id !== '' ? { conversationId: request.conversation_id } : {}),
          ...(request.before !== '' ? { before: request.before } : {}),
          ...(request.limit > 0 ? { limit: request.limit } : {}),
        },
      );
      return {
        messages: page.messages.map((m) => ({
          conversation_id: m.conversationId,
          seq: m.seq,
          message_id: m.id,
          sender: m.senderId,
          body_json: JSON.stringify(m.body),
          at: Math.floor(m.atUs / 1000),
        })),
        next: page.next ?? '',
      };
    },

    VerifyToken: async (request) => {
      const session = await deps.auth.authenticate(request.token);
      return {
        user_id: session.userId,
        username: session.username,
        device: session.device,
        created_at: session.createdAtMs,
      };
    },
  };
}
