// Proves, in a real browser, that the web client's main screens pass axe-core's accessibility
// rules (labels, roles, contrast, …) at desktop and phone widths, in the light and the dark
// scheme, with thumb-sized controls on a phone, and that a chat can be started
// and a message sent with the keyboard alone, with a visible focus ring on the way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  describeInBrowser,
  expectEventually,
  messageAction,
  messageBubble,
  messageTexts,
  REPO,
  registerPerson,
  sidebarAction,
} from './browser.js';

const AXE = readFileSync(join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page as it is now; returns its violations. */
async function axe(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not restrict.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: { run: (o: unknown) => Promise<any> } }).axe.run;
    const result = await run({ resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: any) => ({ target: n.target })),
    }));
  });
}

async function assertAccessible(page: Page, screen: string): Promise<void> {
  const violations = await axe(page);
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes)}`),
    [],
    `${screen}: axe violations`,
  );
}

/** Asserts that no control or badge sticks out past the right edge of the viewport. */
async function assertFitsWidth(page: Page, screen: string): Promise<void> {
  const outside = await page.evaluate(() => {
    const g = globalThis as unknown as {
      innerWidth: number;
      document: { querySelectorAll(s: string): ArrayLike<any> };
    };
    return Array.from(g.document.querySelectorAll('button, a, input, textarea, .badge, time'))
      .filter((el) => el.getClientRects().length > 0)
      .filter((el) => el.getBoundingClientRect().right > g.innerWidth + 1)
      .map((el) => String(el.outerHTML).slice(0, 80));
  });
  assert.deepEqual(outside, [], `${screen}: past the right edge`);
}

/** Asserts that every control on screen is at least 44 px high and wide (a thumb's target). */
async function assertTouchTargets(page: Page, screen: string): Promise<void> {
  // A visually hidden control (the composer's file input) is reached through its label.
  const controls =
    ':is(button, a[href], select, textarea, input:not([type=checkbox], [type=radio])):not(.visually-hidden)';
  const small = await page.locator(controls).evaluateAll((els) =>
    els
      .map((el) => ({ el, r: el.getBoundingClientRect(), view: el.ownerDocument.defaultView }))
      .filter(
        ({ r, view }) =>
          r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < (view?.innerHeight ?? 0),
      )
      .filter(({ el, view }) => view?.getComputedStyle(el).visibility !== 'hidden')
      .filter(({ r }) => r.width < 43.5 || r.height < 43.5)
      .map(
        ({ el, r }) =>
          `${el.outerHTML.slice(0, 70)} ${Math.round(r.width)}×${Math.round(r.height)}`,
      ),
  );
  assert.deepEqual(small, [], `${screen}: touch targets under 44 px`);
}

/** Whether the focused element draws a focus outline. */
function focusRingShown(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: { activeElement: unknown };
      getComputedStyle: (e: unknown) => { outlineStyle: string; outlineWidth: string };
    };
    const style = g.getComputedStyle(g.document.activeElement);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  });
}

function focusedLabel(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = (globalThis as unknown as { document: { activeElement: any } }).document
      .activeElement;
    return String(el?.getAttribute('aria-label') || el?.id || el?.textContent || '').trim();
  });
}

/** Presses Tab until `label` has focus (at most `max` times); every stop shows a focus ring. */
async function tabTo(page: Page, label: string, max: number): Promise<void> {
  let focused = '';
  for (let i = 0; i < max && focused !== label; i++) {
    await page.keyboard.press('Tab');
    focused = await focusedLabel(page);
    assert.ok(await focusRingShown(page), `focus ring on "${focused}"`);
  }
  assert.equal(focused, label);
}

const DESKTOP = { width: 1100, height: 760 };
const PHONE = { width: 390, height: 844 };

/** The page's background colour, as `rgb(r, g, b)`. */
function pageBackground(page: Page): Promise<string> {
  return page
    .locator('html')
    .evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor ?? '');
}

/**
 * Runs axe on the screen as it is, at desktop and at phone size, in the light and the dark
 * scheme (the client follows the system's); on a phone, nothing overflows and every control is
 * a thumb's size.
 */
async function assertAccessibleAtBothSizes(page: Page, screen: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.setViewportSize(DESKTOP);
    await assertAccessible(page, `${screen}, desktop, ${colorScheme}`);
    await page.setViewportSize(PHONE);
    await assertAccessible(page, `${screen}, phone, ${colorScheme}`);
    await assertFitsWidth(page, `${screen}, phone`);
    await assertTouchTargets(page, `${screen}, phone`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(DESKTOP);
}

/** Opens one of the sidebar's dialogs from the list, checks it at both sizes, and closes it. */
async function checkDialog(page: Page, button: string, screen: string): Promise<void> {
  await sidebarAction(page, button);
  await page.getByRole('dialog').waitFor();
  await assertAccessibleAtBothSizes(page, screen);
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
}

describeInBrowser('web client: accessibility', (test) => {
  test(
    'every main screen passes axe at desktop and phone sizes',
    'accessibility axe',
    async ({ server, browser, pages, person }) => {
      const visitor = await browser.newPage({ baseURL: server.url, viewport: DESKTOP });
      pages.visitor = visitor;
      await visitor.goto('/');
      await visitor.getByLabel('Username').waitFor();
      await assertAccessibleAtBothSizes(visitor, 'log in');
      // The dark scheme is really applied: the page turns dark, and back.
      await visitor.emulateMedia({ colorScheme: 'dark' });
      assert.equal(await pageBackground(visitor), 'rgb(15, 20, 27)', 'dark background');
      await visitor.emulateMedia({ colorScheme: 'light' });
      assert.equal(await pageBackground(visitor), 'rgb(244, 246, 250)', 'light background');
      await visitor.getByRole('button', { name: 'Create an account' }).click();
      await visitor.getByRole('button', { name: 'Register' }).waitFor();
      await assertAccessibleAtBothSizes(visitor, 'register');

      const alice = await person('alice');
      const bob = await person('bob');
      await registerPerson(browser, server.url, 'carol');
      const page = alice.page;

      // A direct chat with a peer shown online (bob's reload announces him to alice).
      await sidebarAction(page, 'New chat');
      await page.getByLabel('Username').fill('bob');
      await page.getByRole('button', { name: 'Start chat' }).click();
      await page.getByRole('heading', { name: 'bob', level: 2 }).waitFor();
      const box = page.getByLabel('Message', { exact: true });
      await box.fill('Hello Bob, are you there?');
      await box.press('Enter');
      await expectEventually('sent', () => messageTexts(page), ['Hello Bob, are you there?']);
      await bob.page.reload();
      await page.getByTestId('peer-presence').getByText('online').waitFor();
      await assertAccessibleAtBothSizes(page, 'direct chat');

      // A group chat with a reply (its quote is a button named by what it shows).
      await sidebarAction(page, 'New group');
      await page.getByLabel('Group name').fill('Climbing');
      await page.getByLabel('Members').fill('bob carol');
      await page.getByRole('button', { name: 'Create group' }).click();
      await page.getByRole('heading', { name: 'Climbing', level: 2 }).waitFor();
      const long = 'Saturday? We could leave early, take the long ridge and be back by dark.';
      await box.fill(long);
      await box.press('Enter');
      await expectEventually('sent', () => messageTexts(page), [long]);
      await bob.page.locator('.conversation', { hasText: 'Climbing' }).getByRole('link').click();
      await expectEventually('bob sees it', () => messageTexts(bob.page), [long]);
      await messageAction(bob.page, long, 'Reply');
      const bobBox = bob.page.getByLabel('Message', { exact: true });
      await bobBox.fill('Count me in.');
      await bobBox.press('Enter');
      await messageBubble(page, 'Count me in.').locator('.quote').waitFor();
      await assertAccessibleAtBothSizes(page, 'group chat');

      // A message's menu, open.
      await messageBubble(page, long).getByRole('button', { name: 'Message actions' }).click();
      await assertAccessibleAtBothSizes(page, 'message actions');
      await page.keyboard.press('Escape');

      await page.getByRole('button', { name: 'Group settings' }).click();
      await page.getByRole('dialog').waitFor();
      await assertAccessibleAtBothSizes(page, 'group settings');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      // The list, and each of the sidebar's dialogs, opened from it.
      await page.goto('/');
      await page.locator('.conversation', { hasText: 'Climbing' }).waitFor();
      await assertAccessibleAtBothSizes(page, 'conversation list');
      for (const menu of ['New', 'Menu']) {
        await page.getByRole('button', { name: menu, exact: true }).click();
        await page.locator('.sidebar-menu').waitFor();
        await assertAccessibleAtBothSizes(page, `the ${menu} menu`);
        await page.keyboard.press('Escape');
        await page.locator('.sidebar-menu').waitFor({ state: 'detached' });
      }
      for (const [button, screen] of [
        ['Search', 'search dialog'],
        ['New chat', 'new chat dialog'],
        ['New group', 'new group dialog'],
        ['Join with code', 'join dialog'],
        ['Contacts', 'contacts dialog'],
        ['Profile', 'profile dialog'],
        ['Account', 'account dialog'],
      ] as const) {
        await checkDialog(page, button, screen);
      }
    },
  );

  test(
    'a chat is started and a message sent with the keyboard alone, focus always visible',
    'accessibility keyboard',
    async ({ person }) => {
      const dave = await person('dave');
      const page = dave.page;
      const keys = page.keyboard;

      // Tab from the top of the page to "New chat"; each stop shows a focus ring.
      await page.locator('body').focus();
      await tabTo(page, 'New', 10);
      await keys.press('Enter');
      // The menu opens with focus on its first item, "New chat".
      await expectEventually('focus in the menu', () => focusedLabel(page), 'New chat');
      assert.ok(await focusRingShown(page), 'focus ring on "New chat"');
      await keys.press('Enter');
      // The dialog puts focus in its field; Enter submits it.
      await expectEventually('focus in the dialog', () => focusedLabel(page), 'direct-username');
      await keys.type('alice');
      await keys.press('Enter');
      await page.getByRole('heading', { name: 'alice', level: 2 }).waitFor();

      // From the chat, Tab reaches the message box; Enter sends, Shift+Enter is a new line.
      await tabTo(page, 'composer-input', 15);
      await keys.type('two');
      await keys.press('Shift+Enter');
      await keys.type('lines');
      await keys.press('Enter');
      await expectEventually('sent from the keyboard', () => messageTexts(page), ['two\nlines']);
      // Escape closes a dialog and gives focus back.
      await page.getByRole('button', { name: 'New', exact: true }).focus();
      await keys.press('Enter');
      await expectEventually('focus in the menu', () => focusedLabel(page), 'New chat');
      await keys.press('Tab');
      await keys.press('Enter');
      await page.getByRole('dialog', { name: 'New group' }).waitFor();
      await keys.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      // Escape closes a menu too, and gives focus back to its button.
      await page.getByRole('button', { name: 'Menu', exact: true }).focus();
      await keys.press('Enter');
      await expectEventually('focus in the menu', () => focusedLabel(page), 'Contacts');
      await keys.press('Escape');
      await expectEventually('focus back', () => focusedLabel(page), 'Menu');
    },
  );
});
