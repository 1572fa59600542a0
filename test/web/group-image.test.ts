// Proves, in a real browser against a real server, that a group of three made in the web client
// works, and that an image one member uploads (previewed before sending) reaches the two others
// as a decoded image preview.
import assert from 'node:assert/strict';
import type { Browser, Locator } from 'playwright-core';
import { describeInBrowser, expectEventually, messageTexts, sidebarAction } from './browser.js';

/** A real PNG of the given size, drawn and encoded by the browser itself. */
async function makePng(browser: Browser, width: number, height: number): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 200, height: 200 } });
  await page.setContent(
    `<div style="margin:0;width:${width}px;height:${height}px;` +
      'background:linear-gradient(90deg,#2f6fed,#ffbf47)"></div>' +
      '<style>body{margin:0}</style>',
  );
  const png = await page.screenshot({ clip: { x: 0, y: 0, width, height }, type: 'png' });
  await page.close();
  return png;
}

/** The natural size of a decoded <img>: 0×0 until (unless) its bytes decode as an image. */
function naturalSize(img: Locator): Promise<[number, number]> {
  return img.evaluate((el) => {
    const i = el as unknown as { naturalWidth: number; naturalHeight: number };
    return [i.naturalWidth, i.naturalHeight] as [number, number];
  });
}

describeInBrowser('web client: a group with an image', (test) => {
  test(
    'three people in a group; an uploaded image shows as a preview to the others',
    'group image',
    async ({ browser, person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      const carol = await person('carol', {
        viewport: { width: 390, height: 844 },
      });

      await sidebarAction(alice.page, 'New group');
      await alice.page.getByLabel('Group name').fill('Climbing');
      await alice.page.getByLabel('Members').fill('bob, carol');
      await alice.page.getByRole('button', { name: 'Create group' }).click();
      await alice.page.getByRole('heading', { name: 'Climbing', level: 2 }).waitFor();
      await alice.page.getByText('3 members').waitFor();

      // Choosing a file previews it in the composer before anything is sent.
      const png = await makePng(browser, 64, 48);
      await alice.page.locator('#composer-file').setInputFiles({
        name: 'crag.png',
        mimeType: 'image/png',
        buffer: png,
      });
      const preview = alice.page.getByRole('img', { name: 'Preview of crag.png' });
      await preview.waitFor();
      await expectEventually('the composer preview decodes', () => naturalSize(preview), [64, 48]);
      await alice.page.getByLabel('Caption').fill('the crag');
      await alice.page.getByRole('button', { name: 'Send' }).click();
      await preview.waitFor({ state: 'detached' });

      // Bob (desktop) and Carol (phone width) get the group and see the image decoded.
      for (const person of [alice, bob, carol]) {
        const page = person.page;
        if (person !== alice) {
          await page.locator('.conversation', { hasText: 'Climbing' }).getByRole('link').click();
        }
        const img = page.locator('.messages img.image-preview');
        await img.waitFor();
        assert.match(
          (await img.getAttribute('src')) ?? '',
          /^blob:/,
          `${person.name}: an object URL`,
        );
        assert.equal(await img.getAttribute('alt'), 'the crag');
        await expectEventually(
          `${person.name} sees the image decoded`,
          () => naturalSize(img),
          [64, 48],
        );
        assert.deepEqual(
          await messageTexts(page),
          ['the crag'],
          `${person.name}: the caption once`,
        );
      }
      // On the phone the list is hidden while a conversation is open, and Back shows it again.
      assert.equal(await carol.page.locator('.sidebar').isVisible(), false);
      await carol.page.getByRole('button', { name: 'Back to conversations' }).click();
      await carol.page.locator('.conversation', { hasText: 'Climbing' }).waitFor();
      assert.equal(await carol.page.locator('.chat').count(), 0);
    },
  );
});
