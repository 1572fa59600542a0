// The AuthStores contract suite: proves that a backend keeps usernames unique under concurrency,
// creates users idempotently, keeps at most one live session per (user, device), lists and ends
// device sessions, changes a password together with ending the other sessions, and remembers
// login sources (addresses, device keys) per user, bounded, aged and forgettable.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ParleyError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { StoreBundle } from '../messaging/store/index.contract.js';
import type { User } from './store/index.js';

function tokenHash(): string {
  return createHash('sha256').update(randomBytes(32)).digest('hex');
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => err instanceof ParleyError && err.code === code;
}

function byName(users: readonly User[]): string[] {
  return users.map((u) => u.username).sort();
}

export function runAuthStoreContract(opts: { open: () => Promise<StoreBundle> }): void {
  describe('AuthStores contract', () => {
    let b: StoreBundle;

    beforeEach(async () => {
      b = await opts.open();
    });

    afterEach(async () => {
      await b.close();
    });

    describe('users', () => {
      it('creates a user with an id and its username', async () => {
        const user = await b.auth.users.createUser('alice', null);
        assert.equal(typeof user.id, 'string');
        assert.ok(user.id.length > 0);
        assert.equal(user.username, 'alice');
        assert.equal(typeof user.createdAtMs, 'number');
        const other = await b.auth.users.createUser('bob', null);
        assert.notEqual(other.id, user.id);
      });

      it('rejects a taken username with username_taken and changes nothing', async () => {
        const original = await b.auth.users.createUser('alice', 'hash-1');
        await assert.rejects(b.auth.users.createUser('alice', 'hash-2'), isCode('username_taken'));

        assert.equal((await b.auth.users.findUsersByUsernames(['alice'])).length, 1);
        const found = await b.auth.users.findUserByUsername('alice');
        assert.equal(found?.id, original.id);
        assert.equal(found?.passwordHash, 'hash-1');
      });

      it('lets exactly one of concurrent createUser calls for one name succeed', async () => {
        const settled = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => b.auth.users.createUser('carol', `hash-${i}`)),
        );
        const won = settled.filter((s) => s.status === 'fulfilled');
        const lost = settled.filter((s) => s.status === 'rejected');
        assert.equal(won.length, 1);
        for (const s of lost) assert.ok(isCode('username_taken')(s.reason), String(s.reason));

        const found = await b.auth.users.findUsersByUsernames(['carol']);
        assert.equal(found.length, 1);
        assert.equal(found[0]?.id, won[0]?.value.id);
      });

      it('finds a user by username with its password hash', async () => {
        const withPassword = await b.auth.users.createUser(
          'alice',
          '$argon2id$v=19$m=19456,t=2,p=1$x$y',
        );
        await b.auth.users.createUser('bob', null);

        const alice = await b.auth.users.findUserByUsername('alice');
        assert.equal(alice?.id, withPassword.id);
        assert.equal(alice?.username, 'alice');
        assert.equal(alice?.passwordHash, '$argon2id$v=19$m=19456,t=2,p=1$x$y');
        assert.equal((await b.auth.users.findUserByUsername('bob'))?.passwordHash, null);
        assert.equal(await b.auth.users.findUserByUsername('nobody'), null);
      });

      it('finds by usernames and by ids only the users that exist', async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        await b.auth.users.createUser('carol', null);

        const byNames = await b.auth.users.findUsersByUsernames(['bob', 'nobody', 'alice']);
        assert.deepEqual(byName(byNames), ['alice', 'bob']);
        const byIds = await b.auth.users.getUsers([bob.id, 'u-no-such-user', alice.id]);
        assert.deepEqual(byName(byIds), ['alice', 'bob']);
        assert.deepEqual(byIds.map((u) => u.id).sort(), [alice.id, bob.id].sort());
        assert.deepEqual(await b.auth.users.findUsersByUsernames([]), []);
        assert.deepEqual(await b.auth.users.getUsers([]), []);
      });
    });

    describe('ensureUsers', () => {
      it('creates the missing users without password and returns all in the order asked', async () => {
        const existing = await b.auth.users.createUser('bob', 'hash-bob');
        const users = await b.auth.users.ensureUsers(['zed', 'bob', 'amy']);
        assert.deepEqual(
          users.map((u) => u.username),
          ['zed', 'bob', 'amy'],
        );
        assert.equal(users[1]?.id, existing.id);

        assert.equal((await b.auth.users.findUserByUsername('zed'))?.passwordHash, null);
        assert.equal((await b.auth.users.findUserByUsername('amy'))?.passwordHash, null);
        assert.equal((await b.auth.users.findUserByUsername('bob'))?.passwordHash, 'hash-bob');
      });

      it('is idempotent', async () => {
        const first = await b.auth.users.ensureUsers(['amy', 'zed']);
        const second = await b.auth.users.ensureUsers(['zed', 'amy']);
        assert.deepEqual(
          second.map((u) => u.id),
          [first[1]?.id, first[0]?.id],
        );
        assert.equal((await b.auth.users.findUsersByUsernames(['amy', 'zed'])).length, 2);
      });

      it('never fails when called concurrently for the same names', async () => {
        const names = ['p', 'q', 'r', 's'];
        const calls = Array.from({ length: 20 }, (_, i) =>
          b.auth.users.ensureUsers(i % 2 ? names : [...names].reverse()),
        );
        const results = await Promise.all(calls);

        const idOf = new Map<string, string>();
        for (const users of results) {
          assert.equal(users.length, names.length);
          for (const u of users) {
            const seen = idOf.get(u.username);
            if (seen === undefined) idOf.set(u.username, u.id);
            else assert.equal(u.id, seen, `one id for ${u.username}`);
          }
        }
        const stored = await b.auth.users.findUsersByUsernames(names);
        assert.deepEqual(byName(stored), names);
        for (const u of stored) assert.equal(u.id, idOf.get(u.username));
      });
    });

    describe('sessions', () => {
      it('finds a stored session by its token hash', async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const hash = tokenHash();
        await b.auth.sessions.putSession(hash, alice.id, 'phone');

        const session = await b.auth.sessions.findSession(hash);
        assert.ok(session);
        assert.equal(session.userId, alice.id);
        assert.equal(session.username, 'alice');
        assert.equal(session.device, 'phone');
        assert.equal(typeof session.createdAtMs, 'number');
        assert.equal(await b.auth.sessions.findSession(tokenHash()), null);
      });

      it('replaces the session of the same (user, device) and keeps the others', async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        const [oldPhone, laptop, bobPhone, newPhone] = [
          tokenHash(),
          tokenHash(),
          tokenHash(),
          tokenHash(),
        ];
        await b.auth.sessions.putSession(oldPhone, alice.id, 'phone');
        await b.auth.sessions.putSession(laptop, alice.id, 'laptop');
        await b.auth.sessions.putSession(bobPhone, bob.id, 'phone');
        await b.auth.sessions.putSession(newPhone, alice.id, 'phone');

        assert.equal(await b.auth.sessions.findSession(oldPhone), null, 'old token stops working');
        assert.equal((await b.auth.sessions.findSession(newPhone))?.device, 'phone');
        assert.equal((await b.auth.sessions.findSession(laptop))?.userId, alice.id);
        assert.equal((await b.auth.sessions.findSession(bobPhone))?.userId, bob.id);
      });

      it('deletes a session, reporting whether one was removed', async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const hash = tokenHash();
        const other = tokenHash();
        await b.auth.sessions.putSession(hash, alice.id, 'phone');
        await b.auth.sessions.putSession(other, alice.id, 'laptop');

        assert.equal(await b.auth.sessions.deleteSession(hash), true);
        assert.equal(await b.auth.sessions.findSession(hash), null);
        assert.equal(await b.auth.sessions.deleteSession(hash), false);
        assert.equal(await b.auth.sessions.deleteSession(tokenHash()), false);
        assert.equal((await b.auth.sessions.findSession(other))?.device, 'laptop');
      });

      it("lists a user's device sessions, newest first, and ends one device's", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        const [phone, laptop, bobPhone] = [tokenHash(), tokenHash(), tokenHash()];
        await b.auth.sessions.putSession(phone, alice.id, 'phone');
        await new Promise((r) => setTimeout(r, 5));
        await b.auth.sessions.putSession(laptop, alice.id, 'laptop');
        await b.auth.sessions.putSession(bobPhone, bob.id, 'phone');

        const listed = await b.auth.sessions.listSessions(alice.id);
        assert.deepEqual(
          listed.map((s) => s.device),
          ['laptop', 'phone'],
        );
        assert.ok(listed.every((s) => typeof s.createdAtMs === 'number' && s.createdAtMs > 0));
        assert.deepEqual(await b.auth.sessions.listSessions('u-nobody'), []);

        assert.equal(await b.auth.sessions.deleteDeviceSession(alice.id, 'phone'), true);
        assert.equal(
          await b.auth.sessions.findSession(phone),
          null,
          "the phone's token stops working",
        );
        assert.equal(await b.auth.sessions.deleteDeviceSession(alice.id, 'phone'), false);
        assert.equal(
          (await b.auth.sessions.findSession(bobPhone))?.userId,
          bob.id,
          "bob's phone stays",
        );
        assert.deepEqual(
          (await b.auth.sessions.listSessions(alice.id)).map((s) => s.device),
          ['laptop'],
        );
      });

      it("records when a device's session was last seen, never moving it back", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const [phone, laptop] = [tokenHash(), tokenHash()];
        await b.auth.sessions.putSession(phone, alice.id, 'phone');
        await b.auth.sessions.putSession(laptop, alice.id, 'laptop');
        const created = (await b.auth.sessions.findSession(phone))!;
        assert.equal(created.lastSeenMs, created.createdAtMs, 'seen when it was created');

        const later = created.createdAtMs + 60_000;
        await b.auth.sessions.touchSession(alice.id, 'phone', later);
        assert.equal((await b.auth.sessions.findSession(phone))?.lastSeenMs, later);
        await b.auth.sessions.touchSession(alice.id, 'phone', later - 1_000);
        assert.equal((await b.auth.sessions.findSession(phone))?.lastSeenMs, later, 'never back');
        const listed = await b.auth.sessions.listSessions(alice.id);
        assert.deepEqual(
          listed.map((s) => [s.device, s.lastSeenMs]),
          [
            ['laptop', (await b.auth.sessions.findSession(laptop))!.createdAtMs],
            ['phone', later],
          ],
        );
        await b.auth.sessions.touchSession(alice.id, 'tablet', later);
        await b.auth.sessions.touchSession('u-nobody', 'phone', later);
        assert.equal(
          (await b.auth.sessions.listSessions(alice.id)).length,
          2,
          'no session appears',
        );
      });

      it('sets a new password and ends every other session of the user in one step', async () => {
        const alice = await b.auth.users.createUser('alice', 'old-hash');
        const bob = await b.auth.users.createUser('bob', 'bob-hash');
        const [phone, laptop, tablet, bobPhone] = [
          tokenHash(),
          tokenHash(),
          tokenHash(),
          tokenHash(),
        ];
        await b.auth.sessions.putSession(phone, alice.id, 'phone');
        await b.auth.sessions.putSession(laptop, alice.id, 'laptop');
        await b.auth.sessions.putSession(tablet, alice.id, 'tablet');
        await b.auth.sessions.putSession(bobPhone, bob.id, 'phone');

        const ended = await b.auth.users.setPassword(alice.id, 'new-hash', 'laptop');
        assert.deepEqual([...ended].sort(), ['phone', 'tablet']);
        assert.equal((await b.auth.users.findUserByUsername('alice'))?.passwordHash, 'new-hash');
        assert.equal(
          (await b.auth.sessions.findSession(laptop))?.device,
          'laptop',
          'the kept device',
        );
        assert.equal(await b.auth.sessions.findSession(phone), null);
        assert.equal(await b.auth.sessions.findSession(tablet), null);
        assert.equal((await b.auth.sessions.findSession(bobPhone))?.userId, bob.id);
        assert.equal((await b.auth.users.findUserByUsername('bob'))?.passwordHash, 'bob-hash');

        assert.deepEqual(await b.auth.users.setPassword('u-nobody', 'x', 'laptop'), []);
      });

      it('deletes an account: every session ends, no password, the username stays taken', async () => {
        const alice = await b.auth.users.createUser('alice', 'hash');
        const bob = await b.auth.users.createUser('bob', 'hash');
        const [phone, laptop, bobPhone] = [tokenHash(), tokenHash(), tokenHash()];
        await b.auth.sessions.putSession(phone, alice.id, 'phone');
        await b.auth.sessions.putSession(laptop, alice.id, 'laptop');
        await b.auth.sessions.putSession(bobPhone, bob.id, 'phone');

        assert.deepEqual([...(await b.auth.users.deleteAccount(alice.id))].sort(), [
          'laptop',
          'phone',
        ]);
        assert.equal(await b.auth.sessions.findSession(phone), null);
        assert.equal(await b.auth.sessions.findSession(laptop), null);
        assert.deepEqual(await b.auth.sessions.listSessions(alice.id), []);
        const found = await b.auth.users.findUserByUsername('alice');
        assert.equal(found?.passwordHash, null);
        assert.equal(typeof found?.disabledAtMs, 'number');
        await assert.rejects(b.auth.users.createUser('alice', 'x'), isCode('username_taken'));
        assert.equal((await b.auth.sessions.findSession(bobPhone))?.userId, bob.id, "bob's stays");
        assert.equal((await b.auth.users.findUserByUsername('bob'))?.passwordHash, 'hash');

        assert.deepEqual(await b.auth.users.deleteAccount(alice.id), [], 'again: nothing more');
        assert.deepEqual(await b.auth.users.deleteAccount('u-nobody'), []);
      });
    });

    describe('login sources', () => {
      const BOUNDS = { addressesMax: 3, devicesMax: 2, forgetBeforeMs: 0 };
      const remember = (
        userId: string,
        device: string,
        addressHash: string | null,
        nowMs: number,
      ) =>
        b.auth.loginSources.rememberLogin(
          { userId, device, deviceKeyHash: `key-${device}-${nowMs}`, addressHash, nowMs },
          BOUNDS,
        );

      it("knows a user's remembered address and device key, and only that user's", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        await remember(alice.id, 'phone', 'addr-home', 1_000);

        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-home', 0), true);
        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-cafe', 0), false);
        assert.equal(
          await b.auth.loginSources.isKnownAddress(bob.id, 'addr-home', 0),
          false,
          'per user',
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'key-phone-1000', 0),
          true,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'a-guessed-key', 0),
          false,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'laptop', 'key-phone-1000', 0),
          false,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(bob.id, 'phone', 'key-phone-1000', 0),
          false,
        );
      });

      it("replaces a device's key, and ages both out by their last use", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        await remember(alice.id, 'phone', 'addr-home', 1_000);
        await remember(alice.id, 'phone', null, 2_000);

        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'key-phone-1000', 0),
          false,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'key-phone-2000', 0),
          true,
        );
        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-home', 1_000), true);
        assert.equal(
          await b.auth.loginSources.isKnownAddress(alice.id, 'addr-home', 1_001),
          false,
          'too old',
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'key-phone-2000', 2_001),
          false,
        );
      });

      it("keeps the user's most recently used addresses and keys, up to the bounds", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        await remember(bob.id, 'bob-phone', 'addr-bob', 500);
        for (const [i, addr] of ['addr-1', 'addr-2', 'addr-3', 'addr-4'].entries()) {
          await remember(alice.id, `dev-${i}`, addr, 1_000 + i);
        }
        await remember(alice.id, 'dev-0', 'addr-1', 2_000); // used again: the newest

        const known = async (addr: string) => b.auth.loginSources.isKnownAddress(alice.id, addr, 0);
        assert.deepEqual(
          await Promise.all(['addr-1', 'addr-2', 'addr-3', 'addr-4'].map(known)),
          [true, false, true, true],
          'three addresses kept: the oldest use dropped',
        );
        const device = (i: number, at: number) =>
          b.auth.loginSources.isKnownDevice(alice.id, `dev-${i}`, `key-dev-${i}-${at}`, 0);
        assert.deepEqual(
          [
            await device(0, 2_000),
            await device(1, 1_001),
            await device(2, 1_002),
            await device(3, 1_003),
          ],
          [true, false, false, true],
          'two device keys kept',
        );
        assert.equal(
          await b.auth.loginSources.isKnownAddress(bob.id, 'addr-bob', 0),
          true,
          "bob's stay",
        );
      });

      it('forgets the sources of any user last used before forgetBeforeMs', async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        await remember(bob.id, 'bob-phone', 'addr-bob', 1_000);
        await b.auth.loginSources.rememberLogin(
          {
            userId: alice.id,
            device: 'phone',
            deviceKeyHash: 'key-alice',
            addressHash: 'addr-alice',
            nowMs: 5_000,
          },
          { ...BOUNDS, forgetBeforeMs: 2_000 },
        );
        assert.equal(await b.auth.loginSources.isKnownAddress(bob.id, 'addr-bob', 0), false);
        assert.equal(
          await b.auth.loginSources.isKnownDevice(bob.id, 'bob-phone', 'key-bob-phone-1000', 0),
          false,
        );
        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-alice', 0), true);
      });

      it("forgets a device's key, all keys but one device's, and every source of a user", async () => {
        const alice = await b.auth.users.createUser('alice', null);
        const bob = await b.auth.users.createUser('bob', null);
        await remember(alice.id, 'phone', 'addr-home', 1_000);
        await remember(alice.id, 'laptop', 'addr-work', 1_001);
        await remember(bob.id, 'phone', 'addr-home', 1_002);

        await b.auth.loginSources.forgetDeviceKeys(alice.id, { device: 'phone' });
        await b.auth.loginSources.forgetDeviceKeys(alice.id, { device: 'tablet' });
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'phone', 'key-phone-1000', 0),
          false,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'laptop', 'key-laptop-1001', 0),
          true,
        );
        assert.equal(
          await b.auth.loginSources.isKnownAddress(alice.id, 'addr-home', 0),
          true,
          'addresses stay',
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(bob.id, 'phone', 'key-phone-1002', 0),
          true,
        );

        await remember(alice.id, 'tablet', null, 1_003);
        await b.auth.loginSources.forgetDeviceKeys(alice.id, { allBut: 'tablet' });
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'laptop', 'key-laptop-1001', 0),
          false,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'tablet', 'key-tablet-1003', 0),
          true,
        );
        assert.equal(
          await b.auth.loginSources.isKnownDevice(bob.id, 'phone', 'key-phone-1002', 0),
          true,
        );

        await b.auth.loginSources.forgetLoginSources(alice.id);
        await b.auth.loginSources.forgetLoginSources('u-nobody');
        assert.equal(
          await b.auth.loginSources.isKnownDevice(alice.id, 'tablet', 'key-tablet-1003', 0),
          false,
        );
        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-home', 0), false);
        assert.equal(await b.auth.loginSources.isKnownAddress(alice.id, 'addr-work', 0), false);
        assert.equal(
          await b.auth.loginSources.isKnownAddress(bob.id, 'addr-home', 0),
          true,
          "bob's stay",
        );
      });
    });
  });
}
