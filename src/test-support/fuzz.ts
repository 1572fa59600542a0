// Seeded generators of hostile input, shared by test/fuzz-http.test.ts and
// test/fuzz-realtime.test.ts. A run is replayable: PARLEY_FUZZ_SEED picks the seed (the tests
// print it with every failure), PARLEY_FUZZ_ROUNDS how many rounds each route or frame type gets.
// The default is small enough for `npm test`; PARLEY_FUZZ_ROUNDS=50 is a longer hunt.
import { DEFAULT_LIMITS } from '../core/limits.js';

export interface FuzzSettings {
  readonly seed: number;
  readonly rounds: number;
}

/** The seed and rounds of this run, from the environment (a fresh seed unless one is given). */
export function fuzzSettings(defaultRounds = 2): FuzzSettings {
  const seedText = process.env.PARLEY_FUZZ_SEED;
  const roundsText = process.env.PARLEY_FUZZ_ROUNDS;
  const seed = seedText ? Number(seedText) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  const rounds = roundsText ? Math.max(1, Number(roundsText) | 0) : defaultRounds;
  return { seed, rounds };
}

/** The line that replays a run, for assertion messages. */
export const replayHint = (s: FuzzSettings): string =>
  `replay with PARLEY_FUZZ_SEED=${s.seed} PARLEY_FUZZ_ROUNDS=${s.rounds}`;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const { jsonDepthMax, messageBodyDepthMax, httpBodyBytesMax, frameBytesMax } = DEFAULT_LIMITS;

/** `depth` nested arrays around `inner`, as text: no recursion is needed to make or send it. */
export function nestedJsonText(depth: number, inner = '1'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** A value `depth` levels deep (objects and arrays in turn); keep depth in the hundreds at most. */
export function nestedValue(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

/** Text that naive string handling gets wrong. Each survives JSON.stringify. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800', // a lone surrogate: not text in UTF-8
  '\udfff\ud800',
  '\u202eevil',
  '\ufeff',
  '😀'.repeat(40),
  'e\u0301',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '<script>',
  "' OR 1=1 --",
  '\r\nX-Injected: 1',
  'x'.repeat(65),
  'x'.repeat(300),
  'x'.repeat(20_000),
];

/** A value of a wrong type or at an edge, for any field. */
export function oddValue(rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0:
      return null;
    case 1:
      return rng.pick([true, false]);
    case 2:
      return rng.pick([0, -1, 1.5, -0.5, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, 2 ** 31]);
    case 3:
    case 4:
      return rng.pick(ODD_STRINGS);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return rng.pick([[1, 'a', null], ['x'], [{}]]);
    case 8:
      return { unexpected: true, nested: { a: [1] } };
    case 9:
      return nestedValue(rng.pick([10, messageBodyDepthMax + 1, jsonDepthMax - 4]));
    case 10:
      return Array.from({ length: rng.pick([1000, 20_000]) }, (_, i) => i);
    default:
      return 'x'.repeat(rng.pick([1000, 100_000]));
  }
}

/** Every path to a field of a JSON value (the value itself is the empty path). */
function fieldPaths(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
) {
  out.push(prefix);
  if (prefix.length > 8) return out;
  if (Array.isArray(value)) value.forEach((v, i) => fieldPaths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) fieldPaths(v, [...prefix, k], out);
  }
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) delete node[last];
  else node[last] = value;
  return copy;
}

/** One change to a JSON value, with a label: a field replaced, dropped, or an unknown one added. */
export function mutateJson(rng: Rng, value: unknown): { label: string; value: unknown } {
  const paths = fieldPaths(value);
  const path = rng.pick(paths);
  const where = path.join('.') || '(root)';
  const r = rng.int(10);
  if (r < 2 && path.length > 0)
    return { label: `drop ${where}`, value: setAt(value, path, 0, true) };
  if (r < 3 && value && typeof value === 'object' && !Array.isArray(value)) {
    return { label: 'unknown field', value: { ...value, ['zz' + rng.int(100)]: oddValue(rng) } };
  }
  const odd = oddValue(rng);
  return { label: `${where} = ${describe(odd)}`, value: setAt(value, path, odd, false) };
}

/** A short description of a value for failure messages. */
export function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
}

// Byte sequences that are not valid UTF-8, or that decoders get wrong.
const BAD_UTF8: readonly (readonly number[])[] = [
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong, three bytes
  [0xed, 0xa0, 0x80], // a surrogate encoded (CESU-8)
  [0xff, 0xfe],
  [0x80], // a lone continuation byte
  [0xe2, 0x82], // truncated sequence
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x00], // a raw NUL inside a JSON string
];

const MARK = '\u0001fuzz\u0001';

