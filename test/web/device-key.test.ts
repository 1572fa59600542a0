// Proves, in a real browser against a real server, that the web client keeps the device key its
// registration and logins return (across a logout, as the server does) and presents it when it
// logs in, so guessers at the browser's own address cannot lock its owner out.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { http } from '../../src/test-support/server.js';
import { describeInBrowser, waitOnline, sidebarAction } from './browser.js';

const PASSWORD = 'correct horse battery';

/** The device key this browser keeps for `username`, if any. */
function storedKey(page: Page, username: string): Promise<string | undefined> {
  return page.evaluate((name) => {
    const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string } })
      .localStorage;
    return (JSON.parse(storage.getItem('parley.deviceKeys') ?? '{}') as Record<string, string>)[
      name
    ];
  }, username);
}

describeInBrowser('web client: device key', (test) => {
  test(
    'keeps its device key across a logout and logs in with it past guessers at its own address',
    'device key',
    async ({ server, person }) => {
      const gail = await person('gail');
      const registered = await storedKey(gail.page, 'gail');
      assert.match(registered ?? '', /^dk_/, 'registration left a key');
      await sidebarAction(gail.page, 'Log out');
      await gail.page.getByRole('heading', { name: 'Log in' }).waitFor();
      assert.equal(await storedKey(gail.page, 'gail'), registered, 'a logout keeps it');

      // Someone at the browser's own address (loopback) spends the guesses allowed from there.
      const login = (password: string) =>
        http('POST', `${server.url}/v1/auth/login`, { body: { username: 'gail', password } });
      for (let i = 0; i < 10; i++) assert.equal((await login(`guess ${i}!!`)).status, 401);
      assert.equal((await login(PASSWORD)).status, 429, 'no key: even the password waits');

      await gail.page.getByLabel('Username').fill('gail');
      await gail.page.getByLabel('Password').fill(PASSWORD);
      await gail.page.getByRole('button', { name: 'Log in' }).click();
      await waitOnline(gail.page);
      const renewed = await storedKey(gail.page, 'gail');
      assert.match(renewed ?? '', /^dk_/);
      assert.notEqual(renewed, registered, 'the login replaced it');
    },
  );
});
