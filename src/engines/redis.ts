// Test harness: a real, throwaway redis-server on a free port in a temporary directory, with no
// persistence, so the Redis backends are proven against the real thing and never a mock.
// Suites skip when redis-server is not installed, unless CI is set: there a missing binary fails.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

const READY_WAIT_MS = 5_000;
const READY_POLL_MS = 25;
const STOP_WAIT_MS = 3_000;
const PORT_ATTEMPTS_MAX = 5;

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the server for good and removes its directory. */
  stop(): Promise<void>;
  /** kill -9, then starts again on the same port: every key is lost. */
  restart(): Promise<void>;
  /** kill -9 only: the port refuses connections until `start`. */
  kill(): Promise<void>;
  /** Starts again on the same port after `kill`. */
  start(): Promise<void>;
  /** SIGSTOP: the server holds its connections but answers nothing, until `resume`. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

/** Where to run the server: the fault-injection harness (src/verify) sets these. */
export interface RedisOptions {
  /** The address to bind (default 127.0.0.1); a namespace's own address gets port 6379. */
  readonly host?: string;
  /** A prefix for the command, such as `ip netns exec <ns>` (it must exec, keeping the pid). */
  readonly wrap?: readonly string[];
}

/** The redis-server binary: PARLEY_REDIS_SERVER, else the first on PATH, else /usr/bin. */
function findBinary(): string | null {
  const candidates = [
    process.env.PARLEY_REDIS_SERVER,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')),
    '/usr/bin/redis-server',
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue; // not there or not executable: try the next candidate
    }
  }
  return null;
}

export function redisAvailable(): boolean {
  return findBinary() !== null;
}

/**
 * The `skip` option for a Redis suite: a reason when redis-server is missing, false otherwise.
 * Under CI it is always false, so that startRedis fails the suite instead of skipping it.
 */
export function redisSkip(): string | false {
  if (redisAvailable() || process.env.CI) return false;
  return 'redis-server is not installed (set CI to make this a failure)';
}

// Every server this process started; killed on exit however the test run ends.
const live = new Set<ChildProcess>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = (): void => {
    for (const child of live) child.kill('SIGKILL');
    live.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal); // the handler was `once`: this ends the process as usual
    });
  }
}

/** One PING over a raw socket; resolves true on +PONG, false on any failure. */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').slice(-2_000);
  } catch (err) {
    return `(no log: ${String(err)})`;
  }
}

/** Spawns redis-server and waits until it answers PING; rejects (and kills it) otherwise. */
async function launch(
  binary: string,
  port: number,
  dir: string,
  extra: readonly string[] = [],
  options: RedisOptions = {},
): Promise<ChildProcess> {
  const host = options.host ?? '127.0.0.1';
  // "--save ''" must reach redis as an empty argument: spawn passes it without a shell.
  const args = [
    ...['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no'],
    ...['--dir', dir, '--logfile', join(dir, 'redis.log'), '--daemonize', 'no'],
    // Off loopback Redis refuses everyone without a password; the bridge is the harness's own.
    ...(host === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
    ...extra,
  ];
  const [file = binary, ...wrapped] = [...(options.wrap ?? []), binary, ...args];
  const child = spawn(file, wrapped, { stdio: 'ignore' });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const deadline = Date.now() + READY_WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await ping(host, port)) return child;
    await sleep(READY_POLL_MS);
  }
  child.kill('SIGKILL');
  await waitExit(child, STOP_WAIT_MS);
  throw new Error(`redis-server on port ${port} did not answer PING:\n${readLog(dir)}`);
}

/** Starts a fresh redis-server (with `extra` arguments); stop it in after(). */
export async function startRedis(
  extra: readonly string[] = [],
  options: RedisOptions = {},
): Promise<RunningRedis> {
  const binary = findBinary();
  if (binary === null) {
    throw new Error('redis-server is not installed; CI is set, so the Redis suites fail');
  }
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-'));
  let port = 0;
  let child: ChildProcess | null = null;
  const host = options.host ?? '127.0.0.1';
  for (let attempt = 1; child === null; attempt++) {
    // A namespace of its own has every port free; on the shared loopback, find one.
    port = host === '127.0.0.1' ? await freePort() : 6379;
    try {
      child = await launch(binary, port, dir, extra, options);
    } catch (err) {
      // Another process may have taken the port between freePort and launch: try another.
      if (attempt >= PORT_ATTEMPTS_MAX) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const kill = async (): Promise<void> => {
    if (child === null) return;
    const dying = child;
    child = null;
    dying.kill('SIGKILL');
    if (!(await waitExit(dying, STOP_WAIT_MS))) throw new Error('redis-server did not die');
  };
  // A server that died on its own counts as down, so that start() brings it back.
  const running = (): boolean =>
    child !== null && child.exitCode === null && child.signalCode === null;
  const start = async (): Promise<void> => {
    if (running()) throw new Error('redis-server is already running');
    child = await launch(binary, port, dir, extra, options);
  };
  const signal = (name: NodeJS.Signals): void => {
    if (!running()) throw new Error('redis-server is not running');
    child!.kill(name);
  };
  return {
    url: `redis://${host}:${port}`,
    port,
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningRedisCluster {
  /** One node per master; any of them is a startup node. */
  readonly nodes: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

const CLUSTER_MASTERS = 3;
const CLUSTER_WAIT_MS = 15_000;

/** Starts a 3-master Redis Cluster (no replicas) with redis-cli; stop it in after(). */
export async function startRedisCluster(): Promise<RunningRedisCluster> {
  const binary = findBinary();
  if (binary === null) throw new Error('redis-server is not installed');
  const cli = join(binary, '..', 'redis-cli');
  const servers: RunningRedis[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers) await server.stop();
  };
  try {
    for (let i = 0; i < CLUSTER_MASTERS; i++) {
      servers.push(
        await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-yes'], CLUSTER_WAIT_MS);
    const deadline = Date.now() + CLUSTER_WAIT_MS;
    for (const server of servers) {
      while (
        !(await run(cli, ['-p', String(server.port), 'cluster', 'info'], 2_000)).includes(
          'cluster_state:ok',
        )
      ) {
        if (Date.now() > deadline)
          throw new Error('the Redis Cluster did not reach cluster_state:ok');
        await sleep(READY_POLL_MS * 4);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), stop };
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`))
        : resolve(stdout),
    );
  });
}
