// Proves over real sockets that presence stops at a block, in both directions: a user blocked by
// a direct peer (or blocking one) neither hears of the other coming online or going away nor finds
// the other in the presence list a new connection gets; a block made while both are online tells
// each that the other is offline, and an unblock that leaves the pair unbarred tells each that
// the other is online again, as a new direct conversation between two users online does; on one node and across two (PostgreSQL and Redis), where no node
// caches blocks and presence crosses the bus. A third peer, not blocked, is the control: what it
// hears, the barred user would have heard by then.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeWithPostgresAndRedis } from '../test-support/backends.js';
import { RtClient } from '../test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { sleep } from '../test-support/wait.js';

/** After the control frame arrived, how long a frame that should not come gets to show up. */
const QUIET_MS = 300;

interface U {
  readonly name: string;
  readonly id: string;
  readonly token: string;
  readonly device: string;
}

async function newUser(server: TestServer, name: string): Promise<U> {
  const reg = await register(server.url, name);
  return { name, id: reg.userId, token: reg.token, device: reg.device };
}
async function openDirect(server: TestServer, a: U, b: U): Promise<void> {
  const res = await http('POST', `${server.url}/v1/conversations`, {
    token: a.token,
    body: { kind: 'direct', with: b.name },
  });
  assert.equal(res.status, 201, res.text);
}
/** POST (block) or DELETE (unblock) /v1/contacts/:them/block as `me`. */
async function blockAction(server: TestServer, method: string, me: U, them: U): Promise<void> {
  const res = await http(method, `${server.url}/v1/contacts/${them.name}/block`, {
    token: me.token,
  });
  assert.equal(res.status, 200, res.text);
}
/** Presence frames about `about` that `link` got from index `from` on. */
const heard = (link: RtClient, about: U, from = 0) =>
  link.frames.slice(from).filter((f) => f.type === 'presence' && f.user === about.id);
const hears = (link: RtClient, about: U, isOnline: boolean, from = 0) =>
  link.waitFor((f) => f.type === 'presence' && f.user === about.id && f.online === isOnline, {
    from,
  });

describe('presence and blocks', () => {
  let server: TestServer;
  let n = 0;
  const links: RtClient[] = [];

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const link of links) link.drop();
    await server.close();
  });

  const user = async (prefix: string) => newUser(server, `${prefix}${++n}`);
  const direct = (a: U, b: U) => openDirect(server, a, b);
  const contactAction = (method: string, me: U, them: U) => blockAction(server, method, me, them);
  async function online(who: U): Promise<RtClient> {
    const link = await RtClient.connect(server, 'ws-json', who.token, who.device);
    links.push(link);
    return link;
  }

  it('leaves a blocked pair out of announcements and of the list a new link gets, both ways', async () => {
    const [alice, bob, carol] = [await user('pa'), await user('pb'), await user('pc')];
    await direct(alice, bob);
    await direct(bob, carol);
    await direct(alice, carol);
    await contactAction('POST', bob, alice); // bob blocks alice

    const ra = await online(alice);
    const rc = await online(carol);
    await hears(ra, carol, true);
    const rb = await online(bob);
    // Carol hears bob arrive, and bob is told carol is online: by then alice's frame would be here.
    await hears(rc, bob, true);
    await hears(rb, carol, true);
    await sleep(QUIET_MS);
    assert.deepEqual(heard(ra, bob), [], 'the blocked user heard the blocker come online');
    assert.deepEqual(heard(rb, alice), [], 'the blocker was told the blocked user is online');

    const mark = ra.frames.length;
    rb.drop();
    await hears(rc, bob, false);
    await sleep(QUIET_MS);
    assert.deepEqual(heard(ra, bob, mark), [], 'the blocked user heard the blocker leave');

    // The other direction: the blocked user comes and goes while the blocker is online.
    const rb2 = await online(bob);
    await hears(rb2, carol, true);
    ra.drop();
    await hears(rc, alice, false);
    const ra2 = await online(alice);
    await hears(rc, alice, true, rc.frames.length - 1);
    await hears(ra2, carol, true);
    await sleep(QUIET_MS);
    assert.deepEqual(heard(rb2, alice), [], 'the blocker heard the blocked user');
    assert.deepEqual(heard(ra2, bob), [], 'the blocked user was told the blocker is online');
  });

  it('two users online who open a direct conversation are told at once that the other is', async () => {
    const [gil, hal] = [await user('pg'), await user('ph')];
    const rg = await online(gil);
    const rh = await online(hal);
    await direct(gil, hal);
    await hears(rg, hal, true);
    await hears(rh, gil, true);
  });

  it('a block while both are online tells each the other is offline; an unblock undoes it', async () => {
    const [dana, eli, fay] = [await user('pd'), await user('pe'), await user('pf')];
    await direct(dana, eli);
    await direct(eli, fay);
    const rd = await online(dana);
    const re = await online(eli);
    const rf = await online(fay);
    await hears(rd, eli, true);
    await hears(re, dana, true);

    let d = rd.frames.length;
    let e = re.frames.length;
    await contactAction('POST', dana, eli); // dana blocks eli
    await hears(re, dana, false, e);
    await hears(rd, eli, false, d);

    // While the block stands, eli's comings and goings reach fay, not dana.
    d = rd.frames.length;
    re.drop();
    await hears(rf, eli, false);
    const re2 = await online(eli);
    await hears(rf, eli, true, rf.frames.length - 1);
    await sleep(QUIET_MS);
    assert.deepEqual(heard(rd, eli, d), [], 'the blocker heard the blocked user come and go');

    // Both block; one lifts its block: the other's still bars presence.
    d = rd.frames.length;
    e = re2.frames.length;
    await contactAction('POST', eli, dana);
    await hears(re2, dana, false, e); // a block tells offline, even a second one
    await hears(rd, eli, false, d);
    d = rd.frames.length;
    e = re2.frames.length;
    await contactAction('DELETE', dana, eli);
    await re2.waitFor((f) => f.type === 'contact' && f.event === 'unblocked', { from: e });
    await sleep(QUIET_MS);
    assert.deepEqual(heard(rd, eli, d), [], 'presence while eli still blocks dana');
    assert.deepEqual(heard(re2, dana, e), [], 'presence while eli still blocks dana');

    // The last block lifted: each online side is told the other is online.
    await contactAction('DELETE', eli, dana);
    await hears(rd, eli, true, d);
    await hears(re2, dana, true, e);
  });
});

