// Proves that every setting's TypeBox schema accepts its own default, that --help shows every setting once under a heading of its concern, that --log-format reads like any other setting, and that a bad value is reported alone, not with the consequences the rules between settings would draw from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Value from 'typebox/value';
import { ConfigError, loadConfig } from './config.js';
import { describeSettings } from './help.js';
import type { Setting } from './setting.js';
import { SETTING_GROUPS, SETTINGS } from './settings.js';

const ALL = Object.values(SETTINGS) as Setting[];

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  assert.fail('loadConfig accepted a bad configuration');
}

describe('the setting schemas', () => {
  it('give every setting a description, and a default its own schema accepts', () => {
    for (const s of ALL) {
      const schema = s.schema as { description?: string; default?: unknown };
      assert.ok(schema.description, `--${s.name} has no description`);
      if (s.optional) {
        assert.equal(schema.default, undefined, `--${s.name} is optional but has a default`);
      } else {
        assert.ok(Value.Check(s.schema, schema.default), `--${s.name}: bad default`);
      }
    }
  });

  it('reads strings strictly: no fractions, no numeric booleans, no hex', () => {
    const problems = problemsOf({
      PARLEY_PORT: '80.5',
      PARLEY_REDIS_CLUSTER: '1',
      PARLEY_PINS_MAX: '0x10',
      PARLEY_TCP_PORT: '1e3',
    });
    assert.deepEqual(problems, [
      'PARLEY_PORT: expected an integer from 0 to 65535, got "80.5"',
      'PARLEY_REDIS_CLUSTER: expected true or false, got "1"',
      'PARLEY_TCP_PORT: expected an integer from 0 to 65535, got "1e3"',
      'PARLEY_PINS_MAX: expected an integer from 1 to 10000, got "0x10"',
    ]);
  });

  it('keeps the shapes of lists and of the trusted proxies', () => {
    const config = loadConfig({
      PARLEY_TRUST_PROXY: '10.0.0.0/8, loopback',
      PARLEY_ATTACHMENT_TYPES: 'Image/PNG, text/*',
      PARLEY_PUSH_GATEWAYS: 'https://push.example/_matrix/push/v1/notify',
    });
    assert.deepEqual(config.http.trustProxy, ['10.0.0.0/8', 'loopback']);
    assert.deepEqual(config.attachments.types, ['image/png', 'text/*']);
    assert.deepEqual(config.push.gateways, ['https://push.example/_matrix/push/v1/notify']);
    assert.equal(loadConfig({ PARLEY_TRUST_PROXY: '2' }).http.trustProxy, 2);
    assert.equal(loadConfig({ PARLEY_TRUST_PROXY: 'off' }).http.trustProxy, false);
    assert.deepEqual(problemsOf({ PARLEY_TRUST_PROXY: '10.0.0.0/33' }), [
      'PARLEY_TRUST_PROXY: expected off, a hop count from 1 to 16, or proxy addresses/CIDRs ' +
        '(comma-separated), got "10.0.0.0/33"',
    ]);
  });
});

describe('--log-format', () => {
  it('defaults to auto and takes json or pretty from the flag or the environment', () => {
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.equal(loadConfig({ PARLEY_LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(
      loadConfig({ PARLEY_LOG_FORMAT: 'json' }, { 'log-format': 'pretty' }).logFormat,
      'pretty',
    );
    assert.deepEqual(problemsOf({ PARLEY_LOG_FORMAT: 'xml' }), [
      'PARLEY_LOG_FORMAT: expected one of auto, json, pretty, got "xml"',
    ]);
  });
});

describe('a bad value', () => {
  it('is reported alone, without what the rules between settings would conclude from it', () => {
    // With the bad URL dropped, "Redis needs PostgreSQL" would blame a setting that is set.
    const problems = problemsOf({
      PARLEY_DATABASE_URL: 'mysql://db/parley',
      PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    assert.deepEqual(problems, [
      'PARLEY_DATABASE_URL: expected a postgres:// or postgresql:// URL, got a value (not shown)',
    ]);
  });
});

describe('describeSettings', () => {
  const help = describeSettings();
  const lines = help.split('\n');

  it('shows each group under its heading, in order', () => {
    const headings = lines.filter((l) => /^\S.*:$/.test(l));
    assert.deepEqual(
      headings,
      SETTING_GROUPS.map((g) => `${g.title}:`),
    );
    assert.ok(headings.length >= 8, 'too few groups to call it grouped');
  });

  it('documents every setting exactly once, under the heading of its group', () => {
    for (const group of SETTING_GROUPS) {
      const start = lines.indexOf(`${group.title}:`);
      const end = lines.findIndex((l, i) => i > start && l === '');
      const body = lines.slice(start + 1, end === -1 ? undefined : end);
      const names = Object.values(group.settings as Record<string, Setting>).map((s) => s.name);
      assert.deepEqual(
        body.map((l) => /^ {2}--(\S+)/.exec(l)?.[1]),
        names,
        `group ${group.title}`,
      );
    }
    for (const s of ALL) {
      const count = lines.filter((l) => l.startsWith(`  --${s.name} `)).length;
      assert.equal(count, 1, `--${s.name} appears ${count} times`);
    }
  });
});
