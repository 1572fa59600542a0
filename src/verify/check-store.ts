// The final store reads, indexed once so every other check looks a message up in O(1), and the
// checks that need nothing but the store: dense seqs and one stored message per ref.
import type { HistoryEvent, SeenMessage } from './history.js';
import type { ViolationLog } from './check-types.js';

export type StoreEvent = Extract<HistoryEvent, { t: 'store' }>;

export interface StoredConversation {
  readonly event: StoreEvent;
  /** The first message read at each seq; a repeat is reported, not indexed. */
  readonly bySeq: ReadonlyMap<number, SeenMessage>;
  /** The highest seq read, 0 for an empty conversation. */
  readonly lastSeq: number;
}

export interface StoredAt {
  readonly conv: string;
  readonly msg: SeenMessage;
}

export interface StoreIndex {
  readonly convs: ReadonlyMap<string, StoredConversation>;
  readonly byRef: ReadonlyMap<string, readonly StoredAt[]>;
  readonly messages: number;
}

/**
 * Whether a stored message is the server's own rather than a client's send: the client records
 * a non-text body (a group's system message, say) with a ref starting with '#', which no
 * workload ref does. Such a message answers to no send, and many share one ref.
 */
export function isServerRef(ref: string): boolean {
  return ref.startsWith('#');
}

/** A copy of a store read that carries only `msgs`, so a violation stays small. */
export function trimStore(
  event: StoreEvent,
  msgs: readonly (SeenMessage | undefined)[],
): StoreEvent {
  return { ...event, msgs: msgs.filter((m): m is SeenMessage => m !== undefined) };
}

/**
 * Indexes the 'store' events. A conversation read twice keeps its last read: the harness reads
 * after the run, so a later read is at least as final as an earlier one.
 */
export function indexStore(events: readonly HistoryEvent[]): StoreIndex {
  const reads = new Map<string, StoreEvent>();
  for (const event of events) if (event.t === 'store') reads.set(event.conv, event);
  const convs = new Map<string, StoredConversation>();
  const byRef = new Map<string, StoredAt[]>();
  let messages = 0;
  for (const [conv, event] of reads) {
    const bySeq = new Map<number, SeenMessage>();
    let lastSeq = 0;
    for (const msg of event.msgs) {
      if (!bySeq.has(msg.seq)) bySeq.set(msg.seq, msg);
      lastSeq = Math.max(lastSeq, msg.seq);
      const at = byRef.get(msg.ref);
      if (at) at.push({ conv, msg });
      else byRef.set(msg.ref, [{ conv, msg }]);
    }
    messages += event.msgs.length;
    convs.set(conv, { event, bySeq, lastSeq });
  }
  return { convs, byRef, messages };
}

/**
 * seq_repeat, seq_gap and ref_stored_twice: what the store alone proves wrong. Server messages
 * still count towards dense seqs; they are only exempt from one-message-per-ref.
 */
export function checkStore(store: StoreIndex, log: ViolationLog): void {
  for (const [conv, read] of store.convs) checkDense(conv, read, log);
  for (const [ref, at] of store.byRef) {
    if (at.length < 2 || isServerRef(ref)) continue;
    const where = at.map((a) => `${a.conv}#${a.msg.seq}`).join(', ');
    const message = `ref ${ref} is stored ${at.length} times: ${where}`;
    log.add('ref_stored_twice', message, storeProof(store, at));
  }
}

/** The store reads that hold `at`, one per conversation, each cut to those messages. */
export function storeProof(store: StoreIndex, at: readonly StoredAt[]): StoreEvent[] {
  const convs = [...new Set(at.map((a) => a.conv))];
  const proof: StoreEvent[] = [];
  for (const conv of convs) {
    const read = store.convs.get(conv);
    const msgs = at.filter((a) => a.conv === conv).map((a) => a.msg);
    if (read) proof.push(trimStore(read.event, msgs));
  }
  return proof;
}

function checkDense(conv: string, read: StoredConversation, log: ViolationLog): void {
  const first = read.bySeq;
  const seqs = new Set<number>();
  for (const msg of read.event.msgs) {
    const earlier = first.get(msg.seq);
    if (earlier && seqs.has(msg.seq)) {
      const message = `store read of ${conv} holds seq ${msg.seq} twice (ids ${earlier.id}, ${msg.id})`;
      log.add('seq_repeat', message, [trimStore(read.event, [earlier, msg])]);
    }
    seqs.add(msg.seq);
  }
  const invalid = read.event.msgs.filter((m) => !isSeq(m.seq));
  for (const msg of invalid) {
    const message = `store read of ${conv} holds seq ${msg.seq}, not a seq of 1..n`;
    log.add('seq_gap', message, [trimStore(read.event, [msg])]);
  }
  // Walks the seqs held rather than 1..last, so one absurd seq cannot make the walk absurd.
  const held = [...first.keys()].filter(isSeq).sort((a, b) => a - b);
  const ranges: string[] = [];
  const edges: SeenMessage[] = [];
  let missing = 0;
  let prev = 0;
  for (const seq of held) {
    if (seq > prev + 1) {
      missing += seq - prev - 1;
      ranges.push(seq === prev + 2 ? `${prev + 1}` : `${prev + 1}..${seq - 1}`);
      edges.push(...[first.get(prev), first.get(seq)].filter((m) => m !== undefined));
    }
    prev = seq;
  }
  if (missing === 0) return;
  const list = ranges.slice(0, 10).join(', ') + (ranges.length > 10 ? ', …' : '');
  const message = `store read of ${conv} (last seq ${prev}) lacks ${missing} seqs: ${list}`;
  // Only the gaps' edges go into the violation: a conversation can hold 1e5 messages.
  log.add('seq_gap', message, [trimStore(read.event, [...new Set(edges)].slice(0, 20))]);
}

function isSeq(seq: number): boolean {
  return Number.isInteger(seq) && seq >= 1;
}
