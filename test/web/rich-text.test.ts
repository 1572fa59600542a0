// Proves, in a real browser, that message texts show links (http, https and mailto only, opening
// in a new tab without an opener) and light formatting (bold, italic, code, code blocks, quotes),
// and that hostile bodies (HTML, javascript: links) stay text on the receiver's page.
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { describeInBrowser, expectEventually, messageTexts, say, startChat } from './browser.js';

/** The elements of one kind inside a bubble, as [text, attribute…] rows. */
function rows(bubble: Locator, selector: string, attributes: string[] = []): Promise<string[][]> {
  return bubble
    .locator(selector)
    .evaluateAll(
      (els, attrs) =>
        els.map((el) => [el.textContent ?? '', ...attrs.map((a) => el.getAttribute(a) ?? '')]),
      attributes,
    );
}

const HOSTILE = [
  '<img src=x onerror="window.pwned=1">',
  '<script>window.pwned=2</script>',
  'javascript:window.pwned=3',
  '[click](javascript:window.pwned=4)',
  '<a href="javascript:window.pwned=5">x</a>',
].join(' ');

describeInBrowser('web client: links and formatting', (test) => {
  test(
    'links and formatting render as nodes; hostile bodies stay text',
    'rich text',
    async ({ person }) => {
      const lee = await person('lee');
      const may = await person('may');
      await startChat(lee.page, 'may');
      await say(lee.page, HOSTILE);
      const formatted = [
        'See https://example.com/a?b=1&c=2. or mailto:may@example.com, not ftp://x.example',
        '*bold* and _italic_ and `a <b>` and snake_case_name and 2*3*4',
        '> a quoted line',
        '```',
        'const x = "<img onerror>";',
        '```',
      ].join('\n');
      await say(lee.page, formatted);
      await may.page.locator('.conversation', { hasText: 'lee' }).getByRole('link').click();
      await expectEventually('may has both', async () => (await messageTexts(may.page)).length, 2);

      const [hostile, rich] = [0, 1].map((i) =>
        may.page.locator('.messages > li.message').nth(i).locator('.bubble > .text'),
      );
      assert.ok(hostile && rich);
      // Hostile: the text as typed, no element made from it, no link, nothing ran.
      assert.equal(await hostile.textContent(), HOSTILE);
      assert.equal(await hostile.locator('*').count(), 0, 'no elements inside the hostile text');
      assert.equal(await may.page.locator('a[href^="javascript"], .bubble img').count(), 0);
      assert.equal(
        await may.page.evaluate(() => (globalThis as { pwned?: number }).pwned),
        undefined,
      );

      // Links: http(s) and mailto, without trailing punctuation, in a new tab, no opener.
      assert.deepEqual(await rows(rich, 'a', ['href', 'target', 'rel']), [
        [
          'https://example.com/a?b=1&c=2',
          'https://example.com/a?b=1&c=2',
          '_blank',
          'noopener noreferrer',
        ],
        ['mailto:may@example.com', 'mailto:may@example.com', '_blank', 'noopener noreferrer'],
      ]);
      assert.deepEqual(await rows(rich, 'strong'), [['bold']]);
      assert.deepEqual(await rows(rich, 'em'), [['italic']]);
      assert.deepEqual(await rows(rich, ':not(pre) > code'), [['a <b>']]);
      assert.deepEqual(await rows(rich, 'blockquote'), [['a quoted line']]);
      assert.deepEqual(await rows(rich, 'pre'), [['const x = "<img onerror>";']]);
      assert.match((await rich.textContent()) ?? '', /snake_case_name and 2\*3\*4/);
    },
  );
});
