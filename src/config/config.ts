import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.js';

// Configuration flows one way: environment variables and CLI flags become one validated,
// deep-frozen Config at start. Every setting has an environment variable PARLEY_<NAME> and a flag
// --<name>; a flag wins over the environment. A bad value stops the start with a message naming
// the setting, what it accepts and what it got.

export type SeedApiMode = 'open' | 'auth';
/**
 * The reverse proxies whose X-Forwarded-For names the client (PARLEY_TRUST_PROXY): none, their
 * addresses and CIDRs (or proxy-addr's `loopback`, `linklocal`, `uniquelocal`), or a hop count.
 */
export type TrustProxy = false | number | readonly string[];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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

interface Setting<T> {
  /** The flag name; the environment variable is PARLEY_ + its upper snake case. */
  readonly name: string;
  readonly help: string;
  readonly fallback: T;
  /** Returns the parsed value, or a string saying what is accepted. */
  readonly parse: (raw: string) => T | { readonly expected: string };
}

/** Settings whose values may hold credentials: a bad one is reported without its value. */
const SECRET_SETTINGS = new Set([
  'database-url',
  'redis-url',
  'webhook-urls',
  'webhook-secret',
  'push-gateways',
  's3-access-key-id',
  's3-secret-access-key',
  'grpc-token',
]);

const int = (min: number, max: number) => (raw: string) => {
  const n = Number(raw);
  return /^-?\d+$/.test(raw.trim()) && n >= min && n <= max
    ? n
    : { expected: `an integer from ${min} to ${max}` };
};

/** Comma-separated http(s) URLs, trimmed. */
const httpUrls = (expected: string) => (raw: string) => {
  const urls = raw.split(',').map((u) => u.trim());
  return urls.every((u) => /^https?:\/\/\S+$/.test(u)) ? urls.join(',') : { expected };
};

const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string) =>
    (values as string[]).includes(raw) ? (raw as T) : { expected: `one of ${values.join(', ')}` };

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR, or a proxy-addr name. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [ip = '', bits, extra] = entry.split('/');
  const family = isIP(ip);
  if (family === 0 || extra !== undefined) return false;
  return (
    bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  );
}

const trustProxy = (raw: string): TrustProxy | { expected: string } => {
  const value = raw.trim();
  if (value === 'off') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops >= 1 && hops <= 16) return hops;
  }
  const entries = value.split(',').map((e) => e.trim());
  return !/^\d+$/.test(value) && entries.every(isProxyEntry)
    ? entries
    : { expected: 'off, a hop count from 1 to 16, or proxy addresses/CIDRs (comma-separated)' };
};

const text = (raw: string) => (raw.trim() !== '' ? raw : { expected: 'a non-empty string' });

/** The attachment allow-list a fresh install runs with: media, PDF, text, office files, archives. */
const DEFAULT_ATTACHMENT_TYPES = [
  'image/*',
  'audio/*',
  'video/*',
  'application/pdf',
  'text/plain',
  'text/markdown',
  'text/csv',
  'application/json',
  'application/zip',
  'application/gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.*',
  'application/vnd.oasis.opendocument.*',
];
const MEDIA_TOKEN = "[a-z0-9!#$%&'*+.^_`|~-]+";
/** An allow-list entry: `type/subtype`, `type/*`, or a subtype prefix ending in `*`. */
const TYPE_PATTERN_RE = new RegExp(`^${MEDIA_TOKEN}/(\\*|${MEDIA_TOKEN})$`);

const limit = (name: string, key: keyof Limits, help: string, max: number): Setting<number> => ({
  name,
  help,
  fallback: DEFAULT_LIMITS[key],
  parse: int(1, max),
});

