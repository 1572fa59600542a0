// Proves that every benchmark scenario still runs end to end at a tiny size — own server and
// baseline, WebSocket and HTTP — and reports its figures with 100% delivery. No timing is asserted:
// benchmarks are not tests, this only keeps the harness from rotting.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBench, runBenchCli } from './cli.js';
import { parseBenchArgs, type BenchOptions } from './options.js';
import type { Comparison, Report } from './report.js';
import { postgresSkipReason } from '../engines/index.js';
import { redisSkip } from '../engines/index.js';

// Flags given by a test come after these, and win.
const TINY = ['--json', '--duration-s', '20'];

function options(argv: string[]): BenchOptions {
  const parsed = parseBenchArgs([...TINY, ...argv]);
  assert.notEqual(parsed, 'help');
  return parsed as BenchOptions;
}

async function report(argv: string[]): Promise<Report> {
  const result = await runBench(options(argv));
  assert.ok(!('ratios' in result), 'a single run gives a report');
  return result;
}

function assertPassed(r: Report): void {
  assert.deepEqual(r.failures, [], `${r.scenario} on ${r.target} failed`);
  assert.equal(r.ok, true);
  assert.match(r.date, /^\d{4}-\d\d-\d\dT/);
  for (const key of ['serverCpuPercent', 'serverRssPeakMiB']) {
    assert.equal(typeof r.figures[key], 'number', `${key} is measured from /proc`);
  }
  for (const key of ['serverWaitPercent', 'clientWaitPercent']) {
    const waited = r.figures[key];
    assert.ok(typeof waited === 'number' && waited >= 0, `${key} is read from schedstat`);
  }
}

function assertFlow(r: Report, expected: number): void {
  assertPassed(r);
  const f = r.figures;
  assert.equal(f.expected, expected);
  assert.equal(f.delivered, expected);
  assert.equal(f.deliveryRate, 1);
  for (const key of [
    'sentPerSec',
    'deliveredPerSec',
    'latencyP50Ms',
    'latencyP90Ms',
    'latencyP99Ms',
    'latencyMaxMs',
  ]) {
    assert.equal(typeof f[key], 'number', key);
    assert.ok((f[key] as number) >= 0, key);
  }
  assert.ok((f.latencyP50Ms as number) <= (f.latencyMaxMs as number));
}

/** A figure that must have been measured, and be above zero. */
function positive(r: Report, key: string): number {
  const value = r.figures[key];
  assert.ok(typeof value === 'number' && value > 0, `${key} is ${String(value)}`);
  return value;
}

/**
 * The cost of a delivered message on Parley (Linux: /proc and the nodes' /metrics): in all, and
 * by thread, whose parts add up to about the whole (they are read from /metrics, the whole from
 * /proc in 10 ms ticks, over nearly the same window).
 */
function assertCost(r: Report, append: boolean): void {
  const server = positive(r, 'serverCpuUsPerMessage');
  const parts = [positive(r, 'eventLoopCpuUsPerMessage')];
  // A small run may see no collection at all, and no helper thread run for a whole 10 ms tick.
  for (const key of ['gcPauseUsPerMessage', 'otherThreadsCpuUsPerMessage']) {
    const value = r.figures[key];
    assert.ok(typeof value === 'number' && value >= 0, `${key} is ${String(value)}`);
  }
  parts.push(r.figures.otherThreadsCpuUsPerMessage as number);
  if (append) parts.push(positive(r, 'appendCpuUsPerMessage'));
  else assert.equal(r.figures.appendCpuUsPerMessage, null, 'no append thread on PostgreSQL');
  const sum = parts.reduce((a, b) => a + b, 0);
  const slack = Math.max(server / 2, (0.03 * 1e6) / (r.figures.delivered as number));
  assert.ok(Math.abs(sum - server) <= slack, `parts ${sum} µs against the whole ${server} µs`);
}

