// Proves the gRPC services through a real @grpc/grpc-js client against a real Parley server:
// IMService.Send and Pull answer exactly what /api/send and /api/pull answer; every
// ParleyService method does what it says under the same rules as REST; a missing or wrong
// service token is refused with UNAUTHENTICATED and changes nothing; coded errors arrive as the
// mapped gRPC status with their Parley code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Metadata,
  credentials,
  status as Status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { ERRORS, ParleyError, type ErrorCode } from '../core/errors.js';
import { RtClient } from '../test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { RpcClient } from './rpc-client.js';
import { rpcPackage, type SendMessageRequest } from './schema.js';
import { GRPC_STATUS_BY_HTTP, PARLEY_CODE_KEY, grpcStatusOf } from './status.js';
import { USER_TOKEN_KEY } from '../seed/index.js';

const TOKEN = 'test-service-token-0123456789';

type Callback = (err: ServiceError | null, res: unknown) => void;

/** One call with a raw grpc-js client, so a test sees the status and metadata as sent. */
function rawCall(
  client: Client,
  method: string,
  request: unknown,
  metadata: Metadata,
): Promise<{ err: ServiceError | null; res: unknown }> {
  const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!;
  return new Promise((resolve) =>
    fn.call(client, request, metadata, { deadline: Date.now() + 10_000 }, ((
      err: ServiceError | null,
      res: unknown,
    ) => resolve({ err, res })) satisfies Callback),
  );
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ParleyError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('gRPC status table', () => {
  it('maps every code of the catalogue to a definite gRPC status', () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const status = grpcStatusOf(code);
      assert.notEqual(status, Status.UNKNOWN, code);
      assert.notEqual(status, Status.OK, code);
    }
    assert.equal(GRPC_STATUS_BY_HTTP[404], Status.NOT_FOUND);
    assert.equal(grpcStatusOf('unauthenticated'), Status.UNAUTHENTICATED);
    assert.equal(grpcStatusOf('not_member'), Status.PERMISSION_DENIED);
    assert.equal(grpcStatusOf('rate_limited'), Status.RESOURCE_EXHAUSTED);
  });
});

