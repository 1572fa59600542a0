// Proves, in a real browser against a real server, the web client's notifications: the tab's
// title counts unread messages; a message for a conversation the user is not looking at raises a
// system notification (sender and text) once the user allowed them with "Turn on notifications";
// the open conversation raises none; and "Mute" stops both the notifications and the count for
// that conversation, on the server, so it holds after a reload.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { describeInBrowser, expectEventually, say, startChat, waitOnline } from './browser.js';

/** Records every Notification the page creates (headless Chromium shows none). */
const RECORD_NOTIFICATIONS = `
  (() => {
    const Real = window.Notification;
    const seen = [];
    window.__notifications = seen;
    class Recorded extends Real {
      constructor(title, options) {
        super(title, options);
        seen.push({ title, body: (options && options.body) || '' });
      }
    }
    window.Notification = Recorded;
  })();
`;

const notifications = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { __notifications: { title: string; body: string }[] })
        .__notifications,
  );

describeInBrowser('web client: notifications', (test) => {
  test(
    'title count, system notifications for other conversations, and mute',
    'notifications',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      const carol = await person('carol');

      // Bob allows notifications (the browser grants what the button asks for).
      await bob.context.grantPermissions(['notifications']);
      await bob.page.addInitScript(RECORD_NOTIFICATIONS);
      await bob.page.reload();
      await waitOnline(bob.page);
      assert.equal(
        await bob.page.getByRole('button', { name: 'Turn on notifications' }).count(),
        0,
      );

      await startChat(alice.page, 'bob');
      await say(alice.page, 'lunch at noon?');
      await expectEventually('the title counts it', () => bob.page.title(), '(1) Parley');
      await expectEventually('a notification from alice', () => notifications(bob.page), [
        { title: 'alice', body: 'lunch at noon?' },
      ]);

      // Reading it clears the count; a message in the open conversation notifies nobody.
      await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      await expectEventually('read: no count', () => bob.page.title(), 'Parley');
      await say(alice.page, 'the usual place');
      await bob.page.locator('.messages').getByText('the usual place').waitFor();
      assert.equal((await notifications(bob.page)).length, 1, 'none for the open conversation');

      // Muted (and still muted after a reload): carol's messages are not counted or announced.
      await startChat(carol.page, 'bob');
      await say(carol.page, 'first from carol');
      await expectEventually(
        'carol notifies',
        async () => (await notifications(bob.page)).length,
        2,
      );
      await bob.page.locator('.conversation', { hasText: 'carol' }).getByRole('link').click();
      await bob.page.getByRole('button', { name: 'Mute', exact: true }).click();
      await bob.page.getByRole('button', { name: 'Unmute', exact: true }).waitFor();
      await bob.page.reload();
      await waitOnline(bob.page);
      await bob.page.getByRole('button', { name: 'Unmute', exact: true }).waitFor();
      await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      await say(carol.page, 'muted one');
      await say(alice.page, 'see you');
      await bob.page.locator('.messages').getByText('see you').waitFor();
      await expectEventually('only muted unread, so no count', () => bob.page.title(), 'Parley');
      assert.deepEqual(
        await notifications(bob.page),
        [],
        'the reload reset the record; none since',
      );
      assert.equal(await carol.page.title(), 'Parley');
    },
  );
});
