// Proves the webhook sink POSTs each event, signed with HMAC-SHA256 over timestamp and body, to a
// real HTTP receiver; retries a failing receiver with backoff until it succeeds; keeps order; and
// gives up after its attempt limit without blocking the events behind. Through the outbound
// module: a redirect is a failure and never followed, a slow receiver times out, a huge answer is
// cut at the cap, a URL outside the allow-list is never called (traps receive nothing), and a
// request the client cannot build is counted and given up, with no unhandled rejection.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AllowList, OutboundClient } from '../outbound/index.js';
import { startTrap, type Trap } from '../test-support/push-gateway.js';
import { WebhookSink } from './webhook-sink.js';
import type { ParleyEvent } from './event-sink.js';

const SECRET = 'test-secret';
const logger = pino({ level: 'silent' });

interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** An outbound client allowing `urls`, as compose/events.ts builds it from PARLEY_WEBHOOK_URLS. */
function outbound(urls: string[], timeoutMs = 5_000, responseBytesMax = 64 * 1024): OutboundClient {
  return new OutboundClient({ allow: AllowList.parse(urls), timeoutMs, responseBytesMax });
}

function event(n: number): ParleyEvent {
  return { id: `e${n}`, type: 'message.stored', at: n, node: 'n1', data: { seq: n } };
}

describe('WebhookSink', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  /** Status to answer, per event id, consumed one per attempt. */
  const plan = new Map<string, number[]>();

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ body, headers: req.headers });
        const id = String(req.headers['x-parley-event-id']);
        const status = plan.get(id)?.shift() ?? 204;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}/hook`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('delivers events in order, each with a verifiable signature', async () => {
    received.length = 0;
    const sink = new WebhookSink({
      urls: [url],
      secret: SECRET,
      logger,
      outbound: outbound([url]),
    });
    for (let n = 1; n <= 5; n++) sink.append(event(n));
    await waitFor(() => received.length >= 5);
    await sink.close();
    assert.deepEqual(
      received.map((r) => (JSON.parse(r.body) as ParleyEvent).id),
      ['e1', 'e2', 'e3', 'e4', 'e5'],
    );
    for (const r of received) {
      const header = String(r.headers['x-parley-signature']);
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      assert.ok(match, header);
      const expected = createHmac('sha256', SECRET).update(`${match[1]}.${r.body}`).digest('hex');
      assert.equal(match[2], expected);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['x-parley-event-type'], 'message.stored');
    }
  });

  it('retries a failing receiver until it accepts, without reordering', async () => {
    received.length = 0;
    plan.set('e10', [500, 503]);
    const sink = new WebhookSink({
      urls: [url],
      secret: SECRET,
      logger,
      outbound: outbound([url]),
      backoffBaseMs: 10,
    });
    sink.append(event(10));
    sink.append(event(11));
    await waitFor(() => received.some((r) => r.body.includes('"e11"')));
    await sink.close();
    assert.deepEqual(
      received.map((r) => (JSON.parse(r.body) as ParleyEvent).id),
      ['e10', 'e10', 'e10', 'e11'],
    );
  });

  it('gives up after its attempt limit and moves on', async () => {
    received.length = 0;
    plan.set('e20', [500, 500, 500, 500]);
    const sink = new WebhookSink({
      urls: [url],
      secret: SECRET,
      logger,
      outbound: outbound([url]),
      backoffBaseMs: 5,
      attemptsMax: 3,
    });
    sink.append(event(20));
    sink.append(event(21));
    await waitFor(() => received.some((r) => r.body.includes('"e21"')));
    await sink.close();
    const ids = received.map((r) => (JSON.parse(r.body) as ParleyEvent).id);
    assert.deepEqual(ids, ['e20', 'e20', 'e20', 'e21']);
  });
});

describe('WebhookSink shutdown and overflow', () => {
  it('closes within its grace time even when the receiver never answers', async () => {
    const hang = createServer(() => undefined); // accepts, never responds
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const address = hang.address();
    assert.ok(address && typeof address === 'object');
    const hangUrl = `http://127.0.0.1:${address.port}/`;
    const sink = new WebhookSink({
      urls: [hangUrl],
      secret: SECRET,
      logger,
      outbound: outbound([hangUrl], 60_000),
    });
    for (let n = 1; n <= 50; n++) sink.append(event(n));
    const started = Date.now();
    await sink.close(300);
    const tookMs = Date.now() - started;
    hang.closeAllConnections();
    await new Promise<void>((resolve) => hang.close(() => resolve()));
    assert.ok(tookMs < 5_000, `close took ${tookMs} ms`);
  });
});

