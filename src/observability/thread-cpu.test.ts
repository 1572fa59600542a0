// Proves that readThreadCpu charges CPU to the thread that spent it: busy work on the main thread
// to event_loop, on a thread named like the append thread to append, on any other thread to
// other; and that /metrics exposes the three as parley_thread_cpu_seconds_total. Linux only.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ParleyMetrics } from './metrics.js';
import { APPEND_THREAD_NAME, readThreadCpu, type ThreadCpu } from './thread-cpu.js';

const skip = existsSync('/proc/self/task') ? false : 'no /proc (not Linux)';
/** Wall time each burst spins; on a loaded machine it gets less CPU than that, so the bounds are loose. */
const SPIN_MS = 400;
const GOT_MIN_S = 0.1;

function spinMain(): void {
  const end = Date.now() + SPIN_MS;
  while (Date.now() < end);
}

/** A worker thread (unnamed: "node") that spins SPIN_MS and ends. */
async function spinWorker(): Promise<void> {
  const worker = new Worker(`const end = Date.now() + ${SPIN_MS}; while (Date.now() < end);`, {
    eval: true,
  });
  await new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
}

function read(): ThreadCpu {
  const now = readThreadCpu();
  assert.ok(now, 'readable on Linux');
  return now;
}

const grew = (a: ThreadCpu, b: ThreadCpu) => ({
  eventLoop: b.eventLoop - a.eventLoop,
  append: (b.append ?? 0) - (a.append ?? 0),
  other: b.other - a.other,
});

test('busy work is charged to the thread that did it', { skip }, async () => {
  const start = read();
  spinMain();
  const afterMain = read();
  const main = grew(start, afterMain);
  assert.ok(main.eventLoop >= GOT_MIN_S, `event loop ${main.eventLoop} s`);
  assert.equal(main.append, 0, 'no append thread ran');

  // The worker has ended when read, so it is no longer in /proc/self/task: its CPU still counts.
  await spinWorker();
  const other = grew(afterMain, read());
  assert.ok(other.other >= GOT_MIN_S, `other ${other.other} s`);
  assert.ok(other.eventLoop < other.other / 2, `event loop ${other.eventLoop} s while idle`);
  assert.equal(other.append, 0, 'an unnamed thread is not the append thread');
});

test('a running thread named like the append thread is charged to append', { skip }, async () => {
  const rename = `require('node:fs').writeFileSync('/proc/thread-self/comm', ${JSON.stringify(APPEND_THREAD_NAME)});`;
  // It spins, then waits to be ended, so that it is still in /proc/self/task when read.
  const worker = new Worker(
    `${rename} const end = Date.now() + ${SPIN_MS}; while (Date.now() < end);
     require('node:worker_threads').parentPort.postMessage('spun');
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  try {
    const before = read();
    await new Promise((resolve) => worker.once('message', resolve));
    const after = read();
    const moved = grew(before, after);
    assert.ok(moved.append >= GOT_MIN_S, `append ${moved.append} s`);
    assert.ok(moved.eventLoop < moved.append / 2, `event loop ${moved.eventLoop} s while idle`);
  } finally {
    await worker.terminate();
  }
});

test('/metrics exposes parley_thread_cpu_seconds_total by thread', { skip }, async () => {
  const metrics = new ParleyMetrics({ nodeId: 'n1' });
  const first = await metrics.scrape();
  assert.match(first.text, /^# TYPE parley_thread_cpu_seconds_total counter$/m);
  const value = (text: string, thread: string): number => {
    const m = new RegExp(
      `^parley_thread_cpu_seconds_total\\{thread="${thread}",node="n1"\\} (\\S+)$`,
      'm',
    ).exec(text);
    assert.ok(m, `no ${thread} series in\n${text}`);
    return Number(m[1]);
  };
  const before = value(first.text, 'event_loop');
  assert.ok(value(first.text, 'other') >= 0);
  spinMain();
  const after = value((await metrics.scrape()).text, 'event_loop');
  assert.ok(after - before >= GOT_MIN_S, `event_loop moved ${after - before} s`);
});
