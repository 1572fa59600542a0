import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { Tally, tallies, TallyHistogram } from './tally.js';

type Observer = { observe(value: number): void };

/** The exposition text of one registry, with the node label every Parley registry has. */
async function exposition(fill: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  fill(registry);
  return registry.metrics();
}

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.001, 0.0011, 0.05, 0.05, 0.5, 1, 7, 1e9];

describe('tallies', () => {
  it('writes a histogram exactly as prom-client writes the same observations', async () => {
    const theirs = await exposition((registry) => {
      const h = new Histogram({
        name: 'h_seconds',
        help: 'h',
        buckets: BUCKETS,
        registers: [registry],
      });
      for (const v of VALUES) h.observe(v);
    });
    const ours = await exposition((registry) => {
      const h = new TallyHistogram({ name: 'h_seconds', help: 'h', buckets: BUCKETS, registry });
      for (const v of VALUES) h.observe(v);
    });
    assert.equal(ours, theirs);
  });

  it('writes a labelled histogram, and an untouched one, exactly as prom-client does', async () => {
    const series = [
      ['/a', 'GET', '200'],
      ['/b/:id', 'POST', '201'],
      ['/a', 'GET', '404'],
    ] as const;
    const theirs = await exposition((registry) => {
      const h = new Histogram({
        name: 'l_seconds',
        help: 'l',
        labelNames: ['route', 'method', 'status'],
        buckets: BUCKETS,
        registers: [registry],
      });
      VALUES.forEach((v, i) => h.labels(...series[i % series.length]!).observe(v));
      new Histogram({ name: 'u_seconds', help: 'u', buckets: BUCKETS, registers: [registry] });
      new Histogram({
        name: 'e_seconds',
        help: 'e',
        labelNames: ['route'],
        buckets: BUCKETS,
        registers: [registry],
      });
    });
    const ours = await exposition((registry) => {
      const h = new TallyHistogram({
        name: 'l_seconds',
        help: 'l',
        labelNames: ['route', 'method', 'status'],
        buckets: BUCKETS,
        registry,
      });
      VALUES.forEach((v, i) => h.labels(...series[i % series.length]!).observe(v));
      new TallyHistogram({ name: 'u_seconds', help: 'u', buckets: BUCKETS, registry });
      new TallyHistogram({
        name: 'e_seconds',
        help: 'e',
        labelNames: ['route'],
        buckets: BUCKETS,
        registry,
      });
    });
    assert.equal(ours, theirs);
    assert.match(ours, /^l_seconds_count\{.*status="404".*\} 3$/m, 'the test has teeth');
  });

  it('gives the registry’s JSON the same series as prom-client’s (labels merged)', async () => {
    const json = async (make: (registry: Registry) => { labels(...v: string[]): Observer }) => {
      const registry = new Registry();
      registry.setDefaultLabels({ node: 'n1' });
      const h = make(registry);
      h.labels('/a').observe(0.05);
      h.labels('/b').observe(7);
      return registry.getMetricsAsJSON();
    };
    const options = { name: 'j_seconds', help: 'j', labelNames: ['route'], buckets: BUCKETS };
    const theirs = await json((registry) => new Histogram({ ...options, registers: [registry] }));
    const ours = await json((registry) => new TallyHistogram({ ...options, registry }));
    assert.deepEqual(ours, theirs);
    const counts = (ours[0]!.values as { labels: object; metricName?: string }[]).filter(
      (v) => v.metricName === 'j_seconds_count',
    );
    assert.deepEqual(
      counts.map((v) => v.labels),
      [
        { route: '/a', node: 'n1' },
        { route: '/b', node: 'n1' },
      ],
      'the test has teeth: each series keeps its label',
    );
  });

  it('brings labelled and plain counters up to date at every scrape, as inc() would', async () => {
    const registry = new Registry();
    const frames = tallies(
      ['hello', 'send'],
      (collect) =>
        new Counter({
          name: 'f_total',
          help: 'f',
          labelNames: ['type'],
          registers: [registry],
          collect,
        }),
    );
    const sends = new Tally();
    new Counter({
      name: 's_total',
      help: 's',
      registers: [registry],
      collect() {
        sends.flushTo(this);
      },
    });
    frames.table.send!.inc();
    frames.table.send!.inc();
    frames.other.inc();
    sends.inc(3);
    const first = await registry.metrics();
    assert.match(first, /^f_total\{type="send"\} 2$/m);
    assert.doesNotMatch(first, /type="hello"/, 'nothing counted, no series (as with inc())');
    assert.match(first, /^f_total\{type="other"\} 1$/m);
    assert.match(first, /^s_total 3$/m);
    frames.table.send!.inc();
    sends.inc(2);
    const second = await registry.metrics();
    assert.match(
      second,
      /^f_total\{type="send"\} 3$/m,
      'counted once, not again at the next scrape',
    );
    assert.match(second, /^s_total 5$/m);
  });
});
