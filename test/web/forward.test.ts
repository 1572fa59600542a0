// Proves, in a real browser against a real server, forwarding from the web client: a message
// forwarded from one chat to another arrives there once, marked "Forwarded", for the forwarder
// and the other member alike, and the chat it came from is unchanged.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { describeInBrowser, expectEventually, messageTexts, registerPerson } from './browser.js';

function message(page: Page, text: string): Locator {
  return page
    .locator('.messages > li.message')
    .filter({ has: page.locator('.bubble > p.text').getByText(text, { exact: true }) });
}

async function startChat(page: Page, username: string): Promise<void> {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('heading', { name: username, level: 2 }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

describeInBrowser('web client: forwarding', (test) => {
  test(
    'a message forwarded to another chat arrives there once, marked as forwarded',
    'forward',
    async ({ server, browser, pages }) => {
      const alice = await registerPerson(browser, server.url, 'alice');
      pages.alice = alice.page;
      const bob = await registerPerson(browser, server.url, 'bob');
      pages.bob = bob.page;
      const carol = await registerPerson(browser, server.url, 'carol');
      pages.carol = carol.page;

      await startChat(alice.page, 'carol');
      await say(alice.page, 'hi carol');
      await startChat(bob.page, 'alice');
      await say(bob.page, 'meet at 7 by the fountain');

      await alice.page.locator('.conversation', { hasText: 'bob' }).getByRole('link').click();
      const original = message(alice.page, 'meet at 7 by the fountain');
      await original.waitFor();
      await original.getByRole('button', { name: 'Message actions' }).click();
      await original.getByRole('button', { name: 'Forward', exact: true }).click();
      const dialog = alice.page.getByRole('dialog', { name: 'Forward to' });
      await dialog.getByRole('button', { name: 'carol', exact: true }).click();

      // The forwarder lands in the target chat and sees it there, marked.
      await alice.page.getByRole('heading', { name: 'carol', level: 2 }).waitFor();
      const sent = message(alice.page, 'meet at 7 by the fountain');
      await sent.locator('.forwarded').waitFor();
      await expectEventually('alice sees it once in carol’s chat', () => messageTexts(alice.page), [
        'hi carol',
        'meet at 7 by the fountain',
      ]);

      await carol.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      await expectEventually('carol gets it once', () => messageTexts(carol.page), [
        'hi carol',
        'meet at 7 by the fountain',
      ]);
      await message(carol.page, 'meet at 7 by the fountain').locator('.forwarded').waitFor();

      // The chat it came from is as it was.
      assert.deepEqual(await messageTexts(bob.page), ['meet at 7 by the fountain']);
      assert.equal(
        await message(bob.page, 'meet at 7 by the fountain').locator('.forwarded').count(),
        0,
      );
    },
  );
});
