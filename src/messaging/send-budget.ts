import { UserBudget } from '../core/user-budget.js';

// The REST send budget: what a real-time connection gets per link (PARLEY_SEND_RATE_PER_SEC,
// PARLEY_SEND_BURST_MAX), a user gets over REST for the routes that write messages (send, edit,
// recall, reactions). Buckets live in this process: on a cluster the budget is per node, like the
// login throttle (docs/decisions.md). The seed API has none (its wrk scripts send from one user
// as fast as they can), and gRPC callers are trusted backends.

export class SendBudget extends UserBudget {
  constructor(options: { ratePerSec: number; burstMax: number }) {
    super({
      burst: options.burstMax,
      refillMs: 1000 / options.ratePerSec,
      refusal: 'Too many sends; slow down.',
    });
  }
}
