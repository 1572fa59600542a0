// Proves over real sockets that every contact route keeps the contact rules, that refused actions
// change nothing, that a block stops direct conversations (REST and real time, nothing stored),
// and that both users get a `contact` push over the real-time protocol for every change.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { RtClient } from '../test-support/rt-client.js';

type Res = { status: number; json: any; text: string; headers: Record<string, unknown> };

function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
}

describe('contacts routes', () => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.close();
  });

  interface U {
    name: string;
    id: string;
    token: string;
    device: string;
  }

  /** A fresh user with a unique name (tests share one server). */
  async function user(prefix: string): Promise<U> {
    const name = `${prefix}${++n}`;
    const reg = await register(server.url, name);
    return { name, id: reg.userId, token: reg.token, device: reg.device };
  }

  const call = (method: string, path: string, who: U | null, body?: unknown): Promise<Res> =>
    http(method, `${server.url}${path}`, {
      ...(who ? { token: who.token } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  const ask = (from: U, to: U | string, note?: string) =>
    call('POST', '/v1/contacts/requests', from, {
      username: typeof to === 'string' ? to : to.name,
      ...(note !== undefined ? { note } : {}),
    });
  const accept = (me: U, them: U) => call('POST', `/v1/contacts/requests/${them.name}/accept`, me);
  const block = (me: U, them: U) => call('POST', `/v1/contacts/${them.name}/block`, me);
  const unblock = (me: U, them: U) => call('DELETE', `/v1/contacts/${them.name}/block`, me);

  /** Everything one user's lists hold, as usernames: what "nothing changed" compares. */
  async function snapshot(who: U) {
    const names = async (path: string, key: string) => {
      const res = await call('GET', path, who);
      assert.equal(res.status, 200, res.text);
      return (res.json[key] as { user: { username: string }; note?: string }[]).map(
        (e) => e.user.username + (e.note ? `:${e.note}` : ''),
      );
    };
    return {
      contacts: await names('/v1/contacts', 'contacts'),
      incoming: await names('/v1/contacts/requests?direction=incoming', 'requests'),
      outgoing: await names('/v1/contacts/requests?direction=outgoing', 'requests'),
      blocked: await names('/v1/contacts/blocked', 'blocked'),
    };
  }

  async function becomeContacts(a: U, b: U): Promise<void> {
    assert.equal((await ask(a, b)).status, 201);
    assert.equal((await accept(b, a)).status, 200);
  }

  describe('requests', () => {
    it('sends a request with a note; both sides list it; accepting makes both contacts', async () => {
      const [alice, bob] = [await user('alice'), await user('bob')];
      const sent = await ask(alice, bob, 'hi Bob, Alice from work');
      assert.equal(sent.status, 201, sent.text);
      assert.deepEqual(sent.json, { state: 'outgoing' });

      const incoming = await call('GET', '/v1/contacts/requests?direction=incoming', bob);
      assert.equal(incoming.status, 200, incoming.text);
      assert.equal(incoming.json.requests.length, 1);
      assert.deepEqual(incoming.json.requests[0].user, { id: alice.id, username: alice.name });
      assert.equal(incoming.json.requests[0].note, 'hi Bob, Alice from work');
      assert.equal(typeof incoming.json.requests[0].since, 'number');
      assert.equal(incoming.json.next, null);
      assert.deepEqual((await snapshot(alice)).outgoing, [`${bob.name}:hi Bob, Alice from work`]);
      // The default direction is incoming.
      const byDefault = await call('GET', '/v1/contacts/requests', bob);
      assert.deepEqual(byDefault.json, incoming.json);

      const accepted = await accept(bob, alice);
      assert.equal(accepted.status, 200, accepted.text);
      assert.deepEqual(accepted.json, { state: 'contact' });
      assert.deepEqual(await snapshot(alice), {
        contacts: [bob.name],
        incoming: [],
        outgoing: [],
        blocked: [],
      });
      assert.deepEqual(await snapshot(bob), {
        contacts: [alice.name],
        incoming: [],
        outgoing: [],
        blocked: [],
      });
    });

    it('accepts at once when the other side had already asked', async () => {
      const [a, b] = [await user('cross'), await user('cross')];
      assert.equal((await ask(a, b)).status, 201);
      const back = await ask(b, a, 'me too');
      assert.equal(back.status, 200, back.text);
      assert.deepEqual(back.json, { state: 'contact' });
      assert.deepEqual((await snapshot(a)).contacts, [b.name]);
      assert.deepEqual((await snapshot(b)).contacts, [a.name]);
    });

    it('declines: the request goes, and the sender may ask again', async () => {
      const [a, b] = [await user('decl'), await user('decl')];
      await ask(a, b);
      const res = await call('POST', `/v1/contacts/requests/${a.name}/decline`, b);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { state: 'none' });
      assert.deepEqual(await snapshot(a), {
        contacts: [],
        incoming: [],
        outgoing: [],
        blocked: [],
      });
      assert.deepEqual(await snapshot(b), {
        contacts: [],
        incoming: [],
        outgoing: [],
        blocked: [],
      });
      assert.equal((await ask(a, b)).status, 201);
    });

    it("cancels one's own request", async () => {
      const [a, b] = [await user('canc'), await user('canc')];
      await ask(a, b);
      const res = await call('DELETE', `/v1/contacts/requests/${b.name}`, a);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((await snapshot(b)).incoming, []);
      assert.deepEqual((await snapshot(a)).outgoing, []);
      assertError(
        await call('DELETE', `/v1/contacts/requests/${b.name}`, a),
        404,
        'contact_request_not_found',
      );
    });

    it('refuses bad requests with coded errors and changes nothing', async () => {
      const [a, b, c] = [await user('bad'), await user('bad'), await user('bad')];
      await becomeContacts(a, c);
      await ask(a, b, 'first note');
      const before = [await snapshot(a), await snapshot(b), await snapshot(c)];

      assertError(await ask(a, a), 400, 'invalid_request');
      assertError(await ask(a, 'nobody_here'), 404, 'user_not_found');
      assertError(await ask(a, 'Not A Name'), 400, 'invalid_username');
      assertError(await ask(a, b, 'second note'), 409, 'contact_request_exists');
      assertError(await ask(a, c), 409, 'already_contacts');
      assertError(await ask(c, a), 409, 'already_contacts');
      const longNote = 'x'.repeat(server.config.limits.contactNoteCharsMax + 1);
      const d = await user('bad');
      assertError(await ask(a, d, longNote), 400, 'invalid_request');
      assertError(await ask(a, d, 'bell \u0007'), 400, 'invalid_request');
      assertError(
        await call('POST', '/v1/contacts/requests', a, { note: 'x' }),
        400,
        'invalid_request',
      );
      assertError(
        await call('POST', '/v1/contacts/requests', null, { username: b.name }),
        401,
        'unauthenticated',
      );
      // Only the one asked may accept or decline; only the asker may cancel.
      assertError(await accept(a, b), 404, 'contact_request_not_found');
      assertError(await accept(c, a), 404, 'contact_request_not_found');
      assertError(
        await call('POST', `/v1/contacts/requests/${a.name}/decline`, c),
        404,
        'contact_request_not_found',
      );
      assertError(
        await call('DELETE', `/v1/contacts/requests/${a.name}`, b),
        404,
        'contact_request_not_found',
      );
      assertError(await call('DELETE', `/v1/contacts/${b.name}`, a), 404, 'contact_not_found');
      assertError(await call('DELETE', `/v1/contacts/${a.name}`, null), 401, 'unauthenticated');

      assert.deepEqual([await snapshot(a), await snapshot(b), await snapshot(c)], before);
      assert.deepEqual(await snapshot(d), {
        contacts: [],
        incoming: [],
        outgoing: [],
        blocked: [],
      });
    });
  });

  describe('contacts', () => {
    it('removes a contact on both sides', async () => {
      const [a, b] = [await user('rem'), await user('rem')];
      await becomeContacts(a, b);
      const res = await call('DELETE', `/v1/contacts/${a.name}`, b);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { state: 'none' });
      assert.deepEqual((await snapshot(a)).contacts, []);
      assert.deepEqual((await snapshot(b)).contacts, []);
      assertError(await call('DELETE', `/v1/contacts/${b.name}`, a), 404, 'contact_not_found');
    });

    it('pages the contact list by username with limit and next', async () => {
      const me = await user('pager');
      const others = [await user('pg'), await user('pg'), await user('pg')];
      for (const o of others) await becomeContacts(o, me);
      const names = others.map((o) => o.name).sort();
      const first = await call('GET', '/v1/contacts?limit=2', me);
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(
        first.json.contacts.map((e: any) => e.user.username),
        names.slice(0, 2),
      );
      assert.equal(first.json.next, names[1]);
      const second = await call('GET', `/v1/contacts?limit=2&after=${first.json.next}`, me);
      assert.deepEqual(
        second.json.contacts.map((e: any) => e.user.username),
        names.slice(2),
      );
      assert.equal(second.json.next, null);
      assertError(await call('GET', '/v1/contacts?limit=0', me), 400, 'invalid_request');
      assertError(
        await call('GET', '/v1/contacts/requests?direction=sideways', me),
        400,
        'invalid_request',
      );
    });
  });

  describe('blocking', () => {
    it('removes the contact and pending requests both ways, and lists the block', async () => {
      const [a, b, c] = [await user('blk'), await user('blk'), await user('blk')];
      await becomeContacts(a, b);
      await ask(c, a, 'hello');
      const byA = await block(a, b);
      assert.equal(byA.status, 200, byA.text);
      assert.deepEqual(byA.json, { state: 'blocked' });
      assert.deepEqual(await snapshot(a), {
        contacts: [],
        incoming: [c.name + ':hello'],
        outgoing: [],
        blocked: [b.name],
      });
      assert.deepEqual(await snapshot(b), {
        contacts: [],
        incoming: [],
        outgoing: [],
        blocked: [],
      });

      await block(a, c);
      assert.deepEqual((await snapshot(a)).incoming, []);
      assert.deepEqual((await snapshot(c)).outgoing, []);
      assert.equal((await block(a, c)).status, 200, 'blocking twice is harmless');
      assert.deepEqual((await snapshot(a)).blocked, [b.name, c.name].sort());
    });

    it('refuses requests either way while blocked, changing nothing; unblock starts afresh', async () => {
      const [a, b] = [await user('rb'), await user('rb')];
      await block(a, b);
      const before = [await snapshot(a), await snapshot(b)];
      assertError(await ask(b, a), 403, 'blocked');
      assertError(await ask(a, b), 403, 'blocked');
      assertError(await accept(a, b), 404, 'contact_request_not_found');
      assert.equal((await unblock(b, a)).status, 200, 'lifting no block is harmless');
      assertError(await ask(b, a), 403, 'blocked');
      assert.deepEqual([await snapshot(a), await snapshot(b)], before);

      const lifted = await unblock(a, b);
      assert.equal(lifted.status, 200, lifted.text);
      assert.deepEqual(lifted.json, { state: 'none' });
      assert.deepEqual((await snapshot(a)).blocked, []);
      assert.equal((await ask(b, a)).status, 201);
    });

    it('keeps both blocks when both sides block, until both lift', async () => {
      const [a, b] = [await user('both'), await user('both')];
      await block(a, b);
      const byB = await block(b, a);
      assert.equal(byB.status, 200, byB.text);
      assert.deepEqual((await snapshot(b)).blocked, [a.name]);
      await unblock(a, b);
      assertError(await ask(a, b), 403, 'blocked');
      await unblock(b, a);
      assert.equal((await ask(a, b)).status, 201);
    });

    it('refuses to open a direct conversation either way, creating nothing', async () => {
      const [a, b] = [await user('dir'), await user('dir')];
      await block(a, b);
      for (const [from, to] of [
        [b, a],
        [a, b],
      ] as const) {
        const res = await call('POST', '/v1/conversations', from, {
          kind: 'direct',
          with: to.name,
        });
        assertError(res, 403, 'blocked');
        const list = await call('GET', '/v1/conversations', from);
        assert.deepEqual(list.json.conversations, []);
      }
      await unblock(a, b);
      const opened = await call('POST', '/v1/conversations', b, { kind: 'direct', with: a.name });
      assert.equal(opened.status, 201, opened.text);
    });

    it('refuses sends in an existing direct conversation over REST and real time, storing nothing', async () => {
      const [a, b] = [await user('snd'), await user('snd')];
      const opened = await call('POST', '/v1/conversations', a, { kind: 'direct', with: b.name });
      assert.equal(opened.status, 201, opened.text);
      const conv = opened.json.id as string;
      const send = (who: U, ref: string) =>
        call('POST', `/v1/conversations/${conv}/messages`, who, {
          ref,
          body: { kind: 'text', text: ref },
        });
      assert.equal((await send(b, 'before-block')).status, 201);

      await block(a, b);
      assertError(await send(b, 'from-blocked'), 403, 'blocked');
      assertError(await send(a, 'from-blocker'), 403, 'blocked');

      const rt = await RtClient.connect(server, 'ws-json', b.token, b.device);
      try {
        const refused = await rt.request({
          type: 'send',
          ref: 'rt-blocked',
          conversation: conv,
          body: { kind: 'text', text: 'hi' },
        });
        assert.equal(refused.type, 'error');
        assert.equal(refused.code, 'blocked');
        assert.equal(refused.ref, 'rt-blocked');
      } finally {
        rt.drop();
      }

      const history = await call('GET', `/v1/conversations/${conv}/messages`, a);
      assert.deepEqual(
        history.json.messages.map((m: any) => m.body.text),
        ['before-block'],
      );
      const detail = await call('GET', `/v1/conversations/${conv}`, a);
      assert.equal(detail.json.lastSeq, 1);

      await unblock(a, b);
      assert.equal((await send(b, 'after-unblock')).status, 201);
      // The ref refused while blocked was never stored, so it is free to use now.
      const retried = await send(b, 'from-blocked');
      assert.equal(retried.status, 201, retried.text);
      assert.equal(retried.json.seq, 3);
    });

    it('does not hold up groups: a blocked pair still shares a group', async () => {
      const [a, b] = [await user('grp'), await user('grp')];
      const group = await call('POST', '/v1/conversations', a, {
        kind: 'group',
        title: 'team',
        members: [b.name],
      });
      assert.equal(group.status, 201, group.text);
      await block(a, b);
      const res = await call('POST', `/v1/conversations/${group.json.id}/messages`, b, {
        ref: 'g1',
        body: { kind: 'text', text: 'hi team' },
      });
      assert.equal(res.status, 201, res.text);
    });
  });

  describe('pushes', () => {
    it('pushes every change to both users over the real-time protocol', async () => {
      const [a, b] = [await user('push'), await user('push')];
      const ra = await RtClient.connect(server, 'ws-json', a.token, a.device);
      const rb = await RtClient.connect(server, 'ws-proto', b.token, b.device);
      try {
        const cursor = new Map<RtClient, number>([
          [ra, 0],
          [rb, 0],
        ]);
        /** The next contact push on both links must be this one. */
        const expectPush = async (event: string, from: U, to: U, extra: object = {}) => {
          for (const client of [ra, rb]) {
            const got = await client.waitFor((f) => f.type === 'contact', {
              from: cursor.get(client) ?? 0,
            });
            cursor.set(client, client.frames.indexOf(got) + 1);
            assert.equal(typeof got.at, 'number');
            assert.deepEqual(
              { ...got, at: 0 },
              {
                type: 'contact',
                event,
                from: from.id,
                fromUsername: from.name,
                to: to.id,
                toUsername: to.name,
                ...extra,
                at: 0,
              },
            );
          }
        };
        await ask(a, b, 'push note');
        await expectPush('requested', a, b, { note: 'push note' });
        await call('DELETE', `/v1/contacts/requests/${b.name}`, a);
        await expectPush('cancelled', a, b);
        await ask(a, b);
        await expectPush('requested', a, b);
        await call('POST', `/v1/contacts/requests/${a.name}/decline`, b);
        await expectPush('declined', b, a);
        await ask(b, a);
        await expectPush('requested', b, a);
        await accept(a, b);
        await expectPush('accepted', a, b);
        await call('DELETE', `/v1/contacts/${a.name}`, b);
        await expectPush('removed', b, a);
        await block(a, b);
        await expectPush('blocked', a, b);
        await unblock(a, b);
        await expectPush('unblocked', a, b);

        const events = (c: RtClient) => c.ofType('contact').map((f) => f.event);
        const all = ['requested', 'cancelled', 'requested', 'declined', 'requested', 'accepted'];
        all.push('removed', 'blocked', 'unblocked');
        await ra.waitForCount('contact', all.length);
        await rb.waitForCount('contact', all.length);
        assert.deepEqual(events(ra), all);
        assert.deepEqual(events(rb), all);

        // Refused and idempotent actions push nothing.
        assertError(await accept(a, b), 404, 'contact_request_not_found');
        await unblock(a, b);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(ra.ofType('contact').length, all.length);
        assert.equal(rb.ofType('contact').length, all.length);
      } finally {
        ra.drop();
        rb.drop();
      }
    });
  });
});