describe('bench harness', () => {
  test('direct: pairs send and every message reaches the peer', async () => {
    assertFlow(await report(['direct', '--connections', '4', '--messages', '5']), 4 * 5);
  });

  test('direct: the CPU a delivered message cost, in all and by thread', async () => {
    // 400 messages: enough CPU that 10 ms ticks of /proc cannot round the whole to zero.
    const r = await report(['direct', '--connections', '20', '--messages', '20']);
    assertFlow(r, 20 * 20);
    assertCost(r, true);
    for (const key of ['postgresCpuUsPerMessage', 'redisCpuUsPerMessage', 'totalCpuUsPerMessage']) {
      assert.equal(key in r.figures, false, `${key}: only a cluster has one`);
    }
  });

  test('direct --warmup-s: messages of the warm-up are delivered but not timed', async () => {
    // 10 sends a second for 0.8 s each: those sent in the first 0.5 s are not timed.
    const argv = ['direct', '--connections', '4', '--messages', '8', '--rate', '10'];
    const r = await report([...argv, '--warmup-s', '0.5']);
    assertFlow(r, 4 * 8);
    const measured = r.figures.latencyMeasured as number;
    assert.ok(measured > 0 && measured < 4 * 8, `${measured} of 32 latencies measured`);
    assert.equal(r.params.warmupS, 0.5);

    const all = await report([...argv, '--messages', '2', '--warmup-s', '30']);
    assert.equal(all.ok, false);
    assert.match(all.failures.join('\n'), /warm-up: no latency measured/);
  });

  test('group: every message reaches every other member', async () => {
    const r = await report(['group', '--members', '5', '--senders', '2', '--messages', '5']);
    assertFlow(r, 2 * 5 * 4);
  });

  test('connect: idle connections stay up and memory per connection is reported', async () => {
    const r = await report(['connect', '--connections', '6', '--hold-s', '2']);
    assertPassed(r);
    assert.equal(r.figures.alive, 6);
    assert.equal(typeof r.figures.memoryPerConnectionKiB, 'number');
    assert.equal(
      typeof r.figures.heapPerConnectionKiB,
      'number',
      'the heap is read through the inspector',
    );
    assert.ok((r.figures.pingsAnswered as number) > 0, 'the 1 s heartbeat pings idle links');
  });

  test('reconnect-storm: every client reconnects and syncs', async () => {
    const r = await report(['reconnect-storm', '--connections', '6']);
    assertPassed(r);
    assert.equal(r.figures.resynced, 6);
    assert.equal(typeof r.figures.resyncMs, 'number');
  });

  for (const scenario of ['http-send', 'http-pull']) {
    test(`${scenario}: the seed API answers autocannon without errors`, async () => {
      const r = await report([scenario, '--connections', '4', '--duration-s', '1']);
      assertPassed(r);
      assert.ok((r.figures.requests as number) > 0);
      assert.equal(r.figures.non2xx, 0);
      assert.equal(r.figures.errors, 0);
    });
  }

  test('--compare runs Parley and the baseline and gives ratios', async () => {
    const result = (await runBench(
      options(['direct', '--compare', '--connections', '4', '--messages', '5']),
    )) as Comparison;
    assert.ok('ratios' in result);
    assert.equal(result.parley.target, 'parley');
    assert.equal(result.baseline.target, 'baseline');
    assertFlow(result.parley, 20);
    assertFlow(result.baseline, 20);
    assert.equal(result.ratios.deliveryRate, 1);
    assert.equal(typeof result.ratios.deliveredPerSec, 'number');
    // The relay's CPU per message is read from /proc too; it has no /metrics, so no parts.
    assert.equal(typeof result.baseline.figures.serverCpuUsPerMessage, 'number');
    assert.equal(result.baseline.figures.eventLoopCpuUsPerMessage, null);
  });

  // Needs redis-server and PostgreSQL: skipped without them, unless CI is set (then it fails).
  test(
    '--cluster 2: direct pairs span two nodes on PostgreSQL and Redis, every message delivered',
    { skip: redisSkip() || postgresSkipReason() || false, timeout: 180_000 },
    async () => {
      const argv = ['direct', '--cluster', '2', '--connections', '20', '--messages', '20'];
      const r = await report(argv);
      assertFlow(r, 20 * 20);
      assert.equal(r.params.clusterNodes, 2);
      assert.match(r.description, /cluster of 2 nodes/);
      positive(r, 'postgresCpuPercent');
      positive(r, 'redisCpuPercent');
      // Each part on its own, and the total their sum.
      assertCost(r, false);
      const parts = ['serverCpuUsPerMessage', 'postgresCpuUsPerMessage', 'redisCpuUsPerMessage'];
      const sum = parts.map((k) => positive(r, k)).reduce((a, b) => a + b, 0);
      const total = positive(r, 'totalCpuUsPerMessage');
      assert.ok(Math.abs(total - sum) < 1e-6 * total, `total ${total}, parts ${sum}`);
    },
  );

  test('--cluster is refused where it does not apply', () => {
    assert.throws(() => parseBenchArgs(['connect', '--cluster', '2']), /direct and group/);
    assert.throws(() => parseBenchArgs(['direct', '--cluster', '1']), /≥ 2/);
    assert.throws(
      () => parseBenchArgs(['group', '--cluster', '2', '--url', 'http://127.0.0.1:1']),
      /--url/,
    );
  });

  test('--baseline runs the bare HTTP responder', async () => {
    const r = await report(['http-pull', '--baseline', '--connections', '2', '--duration-s', '1']);
    assert.equal(r.target, 'baseline');
    assertPassed(r);
  });

  test('a bad command line is a usage error', async (t) => {
    t.mock.method(process.stderr, 'write', () => true);
    assert.equal(await runBenchCli(['no-such-scenario']), 2);
    assert.equal(await runBenchCli(['direct', '--connections', '3']), 2);
  });
});
