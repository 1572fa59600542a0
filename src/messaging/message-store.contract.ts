// The MessageStores contract suite: proves that a backend keeps seqs dense under concurrency, dedupes
// by ref, enforces membership, pages by seq and by time without gaps, tracks watermarks, and
// applies group changes atomically with their system message, keeping readers to their window.
import { systemClock } from '../core/clock.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { AuthStore } from '../auth/auth-store.js';
import { ParleyError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { Member, MessageBody, StoredMessage } from './model.js';
import type {
  AppendRequest,
  AppendResult,
  GroupAction,
  GroupPlan,
  GroupState,
  MessageActionState,
  MessageStores,
} from './store/index.js';

/** What a backend's test hands to the contract suites: one fresh, empty store. */
export interface StoreBundle {
  messages: MessageStores;
  auth: AuthStore;
  close(): Promise<void>;
}

// Backward paging from "the end": a bound above any real seq.
const SEQ_END = Number.MAX_SAFE_INTEGER;
// Pages stay within the server's pull cap so no backend has to serve larger ones.
const PAGE_MAX = 100;

function text(t: string): MessageBody {
  return { kind: 'text', text: t };
}

function req(
  conversationId: string,
  senderId: string,
  ref: string,
  t: string,
  device = 'd1',
): AppendRequest {
  return { conversationId, senderId, device, ref, body: text(t) };
}

function expectOk(r: AppendResult | undefined): { message: StoredMessage; duplicate: boolean } {
  assert.ok(r, 'missing append result');
  if (!r.ok) assert.fail(`expected ok, got error ${r.error.code}`);
  return r;
}

function expectError(r: AppendResult | undefined): ErrorCode {
  assert.ok(r, 'missing append result');
  if (r.ok) assert.fail(`expected an error, got ok seq ${r.message.seq}`);
  assert.ok(r.error instanceof ParleyError, 'append error is a ParleyError');
  return r.error.code;
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => err instanceof ParleyError && err.code === code;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function seqs(messages: readonly StoredMessage[]): number[] {
  return messages.map((m) => m.seq);
}

// A small seeded PRNG, so the interleavings are varied but every run is the same.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runMessageStoreContract(opts: {
  open: () => Promise<StoreBundle>;
  /** Tells runs of one backend apart in the report (e.g. a variant of its setup). */
  name?: string;
}): void {
  describe(opts.name ? `MessageStores contract (${opts.name})` : 'MessageStores contract', () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    async function makeUsers<const N extends readonly string[]>(
      ...names: N
    ): Promise<{ -readonly [K in keyof N]: string }> {
      const ids: string[] = [];
      for (const name of names) ids.push((await b.auth.createUser(name, null)).id);
      return ids as { -readonly [K in keyof N]: string };
    }

    async function group(ownerId: string, memberIds: readonly string[]): Promise<string> {
      const c = await b.messages.groups.createGroup({ title: 'g', ownerId, memberIds });
      return c.id;
    }

    async function sendOne(
      conversationId: string,
      senderId: string,
      ref: string,
    ): Promise<StoredMessage> {
      const [r] = await b.messages.log.append([req(conversationId, senderId, ref, `text ${ref}`)]);
      return expectOk(r).message;
    }

    async function lastSeq(conversationId: string): Promise<number> {
      const c = await b.messages.conversations.getConversation(conversationId);
      assert.ok(c, 'conversation exists');
      return c.lastSeq;
    }

    /** Every message of the conversation, by forward seq paging in pages of PAGE_MAX. */
    async function readAll(conversationId: string): Promise<StoredMessage[]> {
      const out: StoredMessage[] = [];
      let after = 0;
      for (;;) {
        const page = await b.messages.log.pageBySeq(conversationId, { after, limit: PAGE_MAX });
        out.push(...page.messages);
        const last = page.messages.at(-1);
        if (!page.hasMore || !last) return out;
        after = last.seq;
      }
    }

    describe('seq allocation', () => {
      it('keeps seqs dense 1..1000 under 1,000 concurrent sends into one conversation', async () => {
        const [u1, u2, u3, u4] = await makeUsers('s1', 's2', 's3', 's4');
        const senders = [u1, u2, u3, u4];
        const conv = await group(u1, [u2, u3, u4]);

        // Mixed batch sizes, mostly single sends, adding up to exactly 1,000 messages.
        const sizes = [1, 1, 3, 1, 7, 1, 2, 1, 1, 12];
        const batches: AppendRequest[][] = [];
        let n = 0;
        for (let i = 0; n < 1000; i++) {
          const size = Math.min(sizes[i % sizes.length] ?? 1, 1000 - n);
          const batch: AppendRequest[] = [];
          for (let k = 0; k < size; k++, n++) {
            const sender = senders[n % senders.length] ?? u1;
            batch.push(req(conv, sender, `r${n}`, `m${n}`, n % 2 === 0 ? 'd1' : 'd2'));
          }
          batches.push(batch);
        }
        assert.ok(batches.some((x) => x.length === 1) && batches.some((x) => x.length > 1));

        const results = await Promise.all(batches.map((batch) => b.messages.log.append(batch)));

        const bySeq = new Map<number, { id: string; req: AppendRequest }>();
        results.forEach((batchResults, i) => {
          const batch = batches[i] ?? [];
          assert.equal(batchResults.length, batch.length, 'one result per request');
          let prev = 0;
          batchResults.forEach((r, k) => {
            const { message, duplicate } = expectOk(r);
            assert.equal(duplicate, false);
            assert.ok(message.seq > prev, 'seq follows batch order within the conversation');
            prev = message.seq;
            assert.equal(bySeq.has(message.seq), false, `seq ${message.seq} given twice`);
            bySeq.set(message.seq, { id: message.id, req: batch[k] as AppendRequest });
          });
        });
        assert.deepEqual(
          [...bySeq.keys()].sort((x, y) => x - y),
          range(1, 1000),
        );

        const all = await readAll(conv);
        assert.deepEqual(seqs(all), range(1, 1000));
        for (const m of all) {
          const sent = bySeq.get(m.seq);
          assert.ok(sent);
          assert.equal(m.id, sent.id);
          assert.equal(m.conversationId, conv);
          assert.equal(m.senderId, sent.req.senderId);
          assert.equal(m.device, sent.req.device);
          assert.deepEqual(m.body, sent.req.body);
        }
        assert.equal(await lastSeq(conv), 1000);
      });

      it('keeps seqs dense per conversation under concurrent batches spanning 20 conversations', async () => {
        const [owner, other] = await makeUsers('owner', 'other');
        const convs: string[] = [];
        for (let c = 0; c < 20; c++) convs.push(await group(owner, [other]));

        // 20 x 50 messages, shuffled, then cut into batches of 1..40 items fired at once.
        const items: AppendRequest[] = [];
        for (let c = 0; c < 20; c++) {
          for (let m = 0; m < 50; m++) {
            const conv = convs[c] ?? '';
            items.push(req(conv, m % 2 ? owner : other, `c${c}-m${m}`, `c${c} m${m}`));
          }
        }
        const rand = mulberry32(42);
        for (let i = items.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [items[i], items[j]] = [items[j] as AppendRequest, items[i] as AppendRequest];
        }
        const batches: AppendRequest[][] = [];
        for (let i = 0; i < items.length;) {
          const size = 1 + Math.floor(rand() * 40);
          batches.push(items.slice(i, i + size));
          i += size;
        }
        assert.ok(
          batches.some((x) => new Set(x.map((r) => r.conversationId)).size < x.length),
          'some batch holds several messages of one conversation',
        );

        const results = await Promise.all(batches.map((batch) => b.messages.log.append(batch)));

        const seqsByConv = new Map<string, number[]>();
        results.forEach((batchResults, i) => {
          const batch = batches[i] ?? [];
          assert.equal(batchResults.length, batch.length);
          const lastInBatch = new Map<string, number>();
          batchResults.forEach((r, k) => {
            const { message } = expectOk(r);
            const conv = batch[k]?.conversationId ?? '';
            assert.equal(message.conversationId, conv);
            assert.ok(
              message.seq > (lastInBatch.get(conv) ?? 0),
              'within a batch, one conversation’s items take seqs in batch order',
            );
            lastInBatch.set(conv, message.seq);
            seqsByConv.set(conv, [...(seqsByConv.get(conv) ?? []), message.seq]);
          });
        });

        for (const conv of convs) {
          const given = (seqsByConv.get(conv) ?? []).sort((x, y) => x - y);
          assert.deepEqual(given, range(1, 50), `append seqs of ${conv}`);
          assert.deepEqual(seqs(await readAll(conv)), range(1, 50), `stored seqs of ${conv}`);
          assert.equal(await lastSeq(conv), 50);
        }
      });

      it('makes atUs strictly increasing with seq within a conversation', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const batches: AppendRequest[][] = [];
        for (let i = 0; i < 10; i++) {
          batches.push([0, 1, 2].map((k) => req(conv, k % 2 ? a : c, `r${i}-${k}`, `t${i}-${k}`)));
        }
        const results = (await Promise.all(batches.map((x) => b.messages.log.append(x)))).flat();
        const appended = results.map((r) => expectOk(r).message).sort((x, y) => x.seq - y.seq);

        const stored = await readAll(conv);
        assert.deepEqual(seqs(stored), range(1, 30));
        for (let i = 1; i < stored.length; i++) {
          const prev = stored[i - 1] as StoredMessage;
          const cur = stored[i] as StoredMessage;
          assert.ok(cur.atUs > prev.atUs, `atUs of seq ${cur.seq} > atUs of seq ${prev.seq}`);
          assert.equal(cur.atUs, appended[i]?.atUs, 'append reports the stored atUs');
        }
      });
    });

    describe('dedupe by ref', () => {
      it('returns the original message with duplicate:true for a repeated ref in a later batch', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const first = await sendOne(conv, a, 'ref-1');

        const [again] = await b.messages.log.append([
          { conversationId: conv, senderId: a, device: 'd1', ref: 'ref-1', body: text('changed') },
        ]);
        const dup = expectOk(again);
        assert.equal(dup.duplicate, true);
        assert.equal(dup.message.id, first.id);
        assert.equal(dup.message.seq, first.seq);
        assert.equal(dup.message.atUs, first.atUs);
        assert.deepEqual(dup.message.body, first.body);

        assert.equal(await lastSeq(conv), 1);
        assert.deepEqual(seqs(await readAll(conv)), [1]);
      });

      it('treats a twin later in the same batch as a duplicate of the earlier one', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const results = await b.messages.log.append([
          req(conv, a, 'twin', 'one'),
          req(conv, c, 'other', 'two'),
          req(conv, a, 'twin', 'one again'),
        ]);
        const first = expectOk(results[0]);
        const second = expectOk(results[1]);
        const twin = expectOk(results[2]);
        assert.equal(first.duplicate, false);
        assert.equal(second.duplicate, false);
        assert.equal(twin.duplicate, true);
        assert.equal(twin.message.id, first.message.id);
        assert.equal(twin.message.seq, first.message.seq);
        assert.equal(twin.message.atUs, first.message.atUs);
        assert.deepEqual([first.message.seq, second.message.seq], [1, 2]);

        assert.equal(await lastSeq(conv), 2);
        assert.deepEqual(seqs(await readAll(conv)), [1, 2]);
      });

      it('stores the same ref from another device or another sender as a new message', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const original = await sendOne(conv, a, 'shared');
        const results = await b.messages.log.append([
          req(conv, a, 'shared', 'from phone', 'phone'),
          req(conv, c, 'shared', 'from c'),
        ]);
        const otherDevice = expectOk(results[0]);
        const otherSender = expectOk(results[1]);
        assert.equal(otherDevice.duplicate, false);
        assert.equal(otherSender.duplicate, false);
        assert.notEqual(otherDevice.message.id, original.id);
        assert.notEqual(otherSender.message.id, original.id);
        assert.deepEqual([otherDevice.message.seq, otherSender.message.seq], [2, 3]);
        assert.equal(await lastSeq(conv), 3);
      });

      it('refuses the same ref sent to another conversation with ref_reused and stores nothing', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv1 = await group(a, [c]);
        const conv2 = await group(a, [c]);
        await sendOne(conv1, a, 'moved');

        const [r] = await b.messages.log.append([req(conv2, a, 'moved', 'elsewhere')]);
        assert.equal(expectError(r), 'ref_reused');
        assert.equal(await lastSeq(conv2), 0);
        assert.deepEqual(await readAll(conv2), []);
        assert.equal(await lastSeq(conv1), 1);
      });

      it('refuses a ref reused for another conversation within the same batch', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv1 = await group(a, [c]);
        const conv2 = await group(a, [c]);
        const results = await b.messages.log.append([
          req(conv1, a, 'same', 'first'),
          req(conv2, a, 'same', 'second'),
        ]);
        assert.equal(expectOk(results[0]).message.seq, 1);
        assert.equal(expectError(results[1]), 'ref_reused');
        assert.equal(await lastSeq(conv2), 0);
      });
    });

    describe('membership on append', () => {
      it('refuses a non-member with not_member without consuming a seq or failing the batch', async () => {
        const [a, c, outsider] = await makeUsers('a', 'c', 'outsider');
        const conv = await group(a, [c]);
        const results = await b.messages.log.append([
          req(conv, a, 'a1', 'hello'),
          req(conv, outsider, 'o1', 'intrusion'),
          req(conv, c, 'c1', 'hi'),
        ]);
        assert.equal(results.length, 3);
        assert.equal(expectOk(results[0]).message.seq, 1);
        assert.equal(expectError(results[1]), 'not_member');
        assert.equal(expectOk(results[2]).message.seq, 2);

        const next = await sendOne(conv, a, 'a2');
        assert.equal(next.seq, 3);
        const stored = await readAll(conv);
        assert.deepEqual(seqs(stored), [1, 2, 3]);
        assert.ok(stored.every((m) => m.senderId !== outsider));
      });

      it('refuses an unknown conversation with conversation_not_found', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const results = await b.messages.log.append([
          req('c-no-such-conversation', a, 'x1', 'lost'),
          req(conv, a, 'x2', 'found'),
        ]);
        assert.equal(expectError(results[0]), 'conversation_not_found');
        assert.equal(expectOk(results[1]).message.seq, 1);
      });
    });

    describe('paging', () => {
      async function conversationOf25(): Promise<{ conv: string; sent: StoredMessage[] }> {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const sent: StoredMessage[] = [];
        // Five batches of five, so several messages share one transaction.
        for (let i = 0; i < 5; i++) {
          const batch = range(0, 4).map((k) => req(conv, k % 2 ? a : c, `p${i}-${k}`, `${i}.${k}`));
          for (const r of await b.messages.log.append(batch)) sent.push(expectOk(r).message);
        }
        assert.deepEqual(seqs(sent), range(1, 25));
        return { conv, sent };
      }

      it('pages forward by seq with an exclusive after bound', async () => {
        const { conv, sent } = await conversationOf25();
        const p1 = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10 });
        assert.deepEqual(seqs(p1.messages), range(1, 10));
        assert.equal(p1.hasMore, true);
        const p2 = await b.messages.log.pageBySeq(conv, { after: 10, limit: 10 });
        assert.deepEqual(seqs(p2.messages), range(11, 20));
        assert.equal(p2.hasMore, true);
        const p3 = await b.messages.log.pageBySeq(conv, { after: 20, limit: 10 });
        assert.deepEqual(seqs(p3.messages), range(21, 25));
        assert.equal(p3.hasMore, false);

        const all = [...p1.messages, ...p2.messages, ...p3.messages];
        assert.deepEqual(
          all.map((m) => m.id),
          sent.map((m) => m.id),
        );
      });

      it('pages backward by seq from the end, each page ascending', async () => {
        const { conv, sent } = await conversationOf25();
        const p1 = await b.messages.log.pageBySeq(conv, { before: SEQ_END, limit: 10 });
        assert.deepEqual(seqs(p1.messages), range(16, 25));
        assert.equal(p1.hasMore, true);
        const p2 = await b.messages.log.pageBySeq(conv, { before: 16, limit: 10 });
        assert.deepEqual(seqs(p2.messages), range(6, 15));
        assert.equal(p2.hasMore, true);
        const p3 = await b.messages.log.pageBySeq(conv, { before: 6, limit: 10 });
        assert.deepEqual(seqs(p3.messages), range(1, 5));
        assert.equal(p3.hasMore, false);

        const all = [...p3.messages, ...p2.messages, ...p1.messages];
        assert.deepEqual(
          all.map((m) => m.id),
          sent.map((m) => m.id),
        );
      });

      it('reports hasMore false when a seq page ends exactly at the last message', async () => {
        const { conv } = await conversationOf25();
        const forward = await b.messages.log.pageBySeq(conv, { after: 15, limit: 10 });
        assert.deepEqual(seqs(forward.messages), range(16, 25));
        assert.equal(forward.hasMore, false);
        const backward = await b.messages.log.pageBySeq(conv, { before: 11, limit: 10 });
        assert.deepEqual(seqs(backward.messages), range(1, 10));
        assert.equal(backward.hasMore, false);
      });

      it('stops a page at bytesMax of bodies, always returning its first message', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        // Ten bodies of about 1,000 characters each (JSON text: {"kind":"text","text":"…"}).
        const batch = range(1, 10).map((i) => req(conv, a, `big-${i}`, 'x'.repeat(1000)));
        for (const r of await b.messages.log.append(batch)) expectOk(r);
        const size = JSON.stringify(text('x'.repeat(1000))).length;

        const fwd = await b.messages.log.pageBySeq(conv, {
          after: 0,
          limit: 10,
          bytesMax: 3 * size,
        });
        assert.deepEqual(seqs(fwd.messages), [1, 2, 3]);
        assert.equal(fwd.hasMore, true);
        const back = await b.messages.log.pageBySeq(conv, {
          before: SEQ_END,
          limit: 10,
          bytesMax: 3 * size + size - 1,
        });
        assert.deepEqual(seqs(back.messages), [8, 9, 10]);
        assert.equal(back.hasMore, true);
        // A budget smaller than one body still returns that body, so paging advances.
        const one = await b.messages.log.pageBySeq(conv, { after: 4, limit: 10, bytesMax: 1 });
        assert.deepEqual(seqs(one.messages), [5]);
        assert.equal(one.hasMore, true);
        // A budget that fits the rest ends the history as usual.
        const rest = await b.messages.log.pageBySeq(conv, {
          after: 7,
          limit: 10,
          bytesMax: 3 * size,
        });
        assert.deepEqual(seqs(rest.messages), [8, 9, 10]);
        assert.equal(rest.hasMore, false);

        const byTime = await b.messages.log.pageByTime(conv, {
          cursorUs: 0,
          newestFirst: true,
          limit: 10,
          bytesMax: 2 * size,
        });
        assert.deepEqual(seqs(byTime.messages), [10, 9]);
        assert.equal(byTime.hasMore, true);
      });

      it('pages by time from a cursor inside, after and before the history', async () => {
        const { conv, sent } = await conversationOf25();
        const at = (seq: number) => sent[seq - 1]!.atUs;
        const page = (cursorUs: number, newestFirst: boolean) =>
          b.messages.log.pageByTime(conv, { cursorUs, newestFirst, limit: 10 });

        const older = await page(at(13), true);
        assert.deepEqual(seqs(older.messages), range(3, 12).reverse());
        assert.equal(older.hasMore, true);
        const newer = await page(at(13), false);
        assert.deepEqual(seqs(newer.messages), range(14, 23));
        assert.equal(newer.hasMore, true);

        const afterAll = at(25) + 1_000_000;
        assert.deepEqual(seqs((await page(afterAll, true)).messages), range(16, 25).reverse());
        const none = await page(afterAll, false);
        assert.deepEqual(none.messages, []);
        assert.equal(none.hasMore, false);

        assert.deepEqual((await page(at(1), true)).messages, []);
        assert.deepEqual(seqs((await page(1, false)).messages), range(1, 10));
        const lastTwo = await page(at(23), false);
        assert.deepEqual(seqs(lastTwo.messages), [24, 25]);
        assert.equal(lastTwo.hasMore, false);
      });

      it('pages by time newest first with an exclusive cursor, covering every message once', async () => {
        const { conv, sent } = await conversationOf25();
        const first = await b.messages.log.pageByTime(conv, {
          cursorUs: 0,
          newestFirst: true,
          limit: 10,
        });
        assert.deepEqual(seqs(first.messages), range(16, 25).reverse());
        assert.equal(first.hasMore, true);

        const seen: StoredMessage[] = [...first.messages];
        let page = first;
        let pages = 1;
        while (page.hasMore) {
          const cursorUs = page.messages.at(-1)?.atUs;
          assert.ok(cursorUs !== undefined, 'a page with hasMore is not empty');
          page = await b.messages.log.pageByTime(conv, { cursorUs, newestFirst: true, limit: 10 });
          assert.ok(
            page.messages.every((m) => m.atUs < cursorUs),
            'cursor is exclusive',
          );
          seen.push(...page.messages);
          assert.ok(++pages <= 10, 'paging terminates');
        }
        assert.equal(pages, 3);
        assert.deepEqual(seqs(seen), range(1, 25).reverse());
        assert.deepEqual(
          seen.map((m) => m.id),
          [...sent].reverse().map((m) => m.id),
        );
      });

      it('pages by time oldest first with an exclusive cursor, covering every message once', async () => {
        const { conv, sent } = await conversationOf25();
        const first = await b.messages.log.pageByTime(conv, {
          cursorUs: 0,
          newestFirst: false,
          limit: 10,
        });
        assert.deepEqual(seqs(first.messages), range(1, 10));
        assert.equal(first.hasMore, true);

        const seen: StoredMessage[] = [...first.messages];
        let page = first;
        let pages = 1;
        while (page.hasMore) {
          const cursorUs = page.messages.at(-1)?.atUs;
          assert.ok(cursorUs !== undefined, 'a page with hasMore is not empty');
          page = await b.messages.log.pageByTime(conv, { cursorUs, newestFirst: false, limit: 10 });
          assert.ok(
            page.messages.every((m) => m.atUs > cursorUs),
            'cursor is exclusive',
          );
          seen.push(...page.messages);
          assert.ok(++pages <= 10, 'paging terminates');
        }
        assert.equal(pages, 3);
        assert.deepEqual(seqs(seen), range(1, 25));
        assert.deepEqual(
          seen.map((m) => m.id),
          sent.map((m) => m.id),
        );
      });
    });

    describe('conversations', () => {
      it('opens a direct conversation idempotently, whatever the order of the pair', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const first = await b.messages.conversations.openDirect(a, c);
        assert.equal(first.created, true);
        assert.equal(first.conversation.kind, 'direct');
        const second = await b.messages.conversations.openDirect(c, a);
        assert.equal(second.created, false);
        assert.equal(second.conversation.id, first.conversation.id);

        const members = await b.messages.members.listMembers(first.conversation.id);
        assert.deepEqual(members.map((m) => m.userId).sort(), [a, c].sort());

        assert.equal((await b.messages.conversations.findDirect(c, a))?.id, first.conversation.id);
        assert.equal((await b.messages.conversations.findDirect(a, c))?.id, first.conversation.id);
        assert.equal(await b.messages.conversations.findDirect(a, d), null);
      });

      it('creates one direct conversation under concurrent openDirect calls', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const results = await Promise.all(
          range(1, 20).map((i) =>
            i % 2
              ? b.messages.conversations.openDirect(a, c)
              : b.messages.conversations.openDirect(c, a),
          ),
        );
        const ids = new Set(results.map((r) => r.conversation.id));
        assert.equal(ids.size, 1);
        assert.equal(results.filter((r) => r.created).length, 1, 'exactly one call created it');
        const [id] = ids;
        assert.ok(id);
        assert.equal((await b.messages.members.listMembers(id)).length, 2);
      });

      it('creates a group with the owner as owner and the others as members', async () => {
        const [owner, m1, m2] = await makeUsers('owner', 'm1', 'm2');
        const conv = await b.messages.groups.createGroup({
          title: 'Team',
          ownerId: owner,
          memberIds: [m1, owner, m2],
        });
        assert.equal(conv.kind, 'group');
        assert.equal(conv.title, 'Team');
        assert.equal(conv.lastSeq, 0);

        assert.equal((await b.messages.members.getMember(conv.id, owner))?.role, 'owner');
        assert.equal((await b.messages.members.getMember(conv.id, m1))?.role, 'member');
        assert.equal((await b.messages.members.getMember(conv.id, m2))?.role, 'member');
        const members = await b.messages.members.listMembers(conv.id);
        assert.deepEqual(members.map((m) => m.userId).sort(), [owner, m1, m2].sort());
      });

      it('joins a room, creating it once, and finds it by name', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const first = await b.messages.conversations.joinRoom('lobby', a);
        assert.equal(first.created, true);
        assert.equal(first.conversation.kind, 'room');
        assert.equal(first.conversation.name, 'lobby');

        const second = await b.messages.conversations.joinRoom('lobby', c);
        assert.equal(second.created, false);
        assert.equal(second.conversation.id, first.conversation.id);
        const again = await b.messages.conversations.joinRoom('lobby', a);
        assert.equal(again.created, false);
        assert.equal(again.conversation.id, first.conversation.id);

        const members = await b.messages.members.listMembers(first.conversation.id);
        assert.deepEqual(members.map((m) => m.userId).sort(), [a, c].sort());
        assert.equal((await b.messages.conversations.findRoom('lobby'))?.id, first.conversation.id);
        assert.equal(await b.messages.conversations.findRoom('no-such-room'), null);
      });

      it('leaves a room silently and joins it again: reads stop at the leave, sends are refused until the join', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const room = (await b.messages.conversations.joinRoom('porch', a)).conversation.id;
        await b.messages.conversations.joinRoom('porch', c);
        await sendOne(room, a, 'p1');
        assert.equal(await b.messages.conversations.leaveRoom(room, c), true);
        assert.equal(
          await b.messages.conversations.leaveRoom(room, c),
          false,
          'leaving twice is harmless',
        );
        assert.equal(await lastSeq(room), 1, 'no system message');
        assert.equal(await b.messages.members.getMember(room, c), null);
        assert.equal((await b.messages.members.getMembership(room, c))?.leftSeq, 1);
        assert.deepEqual(
          (await b.messages.members.listMembers(room)).map((m) => m.userId),
          [a],
        );
        assert.ok(!(await b.messages.inbox.listConversations(c)).some((v) => v.id === room));
        await sendOne(room, a, 'p2');
        const read = await b.messages.log.pageBySeq(room, {
          before: SEQ_END,
          limit: 10,
          viewerId: c,
        });
        assert.deepEqual(seqs(read.messages), [1], 'a former member reads up to its leave');
        const [refused] = await b.messages.log.append([req(room, c, 'p3', 'still here?')]);
        assert.equal(expectError(refused), 'not_member');

        const back = await b.messages.conversations.joinRoom('porch', c);
        assert.equal(back.created, false);
        const member = await b.messages.members.getMember(room, c);
        assert.equal(member?.leftSeq, null);
        assert.equal(member?.joinedSeq, 2);
        await sendOne(room, c, 'p4');
        assert.deepEqual(
          seqs(
            (await b.messages.log.pageBySeq(room, { after: 0, limit: 10, viewerId: c })).messages,
          ),
          [1, 2, 3],
          'a room shows its whole history',
        );

        await assert.rejects(b.messages.conversations.leaveRoom(room, d), isCode('not_member'));
        await assert.rejects(
          b.messages.conversations.leaveRoom('cNoSuchRoom', a),
          isCode('conversation_not_found'),
        );
        const g = await group(a, [c]);
        await assert.rejects(b.messages.conversations.leaveRoom(g, c), isCode('invalid_request'));
        assert.ok(
          await b.messages.members.getMember(g, c),
          'a group is left with its rules, not this way',
        );
      });

      it('records the conversation lastSeq at join time as joinedSeq', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const { conversation } = await b.messages.conversations.joinRoom('history', a);
        for (const ref of ['h1', 'h2', 'h3']) await sendOne(conversation.id, a, ref);
        await b.messages.conversations.joinRoom('history', c);
        assert.equal((await b.messages.members.getMember(conversation.id, a))?.joinedSeq, 0);
        assert.equal((await b.messages.members.getMember(conversation.id, c))?.joinedSeq, 3);
      });

      it('lists only the user’s conversations, most recently active first, with their watermarks', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const direct = (await b.messages.conversations.openDirect(a, c)).conversation.id;
        const owned = await group(a, [d]);
        const room = (await b.messages.conversations.joinRoom('plaza', a)).conversation.id;
        const foreign = (await b.messages.conversations.openDirect(c, d)).conversation.id;

        await sendOne(direct, c, 'x1');
        await sendOne(owned, d, 'x2');
        await sendOne(room, a, 'x3');
        await sendOne(foreign, c, 'x4');
        let list = await b.messages.inbox.listConversations(a);
        assert.deepEqual(
          list.map((v) => v.id),
          [room, owned, direct],
        );

        // Activity in the oldest one moves it to the top.
        await sendOne(direct, a, 'x5');
        await b.messages.members.markRead(direct, a, 1);
        list = await b.messages.inbox.listConversations(a);
        assert.deepEqual(
          list.map((v) => v.id),
          [direct, room, owned],
        );

        const top = list[0];
        assert.ok(top);
        assert.equal(top.lastSeq, 2);
        // a's own message (seq 2) counts as read: markRead(1) cannot lower that.
        assert.equal(top.readSeq, 2);
        assert.equal(top.deliveredSeq, 2);
        assert.equal(top.kind, 'direct');
        assert.equal(list.find((v) => v.id === owned)?.role, 'owner');
        assert.equal(list.find((v) => v.id === owned)?.readSeq, 0);
        assert.equal(list.find((v) => v.id === room)?.lastSeq, 1);

        assert.deepEqual(
          (await b.messages.inbox.listConversations(d)).map((v) => v.id),
          [foreign, owned],
        );
        const dOwned = (await b.messages.inbox.listConversations(d)).find((v) => v.id === owned);
        assert.equal(dOwned?.role, 'member');
      });

      it('returns null for an unknown conversation and for a non-member', async () => {
        const [a, c, outsider] = await makeUsers('a', 'c', 'outsider');
        const conv = await group(a, [c]);
        assert.equal(
          await b.messages.conversations.getConversation('c-no-such-conversation'),
          null,
        );
        assert.equal(await b.messages.members.getMember(conv, outsider), null);
        assert.equal(await b.messages.members.getMember('c-no-such-conversation', a), null);
        assert.deepEqual(await b.messages.inbox.listConversations(outsider), []);
      });
    });

    describe('watermarks', () => {
      async function groupWith5(): Promise<{
        conv: string;
        a: string;
        c: string;
        outsider: string;
      }> {
        const [a, c, outsider] = await makeUsers('a', 'c', 'outsider');
        const conv = await group(a, [c]);
        for (const ref of ['w1', 'w2', 'w3', 'w4', 'w5']) await sendOne(conv, a, ref);
        return { conv, a, c, outsider };
      }

      it('moves readSeq forward only, caps it at lastSeq, and raises deliveredSeq with it', async () => {
        const { conv, c } = await groupWith5();
        let m = await b.messages.members.markRead(conv, c, 3);
        assert.equal(m.readSeq, 3);
        assert.equal(m.deliveredSeq, 3);

        m = await b.messages.members.markRead(conv, c, 2);
        assert.equal(m.readSeq, 3, 'read watermark never moves back');
        assert.equal(m.deliveredSeq, 3);

        m = await b.messages.members.markRead(conv, c, 99);
        assert.equal(m.readSeq, 5, 'capped at lastSeq');
        assert.equal(m.deliveredSeq, 5);

        const stored = await b.messages.members.getMember(conv, c);
        assert.equal(stored?.readSeq, 5);
        assert.equal(stored?.deliveredSeq, 5);
      });

      it('moves deliveredSeq forward only, leaving readSeq alone', async () => {
        const { conv, c } = await groupWith5();
        let m = await b.messages.members.markDelivered(conv, c, 4);
        assert.equal(m.deliveredSeq, 4);
        assert.equal(m.readSeq, 0);

        m = await b.messages.members.markDelivered(conv, c, 2);
        assert.equal(m.deliveredSeq, 4, 'delivered watermark never moves back');

        m = await b.messages.members.markRead(conv, c, 2);
        assert.equal(m.readSeq, 2);
        assert.equal(m.deliveredSeq, 4, 'reading does not lower delivery');
        assert.equal((await b.messages.members.getMember(conv, c))?.deliveredSeq, 4);
      });

      it('caps deliveredSeq at lastSeq', async () => {
        const { conv, c } = await groupWith5();
        const m = await b.messages.members.markDelivered(conv, c, 99);
        assert.equal(m.deliveredSeq, 5);
      });

      it('rejects watermark moves by a non-member with not_member', async () => {
        const { conv, outsider } = await groupWith5();
        await assert.rejects(b.messages.members.markRead(conv, outsider, 1), isCode('not_member'));
        await assert.rejects(
          b.messages.members.markDelivered(conv, outsider, 1),
          isCode('not_member'),
        );
        assert.equal(await b.messages.members.getMember(conv, outsider), null);
      });
    });

    describe('own messages, sync and recall', () => {
      it('raises the sender’s own read and delivered watermarks to each stored message', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'o1');
        await sendOne(conv, a, 'o2');
        const mine = await b.messages.members.getMember(conv, a);
        assert.equal(mine?.readSeq, 2);
        assert.equal(mine?.deliveredSeq, 2);
        const theirs = await b.messages.members.getMember(conv, c);
        assert.equal(theirs?.readSeq, 0, 'the other member has read nothing');
      });

      it('lists in changedSince exactly the conversations with a message, watermark or join after the time', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const quiet = await group(a, [c]);
        const busy = await group(a, [d]);
        const read = await group(c, [a]);
        await sendOne(quiet, a, 'q1');
        await sendOne(read, c, 'r1');
        const since = Math.max(
          ...(await b.messages.inbox.listConversations(a)).map((v) =>
            Math.max(v.lastAtUs, v.createdAtMs * 1000),
          ),
          (await b.messages.members.getMember(read, a))!.updatedUs,
        );
        await new Promise((r) => setTimeout(r, 5));
        await sendOne(busy, d, 'b1');
        await b.messages.members.markRead(read, a, 1);
        const joined = (await b.messages.conversations.joinRoom('late', a)).conversation.id;

        const changed = (await b.messages.inbox.changedSince(a, since)).map((v) => v.id).sort();
        assert.deepEqual(changed, [busy, joined, read].sort());
        assert.deepEqual(
          (await b.messages.inbox.changedSince(a, 0)).map((v) => v.id).sort(),
          [busy, joined, quiet, read].sort(),
          'since 0 lists every conversation',
        );
      });

      it('reports messages changed after a time (edited, recalled, reacted to, hidden by the viewer) and lists their conversations in changedSince', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c]);
        const other = await group(a, [c]);
        const untouched = await group(a, [c]);
        for (const ref of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) await sendOne(conv, a, ref);
        await sendOne(other, c, 'o1');
        await sendOne(untouched, c, 'u1');
        const ok = () => undefined;
        // A reaction before the time, and a plain send after it: neither is a change after it.
        await b.messages.actions.react(
          { conversationId: conv, seq: 6, userId: c, emoji: '👀', add: true },
          ok,
        );
        const since = Math.max(
          ...(await b.messages.inbox.listConversations(a)).map((v) =>
            Math.max(v.lastAtUs, v.createdAtMs * 1000),
          ),
          (await b.messages.members.getMember(conv, a))!.updatedUs,
          (await b.messages.members.getMember(conv, c))!.updatedUs,
        );
        await new Promise((r) => setTimeout(r, 5));
        // The stores stamp with the system clock; the reaction above is older than this.
        const after = Math.max(since, systemClock.nowUs() - 1);
        await sendOne(other, c, 'o2');

        await b.messages.actions.react(
          { conversationId: conv, seq: 1, userId: c, emoji: '👍', add: true },
          ok,
        );
        await b.messages.actions.react(
          { conversationId: conv, seq: 1, userId: c, emoji: '👍', add: false },
          ok,
        );
        await b.messages.actions.editMessage(conv, 2, a, () => text('edited'));
        await b.messages.log.recall(conv, 3);
        await b.messages.actions.react(
          { conversationId: conv, seq: 4, userId: c, emoji: '🎉', add: true },
          ok,
        );
        await b.messages.actions.hideMessage(conv, 5, a);
        await b.messages.actions.hideMessage(untouched, 1, a);

        const forA = await b.messages.inbox.changedMessages(conv, a, after, 10);
        assert.deepEqual(seqs(forA.messages), [1, 2, 3, 4, 5]);
        assert.equal(forA.hasMore, false);
        assert.deepEqual(forA.messages[1]?.body, text('edited'), 'as the message is now');
        assert.deepEqual(forA.messages[2]?.body, { kind: 'recalled' });
        const forC = await b.messages.inbox.changedMessages(conv, c, after, 10);
        assert.deepEqual(seqs(forC.messages), [1, 2, 3, 4], "a's hide is a's own change");
        const first = await b.messages.inbox.changedMessages(conv, a, after, 2);
        assert.deepEqual(seqs(first.messages), [1, 2]);
        assert.equal(first.hasMore, true);
        // A byte budget smaller than one body: the first still comes, with what it counts.
        const cut = await b.messages.inbox.changedMessages(conv, a, after, 10, 1);
        assert.deepEqual(seqs(cut.messages), [1]);
        assert.equal(cut.hasMore, true);
        assert.equal(cut.bodyChars, JSON.stringify(cut.messages[0]!.body).length);
        assert.deepEqual(
          seqs((await b.messages.inbox.changedMessages(conv, a, 0, 10)).messages),
          [1, 2, 3, 4, 5, 6],
          'since 0: every message that ever changed, the early reaction too',
        );
        const later = systemClock.nowUs() + 1_000_000;
        assert.deepEqual(await b.messages.inbox.changedMessages(conv, a, later, 10), {
          messages: [],
          hasMore: false,
        });
        assert.deepEqual(
          seqs((await b.messages.inbox.changedMessages(other, a, after, 10)).messages),
          [],
          'a plain send is not a change',
        );
        await assert.rejects(
          b.messages.inbox.changedMessages(conv, d, after, 10),
          isCode('not_member'),
        );

        const ids = async (userId: string) =>
          (await b.messages.inbox.changedSince(userId, after)).map((v) => v.id).sort();
        assert.deepEqual(await ids(a), [conv, other, untouched].sort());
        assert.deepEqual(await ids(c), [conv, other].sort(), "a's hide lists nothing for c");
      });

      it('lists as direct peers exactly the users sharing a direct conversation', async () => {
        const [a, c, d, e] = await makeUsers('a', 'c', 'd', 'e');
        await b.messages.conversations.openDirect(a, c);
        await b.messages.conversations.openDirect(d, a);
        await group(a, [e]);
        await b.messages.conversations.openDirect(c, e);
        assert.deepEqual((await b.messages.members.directPeers(a)).sort(), [c, d].sort());
        assert.deepEqual((await b.messages.members.directPeers(e)).sort(), [c]);
      });

      it('gets one message by seq, and null for a missing one', async () => {
        const [a] = await makeUsers('a');
        const conv = await group(a, []);
        const sent = await sendOne(conv, a, 'g1');
        assert.deepEqual(await b.messages.log.getMessage(conv, 1), sent);
        assert.equal(await b.messages.log.getMessage(conv, 2), null);
      });

      it('recalls a message: the body is removed for good, the seq and neighbours stay', async () => {
        const [a] = await makeUsers('a');
        const conv = await group(a, []);
        await sendOne(conv, a, 'k1');
        const target = await sendOne(conv, a, 'k2');
        await sendOne(conv, a, 'k3');
        const recalled = await b.messages.log.recall(conv, 2);
        assert.ok(recalled);
        assert.equal(recalled.seq, 2);
        assert.equal(recalled.id, target.id);
        assert.deepEqual(recalled.body, { kind: 'recalled' });
        assert.ok(recalled.recalledAtUs !== null && recalled.recalledAtUs > 0);
        const page = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10 });
        assert.deepEqual(seqs(page.messages), [1, 2, 3]);
        assert.deepEqual(page.messages[1]?.body, { kind: 'recalled' });
        assert.equal(page.messages[0]?.body.text, 'text k1');
        await new Promise((r) => setTimeout(r, 5));
        const afterFirst = systemClock.nowUs();
        assert.equal(
          (await b.messages.log.recall(conv, 2))?.recalledAtUs,
          recalled.recalledAtUs,
          'twice is harmless',
        );
        assert.deepEqual(
          (await b.messages.inbox.changedMessages(conv, a, afterFirst, 10)).messages,
          [],
          'and not a change again',
        );
        assert.equal(await b.messages.log.recall(conv, 9), null);
        assert.equal(await lastSeq(conv), 3);
      });
    });

    describe('group changes', () => {
      const NOOP: GroupAction = { type: 'dismiss' };
      const sys = (event: string): MessageBody => ({ kind: 'system', event });

      /** Applies a plan as the given actor, with no rules: the store's part only. */
      function change(conv: string, actorId: string, plan: GroupPlan, targetIds: string[] = []) {
        return b.messages.groups.changeGroup(
          { conversationId: conv, actorId, device: 'd1', action: NOOP, targetIds },
          () => plan,
        );
      }

      it('lists as sharing a conversation the current members of its current conversations, each once', async () => {
        const [a, c, d, e, f, g] = await makeUsers('a', 'c', 'd', 'e', 'f', 'g');
        await b.messages.conversations.openDirect(a, c);
        await group(a, [c, d]);
        const left = await group(a, [e]);
        const gone = await group(f, [a]);
        const dismissed = await group(a, [g]);
        await change(left, e, { body: sys('member.left'), leave: [e] }, [e]);
        await change(gone, a, { body: sys('member.left'), leave: [a] }, [a]);
        await change(dismissed, a, { body: sys('dismissed'), dismiss: true });
        const shared = async (userId: string) =>
          (await b.messages.members.sharedWith(userId)).sort();
        assert.deepEqual(await shared(a), [c, d].sort(), 'c once, though in two conversations');
        assert.deepEqual(await shared(d), [a, c].sort());
        assert.deepEqual(await shared(e), [], 'e left its only group');
        assert.deepEqual(await shared(f), [], 'a left the group f made');
        assert.deepEqual(await shared(g), [], 'a dismissed group is no longer shared');
      });

      it('answers a former member retrying a stored ref with the original, not not_member', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const original = await sendOne(conv, c, 'before-leaving');
        await change(conv, c, { body: sys('member.left'), leave: [c] }, [c]);
        const [retry, fresh] = await b.messages.log.append([
          req(conv, c, 'before-leaving', 'retried'),
          req(conv, c, 'after-leaving', 'new'),
        ]);
        const dup = expectOk(retry);
        assert.equal(dup.duplicate, true);
        assert.equal(dup.message.id, original.id);
        assert.equal(expectError(fresh), 'not_member');
        assert.equal(await lastSeq(conv), 2);
      });

      it('stores a system message with the next seq, dense with sends, and applies the plan', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'g1');
        const added = await change(conv, a, { body: sys('member.added'), join: [d] });
        assert.equal(added.message.seq, 2);
        assert.equal(added.message.senderId, a);
        assert.deepEqual(added.message.body, sys('member.added'));
        assert.equal(added.conversation.lastSeq, 2);
        await sendOne(conv, d, 'g2');
        assert.deepEqual(seqs(await readAll(conv)), [1, 2, 3]);
        const joined = await b.messages.members.getMember(conv, d);
        assert.equal(joined?.joinedSeq, 1, 'joinedSeq is the seq before the system message');
        assert.equal(joined?.role, 'member');
        assert.equal(joined?.leftSeq, null);

        await change(conv, a, {
          body: sys('x'),
          roles: [{ userId: c, role: 'admin' }],
          mute: [{ userId: d, muted: true }],
          title: 'new',
          mutedAll: true,
          history: 'full',
        });
        assert.equal((await b.messages.members.getMember(conv, c))?.role, 'admin');
        assert.equal((await b.messages.members.getMember(conv, d))?.muted, true);
        const after = await b.messages.conversations.getConversation(conv);
        assert.equal(after?.title, 'new');
        assert.equal(after?.mutedAll, true);
        assert.equal(after?.history, 'full');
        assert.equal(after?.dismissedAtMs, null);
      });

      it('hands the planner the state under the lock, and a refused change stores nothing', async () => {
        const [a, c, e] = await makeUsers('a', 'c', 'e');
        const conv = await group(a, [c]);
        let seen: GroupState | undefined;
        await assert.rejects(
          b.messages.groups.changeGroup(
            { conversationId: conv, actorId: a, device: 'd1', action: NOOP, targetIds: [c, e] },
            (state) => {
              seen = state;
              throw new ParleyError('forbidden');
            },
          ),
          isCode('forbidden'),
        );
        assert.ok(seen);
        assert.equal(seen.actor?.userId, a);
        assert.equal(seen.actor?.role, 'owner');
        assert.deepEqual([...seen.targets.keys()], [c]);
        assert.equal(seen.memberCount, 2);
        assert.equal(seen.conversation.lastSeq, 0);
        assert.equal(await lastSeq(conv), 0);
        assert.equal((await b.messages.members.listMembers(conv)).length, 2);
        await assert.rejects(
          change('c_missing', a, { body: sys('x') }),
          isCode('conversation_not_found'),
        );
      });

      it('keeps a former member as a row with leftSeq, out of members, lists and sends', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await sendOne(conv, c, 'f1');
        const removed = await change(conv, a, { body: sys('member.removed'), leave: [c] }, [c]);
        assert.equal(removed.message.seq, 2);
        assert.equal(await b.messages.members.getMember(conv, c), null);
        assert.equal((await b.messages.members.getMembership(conv, c))?.leftSeq, 2);
        assert.deepEqual(
          (await b.messages.members.listMembers(conv)).map((m) => m.userId),
          [a],
        );
        assert.deepEqual(await b.messages.inbox.listConversations(c), []);
        const results = await b.messages.log.append([req(conv, c, 'f2', 'after removal')]);
        assert.equal(expectError(results[0]), 'not_member');
        await assert.rejects(b.messages.members.markRead(conv, c, 2), isCode('not_member'));
        assert.equal(await lastSeq(conv), 2);

        // The state handed to the next planner shows the former member as such.
        await assert.rejects(
          b.messages.groups.changeGroup(
            { conversationId: conv, actorId: c, device: 'd1', action: NOOP, targetIds: [c] },
            (state) => {
              assert.equal(state.actor, null);
              assert.equal(state.targets.get(c)?.leftSeq, 2);
              assert.equal(state.memberCount, 1);
              throw new ParleyError('not_member');
            },
          ),
          isCode('not_member'),
        );
      });

      it('reports a removal once in changedSince, capped at leftSeq, then no more', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 's1');
        const before = Date.now() * 1000 - 1;
        await change(conv, a, { body: sys('member.removed'), leave: [c] }, [c]);
        const seen = await b.messages.inbox.changedSince(c, before);
        assert.equal(seen.length, 1);
        assert.equal(seen[0]?.lastSeq, 2);
        assert.equal(seen[0]?.leftSeq, 2);
        const cursor = (seen[0]?.lastAtUs ?? 0) + 1;
        await sendOne(conv, a, 's2');
        assert.deepEqual(await b.messages.inbox.changedSince(c, cursor), []);
        const forOwner = await b.messages.inbox.changedSince(a, before);
        assert.equal(forOwner[0]?.leftSeq, null);
        assert.equal(forOwner[0]?.lastSeq, 3);
      });

      it('lets a former member read up to and including its removal, never later', async () => {
        const [a, c, e] = await makeUsers('a', 'c', 'e');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'v1');
        await change(conv, a, { body: sys('member.removed'), leave: [c] }, [c]);
        await sendOne(conv, a, 'v3');
        await sendOne(conv, a, 'v4');
        const forward = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: c });
        assert.deepEqual(seqs(forward.messages), [1, 2]);
        assert.equal(forward.hasMore, false);
        const backward = await b.messages.log.pageBySeq(conv, {
          before: SEQ_END,
          limit: 1,
          viewerId: c,
        });
        assert.deepEqual(seqs(backward.messages), [2]);
        assert.equal(backward.hasMore, true);
        assert.equal(await b.messages.log.getMessage(conv, 3, c), null);
        assert.equal((await b.messages.log.getMessage(conv, 2, c))?.seq, 2);
        const byTime = await b.messages.log.pageByTime(conv, {
          cursorUs: 0,
          newestFirst: true,
          limit: 10,
          viewerId: c,
        });
        assert.deepEqual(seqs(byTime.messages), [2, 1]);
        const owner = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: a });
        assert.deepEqual(seqs(owner.messages), [1, 2, 3, 4]);
        await assert.rejects(
          b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: e }),
          isCode('not_member'),
        );
        await assert.rejects(b.messages.log.getMessage(conv, 1, e), isCode('not_member'));
      });

      it("shows a new member history from its join, or all of it when the group's history is full", async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, []);
        await sendOne(conv, a, 'h1');
        await change(conv, a, { body: sys('member.added'), join: [c] });
        await sendOne(conv, a, 'h3');
        const joined = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: c });
        assert.deepEqual(seqs(joined.messages), [2, 3], 'from its own addition on');
        assert.equal(await b.messages.log.getMessage(conv, 1, c), null);
        const member = await b.messages.members.getMember(conv, c);
        assert.equal(member?.readSeq, 1, 'history before the join is not unread');

        await change(conv, a, { body: sys('history.changed'), history: 'full' });
        await change(conv, a, { body: sys('member.added'), join: [d] });
        const full = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: d });
        assert.deepEqual(seqs(full.messages), [1, 2, 3, 4, 5]);

        const created = await b.messages.groups.createGroup({
          title: 'f',
          ownerId: a,
          memberIds: [],
          history: 'full',
        });
        assert.equal(created.history, 'full');
        assert.equal((await b.messages.conversations.getConversation(conv))?.history, 'full');
      });

      it('takes a former member back with a new joinedSeq', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await change(conv, a, { body: sys('member.removed'), leave: [c] }, [c]);
        await sendOne(conv, a, 'r2');
        await change(conv, a, { body: sys('member.added'), join: [c] }, [c]);
        const back = await b.messages.members.getMember(conv, c);
        assert.equal(back?.leftSeq, null);
        assert.equal(back?.joinedSeq, 2);
        assert.equal(back?.role, 'member');
        await sendOne(conv, c, 'r4');
        assert.equal(await lastSeq(conv), 4);
      });

      it('refuses sends of muted members, of members in a muted group, and in a dismissed group', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c, d]);
        await change(conv, a, {
          body: sys('x'),
          mute: [{ userId: c, muted: true }],
          roles: [{ userId: d, role: 'admin' }],
        });
        let results = await b.messages.log.append([
          req(conv, c, 'm1', 'x'),
          req(conv, d, 'm2', 'y'),
        ]);
        assert.equal(expectError(results[0]), 'muted');
        assert.equal(expectOk(results[1]).message.seq, 2);

        await change(conv, a, {
          body: sys('x'),
          mute: [{ userId: c, muted: false }],
          mutedAll: true,
        });
        results = await b.messages.log.append([req(conv, c, 'm3', 'x'), req(conv, d, 'm4', 'y')]);
        assert.equal(expectError(results[0]), 'group_muted');
        assert.equal(expectOk(results[1]).message.seq, 4);

        const dismissed = await change(conv, a, { body: sys('dismissed'), dismiss: true });
        assert.ok(dismissed.conversation.dismissedAtMs !== null);
        results = await b.messages.log.append([req(conv, a, 'm5', 'x')]);
        assert.equal(expectError(results[0]), 'group_dismissed');
        assert.equal(await lastSeq(conv), 5);
        const page = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: c });
        assert.equal(page.messages.length, 5, 'members still read a dismissed group');
      });

      it('keeps seqs dense when group changes race with sends', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const work: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          work.push(b.messages.log.append([req(conv, a, `race-${i}`, 'x')]));
          work.push(change(conv, a, { body: sys('title.changed'), title: `t${i}` }));
        }
        await Promise.all(work);
        assert.deepEqual(seqs(await readAll(conv)), range(1, 40));
      });
    });

    it("pages through every message a user sent, in (device, ref) order, and no one else's", async () => {
      const [a, c] = await makeUsers('a', 'c');
      const direct = (await b.messages.conversations.openDirect(a, c)).conversation.id;
      const g = await group(a, [c]);
      const results = await b.messages.log.append([
        req(direct, a, 'r3', 'one', 'phone'),
        req(g, a, 'r1', 'two', 'phone'),
        req(direct, c, 'r1', 'not hers', 'phone'),
        req(g, a, 'r2', 'three', 'laptop'),
        req(direct, a, 'r9', 'four', 'laptop'),
        req(g, a, 'r5', 'five', 'phone'),
      ]);
      await b.messages.log.recall(g, expectOk(results[3]).message.seq);
      const seen: string[] = [];
      let after: { device: string; ref: string } | null = null;
      for (let i = 0; i < 10; i++) {
        const page = await b.messages.log.sentBy(a, after, 2);
        assert.ok(page.length <= 2);
        if (page.length === 0) break;
        for (const m of page) {
          assert.equal(m.senderId, a);
          seen.push(`${m.device}/${m.ref}/${m.body.text ?? m.body.kind}`);
        }
        const last = page.at(-1)!;
        after = { device: last.device, ref: last.ref };
      }
      assert.deepEqual(seen, [
        'laptop/r2/recalled',
        'laptop/r9/four',
        'phone/r1/two',
        'phone/r3/one',
        'phone/r5/five',
      ]);
      assert.deepEqual(await b.messages.log.sentBy('u-nobody', null, 10), []);
    });

    describe('message actions', () => {
      const sys = (event: string): MessageBody => ({ kind: 'system', event });
      /** A judge that approves and returns `body`, remembering the state it was shown. */
      function approve<T>(result: T, seen: MessageActionState[] = []) {
        return (state: MessageActionState): T => {
          seen.push(state);
          return result;
        };
      }
      const refuse = (): never => {
        throw new ParleyError('forbidden');
      };
      async function textOf(conv: string, seq: number): Promise<string | undefined> {
        return (await b.messages.log.getMessage(conv, seq))?.body.text;
      }

      it('edits a body in one transaction with the judgement: the state, the new body, editedAtUs', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const original = await sendOne(conv, a, 'e1');
        await sendOne(conv, c, 'e2');
        const seen: MessageActionState[] = [];
        const edited = await b.messages.actions.editMessage(
          conv,
          1,
          a,
          approve({ kind: 'text', text: 'edited' }, seen),
        );
        assert.equal(seen.length, 1);
        assert.equal(seen[0]?.actor?.userId, a);
        assert.equal(seen[0]?.message?.id, original.id);
        assert.deepEqual(seen[0]?.message?.body, original.body);
        assert.equal(seen[0]?.conversation.id, conv);
        assert.deepEqual(edited.body, { kind: 'text', text: 'edited' });
        assert.equal(edited.seq, 1);
        assert.equal(edited.id, original.id);
        assert.equal(edited.atUs, original.atUs, 'an edit keeps the message time');
        assert.ok(typeof edited.editedAtUs === 'number' && edited.editedAtUs >= original.atUs);
        assert.equal(original.editedAtUs, undefined);
        const page = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10, viewerId: c });
        assert.deepEqual(page.messages[0]?.body, { kind: 'text', text: 'edited' });
        assert.equal(page.messages[0]?.editedAtUs, edited.editedAtUs);
        assert.equal(page.messages[1]?.editedAtUs, undefined);
        const byTime = await b.messages.log.pageByTime(conv, {
          cursorUs: 0,
          newestFirst: false,
          limit: 10,
        });
        assert.equal(byTime.messages[0]?.body.text, 'edited');
        assert.equal(await lastSeq(conv), 2, 'an edit uses no seq');

        await assert.rejects(
          b.messages.actions.editMessage(conv, 1, a, () => refuse()),
          isCode('forbidden'),
        );
        assert.equal(await textOf(conv, 1), 'edited', 'a refused edit changes nothing');
        await assert.rejects(
          b.messages.actions.editMessage('c-missing', 1, a, approve(text('x'))),
          isCode('conversation_not_found'),
        );
      });

      it("shows a judge no message outside the actor's window, and no actor for a non-member", async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = (
          await b.messages.groups.createGroup({ title: 'g', ownerId: a, memberIds: [c] })
        ).id;
        await sendOne(conv, a, 'w1');
        // d joins at seq 2 of a history-from-join group: seq 1 is outside its window.
        const join = await b.messages.groups.changeGroup(
          {
            conversationId: conv,
            actorId: a,
            device: 'd1',
            action: { type: 'dismiss' },
            targetIds: [],
          },
          () => ({ body: sys('member.added'), join: [d] }),
        );
        assert.equal(join.message.seq, 2);
        const seen: MessageActionState[] = [];
        const judge = (s: MessageActionState) => {
          seen.push(s);
          throw new ParleyError('message_not_found');
        };
        await assert.rejects(b.messages.actions.editMessage(conv, 1, d, judge));
        await assert.rejects(b.messages.actions.editMessage(conv, 99, a, judge));
        const [stranger] = await makeUsers('s');
        await assert.rejects(b.messages.actions.editMessage(conv, 1, stranger, judge));
        assert.equal(seen[0]?.message, null, 'before the join');
        assert.equal(seen[0]?.actor?.userId, d);
        assert.equal(seen[1]?.message, null, 'no such seq');
        assert.equal(seen[2]?.actor, null, 'not a member');
        assert.equal(seen[2]?.message, null);
        // History "full" opens the window.
        await b.messages.groups.changeGroup(
          {
            conversationId: conv,
            actorId: a,
            device: 'd1',
            action: { type: 'dismiss' },
            targetIds: [],
          },
          () => ({ body: sys('history.changed'), history: 'full' }),
        );
        await assert.rejects(b.messages.actions.editMessage(conv, 1, d, judge));
        assert.equal(seen[3]?.message?.seq, 1);
      });

      it('lets a recall win over an edit, and drops the reactions of a recalled message', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'r1');
        await b.messages.actions.react(
          { conversationId: conv, seq: 1, userId: c, emoji: '👍', add: true },
          () => undefined,
        );
        await b.messages.log.recall(conv, 1);
        const seen: MessageActionState[] = [];
        await assert.rejects(
          b.messages.actions.editMessage(conv, 1, a, (s) => {
            seen.push(s);
            if (s.message?.recalledAtUs !== null) throw new ParleyError('message_recalled');
            return text('resurrected');
          }),
          isCode('message_recalled'),
        );
        assert.deepEqual((await b.messages.log.getMessage(conv, 1))?.body, { kind: 'recalled' });
        const marks = await b.messages.actions.marks(conv, c, 1, 1);
        assert.equal(marks.reactions.size, 0, 'reactions go with the recalled body');
      });

      it('adds and removes reactions once per (user, message, emoji), counting them', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c, d]);
        await sendOne(conv, a, 'x1');
        await sendOne(conv, a, 'x2');
        const ok = () => undefined;
        const react = (userId: string, emoji: string, add = true, seq = 1) =>
          b.messages.actions.react({ conversationId: conv, seq, userId, emoji, add }, ok);
        assert.deepEqual(await react(c, '👍'), { changed: true, count: 1 });
        assert.deepEqual(await react(c, '👍'), { changed: false, count: 1 }, 'twice is once');
        assert.deepEqual(await react(d, '👍'), { changed: true, count: 2 });
        assert.deepEqual(await react(d, '🎉'), { changed: true, count: 1 });
        assert.deepEqual(await react(a, '👍🏽'), { changed: true, count: 1 });
        assert.deepEqual(await react(c, '👍', true, 2), { changed: true, count: 1 });

        const seen: MessageActionState[] = [];
        await b.messages.actions.react(
          { conversationId: conv, seq: 1, userId: d, emoji: 'x', add: false },
          approve(undefined, seen),
        );
        assert.deepEqual(seen[0]?.actorReactions, ['👍', '🎉'], "the actor's own, oldest first");
        await assert.rejects(
          b.messages.actions.react(
            { conversationId: conv, seq: 1, userId: c, emoji: '❤️', add: true },
            refuse,
          ),
          isCode('forbidden'),
        );

        const asC = await b.messages.actions.marks(conv, c, 1, 2);
        assert.deepEqual(asC.reactions.get(1), [
          { emoji: '👍', count: 2, me: true },
          { emoji: '🎉', count: 1, me: false },
          { emoji: '👍🏽', count: 1, me: false },
        ]);
        assert.deepEqual(asC.reactions.get(2), [{ emoji: '👍', count: 1, me: true }]);
        const asA = await b.messages.actions.marks(conv, a, 1, 1);
        assert.deepEqual(
          asA.reactions.get(1)?.map((r) => [r.emoji, r.me]),
          [
            ['👍', false],
            ['🎉', false],
            ['👍🏽', true],
          ],
        );
        assert.equal(
          (await b.messages.actions.marks(conv, c, 2, 2)).reactions.has(1),
          false,
          'in range',
        );

        assert.deepEqual(await react(c, '👍', false), { changed: true, count: 1 });
        assert.deepEqual(await react(c, '👍', false), { changed: false, count: 1 });
        assert.deepEqual((await b.messages.actions.marks(conv, c, 1, 1)).reactions.get(1)?.[0], {
          emoji: '👍',
          count: 1,
          me: false,
        });
      });

      it('hides a message for one viewer only', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        for (let i = 1; i <= 4; i++) await sendOne(conv, a, `h${i}`);
        assert.equal(await b.messages.actions.hideMessage(conv, 2, c), true);
        assert.equal(
          await b.messages.actions.hideMessage(conv, 2, c),
          false,
          'hiding twice is a no-op',
        );
        assert.equal(await b.messages.actions.hideMessage(conv, 4, c), true);
        assert.deepEqual(
          [...(await b.messages.actions.marks(conv, c, 1, 4)).hidden].sort(),
          [2, 4],
        );
        assert.deepEqual([...(await b.messages.actions.marks(conv, c, 3, 3)).hidden], []);
        assert.equal(
          (await b.messages.actions.marks(conv, a, 1, 4)).hidden.size,
          0,
          'others unaffected',
        );
        assert.equal((await readAll(conv)).length, 4, 'pages are the same for everyone');
      });

      it('summarizes each view: the newest visible, unhidden message and mentions above readSeq', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c, d]);
        const send = async (ref: string, body: MessageBody) => {
          const [r] = await b.messages.log.append([
            { conversationId: conv, senderId: a, device: 'd1', ref, body },
          ]);
          return expectOk(r).message;
        };
        await send('s1', { kind: 'text', text: 'hi @c', mentions: [c] });
        await send('s2', { kind: 'text', text: 'hi all', mentions: 'all' });
        await send('s3', { kind: 'text', text: 'hi @d', mentions: [d] });
        const m4 = await send('s4', { kind: 'text', text: 'plain' });
        const summary = async (userId: string) => {
          const views = await b.messages.inbox.listConversations(userId);
          return (await b.messages.inbox.summaries(userId, views)).get(conv);
        };
        const s = await summary(c);
        assert.equal(s?.mentions, 2, 'its own mention and @all');
        assert.equal(s?.last?.id, m4.id);
        assert.equal((await summary(d))?.mentions, 2);
        assert.equal((await summary(a))?.mentions, 0, 'the sender has read its own sends');

        await b.messages.members.markRead(conv, c, 1);
        assert.equal((await summary(c))?.mentions, 1, 'only above readSeq');
        await b.messages.actions.hideMessage(conv, 2, c);
        assert.equal((await summary(c))?.mentions, 0, 'hidden messages do not count');
        await b.messages.actions.hideMessage(conv, 4, c);
        assert.equal((await summary(c))?.last?.seq, 3, 'the preview skips hidden messages');
        assert.equal((await summary(a))?.last?.seq, 4, 'for that viewer only');

        // Edits re-count: dropping the mention drops it, adding one adds it.
        assert.equal((await summary(d))?.mentions, 2);
        await b.messages.actions.editMessage(conv, 3, a, () => text('no one'));
        assert.equal((await summary(d))?.mentions, 1);
        await b.messages.actions.editMessage(conv, 4, a, () => ({
          kind: 'text',
          text: '@d',
          mentions: [d],
        }));
        assert.equal((await summary(d))?.mentions, 2);
        await b.messages.log.recall(conv, 2);
        assert.equal((await summary(d))?.mentions, 1, 'recalled messages do not count');
        assert.deepEqual((await summary(d))?.last?.body, {
          kind: 'text',
          text: '@d',
          mentions: [d],
        });

        const empty = await group(a, [c]);
        const views = (await b.messages.inbox.listConversations(c)).filter((v) => v.id === empty);
        assert.deepEqual((await b.messages.inbox.summaries(c, views)).get(empty), {
          last: null,
          mentions: 0,
        });
        assert.equal((await b.messages.inbox.summaries(c, [])).size, 0);
      });

      it("keeps a summary within the viewer's window", async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'before-d');
        await b.messages.groups.changeGroup(
          {
            conversationId: conv,
            actorId: a,
            device: 'd1',
            action: { type: 'dismiss' },
            targetIds: [],
          },
          () => ({ body: sys('member.added'), join: [d] }),
        );
        await b.messages.actions.hideMessage(conv, 2, d);
        const views = await b.messages.inbox.listConversations(d);
        const s = (await b.messages.inbox.summaries(d, views)).get(conv);
        assert.equal(s?.last, null, 'nothing before the join, and the join message is hidden');
      });

      it('keeps per-user preferences: pinned first in the list, a pin limit, seen by sync', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const first = await group(a, [c]);
        const second = await group(a, [c]);
        const third = await group(a, [c]);
        // Activity orders the unpinned ones (creation times may tie within a millisecond).
        await sendOne(first, a, 'p1');
        await sendOne(second, a, 'p2');
        await sendOne(third, a, 'p3');
        const order = async () => (await b.messages.inbox.listConversations(c)).map((v) => v.id);
        assert.deepEqual(await order(), [third, second, first]);
        const before = Date.now() * 1000 - 1;
        const pinned = await b.messages.inbox.setPreferences(first, c, { pinned: true }, 2);
        assert.equal(pinned.pinned, true);
        assert.equal(pinned.notificationsMuted, false);
        assert.deepEqual(await order(), [first, third, second]);
        assert.deepEqual(
          await (async () => (await b.messages.inbox.listConversations(a)).map((v) => v.id))(),
          [third, second, first],
          'pins are per user',
        );
        const changed = await b.messages.inbox.changedSince(c, before);
        assert.ok(
          changed.some((v) => v.id === first && v.pinned),
          'sync sees the change',
        );

        await b.messages.inbox.setPreferences(second, c, { pinned: true }, 2);
        await assert.rejects(
          b.messages.inbox.setPreferences(third, c, { pinned: true }, 2),
          isCode('too_many_pins'),
        );
        assert.equal(
          (await b.messages.inbox.listConversations(c)).find((v) => v.id === third)?.pinned,
          false,
        );
        // Re-pinning a pinned one is not a new pin.
        await b.messages.inbox.setPreferences(
          first,
          c,
          { pinned: true, notificationsMuted: true },
          2,
        );
        const muted = await b.messages.inbox.setPreferences(first, c, { pinned: false }, 2);
        assert.deepEqual([muted.pinned, muted.notificationsMuted], [false, true]);
        await assert.rejects(
          b.messages.inbox.setPreferences(first, 'u-missing', { pinned: true }, 2),
          isCode('not_member'),
        );
      });

      it('keeps one invite code per group, unique, set and revoked after the judge approves', async () => {
        const [a, c, d] = await makeUsers('a', 'c', 'd');
        const conv = await group(a, [c]);
        const other = await group(a, []);
        const seen: unknown[][] = [];
        const judge = (...args: unknown[]) => void seen.push(args);
        assert.equal(await b.messages.groups.getInvite(conv), null);
        await b.messages.groups.setInvite(conv, a, 'CODE-one-0000000', judge);
        assert.equal(await b.messages.groups.getInvite(conv), 'CODE-one-0000000');
        assert.equal((await b.messages.groups.findByInvite('CODE-one-0000000'))?.id, conv);
        assert.equal((seen[0]?.[1] as Member | null)?.userId, a);
        assert.equal(seen[0]?.[2], null, 'the judge is told the current code');
        await b.messages.groups.setInvite(conv, a, 'CODE-two-0000000', judge);
        assert.equal(seen[1]?.[2], 'CODE-one-0000000');
        assert.equal(await b.messages.groups.findByInvite('CODE-one-0000000'), null, 'replaced');
        await assert.rejects(
          b.messages.groups.setInvite(other, a, 'CODE-two-0000000', judge),
          'unique',
        );
        await assert.rejects(
          b.messages.groups.setInvite(conv, c, null, () => refuse()),
          isCode('forbidden'),
        );
        assert.equal(
          await b.messages.groups.getInvite(conv),
          'CODE-two-0000000',
          'a refusal changes nothing',
        );
        await b.messages.groups.setInvite(conv, d, null, judge);
        assert.equal(seen.at(-1)?.[1], null, 'a non-member actor is shown as null');
        assert.equal(await b.messages.groups.getInvite(conv), null);
        await assert.rejects(
          b.messages.groups.setInvite('c-missing', a, null, judge),
          isCode('conversation_not_found'),
        );

        // A group change sees the code under its lock.
        await b.messages.groups.setInvite(conv, a, 'CODE-three-00000', judge);
        let inviteCode: string | null | undefined;
        await b.messages.groups.changeGroup(
          {
            conversationId: conv,
            actorId: d,
            device: 'd1',
            action: { type: 'join', code: 'x' },
            targetIds: [d],
          },
          (state) => {
            inviteCode = state.inviteCode;
            return { body: sys('member.joined'), join: [d] };
          },
        );
        assert.equal(inviteCode, 'CODE-three-00000');
        assert.equal((await b.messages.members.getMember(conv, d))?.role, 'member');
      });

      it('sets, keeps and clears a group avatar through a group change', async () => {
        const [a] = await makeUsers('a');
        const conv = await group(a, []);
        const apply = (plan: Partial<GroupPlan>) =>
          b.messages.groups.changeGroup(
            {
              conversationId: conv,
              actorId: a,
              device: 'd1',
              action: { type: 'dismiss' },
              targetIds: [],
            },
            () => ({ body: sys('avatar.changed'), ...plan }),
          );
        assert.equal((await b.messages.conversations.getConversation(conv))?.avatar, null);
        assert.equal((await apply({ avatar: 'aAvatar' })).conversation.avatar, 'aAvatar');
        assert.equal((await apply({ title: 'other' })).conversation.avatar, 'aAvatar');
        assert.equal((await apply({ avatar: null })).conversation.avatar, null);
        assert.equal((await b.messages.inbox.listConversations(a))[0]?.avatar, null);
      });
    });

    describe('isolation of returned objects', () => {
      it('is not affected by callers mutating what it returned', async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        await sendOne(conv, a, 'i1');
        const page = await b.messages.log.pageBySeq(conv, { after: 0, limit: 10 });
        page.messages.length = 0;
        const members = await b.messages.members.listMembers(conv);
        members.length = 0;
        const list = await b.messages.inbox.listConversations(a);
        list.length = 0;

        assert.equal(
          (await b.messages.log.pageBySeq(conv, { after: 0, limit: 10 })).messages.length,
          1,
        );
        assert.equal((await b.messages.members.listMembers(conv)).length, 2);
        assert.equal((await b.messages.inbox.listConversations(a)).length, 1);
      });
    });
  });
}
