// Hostile readers cannot make a server hold unbounded memory or stall other users
// (docs/security.md, "Resource limits"). Against a real `parley serve` process: four connections
// each pipeline 250 pulls of 100 messages over a conversation of 63 KB messages in one write, then
// stop reading. The server's RSS (read from /proc) stays within the documented bound, and another
// pair's messages keep arriving meanwhile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  cleanupServeProcesses,
  freshDir,
  startServeProcess,
  type ServerProcess,
} from '../src/test-support/serve-process.js';
import { http, register, startTestServer, type TestServer } from '../src/test-support/server.js';
import { RtClient } from '../src/test-support/rt-client.js';
import { openRawLink, type RawLink } from '../src/test-support/raw-link.js';
import { sleep, withTimeout } from '../src/test-support/wait.js';
import { CloseCode } from '../src/protocol/index.js';
import { connect as tcpConnect, type Socket } from 'node:net';

/** 15,700 code points (under the 16,000 a text may have) of 4 UTF-8 bytes: a body of about 63 KB. */
const BIG_TEXT = '\u{1F600}'.repeat(15_700);
const BIG_MESSAGES = 100;
const HOSTILE_LINKS = 4;
const PULLS_PER_LINK = 250;
/** The documented bound (docs/security.md): about 64 MiB per user per node with the defaults. */
const RSS_GROWTH_BOUND_MIB = HOSTILE_LINKS * 64;
/** Other users' messages must keep arriving; before the fix they stalled for over 5 s. */
const CHAT_DELAY_BOUND_MS = 3_000;
const OBSERVE_MS = 6_000;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

describe('hostile pipelined reads', () => {
  let server: ServerProcess;
  const links: RawLink[] = [];
  const clients: RtClient[] = [];

  before(async () => {
    server = await startServeProcess(freshDir('parley-hostile-'));
  });
  after(async () => {
    for (const link of links) link.destroy();
    for (const client of clients) client.drop();
    await cleanupServeProcesses();
  });

  it('keep the server within its memory bound while another pair keeps chatting', async () => {
    const url = server.url;
    const wsUrl = url.replace(/^http/, 'ws') + '/ws';
    const attackers = [];
    for (let i = 0; i < HOSTILE_LINKS; i++) attackers.push(await register(url, `hostile${i}`));
    const owner = await register(url, 'bigowner');
    const group = await http('POST', `${url}/v1/conversations`, {
      token: owner.token,
      body: { kind: 'group', title: 'big', members: attackers.map((_, i) => `hostile${i}`) },
    });
    assert.equal(group.status, 201, group.text);
    const conversation = group.json.id as string;
    for (let i = 0; i < BIG_MESSAGES; i++) {
      const sent = await http('POST', `${url}/v1/conversations/${conversation}/messages`, {
        token: owner.token,
        body: { ref: `big-${i}`, body: { kind: 'text', text: `${i} ${BIG_TEXT}` } },
      });
      assert.equal(sent.status, 201, sent.text);
    }

    const alice = await register(url, 'alice');
    const bob = await register(url, 'bob');
    const direct = await http('POST', `${url}/v1/conversations`, {
      token: alice.token,
      body: { kind: 'direct', with: 'bob' },
    });
    const chat = direct.json.id as string;
    const aliceLink = await RtClient.connect(
      { wsUrl, tcpPort: null },
      'ws-json',
      alice.token,
      alice.device,
    );
    const bobLink = await RtClient.connect(
      { wsUrl, tcpPort: null },
      'ws-json',
      bob.token,
      bob.device,
    );
    clients.push(aliceLink, bobLink);

    await sleep(500);
    const rssBefore = rssMiB(server.child.pid!);
    for (const attacker of attackers) {
      const link = await openRawLink('ws', { wsUrl, tcpPort: null }, attacker);
      links.push(link);
      const pulls = [];
      for (let p = 0; p < PULLS_PER_LINK; p++) {
        pulls.push({ type: 'pull', id: `p${p}`, conversation, after: 0, limit: 100 });
      }
      link.writeAll(pulls);
      link.pause();
    }

    let rssMax = rssBefore;
    let delayMax = 0;
    let n = 0;
    const deadline = Date.now() + OBSERVE_MS;
    while (Date.now() < deadline) {
      const started = Date.now();
      const answer = await aliceLink.request({
        type: 'send',
        conversation: chat,
        ref: `chat-${n}`,
        body: { kind: 'text', text: `hello ${n}` },
      });
      assert.equal(answer.type, 'sent', JSON.stringify(answer));
      const seq = answer.seq as number;
      await bobLink.waitFor(
        (f) => f.type === 'message' && f.conversation === chat && f.seq === seq,
        {
          timeoutMs: CHAT_DELAY_BOUND_MS * 2,
        },
      );
      delayMax = Math.max(delayMax, Date.now() - started);
      rssMax = Math.max(rssMax, rssMiB(server.child.pid!));
      n += 1;
      await sleep(100);
    }
    const growth = rssMax - rssBefore;
    assert.ok(n >= 10, `the pair exchanged only ${n} messages in ${OBSERVE_MS} ms`);
    assert.ok(delayMax < CHAT_DELAY_BOUND_MS, `a chat message took ${delayMax} ms to arrive`);
    assert.ok(
      growth < RSS_GROWTH_BOUND_MIB,
      `server RSS grew by ${growth.toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB)`,
    );
    console.log(
      `# rss ${rssBefore.toFixed(0)} -> max ${rssMax.toFixed(0)} MiB; chat delay max ${delayMax} ms over ${n} messages`,
    );
  });
});

