import protobuf from 'protobufjs';
import { ProtocolError, type Codec } from '../codec.js';
import type { ClientFrame, ServerFrame } from '../frames.js';

// Protobuf frames from proto/parley.proto. The schema text is passed in (read from the file by
// the Node side) so that this module stays free of node:* imports. Message bodies travel as UTF-8
// JSON bytes in Protobuf and as objects in JSON; this codec converts between the two, so the rest
// of the server sees one frame shape.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Without a `bytes` option, bytes fields stay Uint8Array (no copy into number arrays).
// `defaults` fills the zero values proto3 leaves off the wire (seq 0), while fields declared
// `optional` stay absent when unset.
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, oneofs: true, defaults: true };

/** Frames whose own `body` field is a message body (bytes of JSON in Protobuf). */
const BODY_FRAMES = new Set(['send', 'message', 'edit', 'edited']);

type Fields = Record<string, unknown>;

/**
 * Applies `convert` to every message-shaped object of a frame: the frame itself when it carries
 * a body, each pulled message, and each synced conversation's `last` and `changed` messages.
 */
function mapMessages(type: string, fields: Fields, convert: (m: Fields) => Fields): Fields {
  if (BODY_FRAMES.has(type)) return convert(fields);
  if (type === 'pulled' && Array.isArray(fields.messages)) {
    return { ...fields, messages: (fields.messages as Fields[]).map(convert) };
  }
  if (type === 'synced' && Array.isArray(fields.conversations)) {
    return {
      ...fields,
      conversations: (fields.conversations as Fields[]).map(syncedWith(convert)),
    };
  }
  return fields;
}

/**
 * One synced conversation with its messages converted. A repeated field cannot be absent in
 * proto3, so an empty `changed` list is dropped: JSON frames leave it out when nothing changed.
 */
const syncedWith =
  (convert: (m: Fields) => Fields) =>
  (c: Fields): Fields => {
    const out: Fields = { ...c };
    if (c.last !== undefined && c.last !== null) out.last = convert(c.last as Fields);
    if (Array.isArray(c.changed) && c.changed.length > 0) {
      out.changed = (c.changed as Fields[]).map(convert);
    } else {
      delete out.changed;
    }
    return out;
  };

/** Turns the JSON body of a message-shaped object into bytes. */
function bodyToBytes(m: Fields): Fields {
  return m.body !== undefined ? { ...m, body: encoder.encode(JSON.stringify(m.body)) } : m;
}

function parseBody(bytes: unknown): unknown {
  const raw = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes as number[]);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(raw));
  } catch {
    return null;
  }
}

/**
 * Turns body bytes back into JSON. A repeated field cannot be absent in proto3, so an empty
 * `reactions` list is dropped: JSON frames leave it out when a message has none.
 */
function bodyFromBytes(m: Fields): Fields {
  const out: Fields = 'body' in m ? { ...m, body: parseBody(m.body) } : { ...m };
  if (Array.isArray(out.reactions) && out.reactions.length === 0) delete out.reactions;
  return out;
}

/** Drops protobufjs' synthetic oneof markers of proto3 `optional` fields (`_after: "after"`). */
function stripSynthetic(value: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (key.startsWith('_')) delete value[key];
    else if (Array.isArray(v))
      v.forEach(
        (x) => typeof x === 'object' && x !== null && stripSynthetic(x as Record<string, unknown>),
      );
    else if (typeof v === 'object' && v !== null) stripSynthetic(v as Record<string, unknown>);
  }
  return value;
}

export function createProtoCodec(protoSource: string): Codec {
  const root = protobuf.parse(protoSource, { keepCase: false }).root;
  const Frame = root.lookupType('parley.v1.Frame');
  return {
    name: 'parley.v1.proto',
    binary: true,
    encode(frame: ServerFrame | ClientFrame) {
      const { type, id, ...fields } = frame as { type: string; id?: string } & Record<
        string,
        unknown
      >;
      const message = Frame.fromObject({
        ...(id !== undefined ? { id } : {}),
        [type]: mapMessages(type, fields, bodyToBytes),
      });
      return Frame.encode(message).finish();
    },
    decode(data) {
      if (typeof data === 'string')
        throw new ProtocolError('Expected a binary frame.', { fatal: true });
      let object: Record<string, unknown>;
      try {
        object = Frame.toObject(Frame.decode(data), TO_OBJECT);
      } catch {
        throw new ProtocolError('The bytes are not a Protobuf Frame.', { fatal: true });
      }
      const type = object.kind;
      const id = typeof object.id === 'string' && object.id !== '' ? object.id : undefined;
      if (typeof type !== 'string')
        throw new ProtocolError('The frame has no kind.', { fatal: false, frameId: id });
      const fields = stripSynthetic((object[type] ?? {}) as Record<string, unknown>);
      return {
        ...mapMessages(type, fields, bodyFromBytes),
        type,
        ...(id !== undefined ? { id } : {}),
      };
    },
  };
}
