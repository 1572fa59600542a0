// Proves that every send the real server process acknowledged survives a SIGKILL of that process, with the same ids, seqs and send_times, no gaps, and working ref dedupe after restart.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, register } from '../src/test-support/server.js';
import {
  cleanupServeProcesses,
  EXIT_TIMEOUT_MS,
  freshDir,
  killServeProcess,
  startServeProcess,
  type ServerProcess,
} from '../src/test-support/serve-process.js';
import { withTimeout } from '../src/test-support/wait.js';

const MESSAGES = 300;
const PASSWORD = 'correct horse battery';

const freshDataDir = (): string => freshDir('parley-crash-');

/**
 * Fires `count` requests at once and SIGKILLs the server in the same tick as the last answer,
 * so nothing after the acknowledgements (a graceful close, a checkpoint) can help the data survive.
 */
async function burstThenKill<T>(
  server: ServerProcess,
  count: number,
  request: (i: number) => Promise<T>,
): Promise<T[]> {
  let answered = 0;
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      request(i).finally(() => {
        if (++answered === count) server.child.kill('SIGKILL');
      }),
    ),
  );
  await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGKILL');
  assert.equal(server.child.signalCode, 'SIGKILL');
  return results;
}

after(cleanupServeProcesses);

describe('crash recovery of the real server process', () => {
  it('keeps every acknowledged v1 message after SIGKILL and a restart', async () => {
    const dataDir = freshDataDir();
    // One user sends the whole burst over REST: above the default send budget (100).
    const env = { PARLEY_SEND_BURST_MAX: String(MESSAGES * 2) };
    let server = await startServeProcess(dataDir, env);
    try {
      const alice = await register(server.url, 'alice', PASSWORD, 'laptop');
      await register(server.url, 'bob');
      const created = await http('POST', `${server.url}/v1/conversations`, {
        body: { kind: 'group', title: 'crash test', members: ['bob'] },
        token: alice.token,
      });
      assert.equal(created.status, 201, created.text);
      const conversationId: string = created.json.id;
      const messagesUrl = `${server.url}/v1/conversations/${conversationId}/messages`;

      const results = await burstThenKill(server, MESSAGES, (i) =>
        http('POST', messagesUrl, {
          body: { ref: `crash-${i}`, body: { kind: 'text', text: `message ${i}` } },
          token: alice.token,
        }),
      );
      const acked = new Map<string, { id: string; seq: number; text: string }>();
      results.forEach((res, i) => {
        assert.equal(res.status, 201, res.text);
        assert.equal(res.json.duplicate, false);
        acked.set(res.json.id, { id: res.json.id, seq: res.json.seq, text: `message ${i}` });
      });
      assert.equal(acked.size, MESSAGES);

      server = await startServeProcess(dataDir, env);
      const login = await http('POST', `${server.url}/v1/auth/login`, {
        body: { username: 'alice', password: PASSWORD, device: 'laptop' },
      });
      assert.equal(login.status, 200, login.text);
      const token: string = login.json.token;
      const url = `${server.url}/v1/conversations/${conversationId}/messages`;

      const stored: { id: string; seq: number; body: { text: string } }[] = [];
      let afterSeq = 0;
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 100, 'paging does not end');
        const page = await http('GET', `${url}?after=${afterSeq}&limit=100`, { token });
        assert.equal(page.status, 200, page.text);
        stored.push(...page.json.messages);
        if (!page.json.hasMore) break;
        afterSeq = page.json.messages.at(-1).seq;
      }
      assert.deepEqual(
        stored.map((m) => m.seq),
        Array.from({ length: MESSAGES }, (_, i) => i + 1),
      );
      for (const m of stored) {
        const ack = acked.get(m.id);
        assert.ok(ack, `message ${m.id} was never acknowledged`);
        assert.equal(m.seq, ack.seq);
        assert.equal(m.body.text, ack.text);
      }
      assert.equal(new Set(stored.map((m) => m.id)).size, MESSAGES);

      const again = await http('POST', url, {
        body: { ref: 'crash-7', body: { kind: 'text', text: 'message 7' } },
        token,
      });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.duplicate, true);
      const original = results[7]!.json;
      assert.equal(again.json.seq, original.seq);
      assert.equal(again.json.id, original.id);

      const list = await http('GET', `${server.url}/v1/conversations`, { token });
      assert.equal(
        list.json.conversations.find((c: any) => c.id === conversationId)?.lastSeq,
        MESSAGES,
      );
    } finally {
      await killServeProcess(server);
    }
  });

  it('keeps every acknowledged seed /api/send after SIGKILL and a restart', async () => {
    const dataDir = freshDataDir();
    const env = { PARLEY_SEED_API: 'open' };
    let server = await startServeProcess(dataDir, env);
    try {
      const chat = 'crash-room';
      const results = await burstThenKill(server, MESSAGES, (i) =>
        http('POST', `${server.url}/api/send`, {
          body: { chat, text: `seed ${i}`, sender: `user${i % 5}` },
        }),
      );
      const acked = new Map<string, number>();
      results.forEach((res, i) => {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.status, 'success');
        acked.set(`seed ${i}`, res.json.send_time);
      });
      assert.equal(new Set(acked.values()).size, MESSAGES);

      server = await startServeProcess(dataDir, env);
      const pulled: { text: string; sender: string; send_time: number }[] = [];
      let cursor = 0;
      for (let pages = 0; ; pages++) {
        assert.ok(pages < 100, 'paging does not end');
        const res = await http('GET', `${server.url}/api/pull`, {
          body: { chat, cursor, limit: 100, reverse: true },
        });
        assert.equal(res.status, 200, res.text);
        pulled.push(...res.json.messages);
        if (!res.json.has_more) break;
        cursor = res.json.next_cursor;
      }
      assert.equal(pulled.length, MESSAGES);
      for (const m of pulled) assert.equal(m.send_time, acked.get(m.text), m.text);
      for (let i = 1; i < pulled.length; i++) {
        assert.ok(pulled[i]!.send_time > pulled[i - 1]!.send_time, `order at ${i}`);
      }
      const sentAgain = await http('POST', `${server.url}/api/send`, {
        body: { chat, text: 'after restart', sender: 'user0' },
      });
      assert.equal(sentAgain.status, 200, sentAgain.text);
      assert.ok(sentAgain.json.send_time > pulled.at(-1)!.send_time);
    } finally {
      await killServeProcess(server);
    }
  });
});
