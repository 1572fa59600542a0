// Proves that the verify harness's network faults are real: a TCP server in one host's namespace
// is reached from the clients and from another host, a cut silences exactly the pair it names,
// heal restores it, and nothing is left behind by close(), by a signal, or (after a sweep) by a
// run killed outright. The namespace suite needs root; it skips without it unless CI is set.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { openNetwork, sweepNetworks, type Host, type Network } from './netns.js';

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p)) ?? 'ip';
const PORT = 7000;
const CONNECT_TIMEOUT_MS = 1000;
const MODULE_URL = new URL('./netns.ts', import.meta.url).href;

function namespacesSkip(): string | false {
  if (process.env.CI) return false;
  const why = 'set CI to make this a failure';
  if (process.getuid?.() !== 0) return `network namespaces need root; ${why}`;
  const probe = `parley-netns-test-${process.pid}`;
  try {
    execFileSync(IP, ['netns', 'add', probe], { stdio: 'pipe', timeout: 5000 });
    execFileSync(IP, ['netns', 'del', probe], { stdio: 'pipe', timeout: 5000 });
    return false;
  } catch (err) {
    return `ip netns add failed (${(err as Error).message}); ${why}`;
  }
}

// One script for both sides, so that the root and a namespace report alike: the server's
// greeting, 'timeout' when nothing answers within CONNECT_TIMEOUT_MS, or 'error:<code>'.
const CLIENT = `
const [host, port, ms] = process.argv.slice(1);
let data = '';
const socket = require('net').connect({ host, port: Number(port) });
const timer = setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(ms));
socket.on('data', (d) => { data += d; });
socket.on('end', () => { clearTimeout(timer); console.log(data); process.exit(0); });
socket.on('error', (e) => { clearTimeout(timer); console.log('error:'+e.code); process.exit(0); });
`;

const SERVER = `
const [host, port] = process.argv.slice(1);
require('net').createServer((s) => s.end('hi')).listen(Number(port), host);
`;

/** Connects from `from` (a host's namespace, or the root namespace for 'clients') to a:PORT. */
function reach(from: Host | 'clients', to: Host): Promise<string> {
  const wrap = from === 'clients' ? [] : from.wrap;
  const argv = [...wrap, process.execPath, '-e', CLIENT, to.address, String(PORT)];
  const [file = '', ...args] = [...argv, String(CONNECT_TIMEOUT_MS)];
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

function connectOnce(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port: PORT });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('data', () => socket.destroy());
    socket.on('close', (hadError) => resolve(!hadError && socket.bytesRead > 0));
    socket.on('error', () => undefined);
  });
}

async function waitReachable(address: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await connectOnce(address)) return;
    await sleep(100);
  }
  throw new Error(`nothing answers on ${address}:${PORT}`);
}

function namesInUse(): { links: string[]; namespaces: string[] } {
  const list = (args: string[]): unknown[] =>
    JSON.parse(execFileSync(IP, ['-j', ...args], { encoding: 'utf8' }) || '[]') as unknown[];
  return {
    links: list(['link', 'show']).map((l) => (l as { ifname: string }).ifname),
    namespaces: list(['netns', 'list']).map((n) => (n as { name: string }).name),
  };
}

/** The names a network made, known by the stem its namespaces share with its links. */
function piecesOf(ns: string): string[] {
  const stem = ns.slice(0, ns.indexOf('-'));
  const { links, namespaces } = namesInUse();
  return [...links, ...namespaces].filter((n) => n.startsWith(stem));
}

function kill(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // It ended on its own between the check and the kill.
  }
}

