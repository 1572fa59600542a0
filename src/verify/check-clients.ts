// The read side, per client in history order: a client must hear only of its own conversations,
// what it saw must be what the store holds, its pulls must be dense, it must show each
// conversation as 1, 2, 3, … once each, its watermarks must only rise, and after 'quiet' it must
// catch up with the store.
import type { HistoryEvent, HistoryHeader, SeenMessage, SyncedConversation } from './history.js';
import { trimStore, type StoreIndex } from './check-store.js';
import { checkPullDense } from './check-pulls.js';
import type { ViolationLog } from './check-types.js';

type SeenEvent = Extract<HistoryEvent, { t: 'push' | 'pulled' | 'shown' }>;
type ShownEvent = Extract<HistoryEvent, { t: 'shown' }>;
type SyncedEvent = Extract<HistoryEvent, { t: 'synced' }>;
type FinalEvent = Extract<HistoryEvent, { t: 'final' }>;
type QuietEvent = Extract<HistoryEvent, { t: 'quiet' }>;

interface ShownSoFar {
  last: ShownEvent | undefined;
  readonly bySeq: Map<number, ShownEvent>;
  readonly byId: Map<string, ShownEvent>;
}

interface LastSynced {
  readonly event: SyncedEvent;
  readonly entry: SyncedConversation;
}

const WATERMARKS = ['lastSeq', 'deliveredSeq', 'readSeq'] as const;

/** One key per (client, conversation); NUL cannot occur in either id. */
const keyOf = (client: string, conv: string): string => `${client}\u0000${conv}`;

const syncedOf = (event: SyncedEvent, entry: SyncedConversation): SyncedEvent => ({
  ...event,
  convs: [entry],
});

export class ClientChecker {
  /** keyOf(client, conv) for every membership in the header. */
  private readonly members = new Set<string>();
  private readonly shown = new Map<string, ShownSoFar>();
  private readonly synced = new Map<string, LastSynced>();
  /** Each client's last 'final' after 'quiet'. */
  private readonly finals = new Map<string, FinalEvent>();
  private quiet: QuietEvent | undefined;

  constructor(
    private readonly header: HistoryHeader,
    private readonly store: StoreIndex,
    private readonly log: ViolationLog,
  ) {
    for (const [client, convs] of Object.entries(header.members)) {
      for (const conv of convs) this.members.add(keyOf(client, conv));
    }
  }

  onQuiet(event: QuietEvent): void {
    this.quiet ??= event;
  }

  onPush(event: Extract<HistoryEvent, { t: 'push' }>): void {
    if (this.foreign(event, event.conv)) return;
    this.compare(event, event.msg);
  }

  onPulled(event: Extract<HistoryEvent, { t: 'pulled' }>): void {
    if (this.foreign(event, event.conv)) return;
    checkPullDense(event, this.log);
    for (const msg of event.msgs) this.compare(event, msg);
  }

  onShown(event: ShownEvent): void {
    if (this.foreign(event, event.conv)) return;
    this.compare(event, event.msg);
    const key = keyOf(event.client, event.conv);
    let so = this.shown.get(key);
    if (!so) {
      so = { last: undefined, bySeq: new Map(), byId: new Map() };
      this.shown.set(key, so);
    }
    const { seq, id } = event.msg;
    const earlier = so.bySeq.get(seq) ?? so.byId.get(id);
    if (earlier) {
      const message = `${event.client} showed ${event.conv}#${earlier.msg.seq} (id ${earlier.msg.id}) again as #${seq} (id ${id})`;
      // A repeat is not a step forward: the next message must still follow the last new one.
      this.log.add('shown_twice', message, [earlier, event]);
      return;
    }
    const after = so.last?.msg.seq ?? 0;
    if (seq !== after + 1) {
      const message = `${event.client} showed ${event.conv}#${seq} right after #${after}`;
      this.log.add('shown_out_of_order', message, so.last ? [so.last, event] : [event]);
    }
    so.bySeq.set(seq, event);
    so.byId.set(id, event);
    so.last = event;
  }

