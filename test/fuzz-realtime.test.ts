// Proves that hostile real-time input never gets an `internal` error or an undocumented code:
// every client frame type (src/protocol/frames.ts) is sent malformed (src/test-support/fuzz.ts)
// over WebSocket with JSON and with Protobuf and over TCP, besides garbage bytes, cut-short
// Protobuf, the wrong codec, hostile hellos and bad TCP lengths. Every `error` frame must carry a
// code docs/protocol.md lists (never `internal`), every close a code it lists, and the server
// stays up while a pair of users keeps chatting. Seeded and replayable: PARLEY_FUZZ_SEED and
// PARLEY_FUZZ_ROUNDS (default 2); PARLEY_FUZZ_LOG_LEVEL=error shows the server's log.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { newId } from '../src/core/ids.js';
import { DEFAULT_LIMITS } from '../src/core/limits.js';
import { CLIENT_FRAME_TYPES } from '../src/protocol/index.js';
import { createProtoCodec } from '../src/protocol/proto/index.js';
import {
  Rng,
  corruptBytes,
  describe as show,
  fuzzSettings,
  hostileFrame,
  randomBytes,
  replayHint,
  type HostileFrame,
} from '../src/test-support/fuzz.js';
import { callAs, ok, registerUser, type TestUser } from '../src/test-support/rest.js';
import { RtClient, TRANSPORTS, type Transport } from '../src/test-support/rt-client.js';
import { http, startTestServer, type TestServer } from '../src/test-support/server.js';

type Frame = Record<string, unknown> & { type: string };

const settings = fuzzSettings(2);
const rng = new Rng(settings.seed);
/** Variants of each frame type per round and transport. */
const VARIANTS = 4;
const BARRIER_TIMEOUT_MS = 5_000;

const PROTOCOL_DOC = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
/** A section of docs/protocol.md, from its heading to the next. */
const section = (heading: string) => PROTOCOL_DOC.split(heading)[1]!.split('\n## ')[0]!;
/** The codes of the table in "5. Errors". */
const ERROR_CODES = new Set(
  [...section('## 5. Errors').matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]!),
);
/** The close codes of "6. Close codes", and the WebSocket layer's own (1000-1015, also there). */
const CLOSE_CODES = new Set([
  ...[...section('## 6. Close codes').matchAll(/^\| (\d{4}) /gm)].map((m) => Number(m[1])),
  ...Array.from({ length: 16 }, (_, i) => 1000 + i),
  0, // TCP: no close codes
]);

const PROTO_SOURCE = readFileSync(new URL('../proto/parley.proto', import.meta.url), 'utf8');
const protoCodec = createProtoCodec(PROTO_SOURCE);
/** For what the codec cannot encode: a body as raw bytes (a 5,000-deep one, say). */
const ProtoFrame = protobuf.parse(PROTO_SOURCE).root.lookupType('parley.v1.Frame');

let server: TestServer;
let fuzzer: TestUser;
let chat: { a: RtClient; b: RtClient; conversation: string; count: number };
const fx: Record<string, string> = {};
const failures: string[] = [];
/** Error codes and close codes seen, for the run's summary. */
const seen = new Map<string, number>();
let nextId = 0;

/** Conversations the fuzzer may not use, and ids that name no conversation. */
const STRANGERS = ['othersGroup', 'otherUser', 'message', 'nothing'] as const;

function validFrame(type: string): Frame {
  const id = `f${++nextId}`;
  // Mostly the fuzzer's group; now and then someone else's, an id of another kind, or none.
  const group = rng.chance(0.7) ? fx.group! : rng.pick(STRANGERS.map((k) => fx[k]!));
  const at = { conversation: group, seq: 1 };
  switch (type) {
    case 'hello':
      return { type, id, token: fuzzer.token, device: fuzzer.device };
    case 'send':
      return {
        type,
        id,
        ref: `fz-${nextId}`,
        conversation: group,
        body: { kind: 'text', text: 'hi' },
      };
    case 'pull':
      return { type, id, conversation: group, after: 0, limit: 5 };
    case 'sync':
      return { type, id };
    case 'edit':
      return { type, id, ...at, body: { kind: 'text', text: 'edited' } };
    case 'react':
      return { type, id, ...at, emoji: '👍' };
    case 'typing':
      return { type, id, conversation: fx.direct! };
    case 'ping':
    case 'pong':
      return { type, id };
    case 'recall': // in the direct conversation: the group's messages stay for edits and reactions
      return { type, id, conversation: fx.direct!, seq: rng.pick([1, 2, 99]) };
    default: // ack, read, hide
      return { type, id, ...at, seq: rng.pick([1, 2, 3]) };
  }
}

