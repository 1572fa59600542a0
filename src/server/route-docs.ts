import type { ErrorCode } from '../core/errors.js';

// The OpenAPI documentation of every HTTP route, in one place, keyed by "METHOD /url" as Fastify
// registers it. api-docs.ts merges each entry into its route's OpenAPI operation; the request
// schemas themselves come from the routes (the ones Fastify validates with). A route without an
// entry here fails api-docs.test.ts, so a new route cannot go undocumented.
//
// Errors: list the codes a route itself can answer; api-docs.ts (errorCodesOf) adds the ones the
// layers in front of it give every route of its kind (invalid_request, internal, unavailable and
// the HTTP layer's; invalid_json, payload_too_large and unsupported_media_type for methods with a
// body; not_found with path parameters; unauthenticated with a token). test/fuzz-http.test.ts
// holds the document to the code: every status and code it sees must be listed here.

export type RouteTag =
  | 'accounts'
  | 'conversations'
  | 'messages'
  | 'groups'
  | 'contacts'
  | 'users'
  | 'attachments'
  | 'seed'
  | 'operations';

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tag: RouteTag;
  /** bearer: a token is required; seed: a token unless PARLEY_SEED_API=open; none: public. */
  readonly auth: 'bearer' | 'seed' | 'none';
  readonly errors: readonly ErrorCode[];
  /** An example request body; `schema` only where the route validates by hand (the seed API). */
  readonly body?: {
    readonly example: unknown;
    readonly schema?: Record<string, unknown>;
    readonly contentType?: string;
  };
  /** A query-string schema, only where the route validates by hand (the seed API). */
  readonly query?: Record<string, unknown>;
  /** The answer to a request that succeeds. */
  readonly response: RouteAnswer;
  /** Other answers that are not errors (200 for what already existed, 206, 304, …). */
  readonly also?: readonly RouteAnswer[];
}

export interface RouteAnswer {
  readonly status: number;
  readonly description: string;
  readonly example?: unknown;
  /** Default application/json. */
  readonly contentType?: string;
}

/** A route deliberately left out of the document, and why. */
export interface HiddenRoute {
  readonly hidden: string;
}

export type RouteEntry = RouteDoc | HiddenRoute;

export const isHidden = (entry: RouteEntry): entry is HiddenRoute => 'hidden' in entry;

// --- shared examples ---------------------------------------------------------------------------

const CREDENTIALS = {
  user: { id: 'uF2v6kq0Hq1', username: 'alice' },
  token: 'pt_Jf0…',
  device: 'laptop',
  deviceKey: 'dk_q8Z…',
};
const CONVERSATION = {
  id: 'cG7x1kq0Hq1',
  kind: 'group',
  title: 'Climbing',
  createdAt: 1795453428105,
  lastSeq: 14,
  lastAt: 1795454683139,
  history: 'join',
  muted: false,
  dismissedAt: null,
  role: 'owner',
  readSeq: 14,
  deliveredSeq: 14,
  unread: 0,
};
const MEMBERS = [
  {
    id: 'uF2v6kq0Hq1',
    username: 'alice',
    role: 'owner',
    muted: false,
    deliveredSeq: 14,
    readSeq: 14,
  },
  {
    id: 'uB0bkq0Hq12',
    username: 'bob',
    role: 'member',
    muted: false,
    deliveredSeq: 12,
    readSeq: 9,
  },
];
const PUSHER = { url: 'https://push.example.com/notify', token: 'fcm:…', createdAt: 1795453428105 };

