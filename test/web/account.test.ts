// Proves, in a real browser against a real server, the account dialog: it lists the browsers
// logged in to the account, marking this one; logging the other one out sends that page back to
// the login screen; a wrong current password is refused with a notice and changes nothing; and a
// changed password logs the other browser out, which then needs the new password; "Download my
// data" saves the account's export as a JSON file; and deleting
// the account (after a wrong password is refused) returns to the login screen for good, and the
// other side of its direct chat is told at once, keeping the history but no composer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  describeInBrowser,
  expectEventually,
  messageTexts,
  notice,
  say,
  startChat,
  waitOnline,
  sidebarAction,
} from './browser.js';

const PASSWORD = 'correct horse battery';
const ENDED = 'Your session ended. Please log in again.';

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describeInBrowser('web client: account', (test) => {
  test('devices and password', 'account', async ({ server, browser, person, pages }) => {
    const kai = await person('kai');
    const other = await browser.newContext({ baseURL: server.url });
    try {
      const laptop = await other.newPage();
      pages.laptop = laptop;
      await laptop.goto('/');
      await logIn(laptop, 'kai', PASSWORD);
      await waitOnline(laptop);

      const page = kai.page;
      page.on('dialog', (d) => void d.accept());
      await sidebarAction(page, 'Account');
      const dialog = page.getByRole('dialog', { name: 'Your account' });
      const rows = dialog.locator('li.member');
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2);
      assert.equal(await rows.filter({ hasText: '(this browser)' }).count(), 1);
      const otherRow = rows.filter({ hasNotText: '(this browser)' });
      await otherRow.getByRole('button', { name: /^Log out / }).click();
      await laptop.getByText(ENDED).waitFor();
      await notice(page, 'is logged out.').waitFor();
      await dialog.locator('li.member').filter({ hasNotText: '(this browser)' }).waitFor({
        state: 'detached',
      });
      assert.equal(await dialog.locator('li.member').count(), 1);

      // Back on the laptop; then a wrong current password changes nothing.
      await logIn(laptop, 'kai', PASSWORD);
      await waitOnline(laptop);
      await dialog.getByLabel('Current password').fill('not my password');
      await dialog.getByLabel('New password', { exact: true }).fill('a new horse battery');
      await dialog.getByLabel('New password again').fill('a new horse battery');
      await dialog.getByRole('button', { name: 'Change password' }).click();
      await notice(page, 'The current password is wrong.').waitFor();
      await waitOnline(laptop);

      await dialog.getByLabel('Current password').fill(PASSWORD);
      await dialog.getByRole('button', { name: 'Change password' }).click();
      await notice(page, 'Password changed.').waitFor();
      await laptop.getByText(ENDED).waitFor();
      await waitOnline(page);

      await logIn(laptop, 'kai', PASSWORD);
      await laptop.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();
      await logIn(laptop, 'kai', 'a new horse battery');
      await waitOnline(laptop);
    } finally {
      await other.close();
    }
  });

  test('downloading my data', 'account export', async ({ person }) => {
    const rex = await person('rex');
    const page = rex.page;
    await sidebarAction(page, 'Account');
    const dialog = page.getByRole('dialog', { name: 'Your account' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Download my data' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'parley-export-rex.json');
    const file = await download.path();
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      format: string;
      account: { username: string };
      devices: unknown[];
    };
    assert.equal(data.format, 'parley-export-1');
    assert.equal(data.account.username, 'rex');
    assert.equal(data.devices.length, 1);
  });

  test('deleting the account', 'account delete', async ({ person }) => {
    const lia = await person('lia');
    const mo = await person('mo');
    const page = lia.page;
    await startChat(page, 'mo');
    await say(page, 'one last thing');
    await mo.page.locator('.conversation', { hasText: 'lia' }).getByRole('link').click();
    await expectEventually('mo reads it', () => messageTexts(mo.page), ['one last thing']);
    page.on('dialog', (d) => void d.accept());
    await sidebarAction(page, 'Account');
    const dialog = page.getByRole('dialog', { name: 'Your account' });
    const password = dialog.getByLabel('Password', { exact: true });
    await password.fill('not my password');
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await notice(page, 'The current password is wrong.').waitFor();
    await waitOnline(page);

    await password.fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByText('Your account was deleted.').waitFor();
    await logIn(page, 'lia', PASSWORD);
    await page.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();

    // Mo's open chat says so at once (the push), and again after a reload; the history stays.
    const gone = mo.page.getByText('lia deleted their account. The history stays readable.');
    await gone.waitFor();
    assert.equal(await mo.page.getByLabel('Message', { exact: true }).count(), 0, 'no composer');
    await mo.page.reload();
    await gone.waitFor();
    await expectEventually('the history', () => messageTexts(mo.page), ['one last thing']);
  });
});
