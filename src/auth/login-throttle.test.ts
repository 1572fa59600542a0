// Proves the login throttle on both BudgetStore backends (memory, and Redis on a real
// redis-server): an attempt takes its tokens before its password is checked, all or none; a
// (username, address) source and an address stop after their bursts; a refused attempt takes
// nothing; a right password gives the tokens back; attempts sent at once (on two nodes sharing
// Redis, too) get exactly the burst; the username's budget holds back only unknown sources (a
// known address never waits for it, and is only asked about once that budget is spent); a proven
// device answers only to its own bucket; buckets refill; the memory map stays bounded. Then, over
// HTTP on real servers: the owner logs in from a known address, or with its device key from a new
// one, after an attacker spread 100 guesses over 100 addresses; an unknown source gets 429 with
// Retry-After; guessers at one address are stopped before any password is checked (a flood costs
// no argon2 time), also when they send their guesses all at once (exactly the burst is verified,
// while the owner gets in); a successful login costs nothing; password checks behind a session
// hold against parallel guesses too; X-Forwarded-For counts only from a trusted proxy; the
// refusal lifts after the refill.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import Database from 'better-sqlite3';
import { Redis } from 'ioredis';

import { RedisBudgetStore } from '../bus/redis-budget-store.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { MemoryBudgetStore, type BudgetStore } from '../core/budget-store.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { addressKey } from './login-address.js';
import { LoginThrottle, type LoginAttempt } from './login-throttle.js';

const BURSTS = { sourceBurst: 3, addressBurst: 5, userBurst: 4 };
const unknown = () => Promise.resolve(false);
const known = () => Promise.resolve(true);

/**
 * The throttle's cases, on one BudgetStore backend, in real time (Redis keeps its own clock).
 * `open` may be called several times: each is a node, sharing the buckets when the backend does.
 */