/** `value` as JSON bytes with a random string field's content replaced by `raw` bytes. */
function spliceIntoString(rng: Rng, value: unknown, raw: Buffer): Buffer {
  const paths = fieldPaths(value).filter((p) => p.length > 0);
  const path = paths.length > 0 ? rng.pick(paths) : [];
  const text = JSON.stringify(setAt(value, path, MARK, false));
  const [before, after] = text.split(JSON.stringify(MARK)) as [string, string];
  return Buffer.concat([Buffer.from(before + '"'), raw, Buffer.from('"' + after)]);
}

/** `value` as JSON bytes with a random field replaced by raw JSON `text` (deep nesting). */
function spliceJson(rng: Rng, value: unknown, text: string): Buffer {
  const paths = fieldPaths(value).filter((p) => p.length > 0);
  if (paths.length === 0) return Buffer.from(text);
  const marked = JSON.stringify(setAt(value, rng.pick(paths), MARK, false));
  return Buffer.from(marked.split(JSON.stringify(MARK)).join(text));
}

export interface HostileBody {
  readonly label: string;
  readonly bytes: Buffer;
}

/**
 * A JSON document that is not what the receiver expects, made from a valid `example`: mutated
 * fields, nesting just within and past the limits (and 5,000 deep), sizes just within and past
 * `bytesMax`, bytes that are not UTF-8, text that is not JSON, and other shapes.
 */
export function hostileJson(rng: Rng, example: unknown, bytesMax: number): HostileBody {
  const json = (label: string, value: unknown): HostileBody => ({
    label,
    bytes: Buffer.from(JSON.stringify(value) ?? 'null'),
  });
  switch (rng.int(14)) {
    case 0:
    case 1:
    case 2: {
      const m = mutateJson(rng, example);
      return json(m.label, m.value);
    }
    case 3: {
      const depth = rng.pick([jsonDepthMax - 2, jsonDepthMax + 1, 5000]);
      return {
        label: `field nested ${depth} deep`,
        bytes: spliceJson(rng, example, nestedJsonText(depth)),
      };
    }
    case 4: {
      const depth = rng.pick([jsonDepthMax, jsonDepthMax + 1, 5000]);
      return { label: `document nested ${depth} deep`, bytes: Buffer.from(nestedJsonText(depth)) };
    }
    case 5: {
      const size = rng.pick([bytesMax - 200, bytesMax + 1, 2 * bytesMax]);
      const m = spliceJson(rng, example, JSON.stringify('y'.repeat(Math.max(1, size))));
      return { label: `a string making ~${size} bytes`, bytes: m };
    }
    case 6: {
      const bytes = Buffer.from(rng.pick(BAD_UTF8));
      return {
        label: `bytes ${bytes.toString('hex')} in a string`,
        bytes: spliceIntoString(rng, example, bytes),
      };
    }
    case 7:
      return {
        label: 'not JSON',
        bytes: Buffer.from(
          rng.pick([
            '{',
            '{"a":',
            "{'a':1}",
            '{"a":1}garbage',
            'NaN',
            '{"a":1,}',
            '/* */{}',
            '\ufeff{}',
            '',
          ]),
        ),
      };
    case 8:
      return json('not an object', rng.pick([[], [example], 'text', 42, null, true]));
    case 9:
      return {
        label: '__proto__',
        bytes: Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{}}}'),
      };
    case 10: {
      const text = JSON.stringify(example) ?? '{}';
      return {
        label: 'duplicate keys',
        bytes: Buffer.from(text.replace(/^\{/, '{"kind":1,"kind":"x",')),
      };
    }
    case 11: {
      const count = rng.pick([10_000, Math.floor(bytesMax / 2)]);
      return {
        label: `an array of ${count}`,
        bytes: spliceJson(rng, example, `[${'0,'.repeat(count)}0]`),
      };
    }
    case 12:
      return { label: 'random bytes', bytes: randomBytes(rng, rng.pick([1, 64, 4096])) };
    default:
      return json('example', example);
  }
}

/** Bytes from the seeded generator. */
export function randomBytes(rng: Rng, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = rng.int(256);
  return bytes;
}

/**
 * Message bodies for a send or an edit: custom payloads nested exactly to messageBodyDepthMax
 * (accepted), one past it and 5,000 deep (refused), and odd kinds and fields.
 */
export function hostileMessageBody(rng: Rng): { label: string; body: unknown; raw?: string } {
  switch (rng.int(6)) {
    case 0:
      return {
        label: `custom payload at the depth limit`,
        // The body is level 1 and its payload level 2: the innermost array is the limit.
        body: {
          kind: 'custom',
          type: 'fz',
          payload: JSON.parse(nestedJsonText(messageBodyDepthMax - 1)),
        },
      };
    case 1:
      return {
        label: 'custom payload one level too deep',
        body: {
          kind: 'custom',
          type: 'fz',
          payload: JSON.parse(nestedJsonText(messageBodyDepthMax)),
        },
      };
    case 2:
      return {
        label: 'custom payload 5,000 deep',
        body: null,
        raw: `{"kind":"custom","type":"fz","payload":${nestedJsonText(5000)}}`,
      };
    case 3:
      return {
        label: 'odd kind',
        body: { kind: rng.pick(['system', 'recalled', '', 'TEXT', 42]) },
      };
    case 4: {
      const m = mutateJson(rng, { kind: 'text', text: 'hi', mentions: ['uAAAAAAAAAAAAAAAA'] });
      return { label: `text body: ${m.label}`, body: m.value };
    }
    default:
      return {
        label: 'huge text',
        body: { kind: 'text', text: 'z'.repeat(rng.pick([16_001, 60_000])) },
      };
  }
}

