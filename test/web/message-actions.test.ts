// Proves, in a real browser against a real server, the actions on single messages: a reply
// quotes its message, a reaction, an edit and a recall show on both pages live, and "delete for
// me" removes a message from one page only. The actions menu is driven from the keyboard.
import assert from 'node:assert/strict';
import {
  describeInBrowser,
  expectEventually,
  messageAction,
  messageBubble,
  messageTexts,
  startChat,
} from './browser.js';

describeInBrowser('web client: message actions', (test) => {
  test('reply, react, edit, recall and delete for me', 'message actions', async ({ person }) => {
    const alice = await person('alice');
    const bob = await person('bob');
    await startChat(alice.page, 'bob');
    const aliceBox = alice.page.getByLabel('Message', { exact: true });
    await aliceBox.fill('first draft');
    await aliceBox.press('Enter');
    await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
    await expectEventually('bob sees it', () => messageTexts(bob.page), ['first draft']);

    // Reply: the composer says what it answers, and the reply quotes it on both pages.
    await messageAction(bob.page, 'first draft', 'Reply');
    await bob.page.getByText('Replying to alice').waitFor();
    const bobBox = bob.page.getByLabel('Message', { exact: true });
    await bobBox.fill('a reply');
    await bobBox.press('Enter');
    for (const page of [alice.page, bob.page]) {
      const reply = messageBubble(page, 'a reply');
      await reply.waitFor();
      assert.equal(await reply.locator('.quote-sender').textContent(), 'alice');
      assert.equal(await reply.locator('.quote-text').textContent(), 'first draft');
    }

    // React: Alice likes Bob's reply; both pages show one 👍, pressed only on hers.
    await messageAction(alice.page, 'a reply', 'React with 👍');
    const mine = messageBubble(alice.page, 'a reply').getByRole('button', {
      name: '👍 1, including you',
    });
    await mine.waitFor();
    assert.equal(await mine.getAttribute('aria-pressed'), 'true');
    const theirs = messageBubble(bob.page, 'a reply').getByRole('button', {
      name: '👍 1',
      exact: true,
    });
    await theirs.waitFor();
    assert.equal(await theirs.getAttribute('aria-pressed'), 'false');

    // Edit: the composer takes the text; saving shows the new text as edited on both pages,
    // and the reply's quote follows.
    await messageAction(alice.page, 'first draft', 'Edit');
    await expectEventually(
      'the composer takes the text',
      () => aliceBox.inputValue(),
      'first draft',
    );
    await aliceBox.fill('final text');
    await aliceBox.press('Enter');
    for (const page of [alice.page, bob.page]) {
      await expectEventually('the edit shows', () => messageTexts(page), ['final text', 'a reply']);
      await messageBubble(page, 'final text').locator('.edited').waitFor();
      await expectEventually(
        'the quote follows the edit',
        () => messageBubble(page, 'a reply').locator('.quote-text').textContent(),
        'final text',
      );
    }

    // Recall: Bob takes his reply back; both pages show that it was recalled.
    await messageAction(bob.page, 'a reply', 'Recall');
    for (const page of [alice.page, bob.page]) {
      await expectEventually('the recall shows', () => messageTexts(page), [
        'final text',
        'This message was recalled.',
      ]);
    }

    // Delete for me: gone from Alice's page (even after a reload), still on Bob's.
    await messageAction(alice.page, 'final text', 'Delete for me');
    await expectEventually('alice no longer sees it', () => messageTexts(alice.page), [
      'This message was recalled.',
    ]);
    await alice.page.reload();
    await expectEventually('not after a reload either', () => messageTexts(alice.page), [
      'This message was recalled.',
    ]);
    assert.deepEqual(await messageTexts(bob.page), ['final text', 'This message was recalled.']);
  });
});
