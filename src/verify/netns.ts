// The network of a `parley verify` cluster: each host (server node, PostgreSQL, Redis) lives in
// its own Linux network namespace, joined by a veth to a bridge in the root namespace, where the
// clients run. Cutting a link is then a real fault the kernel applies, not a mock. Where
// namespaces are unavailable (not root, no iproute2) every host is 127.0.0.1 and cuts throw.
//
// A cut drops packets on arrival (an `ip rule ... blackhole` matched on the incoming interface),
// the way Jepsen's iptables INPUT DROP does: a blackhole *route* on the sending side would make
// connect() fail at once with EINVAL, which no real partition does. The namespace's `local` rule
// moves behind those rules, since the kernel would otherwise deliver to local addresses first.
// The root namespace is never changed beyond the bridge and the veth ends, so a run killed with
// SIGKILL leaves nothing that deleting those links and namespaces does not remove.
//
// Every name starts with the caller's prefix, then the owner's pid (5 base-36 digits) and a
// per-process sequence digit: sweepNetworks can then leave alone the networks of live runs.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Host {
  readonly name: string;
  /** Its IPv4 address on the bridge, or '127.0.0.1' in fallback. */
  readonly address: string;
  /**
   * Prefix for a command to run inside the host's namespace: [ip, 'netns', 'exec', ns], with
   * ip's absolute path when found ([] in fallback). ip netns exec execs, so the spawned pid is
   * the program's own pid.
   */
  readonly wrap: readonly string[];
}

