// Test harness for cluster mode: one real PostgreSQL (a fresh database) and one real Redis per test
// file, and N real `parley serve` node processes pointed at both, each with its own node id. Nodes
// can be killed (SIGKILL), stopped (SIGTERM) and restarted; every wait is bounded, and every child
// is killed in close() and, failing that, when the test process exits. Attachments go to one
// data directory that every node shares (they run on one host), or to a real S3 server (s3rver).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../src/engines/index.js';
import { redisSkip, startRedis, type RunningRedis } from '../src/engines/index.js';
import { startS3, type TestS3 } from '../src/test-support/s3.js';
import { http, register } from '../src/test-support/server.js';
import { RtClient, type Transport } from '../src/test-support/rt-client.js';
import { sleep, withTimeout } from '../src/test-support/wait.js';

export { sleep, withTimeout };

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;
/** Lines of each node's output kept for failure messages and log assertions. */
const LOG_LINES_MAX = 5_000;
export const PASSWORD = 'correct horse battery';
/** Short, so that a dead node's presence expires and Redis outages heal quickly. */
export const PRESENCE_TTL_MS = 3_000;

/**
 * The `skip` option of a cluster suite: a reason when redis-server or PostgreSQL is missing and CI
 * is unset; false otherwise (under CI a missing binary makes the suite fail in its before hook).
 */
export function clusterSkip(): string | false {
  const redis = redisSkip();
  if (redis) return redis;
  return postgresSkipReason() ?? false;
}

/** Polls `check` until it is true; throws after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  pollMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(pollMs);
  }
}

// Every node process of this test process, killed however the run ends.
const liveChildren = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

export interface ClusterNode {
  /** PARLEY_NODE_ID */
  readonly id: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly tcpPort: number | null;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  readonly exited: Promise<number | null>;
  /** The node's log lines (pino JSON), newest last, bounded. */
  readonly lines: string[];
  /** The environment overrides it was started with, kept for restart. */
  readonly env: Readonly<Record<string, string>>;
  readonly alive: boolean;
}

export interface TestCluster {
  readonly databaseUrl: string;
  readonly redis: RunningRedis;
  /** PARLEY_DATA_DIR of every node: with the fs blob store, `<dataDir>/blobs` is shared. */
  readonly dataDir: string;
  /** The S3 server and bucket of `blobs: 's3'`; null otherwise. */
  readonly s3: { readonly server: TestS3; readonly bucket: string } | null;
  /** The current process of each node, by index; replaced on restart. */
  readonly nodes: ClusterNode[];
  /** SIGKILL; resolves once the process is gone. */
  kill(index: number): Promise<void>;
  /** SIGTERM; resolves with the exit code once the process is gone. */
  stop(index: number): Promise<number | null>;
  /** Starts the node again (same id and environment, new ports); after kill or stop. */
  restart(index: number, env?: Record<string, string>): Promise<ClusterNode>;
  /** The log messages (`msg`) of a node, parsed. */
  logMessages(index: number): string[];
  /** Kills every node, stops Redis and PostgreSQL, removes their directories. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** Environment for every node. */
  readonly env?: Record<string, string>;
  /** Environment for single nodes, by index; wins over `env`. */
  readonly nodeEnv?: readonly Record<string, string>[];
  /** Also listen on a TCP port (the Protobuf transport). */
  readonly tcp?: boolean;
  /**
   * Where attachments go. `shared-dir` (default): the fs store in one directory every node uses,
   * declared with PARLEY_BLOB_DIR_SHARED. `s3`: a bucket on a real S3 server (s3rver).
   */
  readonly blobs?: 'shared-dir' | 's3';
}

/** Starts PostgreSQL, Redis and `options.nodes` node processes (in parallel). */
export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  hookExit();
  let pg: TestPostgres | null = null;
  let redis: RunningRedis | null = null;
  let s3: TestCluster['s3'] = null;
  const nodes: ClusterNode[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => killNode(n)));
    await redis?.stop();
    await pg?.stop();
    await s3?.server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    [pg, redis, s3] = await Promise.all([
      startPostgres(),
      startRedis(),
      options.blobs === 's3' ? startS3Bucket() : null,
    ]);
    const databaseUrl = await pg.createDatabase();
    const redisUrl = redis.url;
    const blobEnv = s3 ? s3Env(s3) : { PARLEY_BLOB_DIR_SHARED: 'true' };
    const envOf = (i: number): Record<string, string> => ({
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_REDIS_URL: redisUrl,
      PARLEY_NODE_ID: `node${i + 1}`,
      PARLEY_PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
      PARLEY_DATA_DIR: dataDir,
      ...blobEnv,
      ...(options.tcp ? { PARLEY_TCP_PORT: '0' } : {}),
      ...options.env,
      ...options.nodeEnv?.[i],
    });
    const started = await Promise.allSettled(
      Array.from({ length: options.nodes }, (_, i) => startNode(envOf(i))),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const cluster: TestCluster = {
      databaseUrl,
      redis,
      dataDir,
      s3,
      nodes,
      kill: async (i) => killNode(nodeAt(nodes, i)),
      stop: async (i) => {
        const node = nodeAt(nodes, i);
        if (node.alive) node.child.kill('SIGTERM');
        return withTimeout(node.exited, EXIT_TIMEOUT_MS, `${node.id} exit after SIGTERM`);
      },
      restart: async (i, env) => {
        const old = nodeAt(nodes, i);
        await killNode(old);
        const node = await startNode({ ...old.env, ...env });
        nodes[i] = node;
        return node;
      },
      logMessages: (i) => messagesOf(nodeAt(nodes, i).lines),
      close,
    };
    return cluster;
  } catch (err) {
    await close();
    throw err;
  }
}

