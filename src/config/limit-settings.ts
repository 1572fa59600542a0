import { DEFAULT_LIMITS, type Limits } from '../core/limits.js';
import { int, setting } from './setting.js';

// The limits: how big a thing may get, and how fast a user may do a thing (token buckets: a
// burst, then one more every refill period). Their defaults live in core/limits.ts.

export const limit = (name: string, key: keyof Limits, help: string, max: number) =>
  setting(name, int(1, max, help, DEFAULT_LIMITS[key]));

export const SIZES = {
  httpBodyBytesMax: limit(
    'http-body-bytes-max',
    'httpBodyBytesMax',
    'largest HTTP request body',
    64 << 20,
  ),
  messageBodyBytesMax: limit(
    'message-body-bytes-max',
    'messageBodyBytesMax',
    'largest message body (JSON bytes)',
    16 << 20,
  ),
  textCharsMax: limit('text-chars-max', 'textCharsMax', 'longest message text', 1 << 20),
  frameBytesMax: limit('frame-bytes-max', 'frameBytesMax', 'largest real-time frame', 16 << 20),
  pullCountMax: limit('pull-count-max', 'pullCountMax', 'largest page of a pull', 10_000),
  pageBytesMax: limit(
    'page-bytes-max',
    'pageBytesMax',
    'message-body bytes in one page of history',
    1 << 30,
  ),
  groupMembersMax: limit(
    'group-members-max',
    'groupMembersMax',
    'most members of a group',
    1_000_000,
  ),
  commitBatchMax: limit('commit-batch-max', 'commitBatchMax', 'most sends in one commit', 100_000),
  editWindowMs: limit(
    'edit-window-ms',
    'editWindowMs',
    'time a sender may edit a text message',
    365 * 86_400_000,
  ),
  recallWindowMs: limit(
    'recall-window-ms',
    'recallWindowMs',
    'time a sender may recall a message',
    365 * 86_400_000,
  ),
  reactionCharsMax: limit(
    'reaction-chars-max',
    'reactionCharsMax',
    'longest reaction (code points)',
    64,
  ),
  reactionsPerUserMax: limit(
    'reactions-per-user-max',
    'reactionsPerUserMax',
    'distinct reactions of one user on one message',
    1_000,
  ),
  pinsMax: limit('pins-max', 'pinsMax', 'conversations one user may pin', 10_000),
  previewCharsMax: limit(
    'preview-chars-max',
    'previewCharsMax',
    'longest text in a last-message preview',
    16_000,
  ),
  contactNoteCharsMax: limit(
    'contact-note-chars-max',
    'contactNoteCharsMax',
    'longest note on a contact request',
    16_000,
  ),
  contactPageCountMax: limit(
    'contact-page-count-max',
    'contactPageCountMax',
    'largest page of contacts, requests or blocks',
    10_000,
  ),
  displayNameCharsMax: limit(
    'display-name-chars-max',
    'displayNameCharsMax',
    'longest profile display name',
    1_000,
  ),
  bioCharsMax: limit('bio-chars-max', 'bioCharsMax', 'longest profile bio', 100_000),
  userSearchCountMax: limit(
    'user-search-count-max',
    'userSearchCountMax',
    'largest page of a user search',
    10_000,
  ),
  messageSearchCountMax: limit(
    'message-search-count-max',
    'messageSearchCountMax',
    'largest page of a message search',
    1_000,
  ),
};

export const RATES = {
  helloTimeoutMs: limit('hello-timeout-ms', 'helloTimeoutMs', 'time to send hello', 600_000),
  heartbeatIntervalMs: limit(
    'heartbeat-interval-ms',
    'heartbeatIntervalMs',
    'ping a link quiet this long',
    600_000,
  ),
  sendRatePerSec: limit(
    'send-rate-per-sec',
    'sendRatePerSec',
    'sends per second per connection',
    1_000_000,
  ),
  sendBurstMax: limit('send-burst-max', 'sendBurstMax', 'burst of sends per connection', 1_000_000),
  sendQueueBytesMax: limit(
    'send-queue-bytes-max',
    'sendQueueBytesMax',
    'bytes queued to a slow connection',
    1 << 30,
  ),
  userRequestsInFlightMax: limit(
    'user-requests-in-flight-max',
    'userRequestsInFlightMax',
    'heavy reads of one user in flight on a node',
    100_000,
  ),
  connectionsPerUserMax: limit(
    'connections-per-user-max',
    'connectionsPerUserMax',
    'connections of one user',
    100_000,
  ),
  firstContactsBurstMax: limit(
    'first-contacts-burst-max',
    'firstContactsBurstMax',
    'new direct conversations and contact requests of one user at once',
    1_000_000,
  ),
  firstContactsRefillMs: limit(
    'first-contacts-refill-ms',
    'firstContactsRefillMs',
    'one more first contact of a user allowed after this long',
    86_400_000,
  ),
  profilePushBurstMax: limit(
    'profile-push-burst-max',
    'profilePushBurstMax',
    'profile pushes of one user at once',
    1_000_000,
  ),
  profilePushRefillMs: limit(
    'profile-push-refill-ms',
    'profilePushRefillMs',
    'one more profile push of a user allowed after this long',
    86_400_000,
  ),
  searchBurstMax: limit(
    'search-burst-max',
    'searchBurstMax',
    'message searches of one user at once',
    1_000_000,
  ),
  searchRefillMs: limit(
    'search-refill-ms',
    'searchRefillMs',
    'one more message search of a user allowed after this long',
    86_400_000,
  ),
};
