// The SearchStore contract suite (search.ts): what a search finds, for whom, in which order, and
// that paging returns every match once. Every backend runs it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { searchWords } from './search-text.js';
import type { MessageBody, StoredMessage } from '../model.js';
import type { SearchQuery } from './index.js';
import { isCode, suiteName, text, type ContractOptions, type StoreBundle } from './kit.contract.js';

export function runSearchStoreContract(opts: ContractOptions): void {
  describe(suiteName('SearchStore', opts), () => {
    let b: StoreBundle;
    let refs = 0;

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

    async function send(conv: string, sender: string, body: MessageBody): Promise<StoredMessage> {
      const [r] = await b.messages.log.append([
        { conversationId: conv, senderId: sender, device: 'd1', ref: `r${++refs}`, body },
      ]);
      assert.ok(r?.ok, 'append ok');
      return r.message;
    }

    /** One page of a search by `viewer` for `q`. */
    function search(
      viewer: string,
      q: string,
      more: Partial<Omit<SearchQuery, 'viewerId' | 'words'>> = {},
    ) {
      return b.messages.search.searchMessages({
        viewerId: viewer,
        words: searchWords(q),
        limit: 50,
        ...more,
      });
    }

    /** The texts a search finds, in the order it returns them. */
    async function found(viewer: string, q: string, conversationId?: string): Promise<string[]> {
      const page = await search(viewer, q, conversationId ? { conversationId } : {});
      assert.equal(page.next, null, 'one page holds these few');
      return page.messages.map((m) =>
        String(m.body.text ?? m.body.caption ?? m.body.name ?? m.body.label),
      );
    }

    it('finds messages holding every word, in any case, the last word also as a prefix, newest first', async () => {
      const [a, c] = await users('a', 'c');
      const { conversation } = await b.messages.conversations.openDirect(a!, c!);
      const conv = conversation.id;
      await send(conv, a!, text('Lunch at noon?'));
      await send(conv, c!, text('The meeting moved to Friday'));
      await send(conv, a!, text('MEETING notes attached'));
      await send(conv, c!, text('meet me at the door'));
      await send(conv, c!, text('a meteor shower tonight'));

      assert.deepEqual(await found(a!, 'meeting', conv), [
        'MEETING notes attached',
        'The meeting moved to Friday',
      ]);
      assert.deepEqual(await found(c!, 'Meet', conv), [
        'meet me at the door',
        'MEETING notes attached',
        'The meeting moved to Friday',
      ]);
      assert.deepEqual(await found(a!, 'friday, meeting!', conv), ['The meeting moved to Friday']);
      assert.deepEqual(await found(a!, 'lunch friday', conv), [], 'every word must occur');
      assert.deepEqual(await found(a!, 'me', conv), [
        'a meteor shower tonight',
        'meet me at the door',
        'MEETING notes attached',
        'The meeting moved to Friday',
      ]);
      // Only the last word is a prefix, and a one-character word matches whole words only.
      assert.deepEqual(await found(a!, 'meet door', conv), ['meet me at the door']);
      assert.deepEqual(await found(a!, 'mee door', conv), []);
      assert.deepEqual(await found(a!, 'a', conv), ['a meteor shower tonight']);
      const [m] = (await search(a!, 'noon', { conversationId: conv })).messages;
      assert.equal(m?.seq, 1);
      assert.equal(m?.senderId, a);
      assert.equal(m?.conversationId, conv);
    });

    it('looks in captions, file names and place labels, not in system messages or custom payloads', async () => {
      const [a, c] = await users('a', 'c');
      const g = (
        await b.messages.groups.createGroup({ title: 'sunset club', ownerId: a!, memberIds: [c!] })
      ).id;
      await send(g, a!, {
        kind: 'image',
        attachment: 'aImage0000000001',
        caption: 'Sunset at the beach',
      });
      await send(g, a!, { kind: 'file', attachment: 'aFile00000000001', name: 'budget-2027.xlsx' });
      await send(g, c!, { kind: 'location', lat: 1, lng: 2, label: 'Central Station' });
      await send(g, c!, { kind: 'custom', type: 'poll', payload: { text: 'sunset or sunrise' } });

      assert.deepEqual(await found(c!, 'sunset', g), ['Sunset at the beach']);
      assert.deepEqual(await found(c!, 'budget 2027', g), ['budget-2027.xlsx']);
      assert.deepEqual(await found(a!, 'station', g), ['Central Station']);
      assert.deepEqual(await found(a!, 'club'), [], 'the group title is not a message');
      assert.deepEqual(await found(a!, 'poll'), []);
    });

    it('keeps each viewer to its window: a later member, a former member, a stranger', async () => {
      const [a, c, d, e] = await users('a', 'c', 'd', 'e');
      const g = (
        await b.messages.groups.createGroup({
          title: 'g',
          ownerId: a!,
          memberIds: [c!],
          history: 'join',
        })
      ).id;
      const plan = (p: object) => () => ({ body: { kind: 'system', event: 'member.added' }, ...p });
      const change = (actorId: string, p: object, targetIds: string[]) =>
        b.messages.groups.changeGroup(
          { conversationId: g, actorId, device: 'd1', action: { type: 'dismiss' }, targetIds },
          plan(p),
        );
      await send(g, a!, text('alpha one'));
      await change(a!, { join: [d!] }, [d!]);
      await send(g, a!, text('alpha two'));
      await change(a!, { leave: [c!] }, [c!]);
      await send(g, a!, text('alpha three'));
      const { conversation: direct } = await b.messages.conversations.openDirect(c!, e!);
      await send(direct.id, e!, text('alpha elsewhere'));

      assert.deepEqual(await found(a!, 'alpha', g), ['alpha three', 'alpha two', 'alpha one']);
      assert.deepEqual(await found(d!, 'alpha', g), ['alpha three', 'alpha two'], 'from its join');
      assert.deepEqual(
        await found(c!, 'alpha', g),
        ['alpha two', 'alpha one'],
        'up to its leaving',
      );
      assert.deepEqual(await found(c!, 'alpha'), ['alpha elsewhere', 'alpha two', 'alpha one']);
      assert.deepEqual(await found(e!, 'alpha'), ['alpha elsewhere'], 'only its conversations');
      await assert.rejects(search(e!, 'alpha', { conversationId: g }), isCode('not_member'));
      await assert.rejects(
        search(e!, 'alpha', { conversationId: 'cNoSuchConversation' }),
        isCode('conversation_not_found'),
      );
    });

    it('leaves out recalled messages and those the viewer hid, and finds an edited one by its new text', async () => {
      const [a, c] = await users('a', 'c');
      const g = (await b.messages.groups.createGroup({ title: 'g', ownerId: a!, memberIds: [c!] }))
        .id;
      const first = await send(g, a!, text('plan one'));
      const secret = await send(g, a!, text('secret plan'));
      const hidden = await send(g, a!, text('plan to hide'));
      const draft = await send(g, a!, text('draft plan'));
      await send(g, a!, text('plan last'));

      await b.messages.log.recall(g, secret.seq);
      await b.messages.log.recall(g, secret.seq);
      await b.messages.actions.hideMessage(g, hidden.seq, c!);
      await b.messages.actions.editMessage(g, draft.seq, a!, () => text('final version'));
      await b.messages.actions.editMessage(g, first.seq, a!, () => text('plan one, edited'));

      assert.deepEqual(await found(c!, 'plan', g), ['plan last', 'plan one, edited']);
      assert.deepEqual(await found(a!, 'plan', g), [
        'plan last',
        'plan to hide',
        'plan one, edited',
      ]);
      assert.deepEqual(await found(a!, 'draft'), []);
      assert.deepEqual(await found(a!, 'final version'), ['final version']);
      assert.deepEqual(await found(a!, 'secret'), []);
    });

    it('pages with next through every match once, newest first in each conversation', async () => {
      const [a, c] = await users('a', 'c');
      const { conversation } = await b.messages.conversations.openDirect(a!, c!);
      const direct = conversation.id;
      const g = (await b.messages.groups.createGroup({ title: 'g', ownerId: a!, memberIds: [c!] }))
        .id;
      for (let i = 1; i <= 25; i++) {
        await send(direct, i % 2 ? a! : c!, text(`item ${i}`));
        if (i % 5 === 0) await send(g, c!, text(`item g${i}`));
        if (i % 3 === 0) await send(direct, a!, text(`other ${i}`));
      }

      const pages: StoredMessage[][] = [];
      let before: string | undefined;
      do {
        const page = await search(a!, 'item', {
          conversationId: direct,
          limit: 10,
          ...(before ? { before } : {}),
        });
        pages.push(page.messages);
        before = page.next ?? undefined;
      } while (before && pages.length < 10);
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      );
      const texts = pages.flat().map((m) => m.body.text);
      assert.deepEqual(
        texts,
        Array.from({ length: 25 }, (_, i) => `item ${25 - i}`),
      );

      const all: StoredMessage[] = [];
      before = undefined;
      for (let n = 0; n < 20; n++) {
        const page = await search(c!, 'item', { limit: 7, ...(before ? { before } : {}) });
        assert.ok(page.messages.length <= 7);
        all.push(...page.messages);
        if (page.next === null) break;
        before = page.next;
      }
      assert.equal(all.length, 30, 'every match of both conversations');
      assert.equal(new Set(all.map((m) => `${m.conversationId}/${m.seq}`)).size, 30, 'each once');
      for (const conv of [direct, g]) {
        const seqs = all.filter((m) => m.conversationId === conv).map((m) => m.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => y - x),
          'newest first',
        );
      }

      await assert.rejects(search(a!, 'item', { before: 'garbage' }), isCode('invalid_cursor'));
      await assert.rejects(
        search(a!, 'item', { conversationId: direct, before: '-1' }),
        isCode('invalid_cursor'),
      );
    });
  });
}
