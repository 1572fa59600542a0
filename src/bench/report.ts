import type { Percentiles } from './histogram.js';
import type { ScenarioName } from './options.js';
import type { TargetKind } from './target.js';

// One scenario run's outcome: named figures (units in the names), whether it passed, and why not.
// Printed as text, or as one JSON object with --json; --compare adds the Parley/baseline ratios.

export type Figures = Record<string, number | null>;

export interface Report {
  readonly scenario: ScenarioName;
  readonly target: TargetKind;
  readonly description: string;
  /** ISO time the run started. */
  readonly date: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly figures: Figures;
  readonly serverWarnings: { readonly count: number; readonly lines: readonly string[] };
}

export interface Comparison {
  readonly scenario: ScenarioName;
  readonly date: string;
  readonly ok: boolean;
  readonly parley: Report;
  readonly baseline: Report;
  /** parley / baseline for every figure both have (null when the baseline's is 0 or missing). */
  readonly ratios: Figures;
}

const LABELS: Record<string, string> = {
  sentPerSec: 'sent/s (acks)',
  deliveredPerSec: 'delivered/s',
  deliveryRate: 'delivery rate',
  latencyP50Ms: 'latency p50 ms',
  latencyP90Ms: 'latency p90 ms',
  latencyP99Ms: 'latency p99 ms',
  latencyMaxMs: 'latency max ms',
  latencyMeasured: 'latencies measured',
  ackP50Ms: 'ack p50 ms',
  ackP99Ms: 'ack p99 ms',
  sent: 'sent (acked)',
  delivered: 'delivered',
  expected: 'expected',
  errors: 'errors',
  outOfOrder: 'pushes out of seq order',
  requestsPerSec: 'requests/s',
  requests: 'requests',
  non2xx: 'non-2xx',
  timeouts: 'timeouts',
  connections: 'connections',
  connectMs: 'time to connect all ms',
  connectionsPerSec: 'connections/s',
  alive: 'alive at end',
  pingsAnswered: 'server pings answered',
  rssBeforeMiB: 'server RSS before MiB',
  rssAfterMiB: 'server RSS after MiB',
  memoryPerConnectionKiB: 'server memory/conn KiB',
  marginalMemoryPerConnectionKiB: '  2nd half only, KiB/conn',
  heapPerConnectionKiB: 'JS heap/conn KiB (after GC)',
  resyncMs: 'time to all resynced ms',
  resynced: 'resynced',
  gapsPulled: 'gaps pulled',
  elapsedMs: 'elapsed ms',
  serverCpuPercent: 'server CPU %',
  serverRssPeakMiB: 'server peak RSS MiB',
  clientCpuPercent: 'bench client CPU %',
  postgresCpuPercent: 'PostgreSQL CPU %',
  redisCpuPercent: 'Redis CPU %',
  serverWaitPercent: 'server CPU wait %',
  clientWaitPercent: 'bench client CPU wait %',
  serverCpuUsPerMessage: 'server CPU µs/msg',
  eventLoopCpuUsPerMessage: '  event loop µs/msg',
  gcPauseUsPerMessage: '    GC pauses µs/msg',
  appendCpuUsPerMessage: '  append thread µs/msg',
  otherThreadsCpuUsPerMessage: '  other threads µs/msg',
  postgresCpuUsPerMessage: 'PostgreSQL CPU µs/msg',
  redisCpuUsPerMessage: 'Redis CPU µs/msg',
  totalCpuUsPerMessage: 'total CPU µs/msg',
};

export function latencyFigures(prefix: string, p: Percentiles | null): Figures {
  return {
    [`${prefix}P50Ms`]: p?.p50 ?? null,
    [`${prefix}P90Ms`]: p?.p90 ?? null,
    [`${prefix}P99Ms`]: p?.p99 ?? null,
    [`${prefix}MaxMs`]: p?.max ?? null,
  };
}

export const mib = (bytes: number | null): number | null =>
  bytes === null ? null : bytes / (1024 * 1024);

export function compare(parley: Report, baseline: Report): Comparison {
  const ratios: Figures = {};
  for (const [key, value] of Object.entries(parley.figures)) {
    const base = baseline.figures[key];
    ratios[key] =
      value !== null && base !== null && base !== undefined && base !== 0 ? value / base : null;
  }
  return {
    scenario: parley.scenario,
    date: parley.date,
    ok: parley.ok && baseline.ok,
    parley,
    baseline,
    ratios,
  };
}

function formatValue(key: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (key === 'deliveryRate') return `${(value * 100).toFixed(2)}%`;
  const digits =
    Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const label = (key: string): string => LABELS[key] ?? key;

function header(report: Report): string[] {
  const params = Object.entries(report.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return [`parley bench ${report.scenario} — ${report.date}`, `params: ${params}`];
}

function verdict(report: Report): string[] {
  const lines = [
    report.ok ? `${report.target}: OK` : `${report.target}: FAIL — ${report.failures.join('; ')}`,
  ];
  const w = report.serverWarnings;
  if (w.count > 0) {
    lines.push(`${report.target} server logged ${w.count} warning/error line(s), first ones:`);
    for (const line of w.lines.slice(0, 5)) lines.push(`  ${line}`);
  }
  return lines;
}

export function formatReport(report: Report): string {
  const rows = Object.entries(report.figures).map(
    ([key, value]) => `  ${label(key).padEnd(28)} ${formatValue(key, value).padStart(14)}`,
  );
  return [...header(report), `target: ${report.description}`, ...rows, ...verdict(report)].join(
    '\n',
  );
}

export function formatComparison(c: Comparison): string {
  const head = `  ${'figure'.padEnd(28)} ${'parley'.padStart(14)} ${'baseline'.padStart(14)} ${'parley/base'.padStart(12)}`;
  const rows = Object.entries(c.parley.figures).map(([key, value]) => {
    const ratio = c.ratios[key];
    return `  ${label(key).padEnd(28)} ${formatValue(key, value).padStart(14)} ${formatValue(key, c.baseline.figures[key]).padStart(14)} ${(ratio === null || ratio === undefined ? '-' : ratio.toFixed(2)).padStart(12)}`;
  });
  return [
    ...header(c.parley),
    `parley:   ${c.parley.description}`,
    `baseline: ${c.baseline.description}`,
    head,
    ...rows,
    ...verdict(c.parley),
    ...verdict(c.baseline),
  ].join('\n');
}
