// Proves, in a real browser against a real server, message search: typing words lists the
// matching messages of every conversation, newest first, with the matched words marked; picking
// an old one opens its conversation at it (loading the older pages that hold it), in view and
// marked; and the search can be kept to the open conversation.
import assert from 'node:assert/strict';
import { ParleyApi } from '../../src/sdk/index.js';
import { describeInBrowser, expectEventually, messageTexts } from './browser.js';

const PASSWORD = 'correct horse battery';
const COUNT = 80;

describeInBrowser('web client: search', (test) => {
  test('finds messages and opens a conversation at one', 'search', async ({ server, person }) => {
    const reader = await person('reader', { viewport: { width: 900, height: 700 } });
    const writer = new ParleyApi({ url: server.url });
    await writer.register({ username: 'writer', password: PASSWORD });
    const chat = await writer.conversations.openDirect('reader');
    // The match is the third message of eighty: far above the first page the chat opens on.
    for (let i = 1; i <= COUNT; i++) {
      const text = i === 3 ? 'the secret handshake is blue' : `filler ${i}`;
      await writer.messages.send(chat.id, `s-${i}`, { kind: 'text', text });
    }
    const group = await writer.groups.create({ title: 'Whales', members: ['reader'] });
    await writer.messages.send(group.id, 'g-1', { kind: 'text', text: 'a blue whale passed by' });

    const page = reader.page;
    await page.locator('.conversation', { hasText: 'Whales' }).waitFor();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByLabel('Words to find').fill('BLU');
    const found = dialog.getByRole('list', { name: 'Messages found' }).locator('.found-message');
    /** Each result as "where: sender: text". */
    const listed = () =>
      found.evaluateAll((els) =>
        els.map(
          (el) =>
            `${el.querySelector('.found-where')?.textContent}: ${el.querySelector('.found-text')?.textContent}`,
        ),
      );
    await expectEventually('both matches, newest first', listed, [
      'Whales: writer: a blue whale passed by',
      'writer: writer: the secret handshake is blue',
    ]);

    // The matched words are marked: whole words that start with what was typed.
    assert.deepEqual(await found.nth(0).locator('mark').allTextContents(), ['blue']);

    await found.nth(1).click();
    await page.getByRole('heading', { name: 'writer', level: 2 }).waitFor();
    const item = page.locator('.messages > li.message.found');
    await item.waitFor();
    assert.equal(
      await item.locator('.text').textContent(),
      'the secret handshake is blue',
      'the result is marked',
    );
    assert.ok(await item.isVisible());
    const inView = await item.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const t = el.closest('.timeline')!.getBoundingClientRect();
      return r.top >= t.top && r.bottom <= t.bottom;
    });
    assert.ok(inView, 'scrolled into the timeline’s view');
    const texts = await messageTexts(page);
    assert.ok(texts.includes('filler 1') || texts.includes('filler 4'), 'older pages were loaded');
    assert.deepEqual(
      texts.slice(texts.indexOf('the secret handshake is blue') - 1).slice(0, 3),
      ['filler 2', 'the secret handshake is blue', 'filler 4'],
      'in order around it',
    );

    // Kept to the open conversation, the group's match is left out.
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await dialog.getByLabel('Only in writer').check();
    await dialog.getByLabel('Words to find').fill('blue');
    await expectEventually('only the direct chat’s match', listed, [
      'writer: writer: the secret handshake is blue',
    ]);
    await dialog.getByLabel('Words to find').fill('nothing like this');
    await dialog.getByText('No messages found.').waitFor();
  });
});
