// Proves that MemoryBudgetStore keeps the BudgetStore contract, and bounds its keys.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { runBudgetStoreContract } from './budget-store.contract.js';
import { MemoryBudgetStore } from './budget-store.js';

runBudgetStoreContract({ name: 'memory', open: () => new MemoryBudgetStore() });

it('MemoryBudgetStore keeps at most entriesMax buckets, forgetting the oldest', async () => {
  const store = new MemoryBudgetStore({ entriesMax: 100 });
  for (let i = 0; i < 1_000; i++) await store.take(`spray${i}`, 1, 60_000, 0);
  assert.ok((await store.wait('spray999', 1, 60_000, 0)) > 0, 'the newest are remembered');
  assert.equal(await store.wait('spray0', 1, 60_000, 0), 0, 'the oldest forgotten (full again)');
});
