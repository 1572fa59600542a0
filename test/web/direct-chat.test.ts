// Proves, in a real browser against a real server, that two people who register in the web client
// can start a direct chat and exchange messages live, with each other's presence from the first
// moment, the typing indicator and the delivered and read ticks.
import assert from 'node:assert/strict';
import {
  describeInBrowser,
  expectEventually,
  messageTexts,
  ownMessage,
  registerPerson,
  type Person,
  sidebarAction,
} from './browser.js';

describeInBrowser('web client: a direct chat', (test) => {
  test(
    'two people chat live, see each other typing, and see delivered then read',
    'direct chat',
    async ({ server, browser, pages }) => {
      const alice: Person = await registerPerson(browser, server.url, 'alice');
      pages.alice = alice.page;
      const bob: Person = await registerPerson(browser, server.url, 'bob');
      pages.bob = bob.page;

      // Alice starts the chat by username; the chat view opens on it.
      await sidebarAction(alice.page, 'New chat');
      await alice.page.getByLabel('Username').fill('bob');
      await alice.page.getByRole('button', { name: 'Start chat' }).click();
      await alice.page.getByRole('heading', { name: 'bob', level: 2 }).waitFor();
      // Bob is online (his page is open): the new chat shows it without a reload.
      await alice.page.locator('.chat-sub.presence.online').waitFor();

      // Enter sends.
      const box = alice.page.getByLabel('Message', { exact: true });
      await box.fill('Hello Bob!');
      await box.press('Enter');
      await expectEventually('alice sees her message', () => messageTexts(alice.page), [
        'Hello Bob!',
      ]);
      assert.equal(await box.inputValue(), '', 'the box is emptied after sending');

      // Bob's list gets the new conversation live, with one unread message and its preview.
      const row = bob.page.locator('.conversation', { hasText: 'alice' });
      await row.waitFor();
      await expectEventually(
        'bob’s row: unread count and preview',
        async () => [
          await row.locator('[data-testid=unread]').textContent(),
          await row.locator('.conversation-preview').textContent(),
        ],
        ['1', 'Hello Bob!'],
      );

      // Bob's client acknowledged the push on arrival: Alice sees "delivered", not yet "read".
      await ownMessage(alice.page, 'Hello Bob!').locator('[data-tick=delivered]').waitFor();

      // Bob opens the conversation: the message is there and Alice's tick turns to "read".
      await row.getByRole('link').click();
      await expectEventually('bob sees the message', () => messageTexts(bob.page), ['Hello Bob!']);
      await ownMessage(alice.page, 'Hello Bob!').locator('[data-tick=read]').waitFor();
      await row.locator('[data-testid=unread]').waitFor({ state: 'detached' });

      // Bob types: Alice sees the typing line, without Bob sending anything.
      const bobBox = bob.page.getByLabel('Message', { exact: true });
      await bobBox.pressSequentially('Hi Al', { delay: 20 });
      await alice.page.getByTestId('typing').getByText('bob is typing…').waitFor();

      // Bob sends; it arrives live on Alice's page, after hers.
      await bobBox.pressSequentially('ice, good to see you');
      await bobBox.press('Enter');
      await expectEventually('alice gets bob’s reply live', () => messageTexts(alice.page), [
        'Hello Bob!',
        'Hi Alice, good to see you',
      ]);
      // Alice has the conversation open, so she read it: Bob's tick turns to "read" too.
      await ownMessage(bob.page, 'Hi Alice, good to see you').locator('[data-tick=read]').waitFor();
      // The typing line clears once Bob's message arrived.
      await alice.page
        .getByTestId('typing')
        .getByText('bob is typing…')
        .waitFor({ state: 'detached' });
      assert.deepEqual(await messageTexts(bob.page), ['Hello Bob!', 'Hi Alice, good to see you']);
    },
  );
});
