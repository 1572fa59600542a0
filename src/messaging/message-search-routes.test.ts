// Proves over real sockets, on the embedded server (SQLite file, append thread), that GET
// /v1/search finds what a user may read, as soon as its send was answered, pages with next, and
// refuses bad input with a coded error; searches are budgeted per user.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';

type Res = { status: number; json: any; text: string };

function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.doesNotMatch(res.text, /"stack"|\n\s+at /);
}

describe('GET /v1/search', () => {
  let server: TestServer;
  let url: string;
  let refs = 0;

  before(async () => {
    server = await startTestServer({ PARLEY_SEND_BURST_MAX: '1000' });
    url = server.url;
  });

  after(async () => {
    await server.close();
  });

  const search = (token: string | undefined, query: Record<string, string>): Promise<Res> =>
    http('GET', `${url}/v1/search?${new URLSearchParams(query).toString()}`, {
      ...(token !== undefined ? { token } : {}),
    });

  async function conversation(token: string, body: unknown): Promise<string> {
    const res = await http('POST', `${url}/v1/conversations`, { token, body });
    assert.ok(res.status === 201 || res.status === 200, res.text);
    return res.json.id as string;
  }

  async function send(token: string, conv: string, text: string): Promise<number> {
    const res = await http('POST', `${url}/v1/conversations/${conv}/messages`, {
      token,
      body: { ref: `s${++refs}`, body: { kind: 'text', text } },
    });
    assert.equal(res.status, 201, res.text);
    return res.json.seq as number;
  }

  it('finds a message as soon as its send is answered, in one conversation or in all of the caller’s', async () => {
    const ann = await register(url, 'search-ann');
    const bob = await register(url, 'search-bob');
    const eve = await register(url, 'search-eve');
    const direct = await conversation(ann.token, { kind: 'direct', with: 'search-bob' });
    const group = await conversation(ann.token, {
      kind: 'group',
      title: 'Trip',
      members: ['search-bob'],
    });
    const seq = await send(bob.token, direct, 'The train leaves at 9:40 from Zürich');
    await send(ann.token, group, 'Who books the train tickets?');
    await send(ann.token, group, 'Dinner at eight');

    const one = await search(ann.token, { q: 'train', conversation: direct });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.next, null);
    assert.equal(one.json.messages.length, 1);
    const [m] = one.json.messages;
    assert.deepEqual(Object.keys(m).sort(), [
      'at',
      'body',
      'conversation',
      'device',
      'id',
      'sender',
      'seq',
    ]);
    assert.equal(m.conversation, direct);
    assert.equal(m.seq, seq);
    assert.equal(m.sender, bob.userId);
    assert.deepEqual(m.body, { kind: 'text', text: 'The train leaves at 9:40 from Zürich' });

    const all = await search(bob.token, { q: 'TRAIN' });
    assert.deepEqual(
      all.json.messages.map((x: any) => x.body.text),
      ['Who books the train tickets?', 'The train leaves at 9:40 from Zürich'],
    );
    assert.deepEqual((await search(ann.token, { q: 'zürich 9' })).json.messages.length, 1);
    assert.deepEqual((await search(eve.token, { q: 'train' })).json, { messages: [], next: null });
    assertError(await search(eve.token, { q: 'train', conversation: group }), 403, 'not_member');
  });

  it('pages with next, and caps a page at 50', async () => {
    const ann = await register(url, 'pager-ann');
    await register(url, 'pager-bob');
    const direct = await conversation(ann.token, { kind: 'direct', with: 'pager-bob' });
    for (let i = 1; i <= 60; i++) await send(ann.token, direct, `note ${i}`);
    const first = await search(ann.token, { q: 'note', limit: '1000' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.messages.length, 50, 'capped');
    assert.equal(typeof first.json.next, 'string');
    const second = await search(ann.token, { q: 'note', limit: '1000', before: first.json.next });
    assert.equal(second.json.messages.length, 10);
    assert.equal(second.json.next, null);
    const texts = [...first.json.messages, ...second.json.messages].map((x: any) => x.body.text);
    assert.deepEqual(
      texts,
      Array.from({ length: 60 }, (_, i) => `note ${60 - i}`),
    );
    const small = await search(ann.token, { q: 'note' });
    assert.equal(small.json.messages.length, 20, 'the default page');
  });

  it('refuses bad input with a coded error', async () => {
    const ann = await register(url, 'bad-ann');
    assertError(await search(undefined, { q: 'x' }), 401, 'unauthenticated');
    assertError(
      await http('GET', `${url}/v1/search`, { token: ann.token }),
      400,
      'invalid_request',
    );
    assertError(await search(ann.token, { q: '' }), 400, 'invalid_search');
    assertError(await search(ann.token, { q: '?! --' }), 400, 'invalid_search');
    assertError(await search(ann.token, { q: 'a b c d e f g h i' }), 400, 'invalid_search');
    assertError(await search(ann.token, { q: 'x'.repeat(65) }), 400, 'invalid_search');
    assertError(await search(ann.token, { q: 'ok '.repeat(100) }), 400, 'invalid_search');
    assertError(await search(ann.token, { q: 'ok', before: 'abc' }), 400, 'invalid_cursor');
    assertError(await search(ann.token, { q: 'ok', before: '0' }), 400, 'invalid_cursor');
    assertError(await search(ann.token, { q: 'ok', limit: '0' }), 400, 'invalid_request');
    assertError(
      await search(ann.token, { q: 'ok', conversation: 'cNoSuchThing12345' }),
      404,
      'conversation_not_found',
    );
    assertError(
      await search(ann.token, { q: 'ok', conversation: 'not an id!' }),
      404,
      'conversation_not_found',
    );
  });
});

describe('GET /v1/search, budgeted', () => {
  it('refuses a user past its burst with 429 and Retry-After; other users search on', async () => {
    const server = await startTestServer({
      PARLEY_SEARCH_BURST_MAX: '3',
      PARLEY_SEARCH_REFILL_MS: '60000',
    });
    try {
      const ann = await register(server.url, 'budget-ann');
      const bob = await register(server.url, 'budget-bob');
      const search = (token: string) => http('GET', `${server.url}/v1/search?q=hello`, { token });
      for (let i = 0; i < 3; i++) assert.equal((await search(ann.token)).status, 200);
      const refused = await search(ann.token);
      assertError(refused, 429, 'rate_limited');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      assert.equal((await search(bob.token)).status, 200);
    } finally {
      await server.close();
    }
  });
});
