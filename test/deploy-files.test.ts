// Proves, without Docker, that docker-compose.yml, deploy/nginx.conf and the Dockerfile keep their
// promises: one image build that every node runs; every node's environment passes the real config
// check and puts attachments in the bucket the one-shot MinIO job creates; the seed API mode is
// stated; the health check follows PARLEY_PORT (run for real against a Parley server); nginx
// re-resolves node names and names every node on the right ports, and the real `nginx -t` accepts
// its configuration.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseDocument, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { loadConfig } from '../src/config/index.js';
import { startTestServer, type TestServer } from '../src/test-support/server.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
/** The first open-source nginx whose upstream `server` takes `resolve`. */
const NGINX_RESOLVE_SINCE = [1, 27, 3] as const;
const HEALTHCHECK_TIMEOUT_MS = 15_000;

interface Service {
  readonly image?: string;
  readonly build?: unknown;
  readonly environment?: Record<string, string>;
  readonly depends_on?: Record<string, { condition: string }>;
  readonly healthcheck?: { test: string | string[] };
  readonly command?: string | string[];
  readonly entrypoint?: string | string[];
  readonly volumes?: string[];
}

/** Compose's own interpolation with an empty environment: `${X:-default}`, `${X}`, `$$`. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z0-9_]+)(?::-([^}]*))?\}/g, (whole, _name, fallback) =>
    whole === '$$' ? '$' : ((fallback as string | undefined) ?? ''),
  );
}

function loadCompose() {
  const doc = parseDocument(read('docker-compose.yml'), { merge: true });
  assert.deepEqual(doc.errors, [], 'docker-compose.yml parses');
  const services = (doc.toJS({ maxAliasCount: -1 }) as { services: Record<string, Service> })
    .services;
  const envOf = (s: Service): Record<string, string> =>
    Object.fromEntries(
      Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
    );
  // A Parley node: a service that builds the image or runs the image that one builds.
  const built = Object.values(services).filter((s) => s.build !== undefined);
  const nodes = Object.entries(services).filter(
    ([, s]) => s.build !== undefined || built.some((b) => b.image === s.image),
  );
  return { doc, services, envOf, built, nodes };
}

describe('docker-compose.yml', () => {
  const { doc, services, envOf, built, nodes } = loadCompose();

  it('builds the image once and runs it as every node', () => {
    assert.equal(built.length, 1, 'exactly one service has build:');
    const image = built[0]!.image;
    assert.ok(image, 'the built image is named, so that the other nodes can run it');
    assert.ok(nodes.length >= 2, 'a cluster has two nodes or more');
    for (const [name, s] of nodes) assert.equal(s.image, image, `${name} runs the built image`);
    const ids = nodes.map(([, s]) => envOf(s).PARLEY_NODE_ID);
    assert.equal(new Set(ids).size, nodes.length, `node ids are unique: ${ids.join(', ')}`);
  });

  it("gives every node settings the real config check accepts, with attachments on MinIO's bucket", () => {
    const minio = services.minio;
    const init = services['minio-init'];
    assert.ok(minio && init, 'a minio service and its one-shot minio-init');
    assert.match(String(minio.image), /^minio\/minio:/);
    assert.match(String(init.image), /^minio\/mc:/);
    const script = interpolate([init.entrypoint, init.command].flat().join(' '));
    const bucket = /mc mb --ignore-existing \w+\/([a-z0-9.-]+)/.exec(script)?.[1];
    assert.ok(bucket, `minio-init creates a bucket: ${script}`);
    assert.match(script, /mc alias set \w+ http:\/\/minio:9000 /);
    assert.deepEqual(init.depends_on?.minio, { condition: 'service_healthy' });
    const root = envOf(minio);

    for (const [name, s] of nodes) {
      const env = envOf(s);
      const config = loadConfig(env); // throws a ConfigError on any refused setting
      assert.equal(config.store.kind, 'postgres', name);
      assert.equal(new URL(env.PARLEY_DATABASE_URL!).hostname, 'postgres', name);
      assert.equal(new URL(env.PARLEY_REDIS_URL!).hostname, 'redis', name);
      const blobs = config.attachments.blobStore;
      assert.equal(blobs.kind, 's3', `${name} keeps attachments in S3`);
      assert.ok(blobs.kind === 's3');
      assert.equal(blobs.endpoint, 'http://minio:9000', name);
      assert.equal(blobs.bucket, bucket, `${name} uses the bucket minio-init creates`);
      assert.equal(blobs.forcePathStyle, true, `${name}: MinIO wants path-style URLs`);
      assert.deepEqual(
        blobs.credentials,
        { accessKeyId: root.MINIO_ROOT_USER, secretAccessKey: root.MINIO_ROOT_PASSWORD },
        name,
      );
      assert.deepEqual(envOf(init), root, 'minio-init logs in with the same key');
      assert.deepEqual(s.depends_on?.['minio-init'], {
        condition: 'service_completed_successfully',
      });
    }
  });

  it('states the seed API mode, with a comment on what it means', () => {
    for (const [name, s] of nodes) {
      assert.ok(['open', 'auth'].includes(envOf(s).PARLEY_SEED_API ?? ''), name);
    }
    const env = doc.getIn(['x-parley', 'environment'], true) as YAMLMap<Scalar, unknown>;
    const pair = env.items.find((p: Pair<Scalar, unknown>) => p.key.value === 'PARLEY_SEED_API');
    assert.ok(pair, 'the shared node settings name PARLEY_SEED_API');
    assert.match(String(pair.key.commentBefore), /bearer token/);
  });

  it('leaves node health to the image (PARLEY_PORT) and starts nginx once nodes are healthy', () => {
    for (const [name, s] of nodes) {
      if (s.healthcheck === undefined) continue;
      const test = [s.healthcheck.test].flat().join(' ');
      assert.match(test, /PARLEY_PORT/, `${name}'s own health check follows PARLEY_PORT`);
      assert.doesNotMatch(test, /:\d{2,5}\//, `${name}'s health check names no fixed port`);
    }
    const nginx = services.nginx;
    assert.ok(nginx);
    for (const [name] of nodes) {
      assert.deepEqual(nginx.depends_on?.[name], { condition: 'service_healthy' }, name);
    }
    assert.ok(nginx.volumes?.includes('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro'));
    const version = /^nginx:(\d+)\.(\d+)\.(\d+)$/.exec(String(nginx.image));
    assert.ok(version, `nginx is pinned to a release: ${nginx.image}`);
    assert.ok(atLeast(version.slice(1).map(Number), NGINX_RESOLVE_SINCE), String(nginx.image));
  });
});

describe('the Dockerfile', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n/g, '');
  const healthcheck = /^HEALTHCHECK .*?\bCMD (.+)$/m.exec(dockerfile)?.[1];
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('builds what `npm start` runs, and runs it as a user without privileges', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(cmd);
    // `npm start` builds when stale, then serves dist/cli.js's `serve`; the image built already.
    assert.equal((JSON.parse(cmd) as string[]).join(' '), 'node dist/cli.js serve');
    assert.equal(pkg.scripts.start, 'node scripts/start.mjs');
    assert.match(dockerfile, /^RUN npm run build\b/m);
    assert.match(dockerfile, /^COPY scripts\/build\.mjs /m, 'what npm run build runs');
    // What `npm run build` reads (tsconfig.json's src, web/ with its SDK alias into src), and
    // what the server reads at run time (proto/, package.json, web/dist).
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'proto',
      'src',
      'web',
    ]) {
      assert.match(dockerfile, new RegExp(`^COPY .*\\b${path.replace('.', '\\.')}\\b`, 'm'), path);
    }
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1)!), `USER ${users.at(-1)}`);
  });

  it('checks health with node (the slim image has no curl) on PARLEY_PORT', () => {
    assert.ok(healthcheck, 'a HEALTHCHECK');
    assert.match(healthcheck, /^node -e /);
    assert.doesNotMatch(healthcheck, /curl|wget/);
    assert.match(healthcheck, /process\.env\.PARLEY_PORT/);
    assert.match(healthcheck, /\/healthz/);
  });

  it('passes against a live server on the port PARLEY_PORT names, and fails on another', async () => {
    assert.ok(healthcheck);
    const port = new URL(server.url).port;
    assert.equal(await shell(healthcheck, { PARLEY_PORT: port }), 0, 'healthy on PARLEY_PORT');
    assert.equal(await shell(healthcheck, { PARLEY_PORT: '1' }), 1, 'unhealthy where none listens');
  });
});

describe('deploy/nginx.conf', () => {
  const conf = read('deploy/nginx.conf');
  const { envOf, nodes } = loadCompose();
  const block = (name: string): string => {
    const start = conf.search(new RegExp(`^${name} \\{`, 'm'));
    assert.ok(start >= 0, `a ${name} block`);
    const end = conf.indexOf('\n}', start);
    return conf.slice(start, end);
  };
  const upstream = (inside: string): string[] =>
    [...inside.matchAll(/^\s*server ([^;]+);/gm)]
      .map((m) => m[1]!)
      .filter((line) => !/^\s*listen/.test(line) && /:\d+/.test(line));

  it('re-resolves node names through Docker DNS, in HTTP and in the TCP stream', () => {
    for (const name of ['http', 'stream']) {
      const inside = block(name);
      assert.match(inside, /^\s*resolver 127\.0\.0\.11 [^;]*\bvalid=\d+s\b[^;]*;/m, name);
      assert.match(inside, /^\s*zone \S+ \d+k;/m, `${name}: the upstream is in shared memory`);
      const servers = upstream(inside);
      assert.ok(servers.length > 0, name);
      for (const s of servers) assert.match(s, /\bresolve\b/, `${name}: server ${s}`);
    }
  });

  it('sends HTTP and WebSocket to every node on PARLEY_PORT, and the TCP protocol to PARLEY_TCP_PORT', () => {
    const hosts = (inside: string) =>
      upstream(inside)
        .map((s) => s.split(' ')[0])
        .sort();
    const want = (key: 'PARLEY_PORT' | 'PARLEY_TCP_PORT') =>
      nodes.map(([name, s]) => `${name}:${envOf(s)[key]}`).sort();
    assert.deepEqual(hosts(block('http')), want('PARLEY_PORT'));
    assert.deepEqual(hosts(block('stream')), want('PARLEY_TCP_PORT'));
    const ws = /location \/ws \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    assert.match(ws, /proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(ws, /proxy_set_header Connection \$connection_upgrade;/);
    assert.match(ws, /proxy_http_version 1\.1;/);
  });

  it('passes the real `nginx -t`', (t) => {
    const nginx = findNginx();
    if (typeof nginx === 'string') {
      if (process.env.CI === 'true') assert.fail(nginx);
      t.skip(nginx);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'parley-nginx-'));
    try {
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, nginxForSyntaxCheck(conf, nginx, dir));
      const res = spawnSync(
        nginx.bin,
        [
          '-t',
          '-p',
          `${dir}/`,
          '-c',
          file,
          '-e',
          join(dir, 'error.log'),
          '-g',
          `pid ${dir}/nginx.pid;`,
        ],
        { encoding: 'utf8', timeout: HEALTHCHECK_TIMEOUT_MS },
      );
      assert.equal(res.status, 0, `${res.stderr}\n--- checked:\n${readFileSync(file, 'utf8')}`);
      assert.match(res.stderr, /syntax is ok/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `command` as Docker's shell-form CMD does; resolves with its exit code. */