async function startS3Bucket(): Promise<NonNullable<TestCluster['s3']>> {
  const server = await startS3();
  try {
    return { server, bucket: await server.createBucket() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The settings that point a node at the cluster's bucket. */
function s3Env({ server, bucket }: NonNullable<TestCluster['s3']>): Record<string, string> {
  return {
    PARLEY_BLOB_STORE: 's3',
    PARLEY_S3_ENDPOINT: server.endpoint,
    PARLEY_S3_REGION: server.region,
    PARLEY_S3_BUCKET: bucket,
    PARLEY_S3_ACCESS_KEY_ID: server.accessKeyId,
    PARLEY_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    PARLEY_S3_FORCE_PATH_STYLE: 'true',
  };
}

function nodeAt(nodes: readonly ClusterNode[], i: number): ClusterNode {
  const node = nodes[i];
  if (!node) throw new Error(`no node ${i}`);
  return node;
}

function messagesOf(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown };
      if (typeof entry.msg === 'string') out.push(entry.msg);
    } catch {
      continue; // not a pino line
    }
  }
  return out;
}

async function killNode(node: ClusterNode): Promise<void> {
  if (node.alive) node.child.kill('SIGKILL');
  await withTimeout(node.exited, EXIT_TIMEOUT_MS, `${node.id} exit after SIGKILL`);
}

/** Spawns `parley serve` and resolves once it logs "parley listening". */
async function startNode(env: Record<string, string>): Promise<ClusterNode> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) base[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...base,
      PARLEY_PORT: '0',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      alive = false;
      liveChildren.delete(child);
      resolve(code);
    });
  });
  const lines: string[] = [];
  const keep = (line: string): void => {
    lines.push(line);
    if (lines.length > LOG_LINES_MAX) lines.splice(0, lines.length - LOG_LINES_MAX);
  };
  child.stderr.setEncoding('utf8');
  createInterface({ input: child.stderr }).on('line', keep);
  const listening = new Promise<{ port: number; tcpPort: number | null }>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      keep(line);
      let entry: { msg?: unknown; port?: unknown; tcpPort?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'parley listening' && typeof entry.port === 'number') {
        resolve({
          port: entry.port,
          tcpPort: typeof entry.tcpPort === 'number' ? entry.tcpPort : null,
        });
      }
    });
    void exited.then((code) =>
      reject(new Error(`node exited (${code}) before listening:\n${lines.slice(-30).join('\n')}`)),
    );
  });
  try {
    const { port, tcpPort } = await withTimeout(listening, START_TIMEOUT_MS, 'node start');
    const url = `http://127.0.0.1:${port}`;
    return {
      id: env.PARLEY_NODE_ID ?? '?',
      url,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      tcpPort,
      child,
      exited,
      lines,
      env,
      get alive() {
        return alive;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    await withTimeout(exited, EXIT_TIMEOUT_MS, 'node exit after a failed start').catch(
      () => undefined,
    );
    throw err;
  }
}

// --- users, conversations, links ------------------------------------------------------------

export interface User {
  readonly username: string;
  readonly userId: string;
  readonly token: string;
  readonly device: string;
}

export async function newUser(url: string, username: string, device = 'd1'): Promise<User> {
  const u = await register(url, username, PASSWORD, device);
  return { username, userId: u.userId, token: u.token, device: u.device };
}

/** Registers `names` with at most `concurrency` registrations at a time, spread over `urls`. */
export async function newUsers(
  urls: readonly string[],
  names: readonly string[],
  concurrency: number,
): Promise<User[]> {
  const users: User[] = new Array<User>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      users[i] = await newUser(urls[i % urls.length]!, names[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return users;
}

/** Logs a user in on another device: a token for that device. */
export async function loginDevice(url: string, user: User, device: string): Promise<User> {
  const res = await http('POST', `${url}/v1/auth/login`, {
    body: { username: user.username, password: PASSWORD, device },
  });
  assert.equal(res.status, 200, res.text);
  return { ...user, token: res.json.token, device };
}

export async function openDirect(url: string, user: User, withUsername: string): Promise<string> {
  const res = await http('POST', `${url}/v1/conversations`, {
    token: user.token,
    body: { kind: 'direct', with: withUsername },
  });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.json.id;
}

export async function createGroup(
  url: string,
  owner: User,
  title: string,
  members: readonly User[],
): Promise<string> {
  const res = await http('POST', `${url}/v1/conversations`, {
    token: owner.token,
    body: { kind: 'group', title, members: members.map((m) => m.username) },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.id;
}

export interface StoredView {
  readonly id: string;
  readonly seq: number;
  readonly sender: string;
  readonly device: string;
  readonly body: { readonly text?: string };
}

/** The whole REST history of a conversation, paged by `after`. */
export async function history(url: string, user: User, conversation: string) {
  const out: StoredView[] = [];
  let after = 0;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 1_000, 'history paging does not end');
    const res = await http(
      'GET',
      `${url}/v1/conversations/${conversation}/messages?after=${after}&limit=100`,
      { token: user.token },
    );
    assert.equal(res.status, 200, res.text);
    const messages = res.json.messages as StoredView[];
    out.push(...messages);
    if (!res.json.hasMore || messages.length === 0) break;
    after = messages.at(-1)!.seq;
  }
  return out;
}

export function connect(
  node: { wsUrl: string; tcpPort: number | null },
  user: User,
  transport: Transport = 'ws-json',
): Promise<RtClient> {
  return RtClient.connect(node, transport, user.token, user.device);
}

/** A number field as sent: Protobuf leaves out zeros, so an absent one is 0. */
export const num = (v: unknown): number => (v === undefined ? 0 : (v as number));
