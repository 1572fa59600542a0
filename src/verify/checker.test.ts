// Proves the history checker (checker.ts) passes a clean history with the right stats, reports
// each ViolationKind on a history broken on purpose in exactly that way, with the events that
// prove it, and reads and prints histories as documented.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent, HistoryHeader, SeenMessage } from './history.js';
import {
  VIOLATIONS_PER_KIND_MAX,
  checkHistory,
  formatViolations,
  readHistory,
  type CheckResult,
  type Violation,
  type ViolationKind,
} from './checker.js';

const A = 'alice/phone';
const B = 'bob/phone';
const C = 'carol/laptop';

/** An event as the builder takes it: the builder stamps `at`. */
type WithoutAt<E> = E extends unknown ? Omit<E, 'at'> : never;
type Untimed = WithoutAt<HistoryEvent>;

const msg = (seq: number, ref: string, id = `m-${ref}`): SeenMessage => ({ seq, id, ref });
/** A group's system message as the client records it: the server's own, ref '#system'. */
const sys = (seq: number): SeenMessage => msg(seq, '#system', `m-sys${seq}`);

/** Appends events in order; `at` only grows so that nothing depends on it by accident. */
class History {
  readonly events: HistoryEvent[] = [];
  private clock = 1000;

  constructor(readonly members: Record<string, string[]> = { [A]: ['c'] }) {}

  get header(): HistoryHeader {
    const users = Object.fromEntries(Object.keys(this.members).map((c) => [c, c.split('/')[0]!]));
    const started = '2024-01-01T00:00:00.000Z';
    return {
      t: 'header',
      seed: 7,
      mode: 'embedded',
      started,
      commit: 'abc',
      members: this.members,
      users,
    };
  }

  add<T extends Untimed>(event: T): Extract<HistoryEvent, { t: T['t'] }> {
    const full = { ...event, at: this.clock++ } as unknown as Extract<HistoryEvent, { t: T['t'] }>;
    this.events.push(full);
    return full;
  }

  send(client: string, conv: string, ref: string, attempt = 1) {
    return this.add({ t: 'send', client, conv, ref, attempt });
  }

  ack(client: string, conv: string, ref: string, seq: number, dup = false, id = `m-${ref}`) {
    return this.add({ t: 'ack', client, conv, ref, seq, id, dup });
  }

  refused(client: string, conv: string, ref: string, code = 'body_too_large') {
    return this.add({ t: 'refused', client, conv, ref, code });
  }

  push(client: string, conv: string, m: SeenMessage) {
    return this.add({ t: 'push', client, conv, msg: m });
  }

  pulled(client: string, conv: string, after: number, msgs: SeenMessage[], hasMore = false) {
    return this.add({ t: 'pulled', client, conv, after, msgs, hasMore });
  }

  shown(client: string, conv: string, m: SeenMessage) {
    return this.add({ t: 'shown', client, conv, msg: m });
  }

  synced(
    client: string,
    conv: string,
    last: number,
    delivered: number,
    read: number,
    unread?: number,
  ) {
    const entry = { id: conv, lastSeq: last, deliveredSeq: delivered, readSeq: read };
    const convs = [{ ...entry, unread: unread ?? Math.max(0, last - read) }];
    return this.add({ t: 'synced', client, convs });
  }

  fault(kind: string, phase: 'start' | 'end', index: number) {
    return this.add({ t: 'fault', kind, target: 'node-1', phase, index });
  }

  crash(name: string, code: number | null, signal: string | null) {
    return this.add({ t: 'crash', name, code, signal });
  }

  quiet() {
    return this.add({ t: 'quiet' });
  }

  final(client: string, seen: Record<string, number>, caughtUp?: boolean) {
    return this.add({ t: 'final', client, seen, ...(caughtUp === undefined ? {} : { caughtUp }) });
  }

  store(conv: string, msgs: SeenMessage[]) {
    return this.add({ t: 'store', conv, msgs });
  }

  /** A send that was acked at `seq`; returns the message the store should hold. */
  write(client: string, conv: string, ref: string, seq: number): SeenMessage {
    this.send(client, conv, ref);
    this.ack(client, conv, ref, seq);
    return msg(seq, ref);
  }

