// The MessageLog contract suite (message-log.ts), its appends: seqs stay dense under concurrency,
// atUs increases with seq, refs dedupe, membership and mutes are enforced inside the append,
// a sender's own messages count as read, and getMessage and recall. Reads: message-log-paging.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { systemClock } from '../../core/clock.js';
import type { StoredMessage } from '../model.js';
import type { AppendRequest } from './index.js';
import {
  expectError,
  expectOk,
  mulberry32,
  range,
  req,
  seqs,
  storeHelpers,
  suiteName,
  sys,
  text,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runMessageLogContract(opts: ContractOptions): void {
  describe(suiteName('MessageLog', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, lastSeq, readAll, change } = storeHelpers(() => b);

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

      it("reports each new message's predecessor's stamp, in one batch and across batches", async () => {
        const [a, c] = await makeUsers('a', 'c');
        const conv = await group(a, [c]);
        const one = await b.messages.log.append([req(conv, a, 'p1', 'one')]);
        const two = await b.messages.log.append([
          req(conv, c, 'p2', 'two'),
          req(conv, a, 'p3', 'three'),
        ]);
        const stored = await readAll(conv);
        const atOf = new Map(stored.map((m) => [m.seq, m.atUs]));
        for (const r of [...one, ...two]) {
          const ok = expectOk(r);
          const before = ok.message.seq === 1 ? 0 : atOf.get(ok.message.seq - 1);
          assert.equal(ok.previousAtUs, before, `seq ${ok.message.seq}`);
        }
        const [again] = await b.messages.log.append([req(conv, a, 'p1', 'one')]);
        assert.equal(expectOk(again).previousAtUs, undefined, 'a duplicate has none');
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
    });
  });
}