describe('gRPC on an open-seed node', () => {
  let server: TestServer;
  let rpc: RpcClient;
  let target: string;
  before(async () => {
    server = await startTestServer({
      PARLEY_SEED_API: 'open',
      PARLEY_GRPC_PORT: '0',
      PARLEY_GRPC_TOKEN: TOKEN,
    });
    assert.ok(server.grpcPort);
    target = `127.0.0.1:${server.grpcPort}`;
    rpc = new RpcClient({ target, token: TOKEN });
  });
  after(async () => {
    rpc.close();
    await server.close();
  });

  it('refuses calls without the service token, or with a wrong one, and stores nothing', async () => {
    const pkg = rpcPackage();
    const im = new pkg.IMService(target, credentials.createInsecure());
    const parley = new pkg.ParleyService(target, credentials.createInsecure());
    try {
      const send = { message: { chat: 'vault', text: 'let me in', sender: 'mallory' } };
      const cases: [string, Metadata][] = [];
      cases.push(['none', new Metadata()]);
      const wrong = new Metadata();
      wrong.set('authorization', 'Bearer not-the-service-token');
      cases.push(['wrong', wrong]);
      const prefix = new Metadata();
      prefix.set('authorization', `Bearer ${TOKEN.slice(0, -1)}`);
      cases.push(['a prefix', prefix]);
      const scheme = new Metadata();
      scheme.set('authorization', TOKEN);
      cases.push(['no Bearer scheme', scheme]);
      for (const [what, metadata] of cases) {
        const sent = await rawCall(im, 'Send', send, metadata);
        assert.equal(sent.err?.code, Status.UNAUTHENTICATED, what);
        assert.deepEqual(sent.err?.metadata.get(PARLEY_CODE_KEY), ['unauthenticated']);
        const presence = await rawCall(parley, 'GetPresence', { usernames: ['mallory'] }, metadata);
        assert.equal(presence.err?.code, Status.UNAUTHENTICATED, what);
      }
      const page = await http('GET', `${server.url}/api/pull?chat=vault`);
      assert.deepEqual(page.json, { messages: [], has_more: false, next_cursor: 0 });
      const ok = new Metadata();
      ok.set('authorization', `Bearer ${TOKEN}`);
      assert.equal((await rawCall(im, 'Pull', { chat: 'vault' }, ok)).err, null);
    } finally {
      im.close();
      parley.close();
    }
  });

  it('IMService.Send and Pull answer as /api/send and /api/pull do', async () => {
    const sends = [
      { chat: 'chatroom12345', text: 'hi guys! :) ', sender: 'kylie' },
      { chat: 'chatroom12345', text: 'hello to everyone :) ', sender: 'jimmy' },
      { chat: 'chatroom12345', text: 'hello from mary :) ', sender: 'mary' },
    ];
    const times: number[] = [];
    for (const [i, message] of sends.entries()) {
      const answer = await rpc.call('IMService', 'Send', { message: { ...message, send_time: 0 } });
      assert.equal(answer.code, 0);
      assert.equal(answer.msg, 'success');
      assert.equal(answer.seq, i + 1);
      times.push(answer.send_time);
    }
    assert.ok(times[0]! < times[1]! && times[1]! < times[2]!, 'send_time strictly increases');

    for (const query of [
      { chat: 'chatroom12345', cursor: 0, limit: 2, reverse: false },
      { chat: 'chatroom12345', cursor: times[1]!, limit: 2, reverse: false },
      { chat: 'chatroom12345', cursor: 0, limit: 0, reverse: true },
      { chat: 'chatroom12345', cursor: times[0]!, limit: 1, reverse: true },
      { chat: 'nobody-here', cursor: 0, limit: 10, reverse: false },
    ]) {
      const viaRpc = await rpc.call('IMService', 'Pull', query);
      const viaHttp = await http('GET', `${server.url}/api/pull`, { body: query });
      assert.equal(viaHttp.status, 200);
      assert.deepEqual(
        { messages: viaRpc.messages, has_more: viaRpc.has_more, next_cursor: viaRpc.next_cursor },
        viaHttp.json,
        JSON.stringify(query),
      );
    }
    const first = await rpc.call('IMService', 'Pull', { chat: 'chatroom12345', limit: 2 });
    assert.deepEqual(
      first.messages.map((m) => m.sender),
      ['mary', 'jimmy'],
    );
    assert.equal(first.has_more, true);
    assert.equal(first.next_cursor, times[1]);
  });

  it('IMService errors are the catalogue codes, mapped to gRPC statuses', async () => {
    const pkg = rpcPackage();
    const im = new pkg.IMService(target, credentials.createInsecure());
    const auth = new Metadata();
    auth.set('authorization', `Bearer ${TOKEN}`);
    try {
      const bad = await rawCall(
        im,
        'Send',
        { message: { chat: 'a:a', text: 'x', sender: 'a' } },
        auth,
      );
      assert.equal(bad.err?.code, Status.INVALID_ARGUMENT);
      assert.deepEqual(bad.err?.metadata.get(PARLEY_CODE_KEY), ['invalid_chat']);
      assert.match(bad.err?.details ?? '', /two different users/);
      const stranger = await rawCall(
        im,
        'Send',
        { message: { chat: 'amy:ben', text: 'x', sender: 'carl' } },
        auth,
      );
      assert.equal(stranger.err?.code, Status.PERMISSION_DENIED);
      assert.deepEqual(stranger.err?.metadata.get(PARLEY_CODE_KEY), ['not_member']);
      const noMessage = await rawCall(im, 'Send', {}, auth);
      assert.equal(noMessage.err?.code, Status.INVALID_ARGUMENT);
    } finally {
      im.close();
    }
    await rejectsWith(
      rpc.call('IMService', 'Send', {
        message: { chat: 'room', text: 'x'.repeat(20_000), sender: 'kylie', send_time: 0 },
      }),
      'body_too_large',
    );
  });
});

