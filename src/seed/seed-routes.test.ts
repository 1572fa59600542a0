// Proves that the seed-compatible HTTP API answers the seeds' own curl commands unchanged and pages, orders, validates and authorizes /api/send and /api/pull as DESIGN.md specifies, over real sockets.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';

interface SeedMessage {
  chat: string;
  text: string;
  sender: string;
  send_time: number;
}

interface SeedPage {
  messages: SeedMessage[];
  has_more: boolean;
  next_cursor: number;
}

/** Options that only shape curl's output, never the request it sends. */
const CURL_OUTPUT_ARGS = ['--silent', '--show-error', '--write-out', '\n%{http_code}'];

/** Runs the real curl binary; returns the status and the parsed JSON body. */
function curl(args: readonly string[]): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      [...args, ...CURL_OUTPUT_ARGS],
      { timeout: 10_000 },
      (err, stdout: string, stderr: string) => {
        if (err) {
          reject(new Error(`curl failed: ${err.message}\n${stderr}`));
          return;
        }
        const cut = stdout.lastIndexOf('\n');
        const body = stdout.slice(0, cut);
        resolve({
          status: Number(stdout.slice(cut + 1)),
          json: body === '' ? undefined : JSON.parse(body),
        });
      },
    );
  });
}

async function send(
  base: string,
  chat: string,
  text: string,
  sender: string,
  token?: string,
): Promise<{ send_time: number; seq: number }> {
  const res = await http('POST', `${base}/api/send`, {
    body: { chat, text, sender },
    ...(token !== undefined ? { token } : {}),
  });
  assert.equal(res.status, 200, `send ${chat}/${text}: ${res.text}`);
  assert.equal(res.json.status, 'success');
  return { send_time: res.json.send_time, seq: res.json.seq };
}

type PullForm = 'body' | 'query';

async function pull(
  base: string,
  input: { chat: string; cursor?: number; limit?: number; reverse?: boolean },
  form: PullForm = 'body',
  token?: string,
) {
  const auth = token !== undefined ? { token } : {};
  if (form === 'body') return http<SeedPage>('GET', `${base}/api/pull`, { body: input, ...auth });
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(input)) query.set(k, String(v));
  return http<SeedPage>('GET', `${base}/api/pull?${query.toString()}`, auth);
}

function assertPageShape(page: SeedPage, chat: string): void {
  assert.deepEqual(Object.keys(page).sort(), ['has_more', 'messages', 'next_cursor']);
  assert.equal(typeof page.has_more, 'boolean');
  assert.equal(typeof page.next_cursor, 'number');
  for (const m of page.messages) {
    assert.deepEqual(Object.keys(m).sort(), ['chat', 'send_time', 'sender', 'text']);
    assert.equal(m.chat, chat);
    assert.equal(typeof m.text, 'string');
    assert.equal(typeof m.sender, 'string');
    assert.ok(Number.isSafeInteger(m.send_time));
  }
}

/** Follows next_cursor from cursor 0 until has_more is false; returns every page. */
async function pullAllPages(
  base: string,
  chat: string,
  reverse: boolean,
  form: PullForm,
  limit = 10,
): Promise<SeedPage[]> {
  const pages: SeedPage[] = [];
  let cursor = 0;
  for (;;) {
    const res = await pull(base, { chat, cursor, limit, reverse }, form);
    assert.equal(res.status, 200, res.text);
    assertPageShape(res.json, chat);
    pages.push(res.json);
    const last = res.json.messages.at(-1);
    assert.equal(res.json.next_cursor, res.json.has_more && last ? last.send_time : 0);
    if (!res.json.has_more) return pages;
    assert.ok(pages.length < 1000, 'paging does not end');
    cursor = res.json.next_cursor;
  }
}

function assertStrictlyOrdered(times: readonly number[], increasing: boolean): void {
  for (let i = 1; i < times.length; i++) {
    const [prev, cur] = [times[i - 1]!, times[i]!];
    assert.ok(increasing ? cur > prev : cur < prev, `send_time out of order at ${i}`);
  }
}

async function expectError(
  res: Promise<{ status: number; json: any; text: string }>,
  status: number,
  code: string,
): Promise<void> {
  const r = await res;
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error?.code, code, r.text);
  assert.equal(typeof r.json.error.message, 'string');
}

