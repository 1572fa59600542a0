import { runFlow } from '../flow.js';
import type { Outcome, RunContext, Scenario } from '../scenario.js';
import { CONNECT_TIMEOUT_MS, ClientSet } from '../ws-client.js';

// `group`: one group of G members, all online; the first S send M messages each. Expected
// deliveries: G - 1 per acknowledged message. On a cluster, member i connects to node i % N, so
// members and senders alike are spread evenly over the nodes.

export const group: Scenario = {
  plan: (o) => ({ users: o.members, pairs: false, groupMembers: o.members, http: false }),
  params: (o) => ({
    members: o.members,
    senders: o.senders,
    messages: o.messages,
    rate: o.rate,
    inflight: o.inflight,
    ...(o.warmupS > 0 ? { warmupS: o.warmupS } : {}),
    durationCapS: o.durationS,
  }),
  async run(ctx: RunContext): Promise<Outcome> {
    const { target, options, deadline } = ctx;
    const conversation = target.group;
    if (conversation === null) throw new Error('the target has no group');
    const set = new ClientSet();
    try {
      const clients = await deadline.race(
        set.connectAll(target.wsUrls, target.users, options.concurrency, CONNECT_TIMEOUT_MS),
        'connect',
      );
      return await runFlow(ctx, {
        senders: clients.slice(0, options.senders).map((client) => ({ client, conversation })),
        receivers: clients,
        fanout: clients.length - 1,
      });
    } finally {
      set.closeAll();
    }
  },
};
