// Catch-up and ordering (docs/protocol.md §8): each (conversation, seq) reaches the application
// once, in seq order per conversation, with every gap closed before what follows it; after each
// welcome a sync and pulls bring what the client missed. Also the acks (delivered) of what was
// emitted, and the read marks waiting for a link.
//
// Gap rule. Per conversation, `seen` is the highest seq up to which every message was emitted.
// A message above seen + 1 (a push, or the `sent` of an own send) is held back, and a pull
// {after: seen} fetches what lies between. The pull is the authority: seqs it skips are not
// visible to this user (history before a join, say) and are not waited for.
import type { MemberFrame, PulledFrame, SyncedFrame } from '../protocol/index.js';
import { ParleyClientError } from './errors.js';
import type { LinkView, Timer } from './link-view.js';
import type { RequestTable } from './requests.js';
import type { ClientEvents, ConversationState, Message } from './types.js';
import { fromWire } from './wire.js';

/** A conversation first met after the first sync is caught up at most this far back. */
const NEW_CONVERSATION_BACKLOG = 100;
/** Messages per catch-up pull (the server's default `PARLEY_PULL_COUNT_MAX`). */
const PULL_PAGE = 100;
/** Pulls per conversation per catch-up: a bound against a server that never says "no more". */
const CATCH_UP_PULLS_MAX = 10_000;
/** Pulls in a row that bring nothing new before a catch-up gives up and the link is renewed. */
const STALLED_PULLS_MAX = 20;
/** Conversations caught up at once after a reconnect. */
const CATCH_UP_CONCURRENCY = 4;
/** A push above seen + 1 waits this long for the pushes before it, which may be in flight. */
const GAP_FILL_DELAY_MS = 50;
/** Acks are gathered this long and sent as one per conversation. */
const ACK_DELAY_MS = 100;

type Emit = <K extends 'message' | 'changed' | 'synced'>(
  event: K,
  payload: ClientEvents[K],
) => void;

export interface CatchUpOptions {
  readonly link: LinkView;
  readonly requests: RequestTable;
  readonly emit: Emit;
  /** This device's own messages are not acked. */
  readonly isOwn: (m: Message) => boolean;
  readonly autoAck: boolean;
  /** A catch-up or gap fill failed on link `gen`: the client renews the link. */
  readonly failed: (gen: number, err: unknown) => void;
}

export class CatchUp {
  readonly #link: LinkView;
  readonly #requests: RequestTable;
  readonly #emit: Emit;
  readonly #isOwn: (m: Message) => boolean;
  readonly #autoAck: boolean;
  readonly #failed: (gen: number, err: unknown) => void;

  readonly #seen = new Map<string, number>();
  readonly #held = new Map<string, Map<number, Message>>();
  #baselined = false;
  #cursor: string | undefined;
  readonly #filling = new Map<string, Promise<void>>();
  readonly #fillTargets = new Map<string, number>();
  readonly #gapTimers = new Map<string, Timer>();

  /** Conversations this user left or was removed from: no acks for them (not_member). */
  readonly #left = new Set<string>();
  readonly #acks = new Map<string, number>();
  #ackTimer: Timer | undefined;
  readonly #reads = new Map<string, number>();

  constructor(options: CatchUpOptions) {
    this.#link = options.link;
    this.#requests = options.requests;
    this.#emit = options.emit;
    this.#isOwn = options.isOwn;
    this.#autoAck = options.autoAck;
    this.#failed = options.failed;
  }

  /** Moves the read watermark to send: now, or after the next welcome. */
  markRead(conversation: string, seq: number): void {
    this.#reads.set(conversation, Math.max(seq, this.#reads.get(conversation) ?? 0));
    this.flushReads();
  }

