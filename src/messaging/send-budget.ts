import type { BudgetStore } from '../core/budget-store.js';
import { UserBudget } from '../core/user-budget.js';

// The REST send budget: what a real-time connection gets per link (PARLEY_SEND_RATE_PER_SEC,
// PARLEY_SEND_BURST_MAX), a user gets over REST for the routes that write messages (send, edit,
// recall, reactions). On a cluster the buckets are in Redis, shared by every node, like the
// login throttle's (docs/decisions/0024-budgets-shared-on-a-cluster.md). The seed API has none
// (its wrk scripts send from one user as fast as they can), and gRPC callers are trusted backends.

export class SendBudget extends UserBudget {
  constructor(store: BudgetStore, options: { ratePerSec: number; burstMax: number }) {
    super(store, {
      name: 'send',
      burst: options.burstMax,
      refillMs: 1000 / options.ratePerSec,
      refusal: 'Too many sends; slow down.',
    });
  }
}