const MESSAGE = {
  id: 'mK2pL9sT1x0',
  conversation: 'cG7x1kq0Hq1',
  seq: 15,
  sender: 'uF2v6kq0Hq1',
  device: 'laptop',
  body: { kind: 'text', text: 'hi' },
  at: 1795454683139,
};
const SYSTEM_MESSAGE = {
  message: {
    ...MESSAGE,
    body: { kind: 'system', event: 'member.added', actor: 'uF2v6kq0Hq1', targets: ['uD4vekq0Hq1'] },
  },
};
const RELATION = (state: string) => ({ state });
const PROFILE = {
  user: {
    id: 'uB0bkq0Hq12',
    username: 'bob',
    displayName: 'Bob',
    bio: 'Climbs on weekends.',
    avatar: null,
  },
};
const ATTACHMENT = {
  id: 'aQk3n0x5mK2pL9sT1',
  owner: 'uF2v6kq0Hq1',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  size: 48213,
  mime: 'image/png',
  name: 'cat.png',
  createdAtMs: 1767225600000,
};
const GROUP_ERRORS: readonly ErrorCode[] = [
  'conversation_not_found',
  'not_member',
  'forbidden',
  'not_group',
  'group_dismissed',
  'no_change',
];
// Families of refusals that several routes share, each named once so the routes cannot drift.
/** A user named by username, in the path or the body: malformed, or no such user. */
const USERNAME_ERRORS: readonly ErrorCode[] = ['invalid_username', 'user_not_found'];
/** What refuses any change to a conversation's content, as it refuses a send (message-rules.ts). */
const ACT_ERRORS: readonly ErrorCode[] = ['not_member', 'group_dismissed', 'muted', 'group_muted'];
/** What refuses writing to a direct conversation (contacts/block-guard.ts). */
const DIRECT_ERRORS: readonly ErrorCode[] = ['blocked', 'account_deleted'];
/** One message, named by conversation and seq, that the caller must be able to see. */
const MESSAGE_ERRORS: readonly ErrorCode[] = [
  'conversation_not_found',
  'not_member',
  'message_not_found',
];

// The seed API validates by hand (keys in any letter case, any Content-Type), so its request
// shape is documented here rather than taken from a route schema.
const SEED_SEND_BODY = {
  type: 'object',
  required: ['chat', 'text', 'sender'],
  properties: {
    chat: {
      type: 'string',
      description: '"a:b" is the direct chat of users a and b; any other name is a room.',
    },
    text: { type: 'string' },
    sender: { type: 'string', description: 'A username; in auth mode, the caller.' },
  },
};
const SEED_PULL_FIELDS = {
  type: 'object',
  required: ['chat'],
  properties: {
    chat: { type: 'string' },
    cursor: {
      type: 'integer',
      default: 0,
      description: 'Exclusive send_time (µs); 0 starts at the end.',
    },
    limit: {
      type: 'integer',
      default: 10,
      description: '≤ 0 means 10; capped at PARLEY_PULL_COUNT_MAX.',
    },
    reverse: { type: 'boolean', default: false, description: 'false: newest first.' },
  },
};

