// Proves paging of GET /v1/conversations on a real server: pages of any size, followed by their
// `next`, give the unpaged list exactly (pinned first, then by activity), each conversation once;
// the last page says next: null; a bad cursor or limit is a coded 400; and the SDK's listPage
// walks the same pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParleyApi } from '../sdk/index.js';
import { assertError, callAs, ok, registerUser, type TestUser } from '../test-support/rest.js';
import { startTestServer, type TestServer } from '../test-support/server.js';

describe('GET /v1/conversations in pages', () => {
  let server: TestServer;
  let ann: TestUser;
  let all: string[];

  before(async () => {
    server = await startTestServer();
    ann = await registerUser(server.url, 'pages-ann');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const peer = await registerUser(server.url, `pages-peer${i}`);
      const c = await ok(
        callAs(server.url, 'POST', '/v1/conversations', ann, {
          kind: 'direct',
          with: peer.username,
        }),
        201,
      );
      ids.push(c.id as string);
    }
    // Activity and a pin reorder the list: the third is pinned, the fifth has a message.
    await ok(
      callAs(server.url, 'PATCH', `/v1/conversations/${ids[2]}/preferences`, ann, { pinned: true }),
    );
    await ok(
      callAs(server.url, 'POST', `/v1/conversations/${ids[4]}/messages`, ann, {
        ref: 'pages-1',
        body: { kind: 'text', text: 'moves up' },
      }),
      201,
    );
    const whole = await ok(callAs(server.url, 'GET', '/v1/conversations', ann));
    assert.equal(whole.next, null);
    all = (whole.conversations as { id: string }[]).map((c) => c.id);
    assert.equal(all.length, 7);
    assert.equal(all[0], ids[2], 'the pinned one first');
    assert.equal(all[1], ids[4], 'then the one with the newest activity');
  });

  after(async () => {
    await server.close();
  });

  it('gives the whole list, in order and once each, page by page', async () => {
    for (const limit of [1, 3, 7, 200]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const query: string = `limit=${limit}${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`;
        const page = await ok(callAs(server.url, 'GET', `/v1/conversations?${query}`, ann));
        const ids = (page.conversations as { id: string }[]).map((c) => c.id);
        assert.ok(ids.length <= limit);
        seen.push(...ids);
        cursor = page.next as string | null;
        if (cursor === null) break;
      }
      assert.equal(cursor, null, `limit ${limit}: the last page says so`);
      assert.deepEqual(seen, all, `limit ${limit}`);
    }
  });

  it('refuses a bad cursor or limit with a coded 400', async () => {
    const get = (q: string) => callAs(server.url, 'GET', `/v1/conversations?${q}`, ann);
    assertError(await get('limit=2&after=not-a-cursor'), 400, 'invalid_cursor');
    assertError(await get('limit=0'), 400, 'invalid_request');
    assertError(await get('limit=201'), 400, 'invalid_request');
  });

  it('is what the SDK’s listPage walks', async () => {
    const api = new ParleyApi({ url: server.url, token: ann.token });
    const seen: string[] = [];
    let next: string | null | undefined;
    for (let pages = 0; pages < 10 && next !== null; pages++) {
      const page = await api.conversations.listPage({ limit: 2, ...(next ? { after: next } : {}) });
      seen.push(...page.conversations.map((c) => c.id));
      next = page.next;
    }
    assert.deepEqual(seen, all);
  });
});
