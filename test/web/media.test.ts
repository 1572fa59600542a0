// Proves, in a real browser against a real server, audio messages in the web client: a WAV file
// picked in the composer is sent as an audio message with its length, measured by the sender's
// browser, and the other member gets a working player (the bytes decode: it reports the same
// length) instead of a download button.
import assert from 'node:assert/strict';
import { describeInBrowser, expectEventually, startChat } from './browser.js';

/** A valid 16-bit mono PCM WAV of `seconds` of a 440 Hz tone at 8 kHz. */
function wav(seconds: number): Buffer {
  const rate = 8_000;
  const samples = Math.round(rate * seconds);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  }
  const head = Buffer.alloc(44);
  head.write('RIFF', 0);
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8);
  head.write('fmt ', 12);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36);
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

describeInBrowser('web client: audio messages', (test) => {
  test(
    'an audio file is sent with its length and plays for the other member',
    'audio message',
    async ({ person }) => {
      const alice = await person('alice');
      const bob = await person('bob');
      await startChat(alice.page, 'bob');

      await alice.page.locator('#composer-file').setInputFiles({
        name: 'hello.wav',
        mimeType: 'audio/wav',
        buffer: wav(2),
      });
      await alice.page.getByRole('button', { name: 'Send' }).click();

      await bob.page.locator('.conversation', { hasText: 'alice' }).getByRole('link').click();
      const player = bob.page.getByLabel('Audio message (2 s)');
      await player.waitFor();
      assert.match((await player.getAttribute('src')) ?? '', /^blob:/);
      assert.equal(await bob.page.locator('.messages .file-chip').count(), 0, 'no download button');
      await expectEventually(
        'the bytes decode as 2 s of audio',
        () =>
          player.evaluate((el) =>
            Math.round((el as unknown as { duration: number }).duration * 10),
          ),
        20,
      );
      await alice.page.getByLabel('Audio message (2 s)').waitFor();
    },
  );
});
