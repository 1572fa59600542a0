import { ProcSampler, procFigures } from '../proc-stats.js';
import { forEachLimit, sleep } from '../pool.js';
import type { Outcome, RunContext, Scenario } from '../scenario.js';
import type { BenchUser, Target } from '../target.js';
import { BenchClient, CONNECT_TIMEOUT_MS, ClientSet } from '../ws-client.js';

// `reconnect-storm`: N connections in pairs sync (as a client does once connected, which gives it
// a cursor) and exchange one message each, then all drop at once (no close handshake, like a lost
// network) and reconnect together, --concurrency at a time (all by default). Each says hello,
// syncs with its cursor (as the SDK does: the server then also reports what changed since), and
// pulls any conversation whose lastSeq is past what it had seen. Reports the time from the drop
// until every client has resynced.

const ATTEMPTS_MAX = 3;
const REQUEST_TIMEOUT_MS = 15_000;

/** Each client's first sync, as a connected client does: the cursor it resumes from. */
async function firstSyncs(clients: readonly BenchClient[]): Promise<string[]> {
  return Promise.all(
    clients.map(async (client) => {
      const synced = await client.request({ type: 'sync' }, REQUEST_TIMEOUT_MS);
      if (synced.type !== 'synced') throw new Error(`sync refused: ${JSON.stringify(synced)}`);
      return synced.cursor as string;
    }),
  );
}

/** The highest seq each user has seen in its direct conversation, from its send and its push. */
async function exchangeOneMessage(
  target: Target,
  clients: readonly BenchClient[],
): Promise<number[]> {
  const seen = clients.map(() => 0);
  let pushes = 0;
  clients.forEach((client, i) => {
    client.onFrame = (frame) => {
      if (frame.type !== 'message') return;
      seen[i] = Math.max(seen[i]!, frame.seq as number);
      pushes += 1;
    };
  });
  await Promise.all(
    clients.map(async (client, i) => {
      const sent = await client.request(
        {
          type: 'send',
          ref: `storm-${i}`,
          conversation: target.directs[Math.floor(i / 2)]!,
          body: { kind: 'text', text: 'before the storm' },
        },
        REQUEST_TIMEOUT_MS,
      );
      if (sent.type !== 'sent') throw new Error(`send refused: ${JSON.stringify(sent)}`);
      seen[i] = Math.max(seen[i]!, sent.seq as number);
    }),
  );
  for (let waited = 0; pushes < clients.length && waited < REQUEST_TIMEOUT_MS; waited += 20) {
    await sleep(20);
  }
  if (pushes < clients.length)
    throw new Error(`only ${pushes}/${clients.length} pushes before the storm`);
  return seen;
}

interface Resync {
  readonly client: BenchClient;
  readonly attempts: number;
  readonly gapsPulled: number;
}

async function resync(
  wsUrl: string,
  user: BenchUser,
  seenSeq: number,
  cursor: string,
): Promise<Resync> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
    let client: BenchClient | null = null;
    try {
      client = await BenchClient.connect(wsUrl, user, CONNECT_TIMEOUT_MS);
      const synced = await client.request({ type: 'sync', cursor }, REQUEST_TIMEOUT_MS);
      if (synced.type !== 'synced') throw new Error(`sync refused: ${JSON.stringify(synced)}`);
      let gapsPulled = 0;
      for (const c of synced.conversations as { id: string; lastSeq: number }[]) {
        if (c.lastSeq <= seenSeq) continue;
        const pulled = await client.request(
          { type: 'pull', conversation: c.id, after: seenSeq, limit: 100 },
          REQUEST_TIMEOUT_MS,
        );
        if (pulled.type !== 'pulled') throw new Error(`pull refused: ${JSON.stringify(pulled)}`);
        gapsPulled += 1;
      }
      return { client, attempts: attempt, gapsPulled };
    } catch (err) {
      client?.drop();
      lastError = err;
      // Back off with jitter, as a real client would, so retries do not storm again in step.
      await sleep(100 * attempt + Math.random() * 100);
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export const reconnectStorm: Scenario = {
  plan: (o) => ({ users: o.connections, pairs: true, groupMembers: 0, http: false }),
  params: (o) => ({
    connections: o.connections,
    concurrency: o.concurrency,
    durationCapS: o.durationS,
  }),
  async run(ctx: RunContext): Promise<Outcome> {
    const { target, options, deadline, progress } = ctx;
    if (options.connections % 2 !== 0) throw new Error('reconnect-storm needs pairs');
    const before = new ClientSet();
    const after: BenchClient[] = [];
    let stopped = false;
    const sampler = new ProcSampler(target.pids);
    try {
      const clients = await deadline.race(
        before.connectAll(
          target.wsUrl,
          target.users,
          Math.min(200, options.concurrency),
          CONNECT_TIMEOUT_MS,
        ),
        'connect',
      );
      const cursors = await deadline.race(firstSyncs(clients), 'the first syncs');
      const seen = await deadline.race(exchangeOneMessage(target, clients), 'the first exchange');
      sampler.start();
      let resynced = 0;
      let attemptsFailed = 0;
      let gapsPulled = 0;
      let failedClients = 0;
      const firstError: string[] = [];
      progress.start(() => `resynced ${resynced}/${clients.length}`);
      const dropMs = performance.now();
      before.closeAll();
      for (const client of clients) client.drop();
      let lastResyncMs = dropMs;
      await deadline.race(
        forEachLimit(
          target.users,
          options.concurrency,
          async (user, i) => {
            try {
              const r = await resync(target.wsUrl, user, seen[i]!, cursors[i]!);
              if (stopped) return r.client.close();
              after.push(r.client);
              resynced += 1;
              attemptsFailed += r.attempts - 1;
              gapsPulled += r.gapsPulled;
              lastResyncMs = performance.now();
            } catch (err) {
              failedClients += 1;
              attemptsFailed += ATTEMPTS_MAX;
              if (firstError.length === 0) firstError.push((err as Error).message);
            }
          },
          () => deadline.expired,
        ),
        'the storm',
      );
      progress.stop();
      const proc = sampler.stop();
      const failures: string[] = [];
      if (resynced < clients.length) {
        failures.push(
          `${clients.length - resynced} client(s) did not resync (${firstError.join('')})`,
        );
      }
      return {
        failures,
        figures: {
          connections: clients.length,
          resyncMs: lastResyncMs - dropMs,
          resynced,
          gapsPulled,
          errors: attemptsFailed + failedClients,
          ...procFigures(proc),
        },
      };
    } finally {
      stopped = true;
      progress.stop();
      sampler.stop();
      before.closeAll();
      for (const client of after) client.close();
    }
  },
};
