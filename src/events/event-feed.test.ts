// Proves, with a real server and a real HTTP receiver, that the event feed (docs/events.md)
// carries what happens to a message after it is stored: a message.stored, then message.edited
// with the new body, message.reaction for a reaction added and for one taken back (with the
// count after each), and message.recalled, in that order; and that a user's delete-for-me, which
// changes nobody else's view, is not in the feed; and that a profile change and an account's
// deletion are (user.profile_changed, user.deleted).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { callAs, registerUser } from '../test-support/rest.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { until } from '../test-support/wait.js';

const WAIT_MS = 10_000;
/** register's default password (test-support/server.ts). */
const PASSWORD = 'correct horse battery';

interface FeedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

describe('event feed: message actions', () => {
  let receiver: Server;
  let server: TestServer;
  const events: FeedEvent[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as FeedEvent);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    assert.ok(address && typeof address === 'object');
    server = await startTestServer({
      PARLEY_WEBHOOK_URLS: `http://127.0.0.1:${address.port}/feed`,
      PARLEY_WEBHOOK_SECRET: 'feed-secret',
    });
  });

  after(async () => {
    await server.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('carries edits, reactions added and removed, and recalls, in order; not hides', async () => {
    const alice = await registerUser(server.url, 'feed_alice');
    const bob = await registerUser(server.url, 'feed_bob');
    /** A REST call that must succeed (2xx); its JSON. */
    const call = async (u: typeof alice, method: string, path: string, body?: unknown) => {
      const res = await callAs(server.url, method, path, u, body);
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.text}`);
      return res.json;
    };
    const id = (
      await call(alice, 'POST', '/v1/conversations', { kind: 'direct', with: 'feed_bob' })
    ).id as string;
    const base = `/v1/conversations/${id}/messages`;
    await call(alice, 'POST', base, { ref: 'f1', body: { kind: 'text', text: 'first' } });
    await call(alice, 'PATCH', `${base}/1`, { body: { kind: 'text', text: 'second' } });
    await call(bob, 'POST', `${base}/1/reactions`, { emoji: '👍' });
    await call(bob, 'DELETE', `${base}/1/reactions?emoji=${encodeURIComponent('👍')}`);
    await call(bob, 'POST', `${base}/1/hide`);
    await call(alice, 'POST', `${base}/1/recall`);

    // Opening the conversation also emitted conversation.members_changed: the messages' events.
    const mine = () =>
      events.filter((e) => e.data.conversation === id && e.type.startsWith('message.'));
    await until(
      () => mine().some((e) => e.type === 'message.recalled'),
      WAIT_MS,
      'the recall reaches the receiver',
    );
    const feed = mine();
    assert.deepEqual(
      feed.map((e) => e.type),
      [
        'message.stored',
        'message.edited',
        'message.reaction',
        'message.reaction',
        'message.recalled',
      ],
      'in commit order, and no event for the hide',
    );
    const [stored, edited, added, removed] = feed;
    assert.deepEqual(edited!.data.body, { kind: 'text', text: 'second' });
    assert.equal(edited!.data.seq, 1);
    assert.equal(edited!.data.messageId, stored!.data.messageId);
    assert.equal(edited!.data.by, alice.userId);
    assert.equal(typeof edited!.data.editedAt, 'number');
    assert.deepEqual(
      [added!.data.user, added!.data.emoji, added!.data.added, added!.data.count],
      [bob.userId, '👍', true, 1],
    );
    assert.deepEqual(
      [removed!.data.user, removed!.data.emoji, removed!.data.added, removed!.data.count],
      [bob.userId, '👍', false, 0],
    );
    assert.equal(new Set(feed.map((e) => e.id)).size, feed.length, 'unique ids');
  });

  it('counts its deliveries on /metrics', async () => {
    assert.ok(events.length > 0, 'the test before delivered events');
    const delivered = async (): Promise<number> => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const m = /^parley_webhook_events_total\{[^}]*result="delivered"[^}]*\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : -1;
    };
    // A delivery counts once the receiver's answer is back, just after it recorded the event.
    let seen = -1;
    for (let i = 0; i < 50 && seen !== events.length; i++) {
      seen = await delivered();
      if (seen !== events.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(seen, events.length);
  });

  it('carries profile changes and account deletions', async () => {
    const cleo = await registerUser(server.url, 'feed_cleo');
    const saved = await callAs(server.url, 'PATCH', '/v1/me/profile', cleo, {
      displayName: 'Cleo',
      bio: 'likes feeds',
    });
    assert.equal(saved.status, 200, saved.text);
    const gone = await callAs(server.url, 'DELETE', '/v1/me', cleo, { password: PASSWORD });
    assert.equal(gone.status, 204, gone.text);

    const hers = () => events.filter((e) => e.data.user === cleo.userId);
    await until(
      () => hers().some((e) => e.type === 'user.deleted'),
      WAIT_MS,
      'the deletion reaches the receiver',
    );
    const [changed, deleted] = hers();
    assert.deepEqual(
      hers().map((e) => e.type),
      ['user.profile_changed', 'user.deleted'],
    );
    assert.deepEqual(
      { ...changed!.data, at: 0 },
      {
        user: cleo.userId,
        username: 'feed_cleo',
        displayName: 'Cleo',
        bio: 'likes feeds',
        avatar: null,
        at: 0,
      },
    );
    assert.equal(typeof changed!.data.at, 'number');
    assert.deepEqual(deleted!.data, { user: cleo.userId, username: 'feed_cleo' });
  });
});