  deliver(client: string, conv: string, m: SeenMessage): void {
    this.push(client, conv, m);
    this.shown(client, conv, m);
  }

  /** 'quiet', then a caught-up 'final' for every member, then the store reads. */
  end(stores: Record<string, SeenMessage[]>): void {
    this.quiet();
    const lastOf = (conv: string) => Math.max(0, ...(stores[conv] ?? []).map((m) => m.seq));
    for (const [client, convs] of Object.entries(this.members)) {
      this.final(client, Object.fromEntries(convs.map((conv) => [conv, lastOf(conv)])));
    }
    for (const [conv, msgs] of Object.entries(stores)) this.store(conv, msgs);
  }

  check(): CheckResult {
    return checkHistory(this.header, this.events);
  }
}

const kindsOf = (result: CheckResult): ViolationKind[] =>
  [...new Set(result.violations.map((v) => v.kind))].sort();

/** Asserts the history broke exactly `kind` and returns those violations. */
function only(result: CheckResult, kind: ViolationKind): Violation[] {
  return among(result, [kind], kind);
}

/** Asserts the history broke exactly `kinds` and returns the violations of `kind`. */
function among(result: CheckResult, kinds: ViolationKind[], kind: ViolationKind): Violation[] {
  assert.deepEqual(kindsOf(result), [...kinds].sort(), formatViolations(result.violations));
  return result.violations.filter((v) => v.kind === kind);
}

/** Whether some violation's events hold `event` (or, for a cut-down copy, its `t` and `at`). */
const proves = (violations: readonly Violation[], event: HistoryEvent): boolean =>
  violations.some((v) =>
    v.events.some((e) => e === event || (e.t === event.t && e.at === event.at)),
  );

/**
 * The clean run: three clients, a direct and a group conversation, faults, retries, overlap, a
 * paged pull, an empty one, the group's system messages, and a client (carol) who is in the
 * group only.
 */
function cleanRun(): History {
  const h = new History({ [A]: ['d1', 'g1'], [B]: ['d1', 'g1'], [C]: ['g1'] });
  h.fault('partition', 'start', 0);
  h.send(A, 'd1', 'r1');
  h.send(A, 'd1', 'r1', 2);
  h.ack(A, 'd1', 'r1', 1);
  h.ack(A, 'd1', 'r1', 1, true);
  h.push(B, 'd1', msg(1, 'r1'));
  h.pulled(B, 'd1', 0, [msg(1, 'r1')]);
  h.shown(B, 'd1', msg(1, 'r1'));
  h.shown(A, 'd1', msg(1, 'r1'));
  h.write(B, 'g1', 'r2', 1);
  h.push(A, 'g1', msg(1, 'r2'));
  h.send(B, 'g1', 'r3');
  h.send(B, 'g1', 'r3', 2);
  h.ack(B, 'g1', 'r3', 2, true);
  h.pulled(A, 'g1', 0, [msg(1, 'r2')], true);
  h.pulled(A, 'g1', 1, [msg(2, 'r3')]);
  h.shown(A, 'g1', msg(1, 'r2'));
  h.shown(A, 'g1', msg(2, 'r3'));
  h.push(A, 'g1', msg(2, 'r3'));
  h.shown(B, 'g1', msg(1, 'r2'));
  h.shown(B, 'g1', msg(2, 'r3'));
  h.push(B, 'g1', sys(3));
  h.push(B, 'g1', sys(4));
  h.shown(B, 'g1', sys(3));
  h.shown(B, 'g1', sys(4));
  h.pulled(A, 'g1', 2, [sys(3), sys(4)]);
  h.shown(A, 'g1', sys(3));
  h.shown(A, 'g1', sys(4));
  h.pulled(C, 'g1', 0, [msg(1, 'r2'), msg(2, 'r3'), sys(3), sys(4)]);
  for (const m of [msg(1, 'r2'), msg(2, 'r3'), sys(3), sys(4)]) h.shown(C, 'g1', m);
  h.pulled(B, 'd1', 1, []);
  h.synced(B, 'd1', 1, 1, 0);
  h.synced(B, 'd1', 1, 1, 1);
  h.synced(A, 'g1', 2, 1, 1);
  h.synced(A, 'g1', 2, 2, 2);
  h.synced(C, 'g1', 4, 4, 4);
  h.add({ t: 'mark', client: A, conv: 'g1', kind: 'read', seq: 2 });
  h.add({ t: 'receipt', client: B, conv: 'g1', user: 'alice', deliveredSeq: 2, readSeq: 2 });
  h.add({ t: 'link', client: B, up: false, reason: 'closed' });
  h.fault('partition', 'end', 0);
  h.fault('kill', 'start', 1);
  h.fault('kill', 'end', 1);
  h.end({ d1: [msg(1, 'r1')], g1: [msg(1, 'r2'), msg(2, 'r3'), sys(3), sys(4)] });
  return h;
}

