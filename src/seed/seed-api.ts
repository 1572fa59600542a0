import { ParleyError } from '../core/errors.js';
import { newRef } from '../core/ids.js';
import type { Limits } from '../core/limits.js';
import { isUsername, normalizeUsername } from '../core/names.js';
import type { Session, UserDirectory } from '../auth/index.js';
import {
  checkRoomName,
  validateBody,
  type MessageActionEvents,
  type MessagingEvents,
  type Messaging,
} from '../messaging/index.js';

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

/**
 * What the seed routes call: a full node's SeedApi, or an HTTP role's SeedForwarder, which has
 * another node's IMService do the work (docs/rpc.md). The session is null in open mode.
 */
export interface SeedEndpoint {
  send(input: SeedSend, session: Session | null): Promise<{ sendTime: number; seq: number }>;
  /** The pull's answer as the JSON text the route sends. */
  pullJson(input: SeedPull, session: Session | null): Promise<string>;
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

const CONVERSATION_IDS_MAX = 100_000;
const PAGE_CONVERSATIONS_MAX = 10_000;
const PAGES_PER_CONVERSATION_MAX = 64;

/**
 * Serialized pull pages per conversation. A generation counter per conversation keeps a page
 * read before a commit from being cached after that commit's invalidation.
 */
class PageCache {
  private readonly pages = new Map<string, Map<string, string>>();
  /** conversation → the counter's value at its last invalidation. */
  private readonly generations = new Map<string, number>();
  /** Rises with every invalidation, never falls. */
  private counter = 0;
  /** The counter when `generations` was last cleared: what a forgotten conversation reports. */
  private floor = 0;

  get(conversationId: string, key: string): string | undefined {
    return this.pages.get(conversationId)?.get(key);
  }

  generation(conversationId: string): number {
    return this.generations.get(conversationId) ?? this.floor;
  }

  put(conversationId: string, key: string, json: string, generation: number): void {
    if (this.generation(conversationId) !== generation) return;
    let pages = this.pages.get(conversationId);
    if (!pages) {
      if (this.pages.size >= PAGE_CONVERSATIONS_MAX) this.pages.clear();
      pages = new Map();
      this.pages.set(conversationId, pages);
    }
    if (pages.size >= PAGES_PER_CONVERSATION_MAX) pages.clear();
    pages.set(key, json);
  }

  invalidate(conversationId: string): void {
    this.pages.delete(conversationId);
    if (this.generations.size >= PAGE_CONVERSATIONS_MAX) {
      // Forgetting generations must not make an old read look current: everyone moves up.
      this.generations.clear();
      this.floor = this.counter;
    }
    this.generations.set(conversationId, ++this.counter);
  }
}

const roomKey = (name: string): string => `room\u0000${name}`;
const directKey = (a: string, b: string): string =>
  a < b ? `direct\u0000${a}\u0000${b}` : `direct\u0000${b}\u0000${a}`;

export class SeedApi implements SeedEndpoint {
  private readonly mode: SeedMode;
  private readonly messaging: Messaging;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  /**
   * Chat → conversation id. A direct chat's conversation and a room's id never change, so the
   * seed routes, which name conversations by chat on every request, skip those lookups.
   */
  private readonly conversationIds = new Map<string, string>();
  private readonly pages: PageCache | null;

  constructor(deps: {
    mode: SeedMode;
    messaging: Messaging;
    users: UserDirectory;
    limits: Limits;
    /** Cache open-mode pull pages; only where this process sees every write (one node). */
    cachePages: boolean;
  }) {
    this.pages = deps.cachePages && deps.mode === 'open' ? new PageCache() : null;
    this.mode = deps.mode;
    this.messaging = deps.messaging;
    this.users = deps.users;
    this.limits = deps.limits;
  }

  async send(input: SeedSend, session: Session | null): Promise<{ sendTime: number; seq: number }> {
    const sender = normalizeUsername(input.sender);
    const chat = parseChat(input.chat, this.limits);
    // Everything in the request itself is checked before anything is written. (A block between
    // the two users of an a:b chat is checked at commit, after the chat may have been opened.)
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
    const conversationId = await this.conversationForSend(chat, sender, userId);
    const { message } = await this.messaging.messages.send(
      { userId, device },
      conversationId,
      newRef(),
      body,
    );
    return { sendTime: message.atUs, seq: message.seq };
  }

