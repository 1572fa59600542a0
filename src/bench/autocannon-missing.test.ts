// Proves that `parley bench http-send` on an install without development dependencies (autocannon hidden from module resolution in a real process) fails with one line saying how to install autocannon, and no stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HIDER = fileURLToPath(new URL('../../test/hide-packages.mjs', import.meta.url));

describe('parley bench without autocannon', () => {
  it('fails http-send with one line that says to install it', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', `--import=${HIDER}`, 'src/cli.ts', 'bench', 'http-send'].concat([
        '--url',
        'http://127.0.0.1:9',
      ]),
      {
        cwd: REPO_ROOT,
        env: { ...process.env, HIDE_PACKAGES: 'autocannon' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const output = run.stdout + run.stderr;
    assert.equal(run.status, 1, output);
    const lines = output.split('\n').filter((l) => l.includes('autocannon'));
    assert.equal(lines.length, 1, output);
    assert.match(lines[0]!, /need autocannon, a development dependency: run `npm install`/);
    assert.doesNotMatch(output, /^\s+at /m);
    assert.doesNotMatch(output, /ERR_MODULE_NOT_FOUND/);
  });
});
