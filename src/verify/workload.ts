// The verify workload's people and places: users with several devices each, direct
// conversations between neighbours and groups of several sizes, made through the REST API before
// the faults start. Then a paced stream of sends from random devices into their conversations.
import { VerifyClient, type ClientPlan } from './client.js';
import type { HistoryEvent } from './history.js';
import type { Random } from './random.js';

const PASSWORD = 'verify horse battery staple';
/** Sends a client may hold unacknowledged: past this, the workload skips it (a node is down). */
const OUTBOX_COUNT_MAX = 500;
const TICK_MS = 50;
/** How often each device marks and syncs, as an app that shows messages and wakes up does. */
const CLIENT_TICK_MS = 2_000;
/** The longest a setup request may take. */
const SETUP_REQUEST_WAIT_MS = 15_000;

export interface WorkloadShape {
  readonly users: number;
  readonly devicesPerUser: number;
  readonly nodes: number;
}

export interface Population {
  readonly plans: ClientPlan[];
  /** client → user id */
  readonly users: Record<string, string>;
  /** client → conversation ids */
  readonly members: Record<string, string[]>;
}

async function rest<T>(base: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SETUP_REQUEST_WAIT_MS),
  });
  if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Session {
  readonly token: string;
  readonly user: { readonly id: string };
}

/**
 * Registers the users and their devices and makes the conversations: a direct one between each
 * user and the next, a group of the first half, one of the second half, and one of everybody.
 */
export async function populate(
  base: string,
  shape: WorkloadShape,
  tag: string,
): Promise<Population> {
  const names = Array.from({ length: shape.users }, (_, i) => `v${tag}u${i}`);
  const sessions: Session[][] = [];
  for (const name of names) {
    const devices: Session[] = [];
    devices.push(
      await rest<Session>(base, '/v1/auth/register', {
        username: name,
        password: PASSWORD,
        device: 'd0',
      }),
    );
    for (let d = 1; d < shape.devicesPerUser; d++) {
      devices.push(
        await rest<Session>(base, '/v1/auth/login', {
          username: name,
          password: PASSWORD,
          device: `d${d}`,
        }),
      );
    }
    sessions.push(devices);
  }
  const convsOf: string[][] = names.map(() => []);
  const make = async (owner: number, body: unknown, members: number[]): Promise<void> => {
    const conv = await rest<{ id: string }>(
      base,
      '/v1/conversations',
      body,
      sessions[owner]![0]!.token,
    );
    for (const m of members) convsOf[m]!.push(conv.id);
  };
  for (let i = 0; i < names.length && names.length > 1; i++) {
    const peer = (i + 1) % names.length;
    if (names.length === 2 && i === 1) break; // one direct conversation between two users
    await make(i, { kind: 'direct', with: names[peer] }, [i, peer]);
  }
  const half = Math.ceil(names.length / 2);
  const groups = [range(0, half), range(half, names.length), range(0, names.length)];
  for (const [g, members] of groups.entries()) {
    if (members.length < 3) continue;
    const others = members.slice(1).map((m) => names[m]);
    await make(members[0]!, { kind: 'group', title: `verify ${g}`, members: others }, members);
  }
  const plans: ClientPlan[] = [];
  const users: Record<string, string> = {};
  const members: Record<string, string[]> = {};
  for (const [u, devices] of sessions.entries()) {
    for (const [d, session] of devices.entries()) {
      const name = `u${u}/d${d}`;
      plans.push({
        name,
        device: `d${d}`,
        token: session.token,
        convs: convsOf[u]!,
        home: plans.length % shape.nodes,
      });
      users[name] = session.user.id;
      members[name] = convsOf[u]!;
    }
  }
  return { plans, users, members };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

export function makeClients(
  population: Population,
  nodes: () => readonly string[],
  record: (event: HistoryEvent) => void,
  random: Random,
): VerifyClient[] {
  return population.plans.map((plan) => new VerifyClient(plan, nodes, record, random.fork()));
}

/**
 * Sends `ratePerSec` messages a second in all, each from a random device to one of its
 * conversations, and keeps every device marking, syncing and filling gaps now and then, until
 * stopped. Returns the stop function.
 */
export function drive(
  clients: readonly VerifyClient[],
  ratePerSec: number,
  random: Random,
): () => void {
  let owed = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    owed += (ratePerSec * TICK_MS) / 1_000;
    for (; owed >= 1; owed--) {
      const client = random.pick(clients);
      if (client.outboxSize < OUTBOX_COUNT_MAX) client.send(random.pick(client.plan.convs));
    }
    ticks++;
    // Every client in turn: each ticks (marks and syncs) about every CLIENT_TICK_MS, staggered,
    // and one client a tick looks for gaps to fill.
    const every = Math.max(1, Math.round(CLIENT_TICK_MS / TICK_MS / clients.length));
    if (ticks % every === 0) void clients[(ticks / every) % clients.length]!.tick();
    void clients[ticks % clients.length]!.fillGaps();
  }, TICK_MS);
  return () => clearInterval(timer);
}