  /**
   * The pull's answer as JSON text. On a single node, pages are cached until their conversation
   * changes: every write goes through this process, so its events are a complete invalidation.
   */
  async pullJson(input: SeedPull, session: Session | null): Promise<string> {
    const cache = this.pages;
    if (!cache) return JSON.stringify(await this.pull(input, session));
    const chat = parseChat(input.chat, this.limits);
    const conversationId = await this.findConversation(chat);
    if (conversationId === null) return JSON.stringify(await this.pull(input, session));
    const key = `${input.cursor}|${input.limit}|${input.reverse}|${input.chat}`;
    const hit = cache.get(conversationId, key);
    if (hit !== undefined) return hit;
    const generation = cache.generation(conversationId);
    const json = JSON.stringify(await this.pull(input, session));
    cache.put(conversationId, key, json, generation);
    return json;
  }

  /** Drops cached pages of conversations that changed (see pullJson). */
  readonly pageEvents: MessagingEvents = {
    messageStored: (m) => this.pages?.invalidate(m.conversationId),
    messageRecalled: (m) => this.pages?.invalidate(m.conversationId),
    watermarkMoved: () => undefined,
    membersChanged: () => undefined,
    // The system message of a change comes through messageStored.
    groupChanged: () => undefined,
  };

  /** Edits change a page's text; reactions and hidden messages are not part of the seed API. */
  readonly pageActionEvents: MessageActionEvents = {
    messageEdited: (m) => this.pages?.invalidate(m.conversationId),
    reactionChanged: () => undefined,
    messageHidden: () => undefined,
  };

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
    const conversationId = await this.findConversation(chat);
    if (conversationId === null) return { messages: [], has_more: false, next_cursor: 0 };
    // Open mode reads for anyone; auth mode for members only (session is set: checked above).
    const reader = this.mode === 'auth' && session ? session.userId : null;
    const page = await this.messaging.messages.timeline(reader, conversationId, {
      cursorUs: input.cursor > 0 ? input.cursor : 0,
      newestFirst: !input.reverse,
      limit: input.limit,
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

  /** The conversation a send goes to: the room (joined if need be) or the direct chat. */
  private async conversationForSend(
    chat: ChatRef,
    sender: string,
    senderId: string,
  ): Promise<string> {
    if (chat.kind === 'room') {
      const known = this.conversationIds.get(roomKey(chat.name));
      if (known !== undefined && (await this.messaging.membership.isMember(known, senderId)))
        return known;
      const { conversation } = await this.messaging.conversations.joinRoom(
        { userId: senderId, device: SEED_DEVICE },
        chat.name,
      );
      this.remember(roomKey(chat.name), conversation.id);
      return conversation.id;
    }
    const peerName = chat.pair[0] === sender ? chat.pair[1] : chat.pair[0];
    let peerId: string;
    if (this.mode === 'open') {
      peerId = (await this.users.ensure([peerName]))[0]!.id;
    } else {
      const peer = (await this.users.byUsername([peerName])).get(peerName);
      if (!peer) throw new ParleyError('user_not_found', `No user named "${peerName}".`);
      peerId = peer.id;
    }
    const key = directKey(senderId, peerId);
    const known = this.conversationIds.get(key);
    if (known !== undefined) return known;
    const { conversation } = await this.messaging.conversations.openDirectWith(senderId, peerId);
    this.remember(key, conversation.id);
    return conversation.id;
  }

  /** The conversation a pull reads, or null when it does not exist (yet). */
  private async findConversation(chat: ChatRef): Promise<string | null> {
    if (chat.kind === 'room') {
      const known = this.conversationIds.get(roomKey(chat.name));
      if (known !== undefined) return known;
      const room = await this.messaging.conversations.findRoom(chat.name);
      if (room) this.remember(roomKey(chat.name), room.id);
      return room?.id ?? null;
    }
    const users = await this.users.byUsername(chat.pair);
    const a = users.get(chat.pair[0]);
    const b = users.get(chat.pair[1]);
    if (!a || !b) return null;
    const key = directKey(a.id, b.id);
    const known = this.conversationIds.get(key);
    if (known !== undefined) return known;
    const direct = await this.messaging.conversations.findDirect(a.id, b.id);
    if (direct) this.remember(key, direct.id);
    return direct?.id ?? null;
  }

  private remember(key: string, conversationId: string): void {
    if (this.conversationIds.size >= CONVERSATION_IDS_MAX) this.conversationIds.clear();
    this.conversationIds.set(key, conversationId);
  }
}