describe('checkHistory on a clean history', () => {
  it('reports no violations', () => {
    const result = cleanRun().check();
    assert.deepEqual(result.violations, [], formatViolations(result.violations));
  });

  it('counts what happened', () => {
    assert.deepEqual(cleanRun().check().stats, {
      sends: 3,
      attempts: 5,
      retries: 2,
      acks: 3,
      duplicateAcks: 2,
      refused: 0,
      pushes: 5,
      pulls: 6,
      syncs: 5,
      shown: 14,
      faults: 2,
      faultsByKind: { partition: 1, kill: 1 },
      crashes: 0,
      conversations: 2,
      storedMessages: 5,
    });
  });

  it("orders a client's events by their place in the history, not by `at`", () => {
    const h = cleanRun();
    const reversed = h.events.map((e, i) => ({ ...e, at: 1e6 - i }));
    assert.deepEqual(checkHistory(h.header, reversed).violations, []);
  });
});

describe('acked_missing', () => {
  it('reports an ack whose ref the store read lacks, with the ack and the store event', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r2');
    const lost = h.ack(A, 'c', 'r2', 2);
    h.deliver(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'acked_missing');
    assert.ok(proves(found, lost));
    assert.ok(found[0]!.events.some((e) => e.t === 'store'));
  });

  it('reports every ack into a conversation that has no store read, saying so', () => {
    const h = new History({ [A]: ['c', 'd'] });
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'd', 'r2');
    const orphan = h.ack(A, 'd', 'r2', 1);
    h.deliver(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'acked_missing');
    assert.ok(proves(found, orphan));
    assert.match(found[0]!.message, /no store read/);
  });
});

describe('acked_moved', () => {
  it('reports an ack whose id differs from the stored message of its ref', () => {
    const h = new History();
    h.send(A, 'c', 'r1');
    const ack = h.ack(A, 'c', 'r1', 1, false, 'm-other');
    h.deliver(A, 'c', msg(1, 'r1'));
    h.end({ c: [msg(1, 'r1')] });
    assert.ok(proves(only(h.check(), 'acked_moved'), ack));
  });

  it('reports a ref stored at another seq than acked', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r2');
    const ack = h.ack(A, 'c', 'r2', 3);
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', msg(2, 'r2'));
    h.end({ c: [m1, msg(2, 'r2')] });
    assert.ok(proves(only(h.check(), 'acked_moved'), ack));
  });

  it('reports two acks for one ref that disagree, with both acks', () => {
    const h = new History();
    h.send(A, 'c', 'r1');
    const first = h.ack(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r1', 2);
    const retry = h.ack(A, 'c', 'r1', 2, true, 'm-r1b');
    h.deliver(A, 'c', msg(1, 'r1'));
    h.end({ c: [msg(1, 'r1')] });
    const found = only(h.check(), 'acked_moved');
    assert.ok(found.some((v) => v.events.includes(first) && v.events.includes(retry)));
  });
});

