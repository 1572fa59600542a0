// One `parley verify` run: start the system, populate it, drive the workload while the faults of
// a seeded schedule come and go, heal, let every client catch up, read the store, and check the
// history. Every phase is bounded in time; the system and the network are torn down however the
// run ends.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, type CheckResult } from './checker.js';
import { faultKinds, healAll, makeFault, type FaultKind } from './faults.js';
import type { HistoryEvent, HistoryHeader } from './history.js';
import { seededRandom } from './random.js';
import { startCluster, startEmbedded, type System } from './systems.js';
import { drive, makeClients, populate } from './workload.js';

/** How often the quiet phase looks at the outboxes. */
const SETTLE_POLL_MS = 100;

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
  /** The embedded server's PARLEY_SQLITE_SYNCHRONOUS (default normal). */
  readonly sqliteSynchronous?: 'normal' | 'full';
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

/** The history, in memory for the checker and on disk for later readers (header first). */
class Recorder {
  readonly events: HistoryEvent[] = [];
  private readonly file: WriteStream;
  private headerWritten = false;
  failure: Error | null = null;

  constructor(path: string) {
    this.file = createWriteStream(path);
    this.file.on('error', (err) => (this.failure ??= err));
  }

  readonly record = (event: HistoryEvent): void => {
    this.events.push(event);
    if (this.headerWritten) this.file.write(`${JSON.stringify(event)}\n`);
  };

  /** Writes the header, then whatever was recorded before it (a crash during setup). */
  writeHeader(header: HistoryHeader): void {
    this.file.write(`${JSON.stringify(header)}\n`);
    for (const event of this.events) this.file.write(`${JSON.stringify(event)}\n`);
    this.headerWritten = true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  mkdirSync(options.outDir, { recursive: true });
  const historyFile = join(options.outDir, 'history.jsonl');
  const recorder = new Recorder(historyFile);
  const system = await (options.mode === 'embedded' ? startEmbedded : startCluster)({
    ...(options.bug ? { bug: options.bug } : {}),
    ...(options.noNamespaces ? { noNamespaces: true } : {}),
    ...(options.sqliteSynchronous ? { sqliteSynchronous: options.sqliteSynchronous } : {}),
    logDir: options.outDir,
    onCrash: (name, code, signal) =>
      recorder.record({ t: 'crash', at: Date.now(), name, code, signal }),
  });
  if (system.fallbackReason) {
    options.log(
      `separate hosts unavailable (${system.fallbackReason}): every process on 127.0.0.1, network faults skipped`,
    );
  }
  let header: HistoryHeader;
  try {
    header = await runPhases(system, options, recorder, started);
  } finally {
    await system.close();
    await recorder.close();
  }
  if (recorder.failure)
    throw new Error(`could not write ${historyFile}: ${recorder.failure.message}`);
  const { log: _log, ...rest } = options;
  return {
    ...checkHistory(header, recorder.events),
    options: rest,
    fallbackReason: system.fallbackReason,
    historyFile,
    elapsedMs: Date.now() - started,
    commit: header.commit,
  };
}

/** Populate, drive under faults, heal, settle, read the store. Clients stop however it ends. */
async function runPhases(
  system: System,
  options: VerifyOptions,
  recorder: Recorder,
  started: number,
): Promise<HistoryHeader> {
  const random = seededRandom(options.seed);
  const shape = { ...options, nodes: system.nodes.length };
  const population = await populate(system.httpUrl(), shape, String(options.seed));
  const header: HistoryHeader = {
    t: 'header',
    seed: options.seed,
    mode: options.mode,
    started: new Date(started).toISOString(),
    commit: commitOf(),
    members: population.members,
    users: population.users,
  };
  recorder.writeHeader(header);
  const record = recorder.record;
  const clients = makeClients(population, () => system.wsUrls(), record, random.fork());
  try {
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
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop()));
  }
  for (const [conv, msgs] of await system.readStore()) {
    record({ t: 'store', at: Date.now(), conv, msgs });
  }
  return header;
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
  while (clients.some((c) => c.outboxSize > 0) && Date.now() < until) await sleep(SETTLE_POLL_MS);
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
