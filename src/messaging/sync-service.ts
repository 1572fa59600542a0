import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { Clock } from '../core/clock.js';
import { withSummaries } from './conversation-list.js';
import { viewedMessages } from './message-view.js';
import type { Caller, ConversationListItem, SyncedConversation, SyncResult } from './model.js';
import type { InboxStore, MessageActionStore } from './store/index.js';

// A sync cursor is a time, taken a margin before the sync read: a commit stamped just before the
// read but visible only after it is then still caught by the next sync. Returning a conversation
// twice is harmless; missing one is not.
const SYNC_MARGIN_US = 5_000_000;
/** Changed messages reported per conversation and sync, the lowest seqs first. */
const SYNC_CHANGES_MAX = 100;
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

/** What the sync service needs. */
export interface SyncServiceDeps {
  readonly store: { readonly inbox: InboxStore; readonly actions: MessageActionStore };
  readonly limits: Limits;
  readonly clock: Clock;
}

/**
 * Sync: what changed in a user's conversations since a cursor (docs/realtime-protocol.md#sync),
 * with the messages a device may already hold that changed since, within one byte budget.
 */
export class SyncService {
  private readonly store: SyncServiceDeps['store'];
  private readonly limits: Limits;
  private readonly clock: Clock;

  constructor(deps: SyncServiceDeps) {
    this.store = deps.store;
    this.limits = deps.limits;
    this.clock = deps.clock;
  }

  /** Every conversation of the caller that changed since the cursor, and the next cursor. */
  async sync(caller: Caller, cursor: string | undefined): Promise<SyncResult> {
    const sinceUs = decodeCursor(cursor);
    const next = encodeCursor(this.clock.nowUs() - SYNC_MARGIN_US);
    const changed = await this.store.inbox.changedSince(caller.userId, sinceUs);
    const conversations = await withSummaries(
      this.store.inbox,
      this.limits.previewCharsMax,
      caller.userId,
      changed,
    );
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
      changed: await viewedMessages(this.store.actions, userId, item.id, page.messages),
      ...(page.hasMore ? { changedMore: true as const } : {}),
    };
  }
}
