// Proves that /metrics is valid Prometheus text, that its counters and histograms move when
// messages flow over a real WebSocket (connections, frames, sends, commits, deliveries, rate
// limits, slow-reader cuts, the CPU of the event loop and of the append thread), that no user or conversation id becomes a label, and that every
// server in a process keeps its own registry.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { MemoryBus, MemoryBusHub } from '../bus/index.js';
import { RtClient } from '../test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { sleep, withTimeout } from '../test-support/wait.js';
import { MeteredBus } from './metered-bus.js';
import { ParleyMetrics } from './metrics.js';

const WAIT_MS = 10_000;
/** parley_thread_cpu_seconds_total is read from /proc: Linux only. */
const LINUX = existsSync('/proc/self/task');

// One sample line of the text format 0.0.4: name, optional labels, value, optional timestamp.
// Values parse as Go's ParseFloat does, so NaN and Inf in any letter case.
const SAMPLE_RE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*",?)*)\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-]?[Ii][Nn][Ff])(?: -?\d+)?$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"/g;

type Samples = Map<string, number>;

/**
 * A small parser of the exposition format, strict where it matters here: every line is a
 * comment, a HELP or TYPE line, or a sample of a family already TYPEd; anything else fails the
 * test. Returns `name{a="x",b="y"}` (labels sorted, the constant `node` left out) → value.
 */
function parseExposition(text: string): Samples {
  const typed = new Set<string>();
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        typed.add(meta[2]!);
      }
      continue;
    }
    const sample = SAMPLE_RE.exec(line);
    assert.ok(sample, `not a Prometheus sample line: ${line}`);
    const name = sample[1]!;
    const family = name.replace(/_(bucket|count|sum|total)$/, '');
    assert.ok(typed.has(name) || typed.has(family), `sample before its TYPE: ${line}`);
    const labels = [...(sample[2] ?? '').matchAll(LABEL_RE)]
      .filter((m) => m[1] !== 'node')
      .map((m) => `${m[1]}="${m[2]}"`)
      .sort();
    const key = labels.length > 0 ? `${name}{${labels.join(',')}}` : name;
    assert.equal(out.has(key), false, `duplicate sample ${key}`);
    out.set(key, Number(sample[3]));
  }
  return out;
}

