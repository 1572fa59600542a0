// The REST half of the SDK: accounts, users, contacts, conversations, groups, history and
// attachments over `fetch` (docs/rest-api.md). No socket; usable on its own, for instance to log
// in before a client exists. Every non-2xx answer becomes a ParleyClientError with the server's
// code and status.
import type { EditBody, SendableBody } from './body.js';
import { ParleyClientError } from './errors.js';
import type {
  FetchLike,
  Message,
  MessagePage,
  PageQuery,
  Profile,
  PusherInfo,
  SearchPage,
  SearchQuery,
  Preferences,
  ReactionCount,
} from './types.js';
import { toMessage } from './wire.js';

export type { Profile };

export interface ApiOptions {
  /** The server's HTTP base URL, e.g. `http://localhost:8080`. */
  readonly url: string;
  /** A bearer token; `register` and `login` set it, `logout` clears it. */
  readonly token?: string;
  /**
   * This device's key from its last login or registration (`AuthResult.deviceKey`), kept by the
   * app with its login state: `login` sends it, so that failed logins elsewhere never hold this
   * device back (docs/rest-api.md).
   */
  readonly deviceKey?: string;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
}

export interface UserRef {
  readonly id: string;
  readonly username: string;
}

export interface AuthResult {
  readonly user: UserRef;
  readonly token: string;
  /** The device the token was issued for (generated when none was given). */
  readonly device: string;
  /** Proves this device at its next login; replaces the previous key, which stops working. */
  readonly deviceKey: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** This install's device id; without one the server generates one and returns it. */
  readonly device?: string;
  /** Default: the API's `deviceKey` (the last one it got), when logging in. */
  readonly deviceKey?: string;
}

/** A logged-in device of this account (GET /v1/me/sessions). */
export interface DeviceSession {
  readonly device: string;
  /** When it logged in, epoch ms. */
  readonly createdAt: number;
  /** When it was last used, epoch ms (to the hour; a live link counts until it closes). */
  readonly lastSeenAt: number;
  /** The device of this API's token. */
  readonly current: boolean;
}

/** Fields to change; `null` or `""` clears one, an absent field stays. */
export interface ProfilePatch {
  readonly displayName?: string | null;
  readonly bio?: string | null;
  readonly avatar?: string | null;
}

export interface UserPage {
  readonly users: Profile[];
  /** The `after` of the next page, or null on the last one. */
  readonly next: string | null;
}

export type ContactState = 'none' | 'outgoing' | 'incoming' | 'contact' | 'blocked' | 'blocked_by';

export interface ContactEntry {
  readonly user: UserRef;
  readonly since: number;
  /** The request's note (request lists only). */
  readonly note?: string;
}

export interface ContactPage {
  readonly entries: ContactEntry[];
  readonly next: string | null;
}

export interface ListQuery {
  readonly after?: string;
  readonly limit?: number;
}

export type ConversationKind = 'direct' | 'group' | 'room';
export type Role = 'owner' | 'admin' | 'member';
export type HistoryVisibility = 'join' | 'full';

export interface ConversationMember {
  readonly id: string;
  readonly username: string | null;
  readonly role: Role;
  /** Groups only. */
  readonly muted?: boolean;
  readonly deliveredSeq: number;
  readonly readSeq: number;
}

export interface Conversation {
  readonly id: string;
  readonly kind: ConversationKind;
  /** Rooms only. */
  readonly name?: string;
  /** Groups only. */
  readonly title?: string;
  readonly createdAt: number;
  readonly lastSeq: number;
  readonly lastAt: number | null;
  /** Groups only. */
  readonly history?: HistoryVisibility;
  /** Groups only: the whole group is muted. */
  readonly muted?: boolean;
  /** Groups only. */
  readonly dismissedAt?: number | null;
  /** The caller's own role and watermarks. */
  readonly role?: Role;
  readonly readSeq?: number;
  readonly deliveredSeq?: number;
  readonly unread?: number;
  /** Groups only: the avatar's attachment id. */
  readonly avatar?: string | null;
  /** In `list`: messages above readSeq that mention the caller or @all. */
  readonly mentions?: number;
  /** In `list`: the caller's own pin and notification mute. */
  readonly preferences?: Preferences;
  /**
   * In `list`: the newest message the caller may see and did not hide, or null; long texts are
   * cut to a preview (`body.truncated`).
   */
  readonly lastMessage?: Message | null;
  /** In `get`, `openDirect`, `groups.create` and `rooms.join`; not in `list`. */
  readonly members?: ConversationMember[];
}