export const ROUTE_DOCS: Readonly<Record<string, RouteEntry>> = {
  // --- accounts ---------------------------------------------------------------------------------
  'POST /v1/auth/register': {
    summary: 'Create an account and log in',
    tag: 'accounts',
    auth: 'none',
    errors: ['invalid_username', 'invalid_password', 'username_taken'],
    body: { example: { username: 'alice', password: 'correct horse', device: 'laptop' } },
    response: {
      status: 201,
      description:
        'The account, its token and device, and the device key to present at later logins of this device.',
      example: CREDENTIALS,
    },
  },
  'POST /v1/auth/login': {
    summary: 'Log in',
    description:
      "Logging in again with the same device replaces that device's session. Failed logins are throttled (429 with Retry-After, before the password is checked) per username and address, per address, and per username for unknown sources only: an address the account logged in from before, or a device presenting the deviceKey its last login returned, is never held back by failures from elsewhere.",
    tag: 'accounts',
    auth: 'none',
    errors: ['invalid_credentials', 'account_disabled', 'rate_limited'],
    body: {
      example: {
        username: 'alice',
        password: 'correct horse',
        device: 'laptop',
        deviceKey: 'dk_q8Z…',
      },
    },
    response: {
      status: 200,
      description:
        'A new token for the device, and its new device key (the old one stops working).',
      example: CREDENTIALS,
    },
  },
  'POST /v1/auth/logout': {
    summary: "Revoke the caller's token",
    description: 'Live connections that logged in with the token are closed (4401).',
    tag: 'accounts',
    auth: 'bearer',
    errors: [],
    response: { status: 204, description: 'Revoked.' },
  },
  'DELETE /v1/me': {
    summary: 'Delete your account',
    description:
      'Checks the password (wrong guesses are throttled like logins). You must first transfer the groups you own that have other members. Then you leave every group, your contacts and requests end, your profile is erased, every device is logged out, and the account can no longer log in; its username stays taken. Messages you sent stay in their conversations.',
    tag: 'accounts',
    auth: 'bearer',
    errors: ['wrong_password', 'owner_must_transfer', 'rate_limited'],
    body: { example: { password: 'correct horse' } },
    response: { status: 204, description: 'Deleted.' },
  },
  'GET /v1/me/sessions': {
    summary: "The caller's logged-in devices",
    description: 'One session per device, newest first; `current` is the caller’s own.',
    tag: 'accounts',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'The devices.',
      example: {
        sessions: [
          { device: 'laptop', createdAt: 1795453428105, lastSeenAt: 1795453428105, current: true },
          { device: 'phone', createdAt: 1795450000000, lastSeenAt: 1795452000000, current: false },
        ],
      },
    },
  },
  'DELETE /v1/me/sessions/:device': {
    summary: 'Log one of your devices out',
    description:
      "Its token stops working at once and its live connections are closed (4401). The caller's own device is a logout.",
    tag: 'accounts',
    auth: 'bearer',
    errors: ['session_not_found'],
    response: { status: 204, description: 'Logged out.' },
  },
  'POST /v1/me/password': {
    summary: 'Change your password',
    description:
      'Checks the current password (wrong guesses are throttled like logins), stores the new one and logs every other device out; the caller stays logged in.',
    tag: 'accounts',
    auth: 'bearer',
    errors: ['wrong_password', 'invalid_password', 'rate_limited'],
    body: { example: { currentPassword: 'correct horse', newPassword: 'battery staple 2' } },
    response: { status: 204, description: 'Changed.' },
  },
  'GET /v1/me/export': {
    summary: "The caller's data, as one JSON download",
    description:
      'Account, profile, devices, contacts (with requests both ways and blocks), conversations, and every message the caller sent (as stored now). Streamed; three exports at once, then one every 20 minutes per user.',
    tag: 'accounts',
    auth: 'bearer',
    errors: ['rate_limited'],
    response: {
      status: 200,
      description: 'The export (format parley-export-1).',
      example: {
        format: 'parley-export-1',
        exportedAt: 1795453428105,
        account: { id: 'uF2v6kq0Hq1', username: 'alice', createdAt: 1795453000000 },
        profile: null,
        devices: [{ device: 'laptop', createdAt: 1795453000000, lastSeenAt: 1795453428105 }],
        contacts: { contacts: [], incoming: [], outgoing: [], blocked: [] },
        conversations: [],
        messages: [],
      },
    },
  },
  'GET /v1/me/pusher': {
    summary: "This device's pusher, or null",
    tag: 'accounts',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'The pusher.',
      example: { pusher: PUSHER },
    },
  },
  'PUT /v1/me/pusher': {
    summary: "Sets this device's pusher: where its push notifications go",
    description:
      "url must be under one of the server's PARLEY_PUSH_GATEWAYS: the same scheme, host and port, a path under the gateway's by whole segments, no userinfo, backslash or encoded dot (docs/push.md); token is what that gateway needs to reach the device. One per device: a new one replaces it. Notifications go to users with no live connection, for conversations they did not mute, while the device stays logged in (docs/push.md).",
    tag: 'accounts',
    auth: 'bearer',
    errors: ['invalid_pusher'],
    body: { example: { url: PUSHER.url, token: PUSHER.token } },
    response: {
      status: 200,
      description: 'The pusher.',
      example: { pusher: PUSHER },
    },
  },
  'DELETE /v1/me/pusher': {
    summary: "Removes this device's pusher (no more notifications to it)",
    tag: 'accounts',
    auth: 'bearer',
    errors: [],
    response: { status: 204, description: 'Removed, or there was none.' },
  },
  'GET /v1/me': {
    summary: 'Who the token belongs to',
    tag: 'accounts',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'The user and device of the token.',
      example: { user: { id: 'uF2v6kq0Hq1', username: 'alice' }, device: 'laptop' },
    },
  },

  // --- conversations ----------------------------------------------------------------------------
  'POST /v1/conversations': {
    summary: 'Open a direct conversation, create a group, or join a room',
    description: '201 when created, 200 when it already existed (the caller then joins a room).',
    tag: 'conversations',
    auth: 'bearer',
    errors: [...USERNAME_ERRORS, ...DIRECT_ERRORS, 'too_many_members', 'rate_limited'],
    body: { example: { kind: 'group', title: 'Climbing', members: ['bob', 'carol'] } },
    response: {
      status: 201,
      description: 'The conversation with its members.',
      example: { ...CONVERSATION, members: MEMBERS },
    },
    also: [
      {
        status: 200,
        description: 'It already existed (a direct conversation, or a room the caller now joined).',
        example: { ...CONVERSATION, members: MEMBERS },
      },
    ],
  },
  'GET /v1/conversations': {
    summary: "The caller's conversations: pinned first, then most recent activity",
    description:
      'Without limit or after, the whole list. With limit (1-200), one page; pass its next as after for the following page (null on the last).',
    tag: 'conversations',
    auth: 'bearer',
    errors: ['invalid_cursor'],
    response: {
      status: 200,
      description: 'Conversations.',
      example: { conversations: [CONVERSATION], next: null },
    },
  },
  'GET /v1/conversations/:id': {
    summary: 'A conversation with its members',
    tag: 'conversations',
    auth: 'bearer',
    errors: ['conversation_not_found', 'not_member'],
    response: {
      status: 200,
      description: 'The conversation.',
      example: { ...CONVERSATION, members: MEMBERS },
    },
  },
  'POST /v1/conversations/:id/read': {
    summary: 'Move the read watermark',
    description: 'Watermarks only move forward and are capped at lastSeq.',
    tag: 'conversations',
    auth: 'bearer',
    errors: ['conversation_not_found', 'not_member'],
    body: { example: { seq: 12 } },
    response: {
      status: 200,
      description: 'The watermarks.',
      example: { readSeq: 12, deliveredSeq: 12 },
    },
  },

  // --- messages ---------------------------------------------------------------------------------
  'POST /v1/conversations/:id/messages': {
    summary: 'Send a message',
    description:
      'Answered after the commit. The same ref from the same user and device returns the original with 200 and duplicate: true.',
    tag: 'messages',
    auth: 'bearer',
    errors: [
      'conversation_not_found',
      ...ACT_ERRORS,
      ...DIRECT_ERRORS,
      'ref_reused',
      'body_too_large',
      'attachment_not_found',
      'message_not_found',
      'rate_limited',
    ],
    body: { example: { ref: 'c-81f2', body: { kind: 'text', text: 'hi' } } },
    response: {
      status: 201,
      description: 'Stored.',
      example: { id: 'mK2pL9sT1x0', seq: 7, at: 1795453428105, duplicate: false },
    },
    also: [
      {
        status: 200,
        description: 'A retry: the ref was already used here; nothing was stored.',
        example: { id: 'mK2pL9sT1x0', seq: 7, at: 1795453428105, duplicate: true },
      },
    ],
  },
  'GET /v1/conversations/:id/messages': {
    summary: 'A page of messages, in ascending seq',
    description:
      'after=N: the oldest after N; before=N: the newest before N; neither: the newest page.',
    tag: 'messages',
    auth: 'bearer',
    errors: ['conversation_not_found', 'not_member', 'rate_limited'],
    response: {
      status: 200,
      description: 'Messages.',
      example: { messages: [MESSAGE], hasMore: false },
    },
  },

  'GET /v1/search': {
    summary: 'Search messages by their words',
    description:
      'q: 1 to 8 words; a message matches when its text, caption, file name or place label holds every word (the last one also as the start of a word). conversation: only that one; absent: every conversation the caller may read. Newest first; pass next as before for the following page (null on the last). limit: 1-50, default 20.',
    tag: 'messages',
    auth: 'bearer',
    errors: [
      'invalid_search',
      'invalid_cursor',
      'conversation_not_found',
      'not_member',
      'rate_limited',
    ],
    response: {
      status: 200,
      description: 'Matching messages.',
      example: { messages: [MESSAGE], next: null },
    },
  },

  'PATCH /v1/conversations/:id/messages/:seq': {
    summary: 'Edit a text message (its sender, within the edit window)',
    tag: 'messages',
    auth: 'bearer',
    errors: [
      ...MESSAGE_ERRORS,
      ...ACT_ERRORS,
      ...DIRECT_ERRORS,
      'forbidden',
      'edit_expired',
      'not_editable',
      'message_recalled',
      'body_too_large',
      'rate_limited',
    ],
    body: { example: { body: { kind: 'text', text: 'hi, fixed' } } },
    response: {
      status: 200,
      description: 'The edited message.',
      example: { message: { ...MESSAGE, body: { kind: 'text', text: 'hi, fixed' } } },
    },
  },
  'POST /v1/conversations/:id/messages/:seq/recall': {
    summary: 'Recall a message (its sender, within the recall window)',
    tag: 'messages',
    auth: 'bearer',
    errors: [...MESSAGE_ERRORS, 'forbidden', 'group_dismissed', 'recall_expired', 'rate_limited'],
    response: {
      status: 200,
      description: 'The recalled message (its body is gone).',
      example: { message: { ...MESSAGE, body: { kind: 'recalled' } } },
    },
  },
  'POST /v1/conversations/:id/messages/:seq/hide': {
    summary: 'Delete a message for yourself',
    tag: 'messages',
    auth: 'bearer',
    errors: MESSAGE_ERRORS,
    response: {
      status: 200,
      description: 'Hidden from your reads.',
      example: { conversation: 'cG7x1kq0Hq1', seq: 15, hidden: true },
    },
  },
  'POST /v1/conversations/:id/messages/:seq/reactions': {
    summary: 'React to a message',
    tag: 'messages',
    auth: 'bearer',
    errors: [
      ...MESSAGE_ERRORS,
      ...ACT_ERRORS,
      ...DIRECT_ERRORS,
      'message_recalled',
      'too_many_reactions',
      'rate_limited',
    ],
    body: { example: { emoji: '👍' } },
    response: {
      status: 200,
      description: 'The reaction count.',
      example: { emoji: '👍', count: 3, me: true },
    },
  },
  'DELETE /v1/conversations/:id/messages/:seq/reactions': {
    summary: 'Take back a reaction (?emoji=)',
    tag: 'messages',
    auth: 'bearer',
    errors: [
      ...MESSAGE_ERRORS,
      ...ACT_ERRORS,
      ...DIRECT_ERRORS,
      'message_recalled',
      'rate_limited',
    ],
    response: {
      status: 200,
      description: 'The reaction count.',
      example: { emoji: '👍', count: 2, me: false },
    },
  },
  'PATCH /v1/conversations/:id/preferences': {
    summary: 'Pin a conversation or mute its notifications, for yourself',
    tag: 'conversations',
    auth: 'bearer',
    errors: ['conversation_not_found', 'not_member', 'too_many_pins'],
    body: { example: { pinned: true } },
    response: {
      status: 200,
      description: 'Your preferences.',
      example: { preferences: { pinned: true, muted: false } },
    },
  },

  // --- groups -----------------------------------------------------------------------------------
  'POST /v1/conversations/:id/members': {
    summary: 'Add members to a group (admins)',
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, ...USERNAME_ERRORS, 'already_member', 'too_many_members'],
    body: { example: { members: ['dave'] } },
    response: {
      status: 200,
      description: 'The system message recording the change.',
      example: SYSTEM_MESSAGE,
    },
  },
  'DELETE /v1/conversations/:id/members/:user': {
    summary: 'Remove a member (admins), or leave (`me`)',
    description:
      'Leaving a room records no system message: the answer is {"message": null}, and joining the room again makes the caller a member again.',
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, 'member_not_found', 'owner_must_transfer'],
    response: {
      status: 200,
      description: 'The system message recording the change.',
      example: SYSTEM_MESSAGE,
    },
  },
  'PATCH /v1/conversations/:id/members/:user': {
    summary: "Change a member's role (owner) or mute (admins)",
    description: 'Exactly one of role or muted. role "owner" transfers ownership.',
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, 'member_not_found'],
    body: { example: { role: 'admin' } },
    response: {
      status: 200,
      description: 'The system message recording the change.',
      example: SYSTEM_MESSAGE,
    },
  },
  'PATCH /v1/conversations/:id': {
    summary: "Change a group's title, avatar, mute-all or history (admins)",
    description: 'Exactly one of title, avatar, muted or history.',
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, 'attachment_not_found'],
    body: { example: { title: 'Climbing club' } },
    response: {
      status: 200,
      description: 'The system message recording the change.',
      example: SYSTEM_MESSAGE,
    },
  },
  'DELETE /v1/conversations/:id': {
    summary: 'Dismiss a group (owner)',
    tag: 'groups',
    auth: 'bearer',
    errors: GROUP_ERRORS,
    response: {
      status: 200,
      description: 'The system message recording the change.',
      example: SYSTEM_MESSAGE,
    },
  },

  'POST /v1/conversations/:id/invite': {
    summary: "Create (or replace) a group's invite code (admins)",
    tag: 'groups',
    auth: 'bearer',
    errors: GROUP_ERRORS,
    response: {
      status: 201,
      description: 'The code.',
      example: { conversation: 'cG7x1kq0Hq1', code: 'k3n0x5mK' },
    },
  },
  'GET /v1/conversations/:id/invite': {
    summary: "A group's invite code (admins)",
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, 'invite_not_found'],
    response: {
      status: 200,
      description: 'The code.',
      example: { conversation: 'cG7x1kq0Hq1', code: 'k3n0x5mK' },
    },
  },
  'DELETE /v1/conversations/:id/invite': {
    summary: "Revoke a group's invite code (admins)",
    tag: 'groups',
    auth: 'bearer',
    errors: [...GROUP_ERRORS, 'invite_not_found'],
    response: { status: 204, description: 'Revoked.' },
  },
  'POST /v1/invites/:code/join': {
    summary: 'Join a group with its invite code',
    tag: 'groups',
    auth: 'bearer',
    errors: ['invite_not_found', 'group_dismissed', 'already_member', 'too_many_members'],
    response: {
      status: 200,
      description: 'The system message recording the join.',
      example: SYSTEM_MESSAGE,
    },
  },

  // --- contacts ---------------------------------------------------------------------------------
  'GET /v1/contacts': {
    summary: 'Your contacts, paged by username',
    tag: 'contacts',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'Contacts.',
      example: {
        contacts: [{ user: { id: 'uB0bkq0Hq12', username: 'bob' }, since: 1795454683139 }],
        next: null,
      },
    },
  },
  'GET /v1/contacts/requests': {
    summary: 'Pending contact requests (incoming or outgoing)',
    tag: 'contacts',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'Requests.',
      example: {
        requests: [
          { user: { id: 'uF2v6kq0Hq1', username: 'alice' }, since: 1795454683139, note: 'Hi Bob' },
        ],
        next: null,
      },
    },
  },
  'GET /v1/contacts/blocked': {
    summary: 'Users you blocked',
    tag: 'contacts',
    auth: 'bearer',
    errors: [],
    response: { status: 200, description: 'Blocked users.', example: { blocked: [], next: null } },
  },
  'POST /v1/contacts/requests': {
    summary: 'Ask a user to be a contact (or accept their pending request)',
    tag: 'contacts',
    auth: 'bearer',
    errors: [
      ...USERNAME_ERRORS,
      ...DIRECT_ERRORS,
      'already_contacts',
      'contact_request_exists',
      'rate_limited',
    ],
    body: { example: { username: 'bob', note: 'Hi Bob, Alice from work' } },
    response: {
      status: 201,
      description: 'A request now waits.',
      example: RELATION('outgoing'),
    },
    also: [
      {
        status: 200,
        description: 'It met their pending request: now contacts.',
        example: RELATION('contact'),
      },
    ],
  },
  'POST /v1/contacts/requests/:username/accept': {
    summary: "Accept a user's request",
    tag: 'contacts',
    auth: 'bearer',
    errors: [...USERNAME_ERRORS, 'contact_request_not_found'],
    response: { status: 200, description: 'Now contacts.', example: RELATION('contact') },
  },
  'POST /v1/contacts/requests/:username/decline': {
    summary: "Decline a user's request",
    tag: 'contacts',
    auth: 'bearer',
    errors: [...USERNAME_ERRORS, 'contact_request_not_found'],
    response: { status: 200, description: 'Declined.', example: RELATION('none') },
  },
  'DELETE /v1/contacts/requests/:username': {
    summary: 'Cancel your pending request',
    tag: 'contacts',
    auth: 'bearer',
    errors: [...USERNAME_ERRORS, 'contact_request_not_found'],
    response: { status: 200, description: 'Cancelled.', example: RELATION('none') },
  },
  'DELETE /v1/contacts/:username': {
    summary: 'Remove a contact',
    tag: 'contacts',
    auth: 'bearer',
    errors: [...USERNAME_ERRORS, 'contact_not_found'],
    response: { status: 200, description: 'Removed.', example: RELATION('none') },
  },
  'POST /v1/contacts/:username/block': {
    summary: 'Block a user',
    tag: 'contacts',
    auth: 'bearer',
    errors: USERNAME_ERRORS,
    response: { status: 200, description: 'Blocked.', example: RELATION('blocked') },
  },
  'DELETE /v1/contacts/:username/block': {
    summary: 'Unblock a user',
    tag: 'contacts',
    auth: 'bearer',
    errors: USERNAME_ERRORS,
    response: { status: 200, description: 'Unblocked.', example: RELATION('none') },
  },

  // --- users ------------------------------------------------------------------------------------
  'GET /v1/users': {
    summary: 'Search users by username prefix',
    tag: 'users',
    auth: 'bearer',
    errors: [],
    response: {
      status: 200,
      description: 'Profiles.',
      example: { users: [PROFILE.user], next: null },
    },
  },
  'GET /v1/users/:username': {
    summary: "A user's profile",
    tag: 'users',
    auth: 'bearer',
    errors: USERNAME_ERRORS,
    response: { status: 200, description: 'The profile.', example: PROFILE },
  },
  'PATCH /v1/me/profile': {
    summary: 'Edit your profile (the avatar: the id of an image you uploaded)',
    tag: 'users',
    auth: 'bearer',
    errors: ['attachment_not_found'],
    body: { example: { displayName: 'Bob', bio: 'Climbs on weekends.' } },
    response: { status: 200, description: 'The profile.', example: PROFILE },
  },

  // --- attachments ------------------------------------------------------------------------------
  'POST /v1/attachments': {
    summary: 'Upload an attachment (the raw body; its Content-Type is the attachment’s)',
    tag: 'attachments',
    auth: 'bearer',
    errors: ['attachment_too_large', 'unsupported_media_type'],
    body: {
      example: '<the file bytes>',
      schema: { type: 'string', format: 'binary' },
      contentType: 'application/octet-stream',
    },
    response: { status: 201, description: 'The stored attachment.', example: ATTACHMENT },
  },
  'GET /v1/attachments/:id/meta': {
    summary: "An attachment's metadata",
    tag: 'attachments',
    auth: 'bearer',
    errors: ['attachment_not_found'],
    response: { status: 200, description: 'The metadata.', example: ATTACHMENT },
  },
  'GET /v1/attachments/:id': {
    summary: "An attachment's bytes (byte ranges, ETag)",
    tag: 'attachments',
    auth: 'bearer',
    errors: ['attachment_not_found', 'range_not_satisfiable'],
    response: {
      status: 200,
      description: 'The bytes.',
      contentType: 'application/octet-stream',
    },
    also: [
      {
        status: 206,
        description: 'The bytes of the Range asked for.',
        contentType: 'application/octet-stream',
      },
      { status: 304, description: 'Not modified: If-None-Match named its ETag.' },
    ],
  },

  // --- the seed API -----------------------------------------------------------------------------
  'GET /ping': {
    summary: 'Liveness, as the seeds answered it',
    tag: 'seed',
    auth: 'none',
    errors: [],
    response: { status: 200, description: 'Pong.', example: { message: 'pong' } },
  },
  'POST /api/send': {
    summary: 'Send a message to a chat (the seed API)',
    description:
      'Keys match in any letter case; any Content-Type. The server stamps send_time (µs, strictly increasing per chat).',
    tag: 'seed',
    auth: 'seed',
    errors: [
      ...USERNAME_ERRORS,
      ...DIRECT_ERRORS,
      'invalid_chat',
      'sender_mismatch',
      'not_member',
      'body_too_large',
    ],
    body: {
      schema: SEED_SEND_BODY,
      example: { chat: 'chatroom12345', text: 'hi guys! :) ', sender: 'kylie' },
    },
    response: {
      status: 200,
      description: 'Stored.',
      example: { status: 'success', send_time: 1795453428105123, seq: 1 },
    },
  },
  'GET /api/pull': {
    summary: 'A page of a chat (the seed API)',
    description:
      'The fields come as a JSON body on the GET (as the seeds’ curl commands send them) or in the query string.',
    tag: 'seed',
    auth: 'seed',
    // rate_limited: the caller's read slots (docs/security.md) are taken and 64 reads wait.
    errors: ['invalid_chat', 'not_member', 'rate_limited'],
    query: SEED_PULL_FIELDS,
    body: {
      schema: SEED_PULL_FIELDS,
      example: { chat: 'chatroom12345', cursor: 0, limit: 3, reverse: false },
    },
    response: {
      status: 200,
      description: 'Messages, newest first unless reverse.',
      example: {
        messages: [
          {
            chat: 'chatroom12345',
            text: 'hi guys! :) ',
            sender: 'kylie',
            send_time: 1795453428105123,
          },
        ],
        has_more: true,
        next_cursor: 1795453428105123,
      },
    },
  },

  // --- operations -------------------------------------------------------------------------------
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description: 'docs/operations.md lists the series.',
    tag: 'operations',
    auth: 'none',
    errors: [],
    response: {
      status: 200,
      description: 'Prometheus text exposition format.',
      contentType: 'text/plain; version=0.0.4',
      example: '# TYPE parley_sends_total counter\nparley_sends_total{node="parley1"} 42\n',
    },
  },
  'GET /healthz': {
    summary: 'Liveness: the process is up and serving',
    tag: 'operations',
    auth: 'none',
    errors: [],
    response: { status: 200, description: 'Alive.', example: { status: 'ok' } },
  },
  'GET /readyz': {
    summary: 'Readiness: the store and the bus answer, and the node is not draining',
    description: '503 with the same shape when not ready (draining, or a check failed).',
    tag: 'operations',
    auth: 'none',
    errors: [],
    response: {
      status: 200,
      description: 'Ready.',
      example: { status: 'ready', draining: false, checks: { store: 'ok', bus: 'ok' } },
    },
    also: [
      {
        status: 503,
        description: 'Not ready: draining, or a check failed.',
        example: { status: 'draining', draining: true, checks: { store: 'ok', bus: 'ok' } },
      },
    ],
  },

  // --- not part of the API ----------------------------------------------------------------------
  'GET /': { hidden: 'the web client (or a note on how to build it)' },
  'GET /*': { hidden: "the web client's files" },
};
