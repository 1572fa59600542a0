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

/** One series of a TallyHistogram: counts per bucket (the last is +Inf), their sum and count. */
class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly upper: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(upper.length + 1);
  }

  observe(value: number): void {
    const upper = this.upper;
    let i = 0;
    while (i < upper.length && value > upper[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface Exported {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: ExportedValue[];
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
  /** Always empty: prom-client's values carry the field (null on buckets), so JSON matches. */
  exemplar: null | undefined;
}

/**
 * A histogram (plus the registry's default labels) that observes into arrays of counts: one
 * series unlabelled, or one per set of label values, made by `labels()` (callers keep the series
 * it returns, so nothing is looked up per observation). Its series are what prom-client's
 * Histogram writes, in the same order: `_bucket{le}` cumulative, `+Inf`, `_sum`, `_count`, per
 * series in the order they were made.
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly upper: readonly number[];
  private readonly labelNames: readonly string[];
  private readonly series = new Map<string, HistogramSeries>();
  private unlabelled: { observe(value: number): void } | undefined;

  constructor(options: {
    name: string;
    help: string;
    buckets: readonly number[];
    labelNames?: readonly string[];
    registry: Registry;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.upper = [...options.buckets].sort((a, b) => a - b);
    this.labelNames = options.labelNames ?? [];
    // As prom-client: an unlabelled histogram shows its zeros before its first observation.
    if (this.labelNames.length === 0) this.unlabelled = this.labels();
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** Observes into the unlabelled series (a histogram made without labelNames). */
  observe(value: number): void {
    if (!this.unlabelled) throw new Error(`${this.name} has labels: observe through labels().`);
    this.unlabelled.observe(value);
  }

  /** The series of these label values, in labelNames order; made on first use. */
  labels(...values: string[]): { observe(value: number): void } {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: ${this.labelNames.length} label values expected.`);
    }
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      series = new HistogramSeries(this.upper, labels);
      this.series.set(key, series);
    }
    return series;
  }

  /** What the registry writes as text: each series' labels apart, as prom-client keeps them. */
  getForPromString(): Exported {
    const values: ExportedValue[] = [];
    for (const series of this.series.values()) this.export(series, values);
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  /** The same with each series' labels merged into every value's, as prom-client's get(). */
  get(): Omit<Exported, 'values'> & { values: Omit<ExportedValue, 'sharedLabels'>[] } {
    const { values, ...rest } = this.getForPromString();
    return {
      ...rest,
      values: values.map(({ labels, sharedLabels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  /** Zeroes every series but keeps it (prom-client drops them): callers hold their series. */
  reset(): void {
    for (const series of this.series.values()) series.reset();
  }

  private export(series: HistogramSeries, values: ExportedValue[]): void {
    const sharedLabels = series.labels;
    let cumulative = 0;
    for (let i = 0; i <= this.upper.length; i++) {
      cumulative += series.counts[i]!;
      const le = i < this.upper.length ? this.upper[i]! : '+Inf'; // a number, as prom-client's
      values.push({
        labels: { le },
        sharedLabels,
        value: cumulative,
        metricName: `${this.name}_bucket`,
        exemplar: null,
      });
    }
    const [sum, count] = [`${this.name}_sum`, `${this.name}_count`];
    values.push({
      labels: {},
      sharedLabels,
      value: series.sum,
      metricName: sum,
      exemplar: undefined,
    });
    values.push({
      labels: {},
      sharedLabels,
      value: series.count,
      metricName: count,
      exemplar: undefined,
    });
  }
}
