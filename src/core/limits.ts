// Every bound Parley enforces, in one place, unit last in the name. Config may override each one
// (see config/config.ts); these are the defaults a fresh install runs with.

export interface Limits {
  /** Largest HTTP request body accepted at all. */
  readonly httpBodyBytesMax: number;
  /** Largest message body (its JSON encoding) a send may carry. */
  readonly messageBodyBytesMax: number;
  /** Longest text of a text message, in characters. */
  readonly textCharsMax: number;
  /** Longest client message ref. */
  readonly refCharsMax: number;
  /** Largest page a pull may ask for; bigger asks are capped to it. */
  readonly pullCountMax: number;
  /** Page size when a pull gives none (or zero or less, as the seed API allows). */
  readonly pullCountDefault: number;
  /** Most members a group may hold. */
  readonly groupMembersMax: number;
  /** Most sends stored in one group-commit transaction. */
  readonly commitBatchMax: number;
  /** Longest group title and room name. */
  readonly titleCharsMax: number;
  /** Longest device id. */
  readonly deviceCharsMax: number;
  /** Largest real-time frame (WebSocket message or TCP frame). */
  readonly frameBytesMax: number;
  /** Longest string field of a client frame (ids, token, device, ref, cursor, emoji); fixed. */
  readonly frameFieldCharsMax: number;
  /** Time a new connection has to send its hello. */
  readonly helloTimeoutMs: number;
  /** The server pings a link quiet for this long and closes one silent for three times it. */
  readonly heartbeatIntervalMs: number;
  /** Sustained sends (send, recall, typing) per second per connection: the token bucket's rate. */
  readonly sendRatePerSec: number;
  /** The token bucket's size: how many sends may come in one burst. */
  readonly sendBurstMax: number;
  /** Sends refused in a row for the rate limit before the link is closed with 4429. */
  readonly rateStrikesMax: number;
  /** Bytes queued to a connection's socket before it counts as too slow and is closed (4503). */
  readonly sendQueueBytesMax: number;
  /**
   * Message-body bytes in one page (pull, history, the seed API's pull, sync's `changed`), beyond
   * its first message: a page stops early, with `hasMore`, rather than grow past it.
   */
  readonly pageBytesMax: number;
  /** Reads (pull, sync) one real-time connection may have in flight; later ones wait in order. */
  readonly connectionRequestsInFlightMax: number;
  /** Reads one connection may have waiting behind those; one more is refused (rate_limited). */
  readonly connectionRequestsQueuedMax: number;
  /**
   * Heavy reads (real-time pull and sync, REST history and search, the seed pull) one user may
   * have in flight on one node, across its connections and HTTP requests; later ones wait for a
   * slot. An HTTP read keeps its slot until its answer is written. (An export streams one page
   * at a time under a budget of its own.)
   */
  readonly userRequestsInFlightMax: number;
  /** Heavy reads one user may have waiting for a slot; one more is refused (rate_limited). */
  readonly userRequestsQueuedMax: number;
  /** Live connections of one user on one node. */
  readonly connectionsPerUserMax: number;
  /**
   * Failed logins of one username from one address (or with one device key) in a burst, before
   * that source must wait for the refill (login-throttle.ts).
   */
  readonly loginSourceFailuresMax: number;
  /** Failed logins from one address in a burst, whatever the usernames. */
  readonly loginAddressFailuresMax: number;
  /** Failed logins of one username in a burst before its logins from unknown sources slow down;
   * an address or device the account logged in from before is never held back by it. */
  readonly loginUserFailuresMax: number;
  /** After a burst, one more failed login is allowed every this many ms. */
  readonly loginRefillMs: number;
  /** Addresses remembered per user as known login sources, most recent first. */
  readonly loginKnownAddressesMax: number;
  /** Device keys (login proofs of a device) kept per user, most recently used first. */
  readonly loginKnownDevicesMax: number;
  /** A known address or device key not used to log in for this long is forgotten. */
  readonly loginKnownSourceIdleMs: number;
  /** A session unused for this long expires and must log in again; 0: never. */
  readonly sessionIdleMs: number;
  /** How often a node reads the log of ended sessions: the bound on how late a live link using
   * one is closed (auth/session-watch.ts). */
  readonly sessionWatchIntervalMs: number;
  /** How long after sending a sender may recall a message. */
  readonly recallWindowMs: number;
  /** Receipts go to every online member of conversations up to this size; above it, only to the
   * acting member's own devices. */
  readonly receiptFanoutMembersMax: number;
  /** Longest note on a contact request, in characters. */
  readonly contactNoteCharsMax: number;
  /** Largest page of contacts, requests or blocked users. */
  readonly contactPageCountMax: number;
  /** Longest profile display name, in characters. */
  readonly displayNameCharsMax: number;
  /** Longest profile bio, in characters. */
  readonly bioCharsMax: number;
  /** Largest page of a user search by username prefix. */
  readonly userSearchCountMax: number;
  /** Largest page of a message search. */
  readonly messageSearchCountMax: number;
  /** Message searches one user may make at once, and how often one more is allowed, in ms. */
  readonly searchBurstMax: number;
  readonly searchRefillMs: number;
  /**
   * First contacts (a new direct conversation, a contact request) one user may start at once,
   * and how often one more becomes allowed, in ms: the bound on reaching strangers.
   */
  readonly firstContactsBurstMax: number;
  readonly firstContactsRefillMs: number;
  /** `profile` pushes one user's changes may cause at once (profile-push.ts). */
  readonly profilePushBurstMax: number;
  /** How often one more `profile` push of a user becomes allowed, in ms. */
  readonly profilePushRefillMs: number;
  /** Largest attachment upload; checked against Content-Length and again while streaming. */
  readonly attachmentBytesMax: number;
  /** How long after sending a sender may edit a text message. */
  readonly editWindowMs: number;
  /** Longest reaction (an emoji or a short token), in code points. */
  readonly reactionCharsMax: number;
  /** Distinct reactions one user may leave on one message. */
  readonly reactionsPerUserMax: number;
  /** Conversations one user may pin. */
  readonly pinsMax: number;
  /** Longest text or caption in a conversation list's last-message preview, in code points. */
  readonly previewCharsMax: number;
  /**
   * Deepest nesting of objects and arrays in a JSON request body or a client frame (`{}` is 1).
   * Measured without recursion right after parsing (core/json-depth.ts), before anything that
   * recurses sees the value; fixed.
   */
  readonly jsonDepthMax: number;
  /** Deepest nesting of a message body (the body object is 1, a custom payload counts); fixed. */
  readonly messageBodyDepthMax: number;
  /**
   * Time a client has to send a whole HTTP request, headers and body (an upload included), before
   * it is answered 408 request_timeout and dropped: Node's default, which Fastify turns off, so
   * that a body sent a byte a minute cannot hold a connection forever; fixed.
   */
  readonly httpRequestTimeoutMs: number;
  /**
   * An HTTP connection on which nothing is read or written for this long is dropped: a client
   * that stops reading its answer cannot hold it, and its read slot, forever; fixed.
   */
  readonly httpIdleTimeoutMs: number;
  /** A request the server makes (push gateway, webhook), whole: DNS, connect, send, answer. */
  readonly outboundTimeoutMs: number;
  /** Bytes of an outbound request's answer read; the rest is cut off and the connection closed. */
  readonly outboundResponseBytesMax: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  httpBodyBytesMax: 256 * 1024,
  messageBodyBytesMax: 64 * 1024,
  textCharsMax: 16_000,
  refCharsMax: 64,
  pullCountMax: 100,
  pullCountDefault: 10,
  groupMembersMax: 10_000,
  commitBatchMax: 1_000,
  titleCharsMax: 128,
  deviceCharsMax: 64,
  frameBytesMax: 64 * 1024,
  frameFieldCharsMax: 256,
  helloTimeoutMs: 10_000,
  heartbeatIntervalMs: 20_000,
  sendRatePerSec: 50,
  sendBurstMax: 100,
  rateStrikesMax: 50,
  sendQueueBytesMax: 1024 * 1024,
  pageBytesMax: 1024 * 1024,
  connectionRequestsInFlightMax: 4,
  connectionRequestsQueuedMax: 256,
  userRequestsInFlightMax: 8,
  userRequestsQueuedMax: 64,
  connectionsPerUserMax: 16,
  loginSourceFailuresMax: 10,
  loginAddressFailuresMax: 50,
  loginUserFailuresMax: 10,
  loginRefillMs: 60_000,
  loginKnownAddressesMax: 10,
  loginKnownDevicesMax: 20,
  loginKnownSourceIdleMs: 90 * 86_400_000,
  sessionIdleMs: 180 * 86_400_000,
  sessionWatchIntervalMs: 500,
  recallWindowMs: 2 * 60_000,
  receiptFanoutMembersMax: 500,
  contactNoteCharsMax: 256,
  contactPageCountMax: 200,
  displayNameCharsMax: 64,
  bioCharsMax: 512,
  userSearchCountMax: 50,
  messageSearchCountMax: 50,
  searchBurstMax: 20,
  searchRefillMs: 500,
  firstContactsBurstMax: 30,
  firstContactsRefillMs: 120_000,
  profilePushBurstMax: 10,
  profilePushRefillMs: 6_000,
  attachmentBytesMax: 25 * 1024 * 1024,
  editWindowMs: 15 * 60_000,
  reactionCharsMax: 16,
  reactionsPerUserMax: 20,
  pinsMax: 50,
  previewCharsMax: 200,
  jsonDepthMax: 64,
  messageBodyDepthMax: 32,
  httpRequestTimeoutMs: 5 * 60_000,
  httpIdleTimeoutMs: 2 * 60_000,
  outboundTimeoutMs: 5_000,
  outboundResponseBytesMax: 64 * 1024,
});
