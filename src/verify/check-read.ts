// Reads a recorded history (JSONL: the header, then one event a line) and checks each line's
// shape, so a truncated or hand-edited file fails here, naming its line, rather than as a
// confusing violation or a TypeError deep in the checker.
import { closeSync, openSync, readSync } from 'node:fs';
import type { HistoryEvent, HistoryEventType, HistoryHeader } from './history.js';

type Field =
  | 'string'
  | 'number'
  | 'boolean'
  | 'string?'
  | 'number?'
  | 'msg'
  | 'msgs'
  | 'convs'
  | 'seen'
  | 'members';
type Shape = Readonly<Record<string, Field>>;

const PER_CLIENT: Shape = { at: 'number', client: 'string' };
const PER_CONV: Shape = { ...PER_CLIENT, conv: 'string' };

const EVENT_SHAPES: Readonly<Record<HistoryEventType, Shape>> = {
  send: { ...PER_CONV, ref: 'string', attempt: 'number' },
  ack: { ...PER_CONV, ref: 'string', seq: 'number', id: 'string', dup: 'boolean' },
  refused: { ...PER_CONV, ref: 'string', code: 'string' },
  push: { ...PER_CONV, msg: 'msg' },
  pulled: { ...PER_CONV, after: 'number', msgs: 'msgs', hasMore: 'boolean' },
  synced: { ...PER_CLIENT, convs: 'convs' },
  receipt: { ...PER_CONV, user: 'string', deliveredSeq: 'number', readSeq: 'number' },
  mark: { ...PER_CONV, kind: 'string', seq: 'number' },
  shown: { ...PER_CONV, msg: 'msg' },
  link: { ...PER_CLIENT, up: 'boolean' },
  fault: { at: 'number', kind: 'string', target: 'string', phase: 'string', index: 'number' },
  // A process that exits has either a code or a signal, so both may be null (Node's 'exit').
  crash: { at: 'number', name: 'string', code: 'number?', signal: 'string?' },
  quiet: { at: 'number' },
  final: { ...PER_CLIENT, seen: 'seen' },
  store: { at: 'number', conv: 'string', msgs: 'msgs' },
};

const HEADER_SHAPE: Shape = {
  seed: 'number',
  mode: 'string',
  started: 'string',
  commit: 'string',
  members: 'members',
  users: 'seen',
};

/** Big enough that a long run reads in few calls, small enough to cost nothing. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads `path` whole. Throws `<path>:<line>: <what is wrong>` at the first malformed line.
 * Blank lines are skipped.
 */
export function readHistory(path: string): { header: HistoryHeader; events: HistoryEvent[] } {
  let header: HistoryHeader | undefined;
  const events: HistoryEvent[] = [];
  let number = 0;
  for (const line of linesOf(path)) {
    number++;
    if (line.trim() === '') continue;
    const fail = (what: string): Error => new Error(`${path}:${number}: ${what}`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw fail(`not JSON (${(err as Error).message})`);
    }
    if (!isRecord(value)) throw fail('not a JSON object');
    if (!header) {
      if (value.t !== 'header')
        throw fail(`the first line must be the header, not ${show(value.t)}`);
      checkShape(value, HEADER_SHAPE, 'the header', fail);
      header = value as unknown as HistoryHeader;
      continue;
    }
    const t = value.t;
    if (typeof t !== 'string' || !Object.hasOwn(EVENT_SHAPES, t)) {
      throw fail(`unknown event type ${show(t)}`);
    }
    checkShape(value, EVENT_SHAPES[t as HistoryEventType], `a '${t}' event`, fail);
    events.push(value as unknown as HistoryEvent);
  }
  if (!header) throw new Error(`${path}: empty, no header line`);
  return { header, events };
}

/**
 * Splits on newline bytes before decoding: a JSONL history can outgrow the longest string V8
 * allows, and a newline byte never occurs inside a multi-byte UTF-8 character.
 */
function* linesOf(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let parts: Buffer[] = [];
    for (let size = readSync(fd, chunk); size > 0; size = readSync(fd, chunk)) {
      let start = 0;
      for (
        let nl = chunk.indexOf(10, start);
        nl !== -1 && nl < size;
        nl = chunk.indexOf(10, start)
      ) {
        parts.push(chunk.subarray(start, nl));
        yield Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
        parts = [];
        start = nl + 1;
      }
      // Copied: the next read overwrites `chunk`.
      if (start < size) parts.push(Buffer.from(chunk.subarray(start, size)));
    }
    if (parts.length > 0) yield Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
  } finally {
    closeSync(fd);
  }
}

function checkShape(
  value: Record<string, unknown>,
  shape: Shape,
  what: string,
  fail: (what: string) => Error,
): void {
  for (const [name, field] of Object.entries(shape)) {
    if (!fits(value[name], field)) throw fail(`${what} needs '${name}' to be ${describe(field)}`);
  }
}

function fits(value: unknown, field: Field): boolean {
  switch (field) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === field && (field !== 'number' || Number.isFinite(value));
    case 'string?':
      return value === null || fits(value, 'string');
    case 'number?':
      return value === null || fits(value, 'number');
    case 'msg':
      return isMessage(value);
    case 'msgs':
      return Array.isArray(value) && value.every(isMessage);
    case 'convs':
      return Array.isArray(value) && value.every(isSyncedConversation);
    case 'seen':
      return isRecord(value);
    case 'members':
      return (
        isRecord(value) &&
        Object.values(value).every((v) => Array.isArray(v) && v.every((c) => typeof c === 'string'))
      );
  }
}

function describe(field: Field): string {
  switch (field) {
    case 'string?':
      return 'a string or null';
    case 'number?':
      return 'a number or null';
    case 'msg':
      return 'a message {seq, id, ref}';
    case 'msgs':
      return 'an array of messages {seq, id, ref}';
    case 'convs':
      return 'an array of {id, lastSeq, deliveredSeq, readSeq, unread}';
    case 'seen':
      return 'an object';
    case 'members':
      return 'an object of arrays of conversation ids';
    default:
      return `a ${field}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessage(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.seq === 'number' &&
    typeof value.id === 'string' &&
    typeof value.ref === 'string'
  );
}

function isSyncedConversation(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    ['lastSeq', 'deliveredSeq', 'readSeq', 'unread'].every((k) => typeof value[k] === 'number')
  );
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
