import { isIPv4, isIPv6 } from 'node:net';

// The client address as the login throttle and the known sources see it. An IPv4 address is
// itself (an IPv4-mapped IPv6 address too); an IPv6 address stands for its /64, because one
// home or phone gets a whole /64 and picks new addresses in it at will (privacy extensions), so
// per address it could spread its guesses over 2^64 buckets, and its owner would be a new source
// every day.

/** The throttle's and known sources' name for a client address; undefined stays undefined. */
export function addressKey(ip: string | undefined): string | undefined {
  if (ip === undefined || ip === '') return undefined;
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  return `${ipv6Groups(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const part = (s: string): string[] => (s === '' ? [] : s.split(':').flatMap(group));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const zeros = Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right];
}

/** One group, or the two groups of an embedded dotted IPv4 tail. */
function group(g: string): string[] {
  if (!g.includes('.')) return [parseInt(g, 16).toString(16)];
  const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
