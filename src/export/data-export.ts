import type { ContactEntry, ContactListKind } from '../contacts/index.js';
import type { ConversationView, StoredMessage } from '../messaging/index.js';

// A user's data export (docs/rest-api.md, GET /v1/me/export): everything Parley holds about the
// user and everything it wrote, as one JSON document, streamed so that a user with a million
// messages costs the server one page of them at a time. The data portability an app owes its
// users (GDPR article 20), and the way to take one's history elsewhere.

/** Messages read per page; the export never holds more of them at once. */
const MESSAGE_PAGE = 500;
/** Entries read per page of each contact list. */
const CONTACT_PAGE = 200;

export interface ExportDeps {
  account(userId: string): Promise<{ id: string; username: string; createdAtMs: number }>;
  /** The user's profile as REST shows it, or null when it has none. */
  profile(username: string): Promise<unknown>;
  devices(userId: string): Promise<{ device: string; createdAtMs: number; lastSeenMs: number }[]>;
  contacts(
    userId: string,
    username: string,
    kind: ContactListKind,
    after: string | undefined,
    limit: number,
  ): Promise<{ entries: ContactEntry[]; next: string | null }>;
  conversations(userId: string): Promise<ConversationView[]>;
  sentBy(
    userId: string,
    after: { device: string; ref: string } | null,
    limit: number,
  ): Promise<(StoredMessage & { readonly ref: string })[]>;
  nowMs(): number;
}

const KINDS: readonly ContactListKind[] = ['contacts', 'incoming', 'outgoing', 'blocked'];

/** The export of `userId`, as chunks of one JSON document. */
export async function* exportUser(deps: ExportDeps, userId: string): AsyncGenerator<string> {
  const account = await deps.account(userId);
  yield `{"format":"parley-export-1","exportedAt":${deps.nowMs()}`;
  yield `,"account":${JSON.stringify({
    id: account.id,
    username: account.username,
    createdAt: account.createdAtMs,
  })}`;
  yield `,"profile":${JSON.stringify(await deps.profile(account.username))}`;
  const devices = (await deps.devices(userId)).map((d) => ({
    device: d.device,
    createdAt: d.createdAtMs,
    lastSeenAt: d.lastSeenMs,
  }));
  yield `,"devices":${JSON.stringify(devices)}`;

  yield ',"contacts":{';
  for (const [i, kind] of KINDS.entries()) {
    yield `${i > 0 ? ',' : ''}${JSON.stringify(kind)}:[`;
    let after: string | undefined;
    let first = true;
    for (;;) {
      const page = await deps.contacts(userId, account.username, kind, after, CONTACT_PAGE);
      for (const e of page.entries) {
        const entry = {
          user: e.userId,
          username: e.username,
          since: e.sinceMs,
          ...(e.note !== null ? { note: e.note } : {}),
        };
        yield `${first ? '' : ','}${JSON.stringify(entry)}`;
        first = false;
      }
      if (page.next === null) break;
      after = page.next;
    }
    yield ']';
  }
  yield '}';

  const conversations = (await deps.conversations(userId)).map((c) => ({
    id: c.id,
    kind: c.kind,
    ...(c.name !== null ? { name: c.name } : {}),
    ...(c.title !== null ? { title: c.title } : {}),
    role: c.role,
    createdAt: c.createdAtMs,
    readSeq: c.readSeq,
    lastSeq: c.lastSeq,
  }));
  yield `,"conversations":${JSON.stringify(conversations)}`;

  yield ',"messages":[';
  let after: { device: string; ref: string } | null = null;
  let first = true;
  for (;;) {
    const page = await deps.sentBy(userId, after, MESSAGE_PAGE);
    for (const m of page) {
      const message = {
        conversation: m.conversationId,
        seq: m.seq,
        id: m.id,
        device: m.device,
        ref: m.ref,
        at: Math.floor(m.atUs / 1000),
        body: m.body,
        ...(m.recalledAtUs !== null ? { recalled: true } : {}),
        ...(m.editedAtUs !== undefined ? { editedAt: Math.floor(m.editedAtUs / 1000) } : {}),
      };
      yield `${first ? '\n' : ',\n'}${JSON.stringify(message)}`;
      first = false;
    }
    const last = page.at(-1);
    if (!last || page.length < MESSAGE_PAGE) break;
    after = { device: last.device, ref: last.ref };
  }
  yield '\n]}\n';
}