  /** The client closed: no timer may outlive it. */
  close(): void {
    clearTimeout(this.#ackTimer);
    for (const timer of this.#gapTimers.values()) clearTimeout(timer);
    this.#gapTimers.clear();
  }

  /** A message from a push or an own `sent`: emit it in order, hold it, or drop a duplicate. */
  accept(m: Message): void {
    const c = m.conversation;
    let seen = this.#seen.get(c);
    if (seen === undefined && this.#baselined) {
      seen = Math.max(0, m.seq - 1 - NEW_CONVERSATION_BACKLOG);
      this.#seen.set(c, seen);
    }
    if (seen !== undefined && m.seq <= seen) return;
    let held = this.#held.get(c);
    if (!held) this.#held.set(c, (held = new Map<number, Message>()));
    held.set(m.seq, m);
    if (seen === undefined) return; // before the first sync: it sets the baseline
    this.#drain(c);
    if (this.#held.has(c)) this.#scheduleFill(c);
  }

  /** Emits held messages that now follow `seen`, and drops the ones at or below it. */
  #drain(c: string): void {
    const held = this.#held.get(c);
    if (!held) return;
    let seen = this.#seen.get(c) ?? 0;
    for (let next = held.get(seen + 1); next; next = held.get(seen + 1)) {
      held.delete(next.seq);
      this.#deliver(next);
      seen = next.seq;
    }
    for (const seq of held.keys()) if (seq <= seen) held.delete(seq);
    if (held.size === 0) this.#held.delete(c);
  }

  #deliver(m: Message): void {
    this.#seen.set(m.conversation, m.seq);
    this.#emit('message', m);
    if (this.#autoAck && !this.#isOwn(m) && !this.#left.has(m.conversation)) {
      this.#acks.set(m.conversation, Math.max(m.seq, this.#acks.get(m.conversation) ?? 0));
      this.#ackTimer ??= setTimeout(() => this.flushAcks(), ACK_DELAY_MS);
    }
  }

  #heldMax(c: string): number {
    const held = this.#held.get(c);
    return held ? Math.max(...held.keys()) : 0;
  }

  /** A push says that `seq` exists in `c`: pull up to it unless its message comes meanwhile. */
  hint(c: string, seq: number): void {
    const seen = this.#seen.get(c);
    if (seen === undefined || seq <= seen) return;
    this.#fillTargets.set(c, Math.max(seq, this.#fillTargets.get(c) ?? 0));
    this.#scheduleFill(c);
  }

  #scheduleFill(c: string): void {
    if (this.#gapTimers.has(c) || this.#filling.has(c) || !this.#link.online) return;
    const gen = this.#link.gen;
    this.#gapTimers.set(
      c,
      setTimeout(() => {
        this.#gapTimers.delete(c);
        const behind = (this.#fillTargets.get(c) ?? 0) > (this.#seen.get(c) ?? 0);
        if (gen === this.#link.gen && (this.#held.has(c) || behind)) {
          this.#fill(c).catch((err: unknown) => this.#failed(gen, err));
        }
      }, GAP_FILL_DELAY_MS),
    );
  }

