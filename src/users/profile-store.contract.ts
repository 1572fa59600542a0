// The ProfileStore contract suite: proves that a backend reads profiles by id and username,
// applies partial updates, and searches usernames by prefix in byte order with exclusive paging.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { AuthStores } from '../auth/store/index.js';
import type { ProfileStore } from './profile-store.js';

/** What a backend's test hands to this suite: fresh, empty stores on one database. */
export interface ProfileStoreBundle {
  readonly auth: AuthStores;
  readonly profiles: ProfileStore;
  close(): Promise<void>;
}

export function runProfileStoreContract(opts: { open: () => Promise<ProfileStoreBundle> }): void {
  describe('ProfileStore contract', () => {
    let b: ProfileStoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    it('gives every user an empty profile until it is edited', async () => {
      const alice = await b.auth.users.createUser('alice', null);
      const empty = {
        userId: alice.id,
        username: 'alice',
        displayName: null,
        bio: null,
        avatar: null,
        updatedAtMs: null,
      };
      assert.deepEqual(await b.profiles.get(alice.id), empty);
      assert.deepEqual(await b.profiles.getByUsername('alice'), empty);
      assert.equal(await b.profiles.get('u-nobody'), null);
      assert.equal(await b.profiles.getByUsername('nobody'), null);
    });

    it('sets the fields present, clears nulls, and keeps the others', async () => {
      const alice = await b.auth.users.createUser('alice', null);
      const first = await b.profiles.update(alice.id, { displayName: 'Alice', bio: 'hello' });
      assert.equal(first?.displayName, 'Alice');
      assert.equal(first?.bio, 'hello');
      assert.equal(first?.avatar, null);
      assert.equal(typeof first?.updatedAtMs, 'number');

      const second = await b.profiles.update(alice.id, { avatar: 'att-1', bio: null });
      assert.deepEqual(
        { ...second, updatedAtMs: 0 },
        {
          userId: alice.id,
          username: 'alice',
          displayName: 'Alice',
          bio: null,
          avatar: 'att-1',
          updatedAtMs: 0,
        },
      );
      assert.deepEqual(await b.profiles.get(alice.id), second);
      const same = await b.profiles.update(alice.id, {});
      assert.equal(same?.displayName, 'Alice');
    });

    it('knows no profile of a deleted account, by id, by name or in search', async () => {
      const alice = await b.auth.users.createUser('alice', null);
      const alina = await b.auth.users.createUser('alina', null);
      await b.profiles.update(alice.id, { displayName: 'Alice', bio: 'about me' });
      await b.auth.users.deleteAccount(alice.id);
      assert.equal(await b.profiles.get(alice.id), null);
      assert.equal(await b.profiles.getByUsername('alice'), null);
      assert.deepEqual(
        (await b.profiles.search('ali', { limit: 10 })).map((p) => p.username),
        ['alina'],
      );
      assert.equal((await b.profiles.get(alina.id))?.username, 'alina');
    });

    it('returns null when updating an unknown user, and creates nothing', async () => {
      assert.equal(await b.profiles.update('u-nobody', { displayName: 'x' }), null);
      assert.equal(await b.profiles.get('u-nobody'), null);
    });

    it('finds usernames by prefix, in byte order, paged with an exclusive after', async () => {
      const names = ['al', 'al-x', 'al.b', 'al_c', 'al0', 'alb', 'alz', 'am', 'ak', 'b-al'];
      for (const name of names) await b.auth.users.createUser(name, null);
      const all = await b.profiles.search('al', { limit: 50 });
      assert.deepEqual(
        all.map((p) => p.username),
        ['al', 'al-x', 'al.b', 'al0', 'al_c', 'alb', 'alz'],
      );
      const first = await b.profiles.search('al', { limit: 3 });
      assert.deepEqual(
        first.map((p) => p.username),
        ['al', 'al-x', 'al.b'],
      );
      const next = await b.profiles.search('al', { after: 'al.b', limit: 3 });
      assert.deepEqual(
        next.map((p) => p.username),
        ['al0', 'al_c', 'alb'],
      );
      assert.deepEqual(await b.profiles.search('zz', { limit: 5 }), []);
      assert.deepEqual(
        (await b.profiles.search('al-', { limit: 5 })).map((p) => p.username),
        ['al-x'],
      );
    });

    it('carries the profile fields in search results', async () => {
      const alice = await b.auth.users.createUser('alice', null);
      await b.profiles.update(alice.id, { displayName: 'Alice A.' });
      const [found] = await b.profiles.search('ali', { limit: 1 });
      assert.equal(found?.userId, alice.id);
      assert.equal(found?.displayName, 'Alice A.');
    });
  });
}
