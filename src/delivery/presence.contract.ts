// The Presence contract suite: proves that a backend records, lists and removes entries, keeps the
// same device on two nodes apart, expires what is not refreshed, re-adds what refresh finds
// missing, and is idempotent.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { Presence, PresenceEntry } from './presence.js';

/** What a backend's test hands to the suite: Presence instances that share one backend. */
export interface PresenceBackend {
  /** A Presence on the shared backend whose entries live `ttlMs`. The suite closes each one. */
  make(ttlMs: number): Promise<Presence>;
  /** Releases the backend after the suite has closed its instances. */
  close(): Promise<void>;
}

export interface PresenceContractOptions {
  open(): Promise<PresenceBackend>;
}

/** Long enough that nothing expires during a test that does not wait for expiry. */
const TTL_LONG_MS = 60_000;
/** Short enough to wait out; long enough that a loaded event loop still refreshes in time. */
const TTL_SHORT_MS = 300;
const REFRESH_EVERY_MS = 75;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Entries sorted, so that lists compare regardless of the order a backend returns. */
function sorted(entries: readonly PresenceEntry[] | undefined): PresenceEntry[] {
  const key = (e: PresenceEntry): string => JSON.stringify([e.user, e.device, e.node]);
  return [...(entries ?? [])]
    .map((e) => ({ user: e.user, device: e.device, node: e.node }))
    .sort((a, b) => key(a).localeCompare(key(b)));
}

export function runPresenceContract(options: PresenceContractOptions): void {
  describe('Presence contract', () => {
    let backend: PresenceBackend;
    let opened: Presence[];
    /** Unique per test, so that runs on a shared server never see each other's users. */
    let run: string;

    beforeEach(async () => {
      backend = await options.open();
      opened = [];
      run = randomUUID().slice(0, 8);
    });

    afterEach(async () => {
      for (const presence of opened) await presence.close();
      await backend.close();
    });

    async function presence(ttlMs = TTL_LONG_MS): Promise<Presence> {
      const p = await backend.make(ttlMs);
      opened.push(p);
      return p;
    }

    const user = (name: string): string => `${name}-${run}`;
    const entry = (name: string, device: string, node: string): PresenceEntry => ({
      user: user(name),
      device,
      node,
    });

    it('adds, locates and removes an entry', async () => {
      const p = await presence();
      const e = entry('ann', 'phone', 'n1');
      await p.add(e);
      const found = await p.locate([e.user]);
      assert.deepEqual([...found.keys()], [e.user]);
      assert.deepEqual(sorted(found.get(e.user)), [e]);
      await p.remove(e);
      assert.equal((await p.locate([e.user])).size, 0);
    });

    it('lists the same device on two nodes as two entries until each is removed', async () => {
      const p = await presence();
      const onN1 = entry('ann', 'phone', 'n1');
      const onN2 = entry('ann', 'phone', 'n2');
      await p.add(onN1);
      await p.add(onN2);
      assert.deepEqual(sorted((await p.locate([onN1.user])).get(onN1.user)), [onN1, onN2]);
      await p.remove(onN1);
      assert.deepEqual(sorted((await p.locate([onN1.user])).get(onN1.user)), [onN2]);
    });

    it('is shared: what one instance adds, another locates and removes', async () => {
      const [p1, p2] = [await presence(), await presence()];
      const e = entry('ann', 'laptop', 'n1');
      await p1.add(e);
      assert.deepEqual(sorted((await p2.locate([e.user])).get(e.user)), [e]);
      await p2.remove(e);
      assert.equal((await p1.locate([e.user])).size, 0);
    });

    it('locates many users at once and omits those without entries', async () => {
      const p = await presence();
      const entries = [
        entry('ann', 'phone', 'n1'),
        entry('ann', 'laptop', 'n2'),
        entry('bob', 'phone', 'n1'),
        entry('cat', 'tab: 1 ✓', 'n3'),
      ];
      for (const e of entries) await p.add(e);
      const asked = [user('ann'), user('bob'), user('nobody'), user('cat'), user('ann')];
      const found = await p.locate(asked);
      assert.deepEqual([...found.keys()].sort(), [user('ann'), user('bob'), user('cat')].sort());
      assert.deepEqual(sorted(found.get(user('ann'))), sorted(entries.slice(0, 2)));
      assert.deepEqual(sorted(found.get(user('bob'))), [entries[2]]);
      assert.deepEqual(sorted(found.get(user('cat'))), [entries[3]]);
      assert.equal((await p.locate([])).size, 0);
    });

    it('expires an entry that is not refreshed, and never returns it', async () => {
      const p = await presence(TTL_SHORT_MS);
      const e = entry('ann', 'phone', 'n1');
      await p.add(e);
      assert.equal((await p.locate([e.user])).size, 1, 'live right after add');
      await sleep(TTL_SHORT_MS + 100);
      assert.equal((await p.locate([e.user])).size, 0, 'gone after its ttl');
    });

    it('keeps refreshed entries alive and drops only the stale one beside them', async () => {
      const p = await presence(TTL_SHORT_MS);
      const kept = entry('ann', 'phone', 'n1');
      const stale = entry('ann', 'laptop', 'n1');
      await p.add(kept);
      await p.add(stale);
      const until = Date.now() + 3 * TTL_SHORT_MS;
      while (Date.now() < until) {
        await sleep(REFRESH_EVERY_MS);
        await p.refresh([kept]);
      }
      assert.deepEqual(sorted((await p.locate([kept.user])).get(kept.user)), [kept]);
    });

    it('refresh re-adds an entry that expired', async () => {
      const p = await presence(TTL_SHORT_MS);
      const e = entry('ann', 'phone', 'n1');
      await p.add(e);
      await sleep(TTL_SHORT_MS + 100);
      assert.equal((await p.locate([e.user])).size, 0);
      await p.refresh([e]);
      assert.deepEqual(sorted((await p.locate([e.user])).get(e.user)), [e]);
    });

    it('refresh re-adds entries that were lost, for many users at once', async () => {
      const p = await presence();
      const entries = Array.from({ length: 50 }, (_, i) => entry(`u${i}`, `d${i % 3}`, 'n1'));
      await p.refresh(entries);
      const found = await p.locate(entries.map((e) => e.user));
      assert.equal(found.size, entries.length);
      for (const e of entries) assert.deepEqual(sorted(found.get(e.user)), [e]);
    });

    it('is idempotent and never throws for unknown entries', async () => {
      const p = await presence();
      const e = entry('ann', 'phone', 'n1');
      await p.add(e);
      await p.add(e);
      await p.refresh([e, e]);
      assert.deepEqual(sorted((await p.locate([e.user])).get(e.user)), [e]);
      await p.remove(e);
      await p.remove(e);
      await p.remove(entry('nobody', 'phone', 'n1'));
      await p.refresh([]);
      assert.equal((await p.locate([e.user, user('nobody')])).size, 0);
    });
  });
}
