// Proves, in a real browser against a real server, the group rules of the web client's group
// settings: "the whole history" lets a member added later read what was said before him; a muted
// member's send is refused with a notice and stored for nobody; "only admins may send" stops the
// others; and the owner hands ownership to another member (after a confirmation), becoming an
// admin.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  describeInBrowser,
  expectEventually,
  messageTexts,
  notice,
  say,
  sidebarAction,
} from './browser.js';

async function openGroup(page: Page, title: string): Promise<void> {
  await page.locator('.conversation', { hasText: title }).getByRole('link').click();
  await page.getByRole('heading', { name: title, level: 2 }).waitFor();
}

describeInBrowser('web client: group rules', (test) => {
  test(
    'history for new members, member mutes, admins-only sending and ownership transfer',
    'group rules',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      const dave = await person('dave');
      alice.page.on('dialog', (d) => void d.accept());

      await sidebarAction(alice.page, 'New group');
      await alice.page.getByLabel('Group name').fill('Rules');
      await alice.page.getByLabel('Members').fill('bob');
      await alice.page.getByRole('button', { name: 'Create group' }).click();
      await alice.page.getByRole('heading', { name: 'Rules', level: 2 }).waitFor();
      await say(alice.page, 'said before dave came');

      // The whole history for new members, then dave is added and reads the earlier message.
      await alice.page.getByRole('button', { name: 'Group settings' }).click();
      await alice.page.getByLabel('New members see').selectOption('full');
      await expectEventually(
        'the setting holds',
        () => alice.page.getByLabel('New members see').inputValue(),
        'full',
      );
      await alice.page.getByLabel('Add members').fill('dave');
      await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
      await openGroup(dave.page, 'Rules');
      await expectEventually('dave reads the history', () => messageTexts(dave.page), [
        'said before dave came',
      ]);

      // Bob is muted: his send is refused with a notice, and nobody gets it.
      await alice.page.getByRole('button', { name: 'Mute bob' }).click();
      await alice.page.getByRole('button', { name: 'Unmute bob' }).waitFor();
      await openGroup(bob.page, 'Rules');
      await say(bob.page, 'can anyone hear me');
      await notice(bob.page, 'You are muted in this conversation.').waitFor();
      await alice.page.getByRole('button', { name: 'Unmute bob' }).click();
      await alice.page.getByRole('button', { name: 'Mute bob' }).waitFor();

      // Only admins may send: dave (a member) is refused, alice (the owner) is not.
      await alice.page.getByLabel('Only admins may send').check();
      await expectEventually(
        'the group is muted',
        () => alice.page.getByLabel('Only admins may send').isChecked(),
        true,
      );
      await say(dave.page, 'dave speaking');
      await notice(dave.page, 'The group is muted').waitFor();
      await alice.page.getByLabel('Only admins may send').uncheck();

      // Ownership goes to bob; alice becomes an admin.
      const bobRow = alice.page.locator('.member', { hasText: 'bob' });
      await bobRow.getByRole('button', { name: 'Make owner' }).click();
      await bobRow.locator('.role-owner').waitFor();
      await alice.page.locator('.member', { hasText: 'alice' }).locator('.role-admin').waitFor();

      await alice.page.getByRole('button', { name: 'Close' }).click();
      await say(alice.page, 'all settled');
      await expectEventually(
        'everyone reads the same, without the refused sends',
        () => messageTexts(dave.page),
        ['said before dave came', 'all settled'],
      );
      assert.deepEqual(await messageTexts(bob.page), ['said before dave came', 'all settled']);
    },
  );
});
