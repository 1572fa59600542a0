// The one catalogue of Parley's coded errors. Every error a client can see is listed here, with
// the HTTP status it maps to and whether retrying the same request may succeed (`temporary`).
// Transports (HTTP, WebSocket, gRPC) translate a ParleyError; they never invent codes of their own.

export interface ErrorSpec {
  readonly status: number;
  readonly temporary: boolean;
  readonly message: string;
}

export const ERRORS = {
  invalid_json: { status: 400, temporary: false, message: 'The request body is not valid JSON.' },
  invalid_request: { status: 400, temporary: false, message: 'The request is malformed.' },
  invalid_username: {
    status: 400,
    temporary: false,
    message: 'A username is 1 to 32 characters of a-z, 0-9, "_", "." or "-".',
  },
  invalid_password: {
    status: 400,
    temporary: false,
    message: 'A password is 8 to 256 characters long.',
  },
  invalid_chat: { status: 400, temporary: false, message: 'The chat name is not valid.' },
  unauthenticated: {
    status: 401,
    temporary: false,
    message: 'A valid bearer token is required.',
  },
  invalid_credentials: {
    status: 401,
    temporary: false,
    message: 'The username or password is wrong.',
  },
  account_disabled: {
    status: 403,
    temporary: false,
    message: 'This account is disabled.',
  },
  wrong_password: { status: 403, temporary: false, message: 'The current password is wrong.' },
  forbidden: { status: 403, temporary: false, message: 'This action is not allowed.' },
  not_member: {
    status: 403,
    temporary: false,
    message: 'Only members of the conversation may do this.',
  },
  sender_mismatch: {
    status: 403,
    temporary: false,
    message: 'The sender must be the authenticated user.',
  },
  not_found: { status: 404, temporary: false, message: 'No such route.' },
  user_not_found: { status: 404, temporary: false, message: 'No such user.' },
  account_deleted: { status: 410, temporary: false, message: 'That account was deleted.' },
  session_not_found: {
    status: 404,
    temporary: false,
    message: 'No device of yours is logged in under that name.',
  },
  conversation_not_found: {
    status: 404,
    temporary: false,
    message: 'No such conversation.',
  },
  message_not_found: { status: 404, temporary: false, message: 'No such message.' },
  recall_expired: {
    status: 403,
    temporary: false,
    message: 'The time to recall this message has passed.',
  },
  edit_expired: {
    status: 403,
    temporary: false,
    message: 'The time to edit this message has passed.',
  },
  not_editable: {
    status: 422,
    temporary: false,
    message: 'Only text messages can be edited.',
  },
  message_recalled: { status: 409, temporary: false, message: 'The message was recalled.' },
  too_many_reactions: {
    status: 422,
    temporary: false,
    message: 'You already left the most reactions allowed on this message.',
  },
  too_many_pins: {
    status: 422,
    temporary: false,
    message: 'You already pinned the most conversations allowed.',
  },
  invite_not_found: { status: 404, temporary: false, message: 'No such invite code.' },
  invalid_cursor: { status: 400, temporary: false, message: 'The cursor is not valid.' },
  invalid_pusher: {
    status: 400,
    temporary: false,
    message:
      "The pusher is not valid: its url must have the scheme, host and port of one of the server's push gateways and a path under that gateway's, with no userinfo, backslash or encoded dot.",
  },
  invalid_search: {
    status: 400,
    temporary: false,
    message: 'A search is 1 to 8 words of letters or digits, each at most 64 characters.',
  },
  bad_frame: { status: 400, temporary: false, message: 'The frame is not valid.' },
  frame_too_large: { status: 413, temporary: false, message: 'The frame is too large.' },
  hello_timeout: { status: 408, temporary: true, message: 'No hello in time.' },
  heartbeat_timeout: {
    status: 408,
    temporary: true,
    message: 'The link was silent for 3 heartbeats.',
  },
  hello_required: {
    status: 401,
    temporary: false,
    message: 'The first frame must be a hello.',
  },
  too_many_connections: {
    status: 429,
    temporary: true,
    message: 'This user has too many open connections.',
  },
  username_taken: { status: 409, temporary: false, message: 'That username is taken.' },
  ref_reused: {
    status: 409,
    temporary: false,
    message: 'This ref was already used for a message in another conversation.',
  },
  payload_too_large: {
    status: 413,
    temporary: false,
    message: 'The request body is too large.',
  },
  body_too_large: { status: 413, temporary: false, message: 'The message body is too large.' },
  headers_too_large: {
    status: 431,
    temporary: false,
    message: 'The request line and headers are too large.',
  },
  request_timeout: {
    status: 408,
    temporary: true,
    message: 'The request did not arrive in time.',
  },
  too_many_members: {
    status: 422,
    temporary: false,
    message: 'The conversation would exceed its member limit.',
  },
  unsupported_media_type: {
    status: 415,
    temporary: false,
    message: 'The content type is not supported.',
  },
  blocked: {
    status: 403,
    temporary: false,
    message: 'One of you has blocked the other.',
  },
  already_contacts: { status: 409, temporary: false, message: 'You are already contacts.' },
  contact_request_exists: {
    status: 409,
    temporary: false,
    message: 'A contact request to this user is already pending.',
  },
  contact_request_not_found: {
    status: 404,
    temporary: false,
    message: 'No such pending contact request.',
  },
  contact_not_found: { status: 404, temporary: false, message: 'This user is not a contact.' },
  attachment_too_large: {
    status: 413,
    temporary: false,
    message: 'The attachment is too large.',
  },
  attachment_not_found: { status: 404, temporary: false, message: 'No such attachment.' },
  range_not_satisfiable: {
    status: 416,
    temporary: false,
    message: 'The requested range is not within the attachment.',
  },
  not_group: {
    status: 422,
    temporary: false,
    message: 'Only group conversations have managed members.',
  },
  member_not_found: {
    status: 404,
    temporary: false,
    message: 'That user is not a member of the conversation.',
  },
  already_member: {
    status: 409,
    temporary: false,
    message: 'Every user named is already a member.',
  },
  no_change: { status: 409, temporary: false, message: 'That is already so; nothing changed.' },
  owner_must_transfer: {
    status: 409,
    temporary: false,
    message: 'The owner must transfer ownership before leaving.',
  },
  muted: { status: 403, temporary: false, message: 'You are muted in this conversation.' },
  group_muted: {
    status: 403,
    temporary: false,
    message: 'The group is muted: only its owner and admins may send.',
  },
  group_dismissed: { status: 410, temporary: false, message: 'The group was dismissed.' },
  rate_limited: { status: 429, temporary: true, message: 'Too many requests; slow down.' },
  too_slow: {
    status: 503,
    temporary: true,
    message: 'The link read too slowly; what was queued for it was dropped. Reconnect and sync.',
  },
  internal: { status: 500, temporary: true, message: 'Internal error.' },
  unavailable: { status: 503, temporary: true, message: 'The service is shutting down.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly temporary: boolean;
  /** For temporary refusals: when trying again may succeed (HTTP sends it as Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    const spec: ErrorSpec = ERRORS[code];
    super(message ?? spec.message, options?.cause !== undefined ? { cause: options.cause } : {});
    this.name = 'ParleyError';
    this.code = code;
    this.status = spec.status;
    this.temporary = spec.temporary;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof ParleyError;
}

/** `err` as an Error, for rejecting a promise with what a callback was handed. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The shape every transport puts on the wire for an error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(err: ParleyError): ErrorBody {
  return { error: { code: err.code, message: err.message } };
}
