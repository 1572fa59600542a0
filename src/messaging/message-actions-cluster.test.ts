// Proves that the message actions work on the cluster store and reach users on other nodes: two Parley nodes on one real PostgreSQL and one real Redis, where edits, reactions, recalls by an admin, delete-for-me, and invite-code joins made on one node are pushed to sessions on the other, and the conversation list (previews, mentions, pins) reads the same from both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { callAs, ok, registerUser, type TestUser as User } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../engines/index.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';

const skip = postgresSkipReason() ?? redisSkip();

describe('message actions across two nodes', { skip }, () => {
  let pg: TestPostgres | undefined;
  let redis: RunningRedis | undefined;
  let nodeA: TestServer;
  let nodeB: TestServer;
  let n = 0;

  before(
    async () => {
      [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
      const env = {
        PARLEY_DATABASE_URL: await pg.createDatabase(),
        PARLEY_REDIS_URL: redis.url,
        PARLEY_BLOB_DIR_SHARED: 'true',
      };
      // One after the other: the first start migrates the database. Node B keeps attachments in
      // node A's data directory, so that the directory declared shared is one.
      nodeA = await startTestServer({ ...env, PARLEY_NODE_ID: 'node-a' });
      nodeB = await startTestServer({
        ...env,
        PARLEY_NODE_ID: 'node-b',
        PARLEY_DATA_DIR: nodeA.dataDir,
      });
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await redis?.stop();
    await pg?.stop();
  });

  const call = (s: TestServer, method: string, path: string, u: User, body?: unknown) =>
    callAs(s.url, method, path, u, body);
  const user = (prefix: string): Promise<User> => registerUser(nodeA.url, `${prefix}${++n}`);

  it('pushes edits, reactions, recalls, hides and joins to sessions on the other node', async () => {
    const [alice, bob, carol] = await Promise.all([user('al'), user('bo'), user('ca')]);
    const id = (
      await ok(
        call(nodeA, 'POST', '/v1/conversations', alice, {
          kind: 'group',
          title: 'Across',
          members: [bob.username],
        }),
        201,
      )
    ).id as string;
    const send = async (u: User, s: TestServer, body: unknown) =>
      (
        await ok(
          call(s, 'POST', `/v1/conversations/${id}/messages`, u, { ref: `r${++n}`, body }),
          201,
        )
      ).seq as number;
    const aliceRt = await RtClient.connect(nodeA, 'ws-json', alice.token, alice.device);
    const bobRt = await RtClient.connect(nodeB, 'ws-proto', bob.token, bob.device);
    try {
      const seq = await send(alice, nodeA, { kind: 'text', text: 'hello' });
      await bobRt.waitFor((f) => f.type === 'message' && f.seq === seq, { timeoutMs: 10_000 });

      // Edit on A → pushed to B.
      await ok(
        call(nodeA, 'PATCH', `/v1/conversations/${id}/messages/${seq}`, alice, {
          body: { kind: 'text', text: 'hello, bob', mentions: [bob.userId] },
        }),
      );
      const edited = await bobRt.waitFor((f) => f.type === 'edited', { timeoutMs: 10_000 });
      assert.deepEqual(edited.body, { kind: 'text', text: 'hello, bob', mentions: [bob.userId] });

      // React on B (real time) → pushed to A.
      const reply = await bobRt.request({ type: 'react', conversation: id, seq, emoji: '👋' });
      assert.equal(reply.type, 'reaction', JSON.stringify(reply));
      const reaction = await aliceRt.waitFor((f) => f.type === 'reaction', { timeoutMs: 10_000 });
      assert.deepEqual([reaction.emoji, reaction.count, reaction.user], ['👋', 1, bob.userId]);

      // The list reads the same from both nodes: preview, mention, pin.
      await ok(call(nodeB, 'PATCH', `/v1/conversations/${id}/preferences`, bob, { pinned: true }));
      const listed = (await ok(call(nodeA, 'GET', '/v1/conversations', bob))).conversations[0];
      assert.equal(listed.id, id);
      assert.deepEqual(listed.preferences, { pinned: true, muted: false });
      assert.equal(listed.mentions, 1);
      assert.deepEqual(listed.lastMessage.body.text, 'hello, bob');
      const pulled = await bobRt.request({ type: 'pull', conversation: id });
      assert.deepEqual(pulled.messages[0].reactions, [{ emoji: '👋', count: 1, me: true }]);

      // An admin's recall on A of bob's message sent on B → pushed to B.
      const bobs = await send(bob, nodeB, { kind: 'text', text: 'oops' });
      await ok(call(nodeA, 'POST', `/v1/conversations/${id}/messages/${bobs}/recall`, alice));
      const recalled = await bobRt.waitFor((f) => f.type === 'recalled' && f.seq === bobs, {
        timeoutMs: 10_000,
      });
      assert.equal(recalled.by, alice.userId);

      // Delete for me from bob's laptop on A → bob's phone on B learns.
      const login = await http('POST', `${nodeA.url}/v1/auth/login`, {
        body: { username: bob.username, password: 'correct horse battery', device: 'laptop' },
      });
      assert.equal(login.status, 200, login.text);
      const laptop = { ...bob, token: login.json.token as string, device: 'laptop' };
      await ok(call(nodeA, 'POST', `/v1/conversations/${id}/messages/${seq}/hide`, laptop));
      const hidden = await bobRt.waitFor((f) => f.type === 'hidden', { timeoutMs: 10_000 });
      assert.deepEqual(hidden, { type: 'hidden', conversation: id, seq });

      // A code made on A, used on B → a member push on A.
      const code = (await ok(call(nodeA, 'POST', `/v1/conversations/${id}/invite`, alice), 201))
        .code as string;
      const joined = await ok(call(nodeB, 'POST', `/v1/invites/${code}/join`, carol));
      const member = await aliceRt.waitFor((f) => f.type === 'member', { timeoutMs: 10_000 });
      assert.deepEqual([member.event, member.seq], ['member.joined', joined.message.seq]);
    } finally {
      aliceRt.drop();
      bobRt.drop();
    }
  });
});
