// The checker's result types and the log that keeps its violations. Split from checker.ts so the
// check-*.ts files can share them without importing the module that imports them.
import type { HistoryEvent } from './history.js';

/**
 * Every property the checker proves, in the order a report lists them: a crash first, since it
 * can explain much of what follows; then what the store proves lost, doubled or leaked; then
 * what clients were told or shown; then the send side's answers.
 */
export const VIOLATION_KINDS = [
  // A server process exited although no fault asked it to.
  'server_crashed',
  'acked_missing',
  'acked_moved',
  // A ref stored more than once. System messages (refs starting with '#') are exempt: the
  // server writes them itself, and two of them are normal.
  'ref_stored_twice',
  'seq_gap',
  'seq_repeat',
  // A stored message that no send to its conversation explains; system messages are exempt.
  'unknown_write',
  // A push, pull, shown message or synced entry for a conversation the client is not a member
  // of: a conversation leaked to a non-member. Such an event gets no other read-side check.
  'foreign_conversation',
  'shown_twice',
  'shown_out_of_order',
  'different_message',
  // A 'pulled' answer to `pull {after}` that is not exactly after+1, after+2, … in order, or is
  // empty although it says hasMore. A client moves its `seen` past a hole and loses that
  // message for good, while pushes can hide the bug until the end.
  'pull_not_dense',
  'never_caught_up',
  'watermark_backwards',
  'ack_for_refused',
  // Any 'refused' event. It assumes what every verify workload does today: each send is valid
  // and membership never changes, so no refusal is legitimate. A workload that sends invalid
  // messages on purpose would need an allow-list of the refusals it expects.
  'unexpected_refusal',
  'send_unresolved',
] as const;

export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
  /** The events that prove it; a 'store', 'pulled' or 'synced' event is cut to what matters. */
  readonly events: readonly HistoryEvent[];
}

export interface HistoryStats {
  /** Distinct refs sent. */
  readonly sends: number;
  readonly attempts: number;
  /** Attempts beyond the first of their ref. */
  readonly retries: number;
  /** Distinct refs acked. */
  readonly acks: number;
  /** Acks that said `dup: true`. */
  readonly duplicateAcks: number;
  /** Distinct refs refused. */
  readonly refused: number;
  readonly pushes: number;
  /** 'pulled' answers. */
  readonly pulls: number;
  /** 'synced' answers. */
  readonly syncs: number;
  readonly shown: number;
  /** Faults started. */
  readonly faults: number;
  readonly faultsByKind: Readonly<Record<string, number>>;
  /** Server processes that exited although no fault asked them to ('crash' events). */
  readonly crashes: number;
  /** Conversations in the header's membership or read from the store. */
  readonly conversations: number;
  /** Messages in the final store reads. */
  readonly storedMessages: number;
}

export interface CheckResult {
  /**
   * Grouped by kind in VIOLATION_KINDS order. A kind with more than VIOLATIONS_PER_KIND_MAX
   * violations keeps the first ones in detail and ends with one summary violation (no events)
   * whose message counts the rest.
   */
  readonly violations: readonly Violation[];
  readonly stats: HistoryStats;
}

/**
 * A broken run can fail the same way a million times; past this many a kind's detail says
 * nothing new and would only bloat the report.
 */
export const VIOLATIONS_PER_KIND_MAX = 100;

export class ViolationLog {
  private readonly kept = new Map<ViolationKind, Violation[]>();
  private readonly dropped = new Map<ViolationKind, number>();

  add(kind: ViolationKind, message: string, events: readonly HistoryEvent[]): void {
    const list = this.kept.get(kind) ?? [];
    this.kept.set(kind, list);
    if (list.length < VIOLATIONS_PER_KIND_MAX) list.push({ kind, message, events });
    else this.dropped.set(kind, (this.dropped.get(kind) ?? 0) + 1);
  }

  list(): Violation[] {
    const out: Violation[] = [];
    for (const kind of VIOLATION_KINDS) {
      out.push(...(this.kept.get(kind) ?? []));
      const dropped = this.dropped.get(kind);
      if (dropped !== undefined) {
        const message = `… and ${dropped} more ${kind} violations, not kept in detail`;
        out.push({ kind, message, events: [] });
      }
    }
    return out;
  }
}
