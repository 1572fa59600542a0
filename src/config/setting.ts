import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

// One setting = one TypeBox schema (type, bounds, enum, default, and its help as the
// description) plus the flag it is read from. The environment and flags are strings, so each is
// first read into the schema's type (strictly: "80.5" is not a port, "1" is not true), then
// checked against the schema; a value that fails is reported with what the schema accepts.

export interface Setting<S extends TSchema = TSchema> {
  /** The flag name; the environment variable is PARLEY_ + its upper snake case. */
  readonly name: string;
  readonly schema: S;
  /** Unset settings have no value (no default): the feature they name is off. */
  readonly optional: boolean;
  /** Its value may hold a credential: a bad one is reported without it. */
  readonly secret: boolean;
  /** What a bad value is told it should be, when the schema alone says it badly. */
  readonly expected: string;
  /** The raw string read into the schema's type. */
  readonly read: (raw: string) => unknown;
}

interface Extra {
  readonly secret?: boolean;
  readonly expected?: string;
  readonly read?: (raw: string) => unknown;
}

/** A setting with a default: its value is always there. */
export function setting<S extends TSchema>(
  name: string,
  schema: S,
  extra: Extra = {},
): Setting<S> & { readonly optional: false } {
  return { ...make(name, schema, extra), optional: false };
}

/** A setting without a default: unset, its feature is off. */
export function optional<S extends TSchema>(
  name: string,
  schema: S,
  extra: Extra = {},
): Setting<S> & { readonly optional: true } {
  return { ...make(name, schema, extra), optional: true };
}

function make<S extends TSchema>(name: string, schema: S, extra: Extra) {
  return {
    name,
    schema,
    secret: extra.secret ?? false,
    expected: extra.expected ?? expectedOf(schema),
    read: extra.read ?? readerOf(schema),
  };
}

/** The value of a setting, as loadConfig hands it on: undefined when an optional one is unset. */
export type ValueOf<T> = T extends Setting<infer S> & { readonly optional: infer O }
  ? O extends true
    ? Static<S> | undefined
    : Static<S>
  : never;

/** Reads and checks one raw value: the value, or what was expected. */
export function parseSetting(
  s: Setting,
  raw: string,
): { readonly value: unknown } | { readonly expected: string } {
  const value = s.read(raw);
  return Value.Check(s.schema, value) ? { value } : { expected: s.expected };
}

// Builders for the schemas settings use most, so that each setting reads as one line.

export const int = (min: number, max: number, help: string, fallback?: number) =>
  Type.Integer({ minimum: min, maximum: max, description: help, default: fallback });

export const oneOf = <const V extends string[]>(
  values: [...V],
  help: string,
  fallback?: V[number],
) => Type.Enum(values, { description: help, default: fallback });

export const flag = (help: string, fallback = false) =>
  Type.Boolean({ description: help, default: fallback });

/** A non-empty string (blank counts as empty). */
export const text = (help: string, fallback?: string) =>
  Type.String({ pattern: '\\S', description: help, default: fallback });

export const matching = (pattern: string, help: string) =>
  Type.String({ pattern, description: help });

/** A comma-separated list, each entry matching the pattern. */
export const list = (pattern: string, help: string, fallback?: string[]) =>
  Type.Array(Type.String({ pattern }), { minItems: 1, description: help, default: fallback });

export const splitList = (raw: string): string[] => raw.split(',').map((e) => e.trim());

function readerOf(schema: TSchema): (raw: string) => unknown {
  switch ((schema as { type?: unknown }).type) {
    case 'integer':
      return (raw) => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw);
    case 'boolean':
      return (raw) => (raw === 'true' ? true : raw === 'false' ? false : raw);
    case 'array':
      return splitList;
    default:
      return (raw) => raw;
  }
}

function expectedOf(schema: TSchema): string {
  const s = schema as { type?: string; minimum?: number; maximum?: number; enum?: unknown[] };
  if (s.type === 'integer') return `an integer from ${s.minimum} to ${s.maximum}`;
  if (s.type === 'boolean') return 'true or false';
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  return 'a non-empty string';
}
