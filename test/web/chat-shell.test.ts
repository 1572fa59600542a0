// Proves, in a real browser, the shell's edge cases: an unknown conversation's address shows one
// clear "not found" state, a dialog's refusal shows inside that dialog, the "Reconnecting…"
// banner on a phone leaves the header's buttons uncovered, and group settings open without an
// error in the console.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { describeInBrowser, sidebarAction } from './browser.js';

/** Records the page's console errors (failed requests included) from now on. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Whether the element is the topmost one at its own centre (not covered by anything). */
function onTop(target: Locator): Promise<boolean> {
  return target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = el.ownerDocument.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
  });
}

describeInBrowser('web client: the shell', (test) => {
  test(
    'an unknown conversation shows one "not found" state, and no notices',
    'shell not found',
    async ({ person }) => {
      const fay = await person('fay');
      await fay.page.goto('/c/cNoSuchConversation1');
      const main = fay.page.locator('.main');
      await main.getByRole('heading', { name: 'Conversation not found' }).waitFor({
        timeout: 8_000,
      });
      await fay.page.waitForTimeout(1_000);
      assert.equal(await main.getByText('Loading…').count(), 0, 'no "Loading…" left');
      assert.deepEqual(await fay.page.locator('.notice').allTextContents(), [], 'no notices');
      await main.getByRole('button', { name: 'Back to conversations' }).last().click();
      await fay.page.waitForURL((u) => u.pathname === '/');
    },
  );

  test(
    "a refusal shows inside the dialog that caused it, in front of the dialog's backdrop",
    'shell dialog errors',
    async ({ person }) => {
      const gus = await person('gus');
      const page = gus.page;
      const tries: { open: string; fill: [string, string][]; submit: string }[] = [
        { open: 'New chat', fill: [['Username', 'nobody-here']], submit: 'Start chat' },
        {
          open: 'New group',
          fill: [
            ['Group name', 'Ghosts'],
            ['Members', 'nobody-here'],
          ],
          submit: 'Create group',
        },
        {
          open: 'Join with code',
          fill: [['Invite code', 'NoSuchCode123456']],
          submit: 'Join group',
        },
      ];
      for (const t of tries) {
        await sidebarAction(page, t.open);
        const dialog = page.getByRole('dialog');
        for (const [label, value] of t.fill) await dialog.getByLabel(label).fill(value);
        await dialog.getByRole('button', { name: t.submit }).click();
        const alert = dialog.getByRole('alert');
        await alert.waitFor({ timeout: 8_000 });
        assert.notEqual((await alert.textContent())?.trim() ?? '', '', `${t.open}: says why`);
        assert.ok(await onTop(alert), `${t.open}: the error is visible`);
        assert.equal(await page.locator('.notices .notice').count(), 0, `${t.open}: no toast`);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
      }
    },
  );

  test(
    'on a phone, the "Reconnecting…" banner leaves the header\'s buttons uncovered',
    'shell banner phone',
    async ({ person }) => {
      await person('hal');
      const ida = await person('ida', { viewport: { width: 390, height: 844 }, network: true });
      // A group's header is the fullest: back, title, Pin, Mute and Group settings.
      await sidebarAction(ida.page, 'New group');
      await ida.page.getByLabel('Group name').fill('Ropes');
      await ida.page.getByLabel('Members').fill('hal');
      await ida.page.getByRole('button', { name: 'Create group' }).click();
      await ida.page.getByRole('heading', { name: 'Ropes', level: 2 }).waitFor();
      await ida.network?.offline();
      await ida.page.getByTestId('reconnecting').waitFor();
      const banner = await ida.page.getByTestId('reconnecting').boundingBox();
      assert.ok(banner, 'the banner has a box');
      for (const name of ['Back to conversations', 'Pin', 'Mute', 'Group settings']) {
        const button = ida.page.locator('.chat-head').getByRole('button', { name, exact: true });
        const box = await button.boundingBox();
        assert.ok(box, `${name} has a box`);
        const overlap =
          box.x < banner.x + banner.width &&
          banner.x < box.x + box.width &&
          box.y < banner.y + banner.height &&
          banner.y < box.y + box.height;
        assert.ok(
          !overlap,
          `${name} ${JSON.stringify(box)} is under the banner ${JSON.stringify(banner)}`,
        );
        assert.ok(await onTop(button), `${name} is not covered by the banner`);
      }
      await ida.network?.online();
    },
  );

  test(
    'group settings open with no error in the console',
    'shell group settings console',
    async ({ person }) => {
      await person('kit');
      const jo = await person('jo');
      await sidebarAction(jo.page, 'New group');
      await jo.page.getByLabel('Group name').fill('Quiet');
      await jo.page.getByLabel('Members').fill('kit');
      await jo.page.getByRole('button', { name: 'Create group' }).click();
      await jo.page.getByRole('heading', { name: 'Quiet', level: 2 }).waitFor();
      const errors = consoleErrors(jo.page);
      await jo.page.getByRole('button', { name: 'Group settings' }).click();
      await jo.page.getByRole('dialog').getByLabel('Invite code').waitFor();
      await jo.page.waitForTimeout(1_500);
      assert.deepEqual(errors, [], 'no console errors');
    },
  );
});