describeWithPostgresAndRedis('presence and blocks across two nodes', (backends) => {
  let nodeA: TestServer;
  let nodeB: TestServer;
  const links: RtClient[] = [];
  before(
    async () => {
      const { pg, redis } = backends();
      const env = {
        PARLEY_DATABASE_URL: await pg.createDatabase(),
        PARLEY_REDIS_URL: redis.url,
        PARLEY_BLOB_DIR_SHARED: 'true',
      };
      // One after the other: the first start migrates the database.
      nodeA = await startTestServer({ ...env, PARLEY_NODE_ID: 'node-a' });
      nodeB = await startTestServer({ ...env, PARLEY_NODE_ID: 'node-b' });
    },
    { timeout: 120_000 },
  );
  after(async () => {
    for (const link of links) link.drop();
    await nodeB?.close();
    await nodeA?.close();
  });
  async function online(node: TestServer, who: U): Promise<RtClient> {
    const link = await RtClient.connect(node, 'ws-json', who.token, who.device);
    links.push(link);
    return link;
  }

  it('a block on one node reaches the other, and later presence skips the pair', async () => {
    const [alice, bob, carol] = [
      await newUser(nodeA, 'xa'),
      await newUser(nodeA, 'xb'),
      await newUser(nodeA, 'xc'),
    ];
    await openDirect(nodeA, alice, bob);
    await openDirect(nodeA, bob, carol);
    const ra = await online(nodeA, alice);
    const rc = await online(nodeA, carol);
    const rb = await online(nodeB, bob);
    await hears(ra, bob, true);
    await hears(rc, bob, true);

    const a = ra.frames.length;
    await blockAction(nodeB, 'POST', bob, alice); // on node B; alice is on node A
    await hears(ra, bob, false, a);
    await hears(rb, alice, false);

    const mark = ra.frames.length;
    rb.drop();
    await hears(rc, bob, false);
    await online(nodeB, bob);
    await hears(rc, bob, true, rc.frames.length - 1);
    const ra2 = await online(nodeA, alice);
    await sleep(QUIET_MS);
    assert.deepEqual(heard(ra, bob, mark), [], 'alice heard bob across the nodes');
    assert.deepEqual(heard(ra2, bob), [], "alice's new link was told bob is online");
  });
});
