// The MessageStores contract: the entry that runs every messaging port's suite on one backend, and
// the cases of the rules common to all ports (index.ts) that span several of them.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { runConversationStoreContract } from './conversations.contract.js';
import { runGroupStoreContract } from './groups.contract.js';
import { runInboxStoreContract } from './inbox.contract.js';
import { storeHelpers, suiteName, type ContractOptions, type StoreBundle } from './kit.contract.js';
import { runMemberStoreContract } from './members.contract.js';
import { runMessageActionStoreContract } from './message-actions.contract.js';
import { runMessageLogPagingContract } from './message-log-paging.contract.js';
import { runMessageLogContract } from './message-log.contract.js';
import { runSearchStoreContract } from './search.contract.js';

export type { ContractOptions, StoreBundle } from './kit.contract.js';

/**
 * Runs the contract suite of every messaging store port (MessageStores), and the common cases,
 * on the bundles `open` gives: one fresh, empty store per case.
 */
export function runMessagingContracts(opts: ContractOptions): void {
  runConversationStoreContract(opts);
  runMemberStoreContract(opts);
  runInboxStoreContract(opts);
  runMessageLogContract(opts);
  runMessageLogPagingContract(opts);
  runMessageActionStoreContract(opts);
  runGroupStoreContract(opts);
  runSearchStoreContract(opts);
  runMessageStoresContract(opts);
}

/** The rules of index.ts that hold for every port, where a case spans several ports. */
export function runMessageStoresContract(opts: ContractOptions): void {
  describe(suiteName('MessageStores', opts), () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    const { makeUsers, group, sendOne } = storeHelpers(() => b);

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
