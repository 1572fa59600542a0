// The PusherStore contract (pusher-store.ts): one pusher per device, replaced by set; targets are
// the pushers of current members who did not mute the conversation and whose device still has a
// session. Every backend runs it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { AuthStores } from '../auth/store/index.js';
import type { MessageStores } from '../messaging/store/index.js';
import type { Pusher, PusherStore } from './pusher-store.js';

export interface PusherStoreBundle {
  pushers: PusherStore;
  auth: AuthStores;
  messages: MessageStores;
  close(): Promise<void>;
}

const URL = 'https://push.example/notify';

export function runPusherStoreContract(opts: { open: () => Promise<PusherStoreBundle> }): void {
  describe('PusherStore contract', () => {
    let b: PusherStoreBundle;
    beforeEach(async () => {
      b = await opts.open();
    });
    afterEach(async () => {
      await b.close();
    });

    /** A user logged in on each device, with a pusher on each. */
    async function user(name: string, devices: string[]): Promise<string> {
      const { id } = await b.auth.users.createUser(name, null);
      for (const device of devices) {
        await b.auth.sessions.putSession(`hash-${name}-${device}`, id, device);
        await b.pushers.set({
          userId: id,
          device,
          url: URL,
          token: `tok-${name}-${device}`,
          createdAtMs: 1,
        });
      }
      return id;
    }

    const key = (p: Pusher) => `${p.userId}/${p.device}/${p.token}`;

    it('keeps one pusher per device: set replaces it, remove says whether there was one', async () => {
      const a = await user('a', ['phone']);
      const pusher: Pusher = { userId: a, device: 'phone', url: URL, token: 'new', createdAtMs: 5 };
      await b.pushers.set(pusher);
      assert.deepEqual(await b.pushers.get(a, 'phone'), pusher);
      assert.equal(await b.pushers.get(a, 'tablet'), null);
      await b.pushers.set({ ...pusher, device: 'tablet', token: null });
      assert.deepEqual(await b.pushers.usersWithPushers(), [a]);
      assert.equal(await b.pushers.remove(a, 'phone'), true);
      assert.equal(await b.pushers.remove(a, 'phone'), false);
      assert.equal(await b.pushers.get(a, 'phone'), null);
      assert.equal((await b.pushers.get(a, 'tablet'))?.token, null);
      const other = await user('other', ['phone']);
      assert.equal(await b.pushers.removeAll(a), 1);
      assert.equal(await b.pushers.removeAll(a), 0);
      assert.deepEqual(await b.pushers.usersWithPushers(), [other], "another user's stay");
    });

    it('targets current members who did not mute the conversation, on devices still logged in', async () => {
      const owner = await user('owner', ['laptop']);
      const c = await user('c', ['phone', 'tablet']);
      const muted = await user('muted', ['phone']);
      const gone = await user('gone', ['phone']);
      const out = await user('out', ['phone', 'old']);
      const stranger = await user('stranger', ['phone']);
      const g = (
        await b.messages.groups.createGroup({
          title: 'g',
          ownerId: owner,
          memberIds: [c, muted, gone, out],
        })
      ).id;
      await b.messages.inbox.setPreferences(g, muted, { notificationsMuted: true }, 10);
      await b.messages.groups.changeGroup(
        {
          conversationId: g,
          actorId: gone,
          device: 'phone',
          action: { type: 'leave' },
          targetIds: [gone],
        },
        () => ({ body: { kind: 'system', event: 'member.left' }, leave: [gone] }),
      );
      await b.auth.sessions.deleteSession(`hash-out-old`);

      const all = [owner, c, muted, gone, out, stranger];
      assert.deepEqual(
        (await b.pushers.targets(g, all)).map(key).sort(),
        [
          `${c}/phone/tok-c-phone`,
          `${c}/tablet/tok-c-tablet`,
          `${out}/phone/tok-out-phone`,
          `${owner}/laptop/tok-owner-laptop`,
        ].sort(),
      );
      assert.deepEqual(
        (await b.pushers.targets(g, [c, c, stranger])).map(key).sort(),
        [`${c}/phone/tok-c-phone`, `${c}/tablet/tok-c-tablet`],
        'only those asked for, each once',
      );
      assert.deepEqual(await b.pushers.targets(g, []), []);
    });
  });
}
