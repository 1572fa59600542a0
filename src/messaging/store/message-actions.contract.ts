// The MessageActionStore contract suite (message-actions.ts): edits judged in their transaction,
// judges kept to the actor's window, a recall winning over an edit, reactions and hides.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ParleyError } from '../../core/errors.js';
import type { MessageActionState } from './index.js';
import {
  approve,
  isCode,
  refuse,
  storeHelpers,
  suiteName,
  sys,
  text,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runMessageActionStoreContract(opts: ContractOptions): void {
  describe(suiteName('MessageActionStore', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, lastSeq, readAll, textOf } = storeHelpers(() => b);

    describe('message actions', () => {
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
    });
  });
}
