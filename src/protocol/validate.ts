import { nestsDeeperThan } from '../core/json-depth.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { ProtocolError } from './codec.js';
import { CLIENT_FRAME_TYPES, type Body, type ClientFrame } from './frames.js';

// Checks a decoded frame's fields and returns it as a typed ClientFrame. A wrong field is a
// non-fatal ProtocolError (answered with an `error` frame carrying the frame's id); the link
// stays open. Limits on sizes are the gateway's business, not this file's, except nesting depth:
// it is checked first, because everything after (validators, JSON.stringify) recurses.

type Raw = { type: string; [key: string]: unknown };

const KNOWN = new Set<string>(CLIENT_FRAME_TYPES);
/**
 * Every string field a frame names (ids, token, device, ref, cursor, emoji) is short by nature;
 * a long one is refused here, so that a frame waiting in a connection's queue stays small.
 */
const FIELD_CHARS_MAX = DEFAULT_LIMITS.frameFieldCharsMax;

function fail(raw: Raw, message: string): never {
  const id = raw.id;
  throw new ProtocolError(message, {
    fatal: false,
    frameId: typeof id === 'string' && id.length <= FIELD_CHARS_MAX ? id : undefined,
  });
}

function str(raw: Raw, key: string): string {
  const v = raw[key];
  if (typeof v !== 'string' || v === '') fail(raw, `"${key}" must be a non-empty string.`);
  return short(raw, key, v);
}

function optStr(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(raw, `"${key}" must be a string.`);
  return short(raw, key, v);
}

function short(raw: Raw, key: string, v: string): string {
  if (v.length > FIELD_CHARS_MAX) fail(raw, `"${key}" is at most ${FIELD_CHARS_MAX} characters.`);
  return v;
}

function seq(raw: Raw, key: string): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(raw, `"${key}" must be an integer ≥ 0.`);
  return v;
}

function optSeq(raw: Raw, key: string): number | undefined {
  return raw[key] === undefined || raw[key] === null ? undefined : seq(raw, key);
}

function optBool(raw: Raw, key: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(raw, `"${key}" must be a boolean.`);
  return v;
}

function body(raw: Raw): Body {
  const v = raw.body;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(raw, '"body" must be an object.');
  return v as Body;
}

export function validateClientFrame(raw: Raw): ClientFrame {
  if (nestsDeeperThan(raw, DEFAULT_LIMITS.jsonDepthMax)) {
    fail(
      raw,
      `A frame nests objects and arrays at most ${DEFAULT_LIMITS.jsonDepthMax} levels deep.`,
    );
  }
  // Cut short: the type is echoed back, and may be kilobytes of garbage.
  if (!KNOWN.has(raw.type))
    fail(raw, `Unknown frame type ${JSON.stringify(raw.type.slice(0, 32))}.`);
  const id = optStr(raw, 'id');
  const base = id !== undefined ? { id } : {};
  switch (raw.type as ClientFrame['type']) {
    case 'hello':
      return { type: 'hello', ...base, token: str(raw, 'token'), device: str(raw, 'device') };
    case 'send':
      return {
        type: 'send',
        ...base,
        ref: str(raw, 'ref'),
        conversation: str(raw, 'conversation'),
        body: body(raw),
      };
    case 'ack':
    case 'read':
    case 'recall':
      return {
        type: raw.type as 'ack',
        ...base,
        conversation: str(raw, 'conversation'),
        seq: seq(raw, 'seq'),
      };
    case 'sync': {
      const cursor = optStr(raw, 'cursor');
      return { type: 'sync', ...base, ...(cursor ? { cursor } : {}) };
    }
    case 'pull': {
      const after = optSeq(raw, 'after');
      const before = optSeq(raw, 'before');
      const limit = optSeq(raw, 'limit');
      return {
        type: 'pull',
        ...base,
        conversation: str(raw, 'conversation'),
        ...(after !== undefined ? { after } : {}),
        ...(before !== undefined ? { before } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
    }
    case 'edit':
      return {
        type: 'edit',
        ...base,
        conversation: str(raw, 'conversation'),
        seq: seq(raw, 'seq'),
        body: body(raw),
      };
    case 'react': {
      // Protobuf decodes an unset `remove` as absent; JSON may send false: both mean add.
      const remove = optBool(raw, 'remove');
      return {
        type: 'react',
        ...base,
        conversation: str(raw, 'conversation'),
        seq: seq(raw, 'seq'),
        emoji: str(raw, 'emoji'),
        ...(remove ? { remove } : {}),
      };
    }
    case 'hide':
      return {
        type: 'hide',
        ...base,
        conversation: str(raw, 'conversation'),
        seq: seq(raw, 'seq'),
      };
    case 'typing':
      return { type: 'typing', ...base, conversation: str(raw, 'conversation') };
    case 'ping':
    case 'pong':
      return { type: raw.type as 'ping', ...base };
  }
}
