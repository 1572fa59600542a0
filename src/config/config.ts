import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.js';
import { parseSetting, type Setting } from './setting.js';
import { SETTINGS, type Raw } from './settings.js';

// Configuration flows one way: environment variables and CLI flags become one validated,
// deep-frozen Config at start. Every setting has an environment variable PARLEY_<NAME> and a flag
// --<name>; a flag wins over the environment. A bad value stops the start with a message naming
// the setting, what it accepts and what it got. Each setting is a TypeBox schema (settings.ts);
// the rules that tie settings together are checked here, after each has passed on its own.

export type SeedApiMode = 'open' | 'auth';
/**
 * The reverse proxies whose X-Forwarded-For names the client (PARLEY_TRUST_PROXY): none, their
 * addresses and CIDRs (or proxy-addr's `loopback`, `linklocal`, `uniquelocal`), or a hop count.
 */
export type TrustProxy = false | number | readonly string[];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** `auto`: pretty on a terminal, JSON otherwise (as pino-pretty users and Vite do). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface Config {
  readonly node: { readonly id: string };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly seedApi: SeedApiMode;
    /** Which peers' X-Forwarded-For is believed, so that request.ip is the client's. */
    readonly trustProxy: TrustProxy;
  };
  /** The TCP transport of the real-time protocol; null when off. */
  readonly tcp: { readonly host: string; readonly port: number } | null;
  /** gRPC (docs/rpc.md): the listener (null when off) and the service token callers present. */
  readonly grpc: { readonly host: string; readonly port: number; readonly token: string } | null;
  /** `all`: a full node. `http`: only the seed HTTP API, forwarded to another node's IMService. */
  readonly role:
    | { readonly kind: 'all' }
    | { readonly kind: 'http'; readonly rpcTarget: string; readonly token: string };
  /** On SIGTERM, how long the node reports not ready before it stops taking requests. */
  readonly drainDelayMs: number;
  readonly store:
    | {
        readonly kind: 'sqlite';
        readonly dataDir: string;
        readonly file: string;
        readonly synchronous: 'normal' | 'full';
        /** Group commits on a thread of their own (storage/sqlite/append-thread.ts). */
        readonly appendThread: boolean;
      }
    | { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number };
  /** Redis for the bus, presence and the event stream; null on a single node. */
  readonly redis: {
    readonly url: string;
    readonly cluster: boolean;
    readonly presenceTtlMs: number;
    readonly broadcastMembersMin: number;
  } | null;
  readonly events: {
    /** The Redis Stream of the event feed (only with Redis). */
    readonly stream: string;
    readonly streamLengthMax: number;
    readonly webhookUrls: readonly string[];
    readonly webhookSecret: string;
  };
  readonly push: {
    /** Push gateway URLs a device's pusher may point at: the same origin, under the same path
     * by whole segments (src/outbound/, docs/push.md); none: no push at all. */
    readonly gateways: readonly string[];
    /** How often the users with pushers are read again: how soon another node's count here. */
    readonly refreshMs: number;
  };
  readonly log: { readonly level: LogLevel };
  readonly logFormat: LogFormat;
  readonly limits: Limits;
  readonly attachments: {
    /** The content-type allow-list: `type/subtype`, `type/*`, or a prefix ending in `*`. */
    readonly types: readonly string[];
    readonly blobStore:
      | {
          readonly kind: 'fs';
          readonly dir: string;
          /** The operator's word that every node of a cluster mounts this same directory. */
          readonly shared: boolean;
        }
      | {
          readonly kind: 's3';
          /** Null for AWS itself. */
          readonly endpoint: string | null;
          readonly region: string;
          readonly bucket: string;
          /** Null: the AWS SDK's default credential chain. */
          readonly credentials: {
            readonly accessKeyId: string;
            readonly secretAccessKey: string;
          } | null;
          readonly forcePathStyle: boolean;
        };
  };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const envName = (flag: string): string => 'PARLEY_' + flag.toUpperCase().replace(/-/g, '_');

