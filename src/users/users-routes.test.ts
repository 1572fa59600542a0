// Proves over real sockets that profiles read and update as documented (refused input changes
// nothing); that an avatar must be the user's own uploaded image, which every signed-in user may
// then download, and nobody else once replaced; and that user search by username prefix is
// case-folded, bounded and paged.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { RtClient } from '../test-support/rt-client.js';

type Res = { status: number; json: any; text: string };

/** Uploads 64 random bytes (typed an image by default) as an attachment of the token's user; its id. */
async function uploadImage(url: string, token: string, type = 'image/png'): Promise<string> {
  const res = await http('POST', `${url}/v1/attachments`, {
    token,
    body: randomBytes(64),
    headers: { 'content-type': type },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.id as string;
}

function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
}

describe('users routes', () => {
  let server: TestServer;
  let token: string;
  let meId: string;

  const get = (path: string, t: string | null = token) =>
    http('GET', `${server.url}${path}`, t === null ? {} : { token: t });
  const patch = (body: unknown, t: string | null = token) =>
    http('PATCH', `${server.url}/v1/me/profile`, { body, ...(t === null ? {} : { token: t }) });
  const upload = (t: string, type?: string) => uploadImage(server.url, t, type);
  const download = (id: string, t: string) =>
    http('GET', `${server.url}/v1/attachments/${id}`, { token: t });

  before(async () => {
    server = await startTestServer();
    const me = await register(server.url, 'prof_me');
    token = me.token;
    meId = me.userId;
  });

  after(async () => {
    await server.close();
  });

  describe('profiles', () => {
    it('shows an empty profile for a user who never edited one', async () => {
      const other = await register(server.url, 'prof_empty');
      const res = await get('/v1/users/PROF_EMPTY');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, {
        user: {
          id: other.userId,
          username: 'prof_empty',
          displayName: null,
          bio: null,
          avatar: null,
        },
      });
    });

    it('updates the fields given, clears nulls, keeps the rest, and shows it to others', async () => {
      const avatar = await upload(token);
      const first = await patch({
        displayName: 'Me Myself',
        bio: 'line one\nline two',
        avatar,
      });
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.json.user, {
        id: meId,
        username: 'prof_me',
        displayName: 'Me Myself',
        bio: 'line one\nline two',
        avatar,
      });
      const second = await patch({ bio: null });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.user.bio, null);
      assert.equal(second.json.user.displayName, 'Me Myself');
      assert.equal(second.json.user.avatar, avatar);

      const other = await register(server.url, 'prof_viewer');
      const seen = await get('/v1/users/prof_me', other.token);
      assert.deepEqual(seen.json.user, second.json.user);
    });

    it('refuses bad fields with invalid_request and changes nothing', async () => {
      await patch({ displayName: 'Stable', bio: 'stable bio', avatar: await upload(token) });
      const before = (await get('/v1/users/prof_me')).json;
      const limits = server.config.limits;
      const cases: unknown[] = [
        { displayName: 'x'.repeat(limits.displayNameCharsMax + 1) },
        { displayName: 'two\nlines' },
        { bio: 'b'.repeat(limits.bioCharsMax + 1) },
        { bio: 'bell \u0007' },
        { avatar: 'has space' },
        { avatar: 'a'.repeat(129) },
        { displayName: 5 },
        { displayName: 'ok', avatar: 'bad/slash' },
      ];
      for (const body of cases) {
        assertError(await patch(body), 400, 'invalid_request');
      }
      assert.deepEqual((await get('/v1/users/prof_me')).json, before);
    });

    it("takes only the user's own image as avatar, which then every signed-in user may download", async () => {
      const owner = await register(server.url, 'prof_pic');
      const stranger = await register(server.url, 'prof_stranger');
      const before = (await get('/v1/users/prof_pic', owner.token)).json;
      const others = await upload(stranger.token);
      const text = await upload(owner.token, 'text/plain');
      assertError(await patch({ avatar: others }, owner.token), 404, 'attachment_not_found');
      assertError(await patch({ avatar: 'nope_42' }, owner.token), 404, 'attachment_not_found');
      assertError(await patch({ avatar: text, bio: 'x' }, owner.token), 400, 'invalid_request');
      assert.deepEqual((await get('/v1/users/prof_pic', owner.token)).json, before);

      const photo = await upload(owner.token);
      const second = await upload(owner.token);
      // Before it is the avatar, only its owner may read it; then everyone signed in.
      assertError(await download(photo, stranger.token), 404, 'attachment_not_found');
      assert.equal((await patch({ avatar: photo }, owner.token)).status, 200);
      assert.equal((await download(photo, stranger.token)).status, 200);
      assert.equal((await download(second, stranger.token)).status, 404, 'only the current one');
      // Replaced: the old photo is the owner's alone again.
      assert.equal((await patch({ avatar: second }, owner.token)).status, 200);
      assertError(await download(photo, stranger.token), 404, 'attachment_not_found');
      assert.equal((await download(second, stranger.token)).status, 200);
      assert.equal((await download(photo, owner.token)).status, 200, 'the owner keeps it');
      assert.equal((await patch({ avatar: null }, owner.token)).status, 200);
      assertError(await download(second, stranger.token), 404, 'attachment_not_found');
    });

    it('refuses unknown users, bad names and anonymous callers', async () => {
      assertError(await get('/v1/users/nobody_at_all'), 404, 'user_not_found');
      assertError(await get('/v1/users/bad%20name'), 400, 'invalid_username');
      assertError(await get('/v1/users/prof_me', null), 401, 'unauthenticated');
      assertError(await patch({ bio: 'x' }, null), 401, 'unauthenticated');
    });
  });

  describe('search', () => {
    it('finds users by case-folded prefix, in username order, with profile fields', async () => {
      const names = ['srch_b', 'srch_a', 'srch_c', 'srchx'];
      for (const name of names) await register(server.url, name);
      const a = await register(server.url, 'srch_d');
      await patch({ displayName: 'Dee' }, a.token);
      const res = await get('/v1/users?prefix=SRCH_');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        res.json.users.map((u: any) => u.username),
        ['srch_a', 'srch_b', 'srch_c', 'srch_d'],
      );
      assert.equal(res.json.users[3].displayName, 'Dee');
      assert.equal(res.json.next, null);
    });

    it('pages with limit and after, and caps the page at the limit', async () => {
      const max = server.config.limits.userSearchCountMax;
      const count = max + 3;
      const names = Array.from({ length: count }, (_, i) => `pg_${String(i).padStart(3, '0')}`);
      await Promise.all(names.map((name) => register(server.url, name)));

      const capped = await get('/v1/users?prefix=pg_&limit=1000');
      assert.equal(capped.status, 200, capped.text);
      assert.equal(capped.json.users.length, max);
      assert.equal(capped.json.next, names[max - 1]);

      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const res: Res = await get(
          `/v1/users?prefix=pg_&limit=20${after ? `&after=${after}` : ''}`,
        );
        seen.push(...res.json.users.map((u: any) => u.username));
        after = res.json.next;
        if (after === null) break;
      }
      assert.deepEqual(seen, names);
    });

    it('refuses a missing or bad prefix and a bad limit', async () => {
      assertError(await get('/v1/users'), 400, 'invalid_request');
      assertError(await get('/v1/users?prefix='), 400, 'invalid_request');
      assertError(await get('/v1/users?prefix=a%20b'), 400, 'invalid_request');
      assertError(await get(`/v1/users?prefix=${'a'.repeat(33)}`), 400, 'invalid_request');
      assertError(await get('/v1/users?prefix=a&limit=0'), 400, 'invalid_request');
      assertError(await get('/v1/users?prefix=a', null), 401, 'unauthenticated');
    });
  });
});