function throttleCases(name: string, open: () => BudgetStore, shared: boolean): void {
  describe(`LoginThrottle on ${name}`, () => {
    let n = 0;
    /** A username no other case (nor an earlier run on the same Redis) used. */
    const fresh = (base: string) => `${base}-${process.pid}-${Date.now()}-${++n}`;
    const make = (refillMs = 60_000, store = open()) =>
      new LoginThrottle(store, { ...BURSTS, refillMs });
    const at = (username: string, address?: string, provenDevice?: string): LoginAttempt => ({
      username,
      address,
      provenDevice,
    });
    /** An attempt's wait; when 0 it took its tokens and keeps them, as a failure does. */
    const waitOf = async (t: LoginThrottle, attempt: LoginAttempt, isKnown = unknown) =>
      (await t.reserve(attempt, Date.now(), isKnown)).waitMs;
    const fail = async (t: LoginThrottle, attempt: LoginAttempt, times: number) => {
      for (let i = 0; i < times; i++) assert.equal(await waitOf(t, attempt), 0, `failure ${i}`);
    };

    it('stops one (username, address) after its burst, and no other source', async () => {
      const t = make();
      const ann = fresh('ann');
      const addr = `10.${n}.0.1`;
      for (let i = 0; i < 3; i++) assert.equal(await waitOf(t, at(ann, addr)), 0, `try ${i + 1}`);
      const wait = await waitOf(t, at(ann, addr), known);
      assert.ok(wait > 0 && wait <= 60_000, `waits ${wait} ms, known address or not`);
      assert.equal(await waitOf(t, at(ann, `10.${n}.0.2`)), 0, 'elsewhere');
      assert.equal(await waitOf(t, at(fresh('bob'), addr)), 0, 'bob here');
    });

    it('stops an address after its burst, whatever the username', async () => {
      const t = make();
      const addr = `10.${n}.1.1`;
      for (let i = 0; i < 5; i++) await fail(t, at(fresh('spray'), addr), 1);
      assert.ok((await waitOf(t, at(fresh('someone'), addr), known)) > 0);
      assert.equal(await waitOf(t, at(fresh('someone'), `10.${n}.1.2`)), 0);
    });

    it('takes nothing from any bucket when one refuses', async () => {
      const t = make();
      const hal = fresh('hal');
      const addr = `10.${n}.10.1`;
      await fail(t, at(hal, addr), 3);
      for (let i = 0; i < 10; i++) assert.ok((await waitOf(t, at(hal, addr))) > 0);
      assert.equal(await waitOf(t, at(hal, `10.${n}.10.2`)), 0, "hal's last username token");
      assert.ok((await waitOf(t, at(hal, `10.${n}.10.3`))) > 0, 'then none');
      await fail(t, at(fresh('other'), addr), 2);
      assert.ok((await waitOf(t, at(fresh('other'), addr))) > 0, 'the address had 2 left');
    });

    it('gives the tokens back when the password was right', async () => {
      const t = make();
      const ivy = fresh('ivy');
      const addr = `10.${n}.11.1`;
      for (let i = 0; i < 10; i++) {
        const reservation = await t.reserve(at(ivy, addr), Date.now(), unknown);
        assert.equal(reservation.waitMs, 0);
        assert.equal(reservation.held.length, 3, '(username, address), address, username');
        await t.succeeded(reservation, Date.now());
      }
      await fail(t, at(ivy, addr), 3);
      assert.ok((await waitOf(t, at(ivy, addr))) > 0, 'the whole burst was still there');

      // A known source holds, and gives back, its own buckets only.
      const jan = fresh('jan');
      for (let i = 0; i < 4; i++) await fail(t, at(jan, `10.${n}.12.${i}`), 1);
      const home = await t.reserve(at(jan, `10.${n}.13.1`), Date.now(), known);
      assert.deepEqual(
        home.held.map((b) => b.key),
        [`login:ua:10.${n}.13.1|${jan}`, `login:a:10.${n}.13.1`],
      );
      await t.succeeded(home, Date.now());
      assert.ok((await waitOf(t, at(jan, `10.${n}.13.2`))) > 0, 'nothing given to the username');
    });

    it('grants exactly the burst to attempts sent at once', async () => {
      const nodes = shared ? [make(), make()] : [make()];
      const kay = fresh('kay');
      const addr = `10.${n}.14.1`;
      const waits = await Promise.all(
        Array.from({ length: 20 }, (_, i) => waitOf(nodes[i % nodes.length]!, at(kay, addr))),
      );
      assert.equal(waits.filter((w) => w === 0).length, 3, 'the (username, address) burst');
      assert.ok(waits.every((w) => w === 0 || (w > 0 && w <= 60_000)));
      // The other buckets lost exactly those 3: the username's has 1 left, the address's 2.
      assert.equal(await waitOf(nodes[0]!, at(kay, `10.${n}.14.2`)), 0);
      assert.ok((await waitOf(nodes[0]!, at(kay, `10.${n}.14.3`))) > 0);
      await fail(nodes[0]!, at(fresh('lee'), addr), 2);
      assert.ok((await waitOf(nodes[0]!, at(fresh('lee'), addr))) > 0);
    });

    it("holds back only unknown sources once the username's budget is spent", async () => {
      const t = make();
      const carol = fresh('carol');
      for (let i = 0; i < 4; i++) await fail(t, at(carol, `10.${n}.2.${i}`), 1);
      const wait = await waitOf(t, at(carol, `10.${n}.3.1`));
      assert.ok(wait > 0 && wait <= 60_000, `an unknown address waits ${wait} ms`);
      assert.ok((await waitOf(t, at(carol))) > 0, 'no address: unknown');
      assert.equal(await waitOf(t, at(carol, `10.${n}.9.9`), known), 0, 'known: now');
      assert.equal(
        await waitOf(t, at(carol, `10.${n}.2.0`), known),
        0,
        'a known address is stopped only by its own failures',
      );
    });

    it('asks whether the address is known only when the username budget is spent', async () => {
      const t = make();
      const dave = fresh('dave');
      let asked = 0;
      const counting = () => {
        asked++;
        return Promise.resolve(false);
      };
      assert.equal(await waitOf(t, at(dave, `10.${n}.4.1`), counting), 0);
      assert.equal(asked, 0, 'nothing to ask while nobody attacks');
      await fail(t, at(dave, `10.${n}.4.2`), 3);
      assert.ok((await waitOf(t, at(dave, `10.${n}.4.2`), counting)) > 0);
      assert.equal(asked, 0, 'a spent source is refused before any lookup');
      assert.ok((await waitOf(t, at(dave, `10.${n}.4.4`), counting)) > 0);
      assert.equal(asked, 1);
    });

    it('lets a proven device in past spent address, source and username budgets, until its own burst', async () => {
      const t = make();
      const erin = fresh('erin');
      const addr = `10.${n}.5.1`;
      await fail(t, at(erin, addr), 3);
      await fail(t, at(fresh('x'), addr), 1);
      await fail(t, at(fresh('x'), addr), 1);
      await fail(t, at(erin, `10.${n}.6.1`), 1);
      assert.ok((await waitOf(t, at(erin, addr))) > 0, 'without the proof');
      assert.ok((await waitOf(t, at(fresh('y'), addr))) > 0, 'the address is spent');
      assert.ok((await waitOf(t, at(erin, `10.${n}.6.2`))) > 0, 'the username is spent');
      assert.equal(await waitOf(t, at(erin, addr, 'phone')), 0, 'with it');

      await fail(t, at(erin, addr, 'phone'), 2);
      assert.ok((await waitOf(t, at(erin, addr, 'phone'), known)) > 0, 'its own burst');
      assert.equal(await waitOf(t, at(erin, addr, 'laptop')), 0);
    });

    it("takes a proven device's failures from its own bucket only", async () => {
      const t = make();
      const gus = fresh('gus');
      await fail(t, at(gus, `10.${n}.8.1`, 'phone'), 3);
      assert.equal(await waitOf(t, at(gus, `10.${n}.8.1`)), 0);
      assert.equal(await waitOf(t, at(gus, `10.${n}.8.2`)), 0);
    });

    it('forgives one failure per refill', async () => {
      const t = make(300);
      const fay = fresh('fay');
      const addr = `10.${n}.7.1`;
      await fail(t, at(fay, addr), 3);
      const wait = await waitOf(t, at(fay, addr), known);
      assert.ok(wait > 0 && wait <= 300, `waits ${wait} ms`);
      await sleep(wait + 50);
      assert.equal(await waitOf(t, at(fay, addr), known), 0);
    });
  });
}

