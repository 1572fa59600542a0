// Proves both codecs carry every frame of frames.ts with every field intact, which also keeps
// frames.ts and proto/parley.proto in step (a field missing from the schema fails the round trip),
// and that bad bytes, bad fields and nesting past jsonDepthMax are refused with the right kind of
// ProtocolError.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError, type Codec } from './codec.js';
import type { Frame, FrameType } from './frames.js';
import { jsonCodec } from './json-codec.js';
import { createProtoCodec } from './proto/index.js';
import { validateClientFrame } from './validate.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { nestedJsonText } from '../test-support/fuzz.js';

const protoCodec = createProtoCodec(
  readFileSync(new URL('../../proto/parley.proto', import.meta.url), 'utf8'),
);

const body = { kind: 'text', text: 'héllo 👋', mentions: ['u1'], nested: { n: 1.5, ok: true } };
const message = {
  conversation: 'c1',
  seq: 9_007_199_254,
  messageId: 'm1',
  sender: 'u1',
  device: 'd1',
  body,
  at: 1_795_453_428_105,
};

// One sample per frame type, every optional field set: the mapped type makes the compiler insist
// on a sample for each type that frames.ts declares.
const SAMPLES: { [K in FrameType]: Extract<Frame, { type: K }> } = {
  hello: { type: 'hello', id: '1', token: 'pt_x', device: 'd1' },
  send: { type: 'send', id: '2', ref: 'r1', conversation: 'c1', body },
  ack: { type: 'ack', id: '3', conversation: 'c1', seq: 4 },
  read: { type: 'read', id: '4', conversation: 'c1', seq: 5 },
  sync: { type: 'sync', id: '5', cursor: 'tabc' },
  pull: { type: 'pull', id: '6', conversation: 'c1', after: 0, before: 100, limit: 50 },
  recall: { type: 'recall', id: '7', conversation: 'c1', seq: 3 },
  edit: {
    type: 'edit',
    id: '19',
    conversation: 'c1',
    seq: 3,
    body: { kind: 'text', text: 'fixed typo', mentions: 'all' },
  },
  react: { type: 'react', id: '20', conversation: 'c1', seq: 3, emoji: '👍🏽', remove: true },
  hide: { type: 'hide', id: '21', conversation: 'c1', seq: 4 },
  typing: { type: 'typing', id: '8', conversation: 'c1', user: 'u2' },
  ping: { type: 'ping', id: '9' },
  pong: { type: 'pong', id: '10' },
  welcome: {
    type: 'welcome',
    id: '11',
    user: 'u1',
    username: 'alice',
    device: 'd1',
    node: 'n1',
    heartbeatMs: 20_000,
  },
  sent: {
    type: 'sent',
    id: '12',
    ref: 'r1',
    conversation: 'c1',
    seq: 7,
    messageId: 'm1',
    at: 1_795_453_428_105,
    duplicate: true,
  },
  synced: {
    type: 'synced',
    id: '13',
    cursor: 'tabc',
    conversations: [
      {
        id: 'c1',
        kind: 'group',
        name: 'n',
        title: 't',
        lastSeq: 10,
        deliveredSeq: 9,
        readSeq: 8,
        unread: 2,
        lastAt: 1_795_453_428_105,
        leftSeq: 10,
        mentions: 3,
        preferences: { pinned: true, muted: true },
        last: { ...message, editedAt: 1_795_453_428_999 },
        avatar: 'aAvatar1',
        changed: [
          { ...message, seq: 4, recalled: true, body: { kind: 'recalled' } },
          { ...message, seq: 5, reactions: [{ emoji: '👍', count: 2, me: true }] },
          { ...message, seq: 6, hidden: true, body: { kind: 'hidden' } },
        ],
        changedMore: true,
      },
      {
        id: 'c2',
        kind: 'direct',
        lastSeq: 0,
        deliveredSeq: 0,
        readSeq: 0,
        unread: 0,
        lastAt: 0,
        mentions: 0,
        preferences: { pinned: false, muted: false },
      },
    ],
  },
  pulled: {
    type: 'pulled',
    id: '14',
    conversation: 'c1',
    messages: [
      message,
      { ...message, seq: 10, recalled: true, body: { kind: 'recalled' } },
      {
        ...message,
        seq: 11,
        editedAt: 1_795_453_428_999,
        reactions: [
          { emoji: '👍', count: 2, me: true },
          { emoji: '🎉', count: 1, me: false },
        ],
      },
      { ...message, seq: 12, hidden: true, body: { kind: 'hidden' } },
    ],
    hasMore: true,
  },
  message: { type: 'message', ...message, recalled: true },
  edited: {
    type: 'edited',
    id: '22',
    conversation: 'c1',
    seq: 3,
    body: { kind: 'text', text: 'fixed typo' },
    editedAt: 1_795_453_428_105,
    by: 'u1',
  },
  reaction: {
    type: 'reaction',
    id: '23',
    conversation: 'c1',
    seq: 3,
    user: 'u2',
    emoji: '🎉',
    removed: true,
    count: 0,
    at: 1_795_453_428_105,
  },
  hidden: { type: 'hidden', id: '24', conversation: 'c1', seq: 4 },
  receipt: { type: 'receipt', conversation: 'c1', user: 'u2', deliveredSeq: 5, readSeq: 4 },
  recalled: { type: 'recalled', id: '15', conversation: 'c1', seq: 3, by: 'u1' },
  presence: { type: 'presence', user: 'u2', online: true },
  kicked: { type: 'kicked', reason: 'replaced' },
  contact: {
    type: 'contact',
    id: '17',
    event: 'requested',
    from: 'u1',
    fromUsername: 'alice',
    to: 'u2',
    toUsername: 'bob',
    note: 'hi, it is Alice from work',
    at: 1_795_453_428_105,
  },
  profile: {
    type: 'profile',
    user: 'u1',
    username: 'alice',
    displayName: 'Alice A.',
    bio: 'Two lines\nof bio',
    avatar: 'aAvatar2',
    deleted: true,
    at: 1_795_453_428_105,
  },
  member: {
    type: 'member',
    id: '18',
    conversation: 'c1',
    seq: 12,
    event: 'role.changed',
    actor: 'u1',
    targets: ['u2', 'u3'],
    role: 'admin',
    title: 'Team',
    muted: true,
    history: 'full',
    dismissed: true,
    avatar: 'aAvatar1',
    at: 1_795_453_428_105,
  },
  error: { type: 'error', id: '16', code: 'not_member', message: 'no', ref: 'r1' },
};

