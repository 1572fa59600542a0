// Proves, in a real browser against a real server, that a page whose network is cut shows the
// "reconnecting…" banner, and after the network returns shows every message sent meanwhile (to it
// and by it) exactly once, in order, and the banner goes away; and that what it missed of other
// pushes shows once it is back: an edit and a recall, the peer having read its message, and the
// peer's new display name.
import assert from 'node:assert/strict';
import { sleep } from '../../src/test-support/wait.js';
import {
  describeInBrowser,
  expectEventually,
  messageAction,
  messageBubble,
  messageTexts,
  ownMessage,
  startChat,
  waitOnline,
  sidebarAction,
} from './browser.js';

describeInBrowser('web client: reconnecting', (test) => {
  test(
    'messages sent while a page is offline show once, in order, after it reconnects',
    'reconnect',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob', { network: true });
      const cut = bob.network;
      assert.ok(cut);

      await startChat(alice.page, 'bob');
      const aliceBox = alice.page.getByLabel('Message', { exact: true });
      await aliceBox.fill('before the cut');
      await aliceBox.press('Enter');
      await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      await expectEventually('bob sees the first message', () => messageTexts(bob.page), [
        'before the cut',
      ]);
      assert.equal(cut.openSockets, 1, "bob's page has one socket, through the switch");

      // Cut Bob's network: the banner appears.
      await cut.offline();
      const banner = bob.page.getByTestId('reconnecting');
      await banner.waitFor({ state: 'visible' });
      assert.equal(await banner.textContent(), 'Reconnecting…');

      // Alice sends three messages while Bob is away; Bob writes one too, which waits as "sending".
      const during = ['while away 1', 'while away 2', 'while away 3'];
      for (const text of during) {
        await aliceBox.fill(text);
        await aliceBox.press('Enter');
      }
      await expectEventually(
        'alice’s sends are stored',
        async () => {
          const n = await alice.page
            .locator('.messages [data-tick]:not([data-tick=sending])')
            .count();
          return n;
        },
        4,
      );
      const bobBox = bob.page.getByLabel('Message', { exact: true });
      await bobBox.fill('written offline');
      await bobBox.press('Enter');
      await ownMessage(bob.page, 'written offline').locator('[data-tick=sending]').waitFor();
      // Nothing reached Bob's page while it was cut off.
      await sleep(500);
      assert.deepEqual(await messageTexts(bob.page), ['before the cut', 'written offline']);

      // The network comes back: the banner goes, and every message is there once, in seq order
      // (Bob's own message was stored after Alice's three, so it comes last).
      await cut.online();
      await banner.waitFor({ state: 'detached' });
      await waitOnline(bob.page);
      const expected = ['before the cut', ...during, 'written offline'];
      await expectEventually(
        'bob’s timeline after the reconnect',
        () => messageTexts(bob.page),
        expected,
      );
      await ownMessage(bob.page, 'written offline').locator('[data-tick=sending]').waitFor({
        state: 'detached',
      });
      await expectEventually(
        'alice gets bob’s offline message once',
        () => messageTexts(alice.page),
        expected,
      );

      // Still once each a moment later: no late duplicate from a push racing the catch-up.
      await sleep(1500);
      assert.deepEqual(await messageTexts(bob.page), expected);
      assert.deepEqual(await messageTexts(alice.page), expected);

      // A reload starts from the server's history alone: the same messages, once each.
      await bob.page.reload();
      await expectEventually(
        'bob’s timeline after a reload',
        () => messageTexts(bob.page),
        expected,
      );
    },
  );

  test(
    'an edit and a recall made while a page is offline show after it reconnects',
    'reconnect-changes',
    async ({ person }) => {
      const ann = await person('ann');
      const ben = await person('ben', { network: true });
      const cut = ben.network;
      assert.ok(cut);
      await startChat(ann.page, 'ben');
      const annBox = ann.page.getByLabel('Message', { exact: true });
      for (const text of ['first draft', 'take it back']) {
        await annBox.fill(text);
        await annBox.press('Enter');
      }
      await ben.page.locator('.conversation', { hasText: 'ann' }).getByRole('link').click();
      const before = ['first draft', 'take it back'];
      await expectEventually('ben holds both', () => messageTexts(ben.page), before);

      await cut.offline();
      await ben.page.getByTestId('reconnecting').waitFor({ state: 'visible' });
      await messageAction(ann.page, 'first draft', 'Edit');
      await expectEventually(
        'the composer takes the text',
        () => annBox.inputValue(),
        'first draft',
      );
      await annBox.fill('final text');
      await annBox.press('Enter');
      await messageAction(ann.page, 'take it back', 'Recall');
      const after = ['final text', 'This message was recalled.'];
      await expectEventually('ann sees both changes', () => messageTexts(ann.page), after);
      // The pushes went nowhere: Ben's page still shows what it held.
      await sleep(500);
      assert.deepEqual(await messageTexts(ben.page), before);

      await cut.online();
      await waitOnline(ben.page);
      await expectEventually(
        'ben sees both changes after the reconnect',
        () => messageTexts(ben.page),
        after,
      );
      await messageBubble(ben.page, 'final text').locator('.edited').waitFor();
    },
  );

  test(
    'a message read while the sender was offline shows as read once it is back',
    'reconnect-read',
    async ({ person }) => {
      const gus = await person('gus', { network: true });
      const hal = await person('hal');
      const cut = gus.network;
      assert.ok(cut);
      await startChat(gus.page, 'hal');
      const gusBox = gus.page.getByLabel('Message', { exact: true });
      await gusBox.fill('are you there?');
      await gusBox.press('Enter');
      const tick = ownMessage(gus.page, 'are you there?');
      await tick.locator('[data-tick=delivered]').waitFor();

      await cut.offline();
      await gus.page.getByTestId('reconnecting').waitFor({ state: 'visible' });
      // Hal reads it while gus is away: the receipt push has nowhere to go.
      await hal.page.locator('.conversation', { hasText: 'gus' }).getByRole('link').click();
      await expectEventually('hal sees it', () => messageTexts(hal.page), ['are you there?']);
      await sleep(500);
      await tick.locator('[data-tick=delivered]').waitFor();

      await cut.online();
      await waitOnline(gus.page);
      await tick.locator('[data-tick=read]').waitFor();
    },
  );

  test(
    'a profile changed while the page was offline shows once it is back',
    'reconnect-profile',
    async ({ person }) => {
      const ivo = await person('ivo', { network: true });
      const jo = await person('jo');
      const cut = ivo.network;
      assert.ok(cut);
      const rename = async (name: string) => {
        await sidebarAction(jo.page, 'Profile');
        const dialog = jo.page.getByRole('dialog', { name: 'Your profile' });
        await dialog.getByLabel('Display name').fill(name);
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.waitFor({ state: 'detached' });
      };
      const header = () => ivo.page.getByTestId('peer-display-name').textContent();
      await rename('Jo One');
      await startChat(ivo.page, 'jo');
      await expectEventually('the name in ivo’s header', header, 'Jo One');

      await cut.offline();
      await ivo.page.getByTestId('reconnecting').waitFor({ state: 'visible' });
      // The profile push has nowhere to go.
      await rename('Jo Two');
      await sleep(500);
      assert.equal(await header(), 'Jo One');

      await cut.online();
      await waitOnline(ivo.page);
      await expectEventually('the new name after the reconnect', header, 'Jo Two');
    },
  );
});