/**
 * Builds the Config from the environment and parsed flags (flag name → string value).
 * Throws ConfigError listing every bad value at once.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  flags: Readonly<Record<string, string | undefined>> = {},
): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [string, Setting][]) {
    const fromFlag = flags[s.name];
    const value = fromFlag ?? env[envName(s.name)];
    // An empty variable means "unset"; an empty flag was typed on purpose and is checked.
    if (value === undefined || (value === '' && fromFlag === undefined)) {
      raw[key] = (s.schema as { default?: unknown }).default;
      continue;
    }
    const parsed = parseSetting(s, value);
    if ('value' in parsed) {
      raw[key] = parsed.value;
      continue;
    }
    const source = fromFlag !== undefined ? `--${s.name}` : envName(s.name);
    const got = s.secret ? 'a value (not shown)' : JSON.stringify(value);
    problems.push(`${source}: expected ${parsed.expected}, got ${got}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Every value has passed its own schema; what is left are the rules between settings.
  const checked = raw as Raw;
  problems.push(...combinationProblems(checked));
  if (problems.length > 0) throw new ConfigError(problems);
  return build(checked);
}

function combinationProblems(raw: Raw): string[] {
  const problems: string[] = [];
  if (raw.redisUrl && !raw.databaseUrl) {
    // Nodes sharing Redis but each with its own SQLite file would each hold part of the truth.
    problems.push(`${envName('redis-url')}: needs ${envName('database-url')} (cluster mode)`);
  }
  if (raw.webhookUrls && !raw.webhookSecret) {
    problems.push(`${envName('webhook-secret')}: required when ${envName('webhook-urls')} is set`);
  }
  if (raw.blobStore === 's3' && !raw.s3Bucket) {
    problems.push(`${envName('s3-bucket')}: required when ${envName('blob-store')} is s3`);
  }
  const blobProblem = clusterBlobProblem(raw);
  if (blobProblem) problems.push(blobProblem);
  if (Boolean(raw.s3AccessKeyId) !== Boolean(raw.s3SecretAccessKey)) {
    problems.push(
      `${envName('s3-access-key-id')} and ${envName('s3-secret-access-key')}: set both or neither`,
    );
  }
  if (raw.grpcPort !== undefined && !raw.grpcToken) {
    problems.push(`${envName('grpc-token')}: required when ${envName('grpc-port')} is set`);
  }
  if (raw.role === 'http' && (!raw.rpcTarget || !raw.grpcToken)) {
    problems.push(
      `${envName('rpc-target')} and ${envName('grpc-token')}: required with ${envName('role')}=http`,
    );
  }
  if (raw.rpcTarget && raw.role !== 'http') {
    problems.push(`${envName('rpc-target')}: only with ${envName('role')}=http`);
  }
  return problems;
}

/**
 * A cluster node whose attachments sit in a directory of its own would answer "blob is missing"
 * for every upload another node took, so a full cluster node starts only with S3 or with the
 * operator's word that the directory is shared. An http-role node keeps no blobs.
 */
function clusterBlobProblem(raw: Raw): string | null {
  const cluster = Boolean(raw.databaseUrl) && Boolean(raw.redisUrl) && raw.role !== 'http';
  if (!cluster || raw.blobStore !== 'fs' || raw.blobDirShared) return null;
  const dir = join(resolve(raw.dataDir), 'blobs');
  return (
    `${envName('blob-store')}: fs keeps attachments in ${dir}, which other cluster nodes cannot ` +
    `read; set ${envName('blob-store')}=s3 with ${envName('s3-bucket')} (and ${envName('s3-endpoint')} ` +
    `etc.), or ${envName('blob-dir-shared')}=true if every node mounts that same directory`
  );
}

function build(raw: Raw): Config {
  const dataDir = resolve(raw.dataDir);
  return deepFreeze({
    node: { id: raw.nodeId ?? 'node-' + randomBytes(4).toString('hex') },
    http: {
      host: raw.host,
      port: raw.port,
      seedApi: raw.seedApi,
      trustProxy: raw.trustProxy === 'off' ? false : raw.trustProxy,
    },
    tcp: raw.tcpPort !== undefined ? { host: raw.host, port: raw.tcpPort } : null,
    grpc:
      raw.grpcPort !== undefined
        ? { host: raw.host, port: raw.grpcPort, token: raw.grpcToken ?? '' }
        : null,
    role:
      raw.role === 'http'
        ? { kind: 'http' as const, rpcTarget: raw.rpcTarget ?? '', token: raw.grpcToken ?? '' }
        : { kind: 'all' as const },
    drainDelayMs: raw.drainDelayMs,
    store:
      raw.databaseUrl !== undefined
        ? { kind: 'postgres' as const, url: raw.databaseUrl, poolMax: raw.databasePoolMax }
        : {
            kind: 'sqlite' as const,
            dataDir,
            file: join(dataDir, 'parley.db'),
            synchronous: raw.sqliteSynchronous,
            appendThread: raw.sqliteAppendThread === 'on',
          },
    redis:
      raw.redisUrl !== undefined
        ? {
            url: raw.redisUrl,
            cluster: raw.redisCluster,
            presenceTtlMs: raw.presenceTtlMs,
            broadcastMembersMin: raw.broadcastMembersMin,
          }
        : null,
    events: {
      stream: raw.eventsStream,
      streamLengthMax: raw.eventsStreamLengthMax,
      webhookUrls: raw.webhookUrls ?? [],
      webhookSecret: raw.webhookSecret ?? '',
    },
    push: { gateways: raw.pushGateways ?? [], refreshMs: raw.pushRefreshMs },
    log: { level: raw.logLevel },
    logFormat: raw.logFormat,
    limits: limitsOf(raw),
    attachments: {
      types: raw.attachmentTypes,
      blobStore:
        raw.blobStore === 's3'
          ? {
              kind: 's3' as const,
              endpoint: raw.s3Endpoint ?? null,
              region: raw.s3Region,
              bucket: raw.s3Bucket ?? '',
              credentials:
                raw.s3AccessKeyId !== undefined
                  ? {
                      accessKeyId: raw.s3AccessKeyId,
                      secretAccessKey: raw.s3SecretAccessKey ?? '',
                    }
                  : null,
              forcePathStyle: raw.s3ForcePathStyle,
            }
          : { kind: 'fs' as const, dir: join(dataDir, 'blobs'), shared: raw.blobDirShared },
    },
  });
}

/** Every limit has a setting of the same name; the rest keep their defaults. */
function limitsOf(raw: Raw): Limits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS)) {
    const value = (raw as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits as unknown as Limits;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
