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

function serverOptions(port: number, socketDir: string): string {
  return [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    `-c unix_socket_directories='${socketDir}'`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
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
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findBinDir();
  if (bin === null) {
    throw new Error(
      `PostgreSQL binaries not found under ${PG_ROOT}/<version>/bin (install Debian's postgresql)`,
    );
  }
  // initdb refuses to run as root: then the cluster belongs to the postgres system user.
  const asRoot = process.getuid?.() === 0;
  const as = (argv: string[]): string[] =>
    asRoot ? ['runuser', '-u', SUPERUSER, '--', ...argv] : argv;

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
  let postmasterPid: number | undefined;

  const stopSync = (): void => {
    // Synchronous on purpose: it runs from the process 'exit' handler.
    live.delete(handle);
    const [file = pgCtl, ...args] = as([
      pgCtl,
      'stop',
      '-D',
      data,
      '-m',
      'immediate',
      '-w',
      '-t',
      '10',
    ]);
    const result = spawnSync(file, args, { timeout: 15_000, stdio: 'ignore' });
    if (result.status !== 0 && postmasterPid !== undefined) killQuietly(postmasterPid);
    rmSync(dir, { recursive: true, force: true });
  };
  const handle = { stopSync };

  try {
    await run(
      as([
        join(bin, 'initdb'),
        '-D',
        data,
        '-U',
        SUPERUSER,
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]),
      INITDB_TIMEOUT_MS,
    );
    live.add(handle);
    installExitHook();
    const port = await startOnFreePort((p) =>
      run(
        as([
          pgCtl,
          'start',
          '-D',
          data,
          '-l',
          log,
          '-w',
          '-t',
          String(PG_CTL_WAIT_S),
          '-o',
          serverOptions(p, dir),
        ]),
        (PG_CTL_WAIT_S + 5) * 1000,
      ),
    );
    postmasterPid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return makeHandle(`postgres://${SUPERUSER}@127.0.0.1:${port}`, majorOf(bin), async () => {
      if (!live.has(handle)) return;
      live.delete(handle);
      try {
        await run(
          as([pgCtl, 'stop', '-D', data, '-m', 'fast', '-w', '-t', String(PG_CTL_WAIT_S)]),
          (PG_CTL_WAIT_S + 5) * 1000,
        );
      } catch (err) {
        if (postmasterPid !== undefined) killQuietly(postmasterPid);
        throw err;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    stopSync();
    throw new Error(`could not start PostgreSQL: ${String(err)}${tail ? `\n${tail}` : ''}`, {
      cause: err,
    });
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

function makeHandle(base: string, major: number, stop: () => Promise<void>): TestPostgres {
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
  };
}