describe('gRPC ParleyService', () => {
  let server: TestServer;
  let rpc: RpcClient;
  let alice: { token: string; userId: string; device: string };
  let bob: { token: string; userId: string; device: string };
  let carol: { token: string; userId: string; device: string };
  before(async () => {
    server = await startTestServer({ PARLEY_GRPC_PORT: '0', PARLEY_GRPC_TOKEN: TOKEN });
    rpc = new RpcClient({ target: `127.0.0.1:${server.grpcPort}`, token: TOKEN });
    alice = await register(server.url, 'alice', undefined, 'laptop');
    bob = await register(server.url, 'bob', undefined, 'phone');
    carol = await register(server.url, 'carol', undefined, 'tablet');
  });
  after(async () => {
    rpc.close();
    await server.close();
  });

  /** ParleyService.SendMessage into the conversation `id`. */
  const sendTo = (id: string, fields: Partial<Omit<SendMessageRequest, 'conversation_id'>>) =>
    rpc.call('ParleyService', 'SendMessage', { conversation_id: id, ...fields });
  /** ParleyService.SetMemberRole in the group `id`: `actor` gives `member` the `role`. */
  const setRole = (id: string, actor: string, member: string, role: string) =>
    rpc.call('ParleyService', 'SetMemberRole', { conversation_id: id, actor, member, role });

  const messages = async (token: string, conversation: string) =>
    (
      await http<{ messages: { seq: number; sender: string; device: string; body: unknown }[] }>(
        'GET',
        `${server.url}/v1/conversations/${conversation}/messages`,
        { token },
      )
    ).json.messages;

  it('OpenDirect opens once, then finds it', async () => {
    const first = await rpc.call('ParleyService', 'OpenDirect', { user: 'alice', peer: 'bob' });
    assert.equal(first.created, true);
    assert.equal(first.conversation?.kind, 'direct');
    const again = await rpc.call('ParleyService', 'OpenDirect', { user: 'Bob', peer: 'alice' });
    assert.equal(again.created, false);
    assert.equal(again.conversation?.id, first.conversation?.id);
    await rejectsWith(
      rpc.call('ParleyService', 'OpenDirect', { user: 'alice', peer: 'ghost' }),
      'user_not_found',
    );
    await rejectsWith(
      rpc.call('ParleyService', 'OpenDirect', { user: 'alice', peer: 'alice' }),
      'invalid_request',
    );
  });

  it('SendMessage sends as a member, dedupes by ref, and refuses non-members', async () => {
    const { conversation } = await rpc.call('ParleyService', 'OpenDirect', {
      user: 'alice',
      peer: 'bob',
    });
    const id = conversation!.id;
    const sent = await sendTo(id, { sender: 'alice', ref: 'crm-1', text: 'your order shipped' });
    assert.equal(sent.duplicate, false);
    const again = await sendTo(id, { sender: 'alice', ref: 'crm-1', text: 'your order shipped' });
    assert.equal(again.duplicate, true);
    assert.equal(again.message_id, sent.message_id);
    assert.equal(again.seq, sent.seq);
    const located = await sendTo(id, {
      sender: 'alice',
      ref: 'crm-2',
      body_json: JSON.stringify({ kind: 'location', lat: 48.85, lng: 2.35, label: 'Paris' }),
    });
    await rejectsWith(sendTo(id, { sender: 'carol', text: 'hi' }), 'not_member');
    await rejectsWith(sendTo(id, { sender: 'alice', body_json: '{' }), 'invalid_json');
    await rejectsWith(
      sendTo(id, { sender: 'alice', body_json: JSON.stringify({ kind: 'nonsense' }) }),
      'invalid_request',
    );
    const seen = await messages(bob.token, id);
    assert.deepEqual(
      seen.map((m) => [m.seq, m.sender, m.device, m.body]),
      [
        [sent.seq, alice.userId, 'rpc', { kind: 'text', text: 'your order shipped' }],
        [
          located.seq,
          alice.userId,
          'rpc',
          { kind: 'location', lat: 48.85, lng: 2.35, label: 'Paris' },
        ],
      ],
    );
  });

  it('CreateGroup, AddMembers, SetMemberRole and RemoveMember follow the group rules', async () => {
    const { conversation } = await rpc.call('ParleyService', 'CreateGroup', {
      owner: 'alice',
      title: 'Ops',
      members: ['bob'],
    });
    const id = conversation!.id;
    assert.equal(conversation?.kind, 'group');
    assert.equal(conversation?.title, 'Ops');
    const added = await rpc.call('ParleyService', 'AddMembers', {
      conversation_id: id,
      actor: 'alice',
      members: ['carol'],
    });
    assert.ok(added.seq >= 1);
    // A plain member may not add or promote.
    await rejectsWith(setRole(id, 'bob', 'carol', 'admin'), 'forbidden');
    const promoted = await setRole(id, 'alice', 'bob', 'admin');
    assert.equal(promoted.seq, added.seq + 1);
    await rejectsWith(setRole(id, 'alice', 'bob', 'king'), 'invalid_request');
    const removed = await rpc.call('ParleyService', 'RemoveMember', {
      conversation_id: id,
      actor: 'bob',
      member: 'carol',
    });
    assert.equal(removed.seq, promoted.seq + 1);
    const view = await http<{ members: { username: string; role: string }[] }>(
      'GET',
      `${server.url}/v1/conversations/${id}`,
      { token: alice.token },
    );
    assert.deepEqual(view.json.members.map((m) => [m.username, m.role]).sort(), [
      ['alice', 'owner'],
      ['bob', 'admin'],
    ]);
    const events = (await messages(alice.token, id)).map(
      (m) => (m.body as { event?: string }).event,
    );
    assert.deepEqual(events.slice(-3), ['member.added', 'role.changed', 'member.removed']);
    // Carol left the group: she may no longer read it.
    const carolView = await http('GET', `${server.url}/v1/conversations/${id}`, {
      token: carol.token,
    });
    assert.equal(carolView.status, 403);
  });

  it('SendMessage as a bot creates the bot account, which sends only where it is a member', async () => {
    const { conversation } = await rpc.call('ParleyService', 'CreateGroup', {
      owner: 'alice',
      title: 'Alerts',
      members: ['bob'],
    });
    const id = conversation!.id;
    await rejectsWith(sendTo(id, { sender: 'pager', bot: true, text: 'disk full' }), 'not_member');
    await rpc.call('ParleyService', 'AddMembers', {
      conversation_id: id,
      actor: 'alice',
      members: ['pager'],
    });
    const sent = await sendTo(id, {
      sender: 'pager',
      bot: true,
      ref: 'alert-1',
      text: 'disk full',
    });
    const last = (await messages(bob.token, id)).at(-1);
    assert.equal(last?.seq, sent.seq);
    assert.equal(last?.device, 'bot');
    assert.deepEqual(last?.body, { kind: 'text', text: 'disk full' });
    // The bot account has no password: nobody can log in as it.
    const login = await http('POST', `${server.url}/v1/auth/login`, {
      body: { username: 'pager', password: 'anything at all' },
    });
    assert.equal(login.status, 401);
  });

  it('GetPresence tells who is online, offline, or unknown', async () => {
    const link = await RtClient.connect(server, 'ws-json', bob.token, bob.device);
    try {
      const answer = await rpc.call('ParleyService', 'GetPresence', {
        usernames: ['bob', 'Carol', 'ghost'],
      });
      assert.deepEqual(answer.users, [
        { username: 'bob', online: true, exists: true },
        { username: 'carol', online: false, exists: true },
        { username: 'ghost', online: false, exists: false },
      ]);
    } finally {
      link.drop();
    }
    await rejectsWith(
      rpc.call('ParleyService', 'GetPresence', {
        usernames: Array.from({ length: 1001 }, () => 'bob'),
      }),
      'invalid_request',
    );
  });

  it('SearchMessages finds what the user may read, page by page, as the REST search does', async () => {
    const { conversation } = await rpc.call('ParleyService', 'OpenDirect', {
      user: 'alice',
      peer: 'carol',
    });
    const id = conversation!.id;
    for (const text of ['invoice 1 paid', 'invoice 2 overdue', 'lunch?']) {
      await sendTo(id, { sender: 'alice', text });
    }
    const search = (user: string, query: string, more: Record<string, unknown> = {}) =>
      rpc.call('ParleyService', 'SearchMessages', {
        user,
        query,
        conversation_id: '',
        before: '',
        limit: 0,
        ...more,
      });
    const first = await search('carol', 'INVOICE', { limit: 1 });
    assert.equal(first.messages.length, 1);
    assert.deepEqual(JSON.parse(first.messages[0]!.body_json), {
      kind: 'text',
      text: 'invoice 2 overdue',
    });
    assert.equal(first.messages[0]!.sender, alice.userId);
    assert.equal(first.messages[0]!.conversation_id, id);
    assert.notEqual(first.next, '');
    const rest = await search('carol', 'invoice', { before: first.next, conversation_id: id });
    assert.deepEqual(
      rest.messages.map((m) => JSON.parse(m.body_json).text),
      ['invoice 1 paid'],
    );
    assert.equal(rest.next, '');
    assert.deepEqual((await search('bob', 'invoice')).messages, [], "not bob's to read");
    await rejectsWith(search('bob', 'invoice', { conversation_id: id }), 'not_member');
    await rejectsWith(search('carol', '?!'), 'invalid_search');
    await rejectsWith(search('ghost', 'invoice'), 'user_not_found');
  });

  it('VerifyToken resolves a user token and refuses a bad one', async () => {
    const who = await rpc.call('ParleyService', 'VerifyToken', { token: carol.token });
    assert.equal(who.user_id, carol.userId);
    assert.equal(who.username, 'carol');
    assert.equal(who.device, 'tablet');
    await rejectsWith(
      rpc.call('ParleyService', 'VerifyToken', { token: 'pt_nope' }),
      'unauthenticated',
    );
  });

  it('IMService in auth mode acts for the user whose token rides along', async () => {
    const chat = 'alice:bob';
    await rejectsWith(
      rpc.call('IMService', 'Send', {
        message: { chat, text: 'hi', sender: 'alice', send_time: 0 },
      }),
      'unauthenticated',
    );
    // The refusal says where the token goes, and how an operator runs IMService open.
    await assert.rejects(rpc.call('IMService', 'Pull', { chat }), (err: unknown) => {
      assert.ok(err instanceof ParleyError, String(err));
      assert.equal(err.code, 'unauthenticated');
      assert.match(err.message, new RegExp(`metadata key ${USER_TOKEN_KEY}`));
      assert.match(err.message, /PARLEY_SEED_API=open/);
      return true;
    });
    await rejectsWith(
      rpc.call(
        'IMService',
        'Send',
        { message: { chat, text: 'hi', sender: 'bob', send_time: 0 } },
        { [USER_TOKEN_KEY]: alice.token },
      ),
      'sender_mismatch',
    );
    const sent = await rpc.call(
      'IMService',
      'Send',
      { message: { chat, text: 'hi bob', sender: 'alice', send_time: 0 } },
      { [USER_TOKEN_KEY]: alice.token },
    );
    await rejectsWith(
      rpc.call('IMService', 'Pull', { chat }, { [USER_TOKEN_KEY]: carol.token }),
      'not_member',
    );
    const page = await rpc.call(
      'IMService',
      'Pull',
      { chat, limit: 1 },
      { [USER_TOKEN_KEY]: bob.token },
    );
    assert.deepEqual(page.messages, [
      { chat, text: 'hi bob', sender: 'alice', send_time: sent.send_time },
    ]);
  });
});
