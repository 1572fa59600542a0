import Type from 'typebox';
import { isIP } from 'node:net';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { limit, RATES, SIZES } from './limit-settings.js';
import {
  flag,
  int,
  list,
  matching,
  oneOf,
  optional,
  setting,
  splitList,
  text,
  type ValueOf,
} from './setting.js';

// Every setting, in the groups `parley --help` shows them in. A group is a concern an operator
// looks for at once (where it listens, where it stores, how big things may get); the order of
// the groups is the order of the help and of the problems a bad start reports.

const URLS = 'comma-separated http(s) URLs';
const HTTP_URL = '^https?://\\S+$';

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

const TRUST_PROXY = Type.Union(
  [
    Type.Literal('off'),
    Type.Integer({ minimum: 1, maximum: 16 }),
    Type.Array(Type.Refine(Type.String(), isProxyEntry), { minItems: 1 }),
  ],
  {
    description:
      'reverse proxies whose X-Forwarded-For is believed: off, addresses/CIDRs, or a hop count',
    default: 'off',
  },
);

function readTrustProxy(raw: string): unknown {
  const value = raw.trim();
  if (/^\d+$/.test(value)) return Number(value);
  return value === 'off' ? value : splitList(value);
}

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

const SERVER = {
  port: setting('port', int(0, 65535, 'HTTP port (0 picks a free one)', 8080)),
  host: setting('host', text('address to listen on', '0.0.0.0')),
  nodeId: optional('node-id', text("this node's id (generated if unset)")),
  seedApi: setting(
    'seed-api',
    oneOf(
      ['open', 'auth'],
      'seed API access: "auth" needs a bearer token, "open" needs none (as the seeds)',
      'auth',
    ),
  ),
  trustProxy: setting('trust-proxy', TRUST_PROXY, {
    expected: 'off, a hop count from 1 to 16, or proxy addresses/CIDRs (comma-separated)',
    read: readTrustProxy,
  }),
  role: setting(
    'role',
    oneOf(
      ['all', 'http'],
      '"all": a full node; "http": only the seed HTTP API, forwarded to --rpc-target',
      'all',
    ),
  ),
  rpcTarget: optional(
    'rpc-target',
    matching(
      '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):\\d{1,5}$',
      'host:port of the node whose IMService a --role http node forwards to',
    ),
    { expected: 'host:port' },
  ),
  drainDelayMs: setting(
    'drain-delay-ms',
    int(0, 600_000, 'on SIGTERM, report not ready (/readyz 503) this long before closing', 0),
  ),
};

const TRANSPORTS = {
  tcpPort: optional(
    'tcp-port',
    int(0, 65535, 'TCP port of the real-time protocol (Protobuf frames); off unless set'),
  ),
  grpcPort: optional(
    'grpc-port',
    int(0, 65535, 'gRPC port (IMService, ParleyService; docs/rpc.md); off unless set'),
  ),
  grpcToken: optional(
    'grpc-token',
    matching(
      '^[\\x21-\\x7e]{16,512}$',
      'service token of gRPC calls (Bearer), at least 16 characters; also sent by --role http',
    ),
    { secret: true, expected: '16 to 512 printable characters without spaces' },
  ),
};

const LOGGING = {
  logLevel: setting(
    'log-level',
    oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'log level', 'info'),
  ),
  logFormat: setting(
    'log-format',
    oneOf(
      ['auto', 'json', 'pretty'],
      'log lines: "pretty" for people, "json" for collectors, "auto": pretty on a terminal',
      'auto',
    ),
  ),
};

const STORAGE = {
  dataDir: setting('data-dir', text('directory of the embedded database', './data')),
  databaseUrl: optional(
    'database-url',
    matching(
      '^postgres(ql)?://',
      'PostgreSQL URL: cluster mode (default: the embedded SQLite file)',
    ),
    { secret: true, expected: 'a postgres:// or postgresql:// URL' },
  ),
  databasePoolMax: setting(
    'database-pool-max',
    int(1, 1000, 'PostgreSQL connections per node', 20),
  ),
  sqliteSynchronous: setting(
    'sqlite-synchronous',
    oneOf(
      ['normal', 'full'],
      '"normal" survives a process crash; "full" also survives power loss, slower',
      'normal',
    ),
  ),
  sqliteAppendThread: setting(
    'sqlite-append-thread',
    oneOf(
      ['on', 'off'],
      '"on": group commits run on a thread of their own, off the event loop; "off": inline',
      'on',
    ),
  ),
};

const CLUSTER = {
  redisUrl: optional(
    'redis-url',
    matching('^rediss?://', 'Redis URL for the bus, presence and event stream (cluster mode)'),
    { secret: true, expected: 'a redis:// or rediss:// URL' },
  ),
  redisCluster: setting(
    'redis-cluster',
    flag('"true" when PARLEY_REDIS_URL points at a Redis Cluster'),
  ),
  presenceTtlMs: setting(
    'presence-ttl-ms',
    int(1_000, 3_600_000, "how long a dead node's users stay shown online", 30_000),
  ),
  broadcastMembersMin: setting(
    'broadcast-members-min',
    int(1, 10_000_000, 'conversations this big are pushed by one broadcast to all nodes', 100),
  ),
};

