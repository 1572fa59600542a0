// Test helper: a real, throwaway PostgreSQL cluster (initdb + pg_ctl) in a fresh temporary
// directory on a free port, with trust auth on 127.0.0.1 only. Tests that need it skip when the
// binaries are missing, unless `CI` is set: there a missing PostgreSQL is a failure.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface TestPostgres {
  /** The superuser's URL for the `postgres` database. */
  readonly url: string;
  /** Creates an empty database (named `parley_<n>` unless given) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database made by createDatabase, closing whatever connections it still has. */
  dropDatabase(url: string): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where and how to run the server: the fault-injection harness (src/verify) sets these. */
export interface PostgresOptions {
  /** The address to listen on (default 127.0.0.1); a namespace's own address gets port 5432. */
  readonly host?: string;
  /** A prefix for every server command, such as `ip netns exec <ns>` (default none). */
  readonly wrap?: readonly string[];
  /** fsync and synchronous commit on, as in production (default off: tests want speed). */
  readonly durable?: boolean;
}

/** A server the harness can also crash, restart and disrupt. */
export interface ControlledPostgres extends TestPostgres {
  /** SIGKILL to the postmaster and every backend at once (its process group): a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data after kill or stopFast (crash recovery). */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: the server ends every session and shuts down cleanly. */
  stopFast(): Promise<void>;
  /** Ends every client backend (pg_terminate_backend); the server stays up. Returns how many. */
  terminateBackends(): Promise<number>;
  /** The postmaster's pid, or null while it is down. */
  pid(): number | null;
}

const PG_ROOT = '/usr/lib/postgresql';
const INITDB_TIMEOUT_MS = 60_000;
const PG_CTL_WAIT_S = 30;
const SUPERUSER = 'postgres';

