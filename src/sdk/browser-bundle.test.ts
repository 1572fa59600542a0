// Proves that `parley/sdk` (src/sdk/index.ts) bundles for browsers with no Node-only module in
// its static import graph (esbuild, platform "browser", fails on any node:* import), that the
// `ws` package and node:fs are reached only through ignored dynamic imports, and that the
// package's "exports" point at the SDK.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { build } from 'esbuild';

const ENTRY = new URL('./index.ts', import.meta.url).pathname;

describe('the SDK in a browser bundle', () => {
  it('bundles for the browser without node:* modules', async () => {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      splitting: true,
      outdir: 'out',
      logLevel: 'silent',
      metafile: true,
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith('src/sdk/client.ts')));
    assert.ok(!inputs.some((p) => p.includes('node_modules/ws/')), 'ws stays out');
    assert.ok(!inputs.some((p) => p.endsWith('file-outbox.ts')), 'the file outbox stays out');
    const main = result.outputFiles.find((f) => /out\/index\.js$/.test(f.path));
    assert.ok(main, 'the entry chunk exists');
    assert.doesNotMatch(main.text, /from\s*["']node:/, 'no static node:* import');
    // protobufjs is only in the lazily loaded codec chunk, not in what every page loads.
    assert.ok(!main.text.includes('protobuf'), 'protobufjs is not in the entry chunk');
  });

  it('is what package.json exports as parley/sdk and parley/sdk/node', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.deepEqual(pkg.exports['./sdk'], {
      types: './dist/sdk/index.d.ts',
      default: './dist/sdk/index.js',
    });
    assert.deepEqual(pkg.exports['./sdk/node'], {
      types: './dist/sdk/node.d.ts',
      default: './dist/sdk/node.js',
    });
  });
});
