// The ConversationStore contract suite (conversations.ts): one direct conversation per pair, under
// concurrency too; rooms created once, joined and left silently; lookups of what does not exist.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import {
  expectError,
  isCode,
  range,
  req,
  SEQ_END,
  seqs,
  storeHelpers,
  suiteName,
  type ContractOptions,
  type StoreBundle,
} from './kit.contract.js';

export function runConversationStoreContract(opts: ContractOptions): void {
  describe(suiteName('ConversationStore', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne, lastSeq } = storeHelpers(() => b);

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
  });
}
