// Proves, in a real browser against a real server, the chat view's infinite scroll: a long
// conversation opens on its newest messages, scrolling up loads older pages until the first
// message, each message shows once and in order, and the view stays where the reader was.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ParleyApi } from '../../src/sdk/index.js';
import { describeInBrowser, expectEventually, messageTexts } from './browser.js';

const COUNT = 75;

/** Scrolls the timeline to its top, as a reader dragging up would. */
function scrollTimelineToTop(page: Page): Promise<void> {
  return page.locator('.timeline').evaluate((el) => {
    (el as unknown as { scrollTop: number }).scrollTop = 0;
    el.dispatchEvent(new Event('scroll'));
  });
}

describeInBrowser('web client: history', (test) => {
  test(
    'scrolling up loads older pages until the first message, each once, in order',
    'history',
    async ({ server, person }) => {
      const reader = await person('reader', {
        viewport: { width: 900, height: 700 },
      });
      const writer = new ParleyApi({ url: server.url });
      await writer.register({ username: 'writer', password: 'correct horse battery' });
      const chat = await writer.conversations.openDirect('reader');
      const all = Array.from({ length: COUNT }, (_, i) => `message ${i + 1}`);
      for (const [i, text] of all.entries()) {
        await writer.messages.send(chat.id, `h-${i}`, { kind: 'text', text });
      }

      // The reader has read them elsewhere: a chat with unread messages would open at the
      // first of them instead (timeline-scroll.test.ts), not at the newest page.
      const elsewhere = new ParleyApi({ url: server.url });
      await elsewhere.login({ username: 'reader', password: 'correct horse battery' });
      await elsewhere.conversations.markRead(chat.id, COUNT);
      const page = reader.page;
      await page.reload();
      await page.locator('.conversation', { hasText: 'writer' }).getByRole('link').click();
      // The first screen is the newest page, scrolled to its end.
      await page.locator('.messages').getByText(`message ${COUNT}`, { exact: true }).waitFor();
      const first = await messageTexts(page);
      assert.ok(first.length < COUNT, `only a page at first (got ${first.length})`);
      assert.deepEqual(first, all.slice(COUNT - first.length));
      assert.ok(
        await page.locator('.messages').getByText(`message ${COUNT}`, { exact: true }).isVisible(),
      );

      // Scrolling to the top loads the page before; the message that was on top stays in view.
      const topBefore = first[0] ?? '';
      await scrollTimelineToTop(page);
      await expectEventually(
        'an older page arrived',
        async () => (await messageTexts(page)).length > first.length,
        true,
      );
      assert.ok(
        await page.locator('.messages').getByText(topBefore, { exact: true }).isVisible(),
        `${topBefore} is still on screen after the older page came in`,
      );

      // Again and again, until the start: every message once, in order.
      for (let i = 0; i < 10 && (await page.locator('.timeline-start').count()) === 0; i++) {
        await scrollTimelineToTop(page);
        await page.waitForTimeout(300);
      }
      await page.locator('.timeline-start').waitFor();
      assert.deepEqual(await messageTexts(page), all);
    },
  );
});
