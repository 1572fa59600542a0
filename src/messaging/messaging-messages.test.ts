// Proves over real sockets that the v1 message routes answer as documented: sends numbered densely (under concurrency too) with a repeated ref answered by the original, history paged forward and backward within its cap, read marks that only move forward; each bad request refused with its coded error while storing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, client, type Res, type User } from '../test-support/messaging-api.js';

const MESSAGE_KEYS = ['at', 'body', 'conversation', 'device', 'id', 'sender', 'seq'];

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const seqsOf = (res: Res): number[] => (res.json.messages as { seq: number }[]).map((m) => m.seq);

describe('messaging routes', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    // Some cases store 120 messages of one user at once: above the REST send budget's default
    // burst (100), which send-budget.test.ts covers.
    server = await startTestServer({ PARLEY_SEND_BURST_MAX: '1000' });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  describe('POST /v1/conversations/:id/messages', () => {
    it('stores with dense seqs and answers a repeated ref with the original (200, duplicate)', async () => {
      const a = await api.user('send_a', 'phone');
      await api.user('send_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_b' });

      const sent: any[] = [];
      for (const i of [1, 2, 3]) {
        const res = await api.text(a.token, id, `ref-${i}`, `message ${i}`);
        assert.equal(res.status, 201, res.text);
        assert.deepEqual(Object.keys(res.json).sort(), ['at', 'duplicate', 'id', 'seq']);
        assert.equal(res.json.seq, i);
        assert.equal(res.json.duplicate, false);
        assert.equal(typeof res.json.id, 'string');
        assert.ok(Number.isInteger(res.json.at) && res.json.at > 0);
        sent.push(res.json);
      }
      assert.equal(new Set(sent.map((m) => m.id)).size, 3);

      const again = await api.text(a.token, id, 'ref-2', 'a different text');
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.json, { ...sent[1], duplicate: true });
      assert.equal(await api.lastSeq(a.token, id), 3);
      const stored = await api.all(a.token, id);
      assert.deepEqual(
        stored.map((m) => m.body.text),
        ['message 1', 'message 2', 'message 3'],
      );
    });

    it('treats the same ref from another device or user as a new message', async () => {
      const a = await api.user('send_dev', 'phone');
      const b = await api.user('send_dev_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_dev_b' });
      const first = await api.text(a.token, id, 'same-ref', 'from phone');
      assert.equal(first.status, 201, first.text);

      const laptop = await api.login('send_dev', 'laptop');
      const second = await api.text(laptop.token, id, 'same-ref', 'from laptop');
      assert.equal(second.status, 201, second.text);
      assert.equal(second.json.duplicate, false);
      assert.equal(second.json.seq, 2);
      assert.notEqual(second.json.id, first.json.id);

      const third = await api.text(b.token, id, 'same-ref', 'from b');
      assert.equal(third.status, 201, third.text);
      assert.equal(third.json.seq, 3);

      const messages = await api.all(a.token, id);
      assert.deepEqual(
        messages.map((m) => [m.seq, m.sender, m.device]),
        [
          [1, a.userId, 'phone'],
          [2, a.userId, 'laptop'],
          [3, b.userId, b.device],
        ],
      );
    });

    it('refuses a ref reused in another conversation with 409 ref_reused', async () => {
      const a = await api.user('reuse_a');
      await api.user('reuse_b');
      const one = await api.open(a.token, { kind: 'direct', with: 'reuse_b' });
      const two = await api.open(a.token, { kind: 'room', name: 'reuse-room' });
      assert.equal((await api.text(a.token, one, 'reused', 'first')).status, 201);
      assertError(await api.text(a.token, two, 'reused', 'second'), 409, 'ref_reused');
      assert.equal(await api.lastSeq(a.token, two), 0);
      assert.equal(await api.lastSeq(a.token, one), 1);
    });

    it('refuses a non-member (403) and an unknown conversation (404), storing nothing', async () => {
      const a = await api.user('send_err_a');
      await api.user('send_err_b');
      const stranger = await api.user('send_err_x');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_err_b' });
      await api.fill(a, id, 2, 'pre');

      assertError(await api.text(stranger.token, id, 'x-1', 'let me in'), 403, 'not_member');
      assertError(
        await api.text(a.token, 'cNoSuchConversation', 'x-2', 'hello?'),
        404,
        'conversation_not_found',
      );
      assert.equal(await api.lastSeq(a.token, id), 2);
      // Refused refs were not consumed: both still send normally.
      const retry = await api.text(a.token, id, 'x-2', 'now here');
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.json.seq, 3);
    });

    it('refuses bad refs, bodies and types with 400, storing nothing', async () => {
      const a = await api.user('send_bad');
      await api.user('send_bad_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_bad_b' });
      await api.fill(a, id, 1, 'pre');
      const text = { kind: 'text', text: 'hi' };

      const invalid: unknown[] = [
        { body: text },
        { ref: '', body: text },
        { ref: 'r'.repeat(65), body: text },
        { ref: 5, body: text },
        { ref: 'ok-ref' },
        { ref: 'ok-ref', body: 'hi' },
        { ref: 'ok-ref', body: ['hi'] },
        { ref: 'ok-ref', body: null },
        { ref: 'ok-ref', body: { text: 'no kind' } },
        { ref: 'ok-ref', body: { kind: 'sticker', text: 'hi' } },
        { ref: 'ok-ref', body: { kind: 5, text: 'hi' } },
        { ref: 'ok-ref', body: { kind: 'text' } },
        { ref: 'ok-ref', body: { kind: 'text', text: '' } },
        { ref: 'ok-ref', body: { kind: 'text', text: 5 } },
        [],
      ];
      for (const body of invalid) {
        assertError(await api.send(a.token, id, body), 400, 'invalid_request');
      }
      assertError(await api.send(a.token, id, '{"ref": "x", "body": {'), 400, 'invalid_json');
      assertError(
        await api.send(undefined, id, { ref: 'ok-ref', body: text }),
        401,
        'unauthenticated',
      );
      assert.equal(await api.lastSeq(a.token, id), 1);

      // The edges of the ref length are accepted, and ok-ref was never consumed.
      const r64 = await api.text(a.token, id, 'r'.repeat(64), 'long ref');
      assert.equal(r64.status, 201, r64.text);
      const ok = await api.text(a.token, id, 'ok-ref', 'fine');
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.json.seq, 3);
    });

    it('gives 50 concurrent sends from two users the seqs 1..50 exactly', async () => {
      const a = await api.user('conc_a');
      const b = await api.user('conc_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'conc_b' });
      const results = await Promise.all(
        range(1, 50).map((i) => {
          const who = i % 2 === 0 ? a : b;
          return api.text(who.token, id, `conc-${i}`, `concurrent ${i}`);
        }),
      );
      for (const res of results) assert.equal(res.status, 201, res.text);
      const seqs = results.map((r) => r.json.seq as number).sort((x, y) => x - y);
      assert.deepEqual(seqs, range(1, 50));
      assert.equal(new Set(results.map((r) => r.json.id)).size, 50);
      assert.equal(await api.lastSeq(a.token, id), 50);

      const stored = await api.all(b.token, id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        range(1, 50),
      );
      const bySeq = new Map(results.map((r) => [r.json.seq, r.json.id]));
      for (const m of stored) assert.equal(m.id, bySeq.get(m.seq));
      for (let i = 1; i < stored.length; i++) assert.ok(stored[i].at >= stored[i - 1].at);
    });
  });

  describe('GET /v1/conversations/:id/messages', () => {
    let alice: User;
    let bob: User;
    let stranger: User;
    let conv: string;

    before(async () => {
      alice = await api.user('hist_alice', 'web');
      bob = await api.user('hist_bob');
      stranger = await api.user('hist_stranger');
      conv = await api.open(alice.token, { kind: 'direct', with: 'hist_bob' });
      assert.deepEqual(await api.fill(alice, conv, 25, 'h'), range(1, 25));
    });

    it('returns the newest page by default (limit 10, ascending, hasMore)', async () => {
      const res = await api.history(bob.token, conv);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(seqsOf(res), range(16, 25));
      assert.equal(res.json.hasMore, true);
    });

    it('returns full message objects', async () => {
      const res = await api.history(bob.token, conv, 'after=0&limit=1');
      assert.equal(res.status, 200, res.text);
      const [m] = res.json.messages;
      for (const key of MESSAGE_KEYS) assert.ok(key in m, `message lacks ${key}`);
      assert.equal(m.conversation, conv);
      assert.equal(m.seq, 1);
      assert.equal(m.sender, alice.userId);
      assert.equal(m.device, 'web');
      assert.deepEqual(m.body, { kind: 'text', text: 'h 1' });
      assert.ok(Number.isInteger(m.at) && m.at > 0);
      assert.equal(typeof m.id, 'string');
    });

    it('pages forward with after= and covers every message exactly once', async () => {
      const first = await api.history(bob.token, conv, 'after=0&limit=10');
      assert.deepEqual(seqsOf(first), range(1, 10));
      assert.equal(first.json.hasMore, true);

      const seen: number[] = [];
      let cursor = 0;
      let pages = 0;
      for (;;) {
        const res = await api.history(bob.token, conv, `after=${cursor}&limit=10`);
        assert.equal(res.status, 200, res.text);
        seen.push(...seqsOf(res));
        pages++;
        if (!res.json.hasMore) break;
        cursor = seqsOf(res).at(-1)!;
      }
      assert.deepEqual(seen, range(1, 25));
      assert.equal(pages, 3);
    });

    it('pages backward with before= and covers every message exactly once', async () => {
      const first = await api.history(bob.token, conv, 'before=26&limit=10');
      assert.deepEqual(seqsOf(first), range(16, 25));
      assert.equal(first.json.hasMore, true);

      const pages: number[][] = [];
      let cursor = 26;
      for (;;) {
        const res = await api.history(bob.token, conv, `before=${cursor}&limit=10`);
        assert.equal(res.status, 200, res.text);
        const seqs = seqsOf(res);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
        );
        pages.push(seqs);
        if (!res.json.hasMore) break;
        cursor = seqs[0]!;
      }
      assert.deepEqual(pages, [range(16, 25), range(6, 15), range(1, 5)]);
    });

    it('honours after= and before= together', async () => {
      const res = await api.history(bob.token, conv, 'after=5&before=11');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(seqsOf(res), range(6, 10));
      assert.equal(res.json.hasMore, false);
      const empty = await api.history(bob.token, conv, 'after=5&before=6');
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.json, { messages: [], hasMore: false });
    });

    it('refuses a limit of 0, negative or non-integer, and bad cursors, with 400', async () => {
      for (const query of [
        'limit=0',
        'limit=-1',
        'limit=1.5',
        'limit=ten',
        'after=-1',
        'before=-5',
        'after=x',
      ]) {
        assertError(await api.history(bob.token, conv, query), 400, 'invalid_request');
      }
    });

    it('refuses a non-member (403), an unknown conversation (404) and no token (401)', async () => {
      assertError(await api.history(stranger.token, conv), 403, 'not_member');
      assertError(await api.history(stranger.token, conv, 'after=0&limit=5'), 403, 'not_member');
      assertError(
        await api.history(alice.token, 'cNoSuchConversation'),
        404,
        'conversation_not_found',
      );
      assertError(await api.history(undefined, conv), 401, 'unauthenticated');
    });

    it('checks membership even when after= and before= leave nothing between them', async () => {
      assertError(await api.history(stranger.token, conv, 'after=5&before=6'), 403, 'not_member');
      assertError(
        await api.history(alice.token, 'cNoSuchConversation', 'after=5&before=6'),
        404,
        'conversation_not_found',
      );
    });

    it('caps a limit above the maximum (100)', async () => {
      const big = await api.user('hist_big');
      await api.user('hist_big_b');
      const id = await api.open(big.token, { kind: 'direct', with: 'hist_big_b' });
      const sends = await Promise.all(
        range(1, 120).map((i) => api.text(big.token, id, `big-${i}`, `big ${i}`)),
      );
      for (const res of sends) assert.equal(res.status, 201, res.text);

      const forward = await api.history(big.token, id, 'after=0&limit=1000');
      assert.equal(forward.status, 200, forward.text);
      assert.deepEqual(seqsOf(forward), range(1, 100));
      assert.equal(forward.json.hasMore, true);

      const newest = await api.history(big.token, id, 'limit=101');
      assert.equal(newest.status, 200, newest.text);
      assert.deepEqual(seqsOf(newest), range(21, 120));
      assert.equal(newest.json.hasMore, true);

      const exact = await api.history(big.token, id, 'after=100&limit=100');
      assert.deepEqual(seqsOf(exact), range(101, 120));
      assert.equal(exact.json.hasMore, false);
    });
  });

  describe('POST /v1/conversations/:id/read', () => {
    it('moves readSeq forward only, capped at lastSeq, and unread follows', async () => {
      const a = await api.user('read_a');
      const b = await api.user('read_b');
      const stranger = await api.user('read_x');
      const id = await api.open(a.token, { kind: 'direct', with: 'read_b' });
      await api.fill(a, id, 5, 'r');

      const unreadOf = async (u: User) => {
        const list = (await api.list(u.token)).json.conversations as any[];
        const c = list.find((x) => x.id === id);
        assert.ok(c);
        assert.equal(c.unread, c.lastSeq - c.readSeq);
        return { readSeq: c.readSeq as number, unread: c.unread as number };
      };
      assert.deepEqual(await unreadOf(b), { readSeq: 0, unread: 5 });

      const r3 = await api.read(b.token, id, { seq: 3 });
      assert.equal(r3.status, 200, r3.text);
      assert.equal(r3.json.readSeq, 3);
      assert.ok(r3.json.deliveredSeq >= 3);
      assert.deepEqual(await unreadOf(b), { readSeq: 3, unread: 2 });

      const back = await api.read(b.token, id, { seq: 1 });
      assert.equal(back.status, 200, back.text);
      assert.equal(back.json.readSeq, 3);
      assert.deepEqual(await unreadOf(b), { readSeq: 3, unread: 2 });

      const far = await api.read(b.token, id, { seq: 1000 });
      assert.equal(far.status, 200, far.text);
      assert.equal(far.json.readSeq, 5);
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 0 });

      await api.fill(a, id, 2, 'r2');
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 2 });
      const got = await api.get(b.token, id);
      assert.equal(got.json.readSeq, 5);
      assert.equal(got.json.unread, 2);

      // The sender has read its own messages; b's reads do not move a's watermark.
      assert.deepEqual(await unreadOf(a), { readSeq: 7, unread: 0 });

      assertError(await api.read(stranger.token, id, { seq: 1 }), 403, 'not_member');
      assertError(
        await api.read(b.token, 'cNoSuchConversation', { seq: 1 }),
        404,
        'conversation_not_found',
      );
      for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }]) {
        assertError(await api.read(b.token, id, body), 400, 'invalid_request');
      }
      assertError(await api.read(b.token, id, '{"seq":'), 400, 'invalid_json');
      assertError(await api.read(undefined, id, { seq: 1 }), 401, 'unauthenticated');
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 2 });
    });
  });
});
