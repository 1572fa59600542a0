import type { UserBudget } from '../core/user-budget.js';
import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { Clock } from '../core/clock.js';
import { normalizeUsername } from '../core/names.js';
import type { UserDirectory } from '../auth/index.js';
import {
  compareListKeys,
  decodeListCursor,
  encodeListCursor,
  listKey,
  withSummaries,
} from './conversation-list.js';
import type { DirectGuard } from './direct-guard.js';
import type { MessagingHub } from './events.js';
import type { Membership } from './membership.js';
import type {
  Caller,
  Conversation,
  ConversationListItem,
  ConversationView,
  Member,
  PreferencesChange,
} from './model.js';
import type { ConversationStore, InboxStore, MemberStore } from './store/index.js';

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

/** What the conversation service needs. */
export interface ConversationServiceDeps {
  readonly store: {
    readonly conversations: ConversationStore;
    readonly members: MemberStore;
    readonly inbox: InboxStore;
  };
  readonly events: MessagingHub;
  readonly membership: Membership;
  readonly users: UserDirectory;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly guard: DirectGuard | undefined;
  readonly firstContacts: UserBudget | undefined;
}

/**
 * Conversations as their members see them: opening direct chats, joining rooms, the list and its
 * pages, one's own preferences and watermarks, and whose presence one sees.
 */
export class ConversationService {
  private readonly store: ConversationServiceDeps['store'];
  private readonly events: MessagingHub;
  private readonly membership: Membership;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  private readonly clock: Clock;
  private readonly guard: DirectGuard | undefined;
  private readonly firstContacts: UserBudget | undefined;

  constructor(deps: ConversationServiceDeps) {
    this.store = deps.store;
    this.events = deps.events;
    this.membership = deps.membership;
    this.users = deps.users;
    this.limits = deps.limits;
    this.clock = deps.clock;
    this.guard = deps.guard;
    this.firstContacts = deps.firstContacts;
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
    // Blocks and deleted accounts are refused before the budget is spent or anything created.
    await this.guard?.assertMayMessage(caller.userId, peer.id);
    if (
      this.firstContacts &&
      !(await this.store.conversations.findDirect(caller.userId, peer.id))
    ) {
      await this.firstContacts.take(caller.userId, this.clock.nowMs());
    }
    return this.openDirectChecked(caller.userId, peer.id);
  }

  /** The direct conversation of two users by id, or null when they have none (yet). */
  findDirect(userA: string, userB: string): Promise<Conversation | null> {
    return this.store.conversations.findDirect(userA, userB);
  }

  /**
   * The users who share a current conversation with this user (not dismissed groups): who
   * shows its profile, with its contacts (users/profile-push.ts).
   */
  sharedWith(userId: string): Promise<string[]> {
    return this.store.members.sharedWith(userId);
  }

  /** The room of this name, or null. */
  findRoom(name: string): Promise<Conversation | null> {
    return this.store.conversations.findRoom(name);
  }

  /** The direct conversation of two users by id, created on first use. */
  async openDirectWith(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    // Blocks: refused before anything is created (userA is the one opening it).
    await this.guard?.assertMayMessage(userA, userB);
    return this.openDirectChecked(userA, userB);
  }

  /** openDirectWith once the guard has passed. */
  private async openDirectChecked(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const opened = await this.store.conversations.openDirect(userA, userB);
    if (opened.created) {
      this.events.membersChanged(opened.conversation.id);
      this.events.directOpened(opened.conversation.id, [userA, userB]);
    }
    return opened;
  }

  async joinRoom(
    caller: Caller,
    name: unknown,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const joined = await this.store.conversations.joinRoom(
      checkRoomName(name, this.limits),
      caller.userId,
    );
    this.events.membersChanged(joined.conversation.id);
    return joined;
  }

