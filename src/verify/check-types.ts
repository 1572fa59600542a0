// The checker's result types and the log that keeps its violations. Split from checker.ts so the
// check-*.ts files can share them without importing the module that imports them.
import type { HistoryEvent } from './history.js';

/** Every property the checker proves, in the order a report lists them. */
export const VIOLATION_KINDS = [
  'acked_missing',
  'acked_moved',
  'ref_stored_twice',
  'seq_gap',
  'seq_repeat',
  'unknown_write',
  'shown_twice',
  'shown_out_of_order',
  'different_message',
  'never_caught_up',
  'watermark_backwards',
  'ack_for_refused',
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
