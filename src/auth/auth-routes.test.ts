// Proves over real sockets that every auth route answers as documented (devices listed and logged
// out, a password changed with the other devices logged out, wrong guesses throttled), refuses bad
// input with its coded error without creating anything, and never stores a token, device key,
// password or client address in clear.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';

const PASSWORD = 'correct horse battery';

/** Asserts an error response: its status, its code, and that it carries no stack. */
function assertError(
  res: { status: number; json: any; text: string },
  status: number,
  code: string,
): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  assertNoStack(res.text);
}

function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /"stack"/);
  assert.doesNotMatch(text, /\bat .+\(.+:\d+:\d+\)/);
  assert.doesNotMatch(text, /\n\s+at /);
}

describe('auth routes', () => {
  let server: TestServer;
  let url: string;

  const post = (path: string, body: unknown, token?: string) =>
    http('POST', `${url}${path}`, { body, ...(token !== undefined ? { token } : {}) });
  const me = (token?: string) => http('GET', `${url}/v1/me`, token !== undefined ? { token } : {});

  before(async () => {
    server = await startTestServer();
    url = server.url;
  });

  after(async () => {
    await server.close();
  });

  describe('POST /v1/auth/register', () => {
    it('returns 201 with user, token and the given device', async () => {
      const res = await post('/v1/auth/register', {
        username: 'reg_ok',
        password: PASSWORD,
        device: 'phone-1',
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(typeof res.json.user.id, 'string');
      assert.ok(res.json.user.id.length > 0);
      assert.equal(res.json.user.username, 'reg_ok');
      assert.deepEqual(Object.keys(res.json.user).sort(), ['id', 'username']);
      assert.equal(typeof res.json.token, 'string');
      assert.ok(res.json.token.length > 0);
      assert.equal(res.json.device, 'phone-1');
      assert.match(res.json.deviceKey, /^dk_[\w-]{43}$/, 'a device key for later logins');
      const who = await me(res.json.token);
      assert.equal(who.status, 200);
      assert.deepEqual(who.json, {
        user: { id: res.json.user.id, username: 'reg_ok' },
        device: 'phone-1',
      });
    });

    it('generates a non-empty device when none is given', async () => {
      const res = await post('/v1/auth/register', { username: 'reg_nodev', password: PASSWORD });
      assert.equal(res.status, 201, res.text);
      assert.equal(typeof res.json.device, 'string');
      assert.ok(res.json.device.length > 0);
      const who = await me(res.json.token);
      assert.equal(who.json.device, res.json.device);
    });

    it('case-folds the username', async () => {
      const res = await post('/v1/auth/register', { username: 'Reg_Alice', password: PASSWORD });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.user.username, 'reg_alice');
      const login = await post('/v1/auth/login', { username: 'REG_ALICE', password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      assert.equal(login.json.user.id, res.json.user.id);
    });

    it('refuses a taken username, in any case, and keeps the original password', async () => {
      const first = await register(url, 'dup_user');
      const again = await post('/v1/auth/register', {
        username: 'dup_user',
        password: 'another password',
      });
      assertError(again, 409, 'username_taken');
      const upper = await post('/v1/auth/register', {
        username: 'DUP_User',
        password: 'another password',
      });
      assertError(upper, 409, 'username_taken');

      const original = await post('/v1/auth/login', { username: 'dup_user', password: PASSWORD });
      assert.equal(original.status, 200, original.text);
      assert.equal(original.json.user.id, first.userId);
      const usurper = await post('/v1/auth/login', {
        username: 'dup_user',
        password: 'another password',
      });
      assertError(usurper, 401, 'invalid_credentials');
    });

    const badUsernames: [string, string][] = [
      ['empty', ''],
      ['33 characters', 'a'.repeat(33)],
      ['a space', 'a b'],
      ['a non-ASCII letter', 'é'],
      ['a slash', 'a/b'],
    ];
    for (const [what, username] of badUsernames) {
      it(`refuses a username with ${what} (400 invalid_username)`, async () => {
        const res = await post('/v1/auth/register', { username, password: PASSWORD });
        assertError(res, 400, 'invalid_username');
      });
    }

    it('accepts a username of exactly 32 characters and a password of 8 and of 256', async () => {
      const long = await post('/v1/auth/register', {
        username: 'b'.repeat(32),
        password: '12345678',
      });
      assert.equal(long.status, 201, long.text);
      const maxPw = await post('/v1/auth/register', {
        username: 'pw_256',
        password: 'p'.repeat(256),
      });
      assert.equal(maxPw.status, 201, maxPw.text);
    });

    it('refuses passwords of 7 and 257 characters without creating the user', async () => {
      for (const password of ['1234567', 'p'.repeat(257)]) {
        const res = await post('/v1/auth/register', { username: 'bad_pw', password });
        assertError(res, 400, 'invalid_password');
      }
      assertError(
        await post('/v1/auth/login', { username: 'bad_pw', password: '1234567' }),
        401,
        'invalid_credentials',
      );
      const later = await post('/v1/auth/register', { username: 'bad_pw', password: PASSWORD });
      assert.equal(later.status, 201, later.text);
    });

    it('refuses wrong types and missing fields with 400 invalid_request', async () => {
      const cases: unknown[] = [
        { username: 5, password: PASSWORD },
        { username: 'bad_types' },
        { password: PASSWORD },
        { username: 'bad_types', password: 12345678 },
        { username: 'bad_types', password: PASSWORD, device: 7 },
        { username: 'bad_types', password: PASSWORD, device: 'has space' },
        { username: 'bad_types', password: PASSWORD, device: 'd'.repeat(65) },
        [],
        null,
        42,
      ];
      for (const body of cases) {
        // Serialized here so that JSON scalars (null, 42) go on the wire as JSON too.
        const res = await post('/v1/auth/register', JSON.stringify(body));
        assertError(res, 400, 'invalid_request');
      }
      assertError(
        await post('/v1/auth/register', JSON.stringify('just a string')),
        400,
        'invalid_request',
      );
      const later = await post('/v1/auth/register', { username: 'bad_types', password: PASSWORD });
      assert.equal(later.status, 201, later.text);
    });

    it('refuses malformed JSON with 400 invalid_json', async () => {
      for (const body of ['{"username": "bad_json", "password": ', '{', 'nope']) {
        const res = await post('/v1/auth/register', body);
        assertError(res, 400, 'invalid_json');
      }
      const later = await post('/v1/auth/register', { username: 'bad_json', password: PASSWORD });
      assert.equal(later.status, 201, later.text);
    });

    it('refuses an invalid username without creating anything under a folded name', async () => {
      const res = await post('/v1/auth/register', { username: 'Inv Alid', password: PASSWORD });
      assertError(res, 400, 'invalid_username');
      assertError(
        await post('/v1/auth/login', { username: 'inv alid', password: PASSWORD }),
        401,
        'invalid_credentials',
      );
    });
  });

  describe('POST /v1/auth/login', () => {
    it('returns 200 with a new token for the right password', async () => {
      const reg = await register(url, 'login_ok', PASSWORD, 'laptop');
      const res = await post('/v1/auth/login', {
        username: 'login_ok',
        password: PASSWORD,
        device: 'tablet',
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.user, { id: reg.userId, username: 'login_ok' });
      assert.equal(res.json.device, 'tablet');
      assert.equal(typeof res.json.token, 'string');
      assert.notEqual(res.json.token, reg.token);
      assert.equal((await me(res.json.token)).status, 200);
    });

    it('answers a wrong password and an unknown user identically (401 invalid_credentials)', async () => {
      await register(url, 'login_wrong');
      const wrong = await post('/v1/auth/login', {
        username: 'login_wrong',
        password: 'not the password',
      });
      assertError(wrong, 401, 'invalid_credentials');
      const unknown = await post('/v1/auth/login', {
        username: 'login_nobody',
        password: 'not the password',
      });
      assertError(unknown, 401, 'invalid_credentials');
      assert.deepEqual(unknown.json, wrong.json);
    });

    it('refuses wrong types with 400 invalid_request and bad JSON with 400 invalid_json', async () => {
      assertError(
        await post('/v1/auth/login', { username: 5, password: PASSWORD }),
        400,
        'invalid_request',
      );
      assertError(
        await post('/v1/auth/login', { username: 'login_types' }),
        400,
        'invalid_request',
      );
      assertError(await post('/v1/auth/login', '{"username":'), 400, 'invalid_json');
    });

    it('replaces the session of the same device, and keeps the sessions of other devices', async () => {
      const reg = await register(url, 'login_devices', PASSWORD, 'phone');
      const again = await post('/v1/auth/login', {
        username: 'login_devices',
        password: PASSWORD,
        device: 'phone',
      });
      assert.equal(again.status, 200, again.text);
      assertError(await me(reg.token), 401, 'unauthenticated');
      assert.equal((await me(again.json.token)).status, 200);

      const other = await post('/v1/auth/login', {
        username: 'login_devices',
        password: PASSWORD,
        device: 'desktop',
      });
      assert.equal(other.status, 200, other.text);
      const phone = await me(again.json.token);
      const desktop = await me(other.json.token);
      assert.equal(phone.status, 200);
      assert.equal(phone.json.device, 'phone');
      assert.equal(desktop.status, 200);
      assert.equal(desktop.json.device, 'desktop');
    });
  });

  describe('GET /v1/me', () => {
    it('returns the user and device of the token', async () => {
      const reg = await register(url, 'me_ok', PASSWORD, 'watch');
      const res = await me(reg.token);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { user: { id: reg.userId, username: 'me_ok' }, device: 'watch' });
    });

    it('refuses a missing, garbage or unknown token with 401 unauthenticated', async () => {
      const reg = await register(url, 'me_bad');
      assertError(await me(), 401, 'unauthenticated');
      assertError(await me('garbage'), 401, 'unauthenticated');
      assertError(await me(randomBytes(32).toString('base64url')), 401, 'unauthenticated');
      assertError(await me('pt_' + randomBytes(32).toString('base64url')), 401, 'unauthenticated');
      assertError(await me(reg.token + 'x'), 401, 'unauthenticated');
      const headerCases = [
        `Basic ${reg.token}`,
        'Bearer',
        'Bearer ',
        reg.token,
        `Bearer ${reg.token} extra`,
      ];
      for (const authorization of headerCases) {
        const res = await http('GET', `${url}/v1/me`, { headers: { authorization } });
        assertError(res, 401, 'unauthenticated');
      }
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('revokes only the token it was called with', async () => {
      const reg = await register(url, 'logout_user', PASSWORD, 'phone');
      const other = await post('/v1/auth/login', {
        username: 'logout_user',
        password: PASSWORD,
        device: 'desktop',
      });
      assert.equal(other.status, 200, other.text);

      const res = await post('/v1/auth/logout', undefined, reg.token);
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, '');
      assertError(await me(reg.token), 401, 'unauthenticated');
      assertError(await post('/v1/auth/logout', undefined, reg.token), 401, 'unauthenticated');

      const still = await me(other.json.token);
      assert.equal(still.status, 200, still.text);
      assert.equal(still.json.device, 'desktop');
    });

    it('refuses a call without a token with 401 unauthenticated', async () => {
      assertError(await post('/v1/auth/logout', undefined), 401, 'unauthenticated');
    });
  });

  describe('devices: GET /v1/me/sessions, DELETE /v1/me/sessions/:device', () => {
    const login = async (username: string, device: string, password = PASSWORD) =>
      post('/v1/auth/login', { username, password, device });
    const sessions = async (token: string) => {
      const res = await http('GET', `${url}/v1/me/sessions`, { token });
      assert.equal(res.status, 200, res.text);
      return res.json.sessions as { device: string; createdAt: number; current: boolean }[];
    };

    it('lists the logged-in devices, newest first, marking the caller', async () => {
      const reg = await register(url, 'dev_list', PASSWORD, 'phone');
      await new Promise((r) => setTimeout(r, 5));
      const laptop = await login('dev_list', 'laptop');
      assert.equal(laptop.status, 200, laptop.text);
      const listed = await sessions(reg.token);
      assert.deepEqual(
        listed.map((s) => [s.device, s.current]),
        [
          ['laptop', false],
          ['phone', true],
        ],
      );
      assert.ok(listed.every((s) => typeof s.createdAt === 'number'));
      assert.deepEqual(
        (await sessions(laptop.json.token)).map((s) => s.current),
        [true, false],
      );
      const text = JSON.stringify(listed);
      assert.doesNotMatch(text, /pt_/, 'no token in the list');
    });

    it("logs another device out; its token stops working, the caller's does not", async () => {
      const reg = await register(url, 'dev_revoke', PASSWORD, 'laptop');
      const phone = await login('dev_revoke', 'phone');
      const res = await http('DELETE', `${url}/v1/me/sessions/phone`, { token: reg.token });
      assert.equal(res.status, 204, res.text);
      assertError(await me(phone.json.token), 401, 'unauthenticated');
      assert.equal((await me(reg.token)).status, 200);
      assert.deepEqual(
        (await sessions(reg.token)).map((s) => s.device),
        ['laptop'],
      );
      // Again, an unknown device, or another user's device: 404, and nothing changes.
      const other = await register(url, 'dev_other', PASSWORD, 'tablet');
      assertError(
        await http('DELETE', `${url}/v1/me/sessions/${'x'.repeat(65)}`, { token: reg.token }),
        400,
        'invalid_request',
      );
      for (const device of ['phone', 'tablet', 'no such']) {
        assertError(
          await http('DELETE', `${url}/v1/me/sessions/${encodeURIComponent(device)}`, {
            token: reg.token,
          }),
          404,
          'session_not_found',
        );
      }
      assert.equal((await me(other.token)).status, 200, "the other user's device stays");
      assertError(await http('DELETE', `${url}/v1/me/sessions/laptop`), 401, 'unauthenticated');
      // Its own device is a logout.
      const self = await http('DELETE', `${url}/v1/me/sessions/laptop`, { token: reg.token });
      assert.equal(self.status, 204, self.text);
      assertError(await me(reg.token), 401, 'unauthenticated');
    });
  });

  describe('POST /v1/me/password', () => {
    const change = (token: string, body: unknown) =>
      http('POST', `${url}/v1/me/password`, { token, body });
    const login = (username: string, password: string, device = 'web') =>
      post('/v1/auth/login', { username, password, device });

    it('changes the password and logs every other device out', async () => {
      const reg = await register(url, 'pw_change', PASSWORD, 'laptop');
      const phone = await login('pw_change', PASSWORD, 'phone');
      const res = await change(reg.token, {
        currentPassword: PASSWORD,
        newPassword: 'a brand new password',
      });
      assert.equal(res.status, 204, res.text);
      assert.equal((await me(reg.token)).status, 200, 'the caller stays logged in');
      assertError(await me(phone.json.token), 401, 'unauthenticated');
      assertError(await login('pw_change', PASSWORD), 401, 'invalid_credentials');
      assert.equal((await login('pw_change', 'a brand new password')).status, 200);
    });

    it('refuses a wrong current password, a bad new one and bad fields, changing nothing', async () => {
      const reg = await register(url, 'pw_refuse', PASSWORD, 'laptop');
      const phone = await login('pw_refuse', PASSWORD, 'phone');
      assertError(
        await change(reg.token, { currentPassword: 'not it at all', newPassword: 'whatever 123' }),
        403,
        'wrong_password',
      );
      assertError(
        await change(reg.token, { currentPassword: PASSWORD, newPassword: 'short' }),
        400,
        'invalid_password',
      );
      assertError(
        await change(reg.token, { currentPassword: PASSWORD, newPassword: 12345678 }),
        400,
        'invalid_request',
      );
      assertError(
        await change(reg.token, { currentPassword: PASSWORD, newPassword: 'long enough', x: 1 }),
        400,
        'invalid_request',
      );
      assertError(
        await http('POST', `${url}/v1/me/password`, {
          body: { currentPassword: PASSWORD, newPassword: 'long enough' },
        }),
        401,
        'unauthenticated',
      );
      assert.equal((await me(phone.json.token)).status, 200, 'no device was logged out');
      assert.equal((await login('pw_refuse', PASSWORD)).status, 200, 'the old password works');
    });

    it('throttles wrong current passwords like logins', async () => {
      const reg = await register(url, 'pw_guess', PASSWORD, 'laptop');
      let limited: { status: number; json: any; text: string } | null = null;
      for (let i = 0; i < 12 && limited === null; i++) {
        const res = await change(reg.token, {
          currentPassword: `guess number ${i}`,
          newPassword: 'whatever 123',
        });
        if (res.status === 429) limited = res;
        else assertError(res, 403, 'wrong_password');
      }
      assert.ok(limited, 'refused with 429 within 12 guesses');
      assertError(limited, 429, 'rate_limited');
      // Even the right password waits now.
      assertError(
        await change(reg.token, { currentPassword: PASSWORD, newPassword: 'whatever 123' }),
        429,
        'rate_limited',
      );
      // The budget is the device's (its token proves it), so a stolen token buys one burst; the
      // owner's other logins are not held back by it.
      assert.equal((await login('pw_guess', PASSWORD)).status, 200, 'a login is not refused');
      assert.equal((await me(reg.token)).status, 200, 'the token still works');
    });
  });

  describe('storage', () => {
    it('never stores the token or the password in clear', async () => {
      const password = 'Sekrit-' + randomBytes(8).toString('hex');
      const reg = await register(url, 'stored_user', password, 'phone');
      const login = await post('/v1/auth/login', {
        username: 'stored_user',
        password,
        device: 'desktop',
      });
      assert.equal(login.status, 200, login.text);
      const tokens = [reg.token, login.json.token as string, login.json.deviceKey as string];
      const tokenBodies = tokens.map((t) => t.replace(/^(pt|dk)_/, ''));

      const db = new Database(join(server.dataDir, 'parley.db'), {
        readonly: true,
        fileMustExist: true,
      });
      try {
        const all = (table: string) =>
          db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
        const users = all('users');
        const sessions = all('sessions');
        const keys = all('device_keys');
        const addresses = all('login_addresses');
        assert.ok(users.length > 0);
        assert.ok(sessions.length >= 2);
        assert.ok(keys.length >= 2, 'a device key per device');
        assert.ok(addresses.length >= 1, 'the address it logged in from');
        for (const row of [...users, ...sessions, ...keys, ...addresses]) {
          const dump = JSON.stringify(row);
          assert.ok(!dump.includes(password), 'a row contains the password');
          for (const secret of [...tokens, ...tokenBodies]) {
            assert.ok(!dump.includes(secret), 'a row contains a token or device key');
          }
          assert.ok(!dump.includes('127.0.0.1'), 'a row contains an address');
        }
        const mine = db
          .prepare('SELECT password_hash FROM users WHERE username = ?')
          .get('stored_user') as { password_hash: string } | undefined;
        assert.ok(mine);
        assert.ok(mine.password_hash.startsWith('$argon2id$'), mine.password_hash.slice(0, 12));
        for (const user of users) {
          const hash = user.password_hash;
          if (hash !== null) {
            assert.equal(typeof hash, 'string');
            assert.match(hash as string, /^\$argon2id\$/);
          }
        }
      } finally {
        db.close();
      }
    });
  });

  describe('HTTP errors', () => {
    it('answers an unknown route with 404 not_found', async () => {
      assertError(await http('GET', `${url}/v1/nowhere`), 404, 'not_found');
      assertError(await post('/v1/auth/nowhere', { a: 1 }), 404, 'not_found');
      assertError(await http('PUT', `${url}/v1/me`), 404, 'not_found');
    });

    it('answers a form-encoded body with 415 unsupported_media_type', async () => {
      const res = await http('POST', `${url}/v1/auth/register`, {
        body: 'username=form_user&password=correct+horse',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assertError(res, 415, 'unsupported_media_type');
      assertError(
        await post('/v1/auth/login', { username: 'form_user', password: 'correct horse' }),
        401,
        'invalid_credentials',
      );
    });

    it('names the failing part of a request once in a validation message', async () => {
      const res = await post('/v1/auth/register', { username: 5, password: PASSWORD });
      assertError(res, 400, 'invalid_request');
      assert.doesNotMatch(res.json.error.message, /^body body/);
    });

    it('answers a body over the default limit (256 KiB) with 413 payload_too_large', async () => {
      const res = await post('/v1/auth/register', {
        username: 'too_big',
        password: 'p'.repeat(300 * 1024),
      });
      assertError(res, 413, 'payload_too_large');
      assertError(
        await post('/v1/auth/login', { username: 'too_big', password: PASSWORD }),
        401,
        'invalid_credentials',
      );
    });
  });
});

describe('auth routes with a small HTTP body limit', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ PARLEY_HTTP_BODY_BYTES_MAX: '2048' });
  });

  after(async () => {
    await server.close();
  });

  it('answers a body over PARLEY_HTTP_BODY_BYTES_MAX with 413 payload_too_large', async () => {
    const res = await http('POST', `${server.url}/v1/auth/register`, {
      body: { username: 'small_limit', password: 'p'.repeat(3000) },
    });
    assertError(res, 413, 'payload_too_large');
    const ok = await http('POST', `${server.url}/v1/auth/register`, {
      body: { username: 'small_limit', password: PASSWORD },
    });
    assert.equal(ok.status, 201, ok.text);
  });
});