  onSynced(event: SyncedEvent): void {
    for (const entry of event.convs) {
      if (this.foreign(syncedOf(event, entry), entry.id)) continue;
      const problems = inconsistencies(entry);
      const who = `${event.client}'s synced for ${entry.id}`;
      if (problems.length > 0) {
        const message = `${who}: ${problems.join('; ')}`;
        this.log.add('watermark_backwards', message, [syncedOf(event, entry)]);
      }
      const key = keyOf(event.client, entry.id);
      const before = this.synced.get(key);
      if (before) {
        const down = WATERMARKS.filter((w) => entry[w] < before.entry[w]);
        if (down.length > 0) {
          const moves = down.map((w) => `${w} ${before.entry[w]} → ${entry[w]}`).join(', ');
          const proof = [syncedOf(before.event, before.entry), syncedOf(event, entry)];
          this.log.add('watermark_backwards', `${who} moved back: ${moves}`, proof);
        }
      }
      this.synced.set(key, { event, entry });
    }
  }

  onFinal(event: FinalEvent): void {
    // A client's state before the faults healed proves nothing about catching up.
    if (this.quiet) this.finals.set(event.client, event);
  }

  /** never_caught_up; without 'quiet' the run never promised that anyone would catch up. */
  finish(): void {
    const quiet = this.quiet;
    if (!quiet) return;
    for (const [client, convs] of Object.entries(this.header.members)) {
      const final = this.finals.get(client);
      if (!final) {
        const message = `${client} has no 'final' event after 'quiet'`;
        this.log.add('never_caught_up', message, [quiet]);
        continue;
      }
      if (final.caughtUp === false) {
        const message = `${client} could not sync and pull to every conversation's last seq before the run's settle time ran out`;
        this.log.add('never_caught_up', message, [final]);
      }
      for (const conv of convs) {
        const read = this.store.convs.get(conv);
        const seen = final.seen[conv] ?? 0;
        if (!read || seen >= read.lastSeq) continue;
        const message = `${client} ended with seen ${seen} in ${conv}; the store's last seq is ${read.lastSeq}`;
        const last = read.bySeq.get(read.lastSeq);
        this.log.add('never_caught_up', message, [final, trimStore(read.event, [last])]);
      }
    }
  }

  /**
   * foreign_conversation: whether `event` (for 'synced', already cut to the one entry) is about
   * a conversation its client is not a member of, reported if so. The caller then skips every
   * other check of it: a leaked message is one fault, not also a wrong one or one out of order.
   */
  private foreign(event: SeenEvent | SyncedEvent, conv: string): boolean {
    if (this.members.has(keyOf(event.client, conv))) return false;
    const message = `${event.client} got a '${event.t}' for ${conv}, a conversation it is not a member of`;
    this.log.add('foreign_conversation', message, [event]);
    return true;
  }

  private compare(event: SeenEvent, msg: SeenMessage): void {
    const read = this.store.convs.get(event.conv);
    const stored = read?.bySeq.get(msg.seq);
    if (stored && stored.id === msg.id && stored.ref === msg.ref) return;
    const saw = `${event.client} saw ${event.conv}#${msg.seq} (id ${msg.id}, ref ${msg.ref}) in a ${event.t}`;
    let why = `, but ${event.conv} has no store read`;
    if (read && stored) why = `, but the store holds id ${stored.id}, ref ${stored.ref} there`;
    else if (read) why = `, a seq the store does not hold (its last is ${read.lastSeq})`;
    // A pull can carry hundreds of messages; the proof needs only the one that differs.
    const seen: HistoryEvent = event.t === 'pulled' ? { ...event, msgs: [msg] } : event;
    const proof = read ? [seen, trimStore(read.event, [stored])] : [seen];
    this.log.add('different_message', saw + why, proof);
  }
}

function inconsistencies(entry: SyncedConversation): string[] {
  const problems: string[] = [];
  const { lastSeq, deliveredSeq, readSeq, unread } = entry;
  const expected = Math.max(0, lastSeq - readSeq);
  if (unread !== expected) {
    problems.push(`unread ${unread}, not max(0, ${lastSeq} - ${readSeq}) = ${expected}`);
  }
  if (readSeq > lastSeq) problems.push(`readSeq ${readSeq} > lastSeq ${lastSeq}`);
  if (deliveredSeq > lastSeq) problems.push(`deliveredSeq ${deliveredSeq} > lastSeq ${lastSeq}`);
  return problems;
}
