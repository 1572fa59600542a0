// Proves the outbox storages keep entries in order across instances (FileOutbox on a real file,
// LocalStorageOutbox on a Web Storage), survive a torn last line and compact their log, and that
// the reconnect backoff stays within its jittered bounds.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backoffDelayMs } from './backoff.js';
import { FileOutbox } from './file-outbox.js';
import { LocalStorageOutbox, MemoryOutbox, type StorageLike } from './outbox.js';
import type { OutboxEntry, OutboxStorage } from './types.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
  dirs.push(dir);
  return join(dir, 'nested', 'outbox.jsonl');
}

const entry = (n: number): OutboxEntry => ({
  ref: `ref-${n}`,
  conversation: 'c1',
  body: { kind: 'text', text: `message ${n}` },
  createdAt: 1_700_000_000_000 + n,
});

/** What every storage must do: keep put order, forget deleted refs, survive a new instance. */
async function storageContract(open: () => OutboxStorage): Promise<void> {
  const first = open();
  assert.deepEqual(await first.load(), []);
  for (const n of [1, 2, 3, 4]) await first.put(entry(n));
  await first.delete('ref-2');
  await first.delete('ref-unknown');
  const second = open();
  assert.deepEqual(await second.load(), [entry(1), entry(3), entry(4)]);
  await second.delete('ref-1');
  await second.put(entry(5));
  assert.deepEqual(await open().load(), [entry(3), entry(4), entry(5)]);
}

class MapStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
}

describe('FileOutbox', () => {
  it('keeps entries in put order across instances', async () => {
    const path = tempFile();
    await storageContract(() => new FileOutbox({ path }));
  });

  it('ignores a torn last line and a damaged entry', async () => {
    const path = tempFile();
    const outbox = new FileOutbox({ path });
    await outbox.load();
    await outbox.put(entry(1));
    await outbox.put(entry(2));
    appendFileSync(path, JSON.stringify({ put: { ref: 'no-body' } }) + '\n');
    appendFileSync(path, '{"put":{"ref":"ref-3","conver'); // a crash mid-write
    assert.deepEqual(await new FileOutbox({ path }).load(), [entry(1), entry(2)]);
    // load() rewrote the log without the torn line, so appending after it is safe.
    const again = new FileOutbox({ path });
    await again.load();
    await again.put(entry(3));
    assert.deepEqual(await new FileOutbox({ path }).load(), [entry(1), entry(2), entry(3)]);
  });

  it('compacts the log so that it does not grow with every message ever sent', async () => {
    const path = tempFile();
    const outbox = new FileOutbox({ path, fsync: false });
    await outbox.load();
    for (let n = 0; n < 400; n++) {
      await outbox.put(entry(n));
      await outbox.delete(`ref-${n}`);
    }
    await outbox.put(entry(1000));
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
    assert.ok(lines < 300, `the log has ${lines} lines for 1 live entry`);
    assert.deepEqual(await new FileOutbox({ path }).load(), [entry(1000)]);
  });

  it('starts empty on a file that does not exist yet and puts it in place on first write', async () => {
    const path = tempFile();
    const outbox = new FileOutbox({ path });
    assert.deepEqual(await outbox.load(), []);
    await outbox.put(entry(7));
    assert.match(readFileSync(path, 'utf8'), /ref-7/);
    writeFileSync(path, ''); // an emptied file is an empty outbox, not an error
    assert.deepEqual(await new FileOutbox({ path }).load(), []);
  });
});

describe('LocalStorageOutbox', () => {
  it('keeps entries in put order across instances, under its own key', async () => {
    const storage = new MapStorage();
    storage.setItem('other', 'untouched');
    await storageContract(() => new LocalStorageOutbox({ key: 'parley.outbox.dev1', storage }));
    assert.equal(storage.getItem('other'), 'untouched');
    const outbox = new LocalStorageOutbox({ key: 'parley.outbox.dev1', storage });
    for (const e of await outbox.load()) await outbox.delete(e.ref);
    assert.equal(storage.getItem('parley.outbox.dev1'), null, 'an empty outbox removes its key');
  });

  it('skips damaged entries', async () => {
    const storage = new MapStorage();
    storage.setItem('k', JSON.stringify([entry(1), { ref: 'x' }, 'junk', entry(2)]));
    assert.deepEqual(await new LocalStorageOutbox({ key: 'k', storage }).load(), [
      entry(1),
      entry(2),
    ]);
    storage.setItem('k', '[{"ref":'); // not JSON at all
    const outbox = new LocalStorageOutbox({ key: 'k', storage });
    assert.deepEqual(await outbox.load(), []);
    await outbox.put(entry(3));
    assert.deepEqual(await outbox.load(), [entry(3)], 'and it is usable again');
  });

  it('needs a storage where there is no localStorage', () => {
    assert.throws(() => new LocalStorageOutbox({ key: 'k' }), TypeError);
  });
});

describe('MemoryOutbox', () => {
  it('keeps entries in put order', async () => {
    const outbox = new MemoryOutbox();
    await storageContract(() => outbox);
  });
});

describe('backoffDelayMs', () => {
  const policy = { baseMs: 500, maxMs: 30_000 };

  it('draws from [0, min(max, base × 2^attempt)]', () => {
    assert.equal(
      backoffDelayMs(policy, 0, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(policy, 0, () => 0.999_999),
      499,
    );
    assert.equal(
      backoffDelayMs(policy, 3, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelayMs(policy, 10, () => 0.999_999),
      29_999,
    );
    assert.equal(
      backoffDelayMs(policy, 1_000, () => 0.5),
      15_000,
      'no overflow',
    );
  });

  it('spreads the delays of many clients', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelayMs(policy, 4));
    assert.ok(delays.every((d) => d >= 0 && d < 8000));
    assert.ok(new Set(delays).size > 100, 'jittered, not one fixed delay');
  });
});
