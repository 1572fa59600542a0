// Proves, in a real browser against a real server, forwarding from the web client: a message
// forwarded from one chat to another arrives there once, marked "Forwarded", for the forwarder
// and the other member alike, and the chat it came from is unchanged.
import assert from 'node:assert/strict';
import {
  describeInBrowser,
  expectEventually,
  messageBubble,
  messageTexts,
  say,
  startChat,
} from './browser.js';

describeInBrowser('web client: forwarding', (test) => {
  test(
    'a message forwarded to another chat arrives there once, marked as forwarded',
    'forward',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      const carol = await person('carol');

      await startChat(alice.page, 'carol');
      await say(alice.page, 'hi carol');
      await startChat(bob.page, 'alice');
      await say(bob.page, 'meet at 7 by the fountain');

      await alice.page.locator('.conversation', { hasText: 'bob' }).getByRole('link').click();
      const original = messageBubble(alice.page, 'meet at 7 by the fountain');
      await original.waitFor();
      await original.getByRole('button', { name: 'Message actions' }).click();
      await original.getByRole('button', { name: 'Forward', exact: true }).click();
      const dialog = alice.page.getByRole('dialog', { name: 'Forward to' });
      await dialog.getByRole('button', { name: 'carol', exact: true }).click();

      // The forwarder lands in the target chat and sees it there, marked.
      await alice.page.getByRole('heading', { name: 'carol', level: 2 }).waitFor();
      const sent = messageBubble(alice.page, 'meet at 7 by the fountain');
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
      await messageBubble(carol.page, 'meet at 7 by the fountain').locator('.forwarded').waitFor();

      // The chat it came from is as it was.
      assert.deepEqual(await messageTexts(bob.page), ['meet at 7 by the fountain']);
      assert.equal(
        await messageBubble(bob.page, 'meet at 7 by the fountain').locator('.forwarded').count(),
        0,
      );
    },
  );
});
