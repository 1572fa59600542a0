// `parley verify`: a fault-injection run with a history checker (docs/reliability.md).
// Exit code: 0 when the history holds no violation, 1 when it does (or the run failed), 2 for a
// usage error.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TEST_BUGS, TEST_BUGS_POSSIBLE } from '../core/test-bugs.js';
import { formatViolations } from './checker.js';
import { CLUSTER_FAULTS, EMBEDDED_FAULTS, type FaultKind } from './faults.js';
import { runVerify, type VerifyOptions, type VerifyReport } from './run.js';

export const VERIFY_USAGE = `Usage: parley verify [flags]

Runs a workload of clients against Parley while faults come and go, records every send, ack,
push, pull, sync and watermark, then checks the history (docs/reliability.md).

  --mode embedded|cluster   one server on SQLite (default), or 3 nodes on PostgreSQL and Redis,
                            each in a network namespace of its own where that works (root)
  --seed N                  the schedule's seed (default: random; printed, to replay a run)
  --faults N                the most faults (default 20)
  --duration-s N            the longest the fault phase runs (default 120)
  --long                    a long run: 30 minutes, up to 5000 faults
  --kinds a,b,c             only these fault kinds, in this order, round and round
  --rate N                  messages a second, all clients together (default 100)
  --users N --devices N     the population (default 6 users with 2 devices each)
  --out DIR                 where history.jsonl and report.json go (default: a temp directory)
  --synchronous normal|full the embedded server's PARLEY_SQLITE_SYNCHRONOUS (default normal;
                            full is the setting that also survives a power cut)
  --bug NAME                turn on a deliberate bug (from the sources only): ack-before-commit
  --no-namespaces           run every process on 127.0.0.1 even as root
  --json                    print the report as JSON

Fault kinds, embedded: ${EMBEDDED_FAULTS.join(', ')}
Fault kinds, cluster:  ${CLUSTER_FAULTS.join(', ')}
`;

/** Setup, a last slow restart and the store read, on top of the fault and settle phases. */
const WATCHDOG_SLACK_MS = 600_000;

const KINDS = new Set<string>([...EMBEDDED_FAULTS, ...CLUSTER_FAULTS]);

function parse(argv: readonly string[]): VerifyOptions & { json: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      mode: { type: 'string', default: 'embedded' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'duration-s': { type: 'string' },
      long: { type: 'boolean', default: false },
      kinds: { type: 'string' },
      rate: { type: 'string', default: '100' },
      users: { type: 'string', default: '6' },
      devices: { type: 'string', default: '2' },
      out: { type: 'string' },
      bug: { type: 'string' },
      synchronous: { type: 'string', default: 'normal' },
      'no-namespaces': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode;
  if (mode !== 'embedded' && mode !== 'cluster') throw new Error(`--mode: embedded or cluster`);
  const num = (raw: string | undefined, fallback: number, what: string): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: a whole number, not "${raw}"`);
    return n;
  };
  const kinds = values.kinds?.split(',').map((k) => k.trim());
  for (const k of kinds ?? []) if (!KINDS.has(k)) throw new Error(`--kinds: no fault "${k}"`);
  const seed = num(values.seed, Math.floor(Math.random() * 2 ** 31), '--seed');
  const synchronous = values.synchronous;
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new Error('--synchronous: normal or full');
  }
  const bug = values.bug;
  if (bug !== undefined) {
    // A bug that silently did not turn on would give a clean report that proves nothing.
    if (!(TEST_BUGS as readonly string[]).includes(bug)) {
      throw new Error(`--bug: one of ${TEST_BUGS.join(', ')}`);
    }
    if (mode !== 'embedded') throw new Error('--bug: the embedded server only');
    if (!TEST_BUGS_POSSIBLE) throw new Error('--bug: only from the sources (npm run verify)');
  }
  return {
    mode,
    seed,
    faultsMax: num(values.faults, values.long ? 5_000 : 20, '--faults'),
    durationMs: num(values['duration-s'], values.long ? 1_800 : 120, '--duration-s') * 1_000,
    ...(kinds ? { kinds: kinds as FaultKind[] } : {}),
    ratePerSec: num(values.rate, 100, '--rate'),
    users: Math.max(2, num(values.users, 6, '--users')),
    devicesPerUser: Math.max(1, num(values.devices, 2, '--devices')),
    gapMs: [200, 1_500],
    settleMs: 90_000,
    outDir: values.out ?? join(tmpdir(), `parley-verify-${mode}-${seed}`),
    ...(bug ? { bug } : {}),
    sqliteSynchronous: synchronous,
    noNamespaces: values['no-namespaces'],
    log: (line) => process.stderr.write(`verify: ${line}\n`),
    json: values.json,
  };
}

export function formatReport(report: VerifyReport): string {
  const s = report.stats;
  const faults = Object.entries(s.faultsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `parley verify: ${report.options.mode}, seed ${report.options.seed}, commit ${report.commit}, ${Math.round(report.elapsedMs / 1000)} s`,
    report.fallbackReason
      ? `hosts: all on 127.0.0.1 (${report.fallbackReason})`
      : `hosts: ${report.options.mode === 'cluster' ? 'separate network namespaces' : 'one process'}`,
    `operations: ${s.sends} messages sent (${s.attempts} attempts, ${s.retries} retries), ${s.acks} acknowledged (${s.duplicateAcks} duplicate acks), ${s.refused} refused`,
    `seen: ${s.pushes} pushes, ${s.pulls} pulls, ${s.syncs} syncs, ${s.shown} shown; ${s.storedMessages} stored in ${s.conversations} conversations`,
    `faults: ${s.faults}${faults ? ` (${faults})` : ''}; servers crashed on their own: ${s.crashes}`,
    `history: ${report.historyFile}`,
    `violations: ${report.violations.length}`,
    ...(report.violations.length > 0 ? [formatViolations(report.violations)] : []),
  ].join('\n');
}

export async function runVerifyCli(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(VERIFY_USAGE);
    return 0;
  }
  let options;
  try {
    options = parse(argv);
  } catch (err) {
    process.stderr.write(`parley verify: ${(err as Error).message}\n\n${VERIFY_USAGE}`);
    return 2;
  }
  const { json, ...run } = options;
  // Ctrl-C or a SIGTERM ends the run through 'exit', whose hooks kill the servers and remove
  // the namespaces; other modules' signal handlers clean up but leave the ending to us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  }
  process.stderr.write(`verify: ${run.mode}, seed ${run.seed}, output in ${run.outDir}\n`);
  // Every phase is bounded on its own; this bounds the whole, should one of them hang anyway.
  // Exiting runs the cleanup hooks: namespaces, servers and their directories go with it.
  const watchdog = setTimeout(
    () => {
      process.stderr.write(
        `parley verify: still running after ${WATCHDOG_SLACK_MS} ms past its time; giving up\n`,
      );
      process.exit(1);
    },
    run.durationMs + run.settleMs + WATCHDOG_SLACK_MS,
  );
  watchdog.unref();
  const report = await runVerify(run);
  clearTimeout(watchdog);
  const { writeFileSync } = await import('node:fs');
  const { violations, ...summary } = report;
  writeFileSync(
    join(run.outDir, 'report.json'),
    `${JSON.stringify({ ...summary, violations: violations.slice(0, 1000) }, null, 2)}\n`,
  );
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return report.violations.length === 0 ? 0 : 1;
}
