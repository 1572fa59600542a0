// The system under test, in its two shapes: one embedded server on an SQLite file, or a cluster
// of nodes on PostgreSQL and Redis, each (where namespaces work) on a host of its own. Each can
// inject its faults, heal everything, and read its store directly, not through the server, for
// the checker's final read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startPostgres, startRedis } from '../engines/index.js';
import type { ControlledPostgres, RunningRedis } from '../engines/index.js';
import { refOf, type SeenMessage } from './history.js';
import { openNetwork, type Host, type Network } from './netns.js';
import { NodeProcess } from './node-process.js';

/** Short, so that a paused node's presence expires within a fault (the "zombie" node). */
export const PRESENCE_TTL_MS = 3_000;

export type StoreRead = Map<string, SeenMessage[]>;

export interface System {
  readonly mode: 'embedded' | 'cluster';
  /** Why the hosts are not separate ('' when they are). */
  readonly fallbackReason: string;
  readonly network: Network | null;
  readonly nodes: readonly NodeProcess[];
  readonly postgres: ControlledPostgres | null;
  readonly redis: RunningRedis | null;
  readonly hosts: { readonly pg: Host | null; readonly redis: Host | null; readonly nodes: Host[] };
  wsUrls(): string[];
  /** The REST base of a running node. */
  httpUrl(): string;
  readStore(): Promise<StoreRead>;
  close(): Promise<void>;
}

export interface SystemOptions {
  readonly nodes?: number;
  readonly sqliteSynchronous?: 'normal' | 'full';
  /** A deliberate bug to turn on (only a server running from the sources honours it). */
  readonly bug?: string;
  /** Run every host on 127.0.0.1 even where namespaces work. */
  readonly noNamespaces?: boolean;
  /** Where each server's output goes, as `<name>.log`. */
  readonly logDir?: string;
  /** A server exited although nobody killed it. */
  readonly onCrash?: (name: string, code: number | null, signal: string | null) => void;
}

function nodeOptions(name: string, options: SystemOptions, env: Record<string, string>) {
  return {
    env,
    ...(options.logDir ? { logFile: join(options.logDir, `${name}.log`) } : {}),
    onCrash: (code: number | null, signal: string | null) => options.onCrash?.(name, code, signal),
  };
}

/** Limits raised so the workload measures delivery, not the rate limiter. */
const WORKLOAD_ENV = {
  PARLEY_SEND_RATE_PER_SEC: '2000',
  PARLEY_SEND_BURST_MAX: '2000',
  PARLEY_PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
};

export async function startEmbedded(options: SystemOptions = {}): Promise<System> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-verify-'));
  const node = new NodeProcess(
    'server',
    '127.0.0.1',
    [],
    nodeOptions('server', options, {
      ...WORKLOAD_ENV,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_SQLITE_SYNCHRONOUS: options.sqliteSynchronous ?? 'normal',
      ...(options.bug ? { PARLEY_TEST_BUG: options.bug } : {}),
    }),
  );
  try {
    await node.start();
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    mode: 'embedded',
    fallbackReason: '',
    network: null,
    nodes: [node],
    postgres: null,
    redis: null,
    hosts: { pg: null, redis: null, nodes: [] },
    wsUrls: () => [node.wsUrl],
    httpUrl: () => node.url,
    readStore: () => Promise.resolve(readSqlite(join(dataDir, 'parley.db'))),
    async close() {
      await node.kill();
      node.closeLog();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startCluster(options: SystemOptions = {}): Promise<System> {
  const network = await openNetwork({ forceFallback: options.noNamespaces ?? false });
  const parts: { postgres?: ControlledPostgres; redis?: RunningRedis; nodes: NodeProcess[] } = {
    nodes: [],
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-verify-'));
  const close = async (): Promise<void> => {
    await Promise.allSettled(parts.nodes.map((n) => n.kill()));
    parts.nodes.forEach((n) => n.closeLog());
    await Promise.allSettled([parts.redis?.stop(), parts.postgres?.stop()]);
    await network.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const pgHost = await network.addHost('pg');
    const redisHost = await network.addHost('redis');
    const nodeHosts: Host[] = [];
    for (let i = 1; i <= (options.nodes ?? 3); i++)
      nodeHosts.push(await network.addHost(`node${i}`));
    const placed = (h: Host) => ({ host: h.address, wrap: h.wrap });
    [parts.postgres, parts.redis] = await Promise.all([
      startPostgres({ ...placed(pgHost), durable: true }),
      startRedis([], placed(redisHost)),
    ]);
    const databaseUrl = await parts.postgres.createDatabase('parley_verify');
    for (const [i, h] of nodeHosts.entries()) {
      parts.nodes.push(
        new NodeProcess(
          `node${i + 1}`,
          h.address,
          h.wrap,
          nodeOptions(`node${i + 1}`, options, {
            ...WORKLOAD_ENV,
            PARLEY_DATABASE_URL: databaseUrl,
            PARLEY_REDIS_URL: parts.redis.url,
            PARLEY_NODE_ID: `node${i + 1}`,
            PARLEY_DATA_DIR: dataDir,
            PARLEY_BLOB_DIR_SHARED: 'true',
          }),
        ),
      );
    }
    await Promise.all(parts.nodes.map((n) => n.start()));
    const { postgres, redis, nodes } = parts;
    return {
      mode: 'cluster',
      fallbackReason: network.fallbackReason,
      network,
      nodes,
      postgres,
      redis,
      hosts: { pg: pgHost, redis: redisHost, nodes: nodeHosts },
      wsUrls: () => nodes.map((n) => n.wsUrl),
      httpUrl: () => (nodes.find((n) => n.running) ?? nodes[0]!).url,
      readStore: () => readPostgres(databaseUrl),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

interface MessageRow {
  readonly conversation_id: string;
  readonly seq: number | string;
  readonly id: string;
  readonly body: string | { kind?: string; text?: string };
}

function toStoreRead(rows: readonly MessageRow[]): StoreRead {
  const read: StoreRead = new Map();
  for (const row of rows) {
    // SQLite keeps the body as text; pg parses PostgreSQL's json column.
    const ref = refOf(typeof row.body === 'string' ? JSON.parse(row.body) : row.body);
    let msgs = read.get(row.conversation_id);
    if (!msgs) read.set(row.conversation_id, (msgs = []));
    msgs.push({ seq: Number(row.seq), id: row.id, ref });
  }
  return read;
}

const MESSAGES_SQL =
  'SELECT conversation_id, seq, id, body FROM messages ORDER BY conversation_id, seq';

function readSqlite(file: string): StoreRead {
  const db = new Database(file, { readonly: true });
  try {
    return toStoreRead(db.prepare(MESSAGES_SQL).all() as MessageRow[]);
  } finally {
    db.close();
  }
}

async function readPostgres(url: string): Promise<StoreRead> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
  await client.connect();
  try {
    return toStoreRead((await client.query<MessageRow>(MESSAGES_SQL)).rows);
  } finally {
    await client.end();
  }
}
