// The run-queue figures of the bench report: the kernel's own accounting of how long a process's
// threads were ready to run but had no CPU. Two busy processes pinned to one CPU take turns, so
// each must be seen waiting for a large part of the time; a sleeping process, less. (Not this
// test process: its helper threads wait for a CPU too when other suites load the machine.)
// Also the CPU of a process tree (a cluster's PostgreSQL), which must keep an ended child's time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { cpuSeconds, runWaitSeconds, treeCpuSeconds } from './proc-stats.js';

const BUSY_MS = 4_000;

function busyOnCpu0(): ChildProcess {
  // Bounded: the loop ends by itself after BUSY_MS even if the test is interrupted.
  return spawn('taskset', [
    '-c',
    '0',
    process.execPath,
    '-e',
    `const end = Date.now() + ${BUSY_MS}; while (Date.now() < end);`,
  ]);
}

const skip = !existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`)
  ? 'no schedstat in /proc'
  : !existsSync('/usr/bin/taskset')
    ? 'no taskset'
    : false;
const noProc = existsSync('/proc/self/stat') ? false : 'no /proc';

test('runWaitSeconds sees two busy processes on one CPU wait for it', { skip }, async () => {
  const a = busyOnCpu0();
  const b = busyOnCpu0();
  const idle = spawn('sleep', [String(BUSY_MS / 1_000)]);
  try {
    // taskset execs node in place, so the child's pid is the busy process.
    await sleep(300);
    const before = [runWaitSeconds(a.pid!), runWaitSeconds(b.pid!)];
    const selfBefore = runWaitSeconds(idle.pid!);
    await sleep(1_500);
    const after = [runWaitSeconds(a.pid!), runWaitSeconds(b.pid!)];
    const selfAfter = runWaitSeconds(idle.pid!);
    for (const i of [0, 1]) {
      assert.ok(before[i] !== null && after[i] !== null, 'read from /proc');
      // Sharing one CPU, each waits about half the time: at least a fifth of 1.5 s is certain.
      assert.ok(
        after[i]! - before[i]! > 0.3,
        `busy process ${i} waited ${after[i]! - before[i]!} s`,
      );
    }
    // The sleeping process is never runnable: whatever it waited is less than either busy one.
    assert.ok(selfBefore !== null && selfAfter !== null);
    const selfWaited = selfAfter - selfBefore;
    assert.ok(
      selfWaited >= 0 && selfWaited < Math.min(after[0]! - before[0]!, after[1]! - before[1]!),
    );
  } finally {
    a.kill();
    b.kill();
    idle.kill();
  }
});

test('runWaitSeconds is null for a process that does not exist', () => {
  assert.equal(runWaitSeconds(2 ** 22 + 12345), null);
});

test(
  "treeCpuSeconds counts a tree's CPU, that of an ended child included",
  { skip: noProc },
  async () => {
    // A shell runs a busy child to its end, then sleeps: the child is gone when the tree is read,
    // and only the shell's cutime (the children it waited for) still holds its CPU.
    const shell = spawn('sh', [
      '-c',
      `"${process.execPath}" -e 'const end = Date.now() + 600; while (Date.now() < end);'; sleep 5`,
    ]);
    try {
      const before = treeCpuSeconds([shell.pid!]);
      await sleep(1_500);
      const after = treeCpuSeconds([shell.pid!]);
      assert.ok(before !== null && after !== null, 'read from /proc');
      assert.ok(after - before > 0.1, `the tree used ${after - before} s`);
      assert.ok(cpuSeconds(shell.pid!)! < 0.05, 'not the shell itself');
      assert.equal(treeCpuSeconds([2 ** 22 + 12345]), null, 'no such process');
    } finally {
      shell.kill();
    }
  },
);
