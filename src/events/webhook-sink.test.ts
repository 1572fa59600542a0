// Proves the webhook sink POSTs each event, signed with HMAC-SHA256 over timestamp and body, to a
// real HTTP receiver; retries a failing receiver with backoff until it succeeds; keeps order; and
// gives up after its attempt limit without blocking the events behind.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebhookSink } from './webhook-sink.js';
import type { ParleyEvent } from './event-sink.js';

const SECRET = 'test-secret';
const logger = pino({ level: 'silent' });

interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
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
    const sink = new WebhookSink({ urls: [url], secret: SECRET, logger });
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
    const sink = new WebhookSink({ urls: [url], secret: SECRET, logger, backoffBaseMs: 10 });
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
    const sink = new WebhookSink({
      urls: [`http://127.0.0.1:${address.port}/`],
      secret: SECRET,
      logger,
      timeoutMs: 60_000,
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
