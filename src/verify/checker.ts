// Checks a `parley verify` history against docs/protocol.md's guarantees. The final store reads
// are the truth: everything a client was told or shown is compared with them. Every index is
// built once and every event is looked at a constant number of times, because a long run
// records millions of events.
//
// Choices the guarantees leave open:
// - An ack is checked against the store once per ref (the first ack, and any later one that
//   disagrees with it): agreeing duplicate acks repeat one claim. An ack the store contradicts
//   is acked_missing or acked_moved, never also different_message: that would be one fault twice.
// - A conversation read twice from the store is judged by its last read.
// - A client's first shown message of a conversation must be seq 1: the workload's clients start
//   empty and membership never changes during a run.
// - A push, pull, shown message or synced entry for a conversation the client is not in is
//   foreign_conversation and nothing else: it should not exist, so comparing it is moot.
// - Every 'crash' and every 'refused' is a violation: no fault asked for the one, and a verify
//   workload sends nothing that deserves the other.
// - System messages (refs starting with '#') are the server's own: no send explains them and
//   many share a ref, but they are compared by seq like any other message.
// - Past VIOLATIONS_PER_KIND_MAX of one kind, the rest are counted in one summary violation.
import type { HistoryEvent, HistoryHeader } from './history.js';
import { checkStore, indexStore, type StoreIndex } from './check-store.js';
import { WriteChecker } from './check-writes.js';
import { ClientChecker } from './check-clients.js';
import {
  ViolationLog,
  type CheckResult,
  type HistoryStats,
  type Violation,
} from './check-types.js';

export { readHistory } from './check-read.js';
export {
  VIOLATION_KINDS,
  VIOLATIONS_PER_KIND_MAX,
  type CheckResult,
  type HistoryStats,
  type Violation,
  type ViolationKind,
} from './check-types.js';

/** The counts the dispatch loop keeps as it goes. */
interface ReadStats {
  pushes: number;
  pulls: number;
  syncs: number;
  shown: number;
  faults: number;
  readonly faultsByKind: Record<string, number>;
  crashes: number;
}

/** What the dispatch loop hands each event to. */
interface Checkers {
  readonly writes: WriteChecker;
  readonly clients: ClientChecker;
  readonly log: ViolationLog;
  readonly tally: ReadStats;
}

/** How many violations formatViolations prints unless told. */
const FORMATTED_VIOLATIONS_MAX = 20;

export function checkHistory(header: HistoryHeader, events: readonly HistoryEvent[]): CheckResult {
  const log = new ViolationLog();
  const store = indexStore(events);
  checkStore(store, log);
  const writes = new WriteChecker(store, log);
  const clients = new ClientChecker(header, store, log);
  const tally: ReadStats = {
    pushes: 0,
    pulls: 0,
    syncs: 0,
    shown: 0,
    faults: 0,
    faultsByKind: {},
    crashes: 0,
  };
  const checkers: Checkers = { writes, clients, log, tally };
  let quiet = false;
  for (const event of events) {
    if (event.t === 'quiet') quiet = true;
    dispatch(event, checkers);
  }
  writes.finish(quiet);
  clients.finish();
  const stats: HistoryStats = {
    ...writes.stats(),
    ...tally,
    conversations: conversationsOf(header, store),
    storedMessages: store.messages,
  };
  return { violations: log.list(), stats };
}

function dispatch(event: HistoryEvent, { writes, clients, log, tally }: Checkers): void {
  switch (event.t) {
    case 'send':
      return writes.onSend(event);
    case 'ack':
      return writes.onAck(event);
    case 'refused':
      return writes.onRefused(event);
    case 'push':
      tally.pushes++;
      return clients.onPush(event);
    case 'pulled':
      tally.pulls++;
      return clients.onPulled(event);
    case 'shown':
      tally.shown++;
      return clients.onShown(event);
    case 'synced':
      tally.syncs++;
      return clients.onSynced(event);
    case 'quiet':
      return clients.onQuiet(event);
    case 'final':
      return clients.onFinal(event);
    case 'fault':
      if (event.phase !== 'start') return;
      tally.faults++;
      tally.faultsByKind[event.kind] = (tally.faultsByKind[event.kind] ?? 0) + 1;
      return;
    case 'crash':
      tally.crashes++;
      return onCrash(event, log);
    case 'receipt':
    case 'mark':
    case 'link':
    case 'store':
      // Receipts, marks and links carry no guarantee the checker can prove; the store reads
      // were indexed before this pass.
      return;
  }
}

/** server_crashed: the harness records 'crash' only for an exit no fault asked for. */
function onCrash(event: Extract<HistoryEvent, { t: 'crash' }>, log: ViolationLog): void {
  const how = event.signal !== null ? `signal ${event.signal}` : `code ${event.code}`;
  log.add('server_crashed', `${event.name} exited (${how}) though no fault stopped it`, [event]);
}

function conversationsOf(header: HistoryHeader, store: StoreIndex): number {
  const convs = new Set(store.convs.keys());
  for (const list of Object.values(header.members)) for (const conv of list) convs.add(conv);
  return convs.size;
}

/**
 * One block per violation, blank-line separated: `<kind>: <message>`, then each proving event
 * as one JSON line. Stops after `max` violations and says how many it left out.
 */
export function formatViolations(
  violations: readonly Violation[],
  max: number = FORMATTED_VIOLATIONS_MAX,
): string {
  if (violations.length === 0) return 'no violations';
  const blocks = violations.slice(0, max).map((v) => {
    const lines = [`${v.kind}: ${v.message}`, ...v.events.map((e) => `  ${JSON.stringify(e)}`)];
    return lines.join('\n');
  });
  const left = violations.length - blocks.length;
  if (left > 0) blocks.push(`… and ${left} more`);
  return blocks.join('\n\n');
}
