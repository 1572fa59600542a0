// Proves that no server code makes an HTTP request, or opens a client socket, except through
// src/outbound/: it reads every .ts file under src/ and fails on a fetch() call, a
// http(s).request/get call, a value import of node:http(s)'s client side or of undici, or a
// net/tls connect, anywhere but src/outbound/ and the client-side folders (sdk/, bench/,
// test-support/, web/) and tests. Third-party clients the operator points at its own services
// (the S3 SDK, gRPC, pg, ioredis) are exempt by design: see docs/security.md, "Outbound requests".
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));
/** Folders of src/ whose code runs on clients, or is test tooling, or is the module itself. */
const EXEMPT_DIRS = ['outbound', 'sdk', 'bench', 'test-support', 'web'];

/** What the server needs from node:http(s) to serve, as opposed to send. */
const SERVER_SIDE_NAMES = new Set([
  'createServer',
  'Server',
  'IncomingMessage',
  'ServerResponse',
  'STATUS_CODES',
  'METHODS',
]);

const CALLS: readonly (readonly [RegExp, string])[] = [
  [/(?<![\w.])fetch\s*\(/, 'fetch()'],
  [/\bglobalThis\.fetch\b/, 'globalThis.fetch'],
  [/\bhttps?\.(request|get)\s*\(/, 'http(s).request/get'],
  [/\b(net|tls)\.(connect|createConnection)\s*\(/, 'a client socket'],
  [/from\s+['"](undici|node-fetch|axios|got)['"]/, 'an HTTP client library'],
  [/from\s+['"](node:)?http2['"]/, 'http2'],
];

/** Strips comments, so that prose about fetch() is not a finding. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every finding in one file's text: "what it is" strings. */
function findRequests(text: string): string[] {
  const src = code(text);
  const found = CALLS.filter(([re]) => re.test(src)).map(([, what]) => what);
  // `import X from 'node:http'`, `import * as X`, or `import { request }`: client side.
  const importRe = /import\s+(type\s+)?([^;]*?)\s+from\s+['"](node:)?https?['"]/g;
  for (const m of src.matchAll(importRe)) {
    if (m[1]) continue;
    const clause = m[2] ?? '';
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    const names = named
      ? named[1]!
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== '' && !n.startsWith('type '))
          .map((n) => n.split(/\s+as\s+/)[0]!)
      : ['<default or namespace>'];
    const client = names.filter((n) => !SERVER_SIDE_NAMES.has(n));
    if (client.length > 0) found.push(`node:http(s) import of ${client.join(', ')}`);
  }
  return found;
}

function serverFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(SRC, path);
    if (entry.isDirectory()) {
      if (!EXEMPT_DIRS.includes(rel.split(sep)[0]!)) serverFiles(path, out);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      out.push(path);
    }
  }
  return out;
}

describe('outbound requests go through src/outbound/', () => {
  it('finds each way of making a request (the check itself works)', () => {
    const cases = [
      "await fetch('http://x')",
      'const r = await fetch (url, {});',
      'globalThis.fetch(url)',
      'http.request(options)',
      'https.get(url, cb)',
      "import { request } from 'node:http';",
      "import { request as send } from 'node:https';",
      "import { Agent, createServer } from 'http';",
      "import * as h from 'node:https';",
      "import http from 'node:http';",
      "import { fetch } from 'undici';",
      'net.connect(80, host)',
      'tls.connect({ host })',
      "import { connect } from 'node:http2';",
    ];
    for (const text of cases) assert.notDeepEqual(findRequests(text), [], text);
    const harmless = [
      "import type { IncomingMessage, Server } from 'node:http';",
      "import { createServer } from 'node:http';",
      '// the app fetch()es the message with its own token',
      '/* fetch(url) */',
      'this.prefetch(x); store.fetchAll()',
    ];
    for (const text of harmless) assert.deepEqual(findRequests(text), [], text);
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
