import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBaseline } from './baseline-target.js';
import { startOwnCluster } from './cluster-target.js';
import { Deadline } from './deadline.js';
import { USAGE, UsageError, parseBenchArgs, type BenchOptions } from './options.js';
import { startOwnParley, useRunningParley } from './parley-target.js';
import { Progress } from './progress.js';
import { compare, formatComparison, formatReport, type Comparison, type Report } from './report.js';
import type { Scenario } from './scenario.js';
import { SCENARIO_MODULES } from './scenarios/index.js';
import type { Plan, Target, TargetKind } from './target.js';

// `parley bench`: runs one scenario against Parley (its own server, its own --cluster of nodes, or
// --url), against the bare baseline (--baseline), or both in one run (--compare), and prints the
// figures as text or JSON.
// Exit code: 0 when every run passed, 1 when one failed, 2 for a usage error.

/** HTTP runs last --duration-s; setting up and tearing down gets this much more before the cap. */
const HTTP_SLACK_MS = 30_000;

function openTarget(kind: TargetKind, plan: Plan, options: BenchOptions): Promise<Target> {
  // The baseline is always one bare server, with or without --cluster: it is the ceiling.
  if (kind === 'baseline') return startBaseline(plan);
  if (options.url !== null) return useRunningParley(options.url, plan, options);
  return options.cluster !== null ? startOwnCluster(plan, options) : startOwnParley(plan, options);
}

/** One scenario run on one target. Never throws: a failure is in the report. */
export async function runScenario(options: BenchOptions, kind: TargetKind): Promise<Report> {
  const scenario: Scenario = SCENARIO_MODULES[options.scenario];
  const plan = scenario.plan(options);
  const date = new Date().toISOString();
  const params = {
    ...scenario.params(options),
    ...(kind === 'parley' && options.cluster !== null && { clusterNodes: options.cluster }),
  };
  const base = { scenario: options.scenario, target: kind, date, params };
  let target: Target | null = null;
  try {
    target = await openTarget(kind, plan, options);
    const capMs = options.durationS * 1000 + (plan.http ? HTTP_SLACK_MS : 0);
    const outcome = await scenario.run({
      options,
      target,
      progress: new Progress(options.progress),
      deadline: new Deadline(capMs),
    });
    return {
      ...base,
      description: target.description,
      ok: outcome.failures.length === 0,
      failures: outcome.failures,
      figures: outcome.figures,
      serverWarnings: target.warnings(),
    };
  } catch (err) {
    return {
      ...base,
      description: target?.description ?? kind,
      ok: false,
      failures: [err instanceof Error ? err.message : String(err)],
      figures: {},
      serverWarnings: target?.warnings() ?? { count: 0, lines: [] },
    };
  } finally {
    await target?.close();
  }
}

/** Runs the bench as its options say: one target, or Parley then the baseline with ratios. */
export async function runBench(options: BenchOptions): Promise<Report | Comparison> {
  if (!options.compare) return runScenario(options, options.baseline ? 'baseline' : 'parley');
  const parley = await runScenario(options, 'parley');
  const baseline = await runScenario(options, 'baseline');
  return compare(parley, baseline);
}

export async function runBenchCli(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    const parsed = parseBenchArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    options = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`parley bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const result = await runBench(options);
  if (options.json) process.stdout.write(JSON.stringify(result) + '\n');
  else
    process.stdout.write(
      ('ratios' in result ? formatComparison(result) : formatReport(result)) + '\n',
    );
  return result.ok ? 0 : 1;
}

/** True when this file is the program being run (not imported by src/main.ts or a test). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false; // argv[1] is not a file (node -e, a REPL)
  }
}

if (isEntryPoint()) process.exitCode = await runBenchCli(process.argv.slice(2));