describe('store checks', () => {
  it('ref_stored_twice: one ref in two stored messages', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const again = msg(2, 'r1', 'm-r1-again');
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', again);
    h.end({ c: [m1, again] });
    const found = only(h.check(), 'ref_stored_twice');
    const store = found[0]!.events.find((e) => e.t === 'store');
    assert.deepEqual(store?.t === 'store' && store.msgs, [m1, again]);
  });

  it('seq_gap: a store read that skips a seq', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const m3 = h.write(A, 'c', 'r3', 3);
    h.deliver(A, 'c', m1);
    h.push(A, 'c', m3);
    h.end({ c: [m1, m3] });
    const found = only(h.check(), 'seq_gap');
    assert.match(found[0]!.message, /lacks 1 seqs: 2/);
  });

  it('seq_repeat: the same seq twice in a store read', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r2');
    h.ack(A, 'c', 'r2', 1);
    h.deliver(A, 'c', m1);
    h.end({ c: [m1, msg(1, 'r2')] });
    const found = only(h.check(), 'seq_repeat');
    const store = found[0]!.events[0];
    assert.deepEqual(store?.t === 'store' && store.msgs, [m1, msg(1, 'r2')]);
  });

  it('unknown_write: a stored message whose ref no client sent', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const ghost = msg(2, 'ghost');
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', ghost);
    h.end({ c: [m1, ghost] });
    const found = only(h.check(), 'unknown_write');
    assert.match(found[0]!.message, /ghost, which no client sent/);
  });

  it('unknown_write: a stored message whose ref was sent to another conversation', () => {
    const h = new History({ [A]: ['c', 'd'] });
    const m1 = h.write(A, 'c', 'r1', 1);
    const send = h.send(A, 'd', 'r2');
    h.refused(A, 'd', 'r2');
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', msg(2, 'r2'));
    h.end({ c: [m1, msg(2, 'r2')], d: [] });
    // The refusal is broken too (the ref is stored); the point here is the wrong conversation.
    const kinds: ViolationKind[] = ['ack_for_refused', 'unexpected_refusal', 'unknown_write'];
    assert.ok(proves(among(h.check(), kinds, 'unknown_write'), send));
  });
});

describe('shown checks', () => {
  it('shown_twice: the same seq shown twice, with both shown events', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.push(A, 'c', m1);
    const first = h.shown(A, 'c', m1);
    const again = h.shown(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'shown_twice');
    assert.deepEqual(found[0]!.events, [first, again]);
  });

  it('shown_twice: the same message id shown at two seqs', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const m2 = h.write(A, 'c', 'r2', 2);
    const first = h.shown(A, 'c', m1);
    const again = h.shown(A, 'c', { ...m2, id: m1.id });
    h.end({ c: [m1, m2] });
    const result = h.check();
    // Showing m1's id at seq 2 is also a different message from the store's seq 2.
    assert.deepEqual(kindsOf(result), ['different_message', 'shown_twice']);
    const twice = result.violations.filter((v) => v.kind === 'shown_twice');
    assert.deepEqual(twice[0]!.events, [first, again]);
  });

  it('shown_out_of_order: seq 2 shown before seq 1', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const m2 = h.write(A, 'c', 'r2', 2);
    const early = h.shown(A, 'c', m2);
    h.shown(A, 'c', m1);
    h.end({ c: [m1, m2] });
    assert.ok(proves(only(h.check(), 'shown_out_of_order'), early));
  });

  it('shown_out_of_order: a skipped seq, with the shown events on both sides', () => {
    const h = new History();
    const [m1, m2, m3] = [1, 2, 3].map((s) => h.write(A, 'c', `r${s}`, s)) as [
      SeenMessage,
      SeenMessage,
      SeenMessage,
    ];
    const before = h.shown(A, 'c', m1);
    const after = h.shown(A, 'c', m3);
    h.push(A, 'c', m2);
    h.end({ c: [m1, m2, m3] });
    const found = only(h.check(), 'shown_out_of_order');
    assert.deepEqual(found[0]!.events, [before, after]);
  });
});

