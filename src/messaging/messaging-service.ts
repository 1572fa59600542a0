import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { normalizeUsername } from '../core/names.js';
import type { UserDirectory } from '../auth/index.js';
import type { GroupCommitter } from './group-commit.js';
import { validateBody, validateRef } from './message-body.js';
import type {
  Conversation,
  ConversationView,
  Member,
  MessageStore,
  Page,
  SeqPage,
  StoredMessage,
} from './message-store.js';

/** Who is acting: the authenticated user and the device the request came from. */
export interface Caller {
  readonly userId: string;
  readonly device: string;
}

export interface SendOutcome {
  readonly message: StoredMessage;
  readonly duplicate: boolean;
}

/** Called after a message is committed, never for a duplicate. Must not throw. */
export type StoredListener = (message: StoredMessage) => void;

export interface MessagingDeps {
  readonly store: MessageStore;
  readonly committer: GroupCommitter;
  readonly users: UserDirectory;
  readonly limits: Limits;
}

// Printable: no control characters, which could forge log lines or break clients.
// eslint-disable-next-line no-control-regex
const ROOM_NAME_RE = /^[^\u0000-\u001f\u007f]+$/;

export function checkRoomName(name: unknown, limits: Limits): string {
  if (typeof name !== 'string' || name.length > limits.titleCharsMax || !ROOM_NAME_RE.test(name)) {
    throw new ParleyError(
      'invalid_request',
      `A room name is 1 to ${limits.titleCharsMax} printable characters.`,
    );
  }
  return name;
}

/** The rules of conversations and messages, shared by every interface (REST, seed API, real time). */
export class MessagingService {
  private readonly store: MessageStore;
  private readonly committer: GroupCommitter;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  private readonly listeners: StoredListener[] = [];

  constructor(deps: MessagingDeps) {
    this.store = deps.store;
    this.committer = deps.committer;
    this.users = deps.users;
    this.limits = deps.limits;
  }

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  /** Validates, then stores through group commit. Resolves only after the commit. */
  async send(
    caller: Caller,
    conversationId: string,
    ref: unknown,
    body: unknown,
  ): Promise<SendOutcome> {
    const request = {
      conversationId,
      senderId: caller.userId,
      device: caller.device,
      ref: validateRef(ref, this.limits),
      body: validateBody(body, this.limits),
    };
    const result = await this.committer.submit(request);
    if (!result.ok) throw result.error;
    if (!result.duplicate) for (const listener of this.listeners) listener(result.message);
    return { message: result.message, duplicate: result.duplicate };
  }

  async history(caller: Caller, conversationId: string, page: SeqPage): Promise<Page> {
    await this.requireMember(conversationId, caller.userId);
    return this.store.pageBySeq(conversationId, { ...page, limit: this.pageLimit(page.limit) });
  }

  /** The direct conversation with another user, created on first use. */
  async openDirect(
    caller: Caller,
    withUsername: unknown,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const name = normalizeUsername(withUsername);
    const peer = (await this.users.byUsername([name])).get(name);
    if (!peer) throw new ParleyError('user_not_found', `No user named "${name}".`);
    if (peer.id === caller.userId) {
      throw new ParleyError('invalid_request', 'A direct conversation needs another user.');
    }
    return this.store.openDirect(caller.userId, peer.id);
  }

  async createGroup(caller: Caller, title: unknown, memberNames: unknown): Promise<Conversation> {
    if (
      typeof title !== 'string' ||
      title.trim() === '' ||
      title.length > this.limits.titleCharsMax
    ) {
      throw new ParleyError(
        'invalid_request',
        `title must be 1 to ${this.limits.titleCharsMax} characters.`,
      );
    }
    if (!Array.isArray(memberNames))
      throw new ParleyError('invalid_request', 'members must be an array of usernames.');
    const names = [...new Set(memberNames.map(normalizeUsername))];
    if (names.length + 1 > this.limits.groupMembersMax) throw new ParleyError('too_many_members');
    const found = await this.users.byUsername(names);
    const unknown = names.filter((n) => !found.has(n));
    if (unknown.length > 0)
      throw new ParleyError(
        'user_not_found',
        `No user named ${unknown.map((n) => `"${n}"`).join(', ')}.`,
      );
    const memberIds = [...found.values()].map((u) => u.id).filter((id) => id !== caller.userId);
    return this.store.createGroup({ title, ownerId: caller.userId, memberIds });
  }

  joinRoom(
    caller: Caller,
    name: unknown,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    return this.store.joinRoom(checkRoomName(name, this.limits), caller.userId);
  }

  list(caller: Caller): Promise<ConversationView[]> {
    return this.store.listConversations(caller.userId);
  }

  /** A conversation with its members, for a member only. */
  async get(
    caller: Caller,
    conversationId: string,
  ): Promise<{ conversation: Conversation; members: Member[] }> {
    const conversation = await this.requireMember(conversationId, caller.userId);
    return { conversation, members: await this.store.listMembers(conversationId) };
  }

  async markRead(caller: Caller, conversationId: string, seq: number): Promise<Member> {
    await this.requireMember(conversationId, caller.userId);
    return this.store.markRead(conversationId, caller.userId, seq);
  }

  /** Throws conversation_not_found or not_member unless the user may read the conversation. */
  async requireMember(conversationId: string, userId: string): Promise<Conversation> {
    const [conversation, member] = await Promise.all([
      this.store.getConversation(conversationId),
      this.store.getMember(conversationId, userId),
    ]);
    if (!conversation) throw new ParleyError('conversation_not_found');
    if (!member) throw new ParleyError('not_member');
    return conversation;
  }

  pageLimit(asked: number | undefined): number {
    if (asked === undefined || !Number.isFinite(asked) || asked <= 0)
      return this.limits.pullCountDefault;
    return Math.min(Math.floor(asked), this.limits.pullCountMax);
  }
}
