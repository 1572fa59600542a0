import { ParleyError } from '../core/errors.js';
import { newRef } from '../core/ids.js';
import type { Limits } from '../core/limits.js';
import { isUsername, normalizeUsername } from '../core/names.js';
import type { Session, UserDirectory } from '../auth/index.js';
import { checkRoomName, type MessagingService } from './messaging-service.js';
import { validateBody } from './message-body.js';
import type { Conversation, MessageStore } from './message-store.js';

// The HTTP API of the TikTok Tech Immersion chat assignment, on top of Parley's conversations.
// A chat "a:b" (two valid usernames) is the direct conversation of a and b; any other name is a
// room. `send_time` is the message's microsecond timestamp, strictly increasing per chat, so the
// time cursor pages without skipping or repeating. See docs/seed-api.md.

export type SeedMode = 'open' | 'auth';

/** The device that seed sends in open mode are recorded under. */
export const SEED_DEVICE = 'seed-api';

export interface SeedSend {
  readonly chat: string;
  readonly text: string;
  readonly sender: string;
}

export interface SeedPull {
  readonly chat: string;
  readonly cursor: number;
  readonly limit: number;
  readonly reverse: boolean;
}

export interface SeedMessage {
  chat: string;
  text: string;
  sender: string;
  send_time: number;
}

export interface SeedPage {
  messages: SeedMessage[];
  has_more: boolean;
  next_cursor: number;
}

type ChatRef = { kind: 'direct'; pair: [string, string] } | { kind: 'room'; name: string };

export function parseChat(chat: string, limits: Limits): ChatRef {
  const parts = chat.split(':');
  if (parts.length === 2) {
    const [a, b] = parts.map((p) => p.toLowerCase()) as [string, string];
    if (isUsername(a) && isUsername(b)) {
      if (a === b)
        throw new ParleyError('invalid_chat', 'A direct chat "a:b" needs two different users.');
      return { kind: 'direct', pair: [a, b] };
    }
  }
  try {
    return { kind: 'room', name: checkRoomName(chat, limits) };
  } catch (err) {
    throw new ParleyError('invalid_chat', undefined, { cause: err });
  }
}

export class SeedApi {
  private readonly mode: SeedMode;
  private readonly messaging: MessagingService;
  private readonly store: MessageStore;
  private readonly users: UserDirectory;
  private readonly limits: Limits;

  constructor(deps: {
    mode: SeedMode;
    messaging: MessagingService;
    store: MessageStore;
    users: UserDirectory;
    limits: Limits;
  }) {
    this.mode = deps.mode;
    this.messaging = deps.messaging;
    this.store = deps.store;
    this.users = deps.users;
    this.limits = deps.limits;
  }

  async send(input: SeedSend, session: Session | null): Promise<{ sendTime: number; seq: number }> {
    const sender = normalizeUsername(input.sender);
    const chat = parseChat(input.chat, this.limits);
    // Everything that can refuse the send is checked before anything is written.
    const body = validateBody({ kind: 'text', text: input.text }, this.limits);
    if (chat.kind === 'direct' && !chat.pair.includes(sender)) {
      throw new ParleyError('not_member', 'The sender of an "a:b" chat must be a or b.');
    }
    let userId: string;
    let device: string;
    if (this.mode === 'open') {
      userId = (await this.users.ensure([sender]))[0]!.id;
      device = SEED_DEVICE;
    } else {
      if (!session) throw new ParleyError('unauthenticated');
      if (session.username !== sender) throw new ParleyError('sender_mismatch');
      userId = session.userId;
      device = session.device;
    }
    const conversation = await this.conversationForSend(chat, sender, userId);
    const { message } = await this.messaging.send(
      { userId, device },
      conversation.id,
      newRef(),
      body,
    );
    return { sendTime: message.atUs, seq: message.seq };
  }

  async pull(input: SeedPull, session: Session | null): Promise<SeedPage> {
    const chat = parseChat(input.chat, this.limits);
    if (this.mode === 'auth' && !session) throw new ParleyError('unauthenticated');
    if (
      session &&
      this.mode === 'auth' &&
      chat.kind === 'direct' &&
      !chat.pair.includes(session.username)
    ) {
      throw new ParleyError('not_member');
    }
    const conversation = await this.findConversation(chat);
    if (!conversation) return { messages: [], has_more: false, next_cursor: 0 };
    if (this.mode === 'auth' && session)
      await this.messaging.requireMember(conversation.id, session.userId);
    const page = await this.store.pageByTime(conversation.id, {
      cursorUs: input.cursor > 0 ? input.cursor : 0,
      newestFirst: !input.reverse,
      limit: this.messaging.pageLimit(input.limit),
    });
    const names = await this.users.usernames(new Set(page.messages.map((m) => m.senderId)));
    const messages = page.messages.map((m) => ({
      chat: input.chat,
      text: m.body.text ?? '',
      sender: names.get(m.senderId) ?? '',
      send_time: m.atUs,
    }));
    const last = messages[messages.length - 1];
    return {
      messages,
      has_more: page.hasMore,
      next_cursor: page.hasMore && last ? last.send_time : 0,
    };
  }

  private async conversationForSend(
    chat: ChatRef,
    sender: string,
    senderId: string,
  ): Promise<Conversation> {
    if (chat.kind === 'room') {
      return (await this.messaging.joinRoom({ userId: senderId, device: SEED_DEVICE }, chat.name))
        .conversation;
    }
    if (!chat.pair.includes(sender))
      throw new ParleyError('not_member', 'The sender of an "a:b" chat must be a or b.');
    const peerName = chat.pair[0] === sender ? chat.pair[1] : chat.pair[0];
    let peerId: string;
    if (this.mode === 'open') {
      peerId = (await this.users.ensure([peerName]))[0]!.id;
    } else {
      const peer = (await this.users.byUsername([peerName])).get(peerName);
      if (!peer) throw new ParleyError('user_not_found', `No user named "${peerName}".`);
      peerId = peer.id;
    }
    return (await this.messaging.openDirectWith(senderId, peerId)).conversation;
  }

  private async findConversation(chat: ChatRef): Promise<Conversation | null> {
    if (chat.kind === 'room') return this.store.findRoom(chat.name);
    const users = await this.users.byUsername(chat.pair);
    const a = users.get(chat.pair[0]);
    const b = users.get(chat.pair[1]);
    return a && b ? this.store.findDirect(a.id, b.id) : null;
  }
}
