// Proves that MemoryPresence, the single-process default, keeps the Presence contract.
import type { Presence } from './presence.js';
import { runPresenceContract } from './presence.contract.js';
import { MemoryPresence } from './memory-presence.js';

runPresenceContract({
  open: () => {
    // One instance per ttl stands for one shared backend: in-process nodes share one instance.
    const byTtl = new Map<number, Presence>();
    const make = (ttlMs: number): Promise<Presence> => {
      let presence = byTtl.get(ttlMs);
      if (!presence) {
        presence = new MemoryPresence({ ttlMs });
        byTtl.set(ttlMs, presence);
      }
      return Promise.resolve(presence);
    };
    return Promise.resolve({ make, close: () => Promise.resolve() });
  },
});
