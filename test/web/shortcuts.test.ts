// Proves, in a real browser, the web client's keyboard shortcuts (docs/web-client.md): Ctrl+K
// (Cmd+K on a Mac) opens the search, Escape closes it, and Alt+↑ / Alt+↓ open the conversation
// above or below the open one in the list, from anywhere, the message box included.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { describeInBrowser, startChat } from './browser.js';

function openTitle(page: Page): Promise<string | null> {
  return page.locator('#chat-title').textContent();
}

describeInBrowser('web client: keyboard shortcuts', (test) => {
  test('Ctrl+K searches; Alt+↑ and Alt+↓ switch chats', 'shortcuts', async ({ person }) => {
    await person('ola');
    await person('pia');
    const nia = await person('nia');
    const page = nia.page;
    await startChat(page, 'ola');
    await startChat(page, 'pia');
    // The list: pia (newest) above ola.
    const rows = page.locator('.conversation .conversation-title');
    assert.deepEqual(await rows.allTextContents(), ['pia', 'ola']);

    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.press('Control+k');
    const search = page.getByRole('dialog', { name: 'Search messages' });
    await search.waitFor();
    await page.keyboard.press('Escape');
    await search.waitFor({ state: 'detached' });

    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByRole('heading', { name: 'ola', level: 2 }).waitFor();
    await page.keyboard.press('Alt+ArrowDown');
    await page.waitForTimeout(300);
    assert.equal(await openTitle(page), 'ola', 'the last chat stays open at the bottom');
    await page.keyboard.press('Alt+ArrowUp');
    await page.getByRole('heading', { name: 'pia', level: 2 }).waitFor();
  });
});
