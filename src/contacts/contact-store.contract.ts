// The ContactStore contract suite: proves that a backend reads a pair's two edges, compare-and-sets
// them atomically (exactly one of racing writers wins), answers directBar both ways (blocks and
// deleted accounts), and lists
// contacts, requests and blocks by username with exclusive paging.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { AuthStores } from '../auth/store/index.js';
import type { ContactStore, Edge, Pair } from './contact-store.js';

/** What a backend's test hands to this suite: fresh, empty stores on one database. */
export interface ContactStoreBundle {
  readonly auth: AuthStores;
  readonly contacts: ContactStore;
  close(): Promise<void>;
}

const NONE: Pair = { ab: null, ba: null };
const requested = (note: string | null, sinceMs = 1000): Edge => ({
  state: 'requested',
  note,
  sinceMs,
});
const accepted = (sinceMs = 2000): Edge => ({ state: 'accepted', note: null, sinceMs });
const blocked = (sinceMs = 3000): Edge => ({ state: 'blocked', note: null, sinceMs });

export function runContactStoreContract(opts: { open: () => Promise<ContactStoreBundle> }): void {
  describe('ContactStore contract', () => {
    let b: ContactStoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    async function users(...names: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const name of names) ids.push((await b.auth.users.createUser(name, null)).id);
      return ids;
    }

    describe('pairs', () => {
      it('reads an untouched pair as two absent edges', async () => {
        const [a, c] = await users('alice', 'carol');
        assert.deepEqual(await b.contacts.pair(a!, c!), NONE);
      });

      it('writes both edges and reads them from either side', async () => {
        const [a, c] = await users('alice', 'carol');
        assert.equal(
          await b.contacts.setPair(
            a!,
            c!,
            { ab: null, ba: null },
            {
              ab: requested('hi there'),
              ba: null,
            },
          ),
          true,
        );
        assert.deepEqual(await b.contacts.pair(a!, c!), { ab: requested('hi there'), ba: null });
        assert.deepEqual(await b.contacts.pair(c!, a!), { ab: null, ba: requested('hi there') });

        assert.equal(
          await b.contacts.setPair(
            c!,
            a!,
            { ab: null, ba: 'requested' },
            {
              ab: accepted(),
              ba: accepted(),
            },
          ),
          true,
        );
        assert.deepEqual(await b.contacts.pair(a!, c!), { ab: accepted(), ba: accepted() });
      });

      it('refuses a write whose expected states are stale, and changes nothing', async () => {
        const [a, c] = await users('alice', 'carol');
        await b.contacts.setPair(a!, c!, { ab: null, ba: null }, { ab: requested(null), ba: null });
        const stale = await b.contacts.setPair(
          a!,
          c!,
          { ab: null, ba: null },
          {
            ab: blocked(),
            ba: null,
          },
        );
        assert.equal(stale, false);
        const wrongSide = await b.contacts.setPair(
          a!,
          c!,
          { ab: 'requested', ba: 'requested' },
          NONE,
        );
        assert.equal(wrongSide, false);
        assert.deepEqual(await b.contacts.pair(a!, c!), { ab: requested(null), ba: null });
      });

      it('deletes edges set to null', async () => {
        const [a, c] = await users('alice', 'carol');
        await b.contacts.setPair(
          a!,
          c!,
          { ab: null, ba: null },
          { ab: accepted(), ba: accepted() },
        );
        assert.equal(
          await b.contacts.setPair(a!, c!, { ab: 'accepted', ba: 'accepted' }, NONE),
          true,
        );
        assert.deepEqual(await b.contacts.pair(a!, c!), NONE);
        assert.deepEqual(await b.contacts.list(a!, 'contacts', { limit: 10 }), []);
      });

      it('lets exactly one of 20 concurrent writers with the same expectation win', async () => {
        const [a, c] = await users('alice', 'carol');
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            i % 2 === 0
              ? b.contacts.setPair(
                  a!,
                  c!,
                  { ab: null, ba: null },
                  {
                    ab: requested(`from a ${i}`),
                    ba: null,
                  },
                )
              : b.contacts.setPair(
                  c!,
                  a!,
                  { ab: null, ba: null },
                  {
                    ab: requested(`from c ${i}`),
                    ba: null,
                  },
                ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const pair = await b.contacts.pair(a!, c!);
        assert.equal([pair.ab, pair.ba].filter((e) => e !== null).length, 1, 'one request only');
      });

      it('keeps pairs apart', async () => {
        const [a, c, d] = await users('alice', 'carol', 'dave');
        await b.contacts.setPair(a!, c!, { ab: null, ba: null }, { ab: blocked(), ba: null });
        assert.deepEqual(await b.contacts.pair(a!, d!), NONE);
        assert.deepEqual(await b.contacts.pair(c!, d!), NONE);
      });
    });

    describe('directBar', () => {
      it('is blocked in both directions when one side blocked, and null otherwise', async () => {
        const [a, c, d] = await users('alice', 'carol', 'dave');
        assert.equal(await b.contacts.directBar(a!, c!), null);
        await b.contacts.setPair(a!, c!, { ab: null, ba: null }, { ab: blocked(), ba: null });
        assert.equal(await b.contacts.directBar(a!, c!), 'blocked');
        assert.equal(await b.contacts.directBar(c!, a!), 'blocked');
        assert.equal(await b.contacts.directBar(a!, d!), null);
        await b.contacts.setPair(
          a!,
          d!,
          { ab: null, ba: null },
          { ab: accepted(), ba: accepted() },
        );
        assert.equal(await b.contacts.directBar(a!, d!), null, 'contacts are not blocked');
      });

      it('holds both blocks when both sides blocked, and one after one lifts', async () => {
        const [a, c] = await users('alice', 'carol');
        await b.contacts.setPair(a!, c!, { ab: null, ba: null }, { ab: blocked(), ba: blocked() });
        await b.contacts.setPair(
          a!,
          c!,
          { ab: 'blocked', ba: 'blocked' },
          {
            ab: null,
            ba: blocked(),
          },
        );
        assert.equal(await b.contacts.directBar(a!, c!), 'blocked');
        await b.contacts.setPair(a!, c!, { ab: null, ba: 'blocked' }, NONE);
        assert.equal(await b.contacts.directBar(a!, c!), null);
      });

      it('is deleted, both ways, when either account was deleted; a block says blocked', async () => {
        const [a, c, d] = await users('alice', 'carol', 'dave');
        await b.auth.users.deleteAccount(c!);
        assert.equal(await b.contacts.directBar(a!, c!), 'deleted');
        assert.equal(await b.contacts.directBar(c!, a!), 'deleted');
        assert.equal(await b.contacts.directBar(a!, d!), null);
        await b.contacts.setPair(d!, c!, { ab: null, ba: null }, { ab: blocked(), ba: null });
        assert.equal(await b.contacts.directBar(d!, c!), 'blocked');
      });
    });

    describe('barredAmong', () => {
      it('names the others directBar would bar with the user, in one call', async () => {
        const [me, blocker, blockee, gone, friend, stranger] = await users(
          'me',
          'blocker',
          'blockee',
          'gone',
          'friend',
          'stranger',
        );
        await b.contacts.setPair(
          blocker!,
          me!,
          { ab: null, ba: null },
          { ab: blocked(), ba: null },
        );
        await b.contacts.setPair(
          me!,
          blockee!,
          { ab: null, ba: null },
          { ab: blocked(), ba: null },
        );
        await b.contacts.setPair(
          me!,
          friend!,
          { ab: null, ba: null },
          { ab: accepted(), ba: accepted() },
        );
        // Blocks between two others are not the user's business.
        await b.contacts.setPair(
          friend!,
          stranger!,
          { ab: null, ba: null },
          { ab: blocked(), ba: null },
        );
        await b.auth.users.deleteAccount(gone!);
        const others = [blocker!, blockee!, gone!, friend!, stranger!, blocker!];
        const barred = await b.contacts.barredAmong(me!, others);
        assert.deepEqual([...barred].sort(), [blocker!, blockee!, gone!].sort());
        for (const other of [blocker!, blockee!, gone!, friend!, stranger!]) {
          const one = (await b.contacts.directBar(me!, other)) !== null;
          assert.equal(barred.includes(other), one, `agrees with directBar for ${other}`);
        }
        assert.deepEqual(await b.contacts.barredAmong(me!, []), []);
      });

      it('bars every other when the user itself was deleted', async () => {
        const [me, a, c] = await users('me', 'alice', 'carol');
        await b.auth.users.deleteAccount(me!);
        assert.deepEqual(
          [...(await b.contacts.barredAmong(me!, [a!, c!]))].sort(),
          [a!, c!].sort(),
        );
      });
    });

    describe('lists', () => {
      it('lists each kind from the owner side, by username, with notes on requests', async () => {
        const [me, zed, amy, bob, cat, dan] = await users('me', 'zed', 'amy', 'bob', 'cat', 'dan');
        await b.contacts.setPair(
          me!,
          zed!,
          { ab: null, ba: null },
          { ab: accepted(5), ba: accepted(5) },
        );
        await b.contacts.setPair(
          me!,
          amy!,
          { ab: null, ba: null },
          { ab: accepted(6), ba: accepted(6) },
        );
        await b.contacts.setPair(
          me!,
          bob!,
          { ab: null, ba: null },
          { ab: requested('hi bob', 7), ba: null },
        );
        await b.contacts.setPair(
          cat!,
          me!,
          { ab: null, ba: null },
          { ab: requested('hi me', 8), ba: null },
        );
        await b.contacts.setPair(me!, dan!, { ab: null, ba: null }, { ab: blocked(9), ba: null });

        const names = async (
          user: string,
          kind: 'contacts' | 'incoming' | 'outgoing' | 'blocked',
        ) => (await b.contacts.list(user, kind, { limit: 10 })).map((e) => e.username);
        assert.deepEqual(await names(me!, 'contacts'), ['amy', 'zed']);
        assert.deepEqual(await b.contacts.list(me!, 'outgoing', { limit: 10 }), [
          { userId: bob!, username: 'bob', note: 'hi bob', sinceMs: 7 },
        ]);
        assert.deepEqual(await b.contacts.list(me!, 'incoming', { limit: 10 }), [
          { userId: cat!, username: 'cat', note: 'hi me', sinceMs: 8 },
        ]);
        assert.deepEqual(await names(me!, 'blocked'), ['dan']);
        // The other sides see the mirror image; a block is listed only by the blocker.
        assert.deepEqual(await names(bob!, 'incoming'), ['me']);
        assert.deepEqual(await names(cat!, 'outgoing'), ['me']);
        assert.deepEqual(await names(zed!, 'contacts'), ['me']);
        assert.deepEqual(await names(dan!, 'blocked'), []);
      });

      it('pages by username with an exclusive after', async () => {
        const names = ['a-1', 'a.2', 'a_3', 'a0', 'ab', 'b', 'zz'];
        const [me, ...others] = await users('me', ...names);
        for (const other of others) {
          await b.contacts.setPair(
            me!,
            other,
            { ab: null, ba: null },
            {
              ab: accepted(),
              ba: accepted(),
            },
          );
        }
        const seen: string[] = [];
        let after: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await b.contacts.list(me!, 'contacts', {
            ...(after !== undefined ? { after } : {}),
            limit: 3,
          });
          seen.push(...page.map((e) => e.username));
          if (page.length < 3) break;
          after = page.at(-1)?.username;
        }
        assert.deepEqual(seen, [...names].sort());
      });
    });
  });
}