describe('different_message', () => {
  it('reports a push whose id differs from the store at that seq', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const push = h.push(A, 'c', { ...m1, id: 'm-forged' });
    h.shown(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'different_message');
    assert.equal(found[0]!.events[0], push);
    const store = found[0]!.events[1];
    assert.deepEqual(store?.t === 'store' && store.msgs, [m1]);
  });

  it('reports a pulled seq the store does not have, cutting the pull to that message', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const pull = h.pulled(A, 'c', 0, [m1, msg(2, 'r9')]);
    h.shown(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'different_message');
    assert.ok(proves(found, pull));
    const cut = found[0]!.events[0];
    assert.deepEqual(cut?.t === 'pulled' && cut.msgs, [msg(2, 'r9')]);
  });

  it('reports a shown message whose ref differs from the store at that seq', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.push(A, 'c', m1);
    const shown = h.shown(A, 'c', { ...m1, ref: 'r-other' });
    h.end({ c: [m1] });
    assert.ok(proves(only(h.check(), 'different_message'), shown));
  });
});

describe('never_caught_up', () => {
  it("reports a final seen below the store's last seq", () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const m2 = h.write(A, 'c', 'r2', 2);
    h.deliver(A, 'c', m1);
    h.quiet();
    const final = h.final(A, { c: 1 });
    h.store('c', [m1, m2]);
    assert.ok(proves(only(h.check(), 'never_caught_up'), final));
  });

  it('reports a client whose own catch-up ran out of time, even level with the store', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    h.quiet();
    const final = h.final(A, { c: 1 }, false);
    h.store('c', [m1]);
    assert.ok(proves(only(h.check(), 'never_caught_up'), final));
  });

  it("reports a member with no 'final', and ignores a 'final' from before 'quiet'", () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    h.final(A, { c: 1 });
    const quiet = h.quiet();
    h.store('c', [m1]);
    const found = only(h.check(), 'never_caught_up');
    assert.deepEqual(found[0]!.events, [quiet]);
  });

  it("is not checked when the run never reached 'quiet'", () => {
    const h = new History();
    h.write(A, 'c', 'r1', 1);
    h.store('c', [msg(1, 'r1')]);
    assert.deepEqual(h.check().violations, []);
  });
});

describe('watermark_backwards', () => {
  const run = (...syncs: [number, number, number, number?][]) => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const m2 = h.write(A, 'c', 'r2', 2);
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', m2);
    const events = syncs.map(([last, delivered, read, unread]) =>
      h.synced(A, 'c', last, delivered, read, unread),
    );
    h.end({ c: [m1, m2] });
    return { found: only(h.check(), 'watermark_backwards'), events };
  };

  it('reports a readSeq that moved back, with both synced events', () => {
    const { found, events } = run([2, 2, 2], [2, 2, 1]);
    assert.ok(proves(found, events[0]!) && proves(found, events[1]!));
    assert.match(found[0]!.message, /readSeq 2 → 1/);
  });

  it('reports a lastSeq that moved back', () => {
    const { found } = run([2, 1, 1], [1, 1, 1]);
    assert.match(found[0]!.message, /lastSeq 2 → 1/);
  });

  it('reports an unread that is not max(0, lastSeq - readSeq)', () => {
    const { found, events } = run([2, 2, 1, 0]);
    assert.ok(proves(found, events[0]!));
    assert.match(found[0]!.message, /unread 0/);
  });

  it('reports a readSeq or deliveredSeq above lastSeq', () => {
    const { found } = run([1, 2, 2]);
    assert.match(found[0]!.message, /readSeq 2 > lastSeq 1/);
    assert.match(found[0]!.message, /deliveredSeq 2 > lastSeq 1/);
  });
});

describe('ack_for_refused', () => {
  // Any refusal is also unexpected_refusal; these tests are about what it contradicts.
  const REFUSED: ViolationKind[] = ['ack_for_refused', 'unexpected_refusal'];

  it('reports a ref both acked and refused, with both events', () => {
    const h = new History();
    h.send(A, 'c', 'r1');
    const ack = h.ack(A, 'c', 'r1', 1);
    const refused = h.refused(A, 'c', 'r1');
    h.deliver(A, 'c', msg(1, 'r1'));
    h.end({ c: [msg(1, 'r1')] });
    const found = among(h.check(), REFUSED, 'ack_for_refused');
    assert.ok(found.some((v) => v.events.includes(ack) && v.events.includes(refused)));
  });

  it('reports a refused ref that the store holds', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r2');
    const refused = h.refused(A, 'c', 'r2');
    h.deliver(A, 'c', m1);
    h.deliver(A, 'c', msg(2, 'r2'));
    h.end({ c: [m1, msg(2, 'r2')] });
    assert.ok(proves(among(h.check(), REFUSED, 'ack_for_refused'), refused));
  });
});