  /**
   * Pulls after `seen` until nothing is missing up to `target` (a sync's lastSeq) and below the
   * highest held message. One fill per conversation runs at a time; a call during one raises
   * its target and shares it.
   */
  #fill(c: string, target = 0): Promise<void> {
    this.#fillTargets.set(c, Math.max(target, this.#fillTargets.get(c) ?? 0));
    const running = this.#filling.get(c);
    if (running) return running;
    const run = (async () => {
      try {
        let stalled = 0;
        for (let pulls = 0; pulls < CATCH_UP_PULLS_MAX; pulls++) {
          const before = this.#seen.get(c) ?? 0;
          const targetAtPull = this.#fillTargets.get(c) ?? 0;
          if (Math.max(targetAtPull, this.#heldMax(c)) <= before) return;
          const page = await this.#requests.request<PulledFrame>(
            { type: 'pull', conversation: c, after: before, limit: PULL_PAGE },
            'pulled',
          );
          for (const w of page.messages) {
            const m = fromWire(w);
            if (m.seq <= (this.#seen.get(c) ?? 0)) continue;
            this.#held.get(c)?.delete(m.seq);
            this.#deliver(m);
          }
          if (!page.hasMore && targetAtPull > (this.#seen.get(c) ?? 0)) {
            // The pull is the authority: what it did not show up to the target is not visible.
            this.#seen.set(c, targetAtPull);
          }
          this.#drain(c);
          stalled = (this.#seen.get(c) ?? 0) > before ? 0 : stalled + 1;
          if (stalled >= STALLED_PULLS_MAX) break;
          if (stalled > 0) await sleep(GAP_FILL_DELAY_MS);
        }
        throw new ParleyClientError('catch_up_failed', `Conversation ${c} could not be caught up.`);
      } finally {
        this.#filling.delete(c);
        this.#fillTargets.delete(c);
      }
    })();
    this.#filling.set(c, run);
    return run;
  }

  /** After each welcome: sync, pull what is missing, report what changed, then `synced`. */
  async run(gen: number): Promise<void> {
    try {
      const synced = await this.#requests.request<SyncedFrame>(
        { type: 'sync', ...(this.#cursor ? { cursor: this.#cursor } : {}) },
        'synced',
      );
      if (gen !== this.#link.gen) return;
      if (!this.#baselined) this.#baseline(synced.conversations);
      for (const c of synced.conversations) {
        if (c.leftSeq !== undefined && c.leftSeq > 0) this.#left.add(c.id);
        else this.#left.delete(c.id);
        if (!this.#seen.has(c.id)) {
          this.#seen.set(c.id, Math.max(0, c.lastSeq - NEW_CONVERSATION_BACKLOG));
        }
      }
      const behind = synced.conversations.filter((c) => c.lastSeq > (this.#seen.get(c.id) ?? 0));
      await eachLimited(behind, CATCH_UP_CONCURRENCY, (c) => this.#fill(c.id, c.lastSeq));
      if (gen !== this.#link.gen) return;
      for (const c of synced.conversations) {
        if (!c.changed?.length && !c.changedMore) continue;
        this.#emit('changed', {
          conversation: c.id,
          messages: (c.changed ?? []).map(fromWire),
          more: c.changedMore === true,
        });
      }
      this.#cursor = synced.cursor;
      this.#emit('synced', { conversations: synced.conversations });
    } catch (err) {
      if (err instanceof ParleyClientError && err.code === 'invalid_cursor')
        this.#cursor = undefined;
      this.#failed(gen, err);
    }
  }

  /**
   * The first sync of this client object: conversations start at their lastSeq (history is the
   * application's to page through), or just below the first push that came before the sync.
   */
  #baseline(conversations: ConversationState[]): void {
    for (const c of conversations) {
      const held = this.#held.get(c.id);
      const lowest = held ? Math.min(...held.keys()) : Infinity;
      this.#seen.set(c.id, Math.max(0, Math.min(c.lastSeq, lowest - 1)));
    }
    this.#baselined = true;
    for (const [c, held] of [...this.#held]) {
      if (!this.#seen.has(c)) {
        this.#seen.set(c, Math.max(0, Math.min(...held.keys()) - 1 - NEW_CONVERSATION_BACKLOG));
      }
      this.#drain(c);
      if (this.#held.has(c)) this.#scheduleFill(c);
    }
  }

  noteMembership(f: MemberFrame, me: string | undefined): void {
    if (me === undefined || !f.targets.includes(me)) return;
    if (f.event === 'member.removed' || f.event === 'member.left') this.#left.add(f.conversation);
    if (f.event === 'member.added' || f.event === 'member.joined') {
      this.#left.delete(f.conversation);
    }
  }

  flushAcks(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (!this.#link.online) return;
    for (const [conversation, seq] of this.#acks) {
      if (!this.#left.has(conversation)) this.#link.send({ type: 'ack', conversation, seq });
    }
    this.#acks.clear();
  }

  flushReads(): void {
    if (!this.#link.online) return;
    for (const [conversation, seq] of this.#reads)
      this.#link.send({ type: 'read', conversation, seq });
    this.#reads.clear();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` over `items`, at most `limit` at a time; rejects with the first failure. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
