// The InboxStore contract suite (inbox.ts): a member's list of conversations, their summaries
// (last message, mentions) within its window, its preferences, and what sync sees changed.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { systemClock } from '../../core/clock.js';
import type { MessageBody } from '../model.js';
import {
  expectOk,
  isCode,
  seqs,
  storeHelpers,
  suiteName,
  sys,
  text,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runInboxStoreContract(opts: ContractOptions): void {
  describe(suiteName('InboxStore', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, change } = storeHelpers(() => b);

    describe('conversations', () => {
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
    });

    describe('own messages, sync and recall', () => {
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
    });

    describe('group changes', () => {
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
    });

    describe('message actions', () => {
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
    });
  });
}