export interface Network {
  readonly isolated: boolean;
  /** Why isolated is false ('' when it is true). */
  readonly fallbackReason: string;
  /** The root namespace's address on the bridge (clients connect from it), or 127.0.0.1. */
  readonly clientAddress: string;
  addHost(name: string): Promise<Host>;
  /** Silently drops all a-b traffic both ways ('clients' is the root namespace). Idempotent. */
  cut(a: Host | 'clients', b: Host | 'clients'): Promise<void>;
  heal(a: Host | 'clients', b: Host | 'clients'): Promise<void>;
  /** Heals every cut. */
  healAll(): Promise<void>;
  /** Deletes every namespace, veth and the bridge this network made. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_PREFIX = 'pv';
const PREFIX = /^[a-z]{1,5}$/;
const TIMEOUT_MS = 5_000;
const SUBNET_BASE = '10.213';
const LOOPBACK = '127.0.0.1';
const CUT_PREF = '50';
const LOCAL_PREF = '100';
const GONE = /Cannot find device|No such file or directory|does not exist|No such process/i;
const EXISTS = /File exists/i;

const IP =
  ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

/**
 * Runs `ip <command>`, split on spaces (no shell), as no name holds one. A failure whose stderr
 * matches `harmless` (a piece already there, or already gone) counts as success.
 */
function run(command: string, harmless?: RegExp): Promise<string> {
  const options = { timeout: TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' } as const;
  return new Promise((resolve, reject) => {
    execFile(IP, command.split(' '), options, (err, stdout, stderr) => {
      if (err && !harmless?.test(stderr))
        reject(new Error(`ip ${command} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Runs every command, ignoring pieces already gone, then reports what else failed. */
async function removeAll(commands: readonly string[], what: string): Promise<void> {
  const failures: string[] = [];
  for (const command of commands)
    await run(command, GONE).catch((err: Error) => failures.push(err.message));
  if (failures.length > 0) throw new Error(`${what} failed: ${failures.join('; ')}`);
}

async function json<T>(command: string): Promise<T[]> {
  const out = (await run(`-j ${command}`)).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

interface Pieces {
  readonly stem: string;
  readonly bridge: string;
  readonly veths: Set<string>;
  readonly namespaces: Set<string>;
}

// Networks of this process not yet closed: removed synchronously if the process ends first.
const live = new Set<Pieces>();
let exitHookInstalled = false;

// Veths go before namespaces: a namespace outlives `ip netns del` while a process still runs in
// it, and so would its veth and bridge port, unless the pair is deleted from our end.
function removals(pieces: Pieces): string[] {
  return [
    ...[...pieces.veths].map((v) => `link del ${v}`),
    ...[...pieces.namespaces].map((ns) => `netns del ${ns}`),
    `link del ${pieces.bridge}`,
  ];
}

function destroySync(pieces: Pieces): void {
  live.delete(pieces);
  for (const command of removals(pieces)) {
    try {
      execFileSync(IP, command.split(' '), { timeout: TIMEOUT_MS, stdio: 'ignore' });
    } catch {
      // The process is ending: a piece gone already, or one we cannot remove, stops nothing.
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => [...live].forEach(destroySync));
  // A signal ends the process without 'exit'. Clean up, then let the signal do what it would
  // have done had no one listened.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      [...live].forEach(destroySync);
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

type Cidr = readonly [net: number, len: number];

// ip prints IPv4 destinations only ('default' aside), a /32 without its length.
function toCidr(text: string): Cidr {
  const [addr = '', len = '32'] = text.split('/');
  return [addr.split('.').reduce((n, o) => n * 256 + Number(o), 0), Number(len)];
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a[1], b[1]);
  const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  return (a[0] & mask) >>> 0 === (b[0] & mask) >>> 0;
}

/** The devices of every route (local ones included: each address has one) overlapping a subnet. */
async function routesInto(subnet: Cidr): Promise<string[]> {
  type Route = { readonly dst: string; readonly dev?: string };
  const routes = await json<Route>('-4 route show table all');
  const into = (r: Route): boolean => r.dst !== 'default' && overlaps(toCidr(r.dst), subnet);
  return routes.filter(into).map((r) => r.dev ?? '');
}

/**
 * Gives the bridge .1 of a 10.213.X.0/24 nothing else on the machine routes to. Two runs
 * starting together may both find X free; after taking it, the one whose bridge sorts later yields.
 */
async function claimSubnet(bridge: string, start: number): Promise<string> {
  for (let i = 0; i < 256; i++) {
    const net = `${SUBNET_BASE}.${(start + i) % 256}`;
    const subnet = toCidr(`${net}.0/24`);
    if ((await routesInto(subnet)).length > 0) continue;
    await run(`addr add ${net}.1/24 dev ${bridge}`);
    const rivals = (await routesInto(subnet)).filter((dev) => dev !== bridge);
    if (rivals.every((dev) => dev > bridge)) return net;
    await run(`addr del ${net}.1/24 dev ${bridge}`);
  }
  throw new Error(`no free /24 in ${SUBNET_BASE}.0.0/16`);
}

interface HostRecord extends Host {
  readonly ns: string;
  readonly veth: string;
}

type End = HostRecord | 'clients';

class IsolatedNetwork implements Network {
  readonly isolated = true;
  readonly fallbackReason = '';
  readonly clientAddress: string;
  private readonly hosts = new Map<string, HostRecord>();
  private readonly cuts = new Map<string, readonly [End, End]>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly pieces: Pieces,
    private readonly subnet: string,
  ) {
    this.clientAddress = `${subnet}.1`;
  }

  // One operation at a time: a cut racing the addHost or close it depends on would fail oddly.
  private serial<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the network is closed'));
    const result = this.queue.then(op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  addHost(name: string): Promise<Host> {
    return this.serial(async () => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(name) || name === 'clients')
        throw new Error(`bad host name ${JSON.stringify(name)}`);
      if (this.hosts.has(name)) throw new Error(`host ${name} already exists`);
      const index = this.hosts.size + 1;
      if (index > 253) throw new Error('a network holds at most 253 hosts');
      const { stem, veths, namespaces } = this.pieces;
      const [ns, outer, veth] = [`${stem}-${name}`, `${stem}${index}a`, `${stem}${index}b`];
      const address = `${this.subnet}.${index + 1}`;
      namespaces.add(ns);
      veths.add(outer);
      await run(`netns add ${ns}`);
      await run(`link add ${outer} type veth peer name ${veth} netns ${ns}`);
      await run(`link set dev ${outer} master ${this.pieces.bridge} up`);
      await run(`-n ${ns} link set dev lo up`);
      await run(`-n ${ns} addr add ${address}/24 dev ${veth}`);
      await run(`-n ${ns} link set dev ${veth} up`);
      await run(`-n ${ns} rule add pref ${LOCAL_PREF} table local`);
      await run(`-n ${ns} rule del pref 0 table local`);
      const wrap = Object.freeze([IP, 'netns', 'exec', ns]);
      this.hosts.set(name, { name, address, wrap, ns, veth });
      return Object.freeze({ name, address, wrap });
    });
  }

  cut(a: Host | 'clients', b: Host | 'clients'): Promise<void> {
    return this.serial(() => this.block(this.end(a), this.end(b), true));
  }

  heal(a: Host | 'clients', b: Host | 'clients'): Promise<void> {
    return this.serial(() => this.block(this.end(a), this.end(b), false));
  }

  healAll(): Promise<void> {
    return this.serial(async () => {
      for (const [x, y] of [...this.cuts.values()]) await this.block(x, y, false);
    });
  }

  close(): Promise<void> {
    if (this.closed) return this.queue.then(() => undefined);
    const done = this.serial(() => {
      live.delete(this.pieces);
      return removeAll(removals(this.pieces), 'closing the network');
    });
    this.closed = true;
    return done;
  }

  private async block(x: End, y: End, on: boolean): Promise<void> {
    const key = pairKey(x, y);
    for (const [ns, match] of blockRules(x, y, this.clientAddress))
      await run(
        `-n ${ns} rule ${on ? 'add' : 'del'} pref ${CUT_PREF} ${match} blackhole`,
        on ? EXISTS : GONE,
      );
    if (on) this.cuts.set(key, [x, y]);
    else this.cuts.delete(key);
  }

  private end(h: Host | 'clients'): End {
    if (h === 'clients') return h;
    const record = this.hosts.get(h.name);
    if (record === undefined || record.address !== h.address)
      throw new Error(`host ${h.name} is not on this network`);
    return record;
  }
}

function pairKey(x: End, y: End): string {
  const [p, q] = [x === 'clients' ? '' : x.name, y === 'clients' ? '' : y.name];
  if (p === q) throw new Error('cannot cut an end from itself');
  return p < q ? `${p}|${q}` : `${q}|${p}`;
}

/**
 * The rules that cut x from y. Between hosts each side drops what arrives from the other. The
 * root namespace is left alone, so the host drops what the clients send and what it would send
 * them (its own connects to them fail at once; its replies and retransmits vanish).
 */
function blockRules(x: End, y: End, clientAddress: string): readonly (readonly [string, string])[] {
  if (x === 'clients' || y === 'clients') {
    const h = x === 'clients' ? (y as HostRecord) : x;
    return [
      [h.ns, `from ${clientAddress}/32 iif ${h.veth}`],
      [h.ns, `to ${clientAddress}/32`],
    ];
  }
  return [
    [x.ns, `from ${y.address}/32 iif ${x.veth}`],
    [y.ns, `from ${x.address}/32 iif ${y.veth}`],
  ];
}

function fallback(reason: string): Network {
  const names = new Set<string>();
  const why = `network faults need network namespaces, unavailable here (${reason})`;
  const unsupported = (): Promise<void> => Promise.reject(new Error(why));
  return {
    isolated: false,
    fallbackReason: reason,
    clientAddress: LOOPBACK,
    addHost(name) {
      if (names.has(name)) return Promise.reject(new Error(`host ${name} already exists`));
      names.add(name);
      return Promise.resolve(Object.freeze({ name, address: LOOPBACK, wrap: Object.freeze([]) }));
    },
    cut: unsupported,
    heal: unsupported,
    // Nothing was ever cut, so there is nothing to heal.
    healAll: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

let sequence = 0;

function makeStem(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new Error(`bad network prefix ${JSON.stringify(prefix)}`);
  const pid = process.pid.toString(36).padStart(5, '0').slice(-5);
  for (let i = 0; i < 36; i++) {
    const stem = `${prefix}${pid}${(sequence++ % 36).toString(36)}`;
    if (![...live].some((p) => p.stem === stem)) return stem;
  }
  throw new Error('36 networks are open in this process already');
}

/**
 * Opens a network. `prefix` (1-5 lowercase letters, 'pv' by default) starts every name, then
 * the owning pid and a sequence digit follow, so runs never collide and sweepNetworks(prefix)
 * finds the leftovers. With forceFallback, or where namespaces fail, the network is not isolated.
 */
export async function openNetwork(
  options: { readonly prefix?: string; readonly forceFallback?: boolean } = {},
): Promise<Network> {
  const stem = makeStem(options.prefix ?? DEFAULT_PREFIX);
  if (options.forceFallback) return fallback('forceFallback was set');
  if (process.platform !== 'linux') return fallback(`not Linux (${process.platform})`);
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return fallback(`not running as root (uid ${uid})`);
  const pieces: Pieces = { stem, bridge: `${stem}br`, veths: new Set(), namespaces: new Set() };
  installExitHook();
  live.add(pieces);
  try {
    await run(`link add ${pieces.bridge} type bridge`);
    await run(`link set dev ${pieces.bridge} up`);
    const start = [...stem].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 256, 7);
    const subnet = await claimSubnet(pieces.bridge, start);
    // A namespace with a veth, made and removed now, so that `isolated` means addHost works.
    const [ns, veth] = [`${stem}-probe`, `${stem}0a`];
    pieces.namespaces.add(ns);
    pieces.veths.add(veth);
    await run(`netns add ${ns}`);
    await run(`link add ${veth} type veth peer name ${stem}0b netns ${ns}`);
    await removeAll([`link del ${veth}`, `netns del ${ns}`], 'removing the probe');
    pieces.namespaces.delete(ns);
    pieces.veths.delete(veth);
    return new IsolatedNetwork(pieces, subnet);
  } catch (err) {
    await removeAll(removals(pieces), 'cleaning up').catch(() => destroySync(pieces));
    live.delete(pieces);
    return fallback((err as Error).message);
  }
}

/**
 * Removes leftovers of earlier runs that died without close(): namespaces, veths and bridges
 * whose names start with the prefix and whose owner is gone. A live owner's are left alone (also
 * when its pid was reused: those stay until that process ends).
 */
export async function sweepNetworks(prefix: string = DEFAULT_PREFIX): Promise<void> {
  if (!PREFIX.test(prefix)) throw new Error(`bad network prefix ${JSON.stringify(prefix)}`);
  const ours = new RegExp(`^(${prefix}([0-9a-z]{5})[0-9a-z])(br|\\d{1,3}[ab]|-.+)$`);
  const stale = (name: string): boolean => {
    const [, stem, pid = ''] = ours.exec(name) ?? [];
    if (stem === undefined) return false;
    const owner = parseInt(pid, 36);
    if (owner === process.pid) return ![...live].some((p) => p.stem === stem);
    return !existsSync(`/proc/${owner}`);
  };
  // Without ip there cannot be namespaces or links of ours to remove.
  const list = <T>(command: string): Promise<T[]> =>
    json<T>(command).catch((err: Error) => (/ENOENT/.test(err.message) ? [] : Promise.reject(err)));
  const links = (await list<{ readonly ifname: string }>('link show')).map((l) => l.ifname);
  const namespaces = (await list<{ readonly name: string }>('netns list')).map((n) => n.name);
  // Veth ends first, bridges after their ports, namespaces last (see removals).
  const doomed = [
    ...links.filter((n) => stale(n) && !n.endsWith('br')).map((n) => `link del ${n}`),
    ...links.filter((n) => stale(n) && n.endsWith('br')).map((n) => `link del ${n}`),
    ...namespaces.filter(stale).map((n) => `netns del ${n}`),
  ];
  await removeAll(doomed, 'sweeping networks');
}
