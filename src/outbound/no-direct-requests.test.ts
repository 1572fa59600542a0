// Proves that no server code makes an HTTP request, or opens a client socket, except through
// src/outbound/: it reads every source file under src/ and fails on a fetch() call; a
// http(s)/http2 request, get or connect; a net/tls connect, createConnection or new Socket; a
// WebSocket client; and on any import, re-export, require() or import() of a module that can
// open a client connection (node:http, https, http2, net, tls, ws, undici and the HTTP client
// libraries) beyond the names a server uses to listen (createServer, isIP, …). Exempt: src/outbound/
// itself, the client-side folders (sdk/, bench/, verify/ — whose clients play users against the
// system under test — web/), engines/ (throwaway local PostgreSQL and Redis for the tests, the
// bench and verify), test-support/ and tests. Third-party clients the operator
// points at its own services (the S3 SDK, gRPC, pg, ioredis) are exempt by design: see
// docs/security.md, "Outbound requests". A text check cannot follow a module name built at run
// time (require(name)); the one such call in src/ loads the SQLite driver.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));
/** Folders of src/ whose code runs on clients, or is test tooling, or is the module itself. */
const EXEMPT_DIRS = ['outbound', 'sdk', 'bench', 'verify', 'engines', 'test-support', 'web'];

const HTTP_SERVER_SIDE = [
  'createServer',
  'Server',
  'IncomingMessage',
  'ServerResponse',
  'STATUS_CODES',
  'METHODS',
];

/**
 * Modules that can open a client connection ('node:' dropped), each with the names a server may
 * import from it to listen or to parse, never to send. Any other value import is a finding, and
 * so is a default or namespace import: what it is used for is not followed.
 */
const CLIENT_MODULES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['http', new Set(HTTP_SERVER_SIDE)],
  ['https', new Set(HTTP_SERVER_SIDE)],
  ['http2', new Set(['createServer', 'createSecureServer', 'constants'])],
  ['net', new Set(['createServer', 'Server', 'isIP', 'isIPv4', 'isIPv6', 'BlockList'])],
  ['tls', new Set(['createServer', 'Server', 'createSecureContext'])],
  ['ws', new Set(['WebSocketServer'])],
  ['undici', new Set<string>()],
  ['node-fetch', new Set<string>()],
  ['axios', new Set<string>()],
  ['got', new Set<string>()],
]);

