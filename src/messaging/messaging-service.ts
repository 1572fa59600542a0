import type { UserBudget } from '../core/user-budget.js';
import { ParleyError, asError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { systemClock, type Clock } from '../core/clock.js';
import { isId } from '../core/ids.js';
import { normalizeUsername } from '../core/names.js';
import type { UserDirectory } from '../auth/index.js';
import type { GroupCommitter } from './group-commit.js';
import type { DirectGuard } from './direct-guard.js';
import { randomBytes } from 'node:crypto';
import {
  ATTACHMENT_KINDS,
  previewBody,
  validateBody,
  validateEditBody,
  validateReaction,
  validateRef,
} from './message-body.js';
import { groupPlanner, targetsOf, type SystemBody } from './group-rules.js';
import { assertMayManageInvite, editJudge, mayModerate, reactJudge } from './message-rules.js';
import { searchWords } from './message-search.js';
import type {
  Conversation,
  ConversationSummary,
  ConversationView,
  GroupHistory,
  Member,
  Page,
  PreferencesChange,
  ReactionCount,
  StoredMessage,
} from './model.js';
import type {
  AppendRequest,
  GroupAction,
  MessageStores,
  SearchPage,
  SeqPage,
} from './store/index.js';

/** Who is acting: the authenticated user and the device the request came from. */
export interface Caller {
  readonly userId: string;
  readonly device: string;
}

export interface SendOutcome {
  readonly message: StoredMessage;
  readonly duplicate: boolean;
}

/**
 * What the messaging rules tell the rest of the system after a change is committed: the
 * delivery router turns these into pushes. Handlers run synchronously and must not throw.
 */
export interface MessagingEvents {
  /** A new message (never a duplicate). */
  messageStored(message: StoredMessage): void;
  /** A member's delivered or read watermark moved. */
  watermarkMoved(member: Member, kind: 'delivered' | 'read'): void;
  /** `by` is who recalled it, from which device (that device already has the answer). */
  messageRecalled(message: StoredMessage, by: Caller): void;
  /** Someone joined or left; cached member lists of this conversation are stale. */
  membersChanged(conversationId: string): void;
  /**
   * A managed group changed (docs/groups.md). Raised after membersChanged (when members came or
   * went) and after messageStored for the system message that records the change.
   */
  groupChanged(change: GroupChanged): void;
}

/**
 * What the message actions tell the rest of the system after they are committed (the delivery
 * router pushes them; the event feed carries edits and reactions). Handlers run synchronously
 * and must not throw.
 */
export interface MessageActionEvents {
  /** `by` is the sender, from the device that edited (that device already has the answer). */
  messageEdited(message: StoredMessage, by: Caller): void;
  /** Raised only when a reaction was really added or removed. */
  reactionChanged(change: ReactionChanged, by: Caller): void;
  /** A user hid a message for itself (delete for me); only its own devices learn of it. */
  messageHidden(conversationId: string, seq: number, by: Caller): void;
}

export interface ReactionChanged {
  readonly conversationId: string;
  readonly seq: number;
  readonly userId: string;
  readonly emoji: string;
  readonly removed: boolean;
  /** How many users left this emoji on the message now. */
  readonly count: number;
  readonly atUs: number;
}

/** A message as one viewer reads it: its reactions, and whether the viewer hid it. */
export interface ViewedMessage extends StoredMessage {
  /** Absent when there are none (and on hidden messages). */
  readonly reactions?: readonly ReactionCount[];
  /** The viewer hid it: the body is then `{kind: "hidden"}`. */
  readonly hidden?: true;
}

/** A conversation in its member's list: the view, its last message preview and mentions. */
export interface ConversationListItem extends ConversationView, ConversationSummary {}

export interface GroupChanged {
  /** The conversation after the change. */
  readonly conversation: Conversation;
  /** The system message in the conversation's seq stream; its body is `body`. */
  readonly message: StoredMessage;
  readonly body: SystemBody;
  /** Users whose membership this change ended: no longer members, they are told too. */
  readonly left: readonly string[];
}

/**
 * A conversation in a sync reply. With a cursor, also the messages a device may already hold
 * that changed since it (edited, recalled, reactions, hidden by the user), as they are now.
 */
export interface SyncedConversation extends ConversationListItem {
  readonly changed?: readonly ViewedMessage[];
  /** More changed than `changed` holds (SYNC_CHANGES_MAX): the device re-reads what it holds. */
  readonly changedMore?: true;
}

export interface SyncResult {
  readonly conversations: SyncedConversation[];
  readonly cursor: string;
}

/** What a hidden message's body reads as, for the user who hid it. */
export const HIDDEN_BODY = Object.freeze({ kind: 'hidden' });

/** Invite codes: 16 base64url characters from 96 random bits. */
const INVITE_CODE_BYTES = 12;
const INVITE_CODE_RE = /^[A-Za-z0-9_-]{16}$/;

// A sync cursor is a time, taken a margin before the sync read: a commit stamped just before the
// read but visible only after it is then still caught by the next sync. Returning a conversation
// twice is harmless; missing one is not.
const SYNC_MARGIN_US = 5_000_000;
/** Changed messages reported per conversation and sync, the lowest seqs first. */
export const SYNC_CHANGES_MAX = 100;
const CURSOR_PREFIX = 't';

function encodeCursor(us: number): string {
  return CURSOR_PREFIX + Math.max(0, us).toString(36);
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const us = cursor.startsWith(CURSOR_PREFIX) ? parseInt(cursor.slice(1), 36) : NaN;
  if (!Number.isSafeInteger(us) || us < 0) throw new ParleyError('invalid_cursor');
  return us;
}

/** A conversation's place in a list: pinned first, then newest activity, then id. */
type ListKey = readonly [pinned: 0 | 1, activityUs: number, id: string];

const listKey = (v: ConversationView): ListKey => [
  v.pinned ? 1 : 0,
  Math.max(v.lastAtUs, v.createdAtMs * 1000),
  v.id,
];

/** Negative when `a` comes first in the list. */
function compareListKeys(a: ListKey, b: ListKey): number {
  return b[0] - a[0] || b[1] - a[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

function encodeListCursor(key: ListKey): string {
  return `${key[0]}.${key[1].toString(36)}.${key[2]}`;
}

function decodeListCursor(cursor: string): ListKey {
  const m = /^([01])\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  const us = m ? parseInt(m[2]!, 36) : NaN;
  if (!m || !Number.isSafeInteger(us)) {
    throw new ParleyError('invalid_cursor', "The list cursor is not valid: use a page's next.");
  }
  return [m[1] === '1' ? 1 : 0, us, m[3]!];
}

export interface MessagingDeps {
  readonly store: MessageStores;
  readonly committer: GroupCommitter;
  readonly users: UserDirectory;
  readonly limits: Limits;
  readonly clock?: Clock;
  /** Asked before opening or sending in a direct conversation (blocks, from contacts). */
  readonly directGuard?: DirectGuard;
  /**
   * Asked before a message naming an attachment is stored: resolves when the sender may use it in
   * the conversation (and records that use, so members may download it), rejects with a coded
   * error when not. Without it, attachment kinds are refused.
   */
  readonly attachmentUse?: AttachmentUse;
  /**
   * Spent when a user opens a direct conversation that did not exist yet (not by reopening one,
   * nor by trusted backends over gRPC): the bound on reaching strangers.
   */
  readonly firstContacts?: UserBudget;
}

export type AttachmentUse = (
  attachmentId: string,
  conversationId: string,
  senderId: string,
) => Promise<void>;

/** Bounded cache of direct conversations' members: when full it is dropped whole. */
const DIRECT_CACHE_ENTRIES_MAX = 100_000;

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
  private readonly store: MessageStores;
  private readonly committer: GroupCommitter;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  private readonly clock: Clock;
  private readonly subscribers: MessagingEvents[] = [];
  private readonly actionSubscribers: MessageActionEvents[] = [];
  private readonly guard: DirectGuard | undefined;
  private readonly firstContacts: UserBudget | undefined;
  private readonly attachmentUse: AttachmentUse | undefined;
  /** Conversation id → its two members if direct, null if not: neither ever changes. */
  private readonly directMembers = new Map<string, readonly string[] | null>();
  private readonly directLoading = new Map<string, Promise<readonly string[] | null | undefined>>();

  constructor(deps: MessagingDeps) {
    this.store = deps.store;
    this.committer = deps.committer;
    this.users = deps.users;
    this.limits = deps.limits;
    this.clock = deps.clock ?? systemClock;
    this.guard = deps.directGuard;
    this.firstContacts = deps.firstContacts;
    this.attachmentUse = deps.attachmentUse;
    // Blocks, reply targets and attachment uses are checked per batch inside the committer, not
    // before submitting: a lookup awaited here would let pipelined sends of one connection
    // overtake each other and reorder seqs. Plain sends cost at most one map lookup.
    this.committer.setVetter((requests) => this.vetBatch(requests));
  }

  subscribe(events: MessagingEvents): void {
    this.subscribers.push(events);
  }

  subscribeActions(events: MessageActionEvents): void {
    this.actionSubscribers.push(events);
  }

  /** Validates, then stores through group commit. Resolves only after the commit. */
  send(caller: Caller, conversationId: string, ref: unknown, body: unknown): Promise<SendOutcome> {
    return new Promise((resolve, reject) =>
      this.sendThen(caller, conversationId, ref, body, (err, outcome) =>
        outcome ? resolve(outcome) : reject(asError(err)),
      ),
    );
  }

  /**
   * send() for the real-time hot path, without a promise: throws a coded error at once for a
   * request that fails validation, else calls `done` once, after the commit (or with the error
   * that refused or failed the send). `done` must not throw.
   */
  sendThen(
    caller: Caller,
    conversationId: string,
    ref: unknown,
    body: unknown,
    done: (err: unknown, outcome?: SendOutcome) => void,
  ): void {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const request = {
      conversationId,
      senderId: caller.userId,
      device: caller.device,
      ref: validateRef(ref, this.limits),
      body: validateBody(body, this.limits),
    };
    this.committer.enqueue(request, (result, error) => {
      if (!result) return done(error);
      if (!result.ok) return done(result.error);
      if (!result.duplicate) {
        try {
          for (const s of this.subscribers) s.messageStored(result.message);
        } catch (err) {
          return done(err);
        }
      }
      done(null, { message: result.message, duplicate: result.duplicate });
    });
  }

  /**
   * Current and former members read; the store keeps each to its window (docs/groups.md). Each
   * message comes with its reactions, and as `{kind: "hidden"}` if the caller hid it.
   */
  async history(
    caller: Caller,
    conversationId: string,
    page: SeqPage,
  ): Promise<{ messages: ViewedMessage[]; hasMore: boolean }> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const read: Page = await this.store.log.pageBySeq(conversationId, {
      ...page,
      limit: this.pageLimit(page.limit),
      bytesMax: this.limits.pageBytesMax,
      viewerId: caller.userId,
    });
    return {
      messages: await this.viewed(caller.userId, conversationId, read.messages),
      hasMore: read.hasMore,
    };
  }

  /**
   * Message search (docs/messages.md#search): in one conversation the caller is or was a member
   * of, or in every one. invalid_search for a query without words; `limit` defaults to 20 and is
   * capped at limits.messageSearchCountMax.
   */
  async search(
    caller: Caller,
    query: { q: unknown; conversationId?: string; before?: string; limit?: number },
  ): Promise<SearchPage> {
    const words = searchWords(query.q);
    const { conversationId, before } = query;
    if (conversationId !== undefined && !isId(conversationId)) {
      throw new ParleyError('conversation_not_found');
    }
    return this.store.search.searchMessages({
      viewerId: caller.userId,
      words,
      ...(conversationId !== undefined ? { conversationId } : {}),
      ...(before !== undefined ? { before } : {}),
      limit: Math.min(query.limit ?? 20, this.limits.messageSearchCountMax),
    });
  }

  /** Messages (ascending seqs) as the viewer sees them: with reactions, and its hidden ones hidden. */
  private async viewed(
    viewerId: string,
    conversationId: string,
    messages: readonly StoredMessage[],
  ): Promise<ViewedMessage[]> {
    const first = messages[0];
    const last = messages.at(-1);
    if (!first || !last) return [];
    const marks = await this.store.actions.marks(conversationId, viewerId, first.seq, last.seq);
    return messages.map((m): ViewedMessage => {
      if (marks.hidden.has(m.seq)) return { ...m, body: HIDDEN_BODY, hidden: true };
      const reactions = marks.reactions.get(m.seq);
      return reactions ? { ...m, reactions } : m;
    });
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
    if (opened.created) this.membersChanged(opened.conversation.id);
    return opened;
  }

  async createGroup(
    caller: Caller,
    title: unknown,
    memberNames: unknown,
    history: GroupHistory = 'join',
  ): Promise<Conversation> {
    const checked = this.checkTitle(title);
    const memberIds = (await this.userIds(memberNames)).filter((id) => id !== caller.userId);
    if (memberIds.length + 1 > this.limits.groupMembersMax)
      throw new ParleyError('too_many_members');
    const group = await this.store.groups.createGroup({
      title: checked,
      ownerId: caller.userId,
      memberIds,
      history,
    });
    this.membersChanged(group.id);
    return group;
  }

  /** Adds users, by username, to a group (admins and the owner). */
  addMembers(caller: Caller, conversationId: string, memberNames: unknown): Promise<GroupChanged> {
    return this.userIds(memberNames).then((userIds) =>
      this.changeGroup(caller, conversationId, { type: 'add', userIds }),
    );
  }

  /**
   * Applies one group change (docs/groups.md): judged and stored, with its system message, in one
   * store transaction; then members learn of it (membersChanged, messageStored, groupChanged).
   */
  async changeGroup(
    caller: Caller,
    conversationId: string,
    action: GroupAction,
  ): Promise<GroupChanged> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    if (action.type === 'title') this.checkTitle(action.title);
    if (action.type === 'avatar' && action.avatar !== null) {
      await this.useAvatar(caller, conversationId, action.avatar);
    }
    const { conversation, message, plan } = await this.store.groups.changeGroup(
      {
        conversationId,
        actorId: caller.userId,
        device: caller.device,
        action,
        targetIds: targetsOf(action, caller.userId),
      },
      groupPlanner(action, caller.userId, this.limits.groupMembersMax),
    );
    const changed: GroupChanged = {
      conversation,
      message,
      body: plan.body as SystemBody,
      left: plan.leave ?? [],
    };
    if (plan.join || plan.leave) this.membersChanged(conversationId);
    for (const s of this.subscribers) s.messageStored(message);
    for (const s of this.subscribers) s.groupChanged(changed);
    return changed;
  }

  /**
   * A group avatar is an attachment the acting admin may use; recording that use lets every
   * member download it. Asked only of an actor the planner would let through, so a refused
   * change records nothing (short of a role change racing it).
   */
  private async useAvatar(caller: Caller, conversationId: string, avatar: string): Promise<void> {
    if (!isId(avatar)) throw new ParleyError('invalid_request', 'avatar must be an attachment id.');
    const [conversation, actor] = await Promise.all([
      this.store.conversations.getConversation(conversationId),
      this.store.members.getMember(conversationId, caller.userId),
    ]);
    const mayChange =
      conversation?.kind === 'group' &&
      conversation.dismissedAtMs === null &&
      actor !== null &&
      actor.role !== 'member';
    if (!mayChange) return;
    if (!this.attachmentUse) {
      throw new ParleyError('invalid_request', 'This server does not take attachments.');
    }
    await this.attachmentUse(avatar, conversationId, caller.userId);
  }

  private checkTitle(title: unknown): string {
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
    return title;
  }

  /** Usernames → user ids; user_not_found names every unknown one. */
  private async userIds(memberNames: unknown): Promise<string[]> {
    if (!Array.isArray(memberNames))
      throw new ParleyError('invalid_request', 'members must be an array of usernames.');
    const names = [...new Set(memberNames.map(normalizeUsername))];
    // Bounded before any lookup; the exact count is checked against the members.
    if (names.length > this.limits.groupMembersMax) throw new ParleyError('too_many_members');
    const found = await this.users.byUsername(names);
    const unknown = names.filter((n) => !found.has(n));
    if (unknown.length > 0)
      throw new ParleyError(
        'user_not_found',
        `No user named ${unknown.map((n) => `"${n}"`).join(', ')}.`,
      );
    return [...found.values()].map((u) => u.id);
  }

  async joinRoom(
    caller: Caller,
    name: unknown,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const joined = await this.store.conversations.joinRoom(
      checkRoomName(name, this.limits),
      caller.userId,
    );
    this.membersChanged(joined.conversation.id);
    return joined;
  }

  /**
   * The caller's conversations, pinned ones first, then by last activity; each with its last
   * message (the newest the caller may see and did not hide; long texts cut short) and the
   * count of unread messages that mention the caller or @all.
   */
  async list(caller: Caller): Promise<ConversationListItem[]> {
    return this.withSummaries(
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
      conversations: await this.withSummaries(
        caller.userId,
        taken.map(({ v }) => v),
      ),
      next: views.length > page.limit && last ? encodeListCursor(last.key) : null,
    };
  }

  private async withSummaries(
    userId: string,
    views: ConversationView[],
  ): Promise<ConversationListItem[]> {
    const summaries = await this.store.inbox.summaries(userId, views);
    return views.map((v) => {
      const s = summaries.get(v.id);
      const last = s?.last ?? null;
      return {
        ...v,
        mentions: s?.mentions ?? 0,
        last: last && { ...last, body: previewBody(last.body, this.limits.previewCharsMax) },
      };
    });
  }

  /** Sets the caller's own pin and notification mute of a conversation. */
  async setPreferences(
    caller: Caller,
    conversationId: string,
    change: PreferencesChange,
  ): Promise<ConversationView> {
    await this.requireMember(conversationId, caller.userId);
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
    const conversation = await this.requireMember(conversationId, caller.userId);
    return { conversation, members: await this.store.members.listMembers(conversationId) };
  }

  async markRead(caller: Caller, conversationId: string, seq: number): Promise<Member> {
    await this.requireMember(conversationId, caller.userId);
    const member = await this.store.members.markRead(conversationId, caller.userId, seq);
    for (const s of this.subscribers) s.watermarkMoved(member, 'read');
    return member;
  }

  async markDelivered(caller: Caller, conversationId: string, seq: number): Promise<Member> {
    await this.requireMember(conversationId, caller.userId);
    const member = await this.store.members.markDelivered(conversationId, caller.userId, seq);
    for (const s of this.subscribers) s.watermarkMoved(member, 'delivered');
    return member;
  }

  /**
   * Recalls a message; its body is deleted for good. The sender may, within the recall window;
   * in a group, the owner and admins may recall messages of users ranked below them (and their
   * own) at any time (see mayModerate). Only messages the caller can see; never system ones.
   */
  async recall(caller: Caller, conversationId: string, seq: number): Promise<StoredMessage> {
    const conversation = await this.requireMember(conversationId, caller.userId);
    const [message, actor] = await Promise.all([
      this.store.log.getMessage(conversationId, seq, caller.userId),
      this.store.members.getMember(conversationId, caller.userId),
    ]);
    if (!message) throw new ParleyError('message_not_found');
    if (!actor) throw new ParleyError('not_member');
    if (message.body.kind === 'system') {
      throw new ParleyError('forbidden', 'System messages cannot be recalled.');
    }
    if (message.recalledAtUs !== null) return message;
    if (conversation.dismissedAtMs !== null) throw new ParleyError('group_dismissed');
    const own = message.senderId === caller.userId;
    const senderRole = own
      ? actor.role
      : ((await this.store.members.getMember(conversationId, message.senderId))?.role ?? null);
    const moderator = own
      ? conversation.kind === 'group' && actor.role !== 'member'
      : mayModerate(conversation, actor, senderRole);
    if (!own && !moderator) {
      throw new ParleyError('forbidden', 'Only the sender or a group admin may recall a message.');
    }
    if (!moderator && this.clock.nowUs() - message.atUs > this.limits.recallWindowMs * 1000) {
      throw new ParleyError('recall_expired');
    }
    const recalled = await this.store.log.recall(conversationId, seq);
    if (!recalled) throw new ParleyError('message_not_found');
    for (const s of this.subscribers) s.messageRecalled(recalled, caller);
    return recalled;
  }

  /**
   * The sender replaces the text (and mentions) of its own text message within the edit window
   * (docs/messages.md#edit). Refused, with nothing changed: a recalled message, another's, a
   * kind other than text, after the window, and whatever would refuse a send here.
   */
  async edit(
    caller: Caller,
    conversationId: string,
    seq: number,
    body: unknown,
  ): Promise<StoredMessage> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const checked = validateEditBody(body, this.limits);
    if (this.guard) await this.guardDirect(this.guard, caller.userId, conversationId);
    const edited = await this.store.actions.editMessage(
      conversationId,
      seq,
      caller.userId,
      editJudge(caller.userId, checked, this.clock.nowUs(), this.limits.editWindowMs),
    );
    for (const s of this.actionSubscribers) s.messageEdited(edited, caller);
    return edited;
  }

  /**
   * Adds (`add`) or removes the caller's reaction to a message. Idempotent: adding twice or
   * removing what is not there changes nothing and pushes nothing.
   */
  async react(
    caller: Caller,
    conversationId: string,
    seq: number,
    emoji: unknown,
    add: boolean,
  ): Promise<ReactionChanged> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const checked = validateReaction(emoji, this.limits);
    if (this.guard) await this.guardDirect(this.guard, caller.userId, conversationId);
    const result = await this.store.actions.react(
      { conversationId, seq, userId: caller.userId, emoji: checked, add },
      reactJudge(checked, add, this.limits.reactionsPerUserMax),
    );
    const change: ReactionChanged = {
      conversationId,
      seq,
      userId: caller.userId,
      emoji: checked,
      removed: !add,
      count: result.count,
      atUs: this.clock.nowUs(),
    };
    if (result.changed) for (const s of this.actionSubscribers) s.reactionChanged(change, caller);
    return change;
  }

  /**
   * Delete for me: hides a message the caller can read (a former member too, within its window)
   * from the caller's own reads; nobody else is affected. Hiding twice is harmless.
   */
  async hide(caller: Caller, conversationId: string, seq: number): Promise<void> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const message = await this.store.log.getMessage(conversationId, seq, caller.userId);
    if (!message) throw new ParleyError('message_not_found');
    if (await this.store.actions.hideMessage(conversationId, seq, caller.userId)) {
      for (const s of this.actionSubscribers) s.messageHidden(conversationId, seq, caller);
    }
  }

  /** A new invite code for a group (replacing any earlier one); admins and the owner. */
  async createInvite(caller: Caller, conversationId: string): Promise<string> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const code = randomBytes(INVITE_CODE_BYTES).toString('base64url');
    await this.store.groups.setInvite(conversationId, caller.userId, code, (c, actor) =>
      assertMayManageInvite(c, actor),
    );
    return code;
  }

  /** Revokes the group's invite code; invite_not_found when there is none. */
  async revokeInvite(caller: Caller, conversationId: string): Promise<void> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    await this.store.groups.setInvite(conversationId, caller.userId, null, (c, actor, current) => {
      assertMayManageInvite(c, actor);
      if (current === null) throw new ParleyError('invite_not_found');
    });
  }

  /** The group's invite code, for its admins and owner; invite_not_found when there is none. */
  async getInvite(caller: Caller, conversationId: string): Promise<string> {
    const conversation = await this.requireMember(conversationId, caller.userId);
    assertMayManageInvite(
      conversation,
      await this.store.members.getMember(conversationId, caller.userId),
    );
    const code = await this.store.groups.getInvite(conversationId);
    if (code === null) throw new ParleyError('invite_not_found');
    return code;
  }

  /** Joins the group whose current invite code this is (docs/groups.md#invite-codes). */
  async joinByInvite(caller: Caller, code: unknown): Promise<GroupChanged> {
    if (typeof code !== 'string' || !INVITE_CODE_RE.test(code)) {
      throw new ParleyError('invite_not_found');
    }
    const conversation = await this.store.groups.findByInvite(code);
    if (!conversation) throw new ParleyError('invite_not_found');
    return this.changeGroup(caller, conversation.id, { type: 'join', code });
  }

  /** Every conversation of the caller that changed since the cursor, and the next cursor. */
  async sync(caller: Caller, cursor: string | undefined): Promise<SyncResult> {
    const sinceUs = decodeCursor(cursor);
    const next = encodeCursor(this.clock.nowUs() - SYNC_MARGIN_US);
    const changed = await this.store.inbox.changedSince(caller.userId, sinceUs);
    const conversations = await this.withSummaries(caller.userId, changed);
    // A first sync (no cursor) holds nothing yet, so nothing of it can have changed.
    if (sinceUs <= 0) return { conversations, cursor: next };
    // One conversation at a time, against one budget for the whole answer (limits.pageBytesMax):
    // past it a conversation says only `changedMore`, and the client re-reads what it holds.
    const budget = { chars: this.limits.pageBytesMax };
    const synced: SyncedConversation[] = [];
    for (const c of conversations) {
      synced.push(await this.withChanges(caller.userId, c, sinceUs, budget));
    }
    return { conversations: synced, cursor: next };
  }

  /** A synced conversation with the messages changed since the cursor, if any, within budget. */
  private async withChanges(
    userId: string,
    item: ConversationListItem,
    sinceUs: number,
    budget: { chars: number },
  ): Promise<SyncedConversation> {
    if (item.leftSeq !== null) return item;
    const page = await this.store.inbox.changedMessages(
      item.id,
      userId,
      sinceUs,
      SYNC_CHANGES_MAX,
      budget.chars,
    );
    if (page.messages.length === 0) return item;
    // The store cut the page at the budget, but its first message always comes: alone and over
    // the budget, it is left for the client to re-read.
    const chars = page.bodyChars ?? 0;
    if (chars > budget.chars) return { ...item, changedMore: true as const };
    budget.chars -= chars;
    return {
      ...item,
      changed: await this.viewed(userId, item.id, page.messages),
      ...(page.hasMore ? { changedMore: true as const } : {}),
    };
  }

  /**
   * The titles of the live groups the user owns with other members in them: an account being
   * deleted must hand them over first (owner_must_transfer), as leaving would require.
   */
  async groupsToHandOver(userId: string): Promise<string[]> {
    const owned = (await this.store.inbox.listConversations(userId)).filter(
      (c) => c.kind === 'group' && c.role === 'owner' && c.dismissedAtMs === null,
    );
    const titles: string[] = [];
    for (const group of owned) {
      const members = await this.store.members.listMembers(group.id);
      if (members.some((m) => m.userId !== userId && m.leftSeq === null)) {
        titles.push(group.title ?? group.id);
      }
    }
    return titles;
  }

  /**
   * Leaves a group (a `leave` change: its rules, a system message, a `member` push) or a room
   * (silently: rooms announce neither joins nor leaves; joining it again is a room join). Null for
   * a room, whose leave records no message.
   */
  async leave(caller: Caller, conversationId: string): Promise<GroupChanged | null> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const conversation = await this.store.conversations.getConversation(conversationId);
    if (conversation?.kind !== 'room') {
      return this.changeGroup(caller, conversationId, { type: 'leave' });
    }
    await this.store.conversations.leaveRoom(conversationId, caller.userId);
    this.membersChanged(conversationId);
    return null;
  }

  /**
   * Leaves every group and room the user is a current member of (an account being deleted),
   * each as `leave` does; a group it owns alone is dismissed.
   */
  async leaveAll(caller: Caller): Promise<void> {
    const joined = (await this.store.inbox.listConversations(caller.userId)).filter(
      (c) => c.kind !== 'direct',
    );
    for (const c of joined) await this.leave(caller, c.id);
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

  /** The user ids of a conversation's members (the delivery router caches them). */
  async memberIds(conversationId: string): Promise<string[]> {
    if (!isId(conversationId)) return [];
    return (await this.store.members.listMembers(conversationId)).map((m) => m.userId);
  }

  /**
   * A batch's verdicts. The common case (a plain body, a direct conversation whose members and
   * block state are cached, or any other conversation) is answered from memory with no promise
   * per send; only the sends that need a lookup go through the async checks.
   */
  private vetBatch(
    requests: readonly AppendRequest[],
  ): (ParleyError | null)[] | Promise<(ParleyError | null)[]> {
    const verdicts: (ParleyError | null)[] = new Array<ParleyError | null>(requests.length);
    let slow: Promise<void>[] | null = null;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const known = this.vetFromMemory(request);
      if (known !== undefined) verdicts[i] = known;
      else (slow ??= []).push(this.vet(request).then((v) => void (verdicts[i] = v)));
    }
    return slow === null ? verdicts : Promise.all(slow).then(() => verdicts);
  }

  /** The verdict when memory alone can give it, else undefined (see vetBatch). */
  private vetFromMemory(request: AppendRequest): ParleyError | null | undefined {
    const { body } = request;
    if (typeof body.replyTo === 'number' || ATTACHMENT_KINDS.has(body.kind)) return undefined;
    const guard = this.guard;
    if (!guard) return null;
    const members = this.directMembers.get(request.conversationId);
    if (members === undefined) return undefined;
    if (members === null || !members.includes(request.senderId)) return null;
    const peer = members.find((id) => id !== request.senderId);
    if (peer === undefined) return null;
    return guard.knownVerdict ? guard.knownVerdict(request.senderId, peer) : undefined;
  }

  /**
   * One send's checks before it is stored; resolves to the refusal, or null. Blocks: only sends
   * to direct conversations ask the guard; others cost one map lookup. Then the body's
   * references (docs/messages.md): replyTo must name a message the sender can see, and an
   * attachment must be one the sender may use here (that use is recorded now, before the commit).
   */
  private async vet(request: AppendRequest): Promise<ParleyError | null> {
    try {
      if (this.guard) await this.guardDirect(this.guard, request.senderId, request.conversationId);
      await this.vetReferences(request);
      return null;
    } catch (err) {
      if (err instanceof ParleyError) return err;
      throw err;
    }
  }

  private async vetReferences(request: AppendRequest): Promise<void> {
    const { body, conversationId, senderId } = request;
    const replyTo = typeof body.replyTo === 'number' ? body.replyTo : undefined;
    const attachment = ATTACHMENT_KINDS.has(body.kind) ? body.attachment : undefined;
    if (replyTo === undefined && typeof attachment !== 'string') return;
    // A sender who is not a member is left for the commit to refuse with its usual code
    // (not_member, conversation_not_found), as a plain send would be.
    if (!(await this.store.members.getMember(conversationId, senderId))) return;
    if (
      replyTo !== undefined &&
      !(await this.store.log.getMessage(conversationId, replyTo, senderId))
    ) {
      throw new ParleyError(
        'message_not_found',
        `body.replyTo: no message ${replyTo} in this conversation.`,
      );
    }
    if (typeof attachment === 'string') {
      if (!this.attachmentUse) {
        throw new ParleyError('invalid_request', 'This server does not take attachment messages.');
      }
      await this.attachmentUse(attachment, conversationId, senderId);
    }
  }

  /**
   * Asks the guard when the conversation is direct and the sender one of its two members.
   * Anything else (unknown conversation, not a member) is left for the commit to refuse.
   */
  /** A conversation's two members if direct, null if not, undefined if there is none; cached. */
  private async loadDirectMembers(
    conversationId: string,
  ): Promise<readonly string[] | null | undefined> {
    const conversation = await this.store.conversations.getConversation(conversationId);
    if (!conversation) return undefined;
    const members =
      conversation.kind === 'direct'
        ? (await this.store.members.listMembers(conversationId)).map((m) => m.userId)
        : null;
    if (this.directMembers.size >= DIRECT_CACHE_ENTRIES_MAX) this.directMembers.clear();
    this.directMembers.set(conversationId, members);
    return members;
  }

  private async guardDirect(guard: DirectGuard, senderId: string, conversationId: string) {
    let members = this.directMembers.get(conversationId);
    if (members === undefined) {
      // One lookup per conversation however many sends wait for it (a burst at start-up).
      let loading = this.directLoading.get(conversationId);
      if (!loading) {
        loading = this.loadDirectMembers(conversationId).finally(() =>
          this.directLoading.delete(conversationId),
        );
        this.directLoading.set(conversationId, loading);
      }
      members = await loading;
      if (members === undefined) return;
    }
    if (members === null || !members.includes(senderId)) return;
    const peer = members.find((id) => id !== senderId);
    if (peer !== undefined) await guard.assertMayMessage(senderId, peer);
  }

  private membersChanged(conversationId: string): void {
    for (const s of this.subscribers) s.membersChanged(conversationId);
  }

  /** Throws conversation_not_found or not_member unless the user may read the conversation. */
  async requireMember(conversationId: string, userId: string): Promise<Conversation> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const [conversation, member] = await Promise.all([
      this.store.conversations.getConversation(conversationId),
      this.store.members.getMember(conversationId, userId),
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
