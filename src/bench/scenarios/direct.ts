import { runFlow } from '../flow.js';
import type { Outcome, RunContext, Scenario } from '../scenario.js';
import { CONNECT_TIMEOUT_MS, ClientSet } from '../ws-client.js';

// `direct`: N connections as N/2 pairs, each with its direct conversation; every connection sends
// M messages to its peer. Expected deliveries: one per acknowledged message. On a cluster, user i
// connects to node i % N, so the two ends of every pair are on different nodes.

export const direct: Scenario = {
  plan: (o) => ({ users: o.connections, pairs: true, groupMembers: 0, http: false }),
  params: (o) => ({
    connections: o.connections,
    messages: o.messages,
    rate: o.rate,
    inflight: o.inflight,
    ...(o.warmupS > 0 ? { warmupS: o.warmupS } : {}),
    durationCapS: o.durationS,
  }),
  async run(ctx: RunContext): Promise<Outcome> {
    const { target, options, deadline } = ctx;
    const set = new ClientSet();
    try {
      const clients = await deadline.race(
        set.connectAll(target.wsUrls, target.users, options.concurrency, CONNECT_TIMEOUT_MS),
        'connect',
      );
      return await runFlow(ctx, {
        senders: clients.map((client, i) => ({
          client,
          conversation: target.directs[Math.floor(i / 2)]!,
        })),
        receivers: clients,
        fanout: 1,
      });
    } finally {
      set.closeAll();
    }
  },
};