throttleCases('memory', () => new MemoryBudgetStore(), false);

describe('LoginThrottle on Redis', { skip: redisSkip() }, () => {
  let redis: RunningRedis;
  const connections: Redis[] = [];

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const c of connections) c.disconnect();
    await redis?.stop();
  });

  throttleCases(
    'Redis',
    () => {
      const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      connections.push(c);
      return new RedisBudgetStore(c);
    },
    true,
  );
});

describe('LoginThrottle in memory', () => {
  it('keeps at most entriesMax buckets', async () => {
    const t = new LoginThrottle(new MemoryBudgetStore({ entriesMax: 100 }), {
      ...BURSTS,
      userBurst: 1,
      refillMs: 60_000,
    });
    const waitOf = async (username: string) =>
      (await t.reserve({ username, address: undefined }, 0, unknown)).waitMs;
    for (let i = 0; i < 1_000; i++) assert.equal(await waitOf(`spray${i}`), 0);
    // The newest are remembered, the oldest forgotten.
    assert.ok((await waitOf('spray999')) > 0);
    assert.equal(await waitOf('spray0'), 0);
  });
});

describe('addressKey', () => {
  it('names an IPv4 address by itself and an IPv6 address by its /64', () => {
    assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('2001:db8:0:12:aaaa::1'), '2001:db8:0:12::/64');
    assert.equal(addressKey('2001:0DB8:0000:0012:ffff:1:2:3'), '2001:db8:0:12::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey(undefined), undefined);
  });
});

const PASSWORD = 'correct horse battery';
type Reply = Awaited<ReturnType<typeof http>>;

function assertLimited(res: Reply): void {
  assert.equal(res.status, 429, res.text);
  assert.equal((res.json as { error: { code: string } }).error.code, 'rate_limited');
  assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After in seconds');
  assert.doesNotMatch(res.text, /\n\s+at /);
}