describe('configured contact and profile limits', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      PARLEY_DISPLAY_NAME_CHARS_MAX: '5',
      PARLEY_BIO_CHARS_MAX: '10',
      PARLEY_USER_SEARCH_COUNT_MAX: '2',
      PARLEY_CONTACT_NOTE_CHARS_MAX: '4',
      PARLEY_CONTACT_PAGE_COUNT_MAX: '1',
    });
  });

  after(async () => {
    await server.close();
  });

  it('holds profiles, searches, notes and contact pages to the PARLEY_* settings', async () => {
    const me = await register(server.url, 'lim_me');
    await Promise.all(['lim_a', 'lim_b', 'lim_c'].map((u) => register(server.url, u)));
    const call = (method: string, path: string, body?: unknown, token = me.token) =>
      http(method, `${server.url}${path}`, { token, ...(body !== undefined ? { body } : {}) });

    assertError(
      await call('PATCH', '/v1/me/profile', { displayName: 'Sixsix' }),
      400,
      'invalid_request',
    );
    assertError(
      await call('PATCH', '/v1/me/profile', { bio: 'x'.repeat(11) }),
      400,
      'invalid_request',
    );
    const fits = await call('PATCH', '/v1/me/profile', {
      displayName: 'Five5',
      bio: 'x'.repeat(10),
    });
    assert.equal(fits.status, 200, fits.text);

    const search = await call('GET', '/v1/users?prefix=lim_&limit=50');
    assert.equal(search.status, 200, search.text);
    assert.equal(search.json.users.length, 2, 'capped at PARLEY_USER_SEARCH_COUNT_MAX');
    assert.notEqual(search.json.next, null);

    const note = (username: string, text: string) =>
      call('POST', '/v1/contacts/requests', { username, note: text });
    assertError(await note('lim_a', 'long'.repeat(2)), 400, 'invalid_request');
    for (const name of ['lim_a', 'lim_b']) assert.equal((await note(name, 'hey!')).status, 201);
    const page = await call('GET', '/v1/contacts/requests?direction=outgoing&limit=10');
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json.requests.length, 1, 'capped at PARLEY_CONTACT_PAGE_COUNT_MAX');
    assert.equal(page.json.next, 'lim_a');
  });
});

