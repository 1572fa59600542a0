// The GroupStore contract suite (groups.ts): groups created with their roles; a change applied
// with its system message in one transaction, dense with sends; former members kept as rows;
// invite codes and avatars.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ParleyError } from '../../core/errors.js';
import type { Member } from '../model.js';
import type { GroupPlan, GroupState } from './index.js';
import {
  expectError,
  isCode,
  NOOP,
  range,
  refuse,
  req,
  seqs,
  storeHelpers,
  suiteName,
  sys,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runGroupStoreContract(opts: ContractOptions): void {
  describe(suiteName('GroupStore', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, lastSeq, readAll, change } = storeHelpers(() => b);

    describe('conversations', () => {
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
    });

    describe('group changes', () => {
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

    describe('message actions', () => {
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
  });
}