async function scrape(server: TestServer): Promise<{ text: string; values: Samples }> {
  const res = await http('GET', `${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return { text: res.text, values: parseExposition(res.text) };
}

const v = (s: Samples, k: string): number => s.get(k) ?? 0;

async function directPair(server: TestServer, a: string, b: string) {
  const alice = await register(server.url, a, undefined, 'laptop');
  const bob = await register(server.url, b, undefined, 'phone');
  const opened = await http<{ id: string }>('POST', `${server.url}/v1/conversations`, {
    token: alice.token,
    body: { kind: 'direct', with: b },
  });
  assert.equal(opened.status, 201, opened.text);
  return { alice, bob, conversation: opened.json.id };
}

describe('/metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_SEND_RATE_PER_SEC: '2', PARLEY_SEND_BURST_MAX: '2' });
  });
  after(async () => {
    await server.close();
  });

  it('is Prometheus text with the documented series', async () => {
    const { text, values } = await scrape(server);
    for (const name of [
      'parley_connections{transport="ws"}',
      'parley_connections{transport="tcp"}',
      'parley_sends_total',
      'parley_commit_batch_size_count',
      'parley_send_commit_seconds_count',
      'parley_send_deliver_seconds_count',
      'parley_queue_overflows_total',
      'parley_rate_limited_total',
      'parley_search_backlog',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      // `append` appears once the append thread has named itself: see the next test.
      ...(LINUX
        ? ['event_loop', 'other'].map((t) => `parley_thread_cpu_seconds_total{thread="${t}"}`)
        : []),
    ]) {
      assert.ok(values.has(name), `missing ${name}`);
    }
    assert.match(text, /^# TYPE parley_frames_in_total counter$/m);
    assert.match(text, /^# TYPE parley_send_deliver_seconds histogram$/m);
  });

  it('moves when messages flow over a real WebSocket', async () => {
    const { alice, bob, conversation } = await directPair(server, 'mia', 'noah');
    const before = (await scrape(server)).values;
    const a = await RtClient.connect(server, 'ws-json', alice.token, alice.device);
    const b = await RtClient.connect(server, 'ws-json', bob.token, bob.device);
    try {
      const during = (await scrape(server)).values;
      assert.equal(v(during, 'parley_connections{transport="ws"}'), 2);
      assert.equal(
        v(during, 'parley_connections_opened_total{transport="ws"}') -
          v(before, 'parley_connections_opened_total{transport="ws"}'),
        2,
      );

      for (let i = 0; i < 2; i++) {
        const sent = await a.request({
          type: 'send',
          ref: `r${i}`,
          conversation,
          body: { kind: 'text', text: `hello ${i}` },
        });
        assert.equal(sent.type, 'sent', JSON.stringify(sent));
      }
      await b.waitForCount('message', 2, WAIT_MS);

      const now = (await scrape(server)).values;
      const delta = (k: string) => v(now, k) - v(before, k);
      assert.equal(delta('parley_frames_in_total{type="hello"}'), 2);
      assert.equal(delta('parley_frames_in_total{type="send"}'), 2);
      assert.equal(delta('parley_frames_out_total{type="welcome"}'), 2);
      assert.equal(delta('parley_frames_out_total{type="sent"}'), 2);
      assert.ok(
        delta('parley_frames_out_total{type="message"}') >= 2,
        `message pushes counted: ${delta('parley_frames_out_total{type="message"}')}`,
      );
      assert.equal(delta('parley_sends_total'), 2);
      assert.ok(delta('parley_commit_batch_size_count') >= 1, 'batches observed');
      assert.equal(delta('parley_commit_batch_size_sum'), 2);
      assert.equal(delta('parley_send_commit_seconds_count'), 2);
      assert.ok(delta('parley_send_commit_seconds_sum') > 0, 'commit latency observed');
      assert.ok(
        delta('parley_send_deliver_seconds_count') >= 2,
        `deliveries observed: ${delta('parley_send_deliver_seconds_count')}`,
      );
      if (LINUX) {
        // The real append thread names itself, so its commits are charged to it.
        const append = delta('parley_thread_cpu_seconds_total{thread="append"}');
        assert.ok(append > 0, `append thread CPU moved: ${append} s`);
        const loop = delta('parley_thread_cpu_seconds_total{thread="event_loop"}');
        assert.ok(loop > 0, `event loop CPU moved: ${loop} s`);
      }
    } finally {
      a.drop();
      b.drop();
    }
    const deadline = Date.now() + WAIT_MS;
    let open = -1;
    while (Date.now() < deadline) {
      open = v((await scrape(server)).values, 'parley_connections{transport="ws"}');
      if (open === 0) break;
      await sleep(25);
    }
    assert.equal(open, 0, 'closed connections are no longer counted');
  });

  it('counts rate-limit refusals', async () => {
    const { alice, conversation } = await directPair(server, 'olga', 'pete');
    const before = (await scrape(server)).values;
    const a = await RtClient.connect(server, 'ws-json', alice.token, alice.device);
    try {
      // A burst of 2 is allowed; the rest of these 5 are refused with rate_limited.
      const answers = await Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          a.request({
            type: 'send',
            ref: `x${i}`,
            conversation,
            body: { kind: 'text', text: 'x' },
          }),
        ),
      );
      const refused = answers.filter((f) => f.type === 'error' && f.code === 'rate_limited');
      assert.ok(refused.length >= 1, JSON.stringify(answers));
      const now = (await scrape(server)).values;
      assert.equal(
        v(now, 'parley_rate_limited_total') - v(before, 'parley_rate_limited_total'),
        refused.length,
      );
    } finally {
      a.drop();
    }
  });

  it('never carries a user or conversation id in a label', async () => {
    const { alice, bob, conversation } = await directPair(server, 'quinn', 'rosa');
    const a = await RtClient.connect(server, 'ws-json', alice.token, alice.device);
    try {
      await a.request({ type: 'send', ref: 'q1', conversation, body: { kind: 'text', text: 'q' } });
      const { text } = await scrape(server);
      for (const id of [alice.userId, bob.userId, conversation, 'quinn', 'rosa']) {
        assert.equal(text.includes(id), false, `${id} appears in /metrics`);
      }
    } finally {
      a.drop();
    }
  });

  it('times HTTP requests by route pattern, method and status, never by URL', async () => {
    const { alice, conversation } = await directPair(server, 'uma', 'vic');
    const key = (route: string, method: string, status: number) =>
      `parley_http_request_duration_seconds_count{method="${method}",route="${route}",status="${status}"}`;
    const pattern = '/v1/conversations/:id/messages';
    const before = (await scrape(server)).values;
    for (let i = 0; i < 3; i++) {
      const page = await http('GET', `${server.url}/v1/conversations/${conversation}/messages`, {
        token: alice.token,
      });
      assert.equal(page.status, 200, page.text);
    }
    const refused = await http('GET', `${server.url}/v1/conversations/${conversation}/messages`);
    assert.equal(refused.status, 401);
    // Two different unknown URLs, one carrying a token-like segment: one `unmatched` series.
    const secret = `pt_${alice.token.slice(-12)}`;
    assert.equal((await http('GET', `${server.url}/v1/nope/${secret}`)).status, 404);
    assert.equal((await http('POST', `${server.url}/v1/nope/${conversation}`)).status, 404);
    const { text, values } = await scrape(server);
    const moved = (k: string) => v(values, k) - v(before, k);
    assert.equal(moved(key(pattern, 'GET', 200)), 3);
    assert.equal(moved(key(pattern, 'GET', 401)), 1);
    assert.equal(moved(key('unmatched', 'GET', 404)), 1);
    assert.equal(moved(key('unmatched', 'POST', 404)), 1);
    // A histogram in seconds: the sum of three local reads is well under a second, above zero.
    const sumKey = key(pattern, 'GET', 200).replace('_count{', '_sum{');
    const seconds = v(values, sumKey) - v(before, sumKey);
    assert.ok(seconds > 0 && seconds < 3, `sum ${seconds}`);
    assert.ok(v(values, key(pattern, 'GET', 200).replace('_count{', '_bucket{le="+Inf",')) >= 3);
    for (const raw of [conversation, secret, '/v1/nope', alice.token]) {
      assert.equal(text.includes(raw), false, `${raw} appears in /metrics`);
    }
  });

  it('belongs to its own server: another server in the process does not move', async () => {
    const other = await startTestServer();
    try {
      const { alice, conversation } = await directPair(server, 'sam', 'tia');
      const before = (await scrape(other)).values;
      const a = await RtClient.connect(server, 'ws-json', alice.token, alice.device);
      await a.request({ type: 'send', ref: 's1', conversation, body: { kind: 'text', text: 's' } });
      a.drop();
      const after = (await scrape(other)).values;
      assert.equal(v(after, 'parley_sends_total'), v(before, 'parley_sends_total'));
      assert.equal(
        v(after, 'parley_connections_opened_total{transport="ws"}'),
        v(before, 'parley_connections_opened_total{transport="ws"}'),
      );
    } finally {
      await other.close();
    }
  });
});

describe('/metrics queue overflows', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      PARLEY_SEND_QUEUE_BYTES_MAX: String(64 * 1024),
      PARLEY_SEND_RATE_PER_SEC: '100000',
      PARLEY_SEND_BURST_MAX: '100000',
    });
  });
  after(async () => {
    await server.close();
  });

  it('counts a reader cut off for being too slow (4503)', async () => {
    const { alice, bob, conversation } = await directPair(server, 'uma', 'vic');
    const before = v((await scrape(server)).values, 'parley_queue_overflows_total');
    // Bob says hello over a raw WebSocket, then stops reading.
    const ws = new WebSocket(server.wsUrl, ['parley.v1.json']);
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const welcome = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'welcome') resolve();
      }),
    );
    await withTimeout(new Promise((resolve) => ws.once('open', resolve)), WAIT_MS, 'open');
    ws.send(JSON.stringify({ type: 'hello', token: bob.token, device: bob.device }));
    await withTimeout(welcome, WAIT_MS, 'welcome');
    ws.pause();

    const a = await RtClient.connect(server, 'ws-json', alice.token, alice.device);
    const text = 'z'.repeat(15_000);
    let cut = false;
    void closed.then(() => (cut = true));
    try {
      // Loopback buffers absorb a few MiB before the server's own queue grows: send until the
      // slow link is cut, at most ~30 MB.
      for (let round = 0; round < 100 && !cut; round++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            a.request(
              { type: 'send', ref: `f${round}-${i}`, conversation, body: { kind: 'text', text } },
              WAIT_MS,
            ),
          ),
        );
        assert.ok(answers.every((f) => f.type === 'sent'));
        a.frames.length = 0;
        const overflows = v((await scrape(server)).values, 'parley_queue_overflows_total');
        if (overflows > before) cut = true;
      }
      const after = v((await scrape(server)).values, 'parley_queue_overflows_total');
      assert.equal(after - before, 1);
    } finally {
      a.drop();
      ws.terminate();
    }
  });
});

describe('MeteredBus', () => {
  it('counts what it publishes and receives, by kind, and passes every message on', async () => {
    const hub = new MemoryBusHub();
    const m1 = new ParleyMetrics({ nodeId: 'n1', defaults: false });
    const m2 = new ParleyMetrics({ nodeId: 'n2', defaults: false });
    const one = new MeteredBus(new MemoryBus(hub), m1);
    const two = new MeteredBus(new MemoryBus(hub), m2);
    const got: string[] = [];
    await one.subscribe('n1', () => undefined);
    await two.subscribe('n2', (message) => got.push(message.kind));
    one.publish('n2', { kind: 'members-changed', conversation: 'c1' });
    one.broadcast({ kind: 'kick', user: 'u1', device: 'd1', reason: 'revoked' });
    await withTimeout(
      (async () => {
        while (got.length < 2) await sleep(5);
      })(),
      WAIT_MS,
      'bus delivery',
    );
    assert.deepEqual(got.sort(), ['kick', 'members-changed']);
    const sent = parseExposition((await m1.scrape()).text);
    const received = parseExposition((await m2.scrape()).text);
    assert.equal(v(sent, 'parley_bus_published_total{kind="members-changed"}'), 1);
    assert.equal(v(sent, 'parley_bus_published_total{kind="kick"}'), 1);
    assert.equal(v(received, 'parley_bus_received_total{kind="members-changed"}'), 1);
    assert.equal(v(received, 'parley_bus_received_total{kind="kick"}'), 1);
    assert.equal(v(received, 'parley_bus_published_total{kind="kick"}'), 0);
    await one.close();
    await two.close();
  });
});
