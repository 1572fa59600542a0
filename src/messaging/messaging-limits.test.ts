// Proves over real sockets that the configured limits hold on the v1 routes: text length counted in characters, the message body in bytes and the group size, each refused with its coded error while storing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, client } from '../test-support/messaging-api.js';

describe('messaging routes with small limits', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    server = await startTestServer({
      PARLEY_TEXT_CHARS_MAX: '100',
      PARLEY_GROUP_MEMBERS_MAX: '3',
    });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  it('refuses text longer than PARLEY_TEXT_CHARS_MAX with 413 body_too_large', async () => {
    const a = await api.user('lim_text_a');
    await api.user('lim_text_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_text_b' });
    const ok = await api.text(a.token, id, 't-100', 'x'.repeat(100));
    assert.equal(ok.status, 201, ok.text);
    assertError(await api.text(a.token, id, 't-101', 'x'.repeat(101)), 413, 'body_too_large');
    assert.equal(await api.lastSeq(a.token, id), 1);
  });

  it('counts the text limit in characters, not UTF-16 code units', async () => {
    const a = await api.user('lim_emoji_a');
    await api.user('lim_emoji_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_emoji_b' });
    const res = await api.text(a.token, id, 'e-60', '\u{1F600}'.repeat(60));
    assert.equal(res.status, 201, res.text);
  });

  it('refuses a group over PARLEY_GROUP_MEMBERS_MAX with 422 too_many_members', async () => {
    const owner = await api.user('lim_grp_owner');
    for (const n of ['lim_grp_1', 'lim_grp_2', 'lim_grp_3']) await api.user(n);
    const full = await api.create(owner.token, {
      kind: 'group',
      title: 'Full',
      members: ['lim_grp_1', 'lim_grp_2'],
    });
    assert.equal(full.status, 201, full.text);
    assert.equal(full.json.members.length, 3);
    const before_ = await api.ids(owner.token);

    const over = await api.create(owner.token, {
      kind: 'group',
      title: 'Over',
      members: ['lim_grp_1', 'lim_grp_2', 'lim_grp_3'],
    });
    assertError(over, 422, 'too_many_members');
    assert.deepEqual(await api.ids(owner.token), before_);
  });

  it('does not count the caller twice when members names the caller too', async () => {
    const owner = await api.user('lim_self_owner');
    for (const n of ['lim_self_1', 'lim_self_2']) await api.user(n);
    const res = await api.create(owner.token, {
      kind: 'group',
      title: 'Self',
      members: ['lim_self_owner', 'lim_self_1', 'lim_self_2'],
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.members.length, 3);
  });
});

describe('messaging routes with a large text limit', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    server = await startTestServer({ PARLEY_TEXT_CHARS_MAX: '1000000' });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  it('refuses a body over PARLEY_MESSAGE_BODY_BYTES_MAX (64 KiB) with 413 body_too_large', async () => {
    const a = await api.user('lim_bytes_a');
    await api.user('lim_bytes_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_bytes_b' });
    const ok = await api.text(a.token, id, 'b-60k', 'x'.repeat(60_000));
    assert.equal(ok.status, 201, ok.text);
    assertError(await api.text(a.token, id, 'b-70k', 'x'.repeat(70_000)), 413, 'body_too_large');
    // Multi-byte characters count by their UTF-8 bytes: 40,000 "é" are 80,000 bytes.
    assertError(await api.text(a.token, id, 'b-utf8', 'é'.repeat(40_000)), 413, 'body_too_large');
    assert.equal(await api.lastSeq(a.token, id), 1);
  });
});