describe('login throttle over HTTP, behind a trusted proxy', () => {
  let server: TestServer;
  /** One POST as if a proxy on loopback forwarded it from `ip`. */
  const post = (path: string, ip: string, body: Record<string, unknown>) =>
    http('POST', `${server.url}${path}`, { body, headers: { 'x-forwarded-for': ip } });
  const login = (ip: string, username: string, password: string, extra = {}) =>
    post('/v1/auth/login', ip, { username, password, ...extra });
  const registerFrom = async (ip: string, username: string, device: string) => {
    const res = await post('/v1/auth/register', ip, { username, password: PASSWORD, device });
    assert.equal(res.status, 201, res.text);
    return res.json as { token: string; deviceKey: string };
  };
  /** 100 wrong guesses for `username`, each from an address of its own in 10.`net`.0.0/16. */
  const attack = async (username: string, net: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await login(`10.${net}.${i >> 8}.${i & 255}`, username, `guess ${i}!`);
      if (res.status === 429) assertLimited(res);
      statuses.push(res.status);
    }
    return statuses;
  };

  before(async () => {
    server = await startTestServer({
      PARLEY_TRUST_PROXY: 'loopback',
      PARLEY_LOGIN_SOURCE_FAILURES_MAX: '3',
      PARLEY_LOGIN_ADDRESS_FAILURES_MAX: '6',
      PARLEY_LOGIN_USER_FAILURES_MAX: '4',
      PARLEY_LOGIN_REFILL_MS: '600000',
    });
  });

  after(async () => {
    await server.close();
  });

  it('lets the owner in from a known address after 100 guesses from 100 addresses, and slows unknown sources', async () => {
    await registerFrom('198.51.100.7', 'carol', 'laptop');
    const statuses = await attack('carol', 1);
    assert.equal(statuses.filter((s) => s === 401).length, 4, 'the username budget: 4 guesses');
    assert.equal(statuses.filter((s) => s === 429).length, 96, 'then every unknown source waits');

    const owner = await login('198.51.100.7', 'carol', PASSWORD, { device: 'laptop' });
    assert.equal(owner.status, 200, owner.text);
    assertLimited(await login('192.0.2.50', 'carol', PASSWORD));
    // A failure from the known address still counts, against that address's own burst.
    assert.equal((await login('198.51.100.7', 'carol', 'typo typo')).status, 401);
    assert.equal((await login('198.51.100.7', 'carol', PASSWORD)).status, 200);
  });

  it('lets the owner in with its device key from a new address; the key is per device and replaced at each login', async () => {
    const first = await registerFrom('198.51.100.8', 'dana', 'phone');
    assert.match(first.deviceKey, /^dk_[\w-]{43}$/);
    await attack('dana', 2);

    assertLimited(await login('192.0.2.60', 'dana', PASSWORD, { device: 'phone' }));
    const keyed = await login('192.0.2.60', 'dana', PASSWORD, {
      device: 'phone',
      deviceKey: first.deviceKey,
    });
    assert.equal(keyed.status, 200, keyed.text);
    const next = (keyed.json as { deviceKey: string }).deviceKey;
    assert.match(next, /^dk_[\w-]{43}$/);
    assert.notEqual(next, first.deviceKey);

    const again = { device: 'phone', deviceKey: first.deviceKey };
    assertLimited(await login('192.0.2.61', 'dana', PASSWORD, again));
    assertLimited(
      await login('192.0.2.61', 'dana', PASSWORD, { device: 'tablet', deviceKey: next }),
    );
    assertLimited(
      await login('192.0.2.61', 'dana', PASSWORD, { device: 'phone', deviceKey: 'dk_x' }),
    );
    const fresh = await login('192.0.2.61', 'dana', PASSWORD, { device: 'phone', deviceKey: next });
    assert.equal(fresh.status, 200, fresh.text);
  });

  it("stops a guesser at one address, even the owner's, where the owner's device key still gets in", async () => {
    const { deviceKey } = await registerFrom('198.51.100.9', 'erik', 'phone');
    for (let i = 0; i < 3; i++) {
      assert.equal((await login('198.51.100.9', 'erik', `wrong ${i}!!`)).status, 401);
    }
    assertLimited(await login('198.51.100.9', 'erik', PASSWORD));
    const keyed = await login('198.51.100.9', 'erik', PASSWORD, { device: 'phone', deviceKey });
    assert.equal(keyed.status, 200, keyed.text);
  });

  it('keeps a device key across a logout, and drops it when the device is revoked or the password changes', async () => {
    const home = '198.51.100.11';
    const laptop = await registerFrom(home, 'hana', 'laptop');
    const signIn = async (device: string, password = PASSWORD, ip = home, deviceKey?: string) => {
      const res = await login(ip, 'hana', password, { device, deviceKey });
      return res.json as { token: string; deviceKey: string };
    };
    const phone = await signIn('phone');
    const tablet = await signIn('tablet');
    const bearer = (token: string) => ({ token });
    const revoke = await http('DELETE', `${server.url}/v1/me/sessions/phone`, bearer(laptop.token));
    assert.equal(revoke.status, 204, revoke.text);
    const logout = await http('POST', `${server.url}/v1/auth/logout`, bearer(tablet.token));
    assert.equal(logout.status, 204, logout.text);
    await attack('hana', 3);

    const away = (device: string, deviceKey: string, password = PASSWORD, ip = '192.0.2.70') =>
      login(ip, 'hana', password, { device, deviceKey });
    assertLimited(await away('phone', phone.deviceKey));
    const back = await away('tablet', tablet.deviceKey);
    assert.equal(back.status, 200, 'a logout is not a revocation');
    const tabletKey = (back.json as { deviceKey: string }).deviceKey;

    const change = await http('POST', `${server.url}/v1/me/password`, {
      token: laptop.token,
      body: { currentPassword: PASSWORD, newPassword: 'a brand new one' },
    });
    assert.equal(change.status, 204, change.text);
    assertLimited(await away('tablet', tabletKey, 'a brand new one', '192.0.2.71'));
    const own = await away('laptop', laptop.deviceKey, 'a brand new one', '192.0.2.71');
    assert.equal(own.status, 200, "the changing device's key stays");
  });

  it('forgets where an account logged in from when it is deleted', async () => {
    const reg = await post('/v1/auth/register', '198.51.100.12', {
      username: 'ivan',
      password: PASSWORD,
      device: 'phone',
    });
    const { token, user } = reg.json as { token: string; user: { id: string } };
    const rows = () => {
      const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
      try {
        const count = (table: string) =>
          (
            db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`).get(user.id) as {
              n: number;
            }
          ).n;
        return [count('login_addresses'), count('device_keys')];
      } finally {
        db.close();
      }
    };
    assert.deepEqual(rows(), [1, 1]);
    const gone = await http('DELETE', `${server.url}/v1/me`, {
      token,
      body: { password: PASSWORD },
    });
    assert.equal(gone.status, 204, gone.text);
    assert.deepEqual(rows(), [0, 0]);
  });

  it('stops an address after its burst over many usernames, before any password is checked', async () => {
    const flooder = '192.0.2.99';
    for (let i = 0; i < 6; i++) {
      assert.equal((await login(flooder, `sprayed${i}`, 'wrong password')).status, 401);
    }
    assertLimited(await login(flooder, 'sprayed6', 'wrong password'));
    assert.equal((await login('192.0.2.98', 'sprayed6', 'wrong password')).status, 401);

    // A verified guess costs an argon2id hash (tens of ms); a refused one must cost none.
    const perRequestMs = async (count: number, ip: (i: number) => string, expected: number) => {
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        assert.equal((await login(ip(i), `flood${i}`, 'wrong password')).status, expected);
      }
      return (performance.now() - started) / count;
    };
    const verified = await perRequestMs(10, (i) => `192.0.2.${10 + i}`, 401);
    const refused = await perRequestMs(100, () => flooder, 429);
    assert.ok(refused < verified / 4, `refused ${refused} ms each, verified ${verified} ms each`);
  });
});

describe('login throttle over HTTP: guesses sent all at once', () => {
  let server: TestServer;
  const SOURCE_BURST = 5;
  const FLOOD = 40;
  const post = (path: string, ip: string, body: Record<string, unknown>, token?: string) =>
    http('POST', `${server.url}${path}`, {
      body,
      headers: { 'x-forwarded-for': ip },
      ...(token === undefined ? {} : { token }),
    });
  const login = (ip: string, username: string, password: string) =>
    post('/v1/auth/login', ip, { username, password });
  const registerFrom = async (ip: string, username: string) => {
    const res = await post('/v1/auth/register', ip, { username, password: PASSWORD });
    assert.equal(res.status, 201, res.text);
    return res.json as { token: string };
  };
  /** CPU time of this process, every thread (argon2 runs on libuv's pool), in ms. */
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const count = (replies: Reply[], status: number) =>
    replies.filter((r) => r.status === status).length;

  before(async () => {
    server = await startTestServer({
      PARLEY_TRUST_PROXY: 'loopback',
      PARLEY_LOGIN_SOURCE_FAILURES_MAX: String(SOURCE_BURST),
      PARLEY_LOGIN_USER_FAILURES_MAX: '8',
      PARLEY_LOGIN_REFILL_MS: '600000',
    });
  });

  after(async () => {
    await server.close();
  });

  it('answers 40 wrong passwords sent at once from one address with exactly the burst of 401s, and verifies no more', async () => {
    await registerFrom('198.51.100.20', 'kim');
    // CPU time, not wall time: other processes on the machine do not inflate it. What one
    // verified guess costs, measured the way the flood runs: 10 sent at once, each from an address
    // and for a username of its own (unknown names are checked against a decoy hash).
    assert.equal((await login('192.0.2.119', 'warm-up', 'wrong password')).status, 401);
    const calibrating = cpuMs();
    const checked = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(`192.0.2.${120 + i}`, `nobody-${i}`, 'wrong!!')),
    );
    assert.equal(count(checked, 401), 10);
    const perVerifiedMs = (cpuMs() - calibrating) / 10;

    const started = cpuMs();
    const replies = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => login('203.0.113.5', 'kim', `guess ${i}!!`)),
    );
    const floodMs = cpuMs() - started;
    assert.equal(count(replies, 401), SOURCE_BURST, replies.map((r) => r.status).join(' '));
    assert.equal(count(replies, 429), FLOOD - SOURCE_BURST);
    for (const res of replies) if (res.status === 429) assertLimited(res);
    // 5 verifications, not 40: far under the halfway mark, whatever the machine's load.
    const verified = floodMs / perVerifiedMs;
    assert.ok(
      verified < (SOURCE_BURST + FLOOD) / 2,
      `the flood cost ${floodMs} ms of CPU, ${verified.toFixed(1)} verifications' worth`,
    );
  });

  it('lets the owner in from a known address while a flood at its account is refused', async () => {
    await registerFrom('198.51.100.21', 'lin');
    const [owner, ...replies] = await Promise.all([
      login('198.51.100.21', 'lin', PASSWORD),
      ...Array.from({ length: FLOOD }, (_, i) => login(`203.0.113.6`, 'lin', `guess ${i}!!`)),
    ]);
    assert.equal(owner.status, 200, owner.text);
    assert.equal(count(replies, 401), SOURCE_BURST);
    assert.equal(count(replies, 429), FLOOD - SOURCE_BURST);
    assert.equal((await login('198.51.100.21', 'lin', PASSWORD)).status, 200, 'and after it');
  });

  it('leaves the buckets as they were after a successful login', async () => {
    await registerFrom('198.51.100.22', 'mo');
    const away = '203.0.113.7';
    for (let i = 0; i < SOURCE_BURST - 1; i++) {
      assert.equal((await login(away, 'mo', `wrong ${i}!!`)).status, 401);
    }
    for (let i = 0; i < 5; i++) {
      const res = await login(away, 'mo', PASSWORD);
      assert.equal(res.status, 200, `login ${i + 1}: ${res.text}`);
    }
    assert.equal((await login(away, 'mo', 'the last wrong')).status, 401, 'one token was left');
    assertLimited(await login(away, 'mo', PASSWORD));
  });

  it('answers wrong current passwords sent at once with exactly the burst of 403s', async () => {
    const { token } = await registerFrom('198.51.100.23', 'nia');
    const change = (current: string) =>
      post(
        '/v1/me/password',
        '198.51.100.23',
        { currentPassword: current, newPassword: 'a brand new one' },
        token,
      );
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => change(`no ${i}!!!`)));
    assert.equal(count(replies, 403), SOURCE_BURST, replies.map((r) => r.status).join(' '));
    assert.equal(count(replies, 429), 20 - SOURCE_BURST);
    for (const res of replies) if (res.status === 429) assertLimited(res);
  });
});

