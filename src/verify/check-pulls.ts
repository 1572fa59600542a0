// pull_not_dense: a 'pulled' answer to `pull {after}` must hold exactly after+1, after+2, …,
// after+n in order (n ≥ 0), and at least one message when it says hasMore. A client that
// follows the protocol moves its `seen` to the last seq of a pull, so a hole in one is a message
// that client never asks for again; pushes can hide the loss until the end, so the pull itself
// is judged here, not only the client's final state.
import type { HistoryEvent } from './history.js';
import type { ViolationLog } from './check-types.js';

type PulledEvent = Extract<HistoryEvent, { t: 'pulled' }>;

/** How many messages of a broken pull the proof keeps on each side of the first bad one. */
const PROOF_CONTEXT = 2;

/** How many seqs of a hole the message names. */
const HOLE_SHOWN_MAX = 10;

export function checkPullDense(event: PulledEvent, log: ViolationLog): void {
  const { client, conv, after, msgs } = event;
  const pull = `${client}'s pull of ${conv} after ${after}`;
  if (msgs.length === 0) {
    if (event.hasMore) log.add('pull_not_dense', `${pull} is empty but says hasMore`, [event]);
    return;
  }
  const bad = msgs.findIndex((m, i) => m.seq !== after + i + 1);
  if (bad === -1) return;
  const message = `${pull} holds seq ${msgs[bad]!.seq} as its message ${bad + 1}, where ${after + bad + 1} belongs: ${whatIsWrong(event, bad)}`;
  // A pull can carry hundreds of messages; those around the first bad one show what broke.
  const from = Math.max(0, bad - PROOF_CONTEXT);
  const cut = { ...event, msgs: msgs.slice(from, bad + PROOF_CONTEXT + 1) };
  log.add('pull_not_dense', message, [cut]);
}

/** Names the first fault at `bad`, the first message that is not where it belongs. */
function whatIsWrong(event: PulledEvent, bad: number): string {
  const { after, msgs } = event;
  const seq = msgs[bad]!.seq;
  const expected = after + bad + 1;
  if (!Number.isInteger(seq)) return 'not a seq';
  if (seq <= after) return `a seq at or below after (${after})`;
  // Everything before `bad` is after+1..expected-1, so a seq below `expected` is a repeat.
  if (seq < expected) return 'a repeat';
  // Ahead of its place: a hole, unless the skipped seqs come later, out of order.
  const later = new Set(msgs.slice(bad + 1).map((m) => m.seq));
  if (later.has(expected)) return 'out of order';
  // Lists at most HOLE_SHOWN_MAX of the missing seqs: one absurd seq must not make this absurd.
  const missing: number[] = [];
  for (let s = expected; s < seq && missing.length <= HOLE_SHOWN_MAX; s++) {
    if (!later.has(s)) missing.push(s);
  }
  const list = missing.slice(0, HOLE_SHOWN_MAX).join(', ');
  return `a hole, ${list}${missing.length > HOLE_SHOWN_MAX ? ', …' : ''} missing`;
}
