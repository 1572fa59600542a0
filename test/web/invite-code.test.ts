// Proves, in a real browser against a real server, the invite-code round trip of the web client:
// the owner creates a code in the group settings, another user joins with it ("Join with code")
// and lands in the group, which shows how he joined; a code that was replaced no longer works (a
// notice says so and nothing changes), and a revoked one neither.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { describeInBrowser, expectEventually, notice, sidebarAction } from './browser.js';

async function currentCode(page: Page): Promise<string> {
  const field = page.getByLabel('Invite code', { exact: true });
  await expectEventually(
    'a code is shown',
    async () => (await field.inputValue()).length > 0,
    true,
  );
  return field.inputValue();
}

async function joinWith(page: Page, code: string): Promise<void> {
  await sidebarAction(page, 'Join with code');
  await page.getByLabel('Invite code').fill(code);
  await page.getByRole('button', { name: 'Join group' }).click();
}

describeInBrowser('web client: invite codes', (test) => {
  test(
    'an owner hands out a code, a user joins with it, and replaced or revoked codes stop working',
    'invite code',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      await person('carol');
      const dave = await person('dave');

      await sidebarAction(alice.page, 'New group');
      await alice.page.getByLabel('Group name').fill('Book club');
      await alice.page.getByLabel('Members').fill('carol');
      await alice.page.getByRole('button', { name: 'Create group' }).click();
      await alice.page.getByRole('heading', { name: 'Book club', level: 2 }).waitFor();

      await alice.page.getByRole('button', { name: 'Group settings' }).click();
      const field = alice.page.getByLabel('Invite code', { exact: true });
      // The code is read when asked for (decision 0080).
      await alice.page.getByRole('button', { name: 'Show code' }).click();
      await expectEventually(
        'no code yet',
        () => field.getAttribute('placeholder'),
        'No invite code',
      );
      await alice.page.getByRole('button', { name: 'Create code' }).click();
      const first = await currentCode(alice.page);
      await alice.page.getByRole('button', { name: 'New code' }).click();
      await expectEventually(
        'the code is replaced',
        async () => (await field.inputValue()) !== first,
        true,
      );
      const second = await field.inputValue();

      // The replaced code is refused: a notice, and bob is in no group.
      await joinWith(bob.page, first);
      await notice(bob.page, 'No such invite code.').waitFor();
      assert.equal(await bob.page.getByRole('heading', { name: 'Book club' }).count(), 0);

      await bob.page.getByLabel('Invite code').fill(second);
      await bob.page.getByRole('button', { name: 'Join group' }).click();
      await bob.page.getByRole('heading', { name: 'Book club', level: 2 }).waitFor();
      await bob.page.locator('.messages').getByText('bob joined with an invite code').waitFor();
      await alice.page.getByText('3 members').first().waitFor();

      // Revoked: nobody can join with it any more.
      await alice.page.getByRole('button', { name: 'Revoke' }).click();
      await expectEventually(
        'the code is gone',
        () => field.getAttribute('placeholder'),
        'No invite code',
      );
      await joinWith(dave.page, second);
      await notice(dave.page, 'No such invite code.').waitFor();
      assert.equal(await dave.page.getByRole('heading', { name: 'Book club' }).count(), 0);
    },
  );
});
