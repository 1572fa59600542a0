import { ParleyError } from '../core/errors.js';
import { isId } from '../core/ids.js';
import type { DirectGuard } from './direct-guard.js';
import type { Conversation } from './model.js';
import type { ConversationStore, MemberStore } from './store/index.js';

/** Bounded cache of direct conversations' members: when full it is dropped whole. */
const DIRECT_CACHE_ENTRIES_MAX = 100_000;
/** Bounded cache of member lists (every kind): when full it is dropped whole. */
const MEMBER_CACHE_ENTRIES_MAX = 50_000;

/** How Membership keeps member lists. */
export interface MemberCacheOptions {
  /**
   * Reload a cached list after this long (a cluster, where membership changes reach this node
   * over the bus, which may lose one: a lost invalidation then heals by itself); absent: never.
   */
  readonly ttlMs?: number;
  /** A member list could not be read (the waiting callers were told through onError). */
  readonly onLoadError?: (err: unknown, conversationId: string) => void;
}

interface Waiter {
  readonly fn: (members: ReadonlySet<string>) => void;
  readonly onError?: () => void;
}

/**
 * The membership guards every service asks before acting, and the one cache of member lists:
 * the delivery router fans out through it, the seed API's reads check it, and a send to a
 * direct chat is checked against blocks with no lookup (a direct conversation's two members
 * never change). Whoever learns that a list changed calls forget (the delivery router does, on
 * membersChanged here and from other nodes).
 */
export class Membership {
  /** Conversation id → its two members if direct, null if not: neither ever changes. */
  private readonly directMembers = new Map<string, readonly string[] | null>();
  private readonly directLoading = new Map<string, Promise<readonly string[] | null | undefined>>();
  private readonly lists = new Map<
    string,
    { readonly members: ReadonlySet<string>; readonly loadedMs: number }
  >();
  /** Callers waiting, in order, for a conversation's member list to load. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Conversations whose member list changed while a load was in flight: do not cache it. */
  private readonly stale = new Set<string>();
  private readonly ttlMs: number;
  private readonly onLoadError: MemberCacheOptions['onLoadError'];

  constructor(
    private readonly store: {
      readonly conversations: ConversationStore;
      readonly members: MemberStore;
    },
    private readonly guard: DirectGuard | undefined,
    options: MemberCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
    this.onLoadError = options.onLoadError;
  }

  /**
   * Runs `fn` with the conversation's current members: at once when cached, else after one
   * store read shared by every caller waiting on it, in the order they arrived (so pushes keep
   * seq order). `onError` when the list could not be read.
   */
  withMembers(
    conversationId: string,
    fn: (members: ReadonlySet<string>) => void,
    onError?: () => void,
  ): void {
    const cached = this.lists.get(conversationId);
    // Without a TTL (one node) a hit costs no clock read: this is on every push's path.
    if (
      cached &&
      (this.ttlMs === Number.POSITIVE_INFINITY || Date.now() - cached.loadedMs < this.ttlMs)
    ) {
      return fn(cached.members);
    }
    const waiter: Waiter = { fn, ...(onError ? { onError } : {}) };
    const queue = this.waiting.get(conversationId);
    if (queue) {
      queue.push(waiter);
      return;
    }
    this.waiting.set(conversationId, [waiter]);
    this.memberIds(conversationId).then(
      (ids) => this.loaded(conversationId, new Set(ids)),
      (err: unknown) => {
        this.onLoadError?.(err, conversationId);
        const failed = this.waiting.get(conversationId) ?? [];
        this.waiting.delete(conversationId);
        this.stale.delete(conversationId);
        for (const w of failed) w.onError?.();
      },
    );
  }

  /** Whether the user is a current member, from the cache when possible. */
  isMember(conversationId: string, userId: string): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.withMembers(
        conversationId,
        (m) => resolve(m.has(userId)),
        () => reject(new ParleyError('unavailable', 'Membership could not be checked; retry.')),
      ),
    );
  }

  /** The conversation's member list changed: the next reader loads it afresh. */
  forget(conversationId: string): void {
    this.lists.delete(conversationId);
    if (this.waiting.has(conversationId)) this.stale.add(conversationId);
  }

  private loaded(conversationId: string, members: ReadonlySet<string>): void {
    const queue = this.waiting.get(conversationId) ?? [];
    this.waiting.delete(conversationId);
    // An empty list is an unknown conversation (every real one has members): not worth a slot,
    // and caching it would let a client fill the cache with made-up ids.
    if (!this.stale.delete(conversationId) && members.size > 0) {
      if (this.lists.size >= MEMBER_CACHE_ENTRIES_MAX) this.lists.clear();
      this.lists.set(conversationId, { members, loadedMs: Date.now() });
    }
    for (const w of queue) w.fn(members);
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

  /** A conversation's member ids, read from the store (what withMembers caches). */
  private async memberIds(conversationId: string): Promise<string[]> {
    if (!isId(conversationId)) return [];
    return (await this.store.members.listMembers(conversationId)).map((m) => m.userId);
  }

  /**
   * The guard's verdict on a send when memory alone can give it: null when it may go (no guard,
   * not a direct conversation, not one of its members), the refusal when blocked, undefined
   * when the members or the block state are not cached.
   */
  knownVerdict(senderId: string, conversationId: string): ParleyError | null | undefined {
    const guard = this.guard;
    if (!guard) return null;
    const members = this.directMembers.get(conversationId);
    if (members === undefined) return undefined;
    if (members === null || !members.includes(senderId)) return null;
    const peer = members.find((id) => id !== senderId);
    if (peer === undefined) return null;
    return guard.knownVerdict ? guard.knownVerdict(senderId, peer) : undefined;
  }

  /**
   * Asks the guard when the conversation is direct and the sender one of its two members.
   * Anything else (unknown conversation, not a member) is left for the commit to refuse.
   */
  async assertMayAct(senderId: string, conversationId: string): Promise<void> {
    const guard = this.guard;
    if (!guard) return;
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
}