describe('WebhookSink through the outbound rule', () => {
  let receiver: Server;
  let base: string;
  let traps: Trap[];
  /** Event ids received, per path (query dropped). */
  const got = new Map<string, string[]>();
  const lines: string[] = [];
  const captured = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });

  before(async () => {
    traps = await Promise.all([startTrap('127.0.0.2'), startTrap('127.0.0.3')]);
    receiver = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const ids = got.get(path) ?? [];
      got.set(path, ids);
      ids.push(String(req.headers['x-parley-event-id']));
      req.resume();
      req.on('end', () => {
        if (path === '/redirect') {
          res.writeHead(307, { location: `${traps[0]!.url}/internal` }).end();
        } else if (path === '/slow') {
          setTimeout(() => res.end(), 5_000).unref();
        } else if (path === '/huge') {
          res.writeHead(200).end(Buffer.alloc(5 * 1024 * 1024, 'a'));
        } else {
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    assert.ok(address && typeof address === 'object');
    base = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await Promise.all(traps.map((t) => t.close()));
  });

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(check(), `timed out waiting for ${what}`);
  }
  const gaveUp = () => lines.filter((l) => l.includes('webhook delivery gave up')).length;
  /** A sink for one URL that the rule allows, trying each event twice, 5 ms apart. */
  const sinkFor = (url: string, timeoutMs?: number) =>
    new WebhookSink({
      urls: [url],
      secret: SECRET,
      logger: captured,
      outbound: outbound([url], timeoutMs),
      backoffBaseMs: 5,
      attemptsMax: 2,
    });
  const untouched = () => {
    for (const trap of traps) assert.equal(trap.connections(), 0, `${trap.url} was reached`);
  };

  it('takes a redirect as a failure and never follows it, logging no secret', async () => {
    lines.length = 0;
    const sink = sinkFor(`${base}/redirect?key=s3cret`);
    sink.append(event(30));
    sink.append(event(31));
    await until(() => gaveUp() === 2, 'both events given up');
    await sink.close();
    assert.deepEqual(got.get('/redirect'), ['e30', 'e30', 'e31', 'e31']);
    untouched();
    assert.ok(!lines.some((l) => l.includes('s3cret')), lines.join(''));
  });

  it('times out a receiver that does not answer, then gives up', async () => {
    lines.length = 0;
    const sink = sinkFor(`${base}/slow`, 200);
    const started = Date.now();
    sink.append(event(40));
    await until(() => gaveUp() === 1, 'the event given up');
    const tookMs = Date.now() - started;
    await sink.close();
    assert.deepEqual(got.get('/slow'), ['e40', 'e40']);
    assert.ok(tookMs >= 400 && tookMs < 3_000, `took ${tookMs} ms`);
  });

  it('reads a huge answer only up to the cap, and counts it delivered', async () => {
    lines.length = 0;
    const url = `${base}/huge`;
    const sink = new WebhookSink({
      urls: [url],
      secret: SECRET,
      logger: captured,
      outbound: outbound([url], 5_000, 1_024),
      backoffBaseMs: 5,
    });
    sink.append(event(50));
    sink.append(event(51));
    await until(() => (got.get('/huge') ?? []).length >= 2, 'both events');
    await sink.close();
    assert.deepEqual(got.get('/huge'), ['e50', 'e51'], 'each once: no retry');
    assert.equal(gaveUp(), 0);
  });

  it('never calls a URL outside its allow-list', async () => {
    lines.length = 0;
    const urls = traps.map((t) => `${t.url}/hook`);
    const sink = new WebhookSink({
      urls,
      secret: SECRET,
      logger: captured,
      outbound: outbound([`${base}/hook`]),
      backoffBaseMs: 5,
      attemptsMax: 2,
    });
    sink.append(event(60));
    await until(() => gaveUp() === 2, 'given up at both URLs');
    await sink.close();
    untouched();
    assert.equal(lines.filter((l) => l.includes('webhook refused')).length, 4);
  });

  it('counts and gives up a request the client cannot build, and stays up', async () => {
    lines.length = 0;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const sink = sinkFor(`${base}/unbuildable?key=s3cret`);
      // No URL that passes the rule makes node:http throw, and the other headers are the
      // server's own: the event id is the one a producer chooses. One kept with the newline of
      // the line it was read from is no header value node:http will send.
      sink.append({ ...event(70), id: 'e70\n' });
      sink.append(event(71));
      await until(() => (got.get('/unbuildable') ?? []).length > 0, 'the next event');
      await new Promise((resolve) => setImmediate(resolve));
      await sink.close();
      assert.deepEqual(unhandled, [], 'no unhandled rejection (it would end the process)');
      assert.deepEqual(got.get('/unbuildable'), ['e71'], 'the bad one never left; the next did');
      assert.deepEqual(sink.stats, { delivered: 1, failedAttempts: 2, gaveUp: 1, dropped: 0 });
      const gave = lines.find((l) => l.includes('webhook delivery gave up'));
      assert.ok(gave, lines.join(''));
      const entry = JSON.parse(gave) as Record<string, unknown>;
      assert.equal(entry.host, new URL(base).host);
      assert.equal(entry.code, 'network');
      assert.equal(entry.reason, 'ERR_INVALID_CHAR');
      assert.ok(
        !lines.some((l) => l.includes('s3cret') || l.includes('unbuildable')),
        lines.join(''),
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