/** Path segments and query values: bad percent-encoding, NUL, dots, length past 100. */
export const ODD_SEGMENTS: readonly string[] = [
  '%',
  '%Z',
  '%ZZ',
  '%C3%28', // invalid UTF-8 once decoded
  '%ED%A0%80', // a surrogate, percent-encoded
  '%C0%AF', // overlong
  '%00',
  '%0A',
  '..',
  '%2e%2e',
  '%2F',
  'a%20b',
  '%E2%80%AE',
  '%F0%9F%98%80',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(101),
  'x'.repeat(1000),
  '-1',
  '1.5',
  '1e3',
  '9007199254740993',
  'null',
  'me',
  // Raw bytes in the request line: not URL characters at all.
  'caf\u00e9',
  '\u00ff\u00fe',
  'a b',
  'a\u0000b',
  'a\tb',
];

/** Limits the generators size their inputs against. */
export const FUZZ_LIMITS = { httpBodyBytesMax, frameBytesMax } as const;

/** A client frame as an object (either codec encodes it) or as JSON text only a JSON link takes. */
export interface HostileFrame {
  readonly label: string;
  readonly frame?: Record<string, unknown>;
  readonly text?: string;
}

/**
 * A frame that is not what the server expects, made from a valid `frame`: mutated, missing and
 * unknown fields, wrong types, nesting within and past jsonDepthMax (and 5,000 deep), a field
 * just within and past frameBytesMax, unknown types, hostile message bodies.
 */
export function hostileFrame(rng: Rng, frame: Record<string, unknown>): HostileFrame {
  // A message body is where arbitrary JSON gets in: it gets a good share of the variants.
  switch ('body' in frame && rng.chance(0.3) ? 6 : rng.int(9)) {
    case 0:
    case 1:
    case 2: {
      const m = mutateJson(rng, frame);
      return { label: m.label, frame: m.value as Record<string, unknown> };
    }
    case 3: {
      const depth = rng.pick([jsonDepthMax - 2, jsonDepthMax + 1, 5000]);
      const text = spliceJson(rng, frame, nestedJsonText(depth)).toString();
      return { label: `a field nested ${depth} deep`, text };
    }
    case 4: {
      const size = rng.pick([frameBytesMax - 600, frameBytesMax + 100]);
      const key = rng.pick(Object.keys(frame));
      return { label: `${key} of ${size} bytes`, frame: { ...frame, [key]: 'h'.repeat(size) } };
    }
    case 5: {
      const type = rng.pick(['nope', '', 'Send', '__proto__', 'constructor', 'welcome', 'error']);
      return { label: `type ${JSON.stringify(type)}`, frame: { ...frame, type } };
    }
    case 6: {
      if (!('body' in frame)) return { label: 'no type', frame: { id: frame.id ?? 'x' } };
      const m = hostileMessageBody(rng);
      if (m.raw === undefined) return { label: m.label, frame: { ...frame, body: m.body } };
      const marked = JSON.stringify({ ...frame, body: MARK });
      return { label: m.label, text: marked.replace(JSON.stringify(MARK), m.raw) };
    }
    case 7:
      return {
        label: 'an extra field',
        frame: { ...frame, [rng.pick(['zz', '__proto__', 'kind'])]: oddValue(rng) },
      };
    default:
      return { label: 'as is', frame };
  }
}

/** Bytes of a valid encoded frame, broken: cut short, bits flipped, garbage around it. */
export function corruptBytes(rng: Rng, bytes: Uint8Array): { label: string; bytes: Uint8Array } {
  const copy = Buffer.from(bytes);
  switch (rng.int(5)) {
    case 0:
      return { label: 'cut short', bytes: copy.subarray(0, rng.int(Math.max(1, copy.length))) };
    case 1: {
      for (let i = 0; i < 1 + rng.int(4); i++) copy[rng.int(copy.length)] = rng.int(256);
      return { label: 'bytes flipped', bytes: copy };
    }
    case 2:
      return {
        label: 'garbage after',
        bytes: Buffer.concat([copy, randomBytes(rng, 1 + rng.int(32))]),
      };
    case 3:
      // A varint that never ends, then a length far past the frame.
      return {
        label: 'endless varint',
        bytes: Buffer.from([0x0a, ...Array<number>(11).fill(0xff), 0x01]),
      };
    default:
      return { label: 'random bytes', bytes: randomBytes(rng, 1 + rng.int(256)) };
  }
}
