// Proves, in a real browser, where the timeline puts the reader: it stays at the newest message
// when one grows or shrinks in place (an edit, a recall), offers "New messages" when the reader
// scrolled up, opens a chat with unread messages at an unread divider, and opens a message's
// menu where it can be seen in full, even for the top message under the header.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  describeInBrowser,
  expectEventually,
  messageAction,
  messageBubble,
  messageTexts,
  say,
  startChat,
} from './browser.js';

/** How far the timeline is from its bottom, in pixels. */
function distanceFromBottom(page: Page): Promise<number> {
  return page
    .locator('.timeline')
    .evaluate((el) => Math.round(el.scrollHeight - el.scrollTop - el.clientHeight));
}

/** Waits until the timeline rests at its bottom (within 2 px). */
async function expectAtBottom(page: Page, what: string): Promise<void> {
  await expectEventually(what, async () => (await distanceFromBottom(page)) <= 2, true, 5_000);
}

/** Whether each of the locator's elements is the topmost element at its own centre. */
function eachOnTop(page: Page, selector: string): Promise<boolean[]> {
  return page.locator(selector).evaluateAll((els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      const hit = el.ownerDocument.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit !== null && (hit === el || el.contains(hit));
    }),
  );
}

/** Waits until the unread divider stands right before `text`, near the top of the view. */
async function expectDividerBefore(page: Page, text: string): Promise<void> {
  const divider = page.locator('.messages > li.unread-divider');
  await divider.waitFor();
  await expectEventually(
    'the divider stands before the first unread message',
    () =>
      divider.evaluate((el) => el.nextElementSibling?.querySelector('.text')?.textContent ?? null),
    text,
    5_000,
  );
  await expectEventually(
    'the divider is in view, near the top',
    () =>
      page.locator('.timeline').evaluate((timeline) => {
        const d = timeline.querySelector('.unread-divider')?.getBoundingClientRect();
        const t = timeline.getBoundingClientRect();
        return !!d && d.top >= t.top && d.bottom <= t.top + t.height / 2;
      }),
    true,
    5_000,
  );
}

const lines = (n: number, word: string) =>
  Array.from({ length: n }, (_, i) => `${word} ${i + 1}`).join('\n');