describe('login throttle over HTTP, without a trusted proxy', () => {
  let server: TestServer;
  const port = () => Number(new URL(server.url).port);
  /** One POST over a socket bound to `localAddress` (127.0.0.0/8 is all loopback). */
  const postFrom = (localAddress: string, path: string, body: unknown, xff?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (xff) headers['x-forwarded-for'] = xff;
      const req = httpRequest(
        { host: '127.0.0.1', port: port(), path, method: 'POST', localAddress, headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  before(async () => {
    server = await startTestServer({
      PARLEY_LOGIN_USER_FAILURES_MAX: '2',
      PARLEY_LOGIN_REFILL_MS: '600000',
    });
  });

  after(async () => {
    await server.close();
  });

  it('takes the address from the socket, so a forged X-Forwarded-For claims no known address', async () => {
    const reg = await postFrom('127.0.0.2', '/v1/auth/register', {
      username: 'gail',
      password: PASSWORD,
    });
    assert.equal(reg.status, 201, reg.text);
    const guess = (i: number) =>
      postFrom(
        '127.0.0.3',
        '/v1/auth/login',
        { username: 'gail', password: `no ${i}!!!` },
        '127.0.0.2',
      );
    assert.equal((await guess(1)).status, 401);
    assert.equal((await guess(2)).status, 401);
    assert.equal((await guess(3)).status, 429, 'an unknown source, whatever the header says');
    const owner = await postFrom('127.0.0.2', '/v1/auth/login', {
      username: 'gail',
      password: PASSWORD,
    });
    assert.equal(owner.status, 200, owner.text);
  });

  it('reads PARLEY_TRUST_PROXY as off, proxy addresses/CIDRs, or a hop count, and refuses anything else', () => {
    const trust = (value: string) => loadConfig({ PARLEY_TRUST_PROXY: value }).http.trustProxy;
    assert.equal(loadConfig({}).http.trustProxy, false, 'off by default');
    assert.equal(trust('off'), false);
    assert.deepEqual(trust('10.0.0.0/8, 127.0.0.1,::1,fd00::/8'), [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
    ]);
    assert.deepEqual(trust('uniquelocal'), ['uniquelocal']);
    assert.equal(trust('1'), 1);
    for (const bad of ['true', '0', '99', '10.0.0.0/33', 'nginx', '10.0.0.1,,']) {
      assert.throws(() => trust(bad), ConfigError, bad);
    }
  });
});

describe('login throttle over HTTP: the refill', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      PARLEY_LOGIN_SOURCE_FAILURES_MAX: '3',
      PARLEY_LOGIN_REFILL_MS: '1500',
    });
  });

  after(async () => {
    await server.close();
  });

  const login = (username: string, password: string) =>
    http('POST', `${server.url}/v1/auth/login`, { body: { username, password } });

  it('refuses even the right password after the burst, leaves other users alone, then lets it in', async () => {
    await register(server.url, 'throttled', PASSWORD);
    await register(server.url, 'bystander', PASSWORD);
    for (let i = 0; i < 3; i++) {
      const res = await login('throttled', 'wrong password!');
      assert.equal(res.status, 401, res.text);
    }
    const refused = await login('throttled', PASSWORD);
    assertLimited(refused);
    assert.equal((await login('bystander', PASSWORD)).status, 200, 'other users are unaffected');

    const deadline = Date.now() + 5_000;
    let res = refused;
    while (res.status === 429 && Date.now() < deadline) {
      await sleep(250);
      res = await login('throttled', PASSWORD);
    }
    assert.equal(res.status, 200, res.text);
  });
});