describe('send_unresolved', () => {
  it("reports a send that got neither ack nor refusal by the end, once 'quiet' was reached", () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const lost = h.send(A, 'c', 'r2');
    h.deliver(A, 'c', m1);
    h.end({ c: [m1] });
    assert.ok(proves(only(h.check(), 'send_unresolved'), lost));
  });

  it("is not reported without 'quiet'", () => {
    const h = new History();
    h.send(A, 'c', 'r1');
    h.store('c', []);
    assert.deepEqual(h.check().violations, []);
  });
});

describe('server_crashed', () => {
  it('reports every crash with its event, counts them, and lists them first', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    const segv = h.crash('node-2', null, 'SIGSEGV');
    const exit = h.crash('embedded', 1, null);
    const ghost = msg(2, 'ghost');
    h.end({ c: [m1, ghost] });
    const result = h.check();
    const found = among(result, ['server_crashed', 'unknown_write'], 'server_crashed');
    assert.deepEqual(
      found.map((v) => v.events),
      [[segv], [exit]],
    );
    assert.match(found[0]!.message, /node-2 exited \(signal SIGSEGV\)/);
    assert.match(found[1]!.message, /embedded exited \(code 1\)/);
    assert.equal(result.violations[0]!.kind, 'server_crashed');
    assert.equal(result.stats.crashes, 2);
  });
});

describe('pull_not_dense', () => {
  const eight = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => msg(s, `r${s}`));
  /** A run whose store holds r1..r8 in c, with one pull of `seqs` after `after`. */
  const run = (after: number, seqs: number[], hasMore = false) => {
    const h = new History();
    for (const m of eight) h.write(A, 'c', m.ref, m.seq);
    for (const m of eight) h.deliver(A, 'c', m);
    const pull = h.pulled(
      A,
      'c',
      after,
      seqs.map((s) => eight[s - 1]!),
      hasMore,
    );
    h.end({ c: eight });
    return { found: only(h.check(), 'pull_not_dense'), pull };
  };
  const seqsOf = (v: Violation) => {
    const cut = v.events[0];
    return cut?.t === 'pulled' ? cut.msgs.map((m) => m.seq) : undefined;
  };

  it('reports a hole, cutting the pull to the messages around it', () => {
    const { found, pull } = run(0, [1, 2, 3, 5, 6, 7, 8]);
    assert.equal(found.length, 1);
    assert.ok(proves(found, pull));
    assert.match(
      found[0]!.message,
      /holds seq 5 as its message 4, where 4 belongs: a hole, 4 missing/,
    );
    assert.deepEqual(seqsOf(found[0]!), [2, 3, 5, 6, 7]);
  });

  it('reports a seq at or below after', () => {
    const { found } = run(2, [2, 3]);
    assert.match(found[0]!.message, /at or below after \(2\)/);
    assert.deepEqual(seqsOf(found[0]!), [2, 3]);
  });

  it('reports seqs out of order', () => {
    const { found } = run(4, [6, 5, 7]);
    assert.match(found[0]!.message, /holds seq 6 as its message 1, where 5 belongs: out of order/);
  });

  it('reports a repeated seq', () => {
    const { found } = run(0, [1, 2, 2, 3]);
    assert.match(found[0]!.message, /a repeat/);
  });

  it('reports an empty pull that says hasMore', () => {
    const { found, pull } = run(8, [], true);
    assert.deepEqual(found[0]!.events, [pull]);
    assert.match(found[0]!.message, /empty but says hasMore/);
  });

  it('passes dense pages after any seq, and an empty last page', () => {
    const h = new History();
    for (const m of eight) h.write(A, 'c', m.ref, m.seq);
    h.pulled(A, 'c', 0, eight.slice(0, 3), true);
    h.pulled(A, 'c', 3, eight.slice(3), false);
    h.pulled(A, 'c', 8, [], false);
    h.pulled(A, 'c', 5, eight.slice(5, 6), true);
    for (const m of eight) h.shown(A, 'c', m);
    h.end({ c: eight });
    assert.deepEqual(h.check().violations, []);
  });
});

