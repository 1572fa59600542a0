import { isIPv4, isIPv6 } from 'node:net';

// Which addresses an outbound request may connect to, judged on the address it will connect to
// (after DNS), never on the host name. An IPv6 address that carries an IPv4 one (mapped,
// compatible, SIIT-translated, NAT64, 6to4) is judged as that IPv4 address: "::ffff:127.0.0.1"
// and "::ffff:0:127.0.0.1" are loopback.

export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'reserved'
  | 'unspecified'
  | 'multicast'
  | 'metadata';

/**
 * Kinds refused even for an origin the operator listed: nothing legitimate listens there, and
 * a cloud metadata service hands out credentials.
 */
const NEVER: ReadonlySet<AddressKind> = new Set(['unspecified', 'multicast', 'metadata']);

/** Cloud metadata services (AWS, GCP, Azure, OpenStack; ECS; Alibaba; AWS over IPv6). */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200']);
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254']);

type V4Range = readonly [base: string, bits: number, kind: AddressKind];

const V4_RANGES: readonly V4Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'private'], // benchmarking
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'multicast'], // broadcast
  ['240.0.0.0', 4, 'reserved'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return ip >= start && ip < start + size;
}

function classifyV4(ip: string): AddressKind {
  if (METADATA_V4.has(ip)) return 'metadata';
  const n = v4ToInt(ip);
  return V4_RANGES.find(([base, bits]) => inV4(n, base, bits))?.[2] ?? 'public';
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let text = ip.replace(/%.*$/, '');
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const n = v4ToInt(v4Tail[1]!);
    text =
      text.slice(0, -v4Tail[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function v4Of(hi: number, lo: number): string {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

function classifyV6(ip: string): AddressKind {
  const g = v6Groups(ip);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (METADATA_V6.has(g.map((x) => x.toString(16)).join(':'))) return 'metadata';
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(8)) return 'unspecified';
  if (zeroTo(7) && g7 === 1) return 'loopback';
  // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96 carry an IPv4 address.
  if (zeroTo(5) && (g5 === 0xffff || g5 === 0)) return classifyV4(v4Of(g6, g7));
  // IPv4-translated ::ffff:0:0:0/96 (SIIT, RFC 7915): a stateless translator delivers it to IPv4.
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return classifyV4(v4Of(g6, g7));
  // NAT64, well-known prefix 64:ff9b::/96: a translator would connect to the IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyV4(v4Of(g6, g7));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'; // local-use NAT64
  if (g0 === 0x2002) return classifyV4(v4Of(g1, g2)); // 6to4
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // discard-only
  if (g0 === 0x2001 && g1 < 0x200) return 'reserved'; // IETF assignments, Teredo, ORCHID
  if (g0 === 0x2001 && g1 === 0xdb8) return 'reserved'; // documentation
  return 'public';
}

/** What kind of address `ip` is; throws on a string that is not an IP address. */
export function classifyAddress(ip: string): AddressKind {
  if (isIPv4(ip)) return classifyV4(ip);
  if (isIPv6(ip)) return classifyV6(ip);
  throw new Error(`not an IP address: ${ip}`);
}

/**
 * Why a request may not connect to `ip`, or null. `listed`: the operator listed the request's
 * exact origin, which permits loopback, private, link-local and reserved addresses, never the
 * kinds in NEVER.
 */
export function addressProblem(ip: string, listed: boolean): string | null {
  const kind = classifyAddress(ip);
  if (kind === 'public') return null;
  if (listed && !NEVER.has(kind)) return null;
  return `${kind} address ${ip}`;
}