describe('profile pushes', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      PARLEY_TCP_PORT: '0',
      PARLEY_PROFILE_PUSH_BURST_MAX: '2',
      PARLEY_PROFILE_PUSH_REFILL_MS: '3000',
    });
  });

  after(async () => {
    await server.close();
  });

  type U = Awaited<ReturnType<typeof register>> & { name: string };
  const user = async (name: string): Promise<U> => ({
    ...(await register(server.url, name)),
    name,
  });
  const call = async (who: U, method: string, path: string, body?: unknown) => {
    const res = await http(method, `${server.url}${path}`, {
      token: who.token,
      ...(body !== undefined ? { body } : {}),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.json;
  };
  const profilesOf = (client: RtClient, userId: string) =>
    client.frames.filter((f) => f.type === 'profile' && f.user === userId);
  /** Waits for a push of `userId`'s profile with this display name (absent: none). */
  const pushed = (client: RtClient, userId: string, displayName: string | undefined) =>
    client.waitFor(
      (f) => f.type === 'profile' && f.user === userId && f.displayName === displayName,
    );

  it('pushes a change to the user, everyone sharing a conversation with it, and its contacts', async () => {
    const alice = await user('pp_alice');
    const bob = await user('pp_bob');
    const carol = await user('pp_carol');
    const dave = await user('pp_dave');
    const eve = await user('pp_eve');
    const fay = await user('pp_fay');
    await call(alice, 'POST', '/v1/conversations', { kind: 'direct', with: bob.name });
    await call(alice, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'g',
      members: [carol.name],
    });
    const left = await call(alice, 'POST', '/v1/conversations', {
      kind: 'group',
      title: 'left',
      members: [fay.name],
    });
    await call(fay, 'DELETE', `/v1/conversations/${left.id}/members/me`);
    await call(alice, 'POST', '/v1/contacts/requests', { username: dave.name });
    await call(dave, 'POST', `/v1/contacts/requests/${alice.name}/accept`);

    const links = {
      alice: await RtClient.connect(server, 'ws-json', alice.token, alice.device),
      bob: await RtClient.connect(server, 'ws-json', bob.token, bob.device),
      carol: await RtClient.connect(server, 'ws-proto', carol.token, carol.device),
      dave: await RtClient.connect(server, 'tcp', dave.token, dave.device),
      eve: await RtClient.connect(server, 'ws-json', eve.token, eve.device),
      fay: await RtClient.connect(server, 'ws-proto', fay.token, fay.device),
    };
    try {
      const picture = await uploadImage(server.url, alice.token);
      const saved = await call(alice, 'PATCH', '/v1/me/profile', {
        displayName: 'Alice P.',
        bio: 'climbs',
        avatar: picture,
      });
      assert.equal(saved.user.avatar, picture);
      for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
        const frame = await pushed(links[who], alice.userId, 'Alice P.');
        assert.deepEqual(
          { ...frame, at: 0 },
          {
            type: 'profile',
            user: alice.userId,
            username: alice.name,
            displayName: 'Alice P.',
            bio: 'climbs',
            avatar: picture,
            at: 0,
          },
          who,
        );
        assert.equal(typeof frame.at, 'number');
      }

      // A cleared field is absent from the push.
      await call(alice, 'PATCH', '/v1/me/profile', { displayName: null });
      for (const who of ['alice', 'bob', 'carol', 'dave'] as const) {
        const frame = await pushed(links[who], alice.userId, undefined);
        assert.equal(frame.bio, 'climbs');
        assert.equal(profilesOf(links[who], alice.userId).length, 2, who);
      }

      // Pushes go out in the order of the changes: once eve and fay have their own profile's
      // push, alice's would have come before it. A stranger and a former member get none.
      await call(eve, 'PATCH', '/v1/me/profile', { bio: 'eve' });
      await call(fay, 'PATCH', '/v1/me/profile', { bio: 'fay' });
      await links.eve.waitFor((f) => f.type === 'profile' && f.user === eve.userId);
      await links.fay.waitFor((f) => f.type === 'profile' && f.user === fay.userId);
      assert.deepEqual(profilesOf(links.eve, alice.userId), []);
      assert.deepEqual(profilesOf(links.fay, alice.userId), []);

      // A refused change pushes nothing.
      const refused = await http('PATCH', `${server.url}/v1/me/profile`, {
        token: alice.token,
        body: { displayName: 'x'.repeat(500) },
      });
      assertError(refused, 400, 'invalid_request');
      await call(alice, 'PATCH', '/v1/me/profile', { bio: 'after' });
      await links.bob.waitFor((f) => f.type === 'profile' && f.bio === 'after');
      assert.equal(profilesOf(links.bob, alice.userId).length, 3);
    } finally {
      for (const link of Object.values(links)) link.drop();
    }
  });

  it('holds a burst of changes to the budget, and the last push carries the last change', async () => {
    const gus = await user('pp_gus');
    const hal = await user('pp_hal');
    await call(gus, 'POST', '/v1/conversations', { kind: 'direct', with: hal.name });
    const link = await RtClient.connect(server, 'ws-json', hal.token, hal.device);
    try {
      for (const name of ['n1', 'n2', 'n3', 'n4', 'n5']) {
        await call(gus, 'PATCH', '/v1/me/profile', { displayName: name });
      }
      await pushed(link, gus.userId, 'n5');
      // Two at once (the burst); n3 waited for the next token, and n4 and n5 replaced it.
      assert.deepEqual(
        profilesOf(link, gus.userId).map((f) => f.displayName),
        ['n1', 'n2', 'n5'],
      );
      const got = await call(hal, 'GET', `/v1/users/${gus.name}`);
      assert.equal(got.user.displayName, 'n5');
    } finally {
      link.drop();
    }
  });
});
