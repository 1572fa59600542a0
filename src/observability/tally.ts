import type { Counter, Metric, Registry } from 'prom-client';

// Counting on the hot path without prom-client on it. A prom-client child's `inc` hashes its
// label object and checks it against the label names on every call, and `observe` makes a
// closure per call: per frame and per message that was 7 % of the event loop in a profile of
// `direct` (issue 19). Here the hot path adds to plain numbers, and a scrape hands the totals
// over: a Tally to its prom-client counter (its `collect`), a TallyHistogram as a metric of its
// own in the exposition format prom-client writes.

/** A number that grows on the hot path and is moved into a counter child at scrape time. */
export class Tally {
  private n = 0;
  inc(value = 1): void {
    this.n += value;
  }
  /** Hands what grew since the last scrape to its counter child. */
  flushTo(child: { inc(value: number): void }): void {
    if (this.n === 0) return;
    child.inc(this.n);
    this.n = 0;
  }
}

/**
 * A tally per listed label value, plus "other", in a prototype-less table; the counter (made by
 * `counter`, which receives the flush to run as its `collect`) is brought up to date at scrape.
 */
export function tallies(
  values: readonly string[],
  counter: (collect: () => void) => Counter<string>,
): { table: Record<string, Tally>; other: Tally } {
  const table = Object.create(null) as Record<string, Tally>;
  for (const v of values) table[v] = new Tally();
  const other = new Tally();
  const children = Object.create(null) as Record<string, { inc(value: number): void }>;
  const made = counter(() => {
    for (const v of values) table[v]!.flushTo(children[v]!);
    other.flushTo(children.other!);
  });
  for (const v of [...values, 'other']) children[v] = made.labels(v);
  return { table, other };
}

/**
 * An unlabelled histogram (plus the registry's default labels) that observes into an array of
 * counts. Its series are what prom-client's Histogram writes: `_bucket{le}` cumulative, `+Inf`,
 * `_sum`, `_count`.
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly upper: readonly number[];
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(options: {
    name: string;
    help: string;
    buckets: readonly number[];
    registry: Registry;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.upper = [...options.buckets].sort((a, b) => a - b);
    this.counts = new Float64Array(this.upper.length + 1);
    options.registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const upper = this.upper;
    let i = 0;
    while (i < upper.length && value > upper[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string>; value: number; metricName: string }[];
  } {
    const values = [];
    let cumulative = 0;
    for (let i = 0; i <= this.upper.length; i++) {
      cumulative += this.counts[i]!;
      const le = i < this.upper.length ? String(this.upper[i]) : '+Inf';
      values.push({ labels: { le }, value: cumulative, metricName: `${this.name}_bucket` });
    }
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
