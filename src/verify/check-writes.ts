// The write side: every ack must name the message the store holds for its ref, every stored
// message must come from a send to its conversation (unless the server wrote it itself), a
// refused send must leave nothing, and in a verify workload no send may be refused at all.
import type { HistoryEvent } from './history.js';
import { isServerRef, storeProof, trimStore, type StoreIndex } from './check-store.js';
import type { HistoryStats, ViolationLog } from './check-types.js';

type SendEvent = Extract<HistoryEvent, { t: 'send' }>;
type AckEvent = Extract<HistoryEvent, { t: 'ack' }>;
type RefusedEvent = Extract<HistoryEvent, { t: 'refused' }>;

interface SentRef {
  readonly first: SendEvent;
  last: SendEvent;
  attempts: number;
}

export type WriteStats = Pick<
  HistoryStats,
  'sends' | 'attempts' | 'retries' | 'acks' | 'duplicateAcks' | 'refused'
>;

const where = (conv: string, seq: number, id: string): string => `${conv}#${seq} (id ${id})`;

export class WriteChecker {
  private readonly sent = new Map<string, SentRef>();
  /** The first ack of each ref: a retry's ack must repeat it. */
  private readonly acked = new Map<string, AckEvent>();
  private readonly refusals = new Map<string, RefusedEvent>();
  private attempts = 0;
  private duplicateAcks = 0;

  constructor(
    private readonly store: StoreIndex,
    private readonly log: ViolationLog,
  ) {}

  onSend(event: SendEvent): void {
    this.attempts++;
    const known = this.sent.get(event.ref);
    if (!known) this.sent.set(event.ref, { first: event, last: event, attempts: 1 });
    else {
      known.last = event;
      known.attempts++;
    }
  }

  onAck(event: AckEvent): void {
    if (event.dup) this.duplicateAcks++;
    const first = this.acked.get(event.ref);
    if (!first) {
      this.acked.set(event.ref, event);
      this.checkAck(event);
      return;
    }
    // An ack that repeats the first says nothing new about the store; one that differs does.
    if (first.conv === event.conv && first.seq === event.seq && first.id === event.id) return;
    const message =
      `two acks for ref ${event.ref} disagree: ${where(first.conv, first.seq, first.id)} ` +
      `then ${where(event.conv, event.seq, event.id)}`;
    this.log.add('acked_moved', message, [first, event]);
    this.checkAck(event);
  }

  onRefused(event: RefusedEvent): void {
    if (!this.refusals.has(event.ref)) this.refusals.set(event.ref, event);
    // Every send of a verify workload is valid (see 'unexpected_refusal' in check-types.ts), so
    // each refusal is reported, with the send it answers when there is one.
    const send = this.sent.get(event.ref)?.last;
    const message = `${event.client}'s send of ref ${event.ref} to ${event.conv} was refused (${event.code})`;
    this.log.add('unexpected_refusal', message, send ? [send, event] : [event]);
  }

  /** The checks that need the whole history; `quiet` says whether every send had time to end. */
  finish(quiet: boolean): void {
    this.checkRefusals();
    this.checkUnknownWrites();
    if (quiet) this.checkUnresolved();
  }

  stats(): WriteStats {
    return {
      sends: this.sent.size,
      attempts: this.attempts,
      retries: this.attempts - this.sent.size,
      acks: this.acked.size,
      duplicateAcks: this.duplicateAcks,
      refused: this.refusals.size,
    };
  }

  private checkAck(ack: AckEvent): void {
    const acked = where(ack.conv, ack.seq, ack.id);
    const read = this.store.convs.get(ack.conv);
    if (!read) {
      const message = `ref ${ack.ref} acked at ${acked}, but ${ack.conv} has no store read`;
      this.log.add('acked_missing', message, [ack]);
      return;
    }
    const stored = this.store.byRef.get(ack.ref) ?? [];
    const here = stored.find((s) => s.conv === ack.conv)?.msg;
    const atSeq = read.bySeq.get(ack.seq);
    if (!here) {
      const elsewhere = stored[0];
      const hint = elsewhere ? ` (it is stored at ${elsewhere.conv}#${elsewhere.msg.seq})` : '';
      const message = `ref ${ack.ref} acked at ${acked} is not in ${ack.conv}'s store read${hint}`;
      this.log.add('acked_missing', message, [ack, trimStore(read.event, [atSeq])]);
      return;
    }
    if (here.seq === ack.seq && here.id === ack.id) return;
    const message = `ref ${ack.ref} acked at ${acked} is stored at ${where(ack.conv, here.seq, here.id)}`;
    const msgs = atSeq === here ? [here] : [here, atSeq];
    this.log.add('acked_moved', message, [ack, trimStore(read.event, msgs)]);
  }

  private checkRefusals(): void {
    for (const [ref, refused] of this.refusals) {
      const ack = this.acked.get(ref);
      if (ack) {
        const message = `ref ${ref} was acked at ${where(ack.conv, ack.seq, ack.id)} and refused (${refused.code})`;
        this.log.add('ack_for_refused', message, [ack, refused]);
      }
      const stored = this.store.byRef.get(ref);
      if (stored) {
        const at = stored.map((s) => `${s.conv}#${s.msg.seq}`).join(', ');
        const message = `ref ${ref} was refused (${refused.code}) but is stored at ${at}`;
        this.log.add('ack_for_refused', message, [refused, ...storeProof(this.store, stored)]);
      }
    }
  }

  private checkUnknownWrites(): void {
    for (const [ref, stored] of this.store.byRef) {
      if (isServerRef(ref)) continue;
      const send = this.sent.get(ref)?.first;
      for (const s of stored) {
        if (send && send.conv === s.conv) continue;
        const what = `store holds ${where(s.conv, s.msg.seq, s.msg.id)} with ref ${ref}`;
        const why = send ? `, which ${send.client} sent to ${send.conv}` : ', which no client sent';
        const proof = storeProof(this.store, [s]);
        this.log.add('unknown_write', what + why, send ? [send, ...proof] : proof);
      }
    }
  }

  private checkUnresolved(): void {
    for (const [ref, sent] of this.sent) {
      if (this.acked.has(ref) || this.refusals.has(ref)) continue;
      const { first, last, attempts } = sent;
      const message =
        `ref ${ref} that ${first.client} sent to ${first.conv} (${attempts} attempts) ` +
        'got neither an ack nor a refusal';
      this.log.add('send_unresolved', message, first === last ? [first] : [first, last]);
    }
  }
}
