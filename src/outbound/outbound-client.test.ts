// Proves, over real sockets, what an outbound request does: it reaches a listed origin on
// loopback; refuses unlisted ports, hosts and names before any connection (traps on 127.0.0.1,
// .2 and .3 receive nothing); returns a redirect without following it; times out a slow answer;
// cuts a huge one at the cap; rejects, with its one error type and no secret in it, a request
// node:http refuses to build; refuses a name that resolves to loopback when nobody listed it;
// and connects to the address it checked, not to a second DNS answer.
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTrap, type Trap } from '../test-support/push-gateway.js';
import { AllowList, OutboundClient, OutboundError, type OutboundErrorCode } from './index.js';

async function listen(handler: RequestListener, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function rejectsWith(promise: Promise<unknown>, code: OutboundErrorCode): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof OutboundError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('OutboundClient', () => {
  let gateway: Server;
  let base: string;
  let traps: Trap[];
  /** Paths the gateway was asked for, in order. */
  const seen: string[] = [];
  const client = (allow: AllowList, extra: Partial<{ timeoutMs: number; cap: number }> = {}) =>
    new OutboundClient({
      allow,
      timeoutMs: extra.timeoutMs ?? 2_000,
      responseBytesMax: extra.cap ?? 1_024,
    });

  before(async () => {
    traps = await Promise.all([
      startTrap('127.0.0.1'),
      startTrap('127.0.0.2'),
      startTrap('127.0.0.3'),
    ]);
    const internal = traps[1]!;
    gateway = await listen((req, res) => {
      seen.push(req.url ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const status = /^\/gw\/redirect\/(\d+)$/.exec(path)?.[1];
        if (status) {
          res.writeHead(Number(status), { location: `${internal.url}/internal` }).end();
        } else if (path === '/gw/slow') {
          setTimeout(() => res.end('late'), 5_000).unref();
        } else if (path === '/gw/trickle') {
          res.writeHead(200);
          const timer = setInterval(() => res.write('x'), 50);
          res.on('close', () => clearInterval(timer));
        } else if (path === '/gw/huge') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(Buffer.alloc(10 * 1024 * 1024, 'a'));
        } else if (path === '/gw/cut') {
          res.writeHead(200, { 'content-length': '100' });
          res.write('only part');
          setTimeout(() => res.destroy(), 20);
        } else {
          res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.method ?? '' });
          res.end(Buffer.concat(chunks));
        }
      });
    });
    base = `http://127.0.0.1:${portOf(gateway)}`;
  });

  after(async () => {
    await closeServer(gateway);
    await Promise.all(traps.map((t) => t.close()));
  });

  const assertTrapsUntouched = () => {
    for (const trap of traps) assert.equal(trap.connections(), 0, `${trap.url} was reached`);
  };

  it('posts to a listed origin on loopback and returns status, headers and body', async () => {
    const c = client(AllowList.parse([`${base}/gw`]));
    const res = await c.request(`${base}/gw/notify?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hello":1}',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-echo'], 'POST');
    assert.equal(res.body.toString(), '{"hello":1}');
    assert.equal(res.truncated, false);
    assert.equal(seen.at(-1), '/gw/notify?x=1');
    c.close();
    assertTrapsUntouched();
  });

  it('refuses unlisted ports, hosts, names and paths before connecting', async () => {
    const c = client(AllowList.parse([`${base}/gw`]));
    const before = seen.length;
    const [loop1, loop2, loop3] = traps;
    for (const url of [
      `${loop1!.url}/gw/x`, // the listed host on another port
      `http://127.0.0.1:${portOf(gateway)}0/gw/x`, // a port that starts with the listed one
      `${loop2!.url}/gw/x`,
      `http://127.0.0.3:${portOf(gateway)}/gw/x`, // the listed port on another loopback address
      `http://localhost:${portOf(gateway)}/gw/x`, // a name for the listed address
      `${base}/gwx`,
      `${base}/gw/../admin`,
      `${base}/gw/%2e%2e/admin`,
      `${base}/gw\\..\\admin`,
      `http://127.0.0.1:${portOf(gateway)}@${loop3!.host}:${loop3!.port}/gw/x`,
    ]) {
      await rejectsWith(c.request(url), 'url_refused');
    }
    assert.equal(seen.length, before, 'the gateway saw none of them');
    assertTrapsUntouched();
  });

  it('returns a redirect as it is and never follows it', async () => {
    const c = client(AllowList.parse([`${base}/gw`]));
    for (const status of [301, 302, 303, 307, 308]) {
      const res = await c.request(`${base}/gw/redirect/${status}`, { method: 'POST', body: 'x' });
      assert.equal(res.status, status);
      assert.equal(res.headers.location, `${traps[1]!.url}/internal`);
    }
    await new Promise((r) => setTimeout(r, 100));
    assertTrapsUntouched();
  });

  it('times out a gateway that answers late, or trickles its body, over the whole request', async () => {
    const c = client(AllowList.parse([`${base}/gw`]), { timeoutMs: 300, cap: 1 << 20 });
    for (const path of ['/gw/slow', '/gw/trickle']) {
      const started = Date.now();
      await rejectsWith(c.request(`${base}${path}`), 'timeout');
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2_000, `${path}: ${took} ms`);
    }
  });

  it('reads a huge answer only up to the cap', async () => {
    const c = client(AllowList.parse([`${base}/gw`]), { cap: 4_096 });
    const res = await c.request(`${base}/gw/huge`, { method: 'GET' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 4_096);
    assert.equal(res.truncated, true);
  });

  it('reports a body cut short by the peer as a network error', async () => {
    const c = client(AllowList.parse([`${base}/gw`]));
    await rejectsWith(c.request(`${base}/gw/cut`, { method: 'GET' }), 'network');
  });

  it('stops when the caller aborts', async () => {
    const c = client(AllowList.parse([`${base}/gw`]), { timeoutMs: 10_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await rejectsWith(c.request(`${base}/gw/slow`, { signal: abort.signal }), 'aborted');
  });

  it('rejects a request node:http cannot build with a coded error that quotes nothing', async () => {
    const c = client(AllowList.parse([`${base}/gw`]));
    const before = seen.length;
    // An operator's secret read from a file with its newline, a header injection, a non-Latin-1
    // character: node:http throws on each before sending.
    for (const secret of ['s3cret\n', 's3cret\r\nx-injected: 1', 's3cret€']) {
      await assert.rejects(
        c.request(`${base}/gw/x`, { headers: { authorization: `Bearer ${secret}` } }),
        (err) => {
          assert.ok(err instanceof OutboundError, String(err));
          assert.equal(err.code, 'network');
          assert.equal(err.reason, 'ERR_INVALID_CHAR');
          assert.ok(!err.message.includes('s3cret'), err.message);
          return true;
        },
      );
    }
    assert.equal(seen.length, before, 'nothing was sent');
    c.close();
  });

  it('refuses a name that resolves to loopback when nobody listed its origin', async () => {
    const c = client(AllowList.anyPublic());
    for (const trap of traps) {
      await rejectsWith(c.request(`http://localhost:${trap.port}/`), 'address_refused');
      await rejectsWith(c.request(`${trap.url}/`), 'address_refused');
      await rejectsWith(c.request(`http://[::ffff:${trap.host}]:${trap.port}/`), 'address_refused');
    }
    await rejectsWith(c.request('http://169.254.169.254/latest/meta-data'), 'address_refused');
    await rejectsWith(c.request('http://[fd00:ec2::254]/'), 'address_refused');
    await rejectsWith(c.request('http://0.0.0.0:1/'), 'address_refused');
    assertTrapsUntouched();
  });

  it('lets a listed host name resolve to loopback, and a listed metadata origin never', async () => {
    const c = client(
      AllowList.parse([`http://localhost:${portOf(gateway)}/gw`, 'http://169.254.169.254']),
    );
    assert.equal((await c.request(`http://localhost:${portOf(gateway)}/gw/a`)).status, 201);
    await rejectsWith(c.request('http://169.254.169.254/latest'), 'address_refused');
  });

  it('connects to the address it checked, not to a later DNS answer', async () => {
    const answers = ['127.0.0.1', traps[2]!.host];
    let lookups = 0;
    const c = new OutboundClient({
      allow: AllowList.parse([`http://gw.test:${portOf(gateway)}/gw`]),
      timeoutMs: 2_000,
      responseBytesMax: 1_024,
      // A rebinding resolver: the first answer is the gateway, any later one a trap.
      resolve: () => Promise.resolve([{ address: answers[Math.min(lookups++, 1)]!, family: 4 }]),
    });
    assert.equal((await c.request(`http://gw.test:${portOf(gateway)}/gw/pinned`)).status, 201);
    assert.equal(lookups, 1, 'one lookup, ours');
    assert.equal(seen.at(-1), '/gw/pinned');
    assertTrapsUntouched();
  });

  it('refuses a host when any of its addresses is refused', async () => {
    const c = new OutboundClient({
      allow: AllowList.anyPublic(),
      timeoutMs: 2_000,
      responseBytesMax: 1_024,
      resolve: () =>
        Promise.resolve([
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ]),
    });
    await rejectsWith(c.request('http://mixed.test/'), 'address_refused');
    const unresolved = new OutboundClient({
      allow: AllowList.anyPublic(),
      timeoutMs: 2_000,
      responseBytesMax: 1_024,
    });
    await rejectsWith(unresolved.request('http://no-such-host.invalid/'), 'dns_failed');
  });

  it('takes a resolver answer that is not an IP address for a DNS failure', async () => {
    const c = new OutboundClient({
      allow: AllowList.anyPublic(),
      timeoutMs: 2_000,
      responseBytesMax: 1_024,
      resolve: () => Promise.resolve([{ address: 'gw.internal', family: 4 }]),
    });
    await rejectsWith(c.request('http://odd.test/'), 'dns_failed');
  });
});