describe('unexpected_refusal', () => {
  it('reports every refusal with its send and its code', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    const send = h.send(A, 'c', 'r2');
    const refused = h.refused(A, 'c', 'r2', 'not_member');
    h.deliver(A, 'c', m1);
    h.end({ c: [m1] });
    const found = only(h.check(), 'unexpected_refusal');
    assert.deepEqual(found[0]!.events, [send, refused]);
    assert.match(found[0]!.message, /ref r2 to c was refused \(not_member\)/);
  });

  it('reports a refusal of a ref the history never sent, with the refusal alone', () => {
    const h = new History();
    const refused = h.refused(A, 'c', 'r9');
    h.end({ c: [] });
    assert.deepEqual(only(h.check(), 'unexpected_refusal')[0]!.events, [refused]);
  });
});

describe('foreign_conversation', () => {
  it('reports a push, pull and shown message of a conversation the client is not in, and nothing else of them', () => {
    const h = new History({ [A]: ['c'], [B]: ['d'] });
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    const push = h.push(B, 'c', m1);
    // Broken in other ways too (a hole, a seq the store lacks): one leak is reported once.
    const pull = h.pulled(B, 'c', 0, [m1, msg(3, 'r3')]);
    const shown = h.shown(B, 'c', msg(2, 'r2'));
    h.end({ c: [m1], d: [] });
    const found = only(h.check(), 'foreign_conversation');
    assert.deepEqual(
      found.map((v) => v.events),
      [[push], [pull], [shown]],
    );
    assert.match(
      found[0]!.message,
      /bob\/phone got a 'push' for c, a conversation it is not a member of/,
    );
  });

  it('reports a synced entry for a foreign conversation, cut to that entry', () => {
    const h = new History({ [A]: ['c'], [B]: ['d'] });
    const own = { id: 'd', lastSeq: 0, deliveredSeq: 0, readSeq: 0, unread: 0 };
    // Backwards too (readSeq above lastSeq): a leaked entry is not checked further.
    const leaked = { id: 'c', lastSeq: 1, deliveredSeq: 1, readSeq: 5, unread: 0 };
    const synced = h.add({ t: 'synced', client: B, convs: [own, leaked] });
    h.end({ c: [], d: [] });
    const found = only(h.check(), 'foreign_conversation');
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]!.events, [{ ...synced, convs: [leaked] }]);
  });

  it('treats a client the header does not list as a member of nothing', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    const push = h.push('mallory/phone', 'c', m1);
    h.end({ c: [m1] });
    assert.deepEqual(only(h.check(), 'foreign_conversation')[0]!.events, [push]);
  });
});

describe('system messages', () => {
  it('are exempt from unknown_write and ref_stored_twice', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    for (const m of [m1, sys(2), sys(3)]) h.deliver(A, 'c', m);
    h.end({ c: [m1, sys(2), sys(3)] });
    assert.deepEqual(h.check().violations, []);
  });

  it('are still compared by seq', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.deliver(A, 'c', m1);
    const forged = h.push(A, 'c', { ...sys(2), id: 'm-forged' });
    h.shown(A, 'c', sys(2));
    h.end({ c: [m1, sys(2)] });
    assert.deepEqual(only(h.check(), 'different_message')[0]!.events[0], forged);
  });

  it('do not hide an ack for the seq the store gave a system message', () => {
    const h = new History();
    const m1 = h.write(A, 'c', 'r1', 1);
    h.send(A, 'c', 'r2');
    const ack = h.ack(A, 'c', 'r2', 2);
    for (const m of [m1, sys(2), msg(3, 'r2')]) h.deliver(A, 'c', m);
    h.end({ c: [m1, sys(2), msg(3, 'r2')] });
    assert.ok(proves(only(h.check(), 'acked_moved'), ack));
  });
});

