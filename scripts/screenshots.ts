// Takes the screenshots of docs/web-client.md: the web client's main screens (log in, register,
// the list, the New menu, the dialogs, a direct chat in both colour schemes, a group and its
// settings, reconnecting) at a desktop and a phone width, against a real server with a little seeded history. Run `npm run screenshots`; the
// PNGs go to docs/screenshots/ (or the directory given as the first argument).
// It uses the end-to-end tests' Playwright setup (Debian's Chromium, test/web/browser.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createClient, ParleyApi, type SendableBody } from '../src/sdk/index.js';
import { startTestServer } from '../src/test-support/server.js';
import { sleep } from '../src/test-support/wait.js';
import { ensureWebBuilt, launchChromium, NetworkSwitch, REPO } from '../test/web/browser.js';

const OUT = resolve(process.argv[2] ?? join(REPO, 'docs', 'screenshots'));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'correct horse battery';

let refs = 0;
async function say(api: ParleyApi, conversation: string, body: SendableBody): Promise<number> {
  const sent = await api.messages.send(conversation, `shot-${++refs}`, body);
  return sent.seq;
}

async function user(url: string, username: string): Promise<ParleyApi> {
  const api = new ParleyApi({ url });
  await api.register({ username, password: PASSWORD, device: `${username}-seed` });
  return api;
}

/** A real PNG drawn by the browser: a small landscape for the image message. */
async function drawPng(browser: Browser): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 480, height: 320 } });
  await page.setContent(
    '<style>body{margin:0}</style><div style="width:480px;height:320px;' +
      'background:linear-gradient(#9cc9ff 0 55%,#6b8f5e 55% 100%);position:relative">' +
      '<div style="position:absolute;left:60px;bottom:80px;width:0;height:0;border-left:140px solid transparent;' +
      'border-right:140px solid transparent;border-bottom:190px solid #7a7f87"></div>' +
      '<div style="position:absolute;left:300px;bottom:80px;width:0;height:0;border-left:90px solid transparent;' +
      'border-right:90px solid transparent;border-bottom:130px solid #8e939b"></div></div>',
  );
  const png = await page.screenshot({ type: 'png' });
  await page.close();
  return png;
}

/** Best effort: a reaction, if this server has them. */
async function react(
  api: ParleyApi,
  conversation: string,
  seq: number,
  emoji: string,
): Promise<void> {
  try {
    await api.call({
      method: 'POST',
      path: `/v1/conversations/${conversation}/messages/${seq}/reactions`,
      json: { emoji },
    });
  } catch (err) {
    console.warn(`screenshots: no reaction (${String(err)})`);
  }
}

async function seed(url: string, browser: Browser) {
  const alice = await user(url, 'alice');
  const bob = await user(url, 'bob');
  const carol = await user(url, 'carol');
  const dave = await user(url, 'dave');

  const group = await alice.groups.create({ title: 'Climbing', members: ['bob', 'carol'] });
  await say(carol, group.id, { kind: 'text', text: 'Forecast for Saturday looks dry 🌤' });
  await say(alice, group.id, { kind: 'text', text: 'Great, the hut has room for four.' });
  const aliceId = (await alice.users.me()).user.id;
  await say(bob, group.id, {
    kind: 'text',
    text: '@alice who brings the second rope?',
    mentions: [aliceId],
  });
  await say(carol, group.id, { kind: 'text', text: 'I can. Leaving at 7 sharp.' });

  const withDave = await dave.conversations.openDirect('alice');
  await say(dave, withDave.id, { kind: 'text', text: 'Hi Alice! Long time no see.' });

  const withCarol = await carol.conversations.openDirect('alice');
  await say(alice, withCarol.id, { kind: 'text', text: 'Did you get the guidebook?' });
  await say(carol, withCarol.id, { kind: 'text', text: 'Yes, page 42 has our route.' });
  await say(carol, withCarol.id, { kind: 'text', text: 'Grade 5c, four pitches.' });

  const direct = await alice.conversations.openDirect('bob');
  const q = await say(bob, direct.id, { kind: 'text', text: 'Are we still on for Saturday?' });
  const a = await say(alice, direct.id, {
    kind: 'text',
    text: 'Yes! Meet at the crag at 8?',
    replyTo: q,
  });
  await react(bob, direct.id, a, '👍');
  const photo = await bob.attachments.upload(await drawPng(browser), {
    contentType: 'image/png',
    name: 'crag.png',
  });
  await say(bob, direct.id, {
    kind: 'image',
    attachment: photo.id,
    width: 480,
    height: 320,
    caption: 'The crag last week',
  });
  const b = await say(alice, direct.id, {
    kind: 'text',
    text: 'Looks perfect. I’ll bring coffee ☕',
  });
  await react(bob, direct.id, b, '❤️');
  await say(bob, direct.id, { kind: 'text', text: 'Deal. See you there!' });
  await bob.conversations.markRead(direct.id, b + 1);
  return { bob, carol, direct: direct.id, group: group.id };
}