/** Starts a process that opens a network with one host and waits; resolves to that namespace. */
function startRun(): Promise<{ child: ChildProcess; ns: string }> {
  const script = `
const { openNetwork } = await import(process.argv[1]);
const network = await openNetwork();
console.log((await network.addHost('x')).wrap[3]);
setInterval(() => undefined, 1000);
`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, MODULE_URL],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the run did not start in 10 s')), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve({ child, ns: out.trim() });
    });
    child.on('exit', (code) => reject(new Error(`the run exited early (${code})`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('openNetwork with namespaces', { skip: namespacesSkip() }, () => {
  let network: Network;
  let a: Host;
  let b: Host;
  let server: ChildProcess | undefined;

  before(async () => {
    network = await openNetwork();
    assert.equal(network.isolated, true, network.fallbackReason);
    a = await network.addHost('a');
    b = await network.addHost('b');
    const [file = '', ...args] = [...a.wrap, process.execPath, '-e', SERVER, a.address, `${PORT}`];
    server = spawn(file, args, { stdio: 'ignore' });
    await waitReachable(a.address);
  });

  after(async () => {
    kill(server);
    await network?.close();
  });

  it('gives each host its own namespace and address on the bridge subnet', () => {
    assert.equal(network.fallbackReason, '');
    const subnet = (address: string): string => address.split('.').slice(0, 3).join('.');
    assert.notEqual(a.address, b.address);
    assert.equal(subnet(a.address), subnet(network.clientAddress));
    assert.equal(subnet(b.address), subnet(network.clientAddress));
    assert.notEqual(a.wrap[3], b.wrap[3]);
    assert.deepEqual(a.wrap.slice(1, 3), ['netns', 'exec']);
    const { namespaces } = namesInUse();
    assert.ok(namespaces.includes(a.wrap[3] ?? '') && namespaces.includes(b.wrap[3] ?? ''));
  });

  it('lets the clients and another host reach a host', async () => {
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['hi', 'hi']);
  });

  it('cut silences exactly the pair it names, without an error, and heal restores it', async () => {
    await network.cut(a, 'clients');
    await network.cut(a, 'clients');
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['timeout', 'hi']);
    await network.cut(a, b);
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['timeout', 'timeout']);
    await network.heal(a, 'clients');
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['hi', 'timeout']);
    await network.heal(b, a);
    await network.heal(b, a);
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['hi', 'hi']);
  });

  it('healAll heals every cut', async () => {
    await network.cut('clients', a);
    await network.cut(b, a);
    await network.healAll();
    assert.deepEqual(await Promise.all([reach('clients', a), reach(b, a)]), ['hi', 'hi']);
  });

  it('refuses to cut an end from itself, or a host of another network', async () => {
    await assert.rejects(network.cut(a, a), /itself/);
    await assert.rejects(network.cut('clients', 'clients'), /itself/);
    await assert.rejects(network.addHost('a'), /already exists/);
    const stranger: Host = { name: 'a', address: '10.0.0.9', wrap: [] };
    await assert.rejects(network.cut(stranger, b), /not on this network/);
  });
});

describe('network cleanup', { skip: namespacesSkip() }, () => {
  let mine: Network;
  let host: Host;

  before(async () => {
    mine = await openNetwork();
    host = await mine.addHost('x');
  });

  after(async () => {
    await mine?.close();
  });

  it('close removes the namespaces, veths and bridge, and may be called twice', async () => {
    const other = await openNetwork();
    const ns = (await other.addHost('x')).wrap[3] ?? '';
    // The namespace, the root's veth end and the bridge.
    assert.equal(piecesOf(ns).length, 3, piecesOf(ns).join(' '));
    await other.close();
    await other.close();
    assert.deepEqual(piecesOf(ns), []);
    await assert.rejects(other.addHost('y'), /closed/);
  });

  it('sweepNetworks removes what a killed run left, and spares live runs', async () => {
    const [killed, alive] = await Promise.all([startRun(), startRun()]);
    try {
      kill(killed.child);
      await exited(killed.child);
      assert.equal(piecesOf(killed.ns).length, 3, 'SIGKILL leaves the pieces behind');
      await sweepNetworks();
      assert.deepEqual(piecesOf(killed.ns), []);
      assert.equal(piecesOf(alive.ns).length, 3, "a live run's network is spared");
      assert.equal(piecesOf(host.wrap[3] ?? '').length, 3, "this process's network is spared");
      kill(alive.child, 'SIGTERM');
      await exited(alive.child);
      assert.equal(alive.child.signalCode, 'SIGTERM');
      assert.deepEqual(piecesOf(alive.ns), [], 'SIGTERM cleans up before the process ends');
    } finally {
      kill(killed.child);
      kill(alive.child);
    }
  });
});

describe('openNetwork in fallback', () => {
  it('puts every host on 127.0.0.1 and refuses network faults', async () => {
    const network = await openNetwork({ forceFallback: true });
    assert.equal(network.isolated, false);
    assert.match(network.fallbackReason, /forceFallback/);
    assert.equal(network.clientAddress, '127.0.0.1');
    const host = await network.addHost('node1');
    assert.deepEqual(host, { name: 'node1', address: '127.0.0.1', wrap: [] });
    await assert.rejects(network.cut(host, 'clients'), /network faults need network namespaces/);
    await assert.rejects(network.heal(host, 'clients'), /network faults need network namespaces/);
    await network.healAll();
    await network.close();
    await network.close();
  });

  it('refuses a prefix that would not fit interface names', async () => {
    await assert.rejects(openNetwork({ prefix: 'toolong', forceFallback: true }), /prefix/);
    await assert.rejects(sweepNetworks('pv-'), /prefix/);
  });
});
