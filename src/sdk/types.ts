// The SDK's public types: what an application sees of messages, events, options and the outbox.
// Type-only imports from the protocol keep this file free of runtime dependencies.
import type {
  ContactEvent,
  ConversationState,
  MemberEvent,
  Preferences,
  ReactionCount,
  ServerFrame,
} from '../protocol/index.js';
import type { Body, SendableBody } from './body.js';
import type { ParleyClientError } from './errors.js';

export type { Body, ContactEvent, ConversationState, MemberEvent, Preferences, ReactionCount };

/** The client's link state. `closed` is final: a closed client is not reused. */
export type ClientState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

/** `json` works everywhere; `proto` (Protobuf) needs Node or an explicit `protoSchema`. */
export type CodecName = 'json' | 'proto';

/** One stored message, as every interface of the SDK reports it. */
export interface Message {
  readonly conversation: string;
  /** Dense per conversation: 1, 2, 3, … The order of a conversation. */
  readonly seq: number;
  /** The server's message id (`messageId` on the wire), unique and stable. */
  readonly id: string;
  /** The sender's user id. */
  readonly sender: string;
  /** The sender's device id. */
  readonly device: string;
  /** The body as sent (docs/messages.md); `{kind: "recalled"}` once recalled. */
  readonly body: Body;
  /** Server time, epoch milliseconds. */
  readonly at: number;
  readonly recalled: boolean;
  /** Epoch milliseconds of the last edit (the body is the latest); null if never edited. */
  readonly editedAt: number | null;
  /** Reactions per emoji, in the order first used; empty when there are none. */
  readonly reactions: readonly ReactionCount[];
  /** This user deleted it for itself: the body is `{kind: "hidden"}`. Do not show it. */
  readonly hidden: boolean;
}

/** What `send` resolves with: the stored message, plus the ref it was sent with. */
export interface SentMessage extends Message {
  readonly ref: string;
  /** True when the server already had this ref (a resend after a lost answer). */
  readonly duplicate: boolean;
}

/** A page of history, in ascending seq. */
export interface MessagePage {
  readonly messages: Message[];
  /** With `after`: newer messages exist. Otherwise: older messages exist. */
  readonly hasMore: boolean;
}