async function logIn(page: Page, label?: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').waitFor();
  if (label) {
    await page.screenshot({ path: join(OUT, `login-${label}.png`) });
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByRole('button', { name: 'Register' }).waitFor();
    await page.screenshot({ path: join(OUT, `register-${label}.png`) });
    await page.getByRole('button', { name: 'Log in' }).click();
  }
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.conn-online').waitFor();
}

async function settle(page: Page): Promise<void> {
  // Images decoded, fonts laid out, the last render flushed.
  await page.waitForFunction(() =>
    Array.from(
      (globalThis as unknown as { document: { images: ArrayLike<{ complete: boolean }> } }).document
        .images,
    ).every((i) => i.complete),
  );
  await sleep(300);
}

/** Opens one of the sidebar's dialogs (from its menu, if it has one), photographs it, closes it. */
async function dialogShot(page: Page, menu: string | null, action: string, file: string) {
  if (menu) await page.getByRole('button', { name: menu, exact: true }).click();
  await page.locator('.sidebar-actions').getByRole('button', { name: action, exact: true }).click();
  await page.getByRole('dialog').waitFor();
  await settle(page);
  await page.screenshot({ path: join(OUT, file) });
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await ensureWebBuilt();
  const server = await startTestServer();
  const browser = await launchChromium();
  try {
    const { bob, carol, direct, group } = await seed(server.url, browser);
    const bobLive = createClient({
      url: server.url,
      token: bob.token ?? '',
      device: 'bob-seed',
    });
    await bobLive.connect();

    for (const [label, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      const context = await browser.newContext({
        baseURL: server.url,
        viewport,
        deviceScaleFactor: 1,
      });
      context.setDefaultTimeout(20_000);
      const network = await NetworkSwitch.install(context);
      const page = await context.newPage();
      await logIn(page, label);
      await page.locator('.conversation').nth(3).waitFor();
      await settle(page);
      await page.screenshot({ path: join(OUT, `list-${label}.png`) });
      await page.getByRole('button', { name: 'New', exact: true }).click();
      await page.locator('.sidebar-menu').waitFor();
      await page.screenshot({ path: join(OUT, `new-menu-${label}.png`) });
      await page.keyboard.press('Escape');
      await dialogShot(page, 'New', 'New chat', `new-chat-${label}.png`);
      await dialogShot(page, null, 'Search', `search-${label}.png`);
      await dialogShot(page, 'Menu', 'Contacts', `contacts-${label}.png`);
      await dialogShot(page, 'Menu', 'Profile', `profile-${label}.png`);
      await dialogShot(page, 'Menu', 'Account', `account-${label}.png`);

      await page.locator('.conversation', { hasText: 'bob' }).getByRole('link').click();
      await page.locator('.messages img.image-preview').waitFor();
      // The SDK sends at most one typing frame per 3 s: repeat until one lands on this page.
      const typing = page.getByTestId('typing').getByText('bob is typing…');
      for (let i = 0; i < 20 && !(await typing.isVisible()); i++) {
        bobLive.typing(direct);
        await sleep(500);
      }
      await typing.waitFor();
      await settle(page);
      await page.screenshot({ path: join(OUT, `chat-${label}.png`) });
      await page.emulateMedia({ colorScheme: 'dark' });
      await settle(page);
      await page.screenshot({ path: join(OUT, `chat-dark-${label}.png`) });
      await page.emulateMedia({ colorScheme: 'light' });

      await page.goto(`/c/${group}`);
      await page.getByRole('button', { name: 'Group settings' }).click();
      await page.getByRole('dialog').waitFor();
      await settle(page);
      await page.screenshot({ path: join(OUT, `group-settings-${label}.png`) });
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await settle(page);
      await page.screenshot({ path: join(OUT, `group-${label}.png`) });

      await network.offline();
      await page.getByTestId('reconnecting').waitFor();
      await settle(page);
      await page.screenshot({ path: join(OUT, `reconnecting-${label}.png`) });
      await network.online();
      await context.close();
      // Something unread in the group again for the next width's list.
      await say(carol, group, { kind: 'text', text: 'Bring a headlamp, it gets dark early.' });
    }
    await bobLive.close();
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