describe('first-contact budget', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      PARLEY_FIRST_CONTACTS_BURST_MAX: '3',
      PARLEY_FIRST_CONTACTS_REFILL_MS: '600000',
    });
  });

  after(async () => {
    await server.close();
  });

  const call = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
    http(method, `${server.url}${path}`, { token, ...(body !== undefined ? { body } : {}) });
  const open = (token: string, username: string) =>
    call('POST', '/v1/conversations', token, { kind: 'direct', with: username });
  const ask = (token: string, username: string) =>
    call('POST', '/v1/contacts/requests', token, { username });

  it('bounds new direct conversations and contact requests per user; nothing else', async () => {
    const users = new Map<string, Awaited<ReturnType<typeof register>>>();
    for (const name of ['fc_a', 'fc_1', 'fc_2', 'fc_3', 'fc_4', 'fc_5', 'fc_6', 'fc_7', 'fc_b']) {
      users.set(name, await register(server.url, name));
    }
    const a = users.get('fc_a')!.token;
    // fc_6 asked a first, and fc_7 is blocked by a: neither spends a's budget.
    assert.equal((await ask(users.get('fc_6')!.token, 'fc_a')).status, 201);
    assert.equal((await call('POST', '/v1/contacts/fc_7/block', a)).status, 200);
    assertError(await open(a, 'fc_7'), 403, 'blocked');
    assertError(await ask(a, 'fc_7'), 403, 'blocked');

    assert.equal((await open(a, 'fc_1')).status, 201);
    assert.equal((await open(a, 'fc_2')).status, 201);
    assert.equal((await open(a, 'fc_1')).status, 200, 'reopening is free');
    assert.equal((await ask(a, 'fc_3')).status, 201, 'the third first contact');
    assert.equal((await ask(a, 'fc_6')).status, 200, 'accepting their request is free');

    const refusedRequest = await ask(a, 'fc_4');
    assertError(refusedRequest, 429, 'rate_limited');
    assert.ok(Number(refusedRequest.headers['retry-after']) > 0);
    const refusedChat = await open(a, 'fc_5');
    assertError(refusedChat, 429, 'rate_limited');
    // Nothing was created for the refused ones.
    const incoming = await call(
      'GET',
      '/v1/contacts/requests?direction=incoming',
      users.get('fc_4')!.token,
    );
    assert.deepEqual(incoming.json.requests, []);
    const list = await call('GET', '/v1/conversations', users.get('fc_5')!.token);
    assert.deepEqual(list.json.conversations, []);
    // Another user's budget is its own.
    assert.equal((await open(users.get('fc_b')!.token, 'fc_5')).status, 201);
  });
});