function roundTrip(codec: Codec, frame: Frame): unknown {
  return codec.decode(codec.encode(frame));
}

for (const codec of [jsonCodec, protoCodec]) {
  describe(`${codec.name} codec`, () => {
    for (const [type, frame] of Object.entries(SAMPLES)) {
      it(`carries a ${type} frame with every field`, () => {
        assert.deepEqual(roundTrip(codec, frame), frame);
      });
    }

    it('encodes binary frames for Protobuf and text for JSON', () => {
      const encoded = codec.encode(SAMPLES.ping);
      assert.equal(typeof encoded !== 'string', codec.binary);
    });
  });
}

describe('bad input', () => {
  it('refuses bytes that are not a JSON object as fatal', () => {
    for (const bad of ['garbage{', '[1,2]', '42', 'null', '"x"']) {
      assert.throws(
        () => jsonCodec.decode(bad),
        (err: unknown) => err instanceof ProtocolError && err.fatal,
        bad,
      );
    }
  });

  it('refuses a JSON frame without a type as non-fatal, keeping its id', () => {
    assert.throws(
      () => jsonCodec.decode('{"id":"7","seq":1}'),
      (err: unknown) => err instanceof ProtocolError && !err.fatal && err.frameId === '7',
    );
  });

  it('refuses random bytes on the Protobuf codec as fatal', () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    assert.throws(
      () => protoCodec.decode(garbage),
      (err: unknown) => err instanceof ProtocolError && err.fatal,
    );
    assert.throws(
      () => protoCodec.decode('text'),
      (err: unknown) => err instanceof ProtocolError && err.fatal,
    );
  });

  it('validates client frames: known types and field types, echoing the id', () => {
    for (const type of [
      'hello',
      'send',
      'ack',
      'read',
      'sync',
      'pull',
      'recall',
      'edit',
      'react',
      'hide',
    ] as const) {
      const frame = SAMPLES[type];
      assert.deepEqual(validateClientFrame(frame as never), frame, type);
    }
    // `user` on typing is the server's to set: a client cannot claim to be someone else.
    assert.deepEqual(validateClientFrame(SAMPLES.typing as never), {
      type: 'typing',
      id: '8',
      conversation: 'c1',
    });
    const refusals: Record<string, unknown>[] = [
      { type: 'welcome', id: 'a' },
      { type: 'nope', id: 'a' },
      { type: 'ack', id: 'a', conversation: 'c1', seq: 'x' },
      { type: 'ack', id: 'a', conversation: 'c1', seq: -1 },
      { type: 'ack', id: 'a', conversation: 'c1', seq: 1.5 },
      { type: 'send', id: 'a', ref: 'r', conversation: 'c1', body: 'hi' },
      { type: 'send', id: 'a', ref: '', conversation: 'c1', body: { kind: 'text' } },
      { type: 'hello', id: 'a', token: 5, device: 'd' },
      { type: 'pull', id: 'a', conversation: 'c1', limit: 'ten' },
      { type: 'edit', id: 'a', conversation: 'c1', seq: 1, body: 'new text' },
      { type: 'edit', id: 'a', conversation: 'c1', body: { kind: 'text', text: 'x' } },
      { type: 'react', id: 'a', conversation: 'c1', seq: 1, emoji: '' },
      { type: 'react', id: 'a', conversation: 'c1', seq: 1, emoji: '👍', remove: 'yes' },
      { type: 'hide', id: 'a', conversation: 'c1', seq: -2 },
    ];
    for (const raw of refusals) {
      assert.throws(
        () => validateClientFrame(raw as { type: string }),
        (err: unknown) => err instanceof ProtocolError && !err.fatal && err.frameId === 'a',
        JSON.stringify(raw),
      );
    }
  });

  it('refuses a frame nested past jsonDepthMax, from either codec, before reading its fields', () => {
    const { jsonDepthMax } = DEFAULT_LIMITS;
    // The frame is level 1 and its body level 2: a payload of jsonDepthMax - 2 arrays reaches it.
    const send = (payloadDepth: number) =>
      `{"type":"send","id":"a","ref":"r","conversation":"c1","body":{"kind":"custom","type":"t",` +
      `"payload":${nestedJsonText(payloadDepth)}}}`;
    const asProto = (text: string) => {
      const { body, ...rest } = JSON.parse(text) as { body: unknown };
      return protoCodec.encode({ ...rest, body } as never);
    };
    for (const codec of [jsonCodec, protoCodec]) {
      const encode = (text: string) => (codec === jsonCodec ? text : asProto(text));
      const at = validateClientFrame(codec.decode(encode(send(jsonDepthMax - 2))));
      assert.equal(at.type, 'send', codec.name);
      for (const depth of [jsonDepthMax - 1, 5000]) {
        const raw = codec === jsonCodec || depth < 1000 ? codec.decode(encode(send(depth))) : null;
        if (!raw) continue; // 5,000 deep cannot be encoded through JSON.stringify here
        assert.throws(
          () => validateClientFrame(raw),
          (err: unknown) =>
            err instanceof ProtocolError &&
            !err.fatal &&
            err.frameId === 'a' &&
            /64/.test(err.message),
          `${codec.name} ${depth}`,
        );
      }
    }
  });
});

describe('message action frames', () => {
  it('treats remove: false on react as an add, as Protobuf (which drops false) decodes it', () => {
    const frame = {
      type: 'react',
      id: 'r',
      conversation: 'c1',
      seq: 2,
      emoji: '👍',
      remove: false,
    };
    assert.deepEqual(validateClientFrame(frame), {
      type: 'react',
      id: 'r',
      conversation: 'c1',
      seq: 2,
      emoji: '👍',
    });
    const { remove: _drop, ...sent } = frame;
    void _drop;
    assert.deepEqual(validateClientFrame(protoCodec.decode(protoCodec.encode(sent as never))), {
      type: 'react',
      id: 'r',
      conversation: 'c1',
      seq: 2,
      emoji: '👍',
    });
  });
});
