// The AdminStore contract suite: proves that account changes made by the operator's command line
// take effect on the server's own auth stores at once (old tokens stop working, a disabled account
// authenticates nothing), and that stats and migrations report the store as it is.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ParleyError } from '../core/errors.js';
import type { AuthStores } from '../auth/index.js';
import type { MessageStores } from '../messaging/store/index.js';
import type { AdminStore } from './store/index.js';
import type { PusherStore } from '../push/pusher-store.js';

export interface AdminStoreBundle {
  readonly admin: AdminStore;
  /** The server's stores on the same database. */
  readonly auth: AuthStores;
  readonly messages: MessageStores;
  readonly pushers: PusherStore;
  close(): Promise<void>;
}

const tokenHash = () => createHash('sha256').update(randomBytes(32)).digest('hex');

export function runAdminStoreContract(opts: { open: () => Promise<AdminStoreBundle> }): void {
  describe('AdminStore contract', () => {
    let b: AdminStoreBundle;
    beforeEach(async () => {
      b = await opts.open();
    });
    afterEach(async () => {
      await b.close();
    });

    it('adds a user the server can find, and refuses a taken name without changing it', async () => {
      const user = await b.admin.addUser('alice', 'hash-1');
      const found = await b.auth.users.findUserByUsername('alice');
      assert.equal(found?.id, user.id);
      assert.equal(found?.passwordHash, 'hash-1');
      assert.equal(found?.disabledAtMs, null);
      await assert.rejects(
        b.admin.addUser('alice', 'hash-2'),
        (err: unknown) => err instanceof ParleyError && err.code === 'username_taken',
      );
      assert.equal((await b.auth.users.findUserByUsername('alice'))?.passwordHash, 'hash-1');
    });

    it('disabling revokes every session, marks the user, and keeps new sessions dead', async () => {
      const user = await b.admin.addUser('bob', 'hash');
      const [laptop, phone] = [tokenHash(), tokenHash()];
      await b.auth.sessions.putSession(laptop, user.id, 'laptop');
      await b.auth.sessions.putSession(phone, user.id, 'phone');
      assert.ok(await b.auth.sessions.findSession(laptop));

      const change = await b.admin.disable('bob');
      assert.equal(change?.user.id, user.id);
      assert.deepEqual([...(change?.revokedDevices ?? [])].sort(), ['laptop', 'phone']);
      assert.equal(await b.auth.sessions.findSession(laptop), null);
      assert.equal(await b.auth.sessions.findSession(phone), null);
      const disabledAt = (await b.auth.users.findUserByUsername('bob'))?.disabledAtMs;
      assert.equal(typeof disabledAt, 'number');

      // A session written after the disable (a login that raced it) authenticates nothing.
      const late = tokenHash();
      await b.auth.sessions.putSession(late, user.id, 'tablet');
      assert.equal(await b.auth.sessions.findSession(late), null);

      // Disabling again keeps the first time.
      await b.admin.disable('bob');
      assert.equal((await b.auth.users.findUserByUsername('bob'))?.disabledAtMs, disabledAt);

      const enabled = await b.admin.enable('bob');
      assert.deepEqual(enabled?.revokedDevices, []);
      assert.equal((await b.auth.users.findUserByUsername('bob'))?.disabledAtMs, null);
      const fresh = tokenHash();
      await b.auth.sessions.putSession(fresh, user.id, 'tablet');
      assert.equal((await b.auth.sessions.findSession(fresh))?.userId, user.id);
    });

    it('treats a deleted account as unknown: it cannot be revived', async () => {
      const user = await b.admin.addUser('dora', 'hash');
      await b.auth.users.deleteAccount(user.id);
      assert.equal(await b.admin.setPassword('dora', 'new-hash'), null);
      assert.equal(await b.admin.enable('dora'), null);
      assert.equal(await b.admin.disable('dora'), null);
      const found = await b.auth.users.findUserByUsername('dora');
      assert.equal(found?.passwordHash, null);
      assert.equal(typeof found?.disabledAtMs, 'number');
    });

    it('a new password revokes the old sessions and device keys', async () => {
      const user = await b.admin.addUser('carol', 'old');
      const token = tokenHash();
      await b.auth.sessions.putSession(token, user.id, 'laptop');
      await b.auth.loginSources.rememberLogin(
        { userId: user.id, device: 'laptop', deviceKeyHash: 'key', addressHash: null, nowMs: 1 },
        { addressesMax: 10, devicesMax: 10, forgetBeforeMs: 0 },
      );
      assert.equal(await b.auth.loginSources.isKnownDevice(user.id, 'laptop', 'key', 0), true);
      const change = await b.admin.setPassword('carol', 'new');
      assert.deepEqual(change?.revokedDevices, ['laptop']);
      assert.equal(await b.auth.sessions.findSession(token), null);
      assert.equal(await b.auth.loginSources.isKnownDevice(user.id, 'laptop', 'key', 0), false);
      assert.equal((await b.auth.users.findUserByUsername('carol'))?.passwordHash, 'new');
    });

    it('an unknown username changes nothing and answers null', async () => {
      assert.equal(await b.admin.disable('nobody'), null);
      assert.equal(await b.admin.enable('nobody'), null);
      assert.equal(await b.admin.setPassword('nobody', 'x'), null);
      assert.equal((await b.admin.stats()).users, 0);
    });

    it('counts what the store holds', async () => {
      const empty = await b.admin.stats();
      assert.deepEqual(empty, {
        users: 0,
        disabledUsers: 0,
        sessions: 0,
        conversations: { direct: 0, group: 0, room: 0 },
        messages: 0,
        attachments: 0,
        attachmentBytes: 0,
        deletedUsers: 0,
        pushers: 0,
      });
      const a = await b.admin.addUser('dan', 'h');
      const c = await b.admin.addUser('eve', 'h');
      await b.auth.sessions.putSession(tokenHash(), a.id, 'laptop');
      const { conversation } = await b.messages.conversations.openDirect(a.id, c.id);
      await b.messages.conversations.joinRoom('lobby', a.id);
      const results = await b.messages.log.append(
        ['one', 'two', 'three'].map((text, i) => ({
          conversationId: conversation.id,
          senderId: a.id,
          device: 'laptop',
          ref: `r-${i}`,
          body: { kind: 'text', text },
        })),
      );
      assert.ok(results.every((r) => r.ok));
      await b.admin.disable('eve');
      const fay = await b.admin.addUser('fay', 'h');
      await b.auth.users.deleteAccount(fay.id);
      await b.pushers.set({
        userId: a.id,
        device: 'laptop',
        url: 'https://p/x',
        token: null,
        createdAtMs: 1,
      });
      assert.deepEqual(await b.admin.stats(), {
        users: 3,
        disabledUsers: 2,
        sessions: 1,
        conversations: { direct: 1, group: 0, room: 1 },
        messages: 3,
        attachments: 0,
        attachmentBytes: 0,
        deletedUsers: 1,
        pushers: 1,
      });
    });

    it('lists the applied migrations in order, the account one included', async () => {
      const applied = await b.admin.migrations();
      const versions = applied.map((m) => m.version);
      assert.deepEqual(
        versions,
        [...versions].sort((x, y) => x - y),
      );
      assert.equal(versions[0], 1);
      assert.ok(applied.some((m) => m.name === 'account disabling'));
    });
  });
}
