// The AttachmentStore contract (attachment-store.ts), run by every storage backend.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AuthStores } from '../auth/store/index.js';
import { newId } from '../core/ids.js';
import type { MessageStores } from '../messaging/store/index.js';
import type { Attachment, AttachmentStore } from './attachment-store.js';

export interface AttachmentStoreBundle {
  readonly auth: AuthStores;
  readonly messages: MessageStores;
  readonly attachments: AttachmentStore;
  close(): Promise<void>;
}

export function runAttachmentStoreContract(open: () => Promise<AttachmentStoreBundle>): void {
  async function withStores(work: (s: AttachmentStoreBundle) => Promise<void>): Promise<void> {
    const stores = await open();
    try {
      await work(stores);
    } finally {
      await stores.close();
    }
  }

  async function user(s: AttachmentStoreBundle, name: string): Promise<string> {
    return (await s.auth.users.createUser(name, null)).id;
  }

  const attachment = (ownerId: string, over: Partial<Attachment> = {}): Attachment => ({
    id: newId('a'),
    ownerId,
    sha256: 'ab'.repeat(32),
    size: 12_345_678_901,
    mime: 'image/png',
    name: 'été.png',
    createdAtMs: 1_700_000_000_123,
    ...over,
  });

  it('stores and reads back an attachment, several per blob', () =>
    withStores(async (s) => {
      const owner = await user(s, 'owner');
      const a = attachment(owner);
      const b = attachment(owner, { name: null, mime: 'text/plain; charset=utf-8' });
      await s.attachments.insert(a);
      await s.attachments.insert(b);
      assert.deepEqual(await s.attachments.get(a.id), a);
      assert.deepEqual(await s.attachments.get(b.id), b);
      assert.equal(await s.attachments.get('a-missing'), null);
    }));

  it('records uses once each and pages them by conversation id', () =>
    withStores(async (s) => {
      const owner = await user(s, 'owner');
      const a = attachment(owner);
      await s.attachments.insert(a);
      const ids: string[] = [];
      for (const title of ['one', 'two', 'three']) {
        ids.push(
          (await s.messages.groups.createGroup({ title, ownerId: owner, memberIds: [] })).id,
        );
      }
      const usedAt = new Map(ids.map((id, i) => [id, 1_795_453_428_105_000 + i]));
      for (const id of ids)
        assert.equal(await s.attachments.addUse(a.id, id, usedAt.get(id)!), true);
      // Recording it again keeps the first time.
      assert.equal(await s.attachments.addUse(a.id, ids[0] ?? '', 9e15), false);
      const sorted = [...ids]
        .sort()
        .map((id) => ({ conversationId: id, usedAtUs: usedAt.get(id) }));
      assert.deepEqual(await s.attachments.listUses(a.id, { limit: 10 }), sorted);
      const first = await s.attachments.listUses(a.id, { limit: 2 });
      assert.deepEqual(first, sorted.slice(0, 2));
      assert.deepEqual(
        await s.attachments.listUses(a.id, { limit: 2, after: first.at(-1)?.conversationId ?? '' }),
        sorted.slice(2),
      );
      assert.deepEqual(await s.attachments.listUses('a-missing', { limit: 10 }), []);
    }));
}