export const SETTINGS = {
  port: {
    name: 'port',
    help: 'HTTP port (0 picks a free one)',
    fallback: 8080,
    parse: int(0, 65535),
  },
  host: { name: 'host', help: 'address to listen on', fallback: '0.0.0.0', parse: text },
  trustProxy: {
    name: 'trust-proxy',
    help: 'reverse proxies whose X-Forwarded-For is believed: off, addresses/CIDRs, or a hop count',
    fallback: false,
    parse: trustProxy,
  },
  dataDir: {
    name: 'data-dir',
    help: 'directory of the embedded database',
    fallback: './data',
    parse: text,
  },
  seedApi: {
    name: 'seed-api',
    help: 'seed API access: "auth" needs a bearer token, "open" needs none (as the seeds)',
    fallback: 'auth',
    parse: oneOf<SeedApiMode>('open', 'auth'),
  },
  logLevel: {
    name: 'log-level',
    help: 'log level',
    fallback: 'info',
    parse: oneOf<LogLevel>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  nodeId: {
    name: 'node-id',
    help: "this node's id (generated if unset)",
    fallback: '',
    parse: text,
  },
  sqliteSynchronous: {
    name: 'sqlite-synchronous',
    help: '"normal" survives a process crash; "full" also survives power loss, slower',
    fallback: 'normal',
    parse: oneOf('normal', 'full'),
  },
  sqliteAppendThread: {
    name: 'sqlite-append-thread',
    help: '"on": group commits run on a thread of their own, off the event loop; "off": inline',
    fallback: 'on',
    parse: oneOf('on', 'off'),
  },
  httpBodyBytesMax: limit(
    'http-body-bytes-max',
    'httpBodyBytesMax',
    'largest HTTP request body',
    64 << 20,
  ),
  messageBodyBytesMax: limit(
    'message-body-bytes-max',
    'messageBodyBytesMax',
    'largest message body (JSON bytes)',
    16 << 20,
  ),
  textCharsMax: limit('text-chars-max', 'textCharsMax', 'longest message text', 1 << 20),
  pullCountMax: limit('pull-count-max', 'pullCountMax', 'largest page of a pull', 10_000),
  groupMembersMax: limit(
    'group-members-max',
    'groupMembersMax',
    'most members of a group',
    1_000_000,
  ),
  commitBatchMax: limit('commit-batch-max', 'commitBatchMax', 'most sends in one commit', 100_000),
  databaseUrl: {
    name: 'database-url',
    help: 'PostgreSQL URL: cluster mode (default: the embedded SQLite file)',
    fallback: '',
    parse: (raw: string) =>
      /^postgres(ql)?:\/\//.test(raw) ? raw : { expected: 'a postgres:// or postgresql:// URL' },
  },
  databasePoolMax: {
    name: 'database-pool-max',
    help: 'PostgreSQL connections per node',
    fallback: 20,
    parse: int(1, 1000),
  },
  redisUrl: {
    name: 'redis-url',
    help: 'Redis URL for the bus, presence and event stream (cluster mode)',
    fallback: '',
    parse: (raw: string) =>
      /^rediss?:\/\//.test(raw) ? raw : { expected: 'a redis:// or rediss:// URL' },
  },
  redisCluster: {
    name: 'redis-cluster',
    help: '"true" when PARLEY_REDIS_URL points at a Redis Cluster',
    fallback: false,
    parse: (raw: string) =>
      raw === 'true' ? true : raw === 'false' ? false : { expected: 'true or false' },
  },
  presenceTtlMs: {
    name: 'presence-ttl-ms',
    help: "how long a dead node's users stay shown online",
    fallback: 30_000,
    parse: int(1_000, 3_600_000),
  },
  broadcastMembersMin: {
    name: 'broadcast-members-min',
    help: 'conversations this big are pushed by one broadcast to all nodes',
    fallback: 100,
    parse: int(1, 10_000_000),
  },
  eventsStream: {
    name: 'events-stream',
    help: 'Redis Stream of the event feed',
    fallback: 'parley:events',
    parse: text,
  },
  eventsStreamLengthMax: {
    name: 'events-stream-length-max',
    help: 'approximate cap of the event stream',
    fallback: 100_000,
    parse: int(1, 1_000_000_000),
  },
  webhookUrls: {
    name: 'webhook-urls',
    help: 'comma-separated URLs that receive every event (POST, signed)',
    fallback: '',
    parse: httpUrls('comma-separated http(s) URLs'),
  },
  pushGateways: {
    name: 'push-gateways',
    help: 'comma-separated push gateway URLs devices may register under (none: no push)',
    fallback: '',
    parse: httpUrls('comma-separated http(s) URLs'),
  },
  pushRefreshMs: {
    name: 'push-refresh-ms',
    help: 'how soon a pusher set on another node counts on this one, in ms',
    fallback: 30_000,
    parse: int(100, 3_600_000),
  },
  webhookSecret: {
    name: 'webhook-secret',
    help: 'HMAC-SHA256 key of the webhook signature (required with webhook URLs)',
    fallback: '',
    parse: text,
  },
  tcpPort: {
    name: 'tcp-port',
    help: 'TCP port of the real-time protocol (Protobuf frames); off unless set',
    fallback: -1,
    parse: int(0, 65535),
  },
  grpcPort: {
    name: 'grpc-port',
    help: 'gRPC port (IMService, ParleyService; docs/rpc.md); off unless set',
    fallback: -1,
    parse: int(0, 65535),
  },
  grpcToken: {
    name: 'grpc-token',
    help: 'service token of gRPC calls (Bearer), at least 16 characters; also sent by --role http',
    fallback: '',
    parse: (raw: string) =>
      /^[\x21-\x7e]{16,512}$/.test(raw)
        ? raw
        : { expected: '16 to 512 printable characters without spaces' },
  },
  role: {
    name: 'role',
    help: '"all": a full node; "http": only the seed HTTP API, forwarded to --rpc-target',
    fallback: 'all',
    parse: oneOf('all', 'http'),
  },
  rpcTarget: {
    name: 'rpc-target',
    help: 'host:port of the node whose IMService a --role http node forwards to',
    fallback: '',
    parse: (raw: string) =>
      /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(raw) ? raw : { expected: 'host:port' },
  },
  drainDelayMs: {
    name: 'drain-delay-ms',
    help: 'on SIGTERM, report not ready (/readyz 503) this long before closing',
    fallback: 0,
    parse: int(0, 600_000),
  },
  frameBytesMax: limit('frame-bytes-max', 'frameBytesMax', 'largest real-time frame', 16 << 20),
  helloTimeoutMs: limit('hello-timeout-ms', 'helloTimeoutMs', 'time to send hello', 600_000),
  heartbeatIntervalMs: limit(
    'heartbeat-interval-ms',
    'heartbeatIntervalMs',
    'ping a link quiet this long',
    600_000,
  ),
  sendRatePerSec: limit(
    'send-rate-per-sec',
    'sendRatePerSec',
    'sends per second per connection',
    1_000_000,
  ),
  sendBurstMax: limit('send-burst-max', 'sendBurstMax', 'burst of sends per connection', 1_000_000),
  sendQueueBytesMax: limit(
    'send-queue-bytes-max',
    'sendQueueBytesMax',
    'bytes queued to a slow connection',
    1 << 30,
  ),
  pageBytesMax: limit(
    'page-bytes-max',
    'pageBytesMax',
    'message-body bytes in one page of history',
    1 << 30,
  ),
  userRequestsInFlightMax: limit(
    'user-requests-in-flight-max',
    'userRequestsInFlightMax',
    'heavy reads of one user in flight on a node',
    100_000,
  ),
  connectionsPerUserMax: limit(
    'connections-per-user-max',
    'connectionsPerUserMax',
    'connections of one user',
    100_000,
  ),
  loginSourceFailuresMax: limit(
    'login-source-failures-max',
    'loginSourceFailuresMax',
    'failed logins of a username from one address or device before it slows down',
    1_000_000,
  ),
  loginAddressFailuresMax: limit(
    'login-address-failures-max',
    'loginAddressFailuresMax',
    'failed logins from an address before logins slow down',
    1_000_000,
  ),
  loginUserFailuresMax: limit(
    'login-user-failures-max',
    'loginUserFailuresMax',
    'failed logins of a username before its logins from unknown sources slow down',
    1_000_000,
  ),
  loginKnownAddressesMax: limit(
    'login-known-addresses-max',
    'loginKnownAddressesMax',
    'addresses remembered per user as known login sources',
    1_000,
  ),
  loginKnownDevicesMax: limit(
    'login-known-devices-max',
    'loginKnownDevicesMax',
    'device keys kept per user',
    1_000,
  ),
  loginKnownSourceIdleMs: limit(
    'login-known-source-idle-ms',
    'loginKnownSourceIdleMs',
    'a known address or device key unused this long is forgotten',
    10 * 365 * 86_400_000,
  ),
  sessionIdleMs: {
    name: 'session-idle-ms',
    help: 'a session unused for this long expires (0: never)',
    fallback: DEFAULT_LIMITS.sessionIdleMs,
    parse: int(0, 10 * 365 * 86_400_000),
  },
  loginRefillMs: limit(
    'login-refill-ms',
    'loginRefillMs',
    'then one more failed login every this many ms',
    86_400_000,
  ),
  recallWindowMs: limit(
    'recall-window-ms',
    'recallWindowMs',
    'time a sender may recall a message',
    365 * 86_400_000,
  ),
  attachmentBytesMax: limit(
    'attachment-bytes-max',
    'attachmentBytesMax',
    'largest attachment upload',
    5 * 2 ** 30,
  ),
  editWindowMs: limit(
    'edit-window-ms',
    'editWindowMs',
    'time a sender may edit a text message',
    365 * 86_400_000,
  ),
  reactionCharsMax: limit(
    'reaction-chars-max',
    'reactionCharsMax',
    'longest reaction (code points)',
    64,
  ),
  reactionsPerUserMax: limit(
    'reactions-per-user-max',
    'reactionsPerUserMax',
    'distinct reactions of one user on one message',
    1_000,
  ),
  pinsMax: limit('pins-max', 'pinsMax', 'conversations one user may pin', 10_000),
  previewCharsMax: limit(
    'preview-chars-max',
    'previewCharsMax',
    'longest text in a last-message preview',
    16_000,
  ),
  contactNoteCharsMax: limit(
    'contact-note-chars-max',
    'contactNoteCharsMax',
    'longest note on a contact request',
    16_000,
  ),
  contactPageCountMax: limit(
    'contact-page-count-max',
    'contactPageCountMax',
    'largest page of contacts, requests or blocks',
    10_000,
  ),
  displayNameCharsMax: limit(
    'display-name-chars-max',
    'displayNameCharsMax',
    'longest profile display name',
    1_000,
  ),
  bioCharsMax: limit('bio-chars-max', 'bioCharsMax', 'longest profile bio', 100_000),
  firstContactsBurstMax: limit(
    'first-contacts-burst-max',
    'firstContactsBurstMax',
    'new direct conversations and contact requests of one user at once',
    1_000_000,
  ),
  firstContactsRefillMs: limit(
    'first-contacts-refill-ms',
    'firstContactsRefillMs',
    'one more first contact of a user allowed after this long',
    86_400_000,
  ),
  profilePushBurstMax: limit(
    'profile-push-burst-max',
    'profilePushBurstMax',
    'profile pushes of one user at once',
    1_000_000,
  ),
  profilePushRefillMs: limit(
    'profile-push-refill-ms',
    'profilePushRefillMs',
    'one more profile push of a user allowed after this long',
    86_400_000,
  ),
  userSearchCountMax: limit(
    'user-search-count-max',
    'userSearchCountMax',
    'largest page of a user search',
    10_000,
  ),
  searchBurstMax: limit(
    'search-burst-max',
    'searchBurstMax',
    'message searches of one user at once',
    1_000_000,
  ),
  searchRefillMs: limit(
    'search-refill-ms',
    'searchRefillMs',
    'one more message search of a user allowed after this long',
    86_400_000,
  ),
  messageSearchCountMax: limit(
    'message-search-count-max',
    'messageSearchCountMax',
    'largest page of a message search',
    1_000,
  ),
  attachmentTypes: {
    name: 'attachment-types',
    help: 'comma-separated content types allowed as attachments (type/subtype, type/*, prefix*)',
    fallback: DEFAULT_ATTACHMENT_TYPES.join(','),
    parse: (raw: string) => {
      const types = raw.split(',').map((t) => t.trim().toLowerCase());
      return types.every((t) => TYPE_PATTERN_RE.test(t))
        ? types.join(',')
        : { expected: 'comma-separated type/subtype patterns (image/png, image/*, …)' };
    },
  },
  blobStore: {
    name: 'blob-store',
    help: 'where attachment bytes go: "fs" (<data-dir>/blobs) or "s3" (PARLEY_S3_*)',
    fallback: 'fs',
    parse: oneOf('fs', 's3'),
  },
  blobDirShared: {
    name: 'blob-dir-shared',
    help: '"true": <data-dir>/blobs is one directory every cluster node mounts (required for fs in a cluster)',
    fallback: false,
    parse: (raw: string) =>
      raw === 'true' ? true : raw === 'false' ? false : { expected: 'true or false' },
  },
  s3Endpoint: {
    name: 's3-endpoint',
    help: 'S3-compatible server URL (default: AWS)',
    fallback: '',
    parse: (raw: string) => (/^https?:\/\/\S+$/.test(raw) ? raw : { expected: 'an http(s) URL' }),
  },
  s3Region: { name: 's3-region', help: 'S3 region', fallback: 'us-east-1', parse: text },
  s3Bucket: { name: 's3-bucket', help: 'S3 bucket of attachments', fallback: '', parse: text },
  s3AccessKeyId: {
    name: 's3-access-key-id',
    help: 'S3 access key (default: the AWS SDK credential chain)',
    fallback: '',
    parse: text,
  },
  s3SecretAccessKey: {
    name: 's3-secret-access-key',
    help: 'S3 secret key',
    fallback: '',
    parse: text,
  },
  s3ForcePathStyle: {
    name: 's3-force-path-style',
    help: '"true" for host/bucket/key URLs (most self-hosted S3 servers)',
    fallback: false,
    parse: (raw: string) =>
      raw === 'true' ? true : raw === 'false' ? false : { expected: 'true or false' },
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Raw = {
  [K in keyof Settings]: ReturnType<Settings[K]['parse']> extends infer R
    ? Exclude<R, { expected: string }>
    : never;
};

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
  const raw = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const env_ = envName(setting.name);
    const fromFlag = flags[setting.name];
    const value = fromFlag ?? env[env_];
    // An empty variable means "unset"; an empty flag was typed on purpose and is checked.
    if (value === undefined || (value === '' && fromFlag === undefined)) {
      raw[key] = setting.fallback;
      continue;
    }
    const parsed = setting.parse(value);
    if (typeof parsed === 'object' && parsed !== null && 'expected' in parsed) {
      const source = fromFlag !== undefined ? `--${setting.name}` : env_;
      const got = SECRET_SETTINGS.has(setting.name) ? 'a value (not shown)' : JSON.stringify(value);
      problems.push(`${source}: expected ${String(parsed.expected)}, got ${got}`);
    } else {
      raw[key] = parsed;
    }
  }
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
  if (raw.grpcPort !== -1 && !raw.grpcToken) {
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
  if (problems.length > 0) throw new ConfigError(problems);
  return build(raw as Raw);
}

/**
 * A cluster node whose attachments sit in a directory of its own would answer "blob is missing"
 * for every upload another node took, so a full cluster node starts only with S3 or with the
 * operator's word that the directory is shared. An http-role node keeps no blobs.
 */
function clusterBlobProblem(raw: Record<string, unknown>): string | null {
  const cluster = Boolean(raw.databaseUrl) && Boolean(raw.redisUrl) && raw.role !== 'http';
  if (!cluster || raw.blobStore !== 'fs' || raw.blobDirShared === true) return null;
  const dir = join(resolve(String(raw.dataDir)), 'blobs');
  return (
    `${envName('blob-store')}: fs keeps attachments in ${dir}, which other cluster nodes cannot ` +
    `read; set ${envName('blob-store')}=s3 with ${envName('s3-bucket')} (and ${envName('s3-endpoint')} ` +
    `etc.), or ${envName('blob-dir-shared')}=true if every node mounts that same directory`
  );
}

function build(raw: Raw): Config {
  const dataDir = resolve(raw.dataDir);
  return deepFreeze({
    node: { id: raw.nodeId !== '' ? raw.nodeId : 'node-' + randomBytes(4).toString('hex') },
    http: { host: raw.host, port: raw.port, seedApi: raw.seedApi, trustProxy: raw.trustProxy },
    tcp: raw.tcpPort >= 0 ? { host: raw.host, port: raw.tcpPort } : null,
    grpc: raw.grpcPort >= 0 ? { host: raw.host, port: raw.grpcPort, token: raw.grpcToken } : null,
    role:
      raw.role === 'http'
        ? { kind: 'http' as const, rpcTarget: raw.rpcTarget, token: raw.grpcToken }
        : { kind: 'all' as const },
    drainDelayMs: raw.drainDelayMs,
    store:
      raw.databaseUrl !== ''
        ? { kind: 'postgres' as const, url: raw.databaseUrl, poolMax: raw.databasePoolMax }
        : {
            kind: 'sqlite' as const,
            dataDir,
            file: join(dataDir, 'parley.db'),
            synchronous: raw.sqliteSynchronous,
            appendThread: raw.sqliteAppendThread === 'on',
          },
    redis:
      raw.redisUrl !== ''
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
      webhookUrls: raw.webhookUrls === '' ? [] : raw.webhookUrls.split(','),
      webhookSecret: raw.webhookSecret,
    },
    push: {
      gateways: raw.pushGateways === '' ? [] : raw.pushGateways.split(','),
      refreshMs: raw.pushRefreshMs,
    },
    log: { level: raw.logLevel },
    limits: {
      ...DEFAULT_LIMITS,
      httpBodyBytesMax: raw.httpBodyBytesMax,
      messageBodyBytesMax: raw.messageBodyBytesMax,
      textCharsMax: raw.textCharsMax,
      pullCountMax: raw.pullCountMax,
      groupMembersMax: raw.groupMembersMax,
      commitBatchMax: raw.commitBatchMax,
      frameBytesMax: raw.frameBytesMax,
      helloTimeoutMs: raw.helloTimeoutMs,
      heartbeatIntervalMs: raw.heartbeatIntervalMs,
      sendRatePerSec: raw.sendRatePerSec,
      sendBurstMax: raw.sendBurstMax,
      sendQueueBytesMax: raw.sendQueueBytesMax,
      pageBytesMax: raw.pageBytesMax,
      userRequestsInFlightMax: raw.userRequestsInFlightMax,
      connectionsPerUserMax: raw.connectionsPerUserMax,
      loginSourceFailuresMax: raw.loginSourceFailuresMax,
      loginAddressFailuresMax: raw.loginAddressFailuresMax,
      loginUserFailuresMax: raw.loginUserFailuresMax,
      loginRefillMs: raw.loginRefillMs,
      loginKnownAddressesMax: raw.loginKnownAddressesMax,
      loginKnownDevicesMax: raw.loginKnownDevicesMax,
      loginKnownSourceIdleMs: raw.loginKnownSourceIdleMs,
      sessionIdleMs: raw.sessionIdleMs,
      recallWindowMs: raw.recallWindowMs,
      attachmentBytesMax: raw.attachmentBytesMax,
      editWindowMs: raw.editWindowMs,
      reactionCharsMax: raw.reactionCharsMax,
      reactionsPerUserMax: raw.reactionsPerUserMax,
      pinsMax: raw.pinsMax,
      previewCharsMax: raw.previewCharsMax,
      contactNoteCharsMax: raw.contactNoteCharsMax,
      contactPageCountMax: raw.contactPageCountMax,
      displayNameCharsMax: raw.displayNameCharsMax,
      bioCharsMax: raw.bioCharsMax,
      userSearchCountMax: raw.userSearchCountMax,
      messageSearchCountMax: raw.messageSearchCountMax,
      searchBurstMax: raw.searchBurstMax,
      searchRefillMs: raw.searchRefillMs,
      firstContactsBurstMax: raw.firstContactsBurstMax,
      firstContactsRefillMs: raw.firstContactsRefillMs,
      profilePushBurstMax: raw.profilePushBurstMax,
      profilePushRefillMs: raw.profilePushRefillMs,
    },
    attachments: {
      types: raw.attachmentTypes.split(','),
      blobStore:
        raw.blobStore === 's3'
          ? {
              kind: 's3' as const,
              endpoint: raw.s3Endpoint !== '' ? raw.s3Endpoint : null,
              region: raw.s3Region,
              bucket: raw.s3Bucket,
              credentials:
                raw.s3AccessKeyId !== ''
                  ? { accessKeyId: raw.s3AccessKeyId, secretAccessKey: raw.s3SecretAccessKey }
                  : null,
              forcePathStyle: raw.s3ForcePathStyle,
            }
          : { kind: 'fs' as const, dir: join(dataDir, 'blobs'), shared: raw.blobDirShared },
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** One line per setting, for `parley --help`. */
export function describeSettings(): string {
  return Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .map(
      (s) =>
        `  --${s.name.padEnd(24)} ${envName(s.name).padEnd(32)} ${s.help}${shownDefault(s.fallback)}`,
    )
    .join('\n');
}

function shownDefault(fallback: unknown): string {
  if (fallback === '' || fallback === -1) return '';
  return ` (default ${JSON.stringify(fallback)})`;
}
