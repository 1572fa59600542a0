import { ParleyError } from '../core/errors.js';
import { previewBody } from './message-body.js';
import type { ConversationListItem, ConversationView } from './model.js';
import type { InboxStore } from './store/index.js';

// A member's list of conversations: the order it is shown in, the cursor of its pages, and the
// summary beside each view (last message preview, mentions). Used by the conversation and sync
// services.

/** A conversation's place in a list: pinned first, then newest activity, then id. */
export type ListKey = readonly [pinned: 0 | 1, activityUs: number, id: string];

export const listKey = (v: ConversationView): ListKey => [
  v.pinned ? 1 : 0,
  Math.max(v.lastAtUs, v.createdAtMs * 1000),
  v.id,
];

/** Negative when `a` comes first in the list. */
export function compareListKeys(a: ListKey, b: ListKey): number {
  return b[0] - a[0] || b[1] - a[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

export function encodeListCursor(key: ListKey): string {
  return `${key[0]}.${key[1].toString(36)}.${key[2]}`;
}

export function decodeListCursor(cursor: string): ListKey {
  const m = /^([01])\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  const us = m ? parseInt(m[2]!, 36) : NaN;
  if (!m || !Number.isSafeInteger(us)) {
    throw new ParleyError('invalid_cursor', "The list cursor is not valid: use a page's next.");
  }
  return [m[1] === '1' ? 1 : 0, us, m[3]!];
}

/** Views with their summaries, as a list shows them (long texts of last messages cut short). */
export async function withSummaries(
  inbox: Pick<InboxStore, 'summaries'>,
  previewCharsMax: number,
  userId: string,
  views: ConversationView[],
): Promise<ConversationListItem[]> {
  const summaries = await inbox.summaries(userId, views);
  return views.map((v) => {
    const s = summaries.get(v.id);
    const last = s?.last ?? null;
    return {
      ...v,
      mentions: s?.mentions ?? 0,
      last: last && { ...last, body: previewBody(last.body, previewCharsMax) },
    };
  });
}
