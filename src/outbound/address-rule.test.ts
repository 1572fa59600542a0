// Proves, by table, that every non-public address is recognised in each of its spellings (IPv4;
// IPv4-mapped, -compatible and -translated IPv6; NAT64; 6to4; compressed or not), that an origin
// the operator listed may be loopback or private but never metadata, unspecified or multicast,
// and that public addresses pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressProblem, classifyAddress, type AddressKind } from './index.js';

const TABLE: readonly (readonly [string, AddressKind])[] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:7f00:1', 'loopback'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['2002:7f00:1::', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'private'],
  ['100.127.255.255', 'private'],
  ['198.18.0.1', 'private'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:192.168.0.1', 'private'],
  ['::ffff:0:10.1.2.3', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['fec0::1', 'private'],
  ['64:ff9b:1::1', 'private'],
  ['169.254.0.1', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%lo', 'link-local'],
  ['febf::1', 'link-local'],
  ['::ffff:169.254.1.1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:0:169.254.169.254', 'metadata'],
  ['0:0:0:0:ffff:0:a9fe:a9fe', 'metadata'],
  ['64:ff9b::169.254.169.254', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['fd00:ec2:0:0:0:0:0:254', 'metadata'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['255.255.255.255', 'multicast'],
  ['ff02::1', 'multicast'],
  ['::ffff:224.0.0.251', 'multicast'],
  ['192.0.2.1', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['2001::1', 'reserved'],
  ['100::1', 'reserved'],
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['172.15.255.255', 'public'],
  ['172.32.0.0', 'public'],
  ['100.63.255.255', 'public'],
  ['100.128.0.0', 'public'],
  ['169.253.255.255', 'public'],
  ['11.0.0.0', 'public'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:0:8.8.8.8', 'public'],
  ['2606:4700::1111', 'public'],
  ['2a00:1450:4001::200e', 'public'],
  ['2002:808:808::', 'public'],
];

describe('address rule', () => {
  it('classifies every spelling of every kind', () => {
    for (const [ip, kind] of TABLE) assert.equal(classifyAddress(ip), kind, ip);
  });

  it('refuses every non-public address of an origin nobody listed', () => {
    for (const [ip, kind] of TABLE) {
      const problem = addressProblem(ip, false);
      if (kind === 'public') assert.equal(problem, null, ip);
      else assert.equal(problem, `${kind} address ${ip}`);
    }
  });

  it('lets a listed origin be loopback, private, link-local or reserved, never the rest', () => {
    const never = new Set<AddressKind>(['metadata', 'unspecified', 'multicast']);
    for (const [ip, kind] of TABLE) {
      assert.equal(addressProblem(ip, true) === null, !never.has(kind), `${ip} (${kind})`);
    }
  });

  it('throws on what is not an address', () => {
    assert.throws(() => classifyAddress('localhost'));
    assert.throws(() => classifyAddress('1.2.3'));
  });
});