/** A reaction count after `messages.react` / `messages.unreact`. */
export interface ReactionState {
  readonly emoji: string;
  readonly count: number;
  /** Whether the caller is among them now. */
  readonly me: boolean;
}

/** A group's invite code: anyone holding it may join (`groups.join`). */
export interface Invite {
  readonly conversation: string;
  readonly code: string;
}

export interface NewGroup {
  readonly title: string;
  /** Usernames; the caller becomes the owner. */
  readonly members: string[];
  readonly history?: HistoryVisibility;
}

export interface Attachment {
  readonly id: string;
  readonly owner: string;
  readonly sha256: string;
  readonly size: number;
  readonly mime: string;
  readonly name: string | null;
  readonly createdAtMs: number;
}

export interface UploadOptions {
  /** The attachment's type; a Blob's own `type` is used when this is absent. */
  readonly contentType?: string;
  readonly name?: string;
}

/** What `messages.send` (REST) answers. */
export interface RestSent {
  readonly id: string;
  readonly seq: number;
  readonly at: number;
  readonly duplicate: boolean;
}

/** The answer to a group change: the system message recording it (docs/groups.md). */
export interface GroupChange {
  readonly message: Message;
}

type Query = Record<string, string | number | undefined>;

/** One REST request, for `api.call` (routes this class has no helper for). */
export interface ApiRequest {
  readonly method: string;
  /** From the base URL on, e.g. `/v1/me`. */
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly raw?: { readonly body: Blob | Uint8Array; readonly contentType: string };
}

interface WireRestMessage {
  id: string;
  conversation: string;
  seq: number;
  sender: string;
  device: string;
  body?: unknown;
  at: number;
  recalled?: boolean;
  editedAt?: number | null;
  reactions?: ReactionCount[];
  hidden?: boolean;
}

/** A REST message in the SDK's Message shape (the flags absent on the wire become defaults). */
export function restMessage(m: WireRestMessage): Message {
  return toMessage(m, m.id);
}

type WireConversation = Omit<Conversation, 'lastMessage'> & {
  lastMessage?: WireRestMessage | null;
};

function restConversation(c: WireConversation): Conversation {
  const { lastMessage, ...rest } = c;
  return lastMessage === undefined
    ? rest
    : { ...rest, lastMessage: lastMessage === null ? null : restMessage(lastMessage) };
}

const enc = encodeURIComponent;
const messagePath = (conversationId: string, seq: number) =>
  `/v1/conversations/${enc(conversationId)}/messages/${seq}`;

export class ParleyApi {
  readonly url: string;
  #token: string | undefined;
  #deviceKey: string | undefined;
  readonly #fetch: FetchLike;

