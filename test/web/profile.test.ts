// Proves, in a real browser against a real server, the profile dialog: a user sets a display
// name, a bio and a picture; the picture shows in the user's own sidebar; another user sees the
// display name in their direct chat's header and the picture in the conversation list and the
// contacts dialog (the image really decodes: the avatar is readable by every signed-in user);
// later changes reach the other user's open page without a reload (the `profile` push), and
// removing the picture brings the letter back on both. In a group, a message shows its sender's
// picture.
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import {
  describeInBrowser,
  expectEventually,
  messageBubble,
  say,
  startChat,
  sidebarAction,
} from './browser.js';

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** The natural width of a user's avatar image on the page (or in a part of it), else 0. */
const avatarWidth = (page: Page | Locator, username: string) =>
  page
    .locator(`[data-testid="avatar-${username}"]`)
    .first()
    .evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)
    .catch(() => 0);

describeInBrowser('web client: profile', (test) => {
  test('display name, bio and picture, seen by another user', 'profile', async ({ person }) => {
    const erin = await person('erin');
    const frank = await person('frank');

    await sidebarAction(erin.page, 'Profile');
    const dialog = erin.page.getByRole('dialog', { name: 'Your profile' });
    await dialog.waitFor();
    await dialog.locator('#profile-picture').setInputFiles({
      name: 'me.png',
      mimeType: 'image/png',
      buffer: PNG,
    });
    await expectEventually('erin’s picture in the dialog', () => avatarWidth(erin.page, 'erin'), 1);
    await dialog.getByLabel('Display name').fill('Erin Example');
    await dialog.getByLabel('About you').fill('Sends pictures.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expectEventually(
      'erin’s picture in her sidebar',
      () => avatarWidth(erin.page, 'erin'),
      1,
    );

    // Frank opens a chat with erin: her name in the header, her picture in his list.
    await startChat(frank.page, 'erin');
    await expectEventually(
      'the display name in the header',
      () => frank.page.getByTestId('peer-display-name').textContent(),
      'Erin Example',
    );
    await expectEventually('her picture in frank’s list', () => avatarWidth(frank.page, 'erin'), 1);

    // And next to her name in his contacts dialog.
    await sidebarAction(frank.page, 'Contacts');
    const contacts = frank.page.getByRole('dialog', { name: 'Contacts' });
    await contacts.getByLabel('Add a contact').fill('erin');
    await contacts.getByRole('button', { name: 'Send request' }).click();
    await expectEventually('her picture in his contacts', () => avatarWidth(contacts, 'erin'), 1);
    await contacts.getByRole('button', { name: 'Close' }).click();

    // The saved profile is what the server shows to others.
    const profile = await frank.page.evaluate(async () => {
      const g = globalThis as unknown as { localStorage: { getItem(k: string): string | null } };
      const session = JSON.parse(g.localStorage.getItem('parley.session') ?? '{}') as {
        token: string;
      };
      const res = await fetch('/v1/users/erin', {
        headers: { authorization: `Bearer ${session.token}` },
      });
      const json = (await res.json()) as {
        user: { displayName: string; bio: string; avatar: string };
      };
      return json.user;
    });
    assert.equal(profile.displayName, 'Erin Example');
    assert.equal(profile.bio, 'Sends pictures.');
    assert.ok(profile.avatar);

    // Her changes reach frank's open page as they are saved (the `profile` push), no reload:
    // a new display name in his header, and the letter once she removes the picture.
    await sidebarAction(erin.page, 'Profile');
    await dialog.getByLabel('Display name').fill('Erin Renamed');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expectEventually(
      'the new name in frank’s header',
      () => frank.page.getByTestId('peer-display-name').textContent(),
      'Erin Renamed',
    );
    await sidebarAction(erin.page, 'Profile');
    await erin.page.getByRole('button', { name: 'Remove picture' }).click();
    await expectEventually('no picture', () => avatarWidth(erin.page, 'erin'), 0);
    await expectEventually('no picture on frank’s page', () => avatarWidth(frank.page, 'erin'), 0);
  });

  test('group messages show the sender’s picture', 'group sender', async ({ person }) => {
    const gia = await person('gia');
    const hugo = await person('hugo');
    await sidebarAction(gia.page, 'Profile');
    const dialog = gia.page.getByRole('dialog', { name: 'Your profile' });
    await dialog.locator('#profile-picture').setInputFiles({
      name: 'me.png',
      mimeType: 'image/png',
      buffer: PNG,
    });
    await expectEventually('gia’s picture in the dialog', () => avatarWidth(gia.page, 'gia'), 1);
    await dialog.getByRole('button', { name: 'Close' }).click();

    await sidebarAction(gia.page, 'New group');
    await gia.page.getByLabel('Group name').fill('Pictures');
    await gia.page.getByLabel('Members').fill('hugo');
    await gia.page.getByRole('button', { name: 'Create group' }).click();
    await gia.page.getByRole('heading', { name: 'Pictures', level: 2 }).waitFor();
    await say(gia.page, 'hello group');

    await hugo.page.locator('.conversation', { hasText: 'Pictures' }).getByRole('link').click();
    const line = messageBubble(hugo.page, 'hello group').locator('.sender-line');
    await expectEventually('the sender’s name', () => line.locator('.sender').textContent(), 'gia');
    await expectEventually('the sender’s picture', () => avatarWidth(line, 'gia'), 1);
  });
});