function shell(command: string, env: Record<string, string>): Promise<number | null> {
  // The server under test runs in this process: the check must not block its event loop.
  const child = spawn('/bin/sh', ['-c', command], {
    env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`, ...env },
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), HEALTHCHECK_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

interface Nginx {
  readonly bin: string;
  readonly version: number[];
  /** The stream module to load, when this build has it as a dynamic module. */
  readonly streamModule: string | null;
}

/** The local nginx, or why there is none that can check this configuration. */
function findNginx(): Nginx | string {
  const bin = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
  if (!bin) return 'nginx is not installed (apt-get install nginx libnginx-mod-stream)';
  const info = spawnSync(bin, ['-V'], { encoding: 'utf8' }).stderr;
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(info)?.slice(1).map(Number);
  if (!version) return `cannot read the version of ${bin}: ${info}`;
  if (!/--with-stream\b/.test(info)) return `${bin} is built without the stream module`;
  if (!/--with-stream=dynamic\b/.test(info)) return { bin, version, streamModule: null };
  const modules = /--modules-path=(\S+)/.exec(info)?.[1] ?? '/usr/lib/nginx/modules';
  const streamModule = join(modules, 'ngx_stream_module.so');
  if (!existsSync(streamModule)) {
    return `${streamModule} is missing (apt-get install libnginx-mod-stream)`;
  }
  return { bin, version, streamModule };
}

/**
 * The configuration as the local nginx can check it: node names become 127.0.0.1 (no Docker DNS
 * here), `resolve` goes where this nginx predates it, the stream module is loaded where it is
 * dynamic, and temporary files go to `dir`. Everything else is checked as written.
 */
function nginxForSyntaxCheck(conf: string, nginx: Nginx, dir: string): string {
  let out = conf.replace(/^(\s*server )[A-Za-z][\w.-]*(:\d+)/gm, '$1127.0.0.1$2');
  if (!atLeast(nginx.version, NGINX_RESOLVE_SINCE)) {
    out = out.replace(/^(\s*server [^;]*?) resolve\b/gm, '$1');
  }
  for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, name));
  }
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `  ${name}_temp_path ${join(dir, name)};`)
    .join('\n');
  out = out.replace(/^http \{$/m, `http {\n${temp}`);
  if (nginx.streamModule) out = `load_module ${nginx.streamModule};\n${out}`;
  return out;
}

function atLeast(version: readonly number[], floor: readonly number[]): boolean {
  for (let i = 0; i < floor.length; i++) {
    const v = version[i] ?? 0;
    if (v !== floor[i]) return v > floor[i]!;
  }
  return true;
}
