// Proves the message kinds of docs/messages.md over real HTTP and the real-time protocol: every
// kind is stored and pulled back intact, every bad field is refused with its code while nothing is
// stored, attachment kinds may only name an attachment the sender may use (and sending one lets
// the members download it), replies must name a message that exists, and one link's pipelined
// sends keep their order when they mix plain texts with sends that need checks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { RtClient, TRANSPORTS } from '../test-support/rt-client.js';

type User = { token: string; userId: string; device: string };
type Res = { status: number; json: any; text: string };

describe('message kinds', () => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  /** A group of alice and bob; carol is a stranger to it. */
  let group: string;
  const clients: RtClient[] = [];
  let refCounter = 0;
  const ref = () => `k-${++refCounter}`;

  before(async () => {
    server = await startTestServer({ PARLEY_TCP_PORT: '0' });
    alice = await register(server.url, 'kind_alice', undefined, 'laptop');
    bob = await register(server.url, 'kind_bob', undefined, 'phone');
    carol = await register(server.url, 'kind_carol', undefined, 'tablet');
    const res = await http('POST', `${server.url}/v1/conversations`, {
      token: alice.token,
      body: { kind: 'group', title: 'Kinds', members: ['kind_bob'] },
    });
    assert.equal(res.status, 201, res.text);
    group = res.json.id;
    // Seq 1: something to reply to and forward.
    assert.equal((await sendHttp(alice, group, { kind: 'text', text: 'first' })).status, 201);
  });

  after(async () => {
    for (const c of clients) c.drop();
    await server.close();
  });

  const sendHttp = (user: User, conversation: string, body: unknown, r = ref()): Promise<Res> =>
    http('POST', `${server.url}/v1/conversations/${conversation}/messages`, {
      token: user.token,
      body: { ref: r, body },
    });

  const upload = async (user: User, type: string, bytes: string): Promise<string> => {
    const res = await http('POST', `${server.url}/v1/attachments`, {
      token: user.token,
      body: Buffer.from(bytes),
      headers: { 'content-type': type },
    });
    assert.equal(res.status, 201, res.text);
    return res.json.id as string;
  };

  const download = (user: User, id: string): Promise<Res> =>
    http('GET', `${server.url}/v1/attachments/${id}`, { token: user.token });

  const lastSeq = async (conversation: string): Promise<number> => {
    const res = await http('GET', `${server.url}/v1/conversations/${conversation}`, {
      token: alice.token,
    });
    assert.equal(res.status, 200, res.text);
    return res.json.lastSeq as number;
  };

  const pullHttp = async (user: User, conversation: string, afterSeq: number): Promise<any[]> => {
    const res = await http(
      'GET',
      `${server.url}/v1/conversations/${conversation}/messages?after=${afterSeq}&limit=100`,
      { token: user.token },
    );
    assert.equal(res.status, 200, res.text);
    return res.json.messages;
  };

  const connect = async (user: User, transport = TRANSPORTS[0]!): Promise<RtClient> => {
    const client = await RtClient.connect(server, transport, user.token, user.device);
    clients.push(client);
    return client;
  };

  it('stores every kind and returns it intact over HTTP and every real-time transport', async () => {
    const image = await upload(alice, 'image/png', 'png bytes');
    const file = await upload(alice, 'application/pdf', 'pdf bytes');
    const audio = await upload(alice, 'audio/ogg', 'ogg bytes');
    const video = await upload(alice, 'video/mp4', 'mp4 bytes');
    const bodies = [
      { kind: 'text', text: 'hi @bob', mentions: [bob.userId] },
      { kind: 'text', text: 'hi all', mentions: 'all', replyTo: 1 },
      { kind: 'text', text: 'fwd', forwardedFrom: { conversation: group, seq: 1 } },
      { kind: 'image', attachment: image, caption: 'a cat', width: 640, height: 480 },
      { kind: 'file', attachment: file, name: 'report.pdf', caption: 'Q3' },
      { kind: 'audio', attachment: audio, durationMs: 0 },
      { kind: 'video', attachment: video, width: 1920, height: 1080, durationMs: 61_500 },
      { kind: 'image', attachment: image, replyTo: 2 },
      { kind: 'location', lat: -33.8568, lng: 151.2153, label: 'Sydney Opera House' },
      { kind: 'location', lat: 90, lng: -180 },
      {
        kind: 'custom',
        type: 'poll',
        payload: { q: 'Lunch?', options: ['ramen', 'tacos'], n: 1.5, open: true, x: null },
      },
      { kind: 'custom', type: 'app.ping', payload: null, replyTo: 1 },
    ];
    const start = await lastSeq(group);
    for (const body of bodies) {
      const res = await sendHttp(alice, group, body);
      assert.equal(res.status, 201, `${JSON.stringify(body)} → ${res.text}`);
    }
    const pulled = await pullHttp(bob, group, start);
    assert.deepEqual(
      pulled.map((m) => m.body),
      bodies,
    );

    // The same bodies come back through each real-time codec, and each codec sends them too.
    for (const transport of TRANSPORTS) {
      const client = await connect(bob, transport);
      const reply = await client.request({
        type: 'pull',
        conversation: group,
        after: start,
        before: start + bodies.length + 1,
        limit: 100,
      });
      assert.equal(reply.type, 'pulled', JSON.stringify(reply));
      assert.deepEqual(
        reply.messages.map((m: any) => m.body),
        bodies,
        transport,
      );
      const body = bodies[10]!;
      const sent = await client.request({ type: 'send', ref: ref(), conversation: group, body });
      assert.equal(sent.type, 'sent', `${transport}: ${JSON.stringify(sent)}`);
      const [stored] = await pullHttp(alice, group, sent.seq - 1);
      assert.deepEqual(stored.body, body, transport);
    }
  });

  it('refuses each bad field with its code, naming the field, and stores nothing', async () => {
    const image = await upload(alice, 'image/png', 'bad-field image');
    const cases: [body: unknown, status: number, code: string, names: string][] = [
      ['hi', 400, 'invalid_request', 'body'],
      [{ kind: 'system', event: 'joined' }, 400, 'invalid_request', 'server only'],
      [{ kind: 'recalled' }, 400, 'invalid_request', 'server only'],
      [{ kind: 'sticker', id: 1 }, 400, 'invalid_request', 'body.kind'],
      [{ text: 'no kind' }, 400, 'invalid_request', 'body.kind'],
      [{ kind: 'text', text: 'hi', color: 'red' }, 400, 'invalid_request', 'body.color'],
      [{ kind: 'text', text: '' }, 400, 'invalid_request', 'body.text'],
      [{ kind: 'text', text: 7 }, 400, 'invalid_request', 'body.text'],
      [{ kind: 'text', text: 'x'.repeat(16_001) }, 413, 'body_too_large', 'body.text'],
      [{ kind: 'text', text: 'hi', mentions: [] }, 400, 'invalid_request', 'body.mentions'],
      [{ kind: 'text', text: 'hi', mentions: 'everyone' }, 400, 'invalid_request', 'body.mentions'],
      [{ kind: 'text', text: 'hi', mentions: ['not an id!'] }, 400, 'invalid_request', 'mentions'],
      [
        { kind: 'text', text: 'hi', mentions: [bob.userId, bob.userId] },
        400,
        'invalid_request',
        'body.mentions',
      ],
      [{ kind: 'text', text: 'hi', attachment: image }, 400, 'invalid_request', 'body.attachment'],
      [{ kind: 'image' }, 400, 'invalid_request', 'body.attachment'],
      [{ kind: 'image', attachment: 'a/../x' }, 400, 'invalid_request', 'body.attachment'],
      [{ kind: 'image', attachment: image, width: 0 }, 400, 'invalid_request', 'body.width'],
      [{ kind: 'image', attachment: image, height: 1.5 }, 400, 'invalid_request', 'body.height'],
      [{ kind: 'image', attachment: image, durationMs: 5 }, 400, 'invalid_request', 'durationMs'],
      [{ kind: 'image', attachment: image, caption: '' }, 400, 'invalid_request', 'body.caption'],
      [{ kind: 'file', attachment: image, caption: 5 }, 400, 'invalid_request', 'body.caption'],
      [{ kind: 'file', attachment: image, name: 'a/b' }, 400, 'invalid_request', 'body.name'],
      [{ kind: 'file', attachment: image, width: 10 }, 400, 'invalid_request', 'body.width'],
      [{ kind: 'audio', attachment: image, durationMs: -1 }, 400, 'invalid_request', 'durationMs'],
      [{ kind: 'video', attachment: image, durationMs: '9' }, 400, 'invalid_request', 'durationMs'],
      [{ kind: 'location', lat: 90.5, lng: 0 }, 400, 'invalid_request', 'body.lat'],
      [{ kind: 'location', lat: 0, lng: -180.01 }, 400, 'invalid_request', 'body.lng'],
      [{ kind: 'location', lat: '1', lng: 0 }, 400, 'invalid_request', 'body.lat'],
      [{ kind: 'location', lng: 0 }, 400, 'invalid_request', 'body.lat'],
      [{ kind: 'location', lat: 0, lng: 0, label: '' }, 400, 'invalid_request', 'body.label'],
      [{ kind: 'location', lat: 0, lng: 0, label: 'a\nb' }, 400, 'invalid_request', 'body.label'],
      [{ kind: 'custom', type: '', payload: 1 }, 400, 'invalid_request', 'body.type'],
      [{ kind: 'custom', type: 'x'.repeat(65), payload: 1 }, 400, 'invalid_request', 'body.type'],
      [{ kind: 'custom', type: 'poll' }, 400, 'invalid_request', 'body.payload'],
      [{ kind: 'custom', payload: {} }, 400, 'invalid_request', 'body.type'],
      [
        { kind: 'custom', type: 'blob', payload: { data: 'x'.repeat(70_000) } },
        413,
        'body_too_large',
        'bytes',
      ],
      [{ kind: 'text', text: 'hi', replyTo: 0 }, 400, 'invalid_request', 'body.replyTo'],
      [{ kind: 'text', text: 'hi', replyTo: '1' }, 400, 'invalid_request', 'body.replyTo'],
      [{ kind: 'text', text: 'hi', replyTo: 1.5 }, 400, 'invalid_request', 'body.replyTo'],
      [{ kind: 'text', text: 'hi', forwardedFrom: 'c1' }, 400, 'invalid_request', 'forwardedFrom'],
      [
        { kind: 'text', text: 'hi', forwardedFrom: { conversation: group } },
        400,
        'invalid_request',
        'body.forwardedFrom.seq',
      ],
      [
        { kind: 'text', text: 'hi', forwardedFrom: { conversation: 7, seq: 1 } },
        400,
        'invalid_request',
        'body.forwardedFrom.conversation',
      ],
      [
        { kind: 'text', text: 'hi', forwardedFrom: { conversation: group, seq: 1, by: 'x' } },
        400,
        'invalid_request',
        'body.forwardedFrom.by',
      ],
    ];
    const before = await lastSeq(group);
    const rt = await connect(alice);
    for (const [body, status, code, names] of cases) {
      const res = await sendHttp(alice, group, body);
      const label = `${JSON.stringify(body).slice(0, 80)} → ${res.text}`;
      assert.equal(res.status, status, label);
      assert.equal(res.json?.error?.code, code, label);
      assert.ok(String(res.json.error.message).includes(names), label);
      // A body over the byte limit is also over the frame limit, which closes a link: HTTP only.
      if (code === 'body_too_large' && JSON.stringify(body).length > 60_000) continue;
      const reply = await rt.request({ type: 'send', ref: ref(), conversation: group, body });
      assert.equal(reply.type, 'error', `${label} (real time)`);
      // A body that is not an object is refused by the frame check before the message rules.
      assert.equal(reply.code, typeof body === 'object' ? code : 'bad_frame', `${label} (rt)`);
    }
    assert.equal(await lastSeq(group), before, 'nothing was stored');
  });

  it('lets an attachment be sent by its owner, and then downloaded by the members', async () => {
    const id = await upload(alice, 'image/png', 'shared cat');
    assert.equal((await download(bob, id)).status, 404, 'not shared yet: 404 for a member');
    const res = await sendHttp(alice, group, { kind: 'image', attachment: id, width: 2 });
    assert.equal(res.status, 201, res.text);
    const got = await download(bob, id);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.text, 'shared cat');
    assert.equal((await download(carol, id)).status, 404, 'a stranger still gets 404');

    // Bob may now forward it to a conversation of his own (he can read it); carol then can too.
    const dm = await http('POST', `${server.url}/v1/conversations`, {
      token: bob.token,
      body: { kind: 'direct', with: 'kind_carol' },
    });
    assert.equal(dm.status, 201, dm.text);
    const fwd = await sendHttp(bob, dm.json.id, {
      kind: 'image',
      attachment: id,
      forwardedFrom: { conversation: group, seq: res.json.seq },
    });
    assert.equal(fwd.status, 201, fwd.text);
    assert.equal((await download(carol, id)).status, 200);
  });

  it('refuses an attachment the sender may not use, storing nothing and sharing nothing', async () => {
    const secret = await upload(alice, 'application/pdf', 'alice only');
    const before = await lastSeq(group);
    const res = await sendHttp(bob, group, { kind: 'file', attachment: secret, name: 'x.pdf' });
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json.error.code, 'attachment_not_found');
    const missing = await sendHttp(bob, group, { kind: 'image', attachment: 'aNoSuchAttachment1' });
    assert.equal(missing.json.error.code, 'attachment_not_found', missing.text);
    const rt = await connect(bob, 'ws-proto');
    const reply = await rt.request({
      type: 'send',
      ref: ref(),
      conversation: group,
      body: { kind: 'video', attachment: secret },
    });
    assert.equal(reply.code, 'attachment_not_found', JSON.stringify(reply));
    assert.equal(await lastSeq(group), before, 'nothing was stored');
    assert.equal((await download(bob, secret)).status, 404, 'still not shared with bob');

    // Its owner may not use it where she is not a member: not_member, as for any send.
    const other = await http('POST', `${server.url}/v1/conversations`, {
      token: carol.token,
      body: { kind: 'group', title: 'Carol alone', members: [] },
    });
    assert.equal(other.status, 201, other.text);
    const outside = await sendHttp(alice, other.json.id, { kind: 'file', attachment: secret });
    assert.equal(outside.json.error.code, 'not_member', outside.text);
  });

  it('refuses a reply to a seq that does not exist, and stores nothing', async () => {
    const before = await lastSeq(group);
    const res = await sendHttp(alice, group, { kind: 'text', text: 're', replyTo: before + 1 });
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json.error.code, 'message_not_found');
    const rt = await connect(bob, 'tcp');
    const reply = await rt.request({
      type: 'send',
      ref: ref(),
      conversation: group,
      body: { kind: 'location', lat: 1, lng: 2, replyTo: 1_000_000 },
    });
    assert.equal(reply.code, 'message_not_found', JSON.stringify(reply));
    assert.equal(await lastSeq(group), before, 'nothing was stored');
    // A stranger's reply is refused as any send of a stranger is.
    const stranger = await sendHttp(carol, group, { kind: 'text', text: 're', replyTo: 1 });
    assert.equal(stranger.json.error.code, 'not_member', stranger.text);
  });

  it('keeps one link’s pipelined sends in order when texts and images mix', async () => {
    const image = await upload(alice, 'image/png', 'ordered');
    const rt = await connect(alice);
    const refs: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = ref();
      refs.push(r);
      const body =
        i % 3 === 1
          ? { kind: 'image', attachment: image, caption: `#${i}` }
          : i % 3 === 2
            ? { kind: 'text', text: `#${i}`, replyTo: 1 }
            : { kind: 'text', text: `#${i}` };
      rt.send({ type: 'send', id: r, ref: r, conversation: group, body });
    }
    const sent = await rt.waitForCount('sent', 30);
    const seqOf = new Map(sent.map((f) => [f.ref as string, f.seq as number]));
    const seqs = refs.map((r) => seqOf.get(r));
    const first = seqs[0]!;
    assert.deepEqual(
      seqs,
      refs.map((_, i) => first + i),
      'seqs follow send order',
    );
  });
});
