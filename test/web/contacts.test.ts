// Proves, in a real browser against a real server, the contacts dialog: a request (with its note)
// reaches the other user live, with a notice; accepting it lists each user as the other's
// contact on both pages; a blocked contact cannot message (the send fails with the server's
// reason) and appears under Blocked until unblocked; "Message" opens the direct chat; and one
// action reloads the lists once.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { describeInBrowser, expectEventually, notice, say, sidebarAction } from './browser.js';

/** Opens the contacts dialog; the dialog. */
async function openContacts(page: Page): Promise<Locator> {
  await sidebarAction(page, 'Contacts');
  const dialog = page.getByRole('dialog', { name: 'Contacts' });
  await dialog.waitFor();
  return dialog;
}

/** The usernames listed under one heading of the dialog. */
async function listed(dialog: Locator, heading: string): Promise<string[]> {
  const section = dialog.locator('section').filter({
    has: dialog.page().getByRole('heading', { name: new RegExp(`^${heading} \\(`) }),
  });
  const names = await section.locator('.member-name').allTextContents();
  return names.map((n) => n.replace(/\s*“.*”$/, '').trim());
}

describeInBrowser('web client: contacts', (test) => {
  test('request, accept, message, block and unblock', 'contacts', async ({ person }) => {
    const carl = await person('carl');
    const dana = await person('dana');
    carl.page.on('dialog', (d) => void d.accept());

    const carlContacts = await openContacts(carl.page);
    await carlContacts.getByLabel('Add a contact').fill('dana');
    await carlContacts.getByLabel('Note (optional)').fill('we met at the crag');
    await carlContacts.getByRole('button', { name: 'Send request' }).click();
    await expectEventually(
      'carl’s request is listed',
      () => listed(carlContacts, 'Requests you sent'),
      ['dana'],
    );

    // Dana hears of it live, and sees the note.
    await notice(dana.page, 'carl sent you a contact request.').waitFor();
    const danaContacts = await openContacts(dana.page);
    await expectEventually(
      'the request reaches dana',
      () => listed(danaContacts, 'Requests to you'),
      ['carl'],
    );
    await danaContacts.getByText('“we met at the crag”').waitFor();
    await danaContacts.getByRole('button', { name: 'Accept carl' }).click();
    await expectEventually('dana’s contacts', () => listed(danaContacts, 'Your contacts'), [
      'carl',
    ]);
    await expectEventually(
      'carl’s open dialog follows the push',
      () => listed(carlContacts, 'Your contacts'),
      ['dana'],
    );
    assert.deepEqual(await listed(carlContacts, 'Requests you sent'), []);

    // "Message" opens the direct chat.
    await danaContacts.getByRole('button', { name: 'Message carl' }).click();
    await dana.page.getByRole('heading', { name: 'carl', level: 2 }).waitFor();

    // Carl blocks Dana: she is listed as blocked, and her message is refused with the reason.
    await carlContacts.getByRole('button', { name: 'Block dana' }).click();
    await expectEventually('dana is blocked', () => listed(carlContacts, 'Blocked'), ['dana']);
    assert.deepEqual(await listed(carlContacts, 'Your contacts'), []);
    await say(dana.page, 'hello?');
    await notice(dana.page, 'One of you has blocked the other').waitFor();

    // One action reloads the lists once, though its answer and its push both ask for it.
    const reloads: string[] = [];
    carl.page.on('request', (r) => {
      if (r.method() === 'GET' && /\/v1\/contacts\/blocked/.test(r.url())) reloads.push(r.url());
    });
    await carlContacts.getByRole('button', { name: 'Unblock dana' }).click();
    await expectEventually('nobody is blocked', () => listed(carlContacts, 'Blocked'), []);
    await carl.page.waitForTimeout(500);
    assert.equal(reloads.length, 1, `the blocked list was read ${reloads.length} times`);
  });
});
