import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleArgs, startChild } from './child-service.js';
import { INSPECT_ARG, heapUsedAfterGc } from './heap-probe.js';
import { BENCH_DEVICE, type BenchUser, type Plan, type Target } from './target.js';

// The baseline: the same clients against a server that does only the protocol's minimum — a bare
// WebSocket relay (baseline-relay.ts) or a bare node:http responder (baseline-http.ts) — in a
// child process of its own, so that every figure can be read as a share of that ceiling.

const START_TIMEOUT_MS = 30_000;

/** The relay's start-up file: who is in which conversation. Tokens are the user ids. */
export interface RelayPlan {
  readonly conversations: Record<string, readonly string[]>;
}

export async function startBaseline(plan: Plan): Promise<Target> {
  const users: BenchUser[] = Array.from({ length: plan.users }, (_, i) => ({
    id: `u${i}`,
    username: `u${i}`,
    token: `u${i}`,
    device: BENCH_DEVICE,
  }));
  const conversations: Record<string, string[]> = {};
  const directs: string[] = [];
  if (plan.pairs) {
    for (let k = 0; k + 1 < users.length; k += 2) {
      conversations[`d${k / 2}`] = [users[k]!.id, users[k + 1]!.id];
      directs.push(`d${k / 2}`);
    }
  }
  const group = plan.groupMembers > 0 ? 'g0' : null;
  if (group !== null) conversations[group] = users.slice(0, plan.groupMembers).map((u) => u.id);

  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-baseline-'));
  try {
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ conversations } satisfies RelayPlan));
    const module = plan.http ? 'bench/baseline-http' : 'bench/baseline-relay';
    const child = await startChild({
      label: plan.http ? 'baseline http responder' : 'baseline relay',
      args: [...(plan.heap ? [INSPECT_ARG] : []), ...moduleArgs(module)],
      env: { ...process.env, BENCH_RELAY_PLAN: planFile },
      readyMsg: 'baseline listening',
      timeoutMs: START_TIMEOUT_MS,
    });
    const httpUrl = `http://127.0.0.1:${child.port}`;
    return {
      kind: 'baseline',
      description: `${plan.http ? 'bare node:http responder' : 'bare ws relay'} (pid ${child.pid}) at ${httpUrl}`,
      httpUrl,
      wsUrl: `ws://127.0.0.1:${child.port}/ws`,
      wsUrls: [`ws://127.0.0.1:${child.port}/ws`],
      pids: [child.pid],
      support: () => null,
      metricsUrls: [],
      users,
      directs,
      group,
      heapUsed: () => heapUsedAfterGc(child.inspectorUrl()),
      warnings: () => ({ count: child.warningCount(), lines: child.warnings }),
      close: async () => {
        await child.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