describe('the violation cap', () => {
  it(`keeps ${VIOLATIONS_PER_KIND_MAX} violations of a kind in detail and counts the rest`, () => {
    const h = new History();
    const ghosts = Array.from({ length: VIOLATIONS_PER_KIND_MAX + 50 }, (_, i) =>
      msg(i + 1, `g${i}`),
    );
    h.end({ c: ghosts });
    const found = only(h.check(), 'unknown_write');
    assert.equal(found.length, VIOLATIONS_PER_KIND_MAX + 1);
    assert.deepEqual(found.at(-1)!.events, []);
    assert.match(found.at(-1)!.message, /and 50 more unknown_write/);
  });
});

describe('readHistory', () => {
  const withFile = (text: string, fn: (path: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
    try {
      const path = join(dir, 'history.jsonl');
      writeFileSync(path, text);
      fn(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const jsonl = (h: History) =>
    [h.header, ...h.events].map((e) => JSON.stringify(e)).join('\n') + '\n';

  it('reads the header and every event of a good file', () => {
    const h = cleanRun();
    withFile(jsonl(h), (path) =>
      assert.deepEqual(readHistory(path), { header: h.header, events: h.events }),
    );
  });

  it('reads lines that cross its read chunks', () => {
    const h = new History();
    for (let i = 1; i <= 20_000; i++) h.write(A, 'c', `ref-${i}-${'x'.repeat(i % 50)}`, i);
    withFile(jsonl(h), (path) => assert.deepEqual(readHistory(path).events, h.events));
  });

  it('names the line of a line that is not JSON', () => {
    const h = cleanRun();
    const lines = jsonl(h).split('\n');
    lines[2] = lines[2]!.slice(0, 20);
    withFile(lines.join('\n'), (path) =>
      assert.throws(() => readHistory(path), /history\.jsonl:3: not JSON/),
    );
  });

  it('names the line and the field of an event of the wrong shape', () => {
    const bad = JSON.stringify({
      t: 'ack',
      at: 1,
      client: A,
      conv: 'c',
      ref: 'r1',
      id: 'x',
      dup: false,
    });
    withFile(`${JSON.stringify(new History().header)}\n${bad}\n`, (path) =>
      assert.throws(() => readHistory(path), /history\.jsonl:2: a 'ack' event needs 'seq'/),
    );
  });

  it('reads a crash event whose code or signal is null', () => {
    const h = new History();
    h.crash('node-1', null, 'SIGKILL');
    h.crash('node-2', 3, null);
    withFile(jsonl(h), (path) => assert.deepEqual(readHistory(path).events, h.events));
  });

  it('names the field of a crash event whose code is neither a number nor null', () => {
    const bad = JSON.stringify({ t: 'crash', at: 1, name: 'node-1', code: '1', signal: null });
    withFile(`${JSON.stringify(new History().header)}\n${bad}\n`, (path) =>
      assert.throws(
        () => readHistory(path),
        /history\.jsonl:2: a 'crash' event needs 'code' to be a number or null/,
      ),
    );
  });

  it('refuses a file that does not start with the header', () => {
    withFile('{"t":"quiet","at":1}\n', (path) =>
      assert.throws(() => readHistory(path), /history\.jsonl:1: the first line must be the header/),
    );
  });
});

describe('formatViolations', () => {
  const h = new History();
  const ghosts = [1, 2, 3].map((s) => msg(s, `ghost${s}`));
  h.end({ c: ghosts });
  const { violations } = h.check();

  it('prints each violation as its kind and message, then its events one JSON line each', () => {
    const text = formatViolations(violations);
    const blocks = text.split('\n\n');
    assert.equal(blocks.length, 3);
    const [head, ...events] = blocks[0]!.split('\n');
    assert.equal(head, `unknown_write: ${violations[0]!.message}`);
    assert.deepEqual(
      events.map((line) => JSON.parse(line)),
      violations[0]!.events.map((e) => JSON.parse(JSON.stringify(e))),
    );
  });

  it('stops after max and says how many it left out', () => {
    const text = formatViolations(violations, 2);
    assert.equal(text.split('\n\n').length, 3);
    assert.match(text, /… and 1 more$/);
  });

  it('says when there is nothing to report', () => {
    assert.equal(formatViolations([]), 'no violations');
  });
});
