// `parley verify` in small: every fault kind once, on the embedded server and on a cluster whose
// nodes, PostgreSQL and Redis each run in a network namespace of their own (as root; elsewhere on
// 127.0.0.1, where the network faults are skipped and the run says so). Each run's history must
// check clean; and a run with a deliberate bug (ack-before-commit) must not. The long runs whose
// figures docs/reliability.md publishes use the same code, with `--long` or more faults.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { postgresSkipReason, redisSkip } from '../src/engines/index.js';
import { CLUSTER_FAULTS, EMBEDDED_FAULTS, type FaultKind } from '../src/verify/faults.js';
import {
  formatViolations,
  readHistory,
  runVerify,
  type VerifyOptions,
} from '../src/verify/index.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function options(mode: VerifyOptions['mode'], kinds: readonly FaultKind[], seed: number) {
  const outDir = mkdtempSync(join(tmpdir(), 'parley-verify-test-'));
  dirs.push(outDir);
  const lines: string[] = [];
  return {
    lines,
    options: {
      mode,
      seed,
      faultsMax: kinds.length,
      durationMs: 180_000,
      kinds,
      ratePerSec: 80,
      users: 4,
      devicesPerUser: 2,
      gapMs: [200, 600],
      settleMs: 60_000,
      outDir,
      log: (line: string) => lines.push(line),
    } satisfies VerifyOptions,
  };
}

/** Namespaces and links named for this process (netns.ts: 'pv' + its pid in base 36). */
function leftovers(): string[] {
  if (!asRoot) return [];
  const mine = `pv${process.pid.toString(36).padStart(5, '0').slice(-5)}`;
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return `${ns}\n${links}`.split('\n').filter((line) => line.includes(mine));
}

const NETWORK_FAULTS: readonly FaultKind[] = [
  'cut-node-redis',
  'cut-node-postgres',
  'cut-node-clients',
];
const asRoot = process.getuid?.() === 0;
const clusterSkip = redisSkip() || postgresSkipReason() || false;

describe('parley verify', { timeout: 600_000 }, () => {
  it('checks a clean history from the embedded server under every embedded fault', async () => {
    const kinds = [...EMBEDDED_FAULTS, 'kill-server'] as const;
    const { options: o } = options('embedded', kinds, 11);
    // synchronous=full: the setting under which a crash of the whole machine keeps every ack.
    const report = await runVerify({ ...o, sqliteSynchronous: 'full' });
    assert.equal(report.violations.length, 0, formatViolations(report.violations));
    assert.deepEqual(report.stats.faultsByKind, {
      'kill-server': 2,
      'pause-server': 1,
      'cut-clients-mid-send': 1,
      'crash-machine': 1,
    });
    assert.ok(report.stats.acks > 100, `only ${report.stats.acks} acks`);
    assert.equal(report.stats.storedMessages, report.stats.acks);
  });

  it(
    'checks a clean history from a cluster under every cluster fault',
    { skip: clusterSkip },
    async () => {
      const { options: o, lines } = options('cluster', CLUSTER_FAULTS, 12);
      const report = await runVerify(o);
      assert.equal(report.violations.length, 0, formatViolations(report.violations));
      // As root (CI runs as root) the hosts must be separate, and the network faults real.
      if (asRoot && process.env.CI) assert.equal(report.fallbackReason, '');
      const expected = CLUSTER_FAULTS.filter(
        (k) => report.fallbackReason === '' || !NETWORK_FAULTS.includes(k),
      );
      assert.deepEqual(Object.keys(report.stats.faultsByKind).sort(), [...expected].sort());
      if (report.fallbackReason !== '') assert.ok(lines.some((l) => l.includes('127.0.0.1')));
      assert.ok(report.stats.acks > 100, `only ${report.stats.acks} acks`);
      // The run took its namespaces, links and bridge with it.
      assert.deepEqual(leftovers(), []);
    },
  );

  it('catches a deliberate bug: acknowledging sends before their commit', async () => {
    const { options: o } = options('embedded', ['kill-server', 'kill-server', 'kill-server'], 13);
    const report = await runVerify({ ...o, ratePerSec: 150, bug: 'ack-before-commit' });
    // Acknowledged before a kill -9 and gone after it: lost by the crash, not merely still
    // uncommitted when the store was read at the end.
    const { events } = readHistory(report.historyFile);
    const kills = events.filter((e) => e.t === 'fault' && e.phase === 'start').map((e) => e.at);
    const lost = report.violations
      .filter((v) => v.kind === 'acked_missing' || v.kind === 'acked_moved')
      .flatMap((v) => v.events.filter((e) => e.t === 'ack'));
    assert.ok(
      lost.some((ack) => kills.some((kill) => ack.at < kill)),
      `expected acknowledged messages lost to a kill -9; got ${lost.length} lost acks, kills at ${kills.join(', ')}`,
    );
  });
});