/** The bytes a Protobuf link sends for a frame, or null when it cannot be encoded at all. */
function protoBytes(link: RtClient, v: HostileFrame): Uint8Array | null {
  try {
    if (v.frame) return link.codec.encode(v.frame as never) as Uint8Array;
    // JSON text: only a message body travels as JSON in Protobuf; a raw deep body goes as is.
    const raw = /"body":(.*)}$/.exec(v.text!)?.[1];
    const frame = JSON.parse(v.text!.replace(/"body":.*}$/, '"body":null}')) as Frame;
    if (raw === undefined) return null;
    const { type, id, ...fields } = frame;
    const message = ProtoFrame.fromObject({ id, [type]: { ...fields, body: Buffer.from(raw) } });
    return ProtoFrame.encode(message).finish();
  } catch {
    return null;
  }
}

/** Sends one hostile variant the way `link` can carry it. */
function deliver(link: RtClient, v: HostileFrame): string {
  if (link.transport === 'ws-json') {
    link.sendRaw(v.text ?? JSON.stringify(v.frame));
    return v.label;
  }
  const bytes = protoBytes(link, v);
  if (bytes) {
    link.sendRaw(bytes);
    return v.label;
  }
  const broken = corruptBytes(rng, link.codec.encode({ type: 'ping', id: 'x' }) as Uint8Array);
  link.sendRaw(broken.bytes);
  return `${v.label}, not encodable: ${broken.label} instead`;
}

/** Garbage that is no frame for this link: random bytes, cut-short Protobuf, the wrong codec. */
function garbage(link: RtClient): string {
  const valid = link.codec.encode(validFrame('pull') as never);
  if (link.transport === 'ws-json') {
    const pick = rng.pick(['proto', 'bytes', 'text']);
    if (pick === 'proto') link.sendRaw(protoCodec.encode(validFrame('ping') as never));
    else if (pick === 'bytes') link.sendRaw(randomBytes(rng, 1 + rng.int(512)));
    else link.sendRaw(rng.pick(['{', '[]', '"x"', 'null', '{"type":', '\ud800']));
    return `garbage: ${pick}`;
  }
  if (link.transport === 'ws-proto' && rng.chance(0.3)) {
    link.sendRaw(JSON.stringify(validFrame('ping'))); // text on a Protobuf link: fatal
    return 'garbage: JSON text';
  }
  const broken = corruptBytes(rng, valid as Uint8Array);
  link.sendRaw(broken.bytes);
  return `garbage: ${broken.label}`;
}

/** Checks the frames a link got since `from`; records the bad ones with what was sent. */
function checkFrames(link: RtClient, from: number, sent: string): number {
  for (const f of link.frames.slice(from)) {
    if (f.type !== 'error') continue;
    seen.set(String(f.code), (seen.get(String(f.code)) ?? 0) + 1);
    if (f.code === 'internal' || !ERROR_CODES.has(String(f.code))) {
      failures.push(
        `${link.transport} [${sent}]: error ${f.code} "${f.message}" (frame ${show(f)})`,
      );
    }
  }
  return link.frames.length;
}

/** Waits until the server has read everything sent before: a ping's pong, or the link's end. */
async function settle(link: RtClient, sent: string): Promise<void> {
  if (link.isClosed) return;
  const id = `b${++nextId}`;
  link.send({ type: 'ping', id });
  try {
    await link.waitFor((f) => f.id === id, { timeoutMs: BARRIER_TIMEOUT_MS });
  } catch (err) {
    if (!link.isClosed)
      failures.push(`${link.transport} [${sent}]: no pong, link open: ${String(err)}`);
  }
}

async function closeCode(link: RtClient, sent: string): Promise<void> {
  const code = await link.closed;
  seen.set(`close ${code}`, (seen.get(`close ${code}`) ?? 0) + 1);
  if (!CLOSE_CODES.has(code)) failures.push(`${link.transport} [${sent}]: closed with ${code}`);
}

/** A hello link opened for each attempt: a hostile first frame, then whatever the server does. */
async function fuzzHello(transport: Transport): Promise<void> {
  const link = await RtClient.open(server, transport);
  const v = hostileFrame(rng, rng.chance(0.2) ? validFrame('pull') : validFrame('hello'));
  const sent = `hello: ${deliver(link, v)}`;
  await settle(link, sent);
  checkFrames(link, 0, sent);
  link.drop();
}

