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
  /** SIGKILL to the postmaster and every one of its processes at once: a crash. */
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
/** pg_ctl's own wait, and a little more for it to answer. */
const PG_CTL_MS = (PG_CTL_WAIT_S + 5) * 1_000;
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

/**
 * One PostgreSQL data directory and the commands that run it: initdb, pg_ctl start and stop,
 * and a crash (SIGKILL to the postmaster and every child at once). As root, every command runs
 * as the postgres user (initdb refuses root), behind `options.wrap` when given.
 */
class PgServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  readonly data = join(this.dir, 'data');
  readonly log = join(this.dir, 'postgres.log');
  readonly host: string;
  port = 0;
  /** The postmaster's pid while it runs. */
  pid: number | null = null;
  private readonly bin: string;
  private readonly options: PostgresOptions;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(bin: string, options: PostgresOptions) {
    this.bin = bin;
    this.options = options;
    this.host = options.host ?? '127.0.0.1';
    if (this.asRoot) {
      const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
      chownSync(this.dir, uid, gid);
      chmodSync(this.dir, 0o700);
    }
  }

  as(argv: string[]): string[] {
    const user = this.asRoot ? ['runuser', '-u', SUPERUSER, '--', ...argv] : argv;
    return [...(this.options.wrap ?? []), ...user];
  }

  async initdb(): Promise<void> {
    const initdb = [join(this.bin, 'initdb'), '-D', this.data, '-U', SUPERUSER, '--auth=trust'];
    const sync = this.options.durable ? [] : ['--no-sync'];
    await run(this.as([...initdb, '-E', 'UTF8', ...sync]), INITDB_TIMEOUT_MS);
    // initdb trusts only local connections; a server on a bridge also trusts its own subnet
    // (the harness's hosts, nothing routable: the bridge has no way out).
    if (this.host !== '127.0.0.1') {
      const hba = join(this.data, 'pg_hba.conf');
      await run(this.as(['sh', '-c', `echo 'host all all samenet trust' >> '${hba}'`]), PG_CTL_MS);
    }
  }

  async start(port: number): Promise<void> {
    const durable = this.options.durable ?? false;
    const ctl = [join(this.bin, 'pg_ctl'), 'start', '-D', this.data, '-l', this.log, '-w'];
    const opts = [
      '-t',
      String(PG_CTL_WAIT_S),
      '-o',
      serverOptions(port, this.dir, this.host, durable),
    ];
    await run(this.as([...ctl, ...opts]), PG_CTL_MS);
    this.port = port;
    this.pid = Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const ctl = [join(this.bin, 'pg_ctl'), 'stop', '-D', this.data, '-m', mode, '-w'];
    await run(this.as([...ctl, '-t', String(PG_CTL_WAIT_S)]), PG_CTL_MS);
    this.pid = null;
  }

  /**
   * SIGKILL to the postmaster and all its children at once. Each child calls setsid(), so the
   * postmaster's process group does not hold them: they are found by their parent pid.
   */
  async crash(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    const doomed = [pid, ...childrenOf(pid)];
    for (const p of doomed) killQuietly(p);
    this.pid = null;
    // Wait until every one is gone, so that a new postmaster finds its port and memory free.
    for (const p of doomed) await waitUntilGone(p);
  }

  /** Synchronous on purpose: it runs from the process 'exit' handler. */
  stopSync(): void {
    const ctl = [join(this.bin, 'pg_ctl'), 'stop', '-D', this.data, '-m', 'immediate', '-w'];
    const [file = 'pg_ctl', ...args] = this.as([...ctl, '-t', '10']);
    const result = spawnSync(file, args, { timeout: 15_000, stdio: 'ignore' });
    if (result.status !== 0 && this.pid !== null) {
      for (const p of [this.pid, ...childrenOf(this.pid)]) killQuietly(p);
    }
    rmSync(this.dir, { recursive: true, force: true });
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
  const server = new PgServer(bin, options);
  const handle = {
    stopSync: (): void => {
      live.delete(handle);
      server.stopSync();
    },
  };
  try {
    await server.initdb();
    live.add(handle);
    installExitHook();
    // A namespace of its own has every port free; on the shared loopback, find one.
    if (server.host === '127.0.0.1') await startOnFreePort((p) => server.start(p));
    else await server.start(5432);
  } catch (err) {
    const tail = existsSync(server.log) ? readFileSync(server.log, 'utf8').slice(-2000) : '';
    handle.stopSync();
    throw new Error(`could not start PostgreSQL: ${String(err)}${tail ? `\n${tail}` : ''}`, {
      cause: err,
    });
  }
  const url = `postgres://${SUPERUSER}@${server.host}:${server.port}`;
  const base = makeHandle(url, majorOf(bin), async () => {
    if (!live.has(handle)) return;
    live.delete(handle);
    try {
      if (server.pid !== null) await server.stop('fast');
    } catch (err) {
      await server.crash();
      throw err;
    } finally {
      rmSync(server.dir, { recursive: true, force: true });
    }
  });
  return {
    ...base,
    kill: () => server.crash(),
    async start() {
      if (server.pid !== null) throw new Error('PostgreSQL is already running');
      await server.start(server.port);
    },
    stopFast: () => server.stop('fast'),
    pid: () => server.pid,
  };
}

/** The pids whose parent is `pid` (from /proc; empty where there is none). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name in (…) may hold spaces: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      continue; // it ended while we looked
    }
  }
  return children;
}

/** Waits (bounded) until no process has `pid`. */
async function waitUntilGone(pid: number): Promise<void> {
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
