import { readFileSync } from 'node:fs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

// The ceiling for the WebSocket scenarios: a bare relay that speaks just enough of Parley's JSON
// protocol for the bench client — hello → welcome (the token is the user id; no auth), send →
// `sent` at once and one `message` push, encoded once, to every other member online, sync →
// `synced`, pull → an empty page, ping → pong. No storage, no validation, no limits.
// Run as a child process by baseline-target.ts; BENCH_RELAY_PLAN names its conversations file.

type Frame = { type: string; id?: string; [key: string]: unknown };

const planFile = process.env.BENCH_RELAY_PLAN;
if (planFile === undefined) throw new Error('BENCH_RELAY_PLAN is not set');
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as {
  conversations: Record<string, string[]>;
};

const members = new Map(Object.entries(plan.conversations));
const conversationsOf = new Map<string, string[]>();
for (const [conversation, users] of members) {
  for (const user of users) {
    const list = conversationsOf.get(user) ?? [];
    list.push(conversation);
    conversationsOf.set(user, list);
  }
}
const lastSeq = new Map<string, number>();
const online = new Map<string, WebSocket>();
let nextMessage = 1;

// Frames written in one tick leave in one write, as Parley's WebSocket transport does; without
// this the "ceiling" would pay a system call per frame that Parley does not.
const corked = new Set<WebSocket>();
function send(ws: WebSocket, data: string): void {
  const raw = (ws as unknown as { _socket?: import('node:net').Socket })._socket;
  if (raw && !corked.has(ws)) {
    raw.cork();
    corked.add(ws);
    process.nextTick(() => {
      corked.delete(ws);
      raw.uncork();
    });
  }
  ws.send(data);
}

const reply = (ws: WebSocket, frame: Frame): void => send(ws, JSON.stringify(frame));
const idOf = (frame: Frame) => (frame.id !== undefined ? { id: frame.id } : {});

function onFrame(ws: WebSocket, user: string | null, frame: Frame): string | null {
  switch (frame.type) {
    case 'hello': {
      const id = String(frame.token);
      online.get(id)?.terminate();
      online.set(id, ws);
      reply(ws, {
        type: 'welcome',
        ...idOf(frame),
        user: id,
        username: id,
        device: String(frame.device),
        node: 'baseline',
        heartbeatMs: 20_000,
      });
      return id;
    }
    case 'send': {
      if (user === null) return user;
      const conversation = String(frame.conversation);
      const seq = (lastSeq.get(conversation) ?? 0) + 1;
      lastSeq.set(conversation, seq);
      const at = Date.now();
      const messageId = `m${nextMessage++}`;
      reply(ws, {
        type: 'sent',
        ...idOf(frame),
        ref: frame.ref,
        conversation,
        seq,
        messageId,
        at,
        duplicate: false,
      });
      const push = JSON.stringify({
        type: 'message',
        conversation,
        seq,
        messageId,
        sender: user,
        device: 'bench',
        body: frame.body,
        at,
      });
      for (const member of members.get(conversation) ?? []) {
        if (member !== user) {
          const peer = online.get(member);
          if (peer) send(peer, push);
        }
      }
      return user;
    }
    case 'sync': {
      const conversations = (user !== null ? (conversationsOf.get(user) ?? []) : []).map((id) => ({
        id,
        kind: 'direct',
        lastSeq: lastSeq.get(id) ?? 0,
        deliveredSeq: 0,
        readSeq: 0,
        unread: 0,
        lastAt: 0,
      }));
      reply(ws, { type: 'synced', ...idOf(frame), conversations, cursor: '0' });
      return user;
    }
    case 'pull':
      reply(ws, {
        type: 'pulled',
        ...idOf(frame),
        conversation: frame.conversation,
        messages: [],
        hasMore: false,
      });
      return user;
    case 'ping':
      reply(ws, { type: 'pong', ...idOf(frame) });
      return user;
    default:
      return user;
  }
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  path: '/ws',
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('parley.v1.json') ? 'parley.v1.json' : false),
});
wss.on('connection', (ws) => {
  let user: string | null = null;
  ws.on('error', () => undefined);
  ws.on('message', (raw: RawData) => {
    user = onFrame(ws, user, JSON.parse((raw as Buffer).toString()) as Frame);
  });
  ws.on('close', () => {
    if (user !== null && online.get(user) === ws) online.delete(user);
  });
});
wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(JSON.stringify({ level: 30, msg: 'baseline listening', port }) + '\n');
});
process.once('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
});