/** Calls that send or connect, however the module came in (a namespace, a global). */
const CALLS: readonly (readonly [RegExp, string])[] = [
  [/(?<![\w.])fetch\s*\(/, 'fetch()'],
  [/\bglobalThis\.fetch\b/, 'globalThis.fetch'],
  [/\b(https?|http2)\.(request|get|connect)\s*\(/, 'a client request'],
  [/\b(net|tls)\.(connect|createConnection)\s*\(/, 'a client socket'],
  [/\bnew\s+(?:(?:net|tls)\.)?(Socket|TLSSocket)\s*\(/, 'a client socket'],
  [/\bnew\s+WebSocket\s*\(/, 'a WebSocket client'],
];

/** `import … from 'm'` and `export … from 'm'`: [whole, keyword, "type ", clause, specifier]. */
const STATIC_RE = /\b(import|export)\s+(type\s+)?([\w$*{},\s]+?)\s+from\s*['"]([^'"]+)['"]/g;
/** `require('m')`, `import('m')`. */
const LOAD_RE = /\b(?:require|import)\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g;
/** Any call with a node: module as its argument: a require under another name (createRequire). */
const NODE_ARG_RE = /\(\s*['"`](node:[^'"`]+)['"`]\s*\)/g;

/** Strips comments, so that prose about fetch() is not a finding. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The module a specifier names, if it can open a client connection: 'node:https' → 'https'. */
function clientModule(specifier: string): string | undefined {
  const name = specifier.replace(/^node:/, '').split('/')[0]!;
  return CLIENT_MODULES.has(name) ? name : undefined;
}

/** The value names an import or export clause brings in; '*' for a default or namespace. */
function clauseNames(clause: string): string[] {
  const braces = /\{([^}]*)\}/.exec(clause)?.[1];
  const outside = clause
    .replace(/\{[^}]*\}/, '')
    .replace(/,/g, '')
    .trim();
  const named = (braces ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && !n.startsWith('type '))
    .map((n) => n.split(/\s+as\s+/)[0]!);
  return outside === '' ? named : ['*', ...named];
}

function importFindings(src: string): string[] {
  const found: string[] = [];
  for (const [, keyword, type, clause = '', specifier = ''] of src.matchAll(STATIC_RE)) {
    const module = clientModule(specifier);
    if (type || !module) continue;
    const allowed = CLIENT_MODULES.get(module)!;
    const client = clauseNames(clause).filter((n) => !allowed.has(n));
    if (client.length > 0) found.push(`${keyword} of ${client.join(', ')} from ${module}`);
  }
  for (const re of [LOAD_RE, NODE_ARG_RE]) {
    for (const [, specifier = ''] of src.matchAll(re)) {
      const module = clientModule(specifier);
      if (module) found.push(`a run-time load of ${module}`);
    }
  }
  return found;
}

/** Every finding in one file's text: "what it is" strings. */
function findRequests(text: string): string[] {
  const src = code(text);
  const calls = CALLS.filter(([re]) => re.test(src)).map(([, what]) => what);
  return [...new Set([...calls, ...importFindings(src)])];
}

function serverFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(SRC, path);
    if (entry.isDirectory()) {
      if (!EXEMPT_DIRS.includes(rel.split(sep)[0]!)) serverFiles(path, out);
    } else if (/\.[cm]?[jt]s$/.test(entry.name) && !/\.(test|d)\.[cm]?[jt]s$/.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

/** Each way of opening a client connection that the check must catch. */
const CAUGHT = [
  "await fetch('http://x')",
  'const r = await fetch (url, {});',
  'globalThis.fetch(url)',
  'http.request(options)',
  'https.get(url, cb)',
  "import { request } from 'node:http';",
  "import { request as send } from 'node:https';",
  "import { Agent, createServer } from 'http';",
  "import {\n  createServer,\n  get,\n} from 'node:http';",
  "import * as h from 'node:https';",
  "import http from 'node:http';",
  "import http, { createServer } from 'node:http';",
  "export { request } from 'node:http';",
  "export * from 'node:https';",
  "const http = require('http');",
  "const { request } = require('node:https');",
  "const { request } = await import('node:http');",
  'const h = await import(`node:https`);',
  "const load = createRequire(import.meta.url); load('node:net').connect(80);",
  "import { connect } from 'node:net';",
  "import { createConnection } from 'net';",
  "import { Socket } from 'node:net';",
  "import net from 'node:net';",
  'net.connect(80, host)',
  'net.createConnection({ port })',
  'new net.Socket().connect(80, host)',
  'const s = new Socket({ allowHalfOpen: true });',
  'tls.connect({ host })',
  "import { connect } from 'node:tls';",
  'new tls.TLSSocket(socket)',
  "import { fetch } from 'undici';",
  "import { request } from 'undici';",
  "const { request } = require('undici');",
  "await import('undici')",
  "import axios from 'axios';",
  "import { connect } from 'node:http2';",
  "import * as http2 from 'http2';",
  'const session = http2.connect(origin);',
  "import WebSocket from 'ws';",
  "import { WebSocket } from 'ws';",
  "const ws = new WebSocket('ws://x');",
];

/** What server code does today, or might, without sending: none is a finding. */
const HARMLESS = [
  "import type { IncomingMessage, Server } from 'node:http';",
  "import { createServer } from 'node:http';",
  "import { STATUS_CODES, type ServerResponse } from 'node:http';",
  "import type { Socket } from 'node:net';",
  "import { createServer, type Server, type Socket } from 'node:net';",
  "import { isIP } from 'node:net';",
  "import { isIPv4, isIPv6 } from 'node:net';",
  "import { WebSocketServer, type RawData, type WebSocket } from 'ws';",
  "export type { Server } from 'node:http';",
  "const { runBenchCli } = await import('./bench/cli.js');",
  "const { parentPort } = require('node:worker_threads');",
  "open.labels('ws'); opened.labels('tcp');",
  'await redis.connect(); await client.connect();',
  '// the app fetch()es the message with its own token',
  '/* fetch(url) */',
  'this.prefetch(x); store.fetchAll()',
];

describe('outbound requests go through src/outbound/', () => {
  it('finds each way of making a request (the check itself works)', () => {
    for (const text of CAUGHT) assert.notDeepEqual(findRequests(text), [], text);
    for (const text of HARMLESS) assert.deepEqual(findRequests(text), [], text);
  });

  it('no server file makes a request of its own', () => {
    const files = serverFiles(SRC);
    assert.ok(files.length > 50, `only ${files.length} files found under ${SRC}`);
    const offenders = files.flatMap((file) =>
      findRequests(readFileSync(file, 'utf8')).map((what) => `${relative(SRC, file)}: ${what}`),
    );
    assert.deepEqual(offenders, [], 'route these through src/outbound/ (OutboundClient)');
  });
});