/** Where a device's push notifications go (docs/push.md). */
export interface PusherInfo {
  readonly url: string;
  readonly token: string | null;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** What a message search returns (docs/messages.md#search): newest first. */
export interface SearchPage {
  readonly messages: Message[];
  /** Pass as `before` for the next page; null on the last. A page may be short and still have one. */
  readonly next: string | null;
}

/** Where a message search looks, and which page. */
export interface SearchQuery {
  /** Only this conversation; absent: every conversation the user may read. */
  readonly conversation?: string;
  /** The previous page's `next`. */
  readonly before?: string;
  /** At most the server's `PARLEY_MESSAGE_SEARCH_COUNT_MAX` (50); 20 when absent. */
  readonly limit?: number;
}

/** Bounds of a history page; both exclusive (docs/protocol.md, `pull`). */
export interface PageQuery {
  readonly before?: number;
  readonly after?: number;
  /** At most the server's `PARLEY_PULL_COUNT_MAX` (100); 10 when absent. */
  readonly limit?: number;
}

/** A send not yet acknowledged by the server. Written to the outbox before the first attempt. */
export interface OutboxEntry {
  /** The client's id for the message; every resend uses the same ref. At most 64 characters. */
  readonly ref: string;
  readonly conversation: string;
  readonly body: SendableBody;
  /** Client time of `send`, epoch milliseconds. */
  readonly createdAt: number;
}

/**
 * Where the outbox lives. The client calls these one at a time (never concurrently) and awaits
 * each: `put` before the first transmission, `delete` after the server's answer. `load` is called
 * once, before anything else, and returns the entries in the order they were put.
 * Implementations: `MemoryOutbox` (default), `LocalStorageOutbox` (browsers),
 * `FileOutbox` (Node, from `parley/sdk/node`).
 */
export interface OutboxStorage {
  load(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  delete(ref: string): Promise<void>;
}

/** The smallest WebSocket the SDK needs: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly protocol: string;
  readonly readyState: number;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** Anything `fetch`-shaped: the global one, or one that adds headers, logging, … */
export type FetchLike = typeof fetch;

export interface ClientOptions {
  /** The server's HTTP base URL (`http://host:8080`); the socket is `ws://host:8080/ws`. */
  readonly url: string;
  /** A token from `register` or `login`, issued for `device`. */
  readonly token: string;
  /** This install's device id (the one the token was issued for). */
  readonly device: string;
  /** Default `json`. */
  readonly codec?: CodecName;
  /** The text of `proto/parley.proto`, for `codec: 'proto'` outside Node. */
  readonly protoSchema?: string;
  /** Default: in memory (lost when the process ends). */
  readonly outbox?: OutboxStorage;
  /** Default: the global `WebSocket`, else the `ws` package (Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /**
   * Called after the server refused the token (close 4401). Return a fresh token (log in again
   * with the same device) and the client reconnects with it; throw and the client closes.
   * Without it, a 4401 closes the client.
   */
  readonly refreshToken?: () => Promise<string>;
  /** Reconnect backoff: a random delay in [0, min(max, base × 2^attempt)]. Defaults 500 / 30 000. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /**
   * Client-side pacing of send, recall, edit, react and typing (the server's "sends" bucket, 50/s
   * burst 100 by default). Defaults 40 and 80.
   */
  readonly sendRatePerSec?: number;
  readonly sendBurstMax?: number;
  /**
   * How long `connect()` waits for the first welcome before it rejects with `connect_timeout`
   * (the client keeps trying until `close()`). Default 20 000.
   */
  readonly connectTimeoutMs?: number;
  /** How long a request (pull, recall, …) may wait for its answer, including for the link. 15 000. */
  readonly requestTimeoutMs?: number;
  /**
   * The client's own dead-link check: a `ping` after this long with nothing received, and a drop
   * when nothing comes back within it again. Default: the server's `heartbeatMs` from `welcome`.
   */
  readonly heartbeatMs?: number;
  /** Send `ack` (delivered) for the messages the client emitted. Default true. */
  readonly autoAck?: boolean;
  /**
   * TEST ONLY. Sees every decoded frame from the server before the client does; returning true
   * discards it, as if the network had lost it. The SDK's own tests use it to force seq gaps.
   * Never set it in an application.
   */
  readonly testDropInbound?: (frame: { readonly type: string }) => boolean;
}

/** A member's watermarks moved (after their `ack` or `read`). */
export interface ReceiptEvent {
  readonly conversation: string;
  readonly user: string;
  readonly deliveredSeq: number;
  readonly readSeq: number;
}

export interface TypingEvent {
  readonly conversation: string;
  readonly user: string;
}

export interface PresenceEvent {
  readonly user: string;
  readonly online: boolean;
}

export interface RecalledEvent {
  readonly conversation: string;
  readonly seq: number;
  /** The user who recalled it. */
  readonly by: string;
}

/** A group changed; `seq` is the system message recording it (docs/groups.md). */
export interface MemberChangeEvent {
  readonly conversation: string;
  readonly seq: number;
  readonly event: MemberEvent;
  readonly actor: string;
  readonly targets: string[];
  readonly role?: string;
  readonly title?: string;
  readonly muted?: boolean;
  readonly history?: string;
  readonly dismissed?: boolean;
  readonly at: number;
}

/** A contact relation of this user changed (docs/contacts.md). */
export interface ContactChangeEvent {
  readonly event: ContactEvent;
  readonly from: string;
  readonly fromUsername: string;
  readonly to: string;
  readonly toUsername: string;
  readonly note?: string;
  readonly at: number;
}

/** A user's public profile (GET /v1/users/:username, the `profile` push). */
export interface Profile {
  readonly id: string;
  readonly username: string;
  readonly displayName: string | null;
  readonly bio: string | null;
  /** An attachment id. */
  readonly avatar: string | null;
}

/**
 * A user's profile changed (this user's, or one it shares a conversation with or has as a
 * contact): the profile as it now is, in the shape of the REST API's (docs/contacts.md).
 */
export interface ProfileChangeEvent {
  readonly profile: Profile;
  /** The account was deleted: `profile` has only its id and username; it cannot be messaged. */
  readonly deleted: boolean;
  /** Epoch milliseconds of the change. */
  readonly at: number;
}

/** A message's body was edited: the `edited` push, or the answer to this client's `edit`. */
export interface EditedEvent {
  readonly conversation: string;
  readonly seq: number;
  /** The new body. */
  readonly body: Body;
  /** Epoch milliseconds of the edit. */
  readonly editedAt: number;
  /** The user who edited it (its sender). */
  readonly by: string;
}

/** A reaction was added or removed: the `reaction` push, or the answer to this client's `react`. */
export interface ReactionEvent {
  readonly conversation: string;
  readonly seq: number;
  /** The user who reacted. */
  readonly user: string;
  readonly emoji: string;
  /** True when the reaction was added; `!removed`, for convenience. */
  readonly added: boolean;
  readonly removed: boolean;
  /** How many users left this emoji on the message now. */
  readonly count: number;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** This user hid a message for itself (delete for me), on this device or another one. */
export interface HiddenEvent {
  readonly conversation: string;
  readonly seq: number;
}

/**
 * After a reconnect's sync: messages of a conversation that this device may hold and that changed
 * while it was away (edited, recalled, reactions added or removed, hidden by this user on another
 * device), as they are now. Replace the copies you hold; ignore seqs you do not hold.
 */
export interface ChangedEvent {
  readonly conversation: string;
  /** Ascending seqs, at most 100 per conversation and sync. */
  readonly messages: readonly Message[];
  /** Others changed too: re-read (pull) the history you hold of this conversation. */
  readonly more: boolean;
}

export interface StateEvent {
  readonly state: ClientState;
  readonly previous: ClientState;
  /** The close code of the link that ended, when a link ended. */
  readonly code?: number;
  /** Why the client closed or is reconnecting, for humans. */
  readonly reason?: string;
}

/** A link attempt ended before the server's welcome; the client tries again after a backoff. */
export interface ConnectErrorEvent {
  /** Code `connect_failed`. */
  readonly error: ParleyClientError;
  /** Failed attempts in a row since the last welcome, from 1. */
  readonly attempt: number;
  /** The close code (1006 when the server could not be reached, 4401 for a refused token, …). */
  readonly code: number;
  readonly reason: string;
}

/** A send the server refused for good; its `send` promise rejected with the same error. */
export interface FailedEvent {
  readonly entry: OutboxEntry;
  readonly error: ParleyClientError;
}

/** Every event and its payload. `client.on(name, handler)` is typed by this map. */
export interface ClientEvents {
  state: StateEvent;
  /** Each link attempt that ended before its welcome (the first connection's and reconnects'). */
  connect_error: ConnectErrorEvent;
  /** Each (conversation, seq) once, in seq order per conversation, gaps closed first. */
  message: Message;
  /** One of this device's sends was stored (also from an outbox restored at start). */
  sent: SentMessage;
  /** One of this device's sends was refused for good and left the outbox. */
  failed: FailedEvent;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  recalled: RecalledEvent;
  edited: EditedEvent;
  reaction: ReactionEvent;
  hidden: HiddenEvent;
  /** After a reconnect: held messages that changed meanwhile, per conversation (before `synced`). */
  changed: ChangedEvent;
  member: MemberChangeEvent;
  contact: ContactChangeEvent;
  profile: ProfileChangeEvent;
  /** After each catch-up: the conversations the server reported, with unread counts. */
  synced: { readonly conversations: ConversationState[] };
  /** Something went wrong that no promise reports (a kick, a refused token, a failed catch-up). */
  error: ParleyClientError;
}

export type ClientEventName = keyof ClientEvents;

/** A decoded server frame, as the socket layer hands it over. */
export type InboundFrame = ServerFrame | { readonly type: string; readonly [key: string]: unknown };