describe('seed API in open mode', () => {
  let server: TestServer;
  let base: string;
  let port: number;

  before(async () => {
    server = await startTestServer({ PARLEY_SEED_API: 'open' });
    base = server.url;
    port = server.port;
  });
  after(async () => {
    await server.close();
  });

  it('answers GET /ping with pong', async () => {
    const res = await http('GET', `${base}/ping`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { message: 'pong' });
  });

  it("answers seed 000's README curl commands byte for byte", async () => {
    const sent = await curl([
      '--request',
      'POST',
      '--url',
      `http://127.0.0.1:${port}/api/send`,
      '--header',
      'Content-Type: application/json',
      '--data',
      '{\n"chat": "chatroom12345",\n"text": "hi guys! :) ",\n"sender": "kylie"\n}',
    ]);
    assert.equal(sent.status, 200);
    assert.equal(sent.json.status, 'success');
    assert.ok(sent.json.send_time > 1e15);

    const pulled = await curl([
      '--request',
      'GET',
      '--url',
      `http://127.0.0.1:${port}/api/pull`,
      '--header',
      'Content-Type: application/json',
      '--data',
      '{\n"chat": "chatroom12345",\n"cursor": 0,\n"limit": 3,\n"reverse": false\n}',
    ]);
    assert.equal(pulled.status, 200);
    assertPageShape(pulled.json, 'chatroom12345');
    assert.deepEqual(pulled.json, {
      messages: [
        {
          chat: 'chatroom12345',
          text: 'hi guys! :) ',
          sender: 'kylie',
          send_time: sent.json.send_time,
        },
      ],
      has_more: false,
      next_cursor: 0,
    });
  });

  it("answers seed 001's capitalised keys", async () => {
    const sent = await curl([
      '--request',
      'POST',
      '--url',
      `http://127.0.0.1:${port}/api/send`,
      '--header',
      'Content-Type: application/json',
      '--data',
      '{"Chat":"a:b","Text":"Hello World","Sender":"a"}',
    ]);
    assert.equal(sent.status, 200);
    assert.equal(sent.json.status, 'success');

    const pulled = await curl([
      '--request',
      'GET',
      '--url',
      `http://127.0.0.1:${port}/api/pull`,
      '--header',
      'Content-Type: application/json',
      '--data',
      '{"Chat":"a:b","Cursor":0,"Limit":20,"Reverse":false}',
    ]);
    assert.equal(pulled.status, 200);
    assertPageShape(pulled.json, 'a:b');
    const mine = pulled.json.messages.filter((m: SeedMessage) => m.text === 'Hello World');
    assert.deepEqual(mine, [
      { chat: 'a:b', text: 'Hello World', sender: 'a', send_time: sent.json.send_time },
    ]);
  });

  it('reads a bare curl -X POST -d (form-urlencoded content type) as JSON', async () => {
    const sent = await curl([
      '-X',
      'POST',
      '-d',
      '{"chat":"curl-d-room","text":"no content type","sender":"dee"}',
      `http://127.0.0.1:${port}/api/send`,
    ]);
    assert.equal(sent.status, 200);
    assert.equal(sent.json.status, 'success');
    const res = await pull(base, { chat: 'curl-d-room' });
    assert.deepEqual(
      res.json.messages.map((m) => [m.text, m.sender]),
      [['no content type', 'dee']],
    );
  });

  for (const chat of ['pager:reader', 'paging-room']) {
    describe(`paging 25 messages of ${chat} by 10`, () => {
      const acked = new Map<string, number>();

      before(async () => {
        for (let i = 0; i < 25; i++) {
          const sender = chat.includes(':') ? (i % 2 === 0 ? 'pager' : 'reader') : `u${i % 3}`;
          const { send_time } = await send(base, chat, `msg ${i}`, sender);
          acked.set(`msg ${i}`, send_time);
        }
      });

      for (const form of ['body', 'query'] as const) {
        for (const reverse of [false, true]) {
          it(`pages ${reverse ? 'oldest' : 'newest'} first with the ${form} form`, async () => {
            const pages = await pullAllPages(base, chat, reverse, form);
            assert.deepEqual(
              pages.map((p) => p.messages.length),
              [10, 10, 5],
            );
            assert.deepEqual(
              pages.map((p) => p.has_more),
              [true, true, false],
            );
            const all = pages.flatMap((p) => p.messages);
            assertStrictlyOrdered(
              all.map((m) => m.send_time),
              reverse,
            );
            assert.equal(new Set(all.map((m) => m.text)).size, 25);
            for (const m of all) assert.equal(m.send_time, acked.get(m.text), m.text);
            const texts = all.map((m) => m.text);
            const expected = [...acked.keys()];
            assert.deepEqual(texts, reverse ? expected : expected.reverse());
          });
        }
      }
    });
  }

  it('stamps distinct, increasing microsecond send_times on 200 concurrent sends', async () => {
    const chat = 'burst-room';
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send(base, chat, `burst ${i}`, `s${i % 7}`)),
    );
    const times = acks.map((a) => a.send_time);
    for (const t of times) assert.ok(t > 1e15 && Number.isSafeInteger(t), `send_time ${t}`);
    assert.equal(new Set(times).size, 200);
    // The seq order (commit order) and the send_time order agree.
    const bySeq = [...acks].sort((x, y) => x.seq - y.seq);
    assertStrictlyOrdered(
      bySeq.map((a) => a.send_time),
      true,
    );

    const pulled = (await pullAllPages(base, chat, true, 'body', 100)).flatMap((p) => p.messages);
    assert.equal(pulled.length, 200);
    assert.deepEqual(
      pulled.map((m) => m.send_time),
      bySeq.map((a) => a.send_time),
    );
    acks.forEach((a, i) => {
      assert.equal(pulled.find((m) => m.text === `burst ${i}`)?.send_time, a.send_time);
    });
  });

  it('never answers a repeated pull from a stale page: new messages and real-time sends show at once', async () => {
    const chat = 'fresh:pages';
    const pull = async () =>
      (await http('GET', `${base}/api/pull`, { body: { chat, limit: 5 } })).json.messages.map(
        (m: SeedMessage) => m.text,
      );
    await http('POST', `${base}/api/send`, { body: { chat, text: 'one', sender: 'fresh' } });
    assert.deepEqual(await pull(), ['one']);
    assert.deepEqual(await pull(), ['one'], 'the same page again');
    await http('POST', `${base}/api/send`, { body: { chat, text: 'two', sender: 'pages' } });
    assert.deepEqual(await pull(), ['two', 'one']);
    // Sends racing pulls: every pull that starts after a send's answer sees that send.
    for (let i = 0; i < 20; i++) {
      const [sent] = await Promise.all([
        http('POST', `${base}/api/send`, { body: { chat, text: `race ${i}`, sender: 'fresh' } }),
        pull(),
      ]);
      assert.equal(sent.status, 200);
      assert.equal((await pull())[0], `race ${i}`);
    }
  });

  describe('limit, cursor and key case', () => {
    const chat = 'limits-room';
    let newest: SeedMessage[] = [];

    before(async () => {
      const acks = await Promise.all(
        Array.from({ length: 120 }, (_, i) => send(base, chat, `lim ${i}`, 'lim')),
      );
      assert.equal(acks.length, 120);
    });

    it('gives 10 messages for limit 0 and for a negative limit', async () => {
      for (const limit of [0, -5]) {
        const res = await pull(base, { chat, cursor: 0, limit, reverse: false });
        assert.equal(res.status, 200);
        assert.equal(res.json.messages.length, 10, `limit ${limit}`);
        assert.equal(res.json.has_more, true);
      }
      const res = await pull(base, { chat }, 'query');
      assert.equal(res.json.messages.length, 10, 'no limit');
    });

    it('caps a huge limit at 100', async () => {
      const res = await pull(base, { chat, cursor: 0, limit: 1000, reverse: false });
      assert.equal(res.status, 200);
      assert.equal(res.json.messages.length, 100);
      assert.equal(res.json.has_more, true);
      assert.equal(res.json.next_cursor, res.json.messages.at(-1)?.send_time);
      newest = res.json.messages;
      const rest = await pull(base, { chat, cursor: res.json.next_cursor, limit: 1000 });
      assert.equal(rest.json.messages.length, 20);
      assert.equal(rest.json.has_more, false);
      assert.equal(rest.json.next_cursor, 0);
    });

    it('defaults the cursor to 0 (the newest end) and reverse to false', async () => {
      const res = await pull(base, { chat, limit: 5 });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.messages, newest.slice(0, 5));
    });

    it('matches keys in any letter case', async () => {
      const upper = await http<SeedPage>('GET', `${base}/api/pull`, {
        body: { CHAT: chat, LIMIT: 3, REVERSE: true },
      });
      assert.equal(upper.status, 200, upper.text);
      assert.equal(upper.json.messages.length, 3);
      assertStrictlyOrdered(
        upper.json.messages.map((m) => m.send_time),
        true,
      );
      const mixed = await http<SeedPage>('GET', `${base}/api/pull`, {
        body: { cHaT: chat, cUrSoR: 0, LiMiT: 2 },
      });
      assert.equal(mixed.status, 200, mixed.text);
      assert.deepEqual(mixed.json.messages, newest.slice(0, 2));

      const sent = await http('POST', `${base}/api/send`, {
        body: { CHAT: 'case-room', tExT: 'any case', SeNdEr: 'casey' },
      });
      assert.equal(sent.status, 200, sent.text);
      const back = await pull(base, { chat: 'case-room' });
      assert.deepEqual(
        back.json.messages.map((m) => [m.text, m.sender]),
        [['any case', 'casey']],
      );
    });
  });

  describe('refusals', () => {
    it('refuses an a:b send by a third user with 403 not_member and stores nothing', async () => {
      const beforePull = await pull(base, { chat: 'a:b', limit: 100 });
      await expectError(
        http('POST', `${base}/api/send`, {
          body: { chat: 'a:b', text: 'intruder', sender: 'c' },
        }),
        403,
        'not_member',
      );
      const afterPull = await pull(base, { chat: 'a:b', limit: 100 });
      assert.deepEqual(afterPull.json, beforePull.json);
      assert.ok(!afterPull.json.messages.some((m) => m.text === 'intruder'));
    });

    it('creates no account for the sender of a refused a:b send', async () => {
      await expectError(
        http('POST', `${base}/api/send`, {
          body: { chat: 'a:b', text: 'intruder', sender: 'intruder9' },
        }),
        403,
        'not_member',
      );
      const claimed = await http('POST', `${base}/v1/auth/register`, {
        body: { username: 'intruder9', password: 'correct horse battery' },
      });
      assert.equal(claimed.status, 201, claimed.text);
    });

    it('refuses "a:a" with 400 invalid_chat', async () => {
      await expectError(
        http('POST', `${base}/api/send`, { body: { chat: 'a:a', text: 'x', sender: 'a' } }),
        400,
        'invalid_chat',
      );
      await expectError(pull(base, { chat: 'a:a' }), 400, 'invalid_chat');
    });

    it('refuses missing or mistyped keys with 400 invalid_request', async () => {
      const bodies = [
        { text: 'x', sender: 'a' },
        { chat: 'room', sender: 'a' },
        { chat: 'room', text: 'x' },
        { chat: 5, text: 'x', sender: 'a' },
        { chat: 'room', text: ['x'], sender: 'a' },
        { chat: 'room', text: 'x', sender: null },
      ];
      for (const body of bodies) {
        await expectError(http('POST', `${base}/api/send`, { body }), 400, 'invalid_request');
      }
      await expectError(http('POST', `${base}/api/send`, { body: [1, 2] }), 400, 'invalid_request');
      await expectError(http('POST', `${base}/api/send`), 400, 'invalid_request');
      await expectError(
        http('GET', `${base}/api/pull`, { body: { limit: 3 } }),
        400,
        'invalid_request',
      );
      await expectError(
        http('GET', `${base}/api/pull`, { body: { chat: 'room', limit: 'ten' } }),
        400,
        'invalid_request',
      );
      await expectError(
        http('GET', `${base}/api/pull`, { body: { chat: 'room', reverse: 'sometimes' } }),
        400,
        'invalid_request',
      );
    });

    it('refuses malformed JSON with 400 invalid_json', async () => {
      await expectError(
        http('POST', `${base}/api/send`, { body: '{"chat": "room", "text": ' }),
        400,
        'invalid_json',
      );
      await expectError(
        http('GET', `${base}/api/pull`, { body: '{"chat": ' }),
        400,
        'invalid_json',
      );
    });

    it('pulls a chat that never existed as an empty page', async () => {
      for (const chat of ['never-existed-room', 'ghost1:ghost2']) {
        for (const form of ['body', 'query'] as const) {
          const res = await pull(base, { chat }, form);
          assert.equal(res.status, 200, res.text);
          assert.deepEqual(res.json, { messages: [], has_more: false, next_cursor: 0 });
        }
      }
    });

    it('case-folds sender names', async () => {
      await send(base, 'fold-room', 'from Kylie', 'Kylie');
      const res = await pull(base, { chat: 'fold-room' });
      assert.deepEqual(
        res.json.messages.map((m) => m.sender),
        ['kylie'],
      );
    });
  });
});