describe('a stalled reader', () => {
  let server: TestServer;
  const links: RawLink[] = [];
  const clients: RtClient[] = [];
  before(async () => {
    server = await startTestServer({
      PARLEY_TCP_PORT: '0',
      PARLEY_SEND_RATE_PER_SEC: '100000',
      PARLEY_SEND_BURST_MAX: '100000',
    });
  });
  after(async () => {
    for (const link of links) link.destroy();
    for (const client of clients) client.drop();
    await server.close();
  });

  const overflows = async (): Promise<number> => {
    const res = await http('GET', `${server.url}/metrics`);
    return Number(/^parley_queue_overflows_total(?:\{[^}]*\})? (\d+)/m.exec(res.text)?.[1] ?? 0);
  };

  for (const kind of ['ws', 'tcp'] as const) {
    it(`over ${kind} gets too_slow and 4503 when it reads again, not a bare drop`, async () => {
      const sender = await register(server.url, `flood_${kind}`);
      const sloth = await register(server.url, `sloth_${kind}`);
      const group = await http('POST', `${server.url}/v1/conversations`, {
        token: sender.token,
        body: { kind: 'group', title: 'flood', members: [`sloth_${kind}`] },
      });
      const conversation = group.json.id as string;
      const senderLink = await RtClient.connect(server, 'ws-json', sender.token, sender.device);
      clients.push(senderLink);
      const slow = await openRawLink(kind, server, sloth);
      links.push(slow);
      slow.pause();

      // Loopback's kernel buffers absorb many MiB before the server's own queue grows.
      const before = await overflows();
      let sent = 0;
      for (let round = 0; round < 200 && (await overflows()) === before; round++) {
        const batch = [];
        for (let j = 0; j < 8; j++, sent++) {
          batch.push(
            senderLink.request({
              type: 'send',
              conversation,
              ref: `f-${sent}`,
              body: { kind: 'text', text: `${sent} ${BIG_TEXT}` },
            }),
          );
        }
        await Promise.all(batch);
        senderLink.frames.length = 0;
      }
      assert.ok((await overflows()) > before, `no overflow after ${sent} messages`);
      slow.resume();
      const code = await withTimeout(slow.closed, 10_000, 'the stalled link closes');
      const last = slow.frames[slow.frames.length - 1];
      assert.equal(last?.type, 'error', `last frame ${JSON.stringify(last?.type)}`);
      assert.equal(last?.code, 'too_slow');
      assert.equal(code, kind === 'ws' ? CloseCode.tooSlow : 0);
      const messages = slow.frames.filter((f) => f.type === 'message').length;
      assert.ok(messages < sent, `the stalled reader got all ${messages} of ${sent} messages`);
    });
  }
});

describe('HTTP reads', () => {
  let server: TestServer;
  before(async () => {
    // One slot per user, and pages big enough that a paused reader's kernel buffers cannot
    // take a whole answer: what is left of it stays in the server until the connection ends.
    server = await startTestServer({
      PARLEY_USER_REQUESTS_IN_FLIGHT_MAX: '1',
      PARLEY_PAGE_BYTES_MAX: String(16 << 20),
    });
  });
  after(() => server.close());

  it('keep their slot until the answer is written, not just computed', async () => {
    const reader = await register(server.url, 'httpreader');
    await register(server.url, 'httppeer');
    const direct = await http('POST', `${server.url}/v1/conversations`, {
      token: reader.token,
      body: { kind: 'direct', with: 'httppeer' },
    });
    const path = `/v1/conversations/${direct.json.id}/messages?limit=100`;
    for (let i = 0; i < 100; i++) {
      const sent = await http('POST', `${server.url}/v1/conversations/${direct.json.id}/messages`, {
        token: reader.token,
        body: { ref: `h-${i}`, body: { kind: 'text', text: `${i} ${BIG_TEXT}` } },
      });
      assert.equal(sent.status, 201, sent.text);
    }
    // A reader that asks for a page of about 6 MB and reads none of it.
    const stalled = await new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect(server.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    stalled.on('error', () => undefined);
    stalled.pause();
    stalled.write(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reader.token}\r\n\r\n`,
    );
    await sleep(500);
    // The same user's next read waits for the slot the stalled answer holds...
    let answered = false;
    const next = http('GET', `${server.url}${path}`, { token: reader.token }).then((res) => {
      answered = true;
      return res;
    });
    await sleep(1_000);
    assert.equal(answered, false, 'a second read ran while the first answer sat unread');
    // ...and runs once that connection is gone.
    stalled.destroy();
    const res = await withTimeout(next, 5_000, 'the waiting read');
    assert.equal(res.status, 200);
  });
});
