// Pure message arithmetic: wire to view, merging pages by seq, reactions and edits. No state, so
// every slice that touches a timeline shares one definition.
import type { AnyBody as Body, Message } from 'parley/sdk';
import type { MessageView, ReactionView } from './types.js';

export function newest(a: MessageView | null, b: MessageView | null): MessageView | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq > a.seq ? b : a;
}

/** A message in the protocol's shape (`messageId`), as `sync` carries it, in the SDK's shape. */
export function wireToMessage(v: unknown): Message | null {
  if (typeof v !== 'object' || v === null) return null;
  const w = v as Record<string, unknown>;
  if (typeof w.messageId !== 'string') return null;
  const m = { ...w, id: w.messageId, recalled: w.recalled === true };
  return isWireMessage(m) ? m : null;
}

export function isWireMessage(v: unknown): v is Message {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m.seq === 'number' && typeof m.sender === 'string' && typeof m.body === 'object';
}

export function toView(m: Message): MessageView {
  return {
    conversation: m.conversation,
    seq: m.seq,
    id: m.id,
    sender: m.sender,
    body: m.body,
    at: m.at,
    recalled: m.recalled || m.body.kind === 'recalled',
    editedAt: m.editedAt ?? null,
    reactions: (m.reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.count, me: r.me })),
  };
}

/** Merges by seq: each seq once, ascending; a newer copy of a seq replaces the older one. */
export function mergeMessages(
  current: readonly MessageView[],
  incoming: readonly MessageView[],
): MessageView[] {
  if (incoming.length === 0) return [...current];
  const bySeq = new Map<number, MessageView>();
  for (const m of current) bySeq.set(m.seq, m);
  for (const m of incoming) {
    const old = bySeq.get(m.seq);
    // A recall or edit seen live is kept over an older page that still had the old body.
    bySeq.set(m.seq, old && old.recalled && !m.recalled ? old : m);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * One reaction added or removed. With the server's new `count` it is set; without one it is
 * counted here, and a repeat of this user's own change (its answer, then its push) counts once.
 */
export function applyReaction(
  list: readonly ReactionView[],
  emoji: string,
  added: boolean,
  mine: boolean,
  serverCount: number | undefined,
): ReactionView[] {
  const out = [...list];
  const i = out.findIndex((r) => r.emoji === emoji);
  const r = out[i];
  const me = mine ? added : (r?.me ?? false);
  let count: number;
  if (typeof serverCount === 'number') count = serverCount;
  else if (r === undefined) count = added ? 1 : 0;
  else if (mine && r.me === added) count = r.count;
  else count = r.count + (added ? 1 : -1);
  if (count <= 0) {
    if (i >= 0) out.splice(i, 1);
  } else if (r === undefined) {
    out.push({ emoji, count, me });
  } else {
    out[i] = { emoji, count, me };
  }
  return out;
}

/** An edit replaces text and mentions; the message keeps its own reply and forward marks. */
export function editedBody(old: Body, edit: Body): Body {
  const keep: Record<string, unknown> = {};
  if (old.replyTo !== undefined) keep.replyTo = old.replyTo;
  if (old.forwardedFrom !== undefined) keep.forwardedFrom = old.forwardedFrom;
  return { ...keep, ...edit };
}