  /**
   * The caller's conversations, pinned ones first, then by last activity; each with its last
   * message (the newest the caller may see and did not hide; long texts cut short) and the
   * count of unread messages that mention the caller or @all.
   */
  async list(caller: Caller): Promise<ConversationListItem[]> {
    return withSummaries(
      this.store.inbox,
      this.limits.previewCharsMax,
      caller.userId,
      await this.store.inbox.listConversations(caller.userId),
    );
  }

  /**
   * One page of list(), in the same order, for a user with many conversations: the last
   * messages and mention counts are read for that page only. `after` is the `next` of the page
   * before: a position in the order (pinned, activity, id), so a conversation that moves up
   * meanwhile is not shown twice on later pages (sync reports what changed).
   */
  async listPage(
    caller: Caller,
    page: { after?: string | undefined; limit: number },
  ): Promise<{ conversations: ConversationListItem[]; next: string | null }> {
    const after = page.after === undefined ? null : decodeListCursor(page.after);
    const views = (await this.store.inbox.listConversations(caller.userId))
      .map((v) => ({ v, key: listKey(v) }))
      .sort((a, b) => compareListKeys(a.key, b.key))
      .filter(({ key }) => after === null || compareListKeys(key, after) > 0);
    const taken = views.slice(0, page.limit);
    const last = taken.at(-1);
    return {
      conversations: await withSummaries(
        this.store.inbox,
        this.limits.previewCharsMax,
        caller.userId,
        taken.map(({ v }) => v),
      ),
      next: views.length > page.limit && last ? encodeListCursor(last.key) : null,
    };
  }

  /** Sets the caller's own pin and notification mute of a conversation. */
  async setPreferences(
    caller: Caller,
    conversationId: string,
    change: PreferencesChange,
  ): Promise<ConversationView> {
    await this.membership.requireMember(conversationId, caller.userId);
    return this.store.inbox.setPreferences(
      conversationId,
      caller.userId,
      change,
      this.limits.pinsMax,
    );
  }

  /** A conversation with its members, for a member only. */
  async get(
    caller: Caller,
    conversationId: string,
  ): Promise<{ conversation: Conversation; members: Member[] }> {
    const conversation = await this.membership.requireMember(conversationId, caller.userId);
    return { conversation, members: await this.store.members.listMembers(conversationId) };
  }

  async markRead(caller: Caller, conversationId: string, seq: number): Promise<Member> {
    await this.membership.requireMember(conversationId, caller.userId);
    const member = await this.store.members.markRead(conversationId, caller.userId, seq);
    this.events.watermarkMoved(member, 'read');
    return member;
  }

  async markDelivered(caller: Caller, conversationId: string, seq: number): Promise<Member> {
    await this.membership.requireMember(conversationId, caller.userId);
    const member = await this.store.members.markDelivered(conversationId, caller.userId, seq);
    this.events.watermarkMoved(member, 'delivered');
    return member;
  }

  /**
   * Users whose presence this user sees, and who see theirs: its direct peers, less any pair the
   * guard bars (either side blocked the other, or an account was deleted). Both directions at
   * once, since the gateway uses this list to announce and to tell. The guard answers what its
   * cache knows and reads the rest in one query (docs/contacts.md#blocks-and-presence).
   */
  async peers(userId: string): Promise<string[]> {
    const peers = await this.store.members.directPeers(userId);
    const guard = this.guard;
    if (!guard || peers.length === 0) return peers;
    if (guard.barredAmong) {
      const barredSet = await guard.barredAmong(userId, peers);
      return peers.filter((peer) => !barredSet.has(peer));
    }
    const barred = async (peer: string): Promise<boolean> => {
      const known = guard.knownVerdict?.(userId, peer);
      if (known !== undefined) return known !== null;
      try {
        await guard.assertMayMessage(userId, peer);
        return false;
      } catch (err) {
        // The guard's refusals: no presence between these two. Anything else is a failure.
        const bars =
          err instanceof ParleyError && ['blocked', 'account_deleted'].includes(err.code);
        if (bars) return true;
        throw err;
      }
    };
    const verdicts = await Promise.all(peers.map(barred));
    return peers.filter((_, i) => !verdicts[i]);
  }
}
