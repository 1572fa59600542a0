// Proves, in a real browser against a real server, how a web session ends: a second tab of the
// same browser takes the device over and the first offers "Use here" (which takes it back)
// instead of reconnecting by itself; a revoked token returns to the login screen saying so; and
// logging out forgets the session across a reload.
import assert from 'node:assert/strict';
import { http } from '../../src/test-support/server.js';
import { describeInBrowser, registerPerson, waitOnline, sidebarAction } from './browser.js';

const KICKED = 'Parley is open in another window';

describeInBrowser('web client: sessions', (test) => {
  test(
    'a second tab takes the device; "Use here" takes it back',
    'session tabs',
    async ({ server, browser, pages }) => {
      const erin = await registerPerson(browser, server.url, 'erin');
      pages.first = erin.page;
      const second = await erin.context.newPage();
      pages.second = second;
      await second.goto('/');
      await waitOnline(second);

      const first = erin.page;
      await first.getByRole('heading', { name: KICKED }).waitFor();
      await first.getByRole('button', { name: 'Use here' }).click();
      await waitOnline(first);
      await second.getByRole('heading', { name: KICKED }).waitFor();
      // The first tab does not bounce back by itself: it stays kicked until asked.
      assert.equal(await first.getByRole('heading', { name: KICKED }).count(), 0);
      await second.close();
    },
  );

  test(
    'a revoked token returns to the login screen; logging out forgets the session',
    'session end',
    async ({ server, browser, pages }) => {
      const fay = await registerPerson(browser, server.url, 'fay');
      pages.fay = fay.page;
      const token = await fay.page.evaluate(() => {
        const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string } })
          .localStorage;
        return (JSON.parse(storage.getItem('parley.session')) as { token: string }).token;
      });
      // Revoked from elsewhere (as a logout on another device of this token would).
      const out = await http('POST', `${server.url}/v1/auth/logout`, { token });
      assert.equal(out.status, 204);
      await fay.page.getByText('Your session ended. Please log in again.').waitFor();

      await fay.page.getByLabel('Username').fill('fay');
      await fay.page.getByLabel('Password').fill('correct horse battery');
      await fay.page.getByRole('button', { name: 'Log in' }).click();
      await waitOnline(fay.page);
      await sidebarAction(fay.page, 'Log out');
      await fay.page.getByRole('heading', { name: 'Log in' }).waitFor();
      await fay.page.reload();
      await fay.page.getByRole('heading', { name: 'Log in' }).waitFor();
      assert.equal(await fay.page.getByRole('button', { name: 'New chat' }).count(), 0);
    },
  );
});