/** The bin directory of the newest PostgreSQL under /usr/lib/postgresql, or null. */
function findBinDir(): string | null {
  let versions: string[];
  try {
    versions = readdirSync(PG_ROOT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(PG_ROOT, v, 'bin'))
    .filter((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')));
  return usable[0] ?? null;
}

/** The major version of a bin directory found by findBinDir (…/postgresql/<major>/bin). */
function majorOf(bin: string): number {
  return Number(bin.split('/').at(-2));
}

export function postgresAvailable(): boolean {
  return findBinDir() !== null;
}

/**
 * The reason to skip a PostgreSQL suite, or undefined to run it. Under CI a missing PostgreSQL
 * is not a reason: the suite runs, and startPostgres fails it.
 */
export function postgresSkipReason(): string | undefined {
  if (postgresAvailable() || process.env.CI) return undefined;
  return `PostgreSQL is not installed (no initdb/pg_ctl under ${PG_ROOT}/<version>/bin); set CI to make this a failure`;
}

// Servers still running in this process, stopped synchronously if the process exits early.
const live = new Set<{ stopSync(): void }>();
let exitHookInstalled = false;

function stopAllSync(): void {
  for (const server of live) server.stopSync();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', stopAllSync);
  // A signal ends the process without 'exit' (the test runner sends SIGTERM on a timeout). Stop
  // the servers, then let the signal do what it would have done had no one listened.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      stopAllSync();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function run(argv: readonly string[], timeoutMs: number): Promise<string> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty command');
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${argv.join(' ')} failed: ${stderr || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

function serverOptions(port: number, socketDir: string, host: string, durable: boolean): string {
  return [
    `-c listen_addresses=${host}`,
    `-p ${port}`,
    `-c unix_socket_directories='${socketDir}'`,
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    '-c max_connections=200',
  ].join(' ');
}

/** Another process may take the free port before the server binds it: then try another. */
async function startOnFreePort(start: (port: number) => Promise<unknown>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await start(port);
      return port;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** Starts a fresh PostgreSQL cluster. Throws (rather than skips) when the binaries are missing. */
export async function startPostgres(options: PostgresOptions = {}): Promise<ControlledPostgres> {
  const bin = findBinDir();
  if (bin === null) {
    throw new Error(
      `PostgreSQL binaries not found under ${PG_ROOT}/<version>/bin (install Debian's postgresql)`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  // initdb refuses to run as root: then the cluster belongs to the postgres system user.
  const asRoot = process.getuid?.() === 0;
  const as = (argv: string[]): string[] => [
    ...(options.wrap ?? []),
    ...(asRoot ? ['runuser', '-u', SUPERUSER, '--', ...argv] : argv),
  ];

  const dir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const pgCtl = join(bin, 'pg_ctl');
  let postmasterPid: number | null = null;
  let port = 0;
  const readPid = (): number =>
    Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pgStart = (p: number): Promise<string> =>
    run(
      as([
        ...[pgCtl, 'start', '-D', data, '-l', log, '-w', '-t', String(PG_CTL_WAIT_S)],
        ...['-o', serverOptions(p, dir, host, options.durable ?? false)],
      ]),
      (PG_CTL_WAIT_S + 5) * 1000,
    );

  const stopSync = (): void => {
    // Synchronous on purpose: it runs from the process 'exit' handler.
    live.delete(handle);
    const [file = pgCtl, ...args] = as([
      ...[pgCtl, 'stop', '-D', data, '-m', 'immediate', '-w', '-t', '10'],
    ]);
    const result = spawnSync(file, args, { timeout: 15_000, stdio: 'ignore' });
    if (result.status !== 0 && postmasterPid !== null) killGroupQuietly(postmasterPid);
    rmSync(dir, { recursive: true, force: true });
  };
  const handle = { stopSync };

  try {
    await run(
      as([
        ...[join(bin, 'initdb'), '-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8'],
        ...(options.durable ? [] : ['--no-sync']),
      ]),
      INITDB_TIMEOUT_MS,
    );
    live.add(handle);
    installExitHook();
    // initdb trusts only local connections; a server on a bridge also trusts its own subnet
    // (the harness's hosts, nothing routable: the bridge has no way out).
    if (host !== '127.0.0.1')
      await run(
        as(['sh', '-c', `echo 'host all all samenet trust' >> '${join(data, 'pg_hba.conf')}'`]),
        5_000,
      );
    // A namespace of its own has every port free; on the shared loopback, find one.
    if (host === '127.0.0.1') port = await startOnFreePort(pgStart);
    else await pgStart((port = 5432));
    postmasterPid = readPid();
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    stopSync();
    throw new Error(`could not start PostgreSQL: ${String(err)}${tail ? `\n${tail}` : ''}`, {
      cause: err,
    });
  }
  const base = makeHandle(`postgres://${SUPERUSER}@${host}:${port}`, majorOf(bin), async () => {
    if (!live.has(handle)) return;
    live.delete(handle);
    try {
      if (postmasterPid !== null) await pgStop('fast');
    } catch (err) {
      if (postmasterPid !== null) killGroupQuietly(postmasterPid);
      throw err;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  async function pgStop(mode: 'fast' | 'immediate'): Promise<void> {
    await run(
      as([pgCtl, 'stop', '-D', data, '-m', mode, '-w', '-t', String(PG_CTL_WAIT_S)]),
      (PG_CTL_WAIT_S + 5) * 1000,
    );
    postmasterPid = null;
  }
  return {
    ...base,
    async kill() {
      if (postmasterPid === null) return;
      killGroupQuietly(postmasterPid);
      postmasterPid = null;
      // The backends die with the postmaster; wait until the port is free for a new one.
      await waitUntilGone(readPidOrNull(data));
    },
    async start() {
      if (postmasterPid !== null) throw new Error('PostgreSQL is already running');
      await pgStart(port);
      postmasterPid = readPid();
    },
    stopFast: () => pgStop('fast'),
    terminateBackends: () => base.terminateBackends(),
    pid: () => postmasterPid,
  };
}

function readPidOrNull(data: string): number | null {
  try {
    return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null; // no pid file: the server is already gone
  }
}

/** Waits (bounded) until no process has `pid`. */
async function waitUntilGone(pid: number | null): Promise<void> {
  if (pid === null) return;
  const deadline = Date.now() + PG_CTL_WAIT_S * 1000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return; // ESRCH: gone
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL pid ${pid} did not exit`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGKILL to a process group (pg_ctl starts the postmaster as a group leader), else the pid. */
function killGroupQuietly(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    killQuietly(pid);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: it is already gone, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

let databaseCount = 0;

function makeHandle(
  base: string,
  major: number,
  stop: () => Promise<void>,
): TestPostgres & { terminateBackends(): Promise<number> } {
  const url = `${base}/postgres`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    async createDatabase(name = `parley_${++databaseCount}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name: ${name}`);
      // FILE_COPY (PostgreSQL 15+) copies the small template's files instead of WAL-logging
      // every block; with fsync off it is the faster way to get a fresh database per test.
      const strategy = major >= 15 ? ' STRATEGY = FILE_COPY' : '';
      await admin((c) => c.query(`CREATE DATABASE ${name}${strategy}`));
      return `${base}/${name}`;
    },
    async dropDatabase(dbUrl) {
      const name = new URL(dbUrl).pathname.slice(1);
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name: ${name}`);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    stop,
    async terminateBackends() {
      const sql = `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`;
      const result = await admin((c) => c.query<{ n: number }>(sql));
      return result.rows[0]?.n ?? 0;
    },
  };
}