describe('seed API in auth mode (the default)', () => {
  let server: TestServer;
  let base: string;
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  let carol: { token: string; userId: string };

  before(async () => {
    server = await startTestServer();
    base = server.url;
    alice = await register(base, 'alice');
    bob = await register(base, 'bob');
    carol = await register(base, 'carol');
  });
  after(async () => {
    await server.close();
  });

  it('refuses both routes without a token with 401 unauthenticated', async () => {
    await expectError(
      http('POST', `${base}/api/send`, { body: { chat: 'lobby', text: 'x', sender: 'alice' } }),
      401,
      'unauthenticated',
    );
    await expectError(
      http('GET', `${base}/api/pull`, { body: { chat: 'lobby' } }),
      401,
      'unauthenticated',
    );
    await expectError(
      http('GET', `${base}/api/pull`, { body: { chat: 'lobby' }, token: 'not-a-token' }),
      401,
      'unauthenticated',
    );
  });

  it('tells a caller without a token how an operator runs the routes open', async () => {
    for (const res of [
      await http('POST', `${base}/api/send`, { body: { chat: 'lobby', text: 'x', sender: 'a' } }),
      await http('GET', `${base}/api/pull?chat=lobby`),
      await http('GET', `${base}/api/pull?chat=lobby`, { token: 'pt_not-a-token' }),
    ]) {
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error.code, 'unauthenticated');
      assert.match(res.json.error.message, /need a bearer token/, res.text);
      assert.match(res.json.error.message, /PARLEY_SEED_API=open/, res.text);
    }
    // Only the seed routes carry the hint: the REST API has no open mode.
    const rest = await http('GET', `${base}/v1/conversations`);
    assert.equal(rest.status, 401, rest.text);
    assert.doesNotMatch(rest.json.error.message, /PARLEY_SEED_API/);
  });

  it('refuses a sender other than the caller with 403 sender_mismatch', async () => {
    await expectError(
      http('POST', `${base}/api/send`, {
        body: { chat: 'alice:bob', text: 'x', sender: 'bob' },
        token: alice.token,
      }),
      403,
      'sender_mismatch',
    );
  });

  it('delivers an a:b message to the other user, and the v1 API sees the same conversation', async () => {
    const ack = await send(base, 'alice:bob', 'hi bob', 'alice', alice.token);
    assert.ok(ack.send_time > 1e15);

    const res = await pull(base, { chat: 'alice:bob' }, 'body', bob.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {
      messages: [{ chat: 'alice:bob', text: 'hi bob', sender: 'alice', send_time: ack.send_time }],
      has_more: false,
      next_cursor: 0,
    });
    const swapped = await pull(base, { chat: 'bob:alice' }, 'query', bob.token);
    assert.deepEqual(
      swapped.json.messages.map((m) => m.send_time),
      [ack.send_time],
    );

    const list = await http('GET', `${base}/v1/conversations`, { token: alice.token });
    assert.equal(list.status, 200, list.text);
    const directs = list.json.conversations.filter((c: any) => c.kind === 'direct');
    assert.equal(directs.length, 1);
    const direct = directs[0];
    assert.equal(direct.lastSeq, ack.seq);
    const detail = await http('GET', `${base}/v1/conversations/${direct.id}`, {
      token: bob.token,
    });
    assert.equal(detail.status, 200, detail.text);
    assert.deepEqual(detail.json.members.map((m: any) => m.username).sort(), ['alice', 'bob']);
    const history = await http('GET', `${base}/v1/conversations/${direct.id}/messages`, {
      token: alice.token,
    });
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(
      history.json.messages.map((m: any) => [m.seq, m.sender, m.body.text]),
      [[ack.seq, alice.userId, 'hi bob']],
    );
  });

  it('refuses an a:b chat with an unregistered user with 404 user_not_found', async () => {
    await expectError(
      http('POST', `${base}/api/send`, {
        body: { chat: 'alice:nobody', text: 'hello?', sender: 'alice' },
        token: alice.token,
      }),
      404,
      'user_not_found',
    );
  });

  it('refuses a pull of someone else’s a:b chat with 403 not_member', async () => {
    await expectError(pull(base, { chat: 'alice:bob' }, 'body', carol.token), 403, 'not_member');
  });

  it('neither creates nor joins a conversation for a send it refuses', async () => {
    for (const chat of ['refused-room', 'carol:bob']) {
      await expectError(
        http('POST', `${base}/api/send`, {
          body: { chat, text: '', sender: 'carol' },
          token: carol.token,
        }),
        400,
        'invalid_request',
      );
    }
    const list = await http('GET', `${base}/v1/conversations`, { token: carol.token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.conversations, []);
  });

  it('lets a user pull a room only after joining it by sending', async () => {
    const first = await send(base, 'lobby', 'welcome', 'alice', alice.token);
    await expectError(pull(base, { chat: 'lobby' }, 'body', bob.token), 403, 'not_member');
    const second = await send(base, 'lobby', 'thanks', 'bob', bob.token);
    const res = await pull(base, { chat: 'lobby', reverse: true }, 'body', bob.token);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.messages, [
      { chat: 'lobby', text: 'welcome', sender: 'alice', send_time: first.send_time },
      { chat: 'lobby', text: 'thanks', sender: 'bob', send_time: second.send_time },
    ]);
  });
});
