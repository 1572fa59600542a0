// One `parley verify` run: start the system, populate it, drive the workload while the faults of
// a seeded schedule come and go, heal, let every client catch up, read the store, and check the
// history. Every phase is bounded in time; the system and the network are torn down however the
// run ends.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, type CheckResult } from './checker.js';
import { faultKinds, healAll, makeFault, type FaultKind } from './faults.js';
import type { HistoryEvent, HistoryHeader } from './history.js';
import { seededRandom } from './random.js';
import { startCluster, startEmbedded, type System } from './systems.js';
import { drive, makeClients, populate } from './workload.js';

export interface VerifyOptions {
  readonly mode: 'embedded' | 'cluster';
  readonly seed: number;
  /** The most faults to inject. */
  readonly faultsMax: number;
  /** The longest the fault phase may run. */
  readonly durationMs: number;
  /** Only these kinds, in this order, round and round; default: every kind the system has, drawn. */
  readonly kinds?: readonly FaultKind[];
  /** Messages a second, all clients together. */
  readonly ratePerSec: number;
  readonly users: number;
  readonly devicesPerUser: number;
  /** Time between faults, drawn from [min, max]. */
  readonly gapMs: readonly [number, number];
  /** The longest the quiet phase may take for outboxes to drain and clients to catch up. */
  readonly settleMs: number;
  readonly outDir: string;
  readonly bug?: string;
  readonly noNamespaces?: boolean;
  readonly log: (line: string) => void;
}

export interface VerifyReport extends CheckResult {
  readonly options: Omit<VerifyOptions, 'log'>;
  readonly fallbackReason: string;
  readonly historyFile: string;
  readonly elapsedMs: number;
  readonly commit: string;
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  mkdirSync(options.outDir, { recursive: true });
  const historyFile = join(options.outDir, 'history.jsonl');
  const file = createWriteStream(historyFile);
  const events: HistoryEvent[] = [];
  const record = (event: HistoryEvent): void => {
    events.push(event);
    file.write(`${JSON.stringify(event)}\n`);
  };
  const system = await (options.mode === 'embedded' ? startEmbedded : startCluster)({
    ...(options.bug ? { bug: options.bug } : {}),
    ...(options.noNamespaces ? { noNamespaces: true } : {}),
  });
  if (system.fallbackReason)
    options.log(
      `separate hosts unavailable (${system.fallbackReason}): every process on 127.0.0.1, network faults skipped`,
    );
  let header: HistoryHeader | null = null;
  try {
    const population = await populate(
      system.httpUrl(),
      { ...options, nodes: system.nodes.length },
      String(options.seed),
    );
    header = {
      t: 'header',
      seed: options.seed,
      mode: options.mode,
      started: new Date(started).toISOString(),
      commit: commitOf(),
      members: population.members,
      users: population.users,
    };
    file.write(`${JSON.stringify(header)}\n`);
    const clients = makeClients(population, () => system.wsUrls(), record, random.fork());
    clients.forEach((c) => c.start());
    const stopDriving = drive(clients, options.ratePerSec, random.fork());
    try {
      await runFaults(system, clients, options, random.fork(), record);
    } finally {
      stopDriving();
      await healAll(system);
    }
    record({ t: 'quiet', at: Date.now() });
    await settle(clients, options);
    await Promise.all(clients.map((c) => c.stop()));
    for (const [conv, msgs] of await system.readStore())
      record({ t: 'store', at: Date.now(), conv, msgs });
  } finally {
    await system.close();
    await new Promise((resolve) => file.end(resolve));
  }
  const result = checkHistory(header, events);
  const { log: _log, ...rest } = options;
  return {
    ...result,
    options: rest,
    fallbackReason: system.fallbackReason,
    historyFile,
    elapsedMs: Date.now() - started,
    commit: header.commit,
  };
}

async function runFaults(
  system: System,
  clients: Parameters<typeof makeFault>[2],
  options: VerifyOptions,
  random: ReturnType<typeof seededRandom>,
  record: (event: HistoryEvent) => void,
): Promise<void> {
  const kinds = options.kinds ?? faultKinds(system);
  const deadline = Date.now() + options.durationMs;
  const available = new Set(faultKinds(system));
  for (let index = 0; index < options.faultsMax && Date.now() < deadline; index++) {
    await sleep(random.int(options.gapMs[0], options.gapMs[1]));
    const kind = options.kinds ? kinds[index % kinds.length]! : random.pick(kinds);
    if (!available.has(kind)) {
      options.log(`fault ${index}: ${kind} skipped (not available here)`);
      continue;
    }
    const fault = makeFault(kind, system, clients, random);
    const at = (): number => Date.now();
    record({ t: 'fault', at: at(), kind, target: fault.target, phase: 'start', index });
    await fault.start();
    await sleep(fault.holdMs);
    await fault.end();
    record({ t: 'fault', at: at(), kind, target: fault.target, phase: 'end', index });
    options.log(`fault ${index}: ${kind} ${fault.target} (${fault.holdMs} ms)`);
  }
}

/** Waits for every outbox to drain, then for every client to catch up; records their finals. */
async function settle(
  clients: Parameters<typeof makeFault>[2],
  options: VerifyOptions,
): Promise<void> {
  const until = Date.now() + options.settleMs;
  while (clients.some((c) => c.outboxSize > 0) && Date.now() < until) await sleep(100);
  const caughtUp = await Promise.all(clients.map((c) => c.catchUp(until)));
  const behind = clients.filter((_, i) => !caughtUp[i]).map((c) => c.plan.name);
  if (behind.length > 0)
    options.log(`not caught up after ${options.settleMs} ms: ${behind.join(', ')}`);
  clients.forEach((c, i) => c.recordFinal(caughtUp[i]!));
}

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