/** A TCP length prefix past frameBytesMax, or of zero: an error frame, and (past) the end. */
async function fuzzTcpLength(): Promise<void> {
  if (server.tcpPort === null) return;
  const size = rng.pick([DEFAULT_LIMITS.frameBytesMax + 1, 0xffffffff, 0]);
  const received = await new Promise<Buffer>((resolve) => {
    const socket = connect(server.tcpPort!, '127.0.0.1', () => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(size);
      socket.write(header);
      if (size === 0) setTimeout(() => socket.end(), 200);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  for (let at = 0; at + 4 <= received.length;) {
    const length = received.readUInt32BE(at);
    const frame = protoCodec.decode(received.subarray(at + 4, at + 4 + length));
    if (
      frame.type === 'error' &&
      (frame.code === 'internal' || !ERROR_CODES.has(String(frame.code)))
    ) {
      failures.push(`tcp length ${size}: error ${String(frame.code)}`);
    }
    at += 4 + length;
  }
}

async function connectFuzzer(transport: Transport): Promise<RtClient> {
  return RtClient.connect(server, transport, fuzzer.token, fuzzer.device);
}

/** The pair still chats across transports: a message each way arrives. */
async function stillChatting(after: string): Promise<void> {
  for (const [from, to] of [
    [chat.a, chat.b],
    [chat.b, chat.a],
  ] as const) {
    const text = `still here ${++chat.count}`;
    const mark = to.frames.length;
    const reply = await from.request({
      type: 'send',
      ref: `chat-${chat.count}`,
      conversation: chat.conversation,
      body: { kind: 'text', text },
    });
    assert.equal(
      reply.type,
      'sent',
      `the pair stopped chatting after ${after}: ${show(reply)}; ${replayHint(settings)}`,
    );
    await to.waitFor((f) => f.type === 'message' && f.body?.text === text, {
      from: mark,
      timeoutMs: 5000,
    });
  }
}

describe('real-time fuzz: every client frame type, on every transport, with hostile input', () => {
  before(async () => {
    server = await startTestServer({
      PARLEY_TCP_PORT: '0',
      // The fuzzer sends far faster than a person; the rate limit would only cut the run short.
      PARLEY_SEND_RATE_PER_SEC: '100000',
      PARLEY_SEND_BURST_MAX: '100000',
      PARLEY_LOG_LEVEL: process.env.PARLEY_FUZZ_LOG_LEVEL ?? 'silent',
    });
    fuzzer = await registerUser(server.url, 'fz-fuzzer');
    const other = await registerUser(server.url, 'fz-other');
    const [a, b] = [
      await registerUser(server.url, 'fz-chat-a'),
      await registerUser(server.url, 'fz-chat-b'),
    ];
    const open = async (u: TestUser, body: unknown) =>
      (await ok(callAs(server.url, 'POST', '/v1/conversations', u, body), 201)).id as string;
    fx.direct = await open(fuzzer, { kind: 'direct', with: other.username });
    fx.group = await open(fuzzer, { kind: 'group', title: 'fz', members: [other.username] });
    fx.othersGroup = await open(other, { kind: 'group', title: 'theirs', members: [a.username] });
    fx.otherUser = other.userId;
    fx.nothing = newId('c');
    for (const conversation of [fx.group, fx.direct]) {
      for (const u of [fuzzer, other]) {
        const body = {
          ref: `fx-${conversation}-${u.username}`,
          body: { kind: 'text', text: 'hi' },
        };
        const path = `/v1/conversations/${conversation}/messages`;
        fx.message = (await ok(callAs(server.url, 'POST', path, u, body), 201)).id as string;
      }
    }
    const conversation = await open(a, { kind: 'direct', with: b.username });
    chat = {
      a: await RtClient.connect(server, 'ws-json', a.token, a.device),
      b: await RtClient.connect(server, 'tcp', b.token, b.device),
      conversation,
      count: 0,
    };
  });
  after(async () => {
    chat?.a.drop();
    chat?.b.drop();
    await server?.close();
  });

  it('answers every frame with documented codes, never internal, while a pair keeps chatting', async (t) => {
    assert.ok(
      ERROR_CODES.size > 20 && ERROR_CODES.has('bad_frame'),
      'read the error table of docs/protocol.md',
    );
    let frames = 0;
    let reconnects = 0;
    for (const transport of TRANSPORTS) {
      let link = await connectFuzzer(transport);
      for (let round = 0; round < settings.rounds; round++) {
        for (const type of CLIENT_FRAME_TYPES) {
          for (let k = 0; k <= VARIANTS; k++) {
            const mark = link.frames.length;
            const sent =
              k === VARIANTS ? garbage(link) : deliver(link, hostileFrame(rng, validFrame(type)));
            frames++;
            await settle(link, `${type}: ${sent}`);
            checkFrames(link, mark, `${type}: ${sent}`);
            if (link.isClosed) {
              await closeCode(link, `${type}: ${sent}`);
              link = await connectFuzzer(transport);
              reconnects++;
            }
          }
          await fuzzHello(transport);
          if (transport === 'tcp') await fuzzTcpLength();
          await stillChatting(`${transport} ${type}`);
        }
      }
      link.drop();
    }
    t.diagnostic(`seed ${settings.seed}: ${frames} frames, ${reconnects} reconnects`);
    t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
    assert.deepEqual(
      failures.slice(0, 20),
      [],
      `${failures.length} bad answers; ${replayHint(settings)}`,
    );
    assert.equal((await http('GET', `${server.url}/healthz`)).status, 200);
  });
});
