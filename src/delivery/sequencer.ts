// Puts one node's message pushes back into seq order per conversation.
//
// In a cluster a node learns of a conversation's messages from two places: its own commits (at
// once) and other nodes' commits (through the bus, a little later). Seq 6 committed here can
// therefore be ready before seq 5 committed elsewhere arrives. The sequencer holds a push whose
// seq is ahead of the next expected one for at most `holdMs`, releasing it as soon as the gap
// fills. If the gap does not fill in time (a lost bus message), it releases what it holds in
// order and moves on: the client closes such a gap through sync and pull, as always.
//
// State is per conversation, and forgotten after `idleMs` without messages, so a conversation
// that was quiet here (no members online) starts afresh instead of waiting on a stale seq.

export interface SequencerOptions {
  readonly holdMs: number;
  readonly idleMs: number;
  /** Injected for tests. */
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

interface Stream {
  /** The next seq this node expects to push. */
  next: number;
  lastMs: number;
  /** seq → push, for seqs ahead of `next`. */
  readonly held: Map<number, () => void>;
  timer: { cancel(): void } | null;
}

/** Past this many conversations with state, idle ones are swept on the next new one. */
const STREAMS_MAX = 100_000;

// The give-up runs after the poll phase that follows the timer (setImmediate), not in the timers
// phase itself: after a long turn (a big batch pushed) the timer is due before the loop has read
// the sockets, and the missing seq may be waiting there, read a moment later.
const defaultTimer = (fn: () => void, ms: number) => {
  let immediate: NodeJS.Immediate | undefined;
  const t = setTimeout(() => {
    immediate = setImmediate(fn);
  }, ms);
  t.unref();
  return {
    cancel: () => {
      clearTimeout(t);
      if (immediate) clearImmediate(immediate);
    },
  };
};

export class Sequencer {
  private readonly holdMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => { cancel(): void };
  private readonly streams = new Map<string, Stream>();

  constructor(options: SequencerOptions) {
    this.holdMs = options.holdMs;
    this.idleMs = options.idleMs;
    this.now = options.now ?? (() => Date.now());
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  /**
   * Runs `push` for (conversation, seq) in seq order; a seq already passed runs at once.
   * `previousAtMs` is when seq − 1 was stamped, if known: a conversation this node has no state
   * for starts at seq − 1 instead of seq when that was less than `holdMs` ago, because seq − 1
   * (and maybe more before it) may still be on its way from the node that committed it.
   */
  submit(conversationId: string, seq: number, push: () => void, previousAtMs?: number): void {
    const now = this.now();
    let stream = this.streams.get(conversationId);
    if (stream && stream.held.size === 0 && now - stream.lastMs > this.idleMs) {
      this.streams.delete(conversationId);
      stream = undefined;
    }
    if (!stream) {
      if (this.streams.size >= STREAMS_MAX) this.forgetIdle(now);
      const recent = previousAtMs !== undefined && seq > 1 && now - previousAtMs < this.holdMs;
      stream = { next: recent ? seq - 1 : seq, lastMs: now, held: new Map(), timer: null };
      this.streams.set(conversationId, stream);
    }
    stream.lastMs = now;
    if (seq < stream.next) return push(); // late (released past it already): better late than never
    if (seq > stream.next) {
      stream.held.set(seq, push);
      stream.timer ??= this.setTimer(() => this.giveUp(conversationId), this.holdMs);
      return;
    }
    push();
    stream.next = seq + 1;
    this.drain(stream);
  }

  /** Conversations with state, for tests and metrics. */
  get size(): number {
    return this.streams.size;
  }

  private forgetIdle(now: number): void {
    for (const [id, stream] of this.streams) {
      if (stream.held.size === 0 && now - stream.lastMs > this.idleMs) this.streams.delete(id);
    }
  }

  private drain(stream: Stream): void {
    for (let push = stream.held.get(stream.next); push; push = stream.held.get(stream.next)) {
      stream.held.delete(stream.next);
      push();
      stream.next += 1;
    }
    if (stream.held.size === 0 && stream.timer) {
      stream.timer.cancel();
      stream.timer = null;
    }
  }

  /** The gap did not fill in time: release everything held, in order, and carry on from there. */
  private giveUp(conversationId: string): void {
    const stream = this.streams.get(conversationId);
    if (!stream) return;
    stream.timer = null;
    const seqs = [...stream.held.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      stream.held.get(seq)?.();
      stream.held.delete(seq);
      stream.next = seq + 1;
    }
  }
}
