// Proves over real sockets, on every transport, that group changes reach the members as `member` pushes in real time: the removed member is told, then gets no push, pulls only up to its removal and cannot send; an added member is told too and then gets the group's messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ok } from '../test-support/rest.js';
import { RtClient, type Transport } from '../test-support/rt-client.js';
import { groupsApi, groupsServer } from '../test-support/groups-api.js';

const server = groupsServer();
let seq = 0;
const { api, cast } = groupsApi(server);

describe('member pushes in real time', () => {
  const isMember = (f: { type: string }) => f.type === 'member';

  for (const transport of ['ws-json', 'ws-proto', 'tcp'] as Transport[]) {
    it(`tells members and the removed member, then stops pushing to it (${transport})`, async () => {
      const g = await cast();
      const [owner, member, x] = await Promise.all([
        RtClient.connect(server(), transport, g.owner.token, g.owner.device),
        RtClient.connect(server(), transport, g.member.token, g.member.device),
        RtClient.connect(server(), transport, g.x.token, g.x.device),
      ]);
      try {
        const removed = await ok(api.remove(g.admin, g.id, g.x));
        const leftSeq = removed.message.seq as number;
        for (const rt of [owner, member, x]) {
          const push = await rt.waitFor(isMember);
          assert.deepEqual(push, {
            type: 'member',
            conversation: g.id,
            seq: leftSeq,
            event: 'member.removed',
            actor: g.admin.userId,
            targets: [g.x.userId],
            at: removed.message.at,
          });
        }
        // The members also get the system message itself, as any message.
        const sys = await member.waitFor((f) => f.type === 'message' && f.seq === leftSeq);
        assert.equal(sys.type === 'message' && sys.body.kind, 'system');

        // After the removal: the members get the next message, the removed member nothing.
        const from = x.types().length;
        const sent = await ok(api.send(g.owner, g.id, 'not for x'), 201);
        await member.waitFor((f) => f.type === 'message' && f.seq === sent.seq);
        await ok(api.patch(g.owner, g.id, { title: 'Later' }));
        await member.waitFor((f) => f.type === 'member' && f.event === 'title.changed');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(x.types().slice(from), [], 'no push after the removal');

        // It can pull up to its removal and no further, and cannot send.
        const pulled = await x.request({ type: 'pull', conversation: g.id, after: 0, limit: 100 });
        assert.equal(pulled.type, 'pulled');
        if (pulled.type === 'pulled') {
          assert.equal(pulled.messages.at(-1)?.seq, leftSeq);
          assert.equal(pulled.hasMore, false);
        }
        const past = await x.request({ type: 'pull', conversation: g.id, after: leftSeq });
        assert.deepEqual(past.type === 'pulled' && past.messages, []);
        const refused = await x.request({
          type: 'send',
          ref: `x-${++seq}`,
          conversation: g.id,
          body: { kind: 'text', text: 'let me in' },
        });
        assert.equal(refused.type === 'error' && refused.code, 'not_member');

        // Sync tells it once where its membership ended.
        const synced = await x.request({ type: 'sync' });
        const state =
          synced.type === 'synced'
            ? synced.conversations.find((c: { id: string }) => c.id === g.id)
            : undefined;
        assert.equal(state?.leftSeq, leftSeq);
        assert.equal(state?.lastSeq, leftSeq);
      } finally {
        for (const rt of [owner, member, x]) rt.drop();
      }
    });
  }

  it('pushes an addition to the new member too, after the change', async () => {
    const g = await cast();
    const n = await RtClient.connect(server(), 'ws-json', g.n.token, g.n.device);
    const member = await RtClient.connect(server(), 'ws-json', g.member.token, g.member.device);
    try {
      const added = await ok(api.add(g.owner, g.id, [g.n]));
      for (const rt of [n, member]) {
        const push = await rt.waitFor(isMember);
        assert.equal(push.type === 'member' && push.event, 'member.added');
        assert.deepEqual(push.type === 'member' && push.targets, [g.n.userId]);
        assert.equal(push.type === 'member' && push.seq, added.message.seq);
      }
      // Now a member, it gets the group's messages.
      const sent = await ok(api.send(g.owner, g.id, 'welcome'), 201);
      await n.waitFor((f) => f.type === 'message' && f.seq === sent.seq);
    } finally {
      n.drop();
      member.drop();
    }
  });
});
