// The MemberStore contract suite (members.ts): watermarks move forward only and are capped,
// and who shares a conversation (direct peers, shared with) with whom.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import {
  isCode,
  storeHelpers,
  suiteName,
  sys,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runMemberStoreContract(opts: ContractOptions): void {
  describe(suiteName('MemberStore', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, change } = storeHelpers(() => b);

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
      it('lists as direct peers exactly the users sharing a direct conversation', async () => {
        const [a, c, d, e] = await makeUsers('a', 'c', 'd', 'e');
        await b.messages.conversations.openDirect(a, c);
        await b.messages.conversations.openDirect(d, a);
        await group(a, [e]);
        await b.messages.conversations.openDirect(c, e);
        assert.deepEqual((await b.messages.members.directPeers(a)).sort(), [c, d].sort());
        assert.deepEqual((await b.messages.members.directPeers(e)).sort(), [c]);
      });
    });

    describe('group changes', () => {
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
    });
  });
}