  constructor(options: ApiOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#deviceKey = options.deviceKey;
    const f = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!f) throw new TypeError('No fetch: pass `fetch` in the options.');
    // A browser's fetch must be called on the window: unbound, it throws "Illegal invocation".
    this.#fetch = options.fetch ?? f.bind(globalThis);
  }

  /** The bearer token in use, if any. */
  get token(): string | undefined {
    return this.#token;
  }

  set token(token: string | undefined) {
    this.#token = token;
  }

  /**
   * This device's key from the last `register` or `login` (or the options), sent by `login`.
   * Keep it with the login state, and keep it across a logout: the server does.
   */
  get deviceKey(): string | undefined {
    return this.#deviceKey;
  }

  set deviceKey(key: string | undefined) {
    this.#deviceKey = key;
  }

  // Accounts --------------------------------------------------------------------------------

  /** Creates an account and uses its token (and device key) from then on. */
  async register(credentials: Credentials): Promise<AuthResult> {
    const result = await this.call<AuthResult>({
      method: 'POST',
      path: '/v1/auth/register',
      json: credentials,
    });
    this.#token = result.token;
    this.#deviceKey = result.deviceKey;
    return result;
  }

  /**
   * Logs in (again) on a device, presenting its device key, and uses the new token and key from
   * then on.
   */
  async login(credentials: Credentials): Promise<AuthResult> {
    const deviceKey = credentials.deviceKey ?? this.#deviceKey;
    const result = await this.call<AuthResult>({
      method: 'POST',
      path: '/v1/auth/login',
      json: deviceKey === undefined ? credentials : { ...credentials, deviceKey },
    });
    this.#token = result.token;
    this.#deviceKey = result.deviceKey;
    return result;
  }

  /** Revokes the token (the server closes its live connections) and forgets it. */
  async logout(): Promise<void> {
    await this.call<undefined>({ method: 'POST', path: '/v1/auth/logout' });
    this.#token = undefined;
  }

  /**
   * This account's logged-in devices (`list`, newest first, `current` marking this one), logging
   * one of them out (`revoke`: its token stops working, its connections close), and changing the
   * password (`changePassword`: every other device is logged out; this token keeps working),
   * and deleting the account (`delete`).
   */
  readonly account = {
    sessions: async () =>
      (await this.call<{ sessions: DeviceSession[] }>({ method: 'GET', path: '/v1/me/sessions' }))
        .sessions,
    revoke: (device: string) =>
      this.call<undefined>({ method: 'DELETE', path: `/v1/me/sessions/${enc(device)}` }),
    changePassword: (currentPassword: string, newPassword: string) =>
      this.call<undefined>({
        method: 'POST',
        path: '/v1/me/password',
        json: { currentPassword, newPassword },
      }),
    /**
     * Everything the server holds about the user and everything it wrote, as one JSON document
     * (docs/rest-api.md, GET /v1/me/export): format "parley-export-1".
     */
    export: () => this.call<Record<string, unknown>>({ method: 'GET', path: '/v1/me/export' }),
    /** This device's pusher (docs/push.md), or null. */
    pusher: async () =>
      (await this.call<{ pusher: PusherInfo | null }>({ method: 'GET', path: '/v1/me/pusher' }))
        .pusher,
    /** Sends this device's push notifications to a gateway of the server's (PARLEY_PUSH_GATEWAYS). */
    setPusher: async (pusher: { url: string; token?: string | null }) =>
      (
        await this.call<{ pusher: PusherInfo }>({
          method: 'PUT',
          path: '/v1/me/pusher',
          json: pusher,
        })
      ).pusher,
    /** No more push notifications to this device. */
    removePusher: () => this.call<undefined>({ method: 'DELETE', path: '/v1/me/pusher' }),
    /** Deletes the account for good (docs/rest-api.md, DELETE /v1/me) and forgets the token. */
    delete: async (password: string) => {
      await this.call<undefined>({ method: 'DELETE', path: '/v1/me', json: { password } });
      this.#token = undefined;
    },
  };

  // Users -----------------------------------------------------------------------------------

  readonly users = {
    me: () => this.call<{ user: UserRef; device: string }>({ method: 'GET', path: '/v1/me' }),
    get: async (username: string) =>
      (await this.call<{ user: Profile }>({ method: 'GET', path: `/v1/users/${enc(username)}` }))
        .user,
    search: (prefix: string, query: ListQuery = {}) =>
      this.call<UserPage>({ method: 'GET', path: '/v1/users', query: { prefix, ...query } }),
    update: async (patch: ProfilePatch) =>
      (await this.call<{ user: Profile }>({ method: 'PATCH', path: '/v1/me/profile', json: patch }))
        .user,
  };

  // Contacts --------------------------------------------------------------------------------

  readonly contacts = {
    list: (query: ListQuery = {}) => this.contactPage('/v1/contacts', 'contacts', { ...query }),
    requests: (direction: 'incoming' | 'outgoing' = 'incoming', query: ListQuery = {}) =>
      this.contactPage('/v1/contacts/requests', 'requests', { direction, ...query }),
    blocked: (query: ListQuery = {}) =>
      this.contactPage('/v1/contacts/blocked', 'blocked', { ...query }),
    /** Asks `username` (or accepts their pending request to you). */
    request: (username: string, note?: string) =>
      this.relation('POST', '/v1/contacts/requests', { username, ...(note ? { note } : {}) }),
    accept: (username: string) =>
      this.relation('POST', `/v1/contacts/requests/${enc(username)}/accept`),
    decline: (username: string) =>
      this.relation('POST', `/v1/contacts/requests/${enc(username)}/decline`),
    cancel: (username: string) => this.relation('DELETE', `/v1/contacts/requests/${enc(username)}`),
    remove: (username: string) => this.relation('DELETE', `/v1/contacts/${enc(username)}`),
    block: (username: string) => this.relation('POST', `/v1/contacts/${enc(username)}/block`),
    unblock: (username: string) => this.relation('DELETE', `/v1/contacts/${enc(username)}/block`),
  };

  // Conversations ---------------------------------------------------------------------------

  readonly conversations = {
    /** The caller's conversations: pinned ones first, then by most recent activity. */
    list: async () =>
      (
        await this.call<{ conversations: WireConversation[] }>({
          method: 'GET',
          path: '/v1/conversations',
        })
      ).conversations.map(restConversation),
    /**
     * One page of `list()` (`limit` 1-200, default 200): pass `next` as `after` for the next
     * page; `next` is null on the last one.
     */
    listPage: async (query: ListQuery = {}) => {
      const page = await this.call<{ conversations: WireConversation[]; next: string | null }>({
        method: 'GET',
        path: '/v1/conversations',
        query: { limit: query.limit ?? 200, after: query.after },
      });
      return { conversations: page.conversations.map(restConversation), next: page.next };
    },
    get: (id: string) =>
      this.call<Conversation>({ method: 'GET', path: `/v1/conversations/${enc(id)}` }),
    /** The direct conversation with `username`, created on first use. */
    openDirect: (username: string) =>
      this.call<Conversation>({
        method: 'POST',
        path: '/v1/conversations',
        json: { kind: 'direct', with: username },
      }),
    /** Joins the room `name`, creating it on first use. */
    joinRoom: (name: string) =>
      this.call<Conversation>({
        method: 'POST',
        path: '/v1/conversations',
        json: { kind: 'room', name },
      }),
    /** Leaves a room, silently (no system message); `joinRoom` makes the caller a member again. */
    leaveRoom: async (id: string): Promise<void> => {
      await this.call<{ message: null }>({
        method: 'DELETE',
        path: `/v1/conversations/${enc(id)}/members/me`,
      });
    },
    /** Sets the caller's own pin and notification mute (one or both). */
    setPreferences: async (id: string, preferences: Partial<Preferences>) =>
      (
        await this.call<{ preferences: Preferences }>({
          method: 'PATCH',
          path: `/v1/conversations/${enc(id)}/preferences`,
          json: preferences,
        })
      ).preferences,
    /** Moves the caller's read watermark (it only moves forward). */
    markRead: (id: string, seq: number) =>
      this.call<{ readSeq: number; deliveredSeq: number }>({
        method: 'POST',
        path: `/v1/conversations/${enc(id)}/read`,
        json: { seq },
      }),
  };

  // Messages --------------------------------------------------------------------------------

  readonly messages = {
    /** A page of history in ascending seq (docs/rest-api.md: after, before, neither or both). */
    history: async (conversationId: string, query: PageQuery = {}): Promise<MessagePage> => {
      const page = await this.call<{ messages: WireRestMessage[]; hasMore: boolean }>({
        method: 'GET',
        path: `/v1/conversations/${enc(conversationId)}/messages`,
        query: { after: query.after, before: query.before, limit: query.limit },
      });
      return { messages: page.messages.map(restMessage), hasMore: page.hasMore };
    },
    /**
     * Messages holding every word of `q` (the last also as a prefix) that the user may read,
     * newest first (docs/messages.md#search).
     */
    search: async (q: string, query: SearchQuery = {}): Promise<SearchPage> => {
      const page = await this.call<{ messages: WireRestMessage[]; next: string | null }>({
        method: 'GET',
        path: '/v1/search',
        query: { q, conversation: query.conversation, before: query.before, limit: query.limit },
      });
      return { messages: page.messages.map(restMessage), next: page.next };
    },
    /**
     * One send over REST, without the outbox: retry with the same `ref` after a failure. The
     * real-time client's `send` is the reliable path.
     */
    send: (conversationId: string, ref: string, body: SendableBody) =>
      this.call<RestSent>({
        method: 'POST',
        path: `/v1/conversations/${enc(conversationId)}/messages`,
        json: { ref, body },
      }),
    /** Replaces the text of one of the caller's text messages; answers the edited message. */
    edit: async (conversationId: string, seq: number, body: EditBody) =>
      restMessage(
        (
          await this.call<{ message: WireRestMessage }>({
            method: 'PATCH',
            path: `${messagePath(conversationId, seq)}`,
            json: { body },
          })
        ).message,
      ),
    /** Recalls a message (its sender within the window; group owners and admins too). */
    recall: async (conversationId: string, seq: number) =>
      restMessage(
        (
          await this.call<{ message: WireRestMessage }>({
            method: 'POST',
            path: `${messagePath(conversationId, seq)}/recall`,
          })
        ).message,
      ),
    /** Delete for me. */
    hide: (conversationId: string, seq: number) =>
      this.call<{ conversation: string; seq: number; hidden: true }>({
        method: 'POST',
        path: `${messagePath(conversationId, seq)}/hide`,
      }),
    react: (conversationId: string, seq: number, emoji: string) =>
      this.call<ReactionState>({
        method: 'POST',
        path: `${messagePath(conversationId, seq)}/reactions`,
        json: { emoji },
      }),
    unreact: (conversationId: string, seq: number, emoji: string) =>
      this.call<ReactionState>({
        method: 'DELETE',
        path: `${messagePath(conversationId, seq)}/reactions`,
        query: { emoji },
      }),
  };

  // Groups ----------------------------------------------------------------------------------

  readonly groups = {
    create: (group: NewGroup) =>
      this.call<Conversation>({
        method: 'POST',
        path: '/v1/conversations',
        json: { kind: 'group', ...group },
      }),
    get: (id: string) => this.conversations.get(id),
    members: async (id: string) => (await this.conversations.get(id)).members ?? [],
    /** Adds members by username (admins). */
    add: (id: string, usernames: string[]) =>
      this.groupChange('POST', `/v1/conversations/${enc(id)}/members`, { members: usernames }),
    /** Removes a member by user id (admins). */
    remove: (id: string, userId: string) =>
      this.groupChange('DELETE', `/v1/conversations/${enc(id)}/members/${enc(userId)}`),
    leave: (id: string) => this.groupChange('DELETE', `/v1/conversations/${enc(id)}/members/me`),
    /** Promotes or demotes; `owner` transfers ownership (the old owner becomes an admin). */
    role: (id: string, userId: string, role: Role) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}/members/${enc(userId)}`, { role }),
    /** Mutes or unmutes one member (admins). */
    mute: (id: string, userId: string, muted: boolean) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}/members/${enc(userId)}`, { muted }),
    title: (id: string, title: string) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}`, { title }),
    /** Mutes the whole group: only the owner and admins may send. */
    muteAll: (id: string, muted: boolean) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}`, { muted }),
    history: (id: string, history: HistoryVisibility) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}`, { history }),
    /** Sets the group's avatar (an attachment id), or clears it with null (admins). */
    avatar: (id: string, attachmentId: string | null) =>
      this.groupChange('PATCH', `/v1/conversations/${enc(id)}`, { avatar: attachmentId }),
    /** Dismisses the group (owner); its history stays readable. */
    dismiss: (id: string) => this.groupChange('DELETE', `/v1/conversations/${enc(id)}`),
    /** Creates the group's invite code, replacing any earlier one (admins). */
    createInvite: (id: string) =>
      this.call<Invite>({ method: 'POST', path: `/v1/conversations/${enc(id)}/invite` }),
    /** The group's current invite code (admins). */
    invite: (id: string) =>
      this.call<Invite>({ method: 'GET', path: `/v1/conversations/${enc(id)}/invite` }),
    /** Revokes the invite code (admins): it stops working at once. */
    revokeInvite: (id: string) =>
      this.call<undefined>({ method: 'DELETE', path: `/v1/conversations/${enc(id)}/invite` }),
    /** Joins a group with its invite code; answers the `member.joined` system message. */
    join: (code: string) => this.groupChange('POST', `/v1/invites/${enc(code)}/join`),
  };

  // Attachments -----------------------------------------------------------------------------

  readonly attachments = {
    /** Uploads the bytes as one attachment; send its `id` in an image/file/audio/video body. */
    upload: (data: Blob | Uint8Array, options: UploadOptions = {}) => {
      const contentType =
        options.contentType ?? (data instanceof Uint8Array ? '' : data.type) ?? '';
      return this.call<Attachment>({
        method: 'POST',
        path: '/v1/attachments',
        query: { name: options.name },
        raw: { body: data, contentType: contentType || 'application/octet-stream' },
      });
    },
    meta: (id: string) =>
      this.call<Attachment>({ method: 'GET', path: `/v1/attachments/${enc(id)}/meta` }),
    /** The download URL. It needs the bearer token: use `download` where headers cannot be set. */
    url: (id: string) => `${this.url}/v1/attachments/${enc(id)}`,
    /** The bytes, as a Blob (for an object URL in a browser). */
    download: async (id: string): Promise<Blob> => {
      const response = await this.fetchOrThrow({
        method: 'GET',
        path: `/v1/attachments/${enc(id)}`,
      });
      return response.blob();
    },
  };

  // Plumbing --------------------------------------------------------------------------------

  private async contactPage(path: string, key: string, query: Query): Promise<ContactPage> {
    const page = await this.call<Record<string, unknown>>({ method: 'GET', path, query });
    return {
      entries: (page[key] ?? []) as ContactEntry[],
      next: (page.next ?? null) as string | null,
    };
  }

  private async relation(method: string, path: string, json?: unknown): Promise<ContactState> {
    return (await this.call<{ state: ContactState }>({ method, path, json })).state;
  }

  private async groupChange(method: string, path: string, json?: unknown): Promise<GroupChange> {
    const answer = await this.call<{ message: WireRestMessage }>({ method, path, json });
    return { message: restMessage(answer.message) };
  }

  /**
   * One request with the token; resolves with the parsed JSON body (undefined for 204) and
   * rejects with a ParleyClientError carrying the server's code and status.
   */
  async call<T>(request: ApiRequest): Promise<T> {
    const response = await this.fetchOrThrow(request);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch (cause) {
      throw new ParleyClientError('bad_response', 'The answer is not JSON.', {
        status: response.status,
        cause,
      });
    }
  }

  private async fetchOrThrow(request: ApiRequest): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let body: RequestInit['body'];
    if (request.raw) {
      headers['content-type'] = request.raw.contentType;
      // fetch takes both; the DOM typings refuse a Uint8Array that may sit on a SharedArrayBuffer.
      body = request.raw.body as Blob;
    } else if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    }
    let response: Response;
    try {
      response = await this.#fetch(this.url + request.path + queryString(request.query), {
        method: request.method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
    } catch (cause) {
      throw new ParleyClientError('network', undefined, { cause });
    }
    if (response.ok) return response;
    throw await errorOf(response);
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) parts.push(`${enc(key)}=${enc(String(value))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

async function errorOf(response: Response): Promise<ParleyClientError> {
  let code = 'bad_response';
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not a coded error body (a proxy's page, say): the status is all there is.
    code = response.status >= 500 ? 'internal' : 'bad_response';
  }
  return new ParleyClientError(code, message, { status: response.status });
}