describeInBrowser('web client: the timeline follows, and shows what is new', (test) => {
  test(
    'the top message menu opens where all of it can be seen',
    'timeline menu top',
    async ({ person }) => {
      const erin = await person('erin', { viewport: { width: 1000, height: 520 } });
      await person('erin2');
      await startChat(erin.page, 'erin2');
      const sent: string[] = [];
      for (let i = 1; i <= 14; i++) {
        sent.push(`line ${i}`);
        await say(erin.page, `line ${i}`);
      }
      await expectEventually('sent', () => messageTexts(erin.page), sent);
      await messageBubble(erin.page, 'line 1')
        .locator('[data-tick]:not([data-tick=sending])')
        .waitFor();
      // The reader scrolled back to the start: the first message sits under the header.
      await erin.page.locator('.timeline').evaluate((el) => el.scrollTo({ top: 0 }));
      const toggle = messageBubble(erin.page, 'line 1').getByRole('button', {
        name: 'Message actions',
      });
      await toggle.click();
      await erin.page.locator('.actions-menu').waitFor();
      const onTop = await eachOnTop(erin.page, '.actions-menu button');
      assert.ok(onTop.length >= 7, `the menu has its buttons (${onTop.length})`);
      assert.deepEqual(
        onTop,
        onTop.map(() => true),
        'every button of the menu is visible, none behind the header or cut off',
      );
    },
  );

  test(
    'an edit or a recall keeps the reader at the bottom; scrolled up, "New messages" appears',
    'timeline follows',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob', { viewport: { width: 1000, height: 520 } });
      await startChat(alice.page, 'bob');
      await say(alice.page, 'hello');
      await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      await expectEventually('bob has it', () => messageTexts(bob.page), ['hello']);
      // Bob has the chat open: the messages come in live, and the timeline follows them.
      const sent: string[] = ['hello'];
      for (let i = 1; i <= 14; i++) {
        sent.push(`message ${i}`);
        await say(alice.page, `message ${i}`);
      }
      await expectEventually('bob has them', () => messageTexts(bob.page), sent);
      await expectAtBottom(bob.page, 'bob followed them to the bottom');

      // An edit makes the newest message much taller: bob stays at the bottom.
      await messageAction(alice.page, 'message 14', 'Edit');
      const box = alice.page.getByLabel('Message', { exact: true });
      await expectEventually(
        'the box holds the text to edit',
        () => box.inputValue(),
        'message 14',
      );
      const long = 'now a much longer text that wraps over many lines'.repeat(12);
      await box.fill(long);
      await box.press('Enter');
      await messageBubble(bob.page, long).locator('.edited').waitFor();
      await expectAtBottom(bob.page, 'bob still at the bottom after the edit');

      // A recall makes it short again: still at the bottom, then a new message follows.
      await messageAction(alice.page, long, 'Recall');
      await bob.page.locator('.messages > li.message.recalled').waitFor();
      await say(alice.page, 'after the recall');
      await messageBubble(bob.page, 'after the recall').waitFor();
      await expectAtBottom(bob.page, 'bob follows the next message after a recall');

      // Scrolled up, a new message does not move the view; a button says there is more.
      await bob.page.locator('.timeline').evaluate((el) => el.scrollTo({ top: 0 }));
      await say(alice.page, 'while bob reads back');
      await messageBubble(bob.page, 'while bob reads back').waitFor({ state: 'attached' });
      const jump = bob.page.getByRole('button', { name: /New messages/ });
      await jump.waitFor();
      assert.ok((await distanceFromBottom(bob.page)) > 100, 'the view stayed where bob read');
      await jump.click();
      await expectAtBottom(bob.page, 'the button brings bob to the bottom');
      await jump.waitFor({ state: 'detached' });
    },
  );

  test(
    'a chat opened with unread messages shows the divider and starts there',
    'timeline unread divider',
    async ({ person }) => {
      const carol = await person('carol');
      const dave = await person('dave', { viewport: { width: 1000, height: 520 } });
      await startChat(carol.page, 'dave');
      await say(carol.page, 'already read');
      await dave.page.locator('.conversation', { hasText: 'carol' }).getByRole('link').click();
      await expectEventually('dave read it', () => messageTexts(dave.page), ['already read']);
      await dave.page.goto('/');
      await dave.page.locator('.conversation', { hasText: 'carol' }).waitFor();

      const unread: string[] = [];
      for (let i = 1; i <= 12; i++) {
        unread.push(lines(2, `unread ${i}`));
        await say(carol.page, unread.at(-1) ?? '');
      }
      await expectEventually(
        'dave counts them',
        () => dave.page.getByTestId('unread').allTextContents(),
        ['12'],
      );
      await dave.page.locator('.conversation', { hasText: 'carol' }).getByRole('link').click();
      await expectEventually('dave has them', () => messageTexts(dave.page), [
        'already read',
        ...unread,
      ]);
      await expectDividerBefore(dave.page, unread[0] ?? '');

      // More unread than one page (30): older pages load until the divider can be shown.
      await dave.page.goto('/');
      await dave.page.locator('.conversation', { hasText: 'carol' }).waitFor();
      for (let i = 1; i <= 36; i++) await say(carol.page, `more ${i}`);
      await expectEventually(
        'dave counts them',
        () => dave.page.getByTestId('unread').allTextContents(),
        ['36'],
      );
      await dave.page.locator('.conversation', { hasText: 'carol' }).getByRole('link').click();
      await expectDividerBefore(dave.page, 'more 1');
    },
  );
});