const SIGN_IN = {
  sessionIdleMs: setting(
    'session-idle-ms',
    int(
      0,
      10 * 365 * 86_400_000,
      'a session unused for this long expires (0: never)',
      DEFAULT_LIMITS.sessionIdleMs,
    ),
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
  loginRefillMs: limit(
    'login-refill-ms',
    'loginRefillMs',
    'then one more failed login every this many ms',
    86_400_000,
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
};

const ATTACHMENTS = {
  attachmentBytesMax: limit(
    'attachment-bytes-max',
    'attachmentBytesMax',
    'largest attachment upload',
    5 * 2 ** 30,
  ),
  attachmentTypes: setting(
    'attachment-types',
    list(
      `^${MEDIA_TOKEN}/(\\*|${MEDIA_TOKEN})$`,
      'comma-separated content types allowed as attachments (type/subtype, type/*, prefix*)',
      DEFAULT_ATTACHMENT_TYPES,
    ),
    {
      expected: 'comma-separated type/subtype patterns (image/png, image/*, …)',
      read: (raw) => splitList(raw.toLowerCase()),
    },
  ),
  blobStore: setting(
    'blob-store',
    oneOf(
      ['fs', 's3'],
      'where attachment bytes go: "fs" (<data-dir>/blobs) or "s3" (PARLEY_S3_*)',
      'fs',
    ),
  ),
  blobDirShared: setting(
    'blob-dir-shared',
    flag(
      '"true": <data-dir>/blobs is one directory every cluster node mounts (required for fs in a cluster)',
    ),
  ),
  s3Endpoint: optional(
    's3-endpoint',
    matching(HTTP_URL, 'S3-compatible server URL (default: AWS)'),
    {
      expected: 'an http(s) URL',
    },
  ),
  s3Region: setting('s3-region', text('S3 region', 'us-east-1')),
  s3Bucket: optional('s3-bucket', text('S3 bucket of attachments')),
  s3AccessKeyId: optional(
    's3-access-key-id',
    text('S3 access key (default: the AWS SDK credential chain)'),
    { secret: true },
  ),
  s3SecretAccessKey: optional('s3-secret-access-key', text('S3 secret key'), { secret: true }),
  s3ForcePathStyle: setting(
    's3-force-path-style',
    flag('"true" for host/bucket/key URLs (most self-hosted S3 servers)'),
  ),
};

const EVENTS_AND_PUSH = {
  eventsStream: setting('events-stream', text('Redis Stream of the event feed', 'parley:events')),
  eventsStreamLengthMax: setting(
    'events-stream-length-max',
    int(1, 1_000_000_000, 'approximate cap of the event stream', 100_000),
  ),
  webhookUrls: optional(
    'webhook-urls',
    list(HTTP_URL, 'comma-separated URLs that receive every event (POST, signed)'),
    { secret: true, expected: URLS },
  ),
  webhookSecret: optional(
    'webhook-secret',
    text('HMAC-SHA256 key of the webhook signature (required with webhook URLs)'),
    { secret: true },
  ),
  pushGateways: optional(
    'push-gateways',
    list(HTTP_URL, 'comma-separated push gateway URLs devices may register under (none: no push)'),
    { secret: true, expected: URLS },
  ),
  pushRefreshMs: setting(
    'push-refresh-ms',
    int(100, 3_600_000, 'how soon a pusher set on another node counts on this one, in ms', 30_000),
  ),
};

/** The settings by concern, in the order of `parley --help`. */
export const SETTING_GROUPS = [
  { title: 'Server', settings: SERVER },
  { title: 'Logging', settings: LOGGING },
  { title: 'Storage', settings: STORAGE },
  { title: 'Cluster (PostgreSQL and Redis)', settings: CLUSTER },
  { title: 'Real-time TCP and gRPC', settings: TRANSPORTS },
  { title: 'Attachments', settings: ATTACHMENTS },
  { title: 'Events and push', settings: EVENTS_AND_PUSH },
  { title: 'Sign-in and sessions', settings: SIGN_IN },
  { title: 'Limits: sizes, pages and time windows', settings: SIZES },
  { title: 'Limits: connections and rates', settings: RATES },
] as const;

export const SETTINGS = {
  ...SERVER,
  ...LOGGING,
  ...STORAGE,
  ...CLUSTER,
  ...TRANSPORTS,
  ...ATTACHMENTS,
  ...EVENTS_AND_PUSH,
  ...SIGN_IN,
  ...SIZES,
  ...RATES,
};

export type Settings = typeof SETTINGS;
/** The checked values of every setting, before they take the Config's shape. */
export type Raw = { [K in keyof Settings]: ValueOf<Settings[K]> };
