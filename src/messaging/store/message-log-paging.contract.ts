// The MessageLog contract suite (message-log.ts), its reads: paging by seq and by time without
// gaps or repeats, cut at bytesMax; each viewer kept to its window (index.ts); and sentBy.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { StoredMessage } from '../model.js';
import {
  expectOk,
  isCode,
  range,
  req,
  SEQ_END,
  seqs,
  storeHelpers,
  suiteName,
  sys,
  text,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runMessageLogPagingContract(opts: ContractOptions): void {
  describe(suiteName('MessageLog paging', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, change } = storeHelpers(() => b);

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

    describe('group changes', () => {
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
  });
}
